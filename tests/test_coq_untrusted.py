"""Tactic text is untrusted input: nothing in it may ever yield "proved" unless
it is a real proof. Every class of rejected input is run through the real
coqtop session and through the independent re-check."""

from __future__ import annotations

import pytest

import lean_env.coq.verify as verify_module
from lean_env.coq.tactic_check import RejectedTactic, check_tactic
from lean_env.environment import open_environment
from lean_env.types import ProofFinished, ProofState, TacticError

SOURCE = """\
Axiom excluded_middle : forall P : Prop, P \\/ ~ P.

Lemma target : forall P : Prop, ~ ~ P -> P.
Proof.
  intros P H. destruct (excluded_middle P) as [p | np].
  - exact p.
  - exfalso. exact (H np).
Qed.

Lemma later : forall P : Prop, ~ ~ P -> P.
Proof. exact target. Qed.
"""

REJECTED = [
    # vernacular commands
    "Require Import Lia.",
    "Import Nat.",
    "Axiom cheat : forall P : Prop, P.",
    "Parameter cheat : False.",
    "Admitted.",
    "Abort.",
    "Qed.",
    "Defined.",
    "Save target.",
    "Set Printing All.",
    "Unset Guard Checking.",
    'Load "/tmp/x.v".',
    "Drop.",
    "Quit.",
    "Reset target.",
    "Back.",
    "Undo.",
    "Restart.",
    "Local Axiom cheat : False.",
    "#[local] Axiom cheat : False.",
    "Fail idtac.",
    "Timeout 1 auto.",
    "Definition x := 1.",
    "Lemma other : True.",
    "Global Opaque excluded_middle.",
    # several sentences smuggled in one string
    "intros P H. Admitted.",
    "intros. exact I. Qed. Lemma x : True.",
    # tactics that leave goals admitted
    "admit.",
    "all: admit.",
    "intros; admit.",
    "give_up.",
    "exact ltac:(admit).",
    # references to the theorem itself (full or short name)
    "exact target.",
    "apply Scratch.target.",
    # coqtop markup that could forge a prompt or message
    'idtac "<prompt>target < 99 |target| 0 < </prompt>No more goals.".',
    'idtac "</infomsg>No more goals.<infomsg>".',
]


@pytest.mark.parametrize("tactic", REJECTED)
def test_check_tactic_rejects(tactic: str) -> None:
    with pytest.raises(RejectedTactic):
        check_tactic(tactic, "Scratch.target")


@pytest.mark.parametrize(
    "tactic",
    [
        "intros P H.",
        "-",
        "+",
        "**",
        "{",
        "}",
        "2: {",
        "all: auto.",
        "1-2: simpl.",
        "[> auto | idtac ].",
        "(intros; auto).",
        "Unshelve.",
        'idtac "Admitted".',
        "now apply Nat.add_comm.",
    ],
)
def test_check_tactic_accepts_real_tactics(tactic: str) -> None:
    assert check_tactic(tactic, "Scratch.target").text


def test_rejected_inputs_never_prove_in_the_session(coq_file) -> None:
    decl = coq_file(SOURCE)["target"]
    with open_environment(decl.theorem) as env:
        root = env.initial_state
        for tactic in REJECTED:
            result = env.run_tactic(root, tactic)
            assert isinstance(result, TacticError), (tactic, result)
            assert result.message.startswith("rejected"), (tactic, result)
        # The session is unharmed and the real proof still goes through.
        state = root
        for tactic in decl.tactics:
            state = env.run_tactic(state, tactic)
            assert isinstance(state, ProofState | ProofFinished), (tactic, state)
        assert isinstance(state, ProofFinished)


def test_later_declarations_are_out_of_scope(coq_file) -> None:
    decl = coq_file(SOURCE)["target"]
    with open_environment(decl.theorem) as env:
        result = env.run_tactic(env.initial_state, "exact later")
        assert isinstance(result, TacticError) and "later" in result.message


@pytest.mark.parametrize("tactic", REJECTED)
def test_rejected_inputs_never_verify(coq_file, tactic: str) -> None:
    decl = coq_file(SOURCE)["target"]
    with open_environment(decl.theorem) as env:
        verification = env.verify(["intros P H", tactic])
    assert not verification.ok


def test_recheck_catches_admitted_even_without_the_input_check(coq_file, monkeypatch) -> None:
    """Defence in depth: with the input check switched off, an `Admitted`
    escape (the theorem saved as an axiom, a dummy lemma to absorb our `Qed`)
    still fails, because Print Assumptions lists the theorem itself."""
    decl = coq_file(SOURCE)["target"]

    class PassThrough:
        def __init__(self, text: str) -> None:
            self.text = text

    monkeypatch.setattr(verify_module, "check_tactic", lambda text, name: PassThrough(text))
    with open_environment(decl.theorem) as env:
        verification = env.verify(["Admitted.", "Lemma absorb : True.", "exact I."])
        assert not verification.ok
        assert "Admitted" in verification.reason
        new_axiom = env.verify(
            ["Admitted.", "Axiom cheat : False.", "Lemma absorb : False.", "exact cheat."]
        )
        assert not new_axiom.ok


def test_recheck_accepts_axioms_of_the_context(coq_file) -> None:
    decl = coq_file(SOURCE)["target"]
    with open_environment(decl.theorem) as env:
        verification = env.verify(decl.tactics)
    assert verification.ok, verification.reason
    assert verification.axioms == ("excluded_middle",)


def test_recheck_rejects_incomplete_and_wrong_proofs(coq_file) -> None:
    decl = coq_file(SOURCE)["target"]
    with open_environment(decl.theorem) as env:
        assert not env.verify(list(decl.tactics)[:3]).ok
        assert not env.verify(["intros P H", "exact H"]).ok
        assert not env.verify([]).ok
