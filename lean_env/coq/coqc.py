"""Compiling a script with a fresh ``coqc`` and reading what it printed:
shared by the single re-check (:mod:`lean_env.coq.verify`) and the per-file
batch re-check (:mod:`lean_env.coq.batch_verify`).

Markers are unique names printed by ``Check`` commands placed in the
script; the text between two markers is what coqc printed in between, so the
output of ``Print Assumptions`` can be cut out of the whole run's output.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from pathlib import Path

from ..errors import ProverNotInstalled
from ..types import Theorem
from .tempdirs import private_tempdir

# The module name of the re-check's file: what the context's own names live in.
VERIFY_MODULE = "DcoVerify"
# What ``Print Assumptions`` says of a proof that uses an unsafe feature.
UNSAFE = re.compile(r"relies on|unsafe|type-in-type|positivity|guard", re.I)


def coqc_path() -> str:
    path = shutil.which("coqc")
    if path is None:
        raise ProverNotInstalled("coqc not found: install Coq 8.16 (`apt-get install -y coq`)")
    return path


def compile_script(script: str, theorem: Theorem, timeout: float) -> tuple[int | None, str]:
    """coqc's exit code (None if it ran out of time) and output for
    ``script``, compiled with the theorem's arguments in its file's directory."""
    with private_tempdir("dco-verify-") as tmp:
        path = Path(tmp) / f"{VERIFY_MODULE}.v"
        path.write_text(script, encoding="utf-8")
        try:
            proc = subprocess.run(
                [coqc_path(), "-q", *theorem.coq_args, str(path)],
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


def new_marker() -> str:
    return f"dco_marker_{uuid.uuid4().hex}"


def marker_command(marker: str) -> str:
    # Prints the marker under coqc (which hides `Fail` messages) and needs no
    # library, so it works even under -noinit.
    return f"Check (fun {marker} : Prop => {marker})."


def between_markers(output: str, start: str, end: str) -> str:
    """What was printed between the ``start`` and ``end`` marker commands:
    the lines after the start marker's line and its type line, up to the
    start of the end marker's line."""
    block = output.split(start, 1)[1].split(end, 1)[0]
    return "\n".join(block.split("\n")[2:-1])


def assumption_names(block: str) -> list[str]:
    """Names listed by ``Print Assumptions`` (axioms and section variables).
    Entries start at column 0; continuation lines of their types are indented
    or start with ':'."""
    names = []
    for line in block.splitlines():
        if not line or line[0].isspace() or line.startswith(":"):
            continue
        if line.rstrip(":") in (
            "Axioms",
            "Section Variables",
            "Opaque constants",
            "Transparent constants",
        ):
            continue
        if line.startswith("Closed under the global context"):
            continue
        names.append(line.split(" : ", 1)[0].split()[0])
    return names


def judge_assumptions(theorem: Theorem, block: str) -> tuple[str | None, list[str]]:
    """Read a proof's ``Print Assumptions`` block: why it fails (an unsafe
    feature, or the theorem itself assumed: ``Admitted``), or None; and the
    names it lists."""
    if UNSAFE.search(block):
        return f"proof relies on unsafe features: {' '.join(block.split())[:200]}", []
    names = assumption_names(block)
    if theorem.short_name in names or theorem.name in names:
        return "the theorem is assumed, not proved (Admitted)", names
    return None, names


def error_text(output: str) -> str:
    """coqc's last error, on one line (the tail of its output if none)."""
    error = output.rsplit("Error:", 1)[-1] if "Error:" in output else output[-300:]
    return " ".join(error.split())[:300]
