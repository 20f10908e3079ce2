"""Which tactics of a list close which problems of a split in one step.

    python -m benchmarks.root_closers minif2f-rocq:PATH --split valid \\
        --tactics tactics.json --out closers.json

The cheap half of tuning an automation list: every tactic is run on every
problem's initial state (one coqtop session per file, ``--tactic-timeout``
each), with no search. The report gives, per tactic, how many problems it
closes and how many no other tactic closes, and, given ``--baseline N`` (the
first N tactics are the list as it was), which problems only the new ones
close. Develop on a validation split; a tactic earns its place on the test
split only through a full search run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lean_env.errors import EnvironmentCrashed, EnvironmentStartError, UserError
from lean_env.sessions import FileSessions
from lean_env.types import ProofFinished

from .loader import load_benchmark
from .splits import split_arg
from .statement_check import emit_report


def closers(
    spec: str, split: str | None, tactics: Sequence[str], tactic_timeout: float = 5.0
) -> dict[str, dict[str, float]]:
    """{problem: {tactic: seconds}} for the tactics that close it at the root
    (problems that fail to start map to an empty dict)."""
    theorems = sorted(load_benchmark(spec).theorems(split), key=lambda t: t.name)
    sessions = FileSessions()
    out: dict[str, dict[str, float]] = {}
    try:
        for bt in theorems:
            closed: dict[str, float] = {}
            try:
                env = sessions(bt.theorem, tactic_timeout=tactic_timeout)
                for tactic in tactics:
                    t0 = time.perf_counter()
                    try:
                        result = env.run_tactic(env.initial_state, tactic)
                    except EnvironmentCrashed:  # a stalled tactic: a fresh session goes on
                        sessions.close()
                        env = sessions(bt.theorem, tactic_timeout=tactic_timeout)
                        continue
                    if isinstance(result, ProofFinished):
                        closed[tactic] = round(time.perf_counter() - t0, 3)
            except (EnvironmentStartError, EnvironmentCrashed):
                pass
            out[bt.name] = closed
    finally:
        sessions.close()
    return out


def summarize(
    found: dict[str, dict[str, float]], tactics: Sequence[str], baseline: int
) -> dict[str, Any]:
    """Per tactic: problems closed and problems no other tactic closes; with a
    baseline (the first ``baseline`` tactics), what the others add."""
    old = set(tactics[:baseline])
    by_old = {p for p, c in found.items() if old & set(c)}
    by_any = {p for p, c in found.items() if c}
    return {
        "problems": len(found),
        "closed": len(by_any),
        "closed_by_baseline": len(by_old) if baseline else None,
        "only_new": sorted(by_any - by_old) if baseline else None,
        "tactics": {
            t: {
                "closes": sum(t in c for c in found.values()),
                "alone": sum(set(c) == {t} for c in found.values()),
            }
            for t in tactics
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.root_closers", description=__doc__.split("\n")[0]
    )
    parser.add_argument("benchmark")
    parser.add_argument("--split", default="val", help="train, val (or valid), test, all")
    parser.add_argument("--tactics", required=True, help="a JSON list of tactics")
    parser.add_argument(
        "--baseline", type=int, default=0, help="the first N tactics are the old list"
    )
    parser.add_argument("--tactic-timeout", type=float, default=5.0)
    parser.add_argument("--out", help="also write the report here (JSON)")
    args = parser.parse_args(argv)
    try:
        try:
            tactics = json.loads(Path(args.tactics).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UserError(f"--tactics {args.tactics}: not a readable JSON list ({exc})") from None
        if not isinstance(tactics, list) or not all(isinstance(t, str) and t for t in tactics):
            raise UserError(f"--tactics {args.tactics}: expected a JSON list of tactic strings")
        split = split_arg(args.split)
        found = closers(args.benchmark, split, tactics, args.tactic_timeout)
    except (UserError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report = {
        "benchmark": args.benchmark,
        "split": split,
        "tactic_timeout": args.tactic_timeout,
        **summarize(found, tactics, args.baseline),
        "closers": found,
    }
    emit_report(report, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
