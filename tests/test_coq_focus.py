"""A proof found without bullets replays in a file that sets
``Default Goal Selector "!"`` (real coqtop and coqc): the environment sends
``1: tac`` while several goals are focused, and the re-checked script says so."""

from __future__ import annotations

from lean_env.coq.sentences import Sentence
from lean_env.coq.tactic_check import focus_first
from lean_env.environment import open_environment
from lean_env.types import ProofFinished, ProofState

SOURCE = """\
Set Default Goal Selector "!".

Lemma both : True /\\ (1 = 1).
Proof.
  split.
  - exact I.
  - reflexivity.
Qed.
"""


def test_focus_first_only_where_needed() -> None:
    s = Sentence("exact I.", 0, 8)
    assert focus_first(s, 2).text == "1: exact I."
    assert focus_first(s, 1) is s
    for text in ("all: auto.", "2: exact I.", "-", "{", "}", "Unshelve."):
        t = Sentence(text, 0, len(text))
        assert focus_first(t, 3) is t


def test_bulletless_proof_in_a_bang_selector_file(coq_file) -> None:
    decl = coq_file(SOURCE)["both"]
    with open_environment(decl.theorem, tactic_timeout=5) as env:
        s1 = env.run_tactic(env.initial_state, "split")
        assert isinstance(s1, ProofState) and s1.num_goals == 2
        s2 = env.run_tactic(s1, "exact I")
        assert isinstance(s2, ProofState), s2
        done = env.run_tactic(s2, "reflexivity")
        assert isinstance(done, ProofFinished), done
        check = env.verify(["split", "exact I", "reflexivity"])
        assert check.ok, check.reason
        assert "1: exact I." in check.script
        assert env.as_sent(["split", "exact I", "reflexivity"])[1] == "1: exact I."
