"""What decides whether a proof of a theorem checks, as a digest: the key of
every cached or resumed answer.

For Coq: the text before the theorem, its statement, the load-path flags, the
files those load paths (and the theorem's own directory) hold, and the
version of Coq. Loaded files are fingerprinted by name, size and mtime, not
read: a load path may be the whole standard library. Editing anything a
proof depends on changes the digest, so an earlier answer is never taken for
the edited file's. For Lean: the repository, commit and file (the commit
pins the rest).
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .types import Backend, Theorem

_LOADED_SUFFIXES = (".v", ".vo", ".vos", ".vok")
_PATH_FLAGS = {"-Q": 2, "-R": 2, "-I": 1}


def _sha(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


@functools.cache
def coq_version() -> str:
    """The first line of ``coqc --version`` ("" without coqc)."""
    coqc = shutil.which("coqc")
    if coqc is None:
        return ""
    try:
        out = subprocess.run([coqc, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip().splitlines()[0] if out.stdout.strip() else ""


def load_dirs(coq_args: Iterable[str]) -> list[str]:
    """The directories named by -Q/-R/-I flags."""
    args, dirs, i = list(coq_args), [], 0
    while i < len(args):
        width = _PATH_FLAGS.get(args[i], 0)
        if width and i + 1 < len(args):
            dirs.append(args[i + 1])
        i += width + 1
    return dirs


def _tree_files(directory: str, recursive: bool) -> list[list[Any]]:
    root = Path(directory)
    entries = []
    files = root.rglob("*") if recursive else root.glob("*")
    for path in files:
        if path.suffix in _LOADED_SUFFIXES:
            try:
                st = path.stat()
            except OSError:
                continue
            entries.append([str(path), st.st_size, st.st_mtime_ns])
    return sorted(entries)


def loaded_files_digest(
    file: str, coq_args: tuple[str, ...], memo: dict[tuple[str, bool], list] | None = None
) -> str:
    """Name, size and mtime of every Coq source and object file under the
    load paths and beside ``file`` (``file`` itself left out: its text before
    the theorem is keyed exactly, and what follows is out of scope). ``memo``
    shares directory walks between the theorems of one call (never across
    calls: files change)."""
    memo = {} if memo is None else memo
    own = str(Path(file).resolve())

    def walk(directory: Path, recursive: bool) -> list[list[Any]]:
        key = (str(directory.resolve()), recursive)
        if key not in memo:
            memo[key] = _tree_files(key[0], recursive)
        return [entry for entry in memo[key] if entry[0] != own]

    parent = Path(file).parent
    parts = [[d, walk(parent / d, True)] for d in load_dirs(coq_args)]
    parts.append([".", walk(parent, False)])
    return _sha(parts)


def context_key(
    theorem: Theorem, text: str | None = None, memo: dict[tuple[str, bool], list] | None = None
) -> dict[str, Any]:
    """Everything that decides whether a proof of ``theorem`` checks.
    ``text``: the file's text, when the caller has read it already."""
    if theorem.backend is not Backend.COQ:
        return {
            "backend": theorem.backend.value,
            "repo": theorem.repo,
            "commit": theorem.commit,
            "file": theorem.file,
        }
    if text is None:
        try:
            text = Path(theorem.file).read_text(encoding="utf-8", errors="surrogateescape")
        except OSError:
            text = ""  # cannot be read: the search fails to start, keyed as such
    return {
        "context": hashlib.sha256(
            text[: theorem.offset or 0].encode("utf-8", errors="surrogateescape")
        ).hexdigest(),
        "statement": theorem.statement,
        "coq_args": list(theorem.coq_args),
        "loads": loaded_files_digest(theorem.file, tuple(theorem.coq_args), memo),
        "coq": coq_version(),
    }


def contexts_digest(theorems: Iterable[Theorem]) -> str:
    """One digest over the context keys of many theorems (each file read once)."""
    texts: dict[str, str] = {}
    memo: dict[tuple[str, bool], list] = {}
    keys = []
    for theorem in theorems:
        text = None
        if theorem.backend is Backend.COQ and theorem.file:
            if theorem.file not in texts:
                try:
                    texts[theorem.file] = Path(theorem.file).read_text(
                        encoding="utf-8", errors="surrogateescape"
                    )
                except OSError:
                    texts[theorem.file] = ""
            text = texts[theorem.file]
        keys.append([theorem.name, context_key(theorem, text, memo)])
    return _sha(sorted(keys, key=lambda k: k[0]))
