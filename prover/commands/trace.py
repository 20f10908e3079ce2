"""``dco trace``: trace a Coq library into a benchmark directory.

    dco trace --library coq-stdlib [--include Arith --include Lists] [--out DIR]
    dco trace --library coq-stdlib-math   (Reals, QArith, Numbers: for miniF2F)
    dco trace --path PROJECT [--exclude tests] [--out DIR]

A project's files are compiled first where their .vo files are missing or
out of date (in dependency order), since files Require their siblings.
Re-running with the same --out skips the files already traced. The report
(files, theorems found / traced / verified, failures by reason, split sizes,
time per file) is printed and stored in DIR/meta.json.
"""

from __future__ import annotations

import argparse
import os

from benchmarks.build import TraceConfig, format_report, trace_library
from benchmarks.library import build_project, project_library
from benchmarks.loader import default_benchmark_dir
from benchmarks.splits import SplitConfig
from benchmarks.stdlib import MATH_NAME, stdlib_library, stdlib_math_library
from benchmarks.stdlib import NAME as STDLIB
from lean_env.coq.trace import DEFAULT_TRACE_TACTIC_TIMEOUT
from lean_env.errors import UserError

LIBRARIES = (STDLIB, MATH_NAME)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--library", choices=LIBRARIES, help="a known library")
    source.add_argument("--path", help="a Coq project folder (uses its _CoqProject if any)")
    parser.add_argument(
        "--out", help="benchmark directory (default: data/benchmarks/<library or folder name>)"
    )
    parser.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="DIR",
        help="trace only this sub-directory (repeatable; the stdlib default is its "
        "default selection)",
    )
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="DIR",
        help="skip this sub-directory (repeatable)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="parallel files (default: all cores)",
    )
    parser.add_argument(
        "--tactic-timeout",
        type=float,
        default=DEFAULT_TRACE_TACTIC_TIMEOUT,
        metavar="SECONDS",
        help="per-step limit while replaying human proofs",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the train/val/test split")
    parser.add_argument("--test-size", type=int, default=1000)
    parser.add_argument("--val-size", type=int, default=500)
    parser.add_argument(
        "--no-recheck",
        action="store_true",
        help="skip the coqc re-check of the replayed proofs (faster, less safe)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    if args.workers < 1:
        raise UserError("--workers must be at least 1")
    if args.tactic_timeout <= 0:
        raise UserError("--tactic-timeout must be positive")
    if args.test_size < 0 or args.val_size < 0:
        raise UserError("--test-size and --val-size must not be negative")
    if args.library == MATH_NAME:
        library = stdlib_math_library(args.include, args.exclude)
    elif args.library:
        library = stdlib_library(args.include, args.exclude)
    else:
        library = project_library(args.path, args.include, args.exclude)
        # Files Require their siblings: those need compiled .vo files.
        build_project(library)
    out = args.out or default_benchmark_dir(library.name)
    config = TraceConfig(
        workers=args.workers,
        tactic_timeout=args.tactic_timeout,
        recheck=not args.no_recheck,
        split=SplitConfig(args.seed, args.test_size, args.val_size),
        progress=not args.no_progress,
    )
    print(f"tracing {len(library.files)} files of {library.name} into {out}", flush=True)
    meta = trace_library(library, out, config)
    print(format_report(meta))
    print(f"benchmark written to {out}")
    return 0
