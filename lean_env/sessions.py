"""Reuse one proof-assistant session per source file across its theorems.

Opening a Coq theorem loads its file's text up to the theorem; doing that
anew for every theorem is quadratic in the file's length. :class:`FileSessions`
is an environment factory (called like :func:`~lean_env.environment.open_environment`)
that keeps the last file's :class:`~lean_env.coq.session.CoqSession` open and
opens each Coq theorem of that file in it, so theorems taken in (file, offset)
order move forward through each file once. Other backends go to
``open_environment``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .environment import Environment, open_environment
from .types import Backend, Theorem

if TYPE_CHECKING:
    from .coq.session import CoqSession


class FileSessions:
    def __init__(self) -> None:
        self._key: tuple[Path, tuple[str, ...]] | None = None
        self._session: CoqSession | None = None
        self._closed_restarts = 0

    @property
    def restarts(self) -> int:
        """Proof-assistant restarts (timeouts, crashes) in all sessions so far."""
        return self._closed_restarts + (self._session.restarts if self._session else 0)

    def __call__(self, theorem: Theorem, *, tactic_timeout: float) -> Environment:
        if theorem.backend is not Backend.COQ:
            return open_environment(theorem, tactic_timeout=tactic_timeout)
        from .coq.environment import CoqEnvironment
        from .coq.session import CoqSession

        key = (Path(theorem.file).resolve(), tuple(theorem.coq_args))
        if key != self._key or self._session is None:
            self.close()
            self._session = CoqSession(theorem.file, theorem.coq_args)
            self._key = key
        return CoqEnvironment(theorem, tactic_timeout=tactic_timeout, session=self._session)

    def close(self) -> None:
        if self._session is not None:
            self._closed_restarts += self._session.restarts
            self._session.close()
        self._session, self._key = None, None
