"""``dco trace-lean --benchmark SPEC``: have LeanDojo trace, once and up front,
every repository the Lean benchmark's theorems live in.

Search workers never trace: a worker that finds its theorem's repository
untraced fails that theorem at start, with this command in the reason. Tracing
builds the repository (``lake build``) and extracts its data: hours for
Mathlib, minutes for miniF2F. A repository already in LeanDojo's cache
(``CACHE_DIR``), or in its remote cache (downloaded with ``wget``), is not
traced again.
"""

from __future__ import annotations

import argparse
import sys
import time

from benchmarks.loader import load_benchmark
from lean_env.errors import UserError
from lean_env.leandojo import lean_setup_problems, trace_repository
from lean_env.types import Backend


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--benchmark", required=True, help="leandojo:PATH or minif2f:PATH")


def run(args: argparse.Namespace) -> int:
    benchmark = load_benchmark(args.benchmark)
    repos = sorted(
        {
            (t.theorem.repo, t.theorem.commit)
            for t in benchmark.theorem_list
            if t.theorem.backend is Backend.LEAN and t.theorem.repo
        },
        key=lambda rc: (rc[0], rc[1] or ""),
    )
    if not repos:
        raise UserError(f"{args.benchmark}: no Lean theorem, nothing to trace")
    errors, warnings = lean_setup_problems()
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if errors:
        raise UserError("; ".join(errors))
    for repo, commit in repos:
        t0 = time.perf_counter()
        traced = trace_repository(repo, commit)
        how = "already traced" if traced.cached else f"traced in {time.perf_counter() - t0:.0f} s"
        print(f"{repo}@{commit or 'HEAD'} (Lean {traced.lean_version}): {how} -> {traced.path}")
    return 0
