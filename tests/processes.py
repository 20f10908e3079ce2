"""Killing a command under test the way a user's ``kill -9`` would, without
leaving its proof assistants behind."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path


def children(pid: int) -> list[int]:
    """The direct children of ``pid`` (from /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                out.append(int(stat.parent.name))
    return out


def kill9(proc: subprocess.Popen) -> None:
    """SIGKILL ``proc``, then the process groups of its direct children:
    coqtop runs in its own process group, so the SIGKILL of its parent
    leaves it running until its current tactic ends."""
    kids = children(proc.pid)
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    for pid in kids:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
