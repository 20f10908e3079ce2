"""Flags shared by the commands that search (``search``, ``evaluate``,
``prove``): which theorems of a benchmark, which prover (model, ensemble),
how to search, what to spend.

One definition of each flag and of how it becomes a
:class:`~search.config.SearchConfig`, a :class:`~search.budget.Budget` and a
list of :class:`~search.runner.Job`, so the commands cannot drift apart.
"""

from __future__ import annotations

import argparse
import math
import os
import random
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.splits import SPLIT_ALIASES, SPLITS
from lean_env.errors import UserError

if TYPE_CHECKING:
    from search.budget import Budget
    from search.config import SearchConfig, Strategy
    from search.runner import Job

# The search layer is imported where it is used, not here: every command
# (even `dco check`) loads this module for its flag types, and the search
# layer's imports (networkx, sqlite-utils) cost about a second.

# The paper's name for rollouts, accepted as a synonym.
STRATEGY_ALIASES = {"pass@n": "rollouts"}


def add_selection_arguments(parser: argparse.ArgumentParser, *, theorem: bool = True) -> None:
    sel = parser.add_argument_group("theorems")
    sel.add_argument(
        "--benchmark",
        default="coq-stdlib",
        help="coq-stdlib, a benchmark directory, leandojo:PATH, minif2f:PATH or minif2f-rocq:PATH",
    )
    sel.add_argument(
        "--split",
        default="test",
        choices=(*SPLITS, "all"),
        type=lambda s: SPLIT_ALIASES.get(s, s),
    )
    if theorem:
        sel.add_argument(
            "--theorem",
            action="append",
            default=[],
            metavar="NAME",
            help="only this theorem (full or short name); repeatable",
        )
    sel.add_argument("--sample", type=int, metavar="K", help="a random sample of K theorems")
    sel.add_argument("--seed", type=int, default=0, help="seed of --sample and of sampling tactics")
    sel.add_argument(
        "--limit", type=int, metavar="K", help="only the first K theorems (after --sample)"
    )


def add_search_arguments(
    parser: argparse.ArgumentParser,
    *,
    budget: float,
    strategy: str = "best-first",
    allow_assumptions: bool = False,
) -> None:
    """The search and budget flags. ``allow_assumptions``: whether proofs
    relying on axioms beyond the standard library's count by default
    (benchmark runs: no, ``--allow-assumptions`` admits them; ``prove``:
    yes, shown with the answer, ``--refuse-assumptions`` refuses them)."""
    from search.budget import Budget
    from search.config import SearchConfig, Strategy

    how = parser.add_argument_group("search")
    how.add_argument(
        "--strategy",
        default=strategy,
        choices=[*(s.value for s in Strategy), *STRATEGY_ALIASES],
        help="best-first, or rollouts (pass@N: N independent passes)",
    )
    how.add_argument(
        "--num-candidates",
        type=int,
        default=SearchConfig.num_candidates,
        metavar="K",
        help="best-first: tactics generated per expanded state",
    )
    how.add_argument("--temperature", type=float, default=1.0)
    how.add_argument(
        "--sample-tactics",
        dest="sample_tactics",
        action="store_true",
        default=None,
        help="sample tactics (default: best-first takes the top k, rollouts sample)",
    )
    how.add_argument(
        "--length-normalize",
        action="store_true",
        help="best-first priority: log-prob divided by depth",
    )
    how.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="states per generator call (default: rollouts 32 in lockstep, "
        "which leaves their distribution unchanged; best-first 1)",
    )
    how.add_argument("--no-memo", action="store_true", help="rollouts: no shared memo table")
    how.add_argument(
        "--stop-on-proof", action="store_true", help="rollouts: stop at the first proof"
    )
    if allow_assumptions:
        how.add_argument(
            "--refuse-assumptions",
            dest="allow_assumptions",
            action="store_false",
            help="a proof relying on axioms beyond the standard library's (e.g. "
            "declared in the file) does not count",
        )
    else:
        how.add_argument(
            "--allow-assumptions",
            action="store_true",
            help="count proofs relying on axioms beyond the standard library's "
            "(e.g. declared in the theorem's file; refused by default)",
        )

    spend = parser.add_argument_group("budget (per theorem)")
    spend.add_argument(
        "--budget",
        type=float,
        default=budget,
        metavar="SECONDS",
        help=f"wall clock of the search (default {budget:g})",
    )
    spend.add_argument("--passes", type=int, default=None, metavar="N", help="rollouts: N passes")
    spend.add_argument("--expansions", type=int, default=None, help="best-first: max expansions")
    spend.add_argument("--max-depth", type=int, default=Budget.max_depth)
    spend.add_argument(
        "--tactic-timeout", type=float, default=Budget.tactic_timeout, metavar="SECONDS"
    )


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """--ensemble / --models / --model / --generator / --ensemble-budget
    (shared with ``prove``)."""
    from prover.ensemble import BUDGET_POLICIES, SPLIT
    from prover.generators import GENERATORS

    who = parser.add_argument_group("prover (one of --ensemble, --model, --generator)")
    who.add_argument(
        "--ensemble",
        metavar="N1,N2,...",
        help="N' values, e.g. 1,4,8,16,32: one model each, found under --models",
    )
    who.add_argument(
        "--models",
        default="models",
        help="directory with one trained model per sub-directory (default: models)",
    )
    who.add_argument("--model", metavar="DIR", help="one model directory")
    who.add_argument(
        "--generator",
        help=f"tactic generator (default: symbolic): {', '.join(GENERATORS)}",
    )
    who.add_argument(
        "--ensemble-budget",
        default=SPLIT,
        choices=BUDGET_POLICIES,
        help="split: the models share the passes and wall clock evenly (equal "
        "compute); each: every model gets the full budget",
    )


def strategy_of(value: str) -> Strategy:
    from search.config import Strategy

    return Strategy(STRATEGY_ALIASES.get(value, value))


def search_settings(args: argparse.Namespace) -> tuple[SearchConfig, Budget]:
    """The search config and per-theorem budget the search flags describe."""
    from search.budget import Budget
    from search.config import SearchConfig, Strategy

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
        allow_assumptions=getattr(args, "allow_assumptions", False),
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
    from search.runner import Job

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


# -- validation of every command's flags -----------------------------------
# One table for every `dco` command: a flag is checked by its destination
# name, so a command cannot forget it and a new flag with a known name is
# covered at once. Every float must be finite and every string valid UTF-8;
# the table adds ranges and what a path must be.

MAX_SECONDS = 1e7  # ~4 months: far beyond any budget, small enough for timers
MAX_COUNT = 10**9
MAX_SEED = 2**32 - 1


def text(value: str) -> str:
    """Any string flag: it must be valid UTF-8 (the command line may carry
    raw bytes that no file, database or terminal can take)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise argparse.ArgumentTypeError("not valid UTF-8 text") from None
    return value


def _number(value: object, kind: type, low: float, high: float, what: str) -> float | int:
    text(str(value))
    try:
        number = kind(str(value).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {value!r}") from None
    if kind is float and not math.isfinite(number):
        raise argparse.ArgumentTypeError(f"expected {what}, got {value!r}")
    if not low <= number <= high:
        raise argparse.ArgumentTypeError(f"expected {what}, got {value!r}")
    return number


def seconds(value: object) -> float:
    """A time limit: finite, above 0, at most MAX_SECONDS."""
    return float(_number(value, float, 1e-3, MAX_SECONDS, f"seconds in [0.001, {MAX_SECONDS:g}]"))


def positive_int(value: object) -> int:
    return int(_number(value, int, 1, MAX_COUNT, f"an integer in [1, {MAX_COUNT}]"))


def count(value: object) -> int:
    """A non-negative integer (0 usually means "none" or "off")."""
    return int(_number(value, int, 0, MAX_COUNT, f"an integer in [0, {MAX_COUNT}]"))


def seed(value: object) -> int:
    return int(_number(value, int, 0, MAX_SEED, f"a seed in [0, {MAX_SEED}]"))


def nonnegative_float(value: object) -> float:
    return float(_number(value, float, 0.0, 1e6, "a finite number >= 0"))


def positive_float(value: object) -> float:
    return float(_number(value, float, 1e-12, 1e6, "a finite number > 0"))


def any_int(value: object) -> int:
    return int(_number(value, int, -(2**62), 2**62, "an integer"))


def any_float(value: object) -> float:
    return float(_number(value, float, -1e300, 1e300, "a finite number"))


def _ancestor(path: Path) -> Path:
    """The nearest existing path at or above ``path``."""
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def coq_file(value: str) -> str:
    """A Coq source file to read: it must exist and be a readable regular file."""
    text(value)
    path = Path(value)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{value} is a directory, not a Coq file")
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"no such Coq file: {value}")
    if not os.access(path, os.R_OK):
        raise argparse.ArgumentTypeError(f"{value} is not readable")
    return value


def output_dir(value: str) -> str:
    """A directory to write into (created if missing): nothing on the way
    may be a file, and where it would be created must be writable."""
    text(value)
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{value} exists and is not a directory")
    base = _ancestor(path)
    if not base.is_dir():
        raise argparse.ArgumentTypeError(f"{value}: {base} is a file, not a directory")
    from search.db import read_only

    if read_only(base):
        raise argparse.ArgumentTypeError(f"{value}: {base} is read-only")
    return value


def output_file(value: str) -> str:
    """A file to write (created or appended): not a directory, in an
    existing, writable directory."""
    text(value)
    path = Path(value)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{value} is a directory, not a file")
    parent = path.absolute().parent
    if not parent.is_dir():
        raise argparse.ArgumentTypeError(f"{value}: directory {parent} does not exist")
    from search.db import read_only

    if read_only(parent) or (path.exists() and read_only(path)):
        raise argparse.ArgumentTypeError(f"{value} is read-only")
    return value


def database_file(value: str) -> str:
    """A search database: the full check (schema, read-only) happens on
    opening, before anything is written; here only what the path is."""
    text(value)
    if Path(value).is_dir():
        raise argparse.ArgumentTypeError(f"{value} is a directory, not a database file")
    return value


def input_dir(value: str) -> str:
    """A directory to read (a missing one is the command's to report)."""
    text(value)
    if Path(value).exists() and not Path(value).is_dir():
        raise argparse.ArgumentTypeError(f"{value} is a file, not a directory")
    if not _ancestor(Path(value)).is_dir():
        raise argparse.ArgumentTypeError(f"{value}: {_ancestor(Path(value))} is a file")
    return value


FLAG_TYPES: dict[str, Callable[[Any], Any]] = {
    # time limits
    **dict.fromkeys(("budget", "tactic_timeout", "test_budget", "timeout"), seconds),
    # counts that must be at least 1
    **dict.fromkeys(
        (
            "passes",
            "expansions",
            "num_candidates",
            "batch_size",
            "workers",
            "sample",
            "limit",
            "max_depth",
            "rounds",
            "test_limit",
            "test_sample",
            "test_passes",
            "top",
            "theorems",
            "train_steps",
            "proofs_per_theorem",
            "hidden",
            "layers",
            "heads",
            "mlp",
            "vocab_size",
            "max_prompt_tokens",
            "max_tactic_tokens",
            "grad_accum",
            "samples",
            "max_steps",
            "threads",
            "eval_limit",
        ),
        positive_int,
    ),
    # counts where 0 means none or off
    **dict.fromkeys(
        (
            "warmup_steps",
            "checkpoint_every",
            "eval_every",
            "keep_checkpoints",
            "test_size",
            "val_size",
        ),
        count,
    ),
    "seed": seed,
    **dict.fromkeys(("temperature", "weight_decay", "epsilon"), nonnegative_float),
    **dict.fromkeys(("n", "lr", "epochs"), positive_float),
    # paths
    "file": coq_file,
    "db": database_file,
    "metrics": output_file,
    "out": output_dir,
    **dict.fromkeys(("model", "models", "path", "results", "base_model"), input_dir),
}


def harden(parser: argparse.ArgumentParser) -> None:
    """Give every flag of ``parser`` its checked type: from FLAG_TYPES by
    name, else a finite float, a bounded integer or UTF-8 text by what the
    flag declared. Call after the command has added its flags."""
    for action in parser._actions:
        if action.nargs == 0 or action.dest in ("help", "config"):
            continue
        checked = FLAG_TYPES.get(action.dest)
        if checked is None:
            checked = {float: any_float, int: any_int}.get(action.type, text)  # type: ignore[arg-type]
            if action.type not in (None, str, float, int):
                continue  # a command's own converter
        action.type = checked


def check_values(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Check values that did not come through argparse's conversion (keys
    of a ``--config`` TOML file: numbers, lists) with the same types."""
    for action in parser._actions:
        value = getattr(args, action.dest, None)
        if value is None or action.nargs == 0 or action.type is None or isinstance(value, bool):
            continue
        values = value if isinstance(value, list) else [value]
        try:
            checked = [
                v if isinstance(v, str) and v == action.default else action.type(v) for v in values
            ]
        except argparse.ArgumentTypeError as exc:
            flag = action.option_strings[0] if action.option_strings else action.dest
            raise UserError(f"argument {flag}: {exc}") from None
        setattr(args, action.dest, checked if isinstance(value, list) else checked[0])


def selection_config(args: argparse.Namespace, jobs: list[Job]) -> dict[str, Any]:
    """The part of a run's identity the selection flags decide, with the
    digest of the selected theorems' contexts (an edited file is a new run)."""
    from lean_env.context_key import contexts_digest

    return {
        "benchmark": args.benchmark,
        "split": args.split,
        "theorems": sorted(args.theorem),
        "sample": args.sample,
        "limit": args.limit,
        "seed": args.seed,
        "context": contexts_digest(j.theorem for j in jobs),
    }
