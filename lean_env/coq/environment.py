"""The Coq backend of :class:`~lean_env.environment.Environment`.

Every proof state we hand out remembers its parent and the tactic that made
it, so any state can be restored after coqtop is restarted (a timeout or a
crash kills the process group): the deepest ancestor still valid in the
current process is found and the rest of the path is replayed (the shared
:class:`~lean_env.replay.ReplayingEnvironment`). A Coq state is live when it
belongs to the session's current coqtop and lies on its current timeline
(``BackTo`` discards the states after its target).
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .. import types
from ..environment import DEFAULT_TACTIC_TIMEOUT
from ..errors import EnvironmentCrashed, EnvironmentStartError, UserError
from ..replay import Node, ReplayingEnvironment
from ..types import ProofState, TacticError
from .coqtop import CoqInterrupted, CoqTimeout, Response
from .sentences import Sentence
from .session import CoqSession
from .tactic_check import FOCUS_PREFIX, RejectedTactic, check_tactic, focus_first
from .verify import verify_proof

# A tactic past its timeout is interrupted (SIGINT); the hard kill of the
# process group is the backstop for what does not stop within this grace.
KILL_GRACE = 5.0
MAX_RECOVERIES = 2

_ID = re.compile(r" \(ID \d+\)")
_COUNT = re.compile(r"^(\d+) goals?")


@dataclass
class CoqNode(Node[Sentence, int]):
    """A state; its handle is coqtop's state id."""

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


class CoqEnvironment(ReplayingEnvironment[CoqNode, Sentence]):
    max_recoveries = MAX_RECOVERIES
    recoverable = (EnvironmentCrashed,)
    # Interrupted: the next call BacksTo its state. Killed: coqtop is restarted
    # lazily by the next call, which restores its state.
    timeouts = (CoqInterrupted, CoqTimeout)

    def __init__(
        self,
        theorem: types.Theorem,
        *,
        tactic_timeout: float = DEFAULT_TACTIC_TIMEOUT,
        session: CoqSession | None = None,
        verify_timeout: float = 600.0,
    ) -> None:
        super().__init__()
        if theorem.backend is not types.Backend.COQ:
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
        t0 = time.perf_counter()
        try:
            response = self._enter()
        except BaseException:
            self.close()
            raise
        self.start_seconds = time.perf_counter() - t0
        goals = normalise_goals(response.goals)
        root = ProofState(0, goals, _count_goals(goals))
        self._add_root(CoqNode(root, None, None, response.state_id, self.session.generation))

    # -- protocol --------------------------------------------------------------
    def verify(self, tactics: Sequence[str]) -> types.Verification:
        sent = self.as_sent(tactics)
        verification = verify_proof(self.theorem, sent, timeout=self.verify_timeout)
        focused = tuple(
            FOCUS_PREFIX + t
            if s.startswith(FOCUS_PREFIX) and not t.lstrip().startswith("1:")
            else t
            for t, s in zip(tactics, sent, strict=True)
        )
        return replace(verification, tactics=focused)

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
    def _check(self, tactic: str, state: ProofState) -> Sentence | TacticError:
        # Under `Default Goal Selector "!"` a plain tactic fails while several
        # goals are focused; `1: tac` works under every selector.
        try:
            return focus_first(check_tactic(tactic, self.theorem.name), state.num_goals)
        except RejectedTactic as exc:
            return TacticError(f"rejected: {exc}")

    def _enter(self) -> Response:
        assert self.theorem.offset is not None
        return self.session.enter(
            self.theorem.offset,
            self.theorem.statement,
            self.tactic_timeout + 60,
            preamble=self.theorem.preamble,
        )

    def _before_retry(self) -> None:
        self.session.restart()

    def _send(self, node: CoqNode, sentence: Sentence) -> Response:
        return self.session.top.send(
            sentence.text, timeout=self.tactic_timeout, kill_grace=KILL_GRACE
        )

    def _result(self, node: CoqNode, sentence: Sentence, response: Response) -> types.TacticResult:
        if response.error is not None:
            return TacticError(response.error)
        if not response.in_proof:
            # Only a vernacular could leave proof mode; check_tactic lets none
            # through, but if one did, undo it and refuse.
            self.session.top.back_to(node.handle)
            raise EnvironmentCrashed(f"tactic {sentence.text!r} left proof mode")
        if not response.goals.strip():
            # coqtop prints nothing when the goals equal the last ones it
            # printed, which after a BackTo need not be this state's parent.
            response = self.session.top.send("Show.", timeout=60)
        goals = normalise_goals(response.goals)
        braces = node.braces + sentence.text.endswith("{") - (sentence.text == "}")
        new_id = self._new_id()
        finished = goals == "No more goals." and braces == 0
        state = ProofState(new_id, "" if finished else goals, _count_goals(goals))
        self._add(
            CoqNode(
                state, node.state.id, sentence, response.state_id, self.session.generation, braces
            )
        )
        return types.ProofFinished(new_id, response.messages) if finished else state

    # -- restoring a state (see ReplayingEnvironment._restore) -------------------
    def _generation(self) -> int:
        return self.session.generation

    def _is_live(self, node: CoqNode) -> bool:
        top = self.session.top  # restarts a dead process
        return node.generation == self.session.generation and top.on_branch(node.handle)

    def _restate_root(self, root: CoqNode) -> int:
        # After a restart, or when the session served another theorem.
        try:
            return self._enter().state_id
        except EnvironmentStartError as exc:
            raise EnvironmentCrashed(f"could not restore {self.theorem.name}: {exc}") from exc

    def _resume_at(self, node: CoqNode) -> None:
        top = self.session.top
        if top.state_id != node.handle:
            top.back_to(node.handle, timeout=60)

    def _replay(self, parent: CoqNode, step: CoqNode) -> int:
        assert step.tactic is not None
        try:
            response = self._send(step, step.tactic)
        except (CoqInterrupted, CoqTimeout) as exc:
            raise EnvironmentCrashed(f"replaying {step.tactic.text!r} timed out") from exc
        if response.error is not None:
            raise EnvironmentCrashed(f"replaying {step.tactic.text!r} failed: {response.error}")
        return response.state_id
