"""Flags shared by the commands that search (``search``, ``evaluate``,
``prove``): which theorems of a benchmark, which prover (model, ensemble),
how to search, what to spend.

One definition of each flag and of how it becomes a
:class:`~search.config.SearchConfig`, a :class:`~search.budget.Budget` and a
list of :class:`~search.runner.Job`, so the commands cannot drift apart.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from lean_env.errors import UserError
from prover.ensemble import BUDGET_POLICIES, SPLIT
from search.budget import Budget
from search.config import SearchConfig, Strategy
from search.runner import Job

# The and the paper's name for rollouts, accepted as a synonym.
STRATEGY_ALIASES = {"pass@n": Strategy.ROLLOUTS.value}


def add_selection_arguments(parser: argparse.ArgumentParser, *, theorem: bool = True) -> None:
    sel = parser.add_argument_group("theorems")
    sel.add_argument("--benchmark", default="coq-stdlib",
                     help="coq-stdlib, a benchmark directory, leandojo:PATH, minif2f:PATH "
                     "or minif2f-rocq:PATH")  # fmt: skip
    # miniF2F calls its validation half "valid".
    sel.add_argument("--split", default="test", choices=("train", "val", "test", "all"),
                     type=lambda s: "val" if s == "valid" else s)  # fmt: skip
    if theorem:
        sel.add_argument("--theorem", action="append", default=[], metavar="NAME",
                         help="only this theorem (full or short name); repeatable")  # fmt: skip
    sel.add_argument("--sample", type=int, metavar="K", help="a random sample of K theorems")
    sel.add_argument("--seed", type=int, default=0, help="seed of --sample and of sampling tactics")
    sel.add_argument(
        "--limit", type=int, metavar="K", help="only the first K theorems (after --sample)"
    )


def add_search_arguments(
    parser: argparse.ArgumentParser, *, budget: float, strategy: str = "best-first"
) -> None:
    how = parser.add_argument_group("search")
    how.add_argument("--strategy", default=strategy,
                     choices=[*(s.value for s in Strategy), *STRATEGY_ALIASES],
                     help="best-first, or rollouts (pass@N: N independent passes)")  # fmt: skip
    how.add_argument("--num-candidates", type=int, default=SearchConfig.num_candidates, metavar="K",
                     help="best-first: tactics generated per expanded state")  # fmt: skip
    how.add_argument("--temperature", type=float, default=1.0)
    how.add_argument("--sample-tactics", dest="sample_tactics", action="store_true", default=None,
                     help="sample tactics (default: best-first takes the top k, rollouts sample)")  # fmt: skip
    how.add_argument("--length-normalize", action="store_true",
                     help="best-first priority: log-prob divided by depth")  # fmt: skip
    how.add_argument("--batch-size", type=int, default=None,
                     help="states per generator call (default: rollouts 32 in lockstep, "
                          "which leaves their distribution unchanged; best-first 1)")  # fmt: skip
    how.add_argument("--no-memo", action="store_true", help="rollouts: no shared memo table")
    how.add_argument(
        "--stop-on-proof", action="store_true", help="rollouts: stop at the first proof"
    )

    spend = parser.add_argument_group("budget (per theorem)")
    spend.add_argument("--budget", type=float, default=budget, metavar="SECONDS",
                       help=f"wall clock of the search (default {budget:g})")  # fmt: skip
    spend.add_argument("--passes", type=int, default=None, metavar="N", help="rollouts: N passes")
    spend.add_argument("--expansions", type=int, default=None, help="best-first: max expansions")
    spend.add_argument("--max-depth", type=int, default=Budget.max_depth)
    spend.add_argument(
        "--tactic-timeout", type=float, default=Budget.tactic_timeout, metavar="SECONDS"
    )


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """--ensemble / --models / --model / --generator / --ensemble-budget
    (shared with ``prove``)."""
    who = parser.add_argument_group("prover (one of --ensemble, --model, --generator)")
    who.add_argument("--ensemble", metavar="N1,N2,...",
                     help="N' values, e.g. 1,4,8,16,32: one model each, found under --models")  # fmt: skip
    who.add_argument("--models", default="models",
                     help="directory with one trained model per sub-directory (default: models)")  # fmt: skip
    who.add_argument("--model", metavar="DIR", help="one model directory")
    who.add_argument("--generator", help="symbolic (the default) or model:DIR")
    who.add_argument("--ensemble-budget", default=SPLIT, choices=BUDGET_POLICIES,
                     help="split: the models share the passes and wall clock evenly (equal "
                          "compute); each: every model gets the full budget")  # fmt: skip


def strategy_of(value: str) -> Strategy:
    return Strategy(STRATEGY_ALIASES.get(value, value))


def search_settings(args: argparse.Namespace) -> tuple[SearchConfig, Budget]:
    """The search config and per-theorem budget the search flags describe."""
    strategy = strategy_of(args.strategy)
    config = SearchConfig(
        strategy=strategy,
        num_candidates=args.num_candidates,
        temperature=args.temperature,
        sample=args.sample_tactics,
        length_normalize=args.length_normalize,
        batch_size=args.batch_size or (32 if strategy is Strategy.ROLLOUTS else 1),
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


def select_jobs(args: argparse.Namespace) -> list[Job]:
    """The theorems the selection flags name: a split (or ``--theorem``
    names), then a seeded random ``--sample``, then the first ``--limit``."""
    from benchmarks.loader import load_benchmark

    benchmark = load_benchmark(args.benchmark)
    theorems = benchmark.theorems(None if args.split == "all" else args.split)
    if getattr(args, "theorem", None):
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


def check_workers(workers: int) -> None:
    if workers < 1:
        raise UserError(f"--workers must be >= 1, got {workers}")
