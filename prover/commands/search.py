"""``dco search``: proof search over a benchmark split, logged to SQLite.

    dco search --benchmark coq-stdlib --split test --generator symbolic \\
        --strategy best-first --budget 60 --db out.sqlite [--sample 200 --seed 0]

Every selected theorem ends in the database as proved, failed (including
those whose environment could not start) or open (budget spent). Re-running
the same command with the same ``--db`` resumes the run: finished theorems
are skipped, nothing committed is lost. ``--workers`` searches theorems in
parallel processes. Ends with a summary line: proved / total.
"""

from __future__ import annotations

import argparse
import functools
import random
import sys
from pathlib import Path
from typing import Any

from lean_env.errors import UserError
from search.budget import Budget
from search.config import SearchConfig, Strategy
from search.db import SearchDB
from search.generator import FixedTacticGenerator, TacticGenerator
from search.runner import Job, run_jobs

GENERATORS = ("symbolic", "model:DIR")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sel = parser.add_argument_group("theorems")
    sel.add_argument("--benchmark", default="coq-stdlib", help="benchmark name or directory")
    sel.add_argument("--split", default="test", choices=("train", "val", "test", "all"))
    sel.add_argument("--theorem", action="append", default=[], metavar="NAME",
                     help="only this theorem (full or short name); repeatable")  # fmt: skip
    sel.add_argument("--sample", type=int, metavar="K", help="a random sample of K theorems")
    sel.add_argument("--seed", type=int, default=0, help="seed of --sample and of sampling tactics")
    sel.add_argument(
        "--limit", type=int, metavar="K", help="only the first K theorems (after --sample)"
    )

    how = parser.add_argument_group("search")
    how.add_argument("--generator", default="symbolic",
                     help=f"tactic generator: {', '.join(GENERATORS)}")  # fmt: skip
    how.add_argument("--strategy", default="best-first", choices=[s.value for s in Strategy])
    how.add_argument("--num-candidates", type=int, default=SearchConfig.num_candidates, metavar="K",
                     help="best-first: tactics generated per expanded state")  # fmt: skip
    how.add_argument("--temperature", type=float, default=1.0)
    how.add_argument("--sample-tactics", dest="sample_tactics", action="store_true", default=None,
                     help="sample tactics (default: best-first takes the top k, rollouts sample)")  # fmt: skip
    how.add_argument("--length-normalize", action="store_true",
                     help="best-first priority: log-prob divided by depth")  # fmt: skip
    how.add_argument("--batch-size", type=int, default=1, help="states per generator call")
    how.add_argument("--no-memo", action="store_true", help="rollouts: no shared memo table")
    how.add_argument(
        "--stop-on-proof", action="store_true", help="rollouts: stop at the first proof"
    )

    budget = parser.add_argument_group("budget (per theorem)")
    budget.add_argument("--budget", type=float, default=60.0, metavar="SECONDS", help="wall clock")
    budget.add_argument("--passes", type=int, default=None, metavar="N", help="rollouts: N passes")
    budget.add_argument("--expansions", type=int, default=None, help="best-first: max expansions")
    budget.add_argument("--max-depth", type=int, default=Budget.max_depth)
    budget.add_argument(
        "--tactic-timeout", type=float, default=Budget.tactic_timeout, metavar="SECONDS"
    )

    out = parser.add_argument_group("output")
    out.add_argument("--db", required=True, help="SQLite file of the run (created or resumed)")
    out.add_argument("--no-tree", action="store_true", help="store attempts and proofs, not trees")
    out.add_argument("--workers", type=int, default=1, help="parallel search processes")
    out.add_argument("--quiet", action="store_true", help="no progress bar")


def make_generator(spec: str, seed: int, worker: int = 0) -> TacticGenerator:
    """The generator a ``--generator`` value names (one per worker process;
    the runner reseeds it per theorem)."""
    if spec == "symbolic":
        return FixedTacticGenerator(seed=seed)
    if spec.startswith("model:"):
        return load_model_generator(spec.removeprefix("model:"), seed)
    raise UserError(f"unknown generator {spec!r}; available: {', '.join(GENERATORS)}")


def load_model_generator(path: str, seed: int) -> TacticGenerator:
    """A model directory written by ``dco train`` (or any HF causal LM dir) as a
    policy; torch and transformers are imported only when one is used."""
    import torch

    from training.generator import ModelTacticGenerator

    device = "cuda" if torch.cuda.is_available() else "cpu"
    return ModelTacticGenerator.from_pretrained(path, device=device, seed=seed)


def _select(args: argparse.Namespace) -> list[Job]:
    from benchmarks.loader import load_benchmark

    benchmark = load_benchmark(args.benchmark)
    theorems = benchmark.theorems(None if args.split == "all" else args.split)
    if args.theorem:
        theorems = [benchmark.by_name(name) for name in args.theorem]
    if args.sample is not None:
        if args.sample < 1:
            raise UserError(f"--sample must be >= 1, got {args.sample}")
        if args.sample < len(theorems):
            chosen = set(random.Random(args.seed).sample(range(len(theorems)), args.sample))
            theorems = [t for i, t in enumerate(theorems) if i in chosen]
    if args.limit is not None:
        if args.limit < 1:
            raise UserError(f"--limit must be >= 1, got {args.limit}")
        theorems = theorems[: args.limit]
    if not theorems:
        raise UserError(f"no theorems selected from {args.benchmark} (split {args.split})")
    names = [t.theorem.name for t in theorems]
    if len(set(names)) != len(names):
        raise UserError(f"{args.benchmark}: theorem names are not unique")
    missing = sorted(
        {t.theorem.file for t in theorems if t.theorem.file and not Path(t.theorem.file).is_file()}
    )
    if missing:
        raise UserError(
            f"{args.benchmark}: {len(missing)} source file(s) missing, e.g. {missing[0]}"
        )
    return [Job(t.theorem, t.id, t.split) for t in theorems]


def _configs(args: argparse.Namespace) -> tuple[SearchConfig, Budget]:
    if args.workers < 1:
        raise UserError(f"--workers must be >= 1, got {args.workers}")
    config = SearchConfig(
        strategy=Strategy(args.strategy),
        num_candidates=args.num_candidates,
        temperature=args.temperature,
        sample=args.sample_tactics,
        length_normalize=args.length_normalize,
        batch_size=args.batch_size,
        memo=not args.no_memo,
        stop_on_proof=args.stop_on_proof,
    )
    budget = Budget(
        wall_clock=args.budget,
        max_passes=args.passes,
        max_expansions=args.expansions,
        max_depth=args.max_depth,
        tactic_timeout=args.tactic_timeout,
    )
    if config.strategy is Strategy.ROLLOUTS and budget.max_passes is None:
        raise UserError("--strategy rollouts needs --passes N")
    return config, budget


def run(args: argparse.Namespace) -> int:
    config, budget = _configs(args)
    make_generator(args.generator, args.seed)  # an unknown name fails before any work
    jobs = _select(args)
    run_config: dict[str, Any] = {
        "benchmark": args.benchmark,
        "split": args.split,
        "theorems": sorted(args.theorem),
        "sample": args.sample,
        "limit": args.limit,
        "seed": args.seed,
        "generator": args.generator,
        "search": config.to_dict(),
        "budget": budget.to_dict(),
        "store_tree": not args.no_tree,
    }
    with SearchDB(args.db) as db:
        run_id, resumed = db.open_run(run_config, total=len(jobs))
        done = db.finished(run_id)
        todo = [j for j in jobs if j.theorem.name not in done]
        if resumed:
            print(
                f"resuming run {run_id} in {args.db}: {len(jobs) - len(todo)} of {len(jobs)} theorems done"
            )
        else:
            print(f"run {run_id} in {args.db}: {len(jobs)} theorems")
        records = run_jobs(
            todo,
            config,
            budget,
            functools.partial(make_generator, args.generator, args.seed),
            workers=args.workers,
            store_tree=not args.no_tree,
            seed=args.seed,
        )
        from tqdm import tqdm

        counts = db.summary(run_id)
        with tqdm(total=len(jobs), initial=len(jobs) - len(todo), disable=args.quiet,
                  unit="thm", file=sys.stderr, dynamic_ncols=True) as bar:  # fmt: skip
            for record in records:
                db.write(run_id, record)
                counts[record.status] = counts.get(record.status, 0) + 1
                bar.set_postfix(proved=counts["proved"], refresh=False)
                bar.update(1)
        db.end_run(run_id)
        s = db.summary(run_id)
    share = s["proved"] / s["total"] if s["total"] else 0.0
    print(
        f"proved {s['proved']}/{s['total']} ({100 * share:.1f}%); "
        f"failed {s['failed']} (environment did not start: {s['start_failed']}); "
        f"open (budget spent) {s['open']}; run {run_id} in {args.db}"
    )
    return 0
