"""``dco demo``: the README's main job on the embedded default (Coq).

It proves each theorem of the bundled example file step by step in the
Environment, printing the states, and reports the independent re-check.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from lean_env.coq.environment import CoqEnvironment
from lean_env.coq.source import parse_declarations
from lean_env.types import ProofFinished, ProofState

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "Basics.v"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--file", default=str(EXAMPLE), help="Coq file to prove (default: bundled)")
    parser.add_argument("--tactic-timeout", type=float, default=10.0)


def run(args: argparse.Namespace) -> int:
    declarations = [d for d in parse_declarations(args.file) if d.ending == "Qed"]
    failures = 0
    rows = []
    for declaration in declarations:
        t0 = time.perf_counter()
        with CoqEnvironment(declaration.theorem, tactic_timeout=args.tactic_timeout) as env:
            state = env.initial_state
            print(f"== {declaration.theorem.name}\n{state.goals}")
            finished = False
            for tactic in declaration.tactics:
                result = env.run_tactic(state, tactic)
                print(f"  > {tactic}")
                if isinstance(result, ProofFinished):
                    finished = True
                    break
                if not isinstance(result, ProofState):
                    print(f"  ! {result}")
                    break
                state = result
            verification = env.verify(declaration.tactics) if finished else None
        ok = verification is not None and verification.ok
        failures += not ok
        verdict = "VERIFIED" if ok else f"REJECTED: {verification.reason if verification else 'not finished'}"
        rows.append((declaration.theorem.name, len(declaration.tactics), verdict, time.perf_counter() - t0))
        print(f"  {verdict}\n")
    width = max(len(r[0]) for r in rows) if rows else 10
    print(f"{'theorem':<{width}}  steps  seconds  result")
    for name, steps, verdict, seconds in rows:
        print(f"{name:<{width}}  {steps:>5}  {seconds:>7.2f}  {verdict}")
    return 1 if failures else 0
