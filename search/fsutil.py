"""Small file helpers shared by every layer above ``lean_env``: writes that a
reader (or a crash) never sees half done, UTC timestamps, and paths as stored
results show them (relative, so that a result does not name the machine's
directories).

An atomic write goes to a temporary file beside the target and is renamed
over it (a rename within one directory is atomic on POSIX)."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# The source checkout this code runs from (None when installed as a package).
_CHECKOUT = Path(__file__).resolve().parents[1]
REPO_ROOT: Path | None = _CHECKOUT if (_CHECKOUT / "pyproject.toml").is_file() else None


def now() -> str:
    """The current UTC time, to the second, in ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` (same suffix, for writers that go by
    it) to write to; renamed over ``path`` if the block succeeds, removed if
    it fails."""
    tmp = path.with_name(f"{path.stem}.tmp{path.suffix}")
    try:
        yield tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)


def write_text_atomic(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(path: Path, payload: Any, *, indent: int | None = 2) -> None:
    write_text_atomic(path, json.dumps(payload, indent=indent) + "\n")


def write_jsonl_atomic(
    path: Path, rows: Iterable[dict[str, Any]], *, ensure_ascii: bool = False
) -> None:
    """One JSON object per line."""
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=ensure_ascii) + "\n")


def stored_path(path: str | Path) -> str:
    """``path`` as a stored result shows it: relative to the repository if
    it lies inside it, else to the current directory if it lies inside that,
    else unchanged."""
    path = Path(path)
    if not path.is_absolute():
        return path.as_posix()
    resolved = path.resolve()
    for base in (REPO_ROOT, Path.cwd().resolve()):
        if base is not None and resolved.is_relative_to(base):
            return resolved.relative_to(base).as_posix() or "."
    return str(path)


def relative_paths(payload: Any) -> Any:
    """A copy of a JSON-like payload with every absolute path string made
    :func:`stored_path` relative (other values unchanged)."""
    if isinstance(payload, dict):
        return {k: relative_paths(v) for k, v in payload.items()}
    if isinstance(payload, list | tuple):
        return [relative_paths(v) for v in payload]
    if isinstance(payload, str) and "\n" not in payload:
        if payload.startswith(os.sep):
            return stored_path(payload)
        kind, sep, rest = payload.partition(":")  # a benchmark spec, KIND:PATH
        if sep and rest.startswith(os.sep) and kind.replace("-", "").isalnum():
            return f"{kind}:{stored_path(rest)}"
    return payload
