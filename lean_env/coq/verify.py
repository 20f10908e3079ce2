"""The independent re-check of a proof: ``coqc`` from scratch.

The proof is written out as a file — the theorem's exact context, the
statement, the tactics, ``Qed.`` — and compiled by a fresh ``coqc`` that shares
nothing with the interactive session that found it. Then ``Print Assumptions``
must name nothing the context did not already have: every axiom it lists is
looked up again in the context alone (a second compile, only when the first
lists any), and the theorem itself must not be among them (``Admitted``).
Anything coqc says after our end marker (e.g. that an open Section needs
closing at the end of the file) is not about the proof and is ignored.

The same lookup tells where each axiom lives: one declared in the context
(or in any library but Coq's own) is an assumption the answer must show
(``Verification.assumes``, printed by :func:`~lean_env.types.assumes_note`), since the proof
holds only if the axiom does (``Axiom cheat : False.`` proves anything).
Section variables are not axioms: closing the section turns them into
hypotheses of the theorem.
"""

from __future__ import annotations

import functools
import re
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from ..types import Theorem, Verification
from .coqc import (
    VERIFY_MODULE,
    between_markers,
    compile_script,
    coqc_path,
    judge_assumptions,
    marker_command,
    new_marker,
)
from .tactic_check import RejectedTactic, check_tactic

_LOCATED = re.compile(r"^(Constant|Variable)\s+(\S+)", re.M)


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
    # The preamble runs before the statement but is not context: axioms are
    # looked up in ``context`` alone below, so none that only it brings counts.
    script = (
        f"{context}\n{theorem.preamble}\n{theorem.statement}\n"
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
    assumes: list[str] = []
    if names:
        located = _locate(theorem, context, names, timeout)
        if located is None:
            return fail("could not check the axioms against the context")
        missing = [n for n in names if n not in located]
        if missing:
            return fail(f"proof uses assumptions not in the context: {', '.join(missing)}")
        assumes = [n for n in names if _beyond_stdlib(theorem, located[n])]
    return Verification(
        True, "", tuple(names), time.perf_counter() - t0, script, assumes=tuple(assumes)
    )


@functools.cache
def stdlib_root() -> Path | None:
    """``$(coqc -where)/theories``: where Coq's standard library lives."""
    try:
        out = subprocess.run([coqc_path(), "-where"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(out.stdout.strip()).resolve() / "theories" if out.returncode == 0 else None


def _beyond_stdlib(theorem: Theorem, located: str) -> bool:
    """Whether an assumption found by ``Locate`` as ``located`` ("Constant
    PATH" or "Variable NAME") must be shown: an axiom outside Coq's standard
    library. One declared in the context counts as the standard library's
    only when the theorem's own file is part of it."""
    kind, _, path = located.partition(" ")
    if kind != "Constant":
        return False
    if path.startswith(VERIFY_MODULE + "."):
        root = stdlib_root()
        return root is None or not Path(theorem.file).resolve().is_relative_to(root)
    return not path.startswith("Coq.")


def _locate(
    theorem: Theorem, context: str, names: list[str], timeout: float
) -> dict[str, str] | None:
    """For each name of ``names`` that exists in the context alone, what
    ``Locate`` says it is ("Constant Full.Path" or "Variable x"); None if
    coqc did not finish."""
    markers = [new_marker() for _ in names]
    done = new_marker()
    probes = "\n".join(
        f"{marker_command(m)}\nCheck @{n}.\nLocate {n}."
        for m, n in zip(markers, names, strict=True)
    )
    code, output = compile_script(
        f"{context}\n{probes}\n{marker_command(done)}\n", theorem, timeout
    )
    if code is None:
        return None
    located: dict[str, str] = {}
    # coqc stops at the first failing Check: names after it are not located.
    for k, (marker, name) in enumerate(zip(markers, names, strict=True)):
        if marker not in output:
            break
        section = output.split(marker, 1)[1]
        following = markers[k + 1] if k + 1 < len(markers) else done
        if following not in section:
            break  # the Check failed: not in the context
        match = _LOCATED.search(section.split(following, 1)[0])
        located[name] = f"{match.group(1)} {match.group(2)}" if match else "Constant ?"
    return located
