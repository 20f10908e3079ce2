"""The Coq backend of :class:`~lean_env.environment.Environment`.

Every proof state we hand out remembers its parent and the tactic that made
it, so any state can be restored after coqtop is restarted (a timeout or a
crash kills the process group): the deepest ancestor still valid in the
current process is found and the rest of the path is replayed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..environment import DEFAULT_TACTIC_TIMEOUT, Environment
from ..errors import EnvironmentCrashed, EnvironmentStartError, UnknownState, UserError
from ..types import (
    Backend,
    ProofFinished,
    ProofState,
    TacticError,
    TacticResult,
    TacticTimeout,
    Theorem,
    Verification,
)
from .coqtop import CoqInterrupted, CoqTimeout, Response
from .sentences import Sentence
from .session import CoqSession
from .tactic_check import RejectedTactic, check_tactic, focus_first
from .verify import verify_proof

# A tactic past its timeout is interrupted (SIGINT); the hard kill of the
# process group is the backstop for what does not stop within this grace.
KILL_GRACE = 5.0
MAX_RECOVERIES = 2

_ID = re.compile(r" \(ID \d+\)")
_COUNT = re.compile(r"^(\d+) goals?")


@dataclass
class _Node:
    state: ProofState
    parent: int | None
    tactic: Sentence | None
    sid: int
    generation: int
    # Open `{` blocks on the path: Coq prints "No more goals." inside a block
    # whose goals are solved, but Qed needs every block closed.
    braces: int = 0


def normalise_goals(text: str) -> str:
    """The goal display without Coq's internal goal ids, which differ between
    runs and would make equal states look different."""
    return _ID.sub("", text).strip("\n")


def _count_goals(goals: str) -> int:
    match = _COUNT.match(goals)
    return int(match.group(1)) if match else 0


class CoqEnvironment(Environment):
    def __init__(
        self,
        theorem: Theorem,
        *,
        tactic_timeout: float = DEFAULT_TACTIC_TIMEOUT,
        session: CoqSession | None = None,
        verify_timeout: float = 600.0,
    ) -> None:
        if theorem.backend is not Backend.COQ:
            raise UserError(f"{theorem.name} is not a Coq theorem")
        if theorem.offset is None:
            raise UserError(f"{theorem.name}: no source offset, cannot recreate its context")
        self.theorem = theorem
        self.tactic_timeout = tactic_timeout
        self.verify_timeout = verify_timeout
        self._own_session = session is None
        self.session = session or CoqSession(theorem.file, theorem.coq_args)
        if self.session.file != Path(theorem.file).resolve():
            raise UserError(f"session is for {self.session.file}, theorem is in {theorem.file}")
        self._nodes: dict[int, _Node] = {}
        self.tactic_calls = 0
        self.tactic_seconds = 0.0
        self.start_seconds = 0.0
        t0 = time.perf_counter()
        try:
            response = self._enter()
        except BaseException:
            self.close()
            raise
        self.start_seconds = time.perf_counter() - t0
        goals = normalise_goals(response.goals)
        root = ProofState(0, goals, _count_goals(goals))
        self._nodes[0] = _Node(root, None, None, response.state_id, self.session.generation)

    # -- protocol --------------------------------------------------------------
    @property
    def initial_state(self) -> ProofState:
        return self._nodes[0].state

    def run_tactic(self, state: ProofState, tactic: str) -> TacticResult:
        node = self._nodes.get(state.id)
        if node is None or node.state != state:
            raise UnknownState(f"state {state.id} does not belong to {self.theorem.name}")
        try:
            sentence = focus_first(check_tactic(tactic, self.theorem.name), state.num_goals)
        except RejectedTactic as exc:
            return TacticError(f"rejected: {exc}")
        t0 = time.perf_counter()
        try:
            return self._apply(node, sentence)
        finally:
            self.tactic_calls += 1
            self.tactic_seconds += time.perf_counter() - t0

    def verify(self, tactics: Sequence[str]) -> Verification:
        return verify_proof(self.theorem, self.as_sent(tactics), timeout=self.verify_timeout)

    def as_sent(self, tactics: Sequence[str]) -> list[str]:
        """``tactics`` as run_tactic sent them along this environment's states
        (``1: `` in front where several goals were focused); as given past the
        first step that was not run here."""
        children = {(n.parent, n.tactic.text): i for i, n in self._nodes.items() if n.tactic}
        out, node = [], 0
        for k, tactic in enumerate(tactics):
            try:
                sent = focus_first(check_tactic(tactic), self._nodes[node].state.num_goals)
            except RejectedTactic:
                return out + list(tactics[k:])
            nxt = children.get((node, sent.text))
            if nxt is None:
                return out + list(tactics[k:])
            out.append(sent.text)
            node = nxt
        return out

    def close(self) -> None:
        if self._own_session:
            self.session.close()

    # -- internals -------------------------------------------------------------
    def _enter(self) -> Response:
        assert self.theorem.offset is not None
        return self.session.enter(self.theorem.offset, self.theorem.statement, self.tactic_timeout + 60)

    def _apply(self, node: _Node, sentence: Sentence) -> TacticResult:
        for attempt in range(MAX_RECOVERIES + 1):
            try:
                self._restore(node)
                response = self._send(sentence)
            except (CoqInterrupted, CoqTimeout):
                # Interrupted: the next call BacksTo its state. Killed: coqtop is
                # restarted lazily by the next call, which restores its state.
                return TacticTimeout(self.tactic_timeout)
            except EnvironmentCrashed:
                if attempt == MAX_RECOVERIES:
                    raise
                self.session.restart()
                continue
            return self._result(node, sentence, response)
        raise AssertionError("unreachable")

    def _send(self, sentence: Sentence) -> Response:
        return self.session.top.send(
            sentence.text, timeout=self.tactic_timeout, kill_grace=KILL_GRACE
        )

    def _result(self, node: _Node, sentence: Sentence, response: Response) -> TacticResult:
        if response.error is not None:
            return TacticError(response.error)
        if not response.in_proof:
            # Only a vernacular could leave proof mode; check_tactic lets none
            # through, but if one did, undo it and refuse.
            self.session.top.back_to(node.sid)
            raise EnvironmentCrashed(f"tactic {sentence.text!r} left proof mode")
        if not response.goals.strip():
            # coqtop prints nothing when the goals equal the last ones it
            # printed, which after a BackTo need not be this state's parent.
            response = self.session.top.send("Show.", timeout=60)
        goals = normalise_goals(response.goals)
        braces = node.braces + sentence.text.endswith("{") - (sentence.text == "}")
        new_id = len(self._nodes)
        finished = goals == "No more goals." and braces == 0
        state = ProofState(new_id, "" if finished else goals, _count_goals(goals))
        self._nodes[new_id] = _Node(
            state, node.state.id, sentence, response.state_id, self.session.generation, braces
        )
        return ProofFinished(new_id, response.messages) if finished else state

    def _restore(self, node: _Node) -> None:
        """Make ``node`` coqtop's current state: a ``BackTo`` when its Coq state
        is on the current timeline, otherwise a ``BackTo`` to its deepest
        ancestor that is (or a restated theorem, after a restart or when the
        session served another theorem) and a replay of the rest of the path."""
        session = self.session
        top = session.top  # restarts a dead process

        def live(n: _Node) -> bool:
            return n.generation == session.generation and top.on_branch(n.sid)

        path: list[_Node] = []
        current: _Node | None = node
        while current is not None and not live(current):
            path.append(current)
            current = self._nodes[current.parent] if current.parent is not None else None
        if current is None:
            root = path.pop()  # the root: state the theorem again
            try:
                response = self._enter()
            except EnvironmentStartError as exc:
                raise EnvironmentCrashed(f"could not restore {self.theorem.name}: {exc}") from exc
            root.sid, root.generation = response.state_id, session.generation
        elif top.state_id != current.sid:
            top.back_to(current.sid, timeout=60)
        for step in reversed(path):
            assert step.tactic is not None
            try:
                response = self._send(step.tactic)
            except (CoqInterrupted, CoqTimeout) as exc:
                raise EnvironmentCrashed(f"replaying {step.tactic.text!r} timed out") from exc
            if response.error is not None:
                raise EnvironmentCrashed(f"replaying {step.tactic.text!r} failed: {response.error}")
            step.sid, step.generation = response.state_id, session.generation

