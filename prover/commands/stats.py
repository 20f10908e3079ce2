"""``dco stats --benchmark X``: counts per split, proof-length distribution
(mean/median steps), most common tactics."""

from __future__ import annotations

import argparse

from benchmarks.loader import load_benchmark
from benchmarks.stats import compute_stats, format_stats
from lean_env.errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--benchmark",
        default="coq-stdlib",
        help="coq-stdlib, a benchmark directory, leandojo:PATH or minif2f:PATH",
    )
    parser.add_argument("--top", type=int, default=20, help="how many common tactics to list")


def run(args: argparse.Namespace) -> int:
    if args.top < 0:
        raise UserError("--top must not be negative")
    benchmark = load_benchmark(args.benchmark)
    print(format_stats(benchmark.name, compute_stats(benchmark, args.top)))
    return 0
