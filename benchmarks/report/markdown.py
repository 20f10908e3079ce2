"""Small Markdown formatting helpers shared by the report's sections."""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from pathlib import Path

DASH = "–"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> str:
    """A pipe table; columns whose index is in ``right`` are right-aligned."""
    align = ["---:" if i in right else "---" for i in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def pct(x: float | None, digits: int = 1) -> str:
    return DASH if x is None else f"{100 * x:.{digits}f}%"


def points(x: float | None, digits: int = 2) -> str:
    """A difference of two fractions, in percentage points."""
    return DASH if x is None else f"{100 * x:+.{digits}f} pt"


def num(x: float | None, digits: int = 3) -> str:
    return DASH if x is None else f"{x:.{digits}f}"


def command(cmd: Sequence[str] | str | None) -> str:
    if not cmd:
        return "(not stored)"
    text = cmd if isinstance(cmd, str) else shlex.join(str(c) for c in cmd)
    return f"`{text}`"


def relpath(path: Path, base: Path) -> str:
    """``path`` relative to the report's directory (a working Markdown link)."""
    return Path(os.path.relpath(path.resolve(), base.resolve())).as_posix()


def link(path: Path, base: Path) -> str:
    rel = relpath(path, base)
    return f"[{rel}]({rel})"


def not_yet_run(what: str, how: str) -> str:
    return f"*Not yet run.* {what} Produce it with {how}."
