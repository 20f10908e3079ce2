"""``dco check``: replay a proof step by step, print each state, re-check it.

Ends with ``VERIFIED`` (exit 0; ``VERIFIED (assumes: cheat)`` when the proof
relies on axioms beyond the standard library's) or ``REJECTED: <reason>``
(exit 1). Bad input exits 2. ``--timeout`` bounds the whole check.
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import signal
import threading
from collections.abc import Iterator
from types import FrameType

from lean_env.coq.environment import CoqEnvironment
from lean_env.coq.sentences import SentenceError, split_sentences
from lean_env.coq.source import Declaration, find_declaration
from lean_env.errors import UserError
from lean_env.types import ProofFinished, ProofState, TacticError, TacticTimeout, assumes_note

DEFAULT_TIMEOUT = 600.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--file", required=True, help="the Coq source file (.v)")
    parser.add_argument("--theorem", required=True, help="theorem name (short or full)")
    parser.add_argument(
        "--proof",
        help="the proof as Coq sentences, e.g. 'intros n. induction n; simpl; auto.' "
        "(default: the proof written in the file)",
    )
    parser.add_argument("--tactic-timeout", type=float, default=10.0, metavar="SECONDS")
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"limit of the whole check (default {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--coq-args", default=None, help="extra coqtop/coqc flags (default: from _CoqProject)"
    )
    parser.add_argument("--quiet", action="store_true", help="print only the verdict")


class _OutOfTime(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`_OutOfTime` in this (main) thread after ``seconds``;
    whatever runs then is unwound, and coqtop/coqc are killed on the way out."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise _OutOfTime

    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach only the main thread; a caller elsewhere bounds it
        return
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run(args: argparse.Namespace) -> int:
    coq_args = tuple(shlex.split(args.coq_args)) if args.coq_args is not None else None
    declaration = find_declaration(args.file, args.theorem, coq_args)
    if args.proof is not None:
        try:
            tactics = [s.text for s in split_sentences(args.proof)]
        except SentenceError as exc:
            raise UserError(f"cannot split --proof into sentences: {exc}") from None
    else:
        tactics = list(declaration.tactics)
    if not tactics:
        print("REJECTED: empty proof")
        return 1
    try:
        with time_limit(args.timeout):
            verdict = _check(declaration, tactics, args)
    except _OutOfTime:
        verdict = f"REJECTED: the check ran past --timeout {args.timeout:g} s"
    print(verdict)
    return 0 if verdict.startswith("VERIFIED") else 1


def _check(declaration: Declaration, tactics: list[str], args: argparse.Namespace) -> str:
    """Replay ``tactics`` (printing each state unless --quiet), then
    re-check the proof; the verdict line."""

    def show(text: str) -> None:
        if not args.quiet:
            print(text)

    with CoqEnvironment(declaration.theorem, tactic_timeout=args.tactic_timeout) as env:
        state: ProofState = env.initial_state
        show(f"theorem {declaration.theorem.name}\n{state.goals}\n")
        finished = False
        for i, tactic in enumerate(tactics, 1):
            if finished:
                return f"REJECTED: step {i} {tactic!r} comes after the proof is complete"
            result = env.run_tactic(state, tactic)
            if isinstance(result, TacticError):
                return f"REJECTED: step {i} {tactic!r}: {' '.join(result.message.split())}"
            if isinstance(result, TacticTimeout):
                return f"REJECTED: step {i} {tactic!r} timed out after {result.seconds:g} s"
            if isinstance(result, ProofFinished):
                show(f"[{i}] {tactic}\n  No more goals.\n")
                finished = True
                continue
            state = result
            show(f"[{i}] {tactic}\n{state.goals}\n")
        if not finished:
            if state.num_goals == 0:
                return "REJECTED: the proof is incomplete: a `{` block is still open (close it with `}`)"
            return f"REJECTED: the proof is incomplete ({state.num_goals} goal(s) left)"
        verification = env.verify(tactics)
    if not verification.ok:
        return f"REJECTED: {verification.reason}"
    return f"VERIFIED{assumes_note(verification.assumes)}"
