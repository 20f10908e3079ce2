"""One coqtop process per source file, reused across that file's theorems.

Replaying a file's prefix anew for every theorem is quadratic, so the session
keeps checkpoints (Coq state ids after loading ``text[:offset]``) along one
path through the file: moving forward loads only the text in between, moving
back is a ``BackTo``. A restart (after a timeout or crash) bumps
``generation``: every state id from an older generation is void.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from ..errors import EnvironmentStartError, UserError
from .coqtop import CoqTimeout, Coqtop, Response
from .tempdirs import private_tempdir

# Loading context is trusted text from the user's file; it may legitimately take
# long (a big file's prefix), so its limit is generous and separate from tactics.
CONTEXT_TIMEOUT = 600.0


class CoqSession:
    def __init__(self, file: str | Path, coq_args: tuple[str, ...] = ()) -> None:
        self.file = Path(file).resolve()
        self.coq_args = tuple(coq_args)
        try:
            self.text = self.file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"cannot read {self.file}: {exc}") from None
        self._tmp = private_tempdir("dco-coq-")
        self._chunks = 0
        self.coqtop: Coqtop | None = None
        self.generation = 0
        self.restarts = 0
        # Checkpoints along one path through the file: (offset, state id), ascending.
        self._checkpoints: list[tuple[int, int]] = []

    # -- process ---------------------------------------------------------------
    def start(self) -> None:
        if self.coqtop is not None:
            self.coqtop.kill()
        self.coqtop = Coqtop(self.coq_args, cwd=str(self.file.parent))
        response = self.coqtop.start()
        self.generation += 1
        self._checkpoints = [(0, response.state_id)]

    def restart(self) -> None:
        self.restarts += 1
        self.start()

    @property
    def top(self) -> Coqtop:
        if self.coqtop is None or not self.coqtop.alive:
            self.restart() if self.coqtop is not None else self.start()
        assert self.coqtop is not None
        return self.coqtop

    def close(self) -> None:
        if self.coqtop is not None:
            self.coqtop.close()
            self.coqtop = None
        self._tmp.cleanup()

    # -- moving through the file ---------------------------------------------
    def goto(self, offset: int) -> int:
        """Put coqtop in the context ``text[:offset]`` (no proof open); return
        the state id there."""
        top = self.top
        while self._checkpoints and self._checkpoints[-1][0] > offset:
            self._checkpoints.pop()
        base_offset, base_sid = self._checkpoints[-1]
        if top.state_id != base_sid:
            top.back_to(base_sid, timeout=CONTEXT_TIMEOUT)
        if base_offset == offset:
            return base_sid
        response = self._load(self.text[base_offset:offset], base_offset)
        self._checkpoints.append((offset, response.state_id))
        return response.state_id

    def _load(self, chunk: str, chunk_offset: int) -> Response:
        self._chunks += 1
        path = Path(self._tmp.name) / f"chunk{self._chunks}.v"
        path.write_text(chunk, encoding="utf-8")
        try:
            response = self.top.send(f'Load "{path}".', timeout=CONTEXT_TIMEOUT)
        except CoqTimeout:
            raise EnvironmentStartError(
                f"{self.file}: loading the context took over {CONTEXT_TIMEOUT:.0f} s"
            ) from None
        finally:
            path.unlink(missing_ok=True)
        if response.error:
            line = self.text.count("\n", 0, chunk_offset) + 1
            raise EnvironmentStartError(
                f"{self.file}: context after line {line} failed in Coq: "
                f"{' '.join(response.error.split())[:300]}"
            )
        return response

    def enter(self, offset: int, statement: str, timeout: float, preamble: str = "") -> Response:
        """Go to the context of the declaration at ``offset``, run ``preamble``
        there (not checkpointed: the next ``goto`` goes back before it) and
        state the theorem."""
        self.goto(offset)
        if preamble.strip():
            try:
                self._load(preamble, offset)
            except EnvironmentStartError as exc:
                raise EnvironmentStartError(f"the preamble {preamble!r} failed: {exc}") from None
        try:
            response = self.top.send(statement, timeout=timeout)
        except CoqTimeout:
            raise EnvironmentStartError(f"stating the theorem took over {timeout:.0f} s") from None
        if response.error:
            raise EnvironmentStartError(
                f"Coq rejected the statement: {' '.join(response.error.split())[:300]}"
            )
        if not response.in_proof:
            with contextlib.suppress(Exception):
                self.top.back_to(self._checkpoints[-1][1])
            raise EnvironmentStartError("the statement did not open a proof")
        return response
