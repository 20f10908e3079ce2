"""The proof-assistant-neutral vocabulary: theorems, proof states, tactic results.

Search, training and evaluation speak only these types, so they never know
whether Coq or Lean is behind the :class:`~lean_env.environment.Environment`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Backend(StrEnum):
    COQ = "coq"
    LEAN = "lean"


@dataclass(frozen=True)
class Theorem:
    """A theorem to prove, with enough to recreate its exact context.

    Coq: the context is ``file``'s text before character ``offset`` (the
    declaration itself and everything after it are out of scope), checked with
    ``coq_args`` (``-Q``/``-R`` load paths, ``-noinit`` ...). ``preamble``:
    vernacular a prover needs in scope (a tactic plugin's ``Require``), run
    after the context and just before the statement. It is not part of the
    theorem's own context: the re-check runs it too, but accepts no axiom
    that only it brings in.
    Lean: ``repo`` (URL or local path) at ``commit``, ``file`` inside it, and
    ``name`` the theorem's full name, as LeanDojo wants them.
    """

    name: str
    statement: str
    backend: Backend = Backend.COQ
    file: str = ""
    line: int = 0
    offset: int | None = None
    coq_args: tuple[str, ...] = ()
    repo: str | None = None
    commit: str | None = None
    preamble: str = ""

    @property
    def short_name(self) -> str:
        return self.name.rsplit(".", 1)[-1]

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["backend"] = self.backend.value
        d["coq_args"] = list(self.coq_args)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Theorem:
        kwargs = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        kwargs["backend"] = Backend(kwargs.get("backend", "coq"))
        kwargs["coq_args"] = tuple(kwargs.get("coq_args", ()))
        return cls(**kwargs)


@dataclass(frozen=True)
class ProofState:
    """A proof state: ``goals`` is the pretty-printed text the model sees;
    ``id`` is unique among the states of one opened theorem, and any earlier
    state may be passed back to ``run_tactic`` (tree search backtracks)."""

    id: int
    goals: str
    num_goals: int = 1


@dataclass(frozen=True)
class ProofFinished:
    """No goals remain. Not yet a proof: it counts only after ``verify``."""

    state_id: int
    message: str = ""


@dataclass(frozen=True)
class TacticError:
    """The assistant refused the tactic (or our input check did, before it)."""

    message: str


@dataclass(frozen=True)
class TacticTimeout:
    """The tactic ran past the per-tactic timeout and was stopped."""

    seconds: float


TacticResult = ProofState | ProofFinished | TacticError | TacticTimeout


@dataclass(frozen=True)
class Verification:
    """Outcome of the independent re-check of a whole proof."""

    ok: bool
    reason: str = ""
    axioms: tuple[str, ...] = ()
    seconds: float = 0.0
    script: str = field(default="", compare=False)
    # The axioms among ``axioms`` from outside the proof assistant's standard
    # library (e.g. declared in the theorem's own file): what an answer must
    # show next to "proved", because the proof holds only if they do.
    assumes: tuple[str, ...] = ()
    # The proof as it was checked, in the caller's spelling plus any goal
    # selector the backend added (Coq: ``1: tac`` where several goals were
    # focused): the text to store and show, valid under every selector.
    # Empty when the backend sends tactics as given.
    tactics: tuple[str, ...] = ()


def assumes_note(assumes: Sequence[str]) -> str:
    """`` (assumes: a, b)`` after a verdict, or nothing: the one spelling of
    a proof's assumptions (:attr:`Verification.assumes`) in every command's
    text output."""
    return f" (assumes: {', '.join(assumes)})" if assumes else ""
