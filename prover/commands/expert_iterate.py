"""``dco expert-iterate``: expert-iteration rounds.

    dco expert-iterate --rounds 2 --models models/ --n-primes 1,8 --out runs/ei \\
        --passes 32 --budget 60 --limit 200 --test-limit 100

Each round proves the train theorems no model has proved yet (pass@N
rollouts by default), adds the new verified proofs (deduplicated, traced into
(state, tactic) steps through the Environment) to the training data, retrains
every N' model (continuing from the last round's weights, or
``--from-scratch``) and evaluates it on the test split. Everything goes into
``OUT/``: the SQLite database (``expert_rounds``, ``expert_proofs`` and the
search runs' tables), ``round-R/added_steps.jsonl``, ``round-R/benchmark/``,
``round-R/models/n{N'}/`` and ``summary.json``. Re-running the same command
continues with the first unfinished round; a larger ``--rounds`` adds rounds.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lean_env.errors import UserError
from prover.expert.config import ExpertConfig, Selection
from prover.expert.loop import SUMMARY_FILE
from prover.expert.loop import run as run_rounds
from search.budget import Budget
from search.config import SearchConfig, Strategy

STRATEGIES = ("rollouts", "pass@n", "best-first")  # pass@n: another name for rollouts


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rounds", type=int, required=True, help="expert-iteration rounds")
    parser.add_argument("--out", required=True, help="work directory (created or continued)")
    parser.add_argument("--benchmark", default="coq-stdlib", help="benchmark name or directory")
    parser.add_argument("--db", help="SQLite database (default OUT/expert.sqlite)")

    models = parser.add_argument_group("models")
    models.add_argument("--models", help="directory with one model per N' (sub-directories)")
    models.add_argument(
        "--n-primes",
        "--ensemble",
        dest="n_primes",
        default="1",
        metavar="LIST",
        help="N' values of the models to iterate, e.g. 1,8 (1 = CE)",
    )
    models.add_argument(
        "--train-missing",
        action="store_true",
        help="train round-0 models that --models lacks (dco train defaults)",
    )

    prove = parser.add_argument_group("proving train theorems")
    prove.add_argument("--strategy", default="rollouts", choices=STRATEGIES)
    prove.add_argument("--passes", type=int, default=32, metavar="N", help="rollouts: N passes")
    prove.add_argument(
        "--budget", type=float, default=60.0, metavar="SECONDS", help="wall clock per theorem"
    )
    prove.add_argument("--expansions", type=int, default=None, help="best-first: max expansions")
    prove.add_argument(
        "--num-candidates",
        type=int,
        default=SearchConfig.num_candidates,
        help="best-first: tactics per expanded state",
    )
    prove.add_argument("--temperature", type=float, default=1.0)
    prove.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="states per generator call (default: rollouts 32, best-first 1)",
    )
    prove.add_argument("--max-depth", type=int, default=Budget.max_depth)
    prove.add_argument("--tactic-timeout", type=float, default=Budget.tactic_timeout)
    prove.add_argument(
        "--all-passes",
        action="store_true",
        help="run every pass on a train theorem (default: stop at its first proof)",
    )
    prove.add_argument("--limit", type=int, metavar="K", help="only the first K train theorems")
    prove.add_argument(
        "--sample", type=int, metavar="K", help="a random sample of K train theorems"
    )
    prove.add_argument(
        "--proofs-per-theorem",
        type=int,
        default=1,
        metavar="K",
        help="new proofs added per theorem, shortest first (0: all distinct)",
    )

    train = parser.add_argument_group("retraining (the starting model's recipe)")
    how = train.add_mutually_exclusive_group()
    how.add_argument(
        "--continue-training",
        dest="from_scratch",
        action="store_false",
        help="continue from the previous round's model (default)",
    )
    how.add_argument(
        "--from-scratch",
        dest="from_scratch",
        action="store_true",
        help="train each round's model from scratch",
    )
    parser.set_defaults(from_scratch=False)
    train.add_argument(
        "--epochs",
        type=float,
        default=None,
        help="default 1 when continuing, the starting model's from scratch",
    )
    train.add_argument("--max-steps", type=int, default=None, help="optimizer steps per round")
    train.add_argument("--lr", type=float, default=None, help="default: the starting model's")

    test = parser.add_argument_group("evaluation")
    test.add_argument("--test-split", default="test", choices=("val", "test"))
    test.add_argument("--test-limit", type=int, metavar="K", help="only the first K theorems")
    test.add_argument("--test-sample", type=int, metavar="K", help="a random sample of K theorems")
    test.add_argument("--test-passes", type=int, default=None, help="default: --passes")
    test.add_argument("--test-budget", type=float, default=None, help="default: --budget")

    parser.add_argument("--seed", type=int, default=0, help="selection and sampling seed")
    parser.add_argument("--workers", type=int, default=1, help="parallel search processes")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def parse_n_primes(value: str | list[float]) -> tuple[float, ...]:
    """``1,8`` on the command line; ``"1,8"`` or ``[1, 8]`` in a TOML file."""
    items = value if isinstance(value, list) else str(value).split(",")
    try:
        return tuple(float(x) for x in items if str(x).strip())
    except ValueError:
        raise UserError(f"--n-primes: expected numbers like 1,8, got {value!r}") from None


def config_from_args(args: argparse.Namespace) -> ExpertConfig:
    strategy = Strategy.ROLLOUTS if args.strategy == "pass@n" else Strategy(args.strategy)
    rollouts = strategy is Strategy.ROLLOUTS
    batch = args.batch_size or (32 if rollouts else 1)

    def search(stop_on_proof: bool) -> SearchConfig:
        return SearchConfig(
            strategy=strategy,
            num_candidates=args.num_candidates,
            temperature=args.temperature,
            batch_size=batch,
            stop_on_proof=stop_on_proof,
        )

    def budget(wall: float, passes: int | None) -> Budget:
        return Budget(
            wall_clock=wall,
            max_passes=passes if rollouts else None,
            max_expansions=args.expansions,
            max_depth=args.max_depth,
            tactic_timeout=args.tactic_timeout,
        )

    if rollouts and (args.passes is None or args.passes < 1):
        raise UserError(f"--passes must be >= 1, got {args.passes}")
    test_passes = args.test_passes if args.test_passes is not None else args.passes
    if rollouts and test_passes < 1:
        raise UserError(f"--test-passes must be >= 1, got {test_passes}")
    test_budget = args.test_budget if args.test_budget is not None else args.budget
    return ExpertConfig(
        out=Path(args.out).resolve(),
        rounds=args.rounds,
        benchmark=args.benchmark,
        n_primes=parse_n_primes(args.n_primes),
        models=Path(args.models).resolve() if args.models else None,
        train_missing=args.train_missing,
        db=Path(args.db).resolve() if args.db else None,
        train=Selection("train", args.sample, args.limit, args.seed),
        test=Selection(args.test_split, args.test_sample, args.test_limit, args.seed),
        search=search(stop_on_proof=not args.all_passes),
        budget=budget(args.budget, args.passes),
        # Every pass on a test theorem: pass@k for every k <= N needs them all.
        test_search=search(stop_on_proof=False),
        test_budget=budget(test_budget, test_passes),
        proofs_per_theorem=args.proofs_per_theorem,
        continue_training=not args.from_scratch,
        epochs=args.epochs,
        max_steps=args.max_steps,
        lr=args.lr,
        seed=args.seed,
        workers=args.workers,
        progress=not args.quiet,
    )


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    if args.quiet:
        from transformers.utils import logging

        logging.disable_progress_bar()  # "Loading weights" for every model loaded
    summary = run_rounds(config, extra={"config_file": getattr(args, "config", None)})
    print(format_table(summary))
    print(f"summary: {config.out / SUMMARY_FILE}; database: {config.db_path}")
    return 0


def format_table(summary: dict) -> str:
    """The rounds' table (benchmarks.report.expert.round_rows) as aligned text."""
    from benchmarks.report.expert import round_rows

    header, lines = round_rows(summary)
    widths = [max(len(r[i]) for r in [header, *lines]) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
        for r in [header, *lines]
    )
