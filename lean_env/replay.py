"""What the Coq and the LeanDojo backends share: a node table and replay.

A proof assistant process keeps its proof states only while it lives, and
both backends kill theirs on purpose (a tactic past its timeout, a crash).
So every state handed out remembers its parent and the tactic that made it;
to run a tactic on any earlier state, :class:`ReplayingEnvironment` walks up
to the deepest ancestor still valid in the current process (its *live*
ancestor), restates the theorem when none is (a new process), and replays the
rest of the path. A crash restarts the process and retries the step a few
times before giving up with :class:`~lean_env.errors.EnvironmentCrashed`.

A backend says what "live" means, how to restate the theorem, how to send one
tactic and how to read the answer; the bookkeeping lives here once.
"""

from __future__ import annotations

import time
from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .environment import Environment
from .errors import EnvironmentCrashed, UnknownState
from .types import ProofState, TacticError, TacticResult, TacticTimeout

T = TypeVar("T")  # a checked tactic, as the backend sends it
H = TypeVar("H")  # the backend's handle on a state (valid in one process only)


@dataclass
class Node(Generic[T, H]):
    """A state handed out: where it came from, and its handle in the process
    of ``generation`` (void in any other)."""

    state: ProofState
    parent: int | None
    tactic: T | None
    handle: H
    generation: int


N = TypeVar("N", bound=Node[Any, Any])


class ReplayingEnvironment(Environment, Generic[N, T]):
    """An opened theorem whose states survive the death of the process.

    Subclasses set the class attributes and implement the hooks; their
    constructor calls ``super().__init__()``, starts the process and adds the
    root with :meth:`_add_root`.
    """

    # Restart-and-retry rounds after an error in ``recoverable`` before the
    # error is raised (through :meth:`_gave_up`).
    max_recoveries: int = 1
    recoverable: tuple[type[BaseException], ...] = (EnvironmentCrashed,)
    # Errors that mean "this tactic ran past its time limit".
    timeouts: tuple[type[BaseException], ...] = ()

    def __init__(self) -> None:
        self._nodes: dict[int, N] = {}
        self._next_id = 0
        self.tactic_calls = 0
        self.tactic_seconds = 0.0
        self.start_seconds = 0.0

    # -- the protocol ------------------------------------------------------------
    @property
    def initial_state(self) -> ProofState:
        return self._nodes[0].state

    def run_tactic(self, state: ProofState, tactic: str) -> TacticResult:
        node = self._nodes.get(state.id)
        if node is None or node.state != state:
            raise UnknownState(f"state {state.id} does not belong to {self.theorem.name}")
        checked = self._check(tactic, state)
        if isinstance(checked, TacticError):
            return checked
        t0 = time.perf_counter()
        try:
            return self._apply(node, checked)
        finally:
            self.tactic_calls += 1
            self.tactic_seconds += time.perf_counter() - t0

    # -- the node table ----------------------------------------------------------
    def _new_id(self) -> int:
        new_id = self._next_id
        self._next_id += 1
        return new_id

    def _add(self, node: N) -> N:
        self._nodes[node.state.id] = node
        return node

    def _add_root(self, node: N) -> N:
        assert node.state.id == 0 and not self._nodes
        self._next_id = 1
        return self._add(node)

    # -- stepping ------------------------------------------------------------------
    def _apply(self, node: N, tactic: T) -> TacticResult:
        for attempt in range(self.max_recoveries + 1):
            try:
                self._restore(node)
                outcome = self._send(node, tactic)
            except self.timeouts:
                self._after_timeout()
                return TacticTimeout(self.tactic_timeout)
            except self.recoverable as exc:
                if attempt == self.max_recoveries:
                    final = self._gave_up(tactic, attempt + 1, exc)
                    if final is exc:
                        raise
                    raise final from exc
                self._before_retry()
                continue
            return self._result(node, tactic, outcome)
        raise AssertionError("unreachable")

    def _restore(self, node: N) -> None:
        """Make ``node`` usable in the current process: resume at its deepest
        live ancestor (or restate the theorem when there is none) and replay
        the tactics from there."""
        path: list[N] = []
        current: N | None = node
        while current is not None and not self._is_live(current):
            path.append(current)
            current = self._nodes[current.parent] if current.parent is not None else None
        if current is None:
            root = path.pop()
            root.handle = self._restate_root(root)
            root.generation = self._generation()
        else:
            self._resume_at(current)
        for step in reversed(path):
            assert step.parent is not None
            step.handle = self._replay(self._nodes[step.parent], step)
            step.generation = self._generation()

    # -- what a backend provides ---------------------------------------------------
    @abstractmethod
    def _check(self, tactic: str, state: ProofState) -> T | TacticError:
        """The tactic as it will be sent at ``state``, or the error that
        refuses it."""

    @abstractmethod
    def _generation(self) -> int:
        """The number of the current process: handles of another are void."""

    @abstractmethod
    def _is_live(self, node: N) -> bool:
        """Whether ``node``'s handle is valid in the current process (starting
        one if none runs)."""

    @abstractmethod
    def _restate_root(self, root: N) -> Any:
        """State the theorem again; the root's new handle. Raises
        :class:`EnvironmentCrashed` if that fails or shows a different goal."""

    def _resume_at(self, node: N) -> None:
        """Make a live ``node`` the process's current state (for a backend
        whose process has one)."""

    @abstractmethod
    def _replay(self, parent: N, step: N) -> Any:
        """Run ``step.tactic`` again on ``parent`` (live and current); the new
        handle, or :class:`EnvironmentCrashed` if it does not reproduce ``step``."""

    @abstractmethod
    def _send(self, node: N, tactic: T) -> Any:
        """Run ``tactic`` on ``node`` (live and current): the raw answer."""

    @abstractmethod
    def _result(self, node: N, tactic: T, outcome: Any) -> TacticResult:
        """The answer as a result, adding a node for a new state."""

    def _after_timeout(self) -> None:
        """Called after a timeout, before :class:`TacticTimeout` is returned."""

    def _before_retry(self) -> None:
        """Called after a recoverable error, before the step is retried."""

    def _gave_up(self, tactic: T, attempts: int, error: BaseException) -> BaseException:
        """The error to raise when the step failed ``attempts`` times."""
        return error
