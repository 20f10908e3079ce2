"""Temporary directories that do not outlive their process for long.

A directory is removed when its owner closes it; a process killed with
``kill -9`` cannot do that, so every directory's name carries its owner's
process id, and the next process to make one removes those whose owner is
gone (``dco-coq-<pid>-<random>``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

_swept: set[str] = set()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale(prefix: str) -> int:
    """Remove this user's ``<prefix><pid>-*`` directories whose process is
    dead; returns how many were removed."""
    removed = 0
    for path in Path(tempfile.gettempdir()).glob(f"{prefix}*-*"):
        pid_text = path.name[len(prefix) :].split("-", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid() or _alive(int(pid_text)):
            continue
        try:
            if not path.is_dir() or path.is_symlink() or path.stat().st_uid != os.getuid():
                continue
        except OSError:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed += not path.exists()
    return removed


def private_tempdir(prefix: str) -> tempfile.TemporaryDirectory[str]:
    """A new temporary directory named after this process (stale ones of
    dead processes with the same prefix are removed first, once per process)."""
    if prefix not in _swept:
        _swept.add(prefix)
        remove_stale(prefix)
    return tempfile.TemporaryDirectory(prefix=f"{prefix}{os.getpid()}-")
