"""New proofs into training data.

A round's searches leave verified proofs in the database (``proofs`` rows
with ``verified = 1``: the independent re-check passed; a proof that failed
it is never used). Per theorem they are taken shortest first; one whose
tactics equal (up to whitespace) the theorem's human proof or a proof already
recorded is a *duplicate*; the others are replayed in the theorem's
Environment, recording the pretty-printed state before each tactic (exactly
what ``steps.jsonl`` holds and the model sees), until ``proofs_per_theorem``
are added; the rest are *capped*. A proof whose replay does not end exactly
at its last tactic is *replay_failed* and adds nothing.

The steps of a theorem's added proof keep the theorem's id; a theorem may
then have several proofs in ``steps.jsonl`` (its human one and new ones).
That is what step-level losses (CE, DCOstep) train on; whole-proof DCO,
which groups steps by theorem, is not retrained by expert iteration.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.format import Benchmark, BenchmarkTheorem, Step, write_benchmark
from lean_env.errors import EnvironmentError_
from lean_env.sessions import FileSessions
from lean_env.types import ProofFinished, ProofState, Theorem
from search.db import SearchDB
from search.fsutil import write_jsonl_atomic

from .store import proof_key

ADDED, DUPLICATE, CAPPED, REPLAY_FAILED = "added", "duplicate", "capped", "replay_failed"


@dataclass(frozen=True)
class FoundProof:
    theorem: str
    tactics: tuple[str, ...]
    found_by: str
    run_id: int


def found_proofs(db: SearchDB, runs: dict[str, int]) -> list[FoundProof]:
    """The verified proofs of the runs (label -> run id), in label order."""
    return [
        FoundProof(theorem, tactics, name, run_id)
        for name, run_id in runs.items()
        for theorem, tactics in db.verified_proofs(run_id)
    ]


@dataclass
class Replayed:
    steps: list[tuple[str, str]] = field(default_factory=list)  # (state before, tactic)
    error: str = ""


def replay(
    theorem: Theorem, tactics: Sequence[str], sessions: FileSessions, timeout: float
) -> Replayed:
    """Run ``tactics`` from the theorem's initial state, recording the state
    before each. (:func:`lean_env.coq.trace.replay` is the Coq tracer's own
    replay, which also applies Coq's tactic check; this one is for any
    backend and for proofs that the Environment already accepted.)"""
    out = Replayed()
    try:
        env = sessions(theorem, tactic_timeout=timeout)
    except EnvironmentError_ as exc:
        out.error = f"environment: {exc}"
        return out
    try:
        state: ProofState = env.initial_state
        for i, tactic in enumerate(tactics):
            out.steps.append((state.goals, tactic))
            result = env.run_tactic(state, tactic)
            if isinstance(result, ProofFinished):
                if i != len(tactics) - 1:
                    out.error = f"proof complete after step {i} of {len(tactics)}"
                return out
            if not isinstance(result, ProofState):
                out.error = f"step {i} {tactic!r}: {result}"
                return out
            state = result
        out.error = f"{state.num_goals} goal(s) left after the last step"
        return out
    except EnvironmentError_ as exc:
        out.error = f"environment: {exc}"
        return out
    finally:
        env.close()


@dataclass
class Selected:
    rows: list[dict[str, Any]]  # expert_proofs rows of the round
    steps: list[dict[str, Any]]  # added_steps.jsonl rows


def select_and_trace(
    found: Iterable[FoundProof],
    theorems: dict[str, BenchmarkTheorem],
    known: dict[str, list[dict[str, Any]]],
    *,
    per_theorem: int,
    round_: int,
    tactic_timeout: float,
) -> Selected:
    """Deduplicate, cap and trace the round's verified proofs (module doc)."""
    by_theorem: dict[str, list[FoundProof]] = {}
    for proof in found:
        by_theorem.setdefault(proof.theorem, []).append(proof)
    out = Selected([], [])
    sessions = FileSessions()
    order = sorted(
        by_theorem, key=lambda n: (theorems[n].theorem.file, theorems[n].theorem.offset or 0)
    )
    try:
        for name in order:
            bt = theorems[name]
            seen = {row["key"] for row in known.get(name, [])}
            human = proof_key(bt.tactics) if bt.tactics else None
            added = sum(row["status"] == ADDED for row in known.get(name, []))
            # Shortest first; among equals, the order the runs were given in.
            for proof in sorted(by_theorem[name], key=lambda p: len(p.tactics)):
                key = proof_key(proof.tactics)
                if key in seen:
                    continue  # the same proof from another model, or recorded already
                seen.add(key)
                row = {
                    "theorem": name,
                    "key": key,
                    "benchmark_id": bt.id,
                    "tactics": json.dumps(list(proof.tactics), ensure_ascii=False),
                    "length": len(proof.tactics),
                    "found_by": proof.found_by,
                    "run_id": proof.run_id,
                    "status": DUPLICATE,
                    "reason": None,
                    "steps": 0,
                }
                if key == human:
                    row["reason"] = "same tactics as the human proof"
                elif per_theorem and added >= per_theorem:
                    row["status"], row["reason"] = CAPPED, f"--proofs-per-theorem {per_theorem}"
                else:
                    traced = replay(bt.theorem, proof.tactics, sessions, tactic_timeout)
                    if traced.error:
                        row["status"], row["reason"] = REPLAY_FAILED, traced.error[:500]
                    else:
                        row["status"], row["steps"] = ADDED, len(traced.steps)
                        added += 1
                        out.steps.extend(
                            {
                                "theorem_id": bt.id,
                                "index": i,
                                "state": state,
                                "tactic": tactic,
                                "split": "train",
                                "theorem": name,
                                "round": round_,
                            }
                            for i, (state, tactic) in enumerate(traced.steps)
                        )
                out.rows.append(row)
    finally:
        sessions.close()
    return out


def write_steps(path: Path, steps: Iterable[dict[str, Any]]) -> None:
    """``added_steps.jsonl`` (written whole, then renamed into place)."""
    write_jsonl_atomic(path, steps)


def read_steps(path: Path) -> list[Step]:
    with path.open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return [
        Step(int(d["theorem_id"]), int(d["index"]), d["state"], d["tactic"], d["split"])
        for d in rows
    ]


def write_augmented(directory: Path, base: Benchmark, added: Sequence[Path], round_: int) -> Path:
    """The benchmark a round trains on: the base benchmark's theorems and
    steps plus the steps of ``added`` (every round's added_steps.jsonl so far)."""
    extra = [step for path in added for step in read_steps(path)]
    meta = dict(base.meta)
    meta["library"] = base.name  # the trainer's name for it, whatever the directory
    meta["expert_iteration"] = {
        "round": round_,
        "added_steps": len(extra),
        "added_from": [str(p) for p in added],
    }
    write_benchmark(
        directory, Benchmark(base.name, base.theorem_list, base.step_list + extra, meta)
    )
    return directory
