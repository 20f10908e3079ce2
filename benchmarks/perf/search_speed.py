"""Speed of the search code against the generator and the proof assistant.

    python -m benchmarks.perf.search_speed [--budget 10] [--passes 64,512]
        [--benchmark coq-stdlib --sample 20]

Reports, with the symbolic generator on real coqtop:

- the share of the search's wall clock spent in the search code itself (not
  in the generator, not in the proof assistant, not re-checking proofs), for
  best-first and for rollouts (goal: under 5%);
- best-first expansions and tree nodes per second;
- proof-assistant calls of pass@N rollouts with the shared memo table versus
  naive independent rollouts, for each N (the naive count is the number of
  steps the same rollouts take, which is what independent rollouts would run:
  the table does not change which rollouts happen, see tests/test_search_rollouts.py);
  for the smallest N the naive rollouts (:mod:`search.naive`, selected by
  ``SearchConfig(memo=False)``) are also run for real, as a check;
- writing each theorem's records to SQLite, per theorem.

By default the theorems are a built-in mix of easy and (for this generator)
hopeless ones, so that some searches spend their whole budget.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmarks.perf.record import distribution_ms
from lean_env.coq.source import parse_declarations
from lean_env.sessions import FileSessions
from lean_env.types import Theorem
from search.budget import Budget
from search.config import SearchConfig, Strategy
from search.db import SearchDB, record_of
from search.generator import FixedTacticGenerator
from search.result import SearchResult
from search.runner import theorem_seed
from search.tree_search import TreeSearch

THEOREMS = """\
Require Import Arith List Lia.
Theorem add_0_r : forall n : nat, n + 0 = n.
Proof. Admitted.
Theorem add_comm : forall n m : nat, n + m = m + n.
Proof. Admitted.
Theorem and_swap : forall A B : Prop, A /\\ B -> B /\\ A.
Proof. Admitted.
Theorem app_nil : forall (A : Type) (l : list A), l ++ nil = l.
Proof. Admitted.
Theorem mul_1_r : forall n : nat, n * 1 = n.
Proof. Admitted.
Theorem app_length' : forall (A : Type) (l1 l2 : list A), length (l1 ++ l2) = length l1 + length l2.
Proof. Admitted.
Theorem le_square : forall n : nat, n <= n * n.
Proof. Admitted.
Theorem rev_rev : forall (A : Type) (l : list A), rev (rev l) = l.
Proof. Admitted.
Theorem succ_inj : forall n m : nat, S n = S m -> n = m.
Proof. Admitted.
Theorem imp_trans : forall P Q R : Prop, (P -> Q) -> (Q -> R) -> P -> R.
Proof. Admitted.
Theorem double : forall n : nat, 2 * n = n + n.
Proof. Admitted.
Theorem map_length' : forall (A B : Type) (f : A -> B) (l : list A), length (map f l) = length l.
Proof. Admitted.
"""


def builtin_theorems(directory: Path) -> list[Theorem]:
    path = directory / "SearchSpeed.v"
    path.write_text(THEOREMS, encoding="utf-8")
    return [d.theorem for d in parse_declarations(path)]


def benchmark_theorems(spec: str, sample: int, seed: int) -> list[Theorem]:
    from benchmarks.loader import load_benchmark

    theorems = [t.theorem for t in load_benchmark(spec).theorems("test")]
    return random.Random(seed).sample(theorems, min(sample, len(theorems)))


def run_all(
    theorems: list[Theorem], config: SearchConfig, budget: Budget, seed: int
) -> tuple[list[SearchResult], int]:
    """The results, and how many times coqtop was restarted meanwhile."""
    environments = FileSessions()
    generator = FixedTacticGenerator()
    searcher = TreeSearch(config)
    results = []
    try:
        for theorem in sorted(theorems, key=lambda t: (t.file, t.offset or 0)):
            generator.reseed(theorem_seed(seed, theorem))
            results.append(searcher.search(theorem, environments, generator, budget))
    finally:
        environments.close()
    return results, environments.restarts


def totals(run: tuple[list[SearchResult], int]) -> dict[str, float]:
    results, restarts = run
    keys = ("seconds_total", "seconds_generator", "seconds_tactics", "seconds_verify")
    out = {k: sum(getattr(r.stats, k) for r in results) for k in keys}
    out["seconds_search"] = sum(r.stats.seconds_search for r in results)
    for k in ("expansions", "nodes", "tactic_calls", "memo_hits", "passes"):
        out[k] = sum(getattr(r.stats, k) for r in results)
    out["proved"] = sum(r.proved for r in results)
    out["steps"] = sum(a.steps for r in results for a in r.attempts)
    out["restarts"] = restarts
    return out


def share_line(name: str, t: dict[str, float]) -> str:
    wall = t["seconds_total"] or 1e-9
    steps = max(t["tactic_calls"] + t["memo_hits"], 1)
    return (
        f"{name:<22} wall {t['seconds_total']:7.1f} s | search code {t['seconds_search']:6.3f} s "
        f"= {100 * t['seconds_search'] / wall:5.2f}% | proof assistant "
        f"{100 * t['seconds_tactics'] / wall:5.1f}% | re-check {100 * t['seconds_verify'] / wall:5.1f}% "
        f"| generator {100 * t['seconds_generator'] / wall:5.2f}% | proved {t['proved']:.0f}\n"
        f"{'':<22} search code per step {1e6 * t['seconds_search'] / steps:.0f} us "
        f"({steps:.0f} steps: {t['tactic_calls']:.0f} proof-assistant calls, "
        f"{t['memo_hits']:.0f} memo hits); proof assistant per call "
        f"{1000 * t['seconds_tactics'] / max(t['tactic_calls'], 1):.1f} ms; "
        f"coqtop restarts {t['restarts']:.0f}"
    )


def _with_share(t: dict[str, float]) -> dict[str, float]:
    return t | {"search_code_share": t["seconds_search"] / (t["seconds_total"] or 1e-9)}


def measure(
    theorems: list[Theorem], budget_s: float, passes: list[int], tactic_timeout: float, seed: int
) -> dict[str, Any]:
    """Best-first and pass@N rollouts (with and, for the smallest N, without
    the memo table) over ``theorems``; totals over the theorems."""
    budget = Budget(wall_clock=budget_s, tactic_timeout=tactic_timeout)
    best = run_all(theorems, SearchConfig(strategy=Strategy.BEST_FIRST), budget, seed)
    out: dict[str, Any] = {"theorems": len(theorems), "best_first": _with_share(totals(best))}
    t = out["best_first"]
    t["expansions_per_s"] = t["expansions"] / (t["seconds_total"] or 1e-9)
    t["nodes_per_s"] = t["nodes"] / (t["seconds_total"] or 1e-9)
    t["tactics_per_s"] = t["tactic_calls"] / (t["seconds_total"] or 1e-9)

    db_seconds = []
    with (
        tempfile.TemporaryDirectory(prefix="dco-search-speed-db-") as tmp,
        SearchDB(Path(tmp) / "speed.sqlite") as db,
    ):
        run_id, _ = db.open_run({"benchmark": "search_speed"})
        for result in best[0]:
            t0 = time.perf_counter()
            db.write(run_id, record_of(result))
            db_seconds.append(time.perf_counter() - t0)
    out["sqlite_write"] = distribution_ms(db_seconds) | {
        "max_ms": round(1000 * max(db_seconds), 3),
        "median_tree_nodes": statistics.median(r.stats.nodes for r in best[0]),
        "share_of_search_wall": sum(db_seconds) / (t["seconds_total"] or 1e-9),
    }

    out["rollouts"] = {}
    for n in sorted(passes):
        rollout_budget = replace(budget, max_passes=n, wall_clock=max(budget_s, 600.0))
        memo = _with_share(
            totals(
                run_all(theorems, SearchConfig(strategy=Strategy.ROLLOUTS), rollout_budget, seed)
            )
        )
        # Naive independent rollouts would run every step the same rollouts take.
        memo["naive_calls"] = memo["steps"]
        memo["calls_saved"] = 1 - memo["tactic_calls"] / max(memo["steps"], 1)
        if n == min(passes):
            naive = totals(
                run_all(
                    theorems,
                    SearchConfig(strategy=Strategy.ROLLOUTS, memo=False),
                    rollout_budget,
                    seed,
                )
            )
            memo["naive_run"] = {k: naive[k] for k in ("tactic_calls", "seconds_total", "proved")}
        out["rollouts"][str(n)] = memo
    out["max_search_code_share"] = max(
        [t["search_code_share"]] + [r["search_code_share"] for r in out["rollouts"].values()]
    )
    return out


def report(r: dict[str, Any]) -> str:
    t = r["best_first"]
    lines = [
        f"{r['theorems']} theorems, symbolic generator, real coqtop\n",
        share_line("best-first", t),
        f"{'':<22} {t['expansions_per_s']:.1f} expansions/s, {t['nodes_per_s']:.0f} nodes/s, "
        f"{t['tactics_per_s']:.0f} tactics/s",
    ]
    w = r["sqlite_write"]
    lines.append(
        f"{'':<22} SQLite write per theorem: median {w['median_ms']:.1f} ms, "
        f"max {w['max_ms']:.1f} ms (median tree {w['median_tree_nodes']:.0f} nodes); "
        f"{100 * w['share_of_search_wall']:.2f}% of the search wall clock\n"
    )
    for n, memo in r["rollouts"].items():
        lines.append(share_line(f"rollouts pass@{n}", memo))
        line = (
            f"{'':<22} proof-assistant calls: memo {memo['tactic_calls']:.0f} vs naive "
            f"{memo['naive_calls']:.0f} ({memo['naive_calls'] / max(memo['tactic_calls'], 1):.1f}x "
            f"fewer, {100 * memo['calls_saved']:.1f}% saved)"
        )
        if "naive_run" in memo:
            naive = memo["naive_run"]
            line += (
                f"; naive run for real: {naive['tactic_calls']:.0f} calls, "
                f"{naive['seconds_total']:.1f} s vs {memo['seconds_total']:.1f} s with the memo"
            )
        lines.append(line)
    return "\n".join(lines)


def select_theorems(
    benchmark: str | None, sample: int, seed: int, directory: Path
) -> list[Theorem]:
    """A sample of the benchmark's test split, or the built-in mix."""
    if benchmark:
        return benchmark_theorems(benchmark, sample, seed)
    return builtin_theorems(directory)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=10.0, help="wall clock per theorem (s)")
    parser.add_argument("--passes", default="64,512", help="pass@N values to compare")
    parser.add_argument("--tactic-timeout", type=float, default=2.0)
    parser.add_argument("--benchmark", help="sample theorems of this benchmark's test split")
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    passes = sorted(int(x) for x in args.passes.split(","))
    with tempfile.TemporaryDirectory(prefix="dco-search-speed-") as tmp:
        theorems = select_theorems(args.benchmark, args.sample, args.seed, Path(tmp))
        print(report(measure(theorems, args.budget, passes, args.tactic_timeout, args.seed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
