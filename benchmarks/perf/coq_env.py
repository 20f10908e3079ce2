"""Speed of the Coq Environment against raw coqtop.

    python -m benchmarks.perf.coq_env [--repeats 200]

Reports medians: environment start-up (coqtop start + context + statement),
time per tactic along a chain, backtrack + tactic from an earlier state, and
the same operations on a raw coqtop pipe, as ratios measured in one run.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from lean_env.coq.coqtop import Coqtop
from lean_env.coq.environment import CoqEnvironment
from lean_env.coq.source import find_declaration
from lean_env.types import ProofState

EXAMPLE = Path(__file__).resolve().parents[2] / "prover" / "examples" / "Basics.v"


def _median_ms(samples: list[float]) -> float:
    return 1000 * statistics.median(samples)


def measure(repeats: int) -> dict[str, float]:
    theorem = find_declaration(EXAMPLE, "add_zero_r").theorem
    starts = []
    for _ in range(10):
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
    return {
        "startup_ms": _median_ms(starts),
        "tactic_ms": _median_ms(chain),
        "backtrack_plus_tactic_ms": _median_ms(back),
        "raw_tactic_ms": _median_ms(raw_chain),
        "raw_backtrack_plus_tactic_ms": _median_ms(raw_back),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    r = measure(args.repeats)
    print(f"environment start-up (median of 10):   {r['startup_ms']:8.2f} ms")
    print(f"tactic along a chain (median):         {r['tactic_ms']:8.3f} ms"
          f"   raw coqtop {r['raw_tactic_ms']:.3f} ms  ratio {r['tactic_ms'] / r['raw_tactic_ms']:.2f}")
    print(f"backtrack + tactic (median):           {r['backtrack_plus_tactic_ms']:8.3f} ms"
          f"   raw coqtop {r['raw_backtrack_plus_tactic_ms']:.3f} ms"
          f"  ratio {r['backtrack_plus_tactic_ms'] / r['raw_backtrack_plus_tactic_ms']:.2f}")


if __name__ == "__main__":
    main()
