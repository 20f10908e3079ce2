"""Small file helpers shared by every layer above ``lean_env``: writes that a
reader (or a crash) never sees half done, and UTC timestamps.

An atomic write goes to a temporary file beside the target and is renamed
over it (a rename within one directory is atomic on POSIX)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


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
