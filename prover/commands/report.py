"""``dco report``: regenerate benchmarks/REPORT.md and benchmarks/figures/*.png
from the stored results under benchmarks/results (nothing is trained or
searched).

    dco report [--results benchmarks/results] [--out benchmarks] [--models models]

``--models DIR`` first copies each trained model's numbers (training_meta.json,
metrics.jsonl) into RESULTS/training/<name>.json, so that the report (and the
repository) keeps them without the git-ignored model directories.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import benchmarks

BENCHMARKS = Path(benchmarks.__file__).resolve().parent


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--results",
        default=str(BENCHMARKS / "results"),
        help="stored results directory (default: benchmarks/results)",
    )
    parser.add_argument(
        "--out",
        default=str(BENCHMARKS),
        help="where REPORT.md and figures/ go (default: benchmarks/)",
    )
    parser.add_argument(
        "--models", help="collect the training numbers of the models under DIR first"
    )


def run(args: argparse.Namespace) -> int:
    from benchmarks.report.build import generate
    from benchmarks.report.training import collect

    results = Path(args.results)
    if args.models:
        written = collect(Path(args.models), results / "training")
        print(f"collected {len(written)} models into {results / 'training'}")
    path = generate(results, Path(args.out))
    print(f"wrote {path} and its figures in {path.parent / 'figures'}")
    return 0
