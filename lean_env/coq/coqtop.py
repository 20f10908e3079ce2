"""A line protocol over one ``coqtop -quiet -emacs`` process.

``-emacs`` wraps every prompt in ``<prompt>NAME < SID |PROOFS| DEPTH < </prompt>``;
everything printed between two prompts is the answer to the command in
between. Coq prints goals on stdout and prompts and errors on stderr, so both
are merged into one pipe. ``SID`` is Coq's state number after the command,
which ``BackTo SID.`` returns to (numbers are not reused after a ``BackTo``).

The process runs in its own process group so that a runaway tactic can be
killed together with anything it spawned.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import shutil
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass

from ..errors import EnvironmentCrashed, EnvironmentStartError, ProverNotInstalled
from ..process import die_with_parent

_PROMPT = re.compile(r"<prompt>(\S+) < (\d+) \|([^|]*)\| (\d+) < </prompt>")
_INFOMSG = re.compile(r"<infomsg>(.*?)</infomsg>", re.S)
_WARNING = re.compile(r"<warning>(.*?)</warning>", re.S)

STARTUP_TIMEOUT = 60.0


class CoqTimeout(EnvironmentCrashed):
    """No prompt came back before the deadline; the process has been killed.
    A caller that expects it (a tactic's time limit, loading a context) turns
    it into its own answer; anywhere else the process is gone as in a crash,
    and the search records the theorem as crashed instead of stopping the
    whole run (one worker's stalled ``Show.`` or ``BackTo`` once ended a
    244-theorem evaluation with a traceback)."""


class CoqInterrupted(Exception):
    """The command ran past its deadline and was interrupted; coqtop is alive
    but its current state is unspecified (``BackTo`` the one you need)."""


class _Deadline(Exception):
    pass


@dataclass(frozen=True)
class Response:
    """coqtop's answer to one command.

    ``goals`` is what Coq printed outside message tags (the goal display, or
    ``No more goals.``); ``messages`` the contents of ``<infomsg>`` tags, which
    a tactic such as ``idtac "No more goals."`` controls and which therefore
    never decides anything; ``error`` the error text if the command failed.
    """

    state_id: int
    in_proof: bool
    goals: str
    messages: str
    error: str | None
    raw: str


def coqtop_path() -> str:
    path = shutil.which("coqtop")
    if path is None:
        raise ProverNotInstalled(
            "coqtop not found: install Coq 8.16 (`apt-get install -y --no-install-recommends coq`)"
            " or run the README's setup command"
        )
    return path


def _parse(body: str, state_id: int, in_proof: bool) -> Response:
    messages = "\n".join(m.strip() for m in _INFOMSG.findall(body))
    rest = _WARNING.sub("", _INFOMSG.sub("", body))
    error = None
    # Errors look like "Toplevel input, characters a-b:\n> ...\n> ^^^\nError: ...".
    match = re.search(r"^(?:Toplevel input, characters \d+-\d+:\n(?:>.*\n)*)?Error:", rest, re.M)
    if match:
        error = rest[match.start() :].strip()
        error = re.sub(r"^Toplevel input.*\n(?:>.*\n)*", "", error).strip()
        error = re.sub(r"^Error:\s*", "", error)
        rest = rest[: match.start()]
    return Response(state_id, in_proof, rest.strip("\n"), messages, error, body)


class Coqtop:
    """One coqtop process. Not thread-safe; one command at a time."""

    def __init__(self, args: tuple[str, ...] = (), cwd: str | None = None) -> None:
        self.args = args
        self.cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None
        self._buffer = b""
        self.state_id = 0
        # Coq's states along the current timeline, oldest first. `BackTo` may
        # only target one of these: a state on a branch abandoned by an
        # earlier BackTo is gone ("edit_at: Expired" anomaly).
        self._branch: list[int] = []
        self._on_branch: set[int] = set()
        self.commands_sent = 0

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> Response:
        cmd = [coqtop_path(), "-quiet", "-emacs", *self.args]
        try:
            self.proc = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                cwd=self.cwd,
                start_new_session=True,  # own process group: killpg takes children too
                preexec_fn=die_with_parent,
            )
        except OSError as exc:
            raise EnvironmentStartError(f"cannot start coqtop: {exc}") from exc
        self._buffer = b""
        try:
            response = self._read_response(time.monotonic() + STARTUP_TIMEOUT)
        except _Deadline:
            self.kill()
            raise EnvironmentStartError(
                f"coqtop did not start within {STARTUP_TIMEOUT:.0f} s"
            ) from None
        except EnvironmentCrashed as exc:
            raise EnvironmentStartError(
                f"coqtop {' '.join(self.args)} did not start: {exc}"
            ) from exc
        if response.error:
            self.kill()
            raise EnvironmentStartError(f"coqtop failed to start: {response.error}")
        return response

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass
        self.proc = None
        self._branch, self._on_branch = [], set()

    def close(self) -> None:
        if self.alive and self.proc and self.proc.stdin:
            try:
                self.proc.stdin.write(b"Quit.\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()

    # -- protocol ------------------------------------------------------------
    def send(
        self, command: str, timeout: float | None = None, kill_grace: float | None = None
    ) -> Response:
        """Send one sentence (with its period) and wait for the next prompt.

        Past ``timeout`` seconds: without ``kill_grace`` the process group is
        killed and :class:`CoqTimeout` raised (the caller restarts). With it,
        coqtop is first interrupted (SIGINT, as Ctrl-C: the process survives),
        resynchronised, and :class:`CoqInterrupted` raised; only if that takes
        longer than ``kill_grace`` is the process killed. Interrupting costs
        nothing while the tactic runs, unlike Coq's ``Timeout`` command
        (~3 ms a tactic here).
        """
        self._write(command.rstrip() + "\n")
        self.commands_sent += 1
        deadline = time.monotonic() + timeout if timeout is not None else None
        try:
            return self._read_response(deadline)
        except _Deadline:
            if kill_grace is None:
                self.kill()
                raise CoqTimeout("no answer before the deadline") from None
        self._interrupt(time.monotonic() + kill_grace)
        raise CoqInterrupted("interrupted after the deadline")

    def _write(self, text: str) -> None:
        if not self.alive or self.proc is None or self.proc.stdin is None:
            raise EnvironmentCrashed("coqtop is not running")
        try:
            self.proc.stdin.write(text.encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            self.kill()
            raise EnvironmentCrashed(f"coqtop died: {exc}") from exc

    def _interrupt(self, deadline: float) -> None:
        """SIGINT the running command, then send a marker query and discard
        every answer up to the marker's: the interrupted command's error, or
        its late result, and a stray "User interrupt" if the signal arrived
        after the command had finished. The caller must ``BackTo`` the state it
        wants, since a late result may have moved coqtop on."""
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, signal.SIGINT)
        marker = f"dco_sync_{uuid.uuid4().hex}"
        self._write(f"Check (fun {marker} : Prop => {marker}).\n")
        try:
            while marker not in self._read_response(deadline).raw:
                pass
        except _Deadline:
            self.kill()
            raise CoqTimeout("coqtop did not answer an interrupt") from None

    def _advance(self, state_id: int) -> None:
        """Record the state coqtop reports after a command: new states get
        numbers above every earlier one; a lower number is a BackTo."""
        if state_id in self._on_branch:
            while self._branch[-1] != state_id:
                self._on_branch.discard(self._branch.pop())
        elif not self._branch or state_id > self._branch[-1]:
            self._branch.append(state_id)
            self._on_branch.add(state_id)
        else:  # not expected from Coq; start the timeline afresh
            self._branch, self._on_branch = [state_id], {state_id}
        self.state_id = state_id

    def on_branch(self, state_id: int) -> bool:
        """Whether ``BackTo state_id`` is possible now."""
        return state_id in self._on_branch

    def back_to(self, state_id: int, timeout: float | None = None) -> Response:
        response = self.send(f"BackTo {state_id}.", timeout)
        if response.error or response.state_id != state_id:
            raise EnvironmentCrashed(f"BackTo {state_id} failed: {response.error or response.raw}")
        return response

    def _read_response(self, deadline: float | None) -> Response:
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while True:
            text = self._buffer.decode("utf-8", errors="replace")
            match = _PROMPT.search(text)
            if match:
                consumed = len(text[: match.end()].encode("utf-8", errors="replace"))
                self._buffer = self._buffer[consumed:]
                self._advance(int(match.group(2)))
                in_proof = bool(match.group(3))
                return _parse(text[: match.start()], self.state_id, in_proof)
            wait = None if deadline is None else deadline - time.monotonic()
            if wait is not None and wait <= 0:
                raise _Deadline
            ready, _, _ = select.select([fd], [], [], wait)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                tail = self._buffer.decode("utf-8", errors="replace")[-500:]
                self.kill()
                raise EnvironmentCrashed(f"coqtop exited unexpectedly: {tail.strip()}")
            self._buffer += chunk
