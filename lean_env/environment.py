"""The one protocol every proof assistant implements.

Usage::

    with open_environment(theorem, tactic_timeout=5.0) as env:
        root = env.initial_state
        result = env.run_tactic(root, "intros n")
        ...
        verification = env.verify(["intros n", "induction n; simpl; auto"])

``run_tactic`` accepts any state obtained earlier from the same opened theorem.
A proof is only a proof once ``verify`` (an independent replay from scratch)
says so.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from .closing import Closing
from .types import Backend, ProofState, TacticResult, Theorem, Verification

DEFAULT_TACTIC_TIMEOUT = 5.0


class Environment(Closing, ABC):
    """An opened theorem. Subclasses start the assistant in ``__enter__``."""

    theorem: Theorem
    tactic_timeout: float

    @property
    @abstractmethod
    def initial_state(self) -> ProofState: ...

    @abstractmethod
    def run_tactic(self, state: ProofState, tactic: str) -> TacticResult:
        """Apply ``tactic`` to ``state`` (any earlier state of this theorem)."""

    @abstractmethod
    def verify(self, tactics: Sequence[str]) -> Verification:
        """Independently re-check ``tactics`` as a whole proof of the theorem."""

    @abstractmethod
    def close(self) -> None: ...


def open_environment(
    theorem: Theorem, *, tactic_timeout: float = DEFAULT_TACTIC_TIMEOUT
) -> Environment:
    """The backend for ``theorem.backend``, started and positioned at the theorem.
    Raises :class:`~lean_env.errors.EnvironmentStartError` if it cannot be."""
    if theorem.backend is Backend.COQ:
        from .coq.environment import CoqEnvironment

        return CoqEnvironment(theorem, tactic_timeout=tactic_timeout)
    from .leandojo import LeanDojoEnvironment

    return LeanDojoEnvironment(theorem, tactic_timeout=tactic_timeout)
