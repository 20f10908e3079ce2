"""Which statements of a benchmark split load, and why the others do not.

    python -m benchmarks.statement_check minif2f-rocq:PATH --split test --out load.json

Opens every selected Coq theorem the way a search does (its context, then its
statement, in one coqtop session per file) and closes it again: no tactic is
run. A statement that does not load is what a search would count as a start
failure, so this gives the denominator's composition before any prover runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from lean_env.errors import EnvironmentCrashed, EnvironmentStartError, UserError
from search.runner import FileSessions

from .loader import load_benchmark
from .splits import split_arg


def check_statements(spec: str, split: str | None, tactic_timeout: float = 60.0) -> dict[str, Any]:
    benchmark = load_benchmark(spec)
    theorems = sorted(
        benchmark.theorems(split), key=lambda t: (t.theorem.file, t.theorem.offset or 0)
    )
    failures: dict[str, str] = {}
    sessions = FileSessions()
    t0 = time.perf_counter()
    try:
        for bt in theorems:
            try:
                sessions(bt.theorem, tactic_timeout=tactic_timeout).close()
            except (EnvironmentStartError, EnvironmentCrashed) as exc:
                failures[bt.name] = " ".join(str(exc).split())
    finally:
        sessions.close()
    return {
        "benchmark": spec,
        "split": split,
        "prelude": benchmark.meta.get("prelude"),
        "theorems": len(theorems),
        "loaded": len(theorems) - len(failures),
        "failures": dict(sorted(failures.items())),
        "seconds": round(time.perf_counter() - t0, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.statement_check", description=__doc__.split("\n")[0]
    )
    parser.add_argument("benchmark")
    parser.add_argument("--split", default="test", help="train, val (or valid), test, all")
    parser.add_argument("--out", help="also write the report here (JSON)")
    args = parser.parse_args(argv)
    try:
        report = check_statements(args.benchmark, split_arg(args.split))
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    emit_report(report, args.out)
    return 0


def emit_report(report: dict[str, Any], out: str | None) -> None:
    """Print a JSON report, and write it to ``out`` too when given."""
    text = json.dumps(report, indent=2)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    sys.exit(main())
