"""The independent re-check of a proof: ``coqc`` from scratch.

The proof is written out as a file — the theorem's exact context, the
statement, the tactics, ``Qed.`` — and compiled by a fresh ``coqc`` that shares
nothing with the interactive session that found it. Then ``Print Assumptions``
must name nothing the context did not already have: every axiom it lists is
looked up again in the context alone (a second compile, only when the first
lists any), and the theorem itself must not be among them (``Admitted``).
Anything coqc says after our end marker (e.g. that an open Section needs
closing at the end of the file) is not about the proof and is ignored.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from ..types import Theorem, Verification
from .coqc import between_markers, compile_script, judge_assumptions, marker_command, new_marker
from .tactic_check import RejectedTactic, check_tactic


def _context(theorem: Theorem) -> str:
    text = Path(theorem.file).read_text(encoding="utf-8")
    assert theorem.offset is not None
    return text[: theorem.offset]


def verify_proof(theorem: Theorem, tactics: Sequence[str], timeout: float = 600.0) -> Verification:
    t0 = time.perf_counter()

    def fail(reason: str) -> Verification:
        return Verification(False, reason, seconds=time.perf_counter() - t0)

    if not tactics:
        return fail("empty proof")
    sentences = []
    for tactic in tactics:
        try:
            sentences.append(check_tactic(tactic, theorem.name).text)
        except RejectedTactic as exc:
            return fail(f"rejected tactic {tactic!r}: {exc}")
    context = _context(theorem)
    start, end = new_marker(), new_marker()
    script = (
        f"{context}\n{theorem.statement}\n"
        + "\n".join(sentences)
        + f"\nQed.\n{marker_command(start)}\nPrint Assumptions {theorem.short_name}.\n"
        + f"{marker_command(end)}\n"
    )
    code, output = compile_script(script, theorem, timeout)
    if code is None:
        return fail(f"coqc did not finish within {timeout:.0f} s")
    if start not in output or end not in output:
        error = output.split("Error:", 1)[-1] if "Error:" in output else output[-300:]
        return fail(f"coqc rejected the proof: {' '.join(error.split())[:300]}")
    reason, names = judge_assumptions(theorem, between_markers(output, start, end))
    if reason is not None:
        return fail(reason)
    if names:
        missing = _not_in_context(theorem, context, names, timeout)
        if missing is None:
            return fail("could not check the axioms against the context")
        if missing:
            return fail(f"proof uses assumptions not in the context: {', '.join(missing)}")
    return Verification(True, "", tuple(names), time.perf_counter() - t0, script)


def _not_in_context(
    theorem: Theorem, context: str, names: list[str], timeout: float
) -> list[str] | None:
    """Names among ``names`` that do not exist in the context alone."""
    markers = [new_marker() for _ in names]
    done = new_marker()
    probes = "\n".join(
        f"{marker_command(m)}\nCheck @{n}." for m, n in zip(markers, names, strict=True)
    )
    code, output = compile_script(f"{context}\n{probes}\n{marker_command(done)}\n", theorem, timeout)
    if code is None:
        return None
    if done in output:
        return []
    # coqc stops at the first failing Check: the last marker printed names it.
    printed = [n for m, n in zip(markers, names, strict=True) if m in output]
    return [printed[-1]] if printed else list(names)
