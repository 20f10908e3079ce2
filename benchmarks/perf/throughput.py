"""Evaluation throughput: theorems per minute with 1 and with 2 worker
processes, on the same theorems, measured side by side in one run.

    python -m benchmarks.perf.throughput [--benchmark coq-stdlib] [--sample 12]
        [--budget 10] [--expansions 40] [--rounds 2]

What `dco evaluate` does per theorem, without the database: the symbolic
generator, best-first search, a short budget, through search.runner.run_jobs
(one Coq session per file and worker; theorems of one file go to one worker).
The search is bounded by ``--expansions`` as well as the wall clock, so both
worker counts do the same work and the ratio measures parallelism, not the
budget (a wall-clock-bound search takes its budget whatever the load). The
worker counts alternate 1, 2, 2, 1, ... (``--rounds`` pairs) so that drift in
the load of a shared machine hits both alike; per count, the median.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from typing import Any

from search.budget import Budget
from search.config import SearchConfig, Strategy
from search.generator import FixedTacticGenerator
from search.runner import Job, run_jobs


def symbolic(worker: int) -> FixedTacticGenerator:
    """The baseline generator (module level: picklable for worker processes)."""
    return FixedTacticGenerator(seed=0)


def sample_jobs(benchmark: str, split: str, sample: int, seed: int) -> list[Job]:
    from benchmarks.loader import load_benchmark

    theorems = load_benchmark(benchmark).theorems(split)
    chosen = random.Random(seed).sample(theorems, min(sample, len(theorems)))
    return [Job(t.theorem, t.id, t.split) for t in sorted(chosen, key=lambda t: t.id)]


def timed_run(jobs: list[Job], budget: Budget, workers: int, seed: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    records = list(
        run_jobs(
            jobs,
            SearchConfig(strategy=Strategy.BEST_FIRST),
            budget,
            symbolic,
            workers=workers,
            store_tree=False,
            seed=seed,
        )
    )
    wall = time.perf_counter() - t0
    return {
        "workers": workers,
        "wall_s": wall,
        "theorems_per_minute": 60 * len(records) / wall,
        "proved": sum(r.status == "proved" for r in records),
        "start_seconds": sum(r.theorem["seconds_start"] for r in records),
        "search_seconds": sum(r.theorem["seconds_search"] for r in records),
    }


def measure(jobs: list[Job], budget: Budget, rounds: int = 2, seed: int = 0) -> dict[str, Any]:
    order = [w for r in range(rounds) for w in ((1, 2) if r % 2 == 0 else (2, 1))]
    runs = [timed_run(jobs, budget, w, seed) for w in order]
    per = {
        str(w): {
            "theorems_per_minute": statistics.median(
                r["theorems_per_minute"] for r in runs if r["workers"] == w
            ),
            "wall_s": statistics.median(r["wall_s"] for r in runs if r["workers"] == w),
        }
        for w in (1, 2)
    }
    return {
        "theorems": len(jobs),
        "budget": budget.to_dict(),
        "runs": runs,
        "workers": per,
        "ratio_2_to_1": per["2"]["theorems_per_minute"] / per["1"]["theorems_per_minute"],
        "same_outcome": len({r["proved"] for r in runs}) == 1,
    }


def report(r: dict[str, Any]) -> str:
    lines = [f"{r['theorems']} theorems, best-first, symbolic generator, budget {r['budget']}"]
    for run in r["runs"]:
        lines.append(
            f"  {run['workers']} worker(s): {run['wall_s']:7.1f} s "
            f"{run['theorems_per_minute']:7.1f} theorems/min, proved {run['proved']}"
        )
    w = r["workers"]
    lines.append(
        f"median: 1 worker {w['1']['theorems_per_minute']:.1f} theorems/min, 2 workers "
        f"{w['2']['theorems_per_minute']:.1f} theorems/min, ratio {r['ratio_2_to_1']:.2f}"
        + ("" if r["same_outcome"] else " (proved counts differ between runs)")
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--benchmark", default="coq-stdlib")
    parser.add_argument("--split", default="test")
    parser.add_argument("--sample", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget", type=float, default=10.0, help="wall clock per theorem (s)")
    parser.add_argument("--expansions", type=int, default=40, help="best-first expansions cap")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    jobs = sample_jobs(args.benchmark, args.split, args.sample, args.seed)
    budget = Budget(wall_clock=args.budget, max_expansions=args.expansions, tactic_timeout=2.0)
    print(report(measure(jobs, budget, args.rounds, args.seed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
