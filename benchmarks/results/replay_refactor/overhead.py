"""Python-side overhead of ``CoqEnvironment.run_tactic``: wall time minus the
time spent inside ``Coqtop.send`` (``BackTo`` goes through ``send`` too), so
that coqtop's own time, which the machine's load makes noisy, drops out.

    cd TREE && PYTHONPATH=$PWD python benchmarks/results/replay_refactor/overhead.py LABEL
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lean_env.coq import coqtop
from lean_env.coq.environment import CoqEnvironment
from lean_env.coq.source import find_declaration

inside = [0.0]


def timed(fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            inside[0] += time.perf_counter() - t0

    return wrapper


def main(label: str, repeats: int = 400) -> None:
    coqtop.Coqtop.send = timed(coqtop.Coqtop.send)  # type: ignore[method-assign]
    theorem = find_declaration(Path("prover/examples/Basics.v"), "add_zero_r").theorem
    chain, back = [], []
    with CoqEnvironment(theorem) as env:
        root = env.initial_state
        state = env.run_tactic(root, "intros n")
        for i in range(repeats):
            inside[0] = 0.0
            t0 = time.perf_counter()
            state = env.run_tactic(state, f"pose proof I as H{i}")  # type: ignore[arg-type]
            chain.append(time.perf_counter() - t0 - inside[0])
        for _ in range(repeats):
            inside[0] = 0.0
            t0 = time.perf_counter()
            env.run_tactic(root, "intros n")
            back.append(time.perf_counter() - t0 - inside[0])
    print(
        f"{label} chain_overhead_us {statistics.median(chain) * 1e6:.1f} "
        f"backtrack_overhead_us {statistics.median(back) * 1e6:.1f}"
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "run")
