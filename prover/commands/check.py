"""``dco check``: replay a proof step by step, print each state, re-check it.

Ends with ``VERIFIED`` (exit 0) or ``REJECTED: <reason>`` (exit 1).
"""

from __future__ import annotations

import argparse
import shlex

from lean_env.coq.environment import CoqEnvironment
from lean_env.coq.sentences import SentenceError, split_sentences
from lean_env.coq.source import find_declaration
from lean_env.coq.verify import assumes_note
from lean_env.errors import UserError
from lean_env.types import ProofFinished, ProofState, TacticError, TacticTimeout


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
        "--coq-args", default=None, help="extra coqtop/coqc flags (default: from _CoqProject)"
    )
    parser.add_argument("--quiet", action="store_true", help="print only the verdict")


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

    def show(text: str) -> None:
        if not args.quiet:
            print(text)

    with CoqEnvironment(declaration.theorem, tactic_timeout=args.tactic_timeout) as env:
        state: ProofState = env.initial_state
        show(f"theorem {declaration.theorem.name}\n{state.goals}\n")
        finished = False
        for i, tactic in enumerate(tactics, 1):
            if finished:
                print(f"REJECTED: step {i} {tactic!r} comes after the proof is complete")
                return 1
            result = env.run_tactic(state, tactic)
            if isinstance(result, TacticError):
                print(f"REJECTED: step {i} {tactic!r}: {' '.join(result.message.split())}")
                return 1
            if isinstance(result, TacticTimeout):
                print(f"REJECTED: step {i} {tactic!r} timed out after {result.seconds:g} s")
                return 1
            if isinstance(result, ProofFinished):
                show(f"[{i}] {tactic}\n  No more goals.\n")
                finished = True
                continue
            state = result
            show(f"[{i}] {tactic}\n{state.goals}\n")
        if not finished:
            print(f"REJECTED: the proof is incomplete ({state.num_goals} goal(s) left)")
            return 1
        verification = env.verify(tactics)
    if not verification.ok:
        print(f"REJECTED: {verification.reason}")
        return 1
    print(f"VERIFIED{assumes_note(verification.assumes)}")
    return 0
