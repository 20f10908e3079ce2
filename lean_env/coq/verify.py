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

import re
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from ..errors import ProverNotInstalled
from ..types import Theorem, Verification
from .tactic_check import RejectedTactic, check_tactic

_UNSAFE = re.compile(r"relies on|unsafe|type-in-type|positivity|guard", re.I)


def _coqc() -> str:
    path = shutil.which("coqc")
    if path is None:
        raise ProverNotInstalled("coqc not found: install Coq 8.16 (`apt-get install -y coq`)")
    return path


def _context(theorem: Theorem) -> str:
    text = Path(theorem.file).read_text(encoding="utf-8")
    assert theorem.offset is not None
    return text[: theorem.offset]


def _compile(script: str, theorem: Theorem, timeout: float) -> tuple[int | None, str]:
    with tempfile.TemporaryDirectory(prefix="dco-verify-") as tmp:
        path = Path(tmp) / "DcoVerify.v"
        path.write_text(script, encoding="utf-8")
        try:
            proc = subprocess.run(
                [_coqc(), "-q", *theorem.coq_args, str(path)],
                cwd=str(Path(theorem.file).parent),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                text=True,
                start_new_session=True,
            )
        except subprocess.TimeoutExpired:
            return None, ""
        return proc.returncode, proc.stdout


def _marker() -> str:
    return f"dco_marker_{uuid.uuid4().hex}"


def _marker_command(marker: str) -> str:
    # Prints the marker under coqc (which hides `Fail` messages) and needs no
    # library, so it works even under -noinit.
    return f"Check (fun {marker} : Prop => {marker})."


def _assumption_names(block: str) -> list[str]:
    """Names listed by ``Print Assumptions`` (axioms and section variables).
    Entries start at column 0; continuation lines of their types are indented
    or start with ':'."""
    names = []
    for line in block.splitlines():
        if not line or line[0].isspace() or line.startswith(":"):
            continue
        if line.rstrip(":") in ("Axioms", "Section Variables", "Opaque constants", "Transparent constants"):
            continue
        if line.startswith("Closed under the global context"):
            continue
        names.append(line.split(" : ", 1)[0].split()[0])
    return names


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
    start, end = _marker(), _marker()
    # The preamble runs before the statement but is not context: axioms are
    # looked up in ``context`` alone below, so none that only it brings counts.
    script = (
        f"{context}\n{theorem.preamble}\n{theorem.statement}\n"
        + "\n".join(sentences)
        + f"\nQed.\n{_marker_command(start)}\nPrint Assumptions {theorem.short_name}.\n"
        + f"{_marker_command(end)}\n"
    )
    code, output = _compile(script, theorem, timeout)
    if code is None:
        return fail(f"coqc did not finish within {timeout:.0f} s")
    if start not in output or end not in output:
        error = output.split("Error:", 1)[-1] if "Error:" in output else output[-300:]
        return fail(f"coqc rejected the proof: {' '.join(error.split())[:300]}")
    # Between the markers: the rest of the start marker's line, its type line,
    # the assumptions, then the start of the end marker's line.
    block = output.split(start, 1)[1].split(end, 1)[0]
    block = "\n".join(block.split("\n")[2:-1])
    if _UNSAFE.search(block):
        return fail(f"proof relies on unsafe features: {' '.join(block.split())[:200]}")
    names = _assumption_names(block)
    if theorem.short_name in names or theorem.name in names:
        return fail("the theorem is assumed, not proved (Admitted)")
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
    markers = [_marker() for _ in names]
    done = _marker()
    probes = "\n".join(
        f"{_marker_command(m)}\nCheck @{n}." for m, n in zip(markers, names, strict=True)
    )
    code, output = _compile(f"{context}\n{probes}\n{_marker_command(done)}\n", theorem, timeout)
    if code is None:
        return None
    if done in output:
        return []
    # coqc stops at the first failing Check: the last marker printed names it.
    printed = [n for m, n in zip(markers, names, strict=True) if m in output]
    return [printed[-1]] if printed else list(names)
