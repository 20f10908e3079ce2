"""Trace a Coq file: every tactic proof as (state before, tactic) steps.

For each theorem proved by a tactic script ending in ``Qed`` the human proof
is replayed through :class:`~lean_env.coq.environment.CoqEnvironment`, one
shared :class:`~lean_env.coq.session.CoqSession` per file with the theorems in
file order (so the whole file costs one pass, not one prefix per theorem).
Each step records the state the model would see (``ProofState.goals``) and
the tactic; bullets and braces are steps of their own, so replaying the steps
in an Environment reproduces the proof exactly. The replayed proofs are then
re-checked together by one ``coqc`` run (:mod:`.batch_verify`).

Theorems not traced are counted by reason: proofs ending otherwise than in
``Qed`` (``Defined``, ``Admitted``, proof terms) are *skipped*; ``Qed`` proofs
whose replay or re-check fails are *failures*.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import EnvironmentCrashed, EnvironmentError_, EnvironmentStartError, UserError
from ..types import ProofFinished, ProofState, TacticError, TacticTimeout, Theorem
from .batch_verify import verify_file_proofs
from .environment import CoqEnvironment
from .sentences import Sentence
from .session import CoqSession
from .source import Declaration, parse_declarations
from .tactic_check import RejectedTactic, check_tactic

# Human proofs sometimes contain slow tactics (heavy `vm_compute`, `lia` on big
# goals); the trace is not a search, so it waits much longer than search does.
DEFAULT_TRACE_TACTIC_TIMEOUT = 60.0

_PROOF_WITH = re.compile(r"^Proof(?:\s+using\b.*?)?\s+with\s+(.+)\.$")
_PROOF_USING = re.compile(r"^Proof\s+using\b(.*?)(?:\s+with\s+.+)?\.$")
_SIMPLE_TACTIC = re.compile(r"^[\w' .]+$")


# Failure reasons, the keys of the report's "failures by reason".
CONTEXT = "context: could not state the theorem"
REJECTED = "replay: not a tactic (vernacular inside the proof)"
SELF_REFERENCE = "replay: a step names the theorem itself (e.g. fix NAME), refused"
TACTIC_ERROR = "replay: a step failed"
TIMEOUT = "replay: a step timed out"
INCOMPLETE = "replay: goals left after the last step"
EXTRA = "replay: steps after the proof was complete"
CRASH = "replay: coqtop crashed"
EMPTY = "replay: empty proof"


@dataclass(frozen=True)
class TracedStep:
    state: str  # the pretty-printed goals before the tactic (what the model sees)
    tactic: str


@dataclass(frozen=True)
class TracedTheorem:
    theorem: Theorem
    steps: tuple[TracedStep, ...]
    axioms: tuple[str, ...] = ()

    @property
    def tactics(self) -> tuple[str, ...]:
        return tuple(s.tactic for s in self.steps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "theorem": self.theorem.to_dict(),
            "steps": [[s.state, s.tactic] for s in self.steps],
            "axioms": list(self.axioms),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TracedTheorem:
        return cls(
            Theorem.from_dict(d["theorem"]),
            tuple(TracedStep(state, tactic) for state, tactic in d["steps"]),
            tuple(d.get("axioms", ())),
        )


@dataclass(frozen=True)
class Failure:
    name: str
    reason: str  # one of the reason constants (or a batch re-check reason)
    detail: str = ""


@dataclass
class FileTrace:
    """The outcome of tracing one file."""

    file: str
    coq_args: tuple[str, ...]
    found: int = 0  # theorem declarations (Lemma, Theorem, ... of any proof kind)
    skipped: dict[str, int] = field(default_factory=dict)  # not a Qed tactic proof, by ending
    traced: int = 0  # replayed to the end in the Environment
    theorems: list[TracedTheorem] = field(default_factory=list)  # traced and re-checked
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0
    replay_seconds: float = 0.0
    recheck_seconds: float = 0.0
    error: str = ""  # the whole file could not be traced (e.g. it does not parse)

    @property
    def tactic_proved(self) -> int:
        return self.found - sum(self.skipped.values())

    def failure_counts(self) -> Counter[str]:
        return Counter(f.reason for f in self.failures)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "coq_args": list(self.coq_args),
            "found": self.found,
            "skipped": dict(self.skipped),
            "traced": self.traced,
            "theorems": [t.to_dict() for t in self.theorems],
            "failures": [[f.name, f.reason, f.detail] for f in self.failures],
            "seconds": self.seconds,
            "replay_seconds": self.replay_seconds,
            "recheck_seconds": self.recheck_seconds,
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FileTrace:
        return cls(
            file=d["file"],
            coq_args=tuple(d["coq_args"]),
            found=d["found"],
            skipped=dict(d["skipped"]),
            traced=d["traced"],
            theorems=[TracedTheorem.from_dict(t) for t in d["theorems"]],
            failures=[Failure(*f) for f in d["failures"]],
            seconds=d["seconds"],
            replay_seconds=d.get("replay_seconds", 0.0),
            recheck_seconds=d.get("recheck_seconds", 0.0),
            error=d.get("error", ""),
        )


def default_tactic(declaration: Declaration) -> str | None:
    """The tactic that ``Proof with TAC.`` makes ``...`` append, if any."""
    for sentence in declaration.proof:
        match = _PROOF_WITH.match(sentence.text)
        if match:
            return match.group(1).strip()
    return None


def proof_using(declaration: Declaration) -> str | None:
    """The ``Proof using ...`` sentence without any ``with`` part, if any."""
    for sentence in declaration.proof:
        match = _PROOF_USING.match(sentence.text)
        if match:
            return f"Proof using{match.group(1)}."
    return None


def expand_ellipsis(tactic: str, default: str | None) -> str:
    """``tac...`` means ``tac; DEFAULT`` (Coq applies the ``Proof with``
    tactic with ``;``); with no ``Proof with``, ``...`` is a plain period."""
    if not tactic.endswith("..."):
        return tactic
    body = tactic[:-3].rstrip()
    if default is None:
        return body + "."
    if not _SIMPLE_TACTIC.match(default):
        default = f"({default})"
    return f"{body}; {default}."


def step_text(sentence: Sentence | str) -> str:
    """The tactic as stored in a step: one sentence without its final period
    (the Environment adds it back), bullets and braces as they are."""
    text = sentence.text if isinstance(sentence, Sentence) else sentence
    if text.endswith(".") and not text.endswith(".."):
        return text[:-1].rstrip()
    return text


def proof_steps(declaration: Declaration) -> list[str]:
    """The declaration's proof as step tactics, ``...`` expanded."""
    default = default_tactic(declaration)
    return [step_text(expand_ellipsis(t, default)) for t in declaration.tactics]


@dataclass(frozen=True)
class Replay:
    """The result of replaying tactics in an Environment."""

    steps: tuple[TracedStep, ...]
    finished: bool
    reason: str = ""  # a failure reason constant when not finished
    detail: str = ""


def replay(env: CoqEnvironment, tactics: Sequence[str]) -> Replay:
    """Run ``tactics`` from the initial state, recording the state before each
    step; ``finished`` only if the last step completes the proof."""
    if not tactics:
        return Replay((), False, EMPTY)
    steps: list[TracedStep] = []
    state: ProofState = env.initial_state
    for i, tactic in enumerate(tactics):
        try:
            check_tactic(tactic, env.theorem.name)
        except RejectedTactic as exc:
            # The tactic check refuses what a model must not send; human proofs
            # that need it (vernacular mid-proof, `fix NAME` reusing the
            # theorem's name) cannot be replayed through the Environment.
            reason = SELF_REFERENCE if "refers to the theorem" in str(exc) else REJECTED
            return Replay(tuple(steps), False, reason, f"step {i} {tactic!r}: {exc}")
        steps.append(TracedStep(state.goals, tactic))
        result = env.run_tactic(state, tactic)
        if isinstance(result, TacticError):
            return Replay(
                tuple(steps), False, TACTIC_ERROR, f"step {i} {tactic!r}: {result.message}"
            )
        if isinstance(result, TacticTimeout):
            return Replay(tuple(steps), False, TIMEOUT, f"step {i} {tactic!r}: {result.seconds} s")
        if isinstance(result, ProofFinished):
            if i != len(tactics) - 1:
                return Replay(tuple(steps), False, EXTRA, f"after step {i} {tactic!r}")
            return Replay(tuple(steps), True)
        state = result
    return Replay(tuple(steps), False, INCOMPLETE, f"{state.num_goals} goal(s) left")


def trace_file(
    path: Path | str,
    coq_args: tuple[str, ...] | None = None,
    *,
    tactic_timeout: float = DEFAULT_TRACE_TACTIC_TIMEOUT,
    recheck: bool = True,
) -> FileTrace:
    """Trace every ``Qed`` tactic proof of the file; see the module docstring.
    A file that cannot be parsed yields a FileTrace with ``error`` set; a
    context that fails in Coq makes its theorems failures (``CONTEXT``)."""
    t0 = time.perf_counter()
    path = Path(path).resolve()
    result = FileTrace(str(path), tuple(coq_args or ()))
    try:
        declarations = parse_declarations(path, coq_args)
    except UserError as exc:  # a malformed file is reported, not fatal to the library
        result.error = f"cannot parse: {exc}"
        result.seconds = time.perf_counter() - t0
        return result
    if declarations:
        result.coq_args = declarations[0].theorem.coq_args
    result.found = len(declarations)
    skipped: Counter[str] = Counter(
        d.ending or "no ending" for d in declarations if d.ending != "Qed"
    )
    result.skipped = dict(skipped)
    candidates = [d for d in declarations if d.ending == "Qed"]

    replayed: list[tuple[Declaration, Replay]] = []
    session = CoqSession(path, result.coq_args)
    try:
        for declaration in candidates:
            outcome = _replay_declaration(declaration, session, tactic_timeout)
            if outcome.finished:
                replayed.append((declaration, outcome))
            else:
                result.failures.append(
                    Failure(declaration.theorem.name, outcome.reason, outcome.detail[:500])
                )
    finally:
        session.close()
    result.traced = len(replayed)
    t1 = time.perf_counter()
    result.replay_seconds = t1 - t0

    if recheck and replayed:
        verdicts = verify_file_proofs(
            path,
            result.coq_args,
            [(d, [s.tactic for s in r.steps], proof_using(d)) for d, r in replayed],
        )
    else:
        verdicts = None
    for k, (declaration, outcome) in enumerate(replayed):
        if verdicts is not None and not verdicts[k].ok:
            # Counted by the reason's fixed phrase; the details stay with the theorem.
            reason = "recheck: " + verdicts[k].reason.split(":", 1)[0]
            result.failures.append(
                Failure(declaration.theorem.name, reason, verdicts[k].reason[:500])
            )
            continue
        axioms = verdicts[k].axioms if verdicts is not None else ()
        result.theorems.append(TracedTheorem(declaration.theorem, outcome.steps, axioms))
    result.recheck_seconds = time.perf_counter() - t1
    result.seconds = time.perf_counter() - t0
    return result


def _replay_declaration(
    declaration: Declaration, session: CoqSession, tactic_timeout: float
) -> Replay:
    try:
        env = CoqEnvironment(declaration.theorem, tactic_timeout=tactic_timeout, session=session)
    except EnvironmentStartError as exc:
        return Replay((), False, CONTEXT, str(exc))
    except EnvironmentError_ as exc:
        return Replay((), False, CRASH, str(exc))
    try:
        return replay(env, proof_steps(declaration))
    except (EnvironmentCrashed, EnvironmentError_) as exc:
        return Replay((), False, CRASH, str(exc))
    finally:
        env.close()


def check_traced(
    theorem: Theorem,
    steps: Sequence[TracedStep],
    *,
    tactic_timeout: float = DEFAULT_TRACE_TACTIC_TIMEOUT,
    verify: bool = True,
) -> str:
    """Replay a traced proof in a fresh Environment (its own coqtop, the
    context recreated from ``theorem`` alone) and say what is wrong: a context
    that cannot be set up, a state that differs from the recorded one, a proof
    that does not finish or fails the independent re-check. Empty if nothing."""
    try:
        env = CoqEnvironment(theorem, tactic_timeout=tactic_timeout)
    except EnvironmentError_ as exc:
        return f"context: {exc}"
    with env:
        outcome = replay(env, [s.tactic for s in steps])
        for i, (recorded, seen) in enumerate(zip(steps, outcome.steps, strict=False)):
            if recorded.state != seen.state:
                return f"state before step {i} ({recorded.tactic!r}) differs from the recorded one"
        if not outcome.finished:
            return f"{outcome.reason}: {outcome.detail}"
        if verify:
            verification = env.verify([s.tactic for s in steps])
            if not verification.ok:
                return f"re-check: {verification.reason}"
    return ""
