"""Speed of the Coq Environment against raw coqtop.

    python -m benchmarks.perf.coq_env [--repeats 200]

Reports the median and 95th percentile of: environment start-up (coqtop
start + context + statement), time per tactic along a chain, backtrack +
tactic from an earlier state, and the same operations on a raw coqtop pipe,
with the ratios of the medians measured in one run.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from benchmarks.perf.record import distribution_ms
from lean_env.coq.coqtop import Coqtop
from lean_env.coq.environment import CoqEnvironment
from lean_env.coq.source import find_declaration
from lean_env.types import ProofState

EXAMPLE = Path(__file__).resolve().parents[2] / "prover" / "examples" / "Basics.v"


def measure(repeats: int = 200, startups: int = 10) -> dict[str, Any]:
    theorem = find_declaration(EXAMPLE, "add_zero_r").theorem
    starts = []
    for _ in range(startups):
        t0 = time.perf_counter()
        env = CoqEnvironment(theorem)
        starts.append(time.perf_counter() - t0)
        env.close()

    with CoqEnvironment(theorem) as env:
        root = env.initial_state
        intro = env.run_tactic(root, "intros n")
        assert isinstance(intro, ProofState)
        state, chain = intro, []
        for i in range(repeats):
            t0 = time.perf_counter()
            state = env.run_tactic(state, f"pose proof I as H{i}")
            chain.append(time.perf_counter() - t0)
            assert isinstance(state, ProofState)
        back = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            env.run_tactic(root, "intros n")  # BackTo root, then the tactic
            back.append(time.perf_counter() - t0)

    raw = Coqtop()
    raw.start()
    raw.send(theorem.statement)
    raw_root = raw.state_id
    raw_chain, raw_back = [], []
    for i in range(repeats):
        t0 = time.perf_counter()
        raw.send(f"pose proof I as H{i}.")
        raw_chain.append(time.perf_counter() - t0)
    for _ in range(repeats):
        t0 = time.perf_counter()
        raw.send(f"BackTo {raw_root}.")
        raw.send("intros n.")
        raw_back.append(time.perf_counter() - t0)
    raw.close()
    out: dict[str, Any] = {
        "startup": distribution_ms(starts),
        "tactic": distribution_ms(chain),
        "backtrack_plus_tactic": distribution_ms(back),
        "raw_tactic": distribution_ms(raw_chain),
        "raw_backtrack_plus_tactic": distribution_ms(raw_back),
    }
    out["tactic_ratio_to_raw"] = round(
        out["tactic"]["median_ms"] / out["raw_tactic"]["median_ms"], 3
    )
    out["backtrack_ratio_to_raw"] = round(
        out["backtrack_plus_tactic"]["median_ms"] / out["raw_backtrack_plus_tactic"]["median_ms"], 3
    )
    return out


def report(r: dict[str, Any]) -> str:
    def line(name: str, key: str, raw: str | None = None, ratio: str | None = None) -> str:
        d = r[key]
        text = f"{name:<28} median {d['median_ms']:8.3f} ms  p95 {d['p95_ms']:8.3f} ms"
        if raw:
            text += f"   raw coqtop {r[raw]['median_ms']:.3f} ms (p95 {r[raw]['p95_ms']:.3f})"
            text += f"  ratio {r[ratio]:.2f}" if ratio else ""
        return text

    return "\n".join(
        [
            line("environment start-up", "startup"),
            line("tactic along a chain", "tactic", "raw_tactic", "tactic_ratio_to_raw"),
            line(
                "backtrack + tactic",
                "backtrack_plus_tactic",
                "raw_backtrack_plus_tactic",
                "backtrack_ratio_to_raw",
            ),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--startups", type=int, default=10)
    args = parser.parse_args(argv)
    print(report(measure(args.repeats, args.startups)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
