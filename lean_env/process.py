"""Process hygiene for everything that runs proof assistants."""

from __future__ import annotations

import contextlib
import ctypes
import signal


def die_with_parent() -> None:
    """Ask Linux to SIGKILL the calling process when its parent dies (even by
    kill -9), so that no orphan keeps running: call it in a child before exec
    (``preexec_fn``) or first thing in a worker process. A no-op elsewhere."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
