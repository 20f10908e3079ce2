"""A proof found without bullets replays in a file that sets
``Default Goal Selector "!"`` (real coqtop and coqc): the environment sends
``1: tac`` while several goals are focused, and the re-checked script says so."""

from __future__ import annotations

import json
from pathlib import Path

from lean_env.coq.sentences import Sentence
from lean_env.coq.tactic_check import focus_first
from lean_env.coq.verify import verify_proof
from lean_env.environment import open_environment
from lean_env.types import ProofFinished, ProofState
from prover import cli

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
        # The proof to store and show carries the focusing, and re-checks
        # from scratch as it stands (what a cached answer goes through).
        assert check.tactics == ("split", "1: exact I", "reflexivity")
        assert verify_proof(decl.theorem, list(check.tactics)).ok
        assert not verify_proof(decl.theorem, ["split", "exact I", "reflexivity"]).ok


def test_cached_answer_in_a_bang_selector_file_stays_proved(tmp_path: Path, capsys) -> None:
    """`prove` twice on one database: the second answer comes from the
    database and its re-check must pass (the stored proof is the focused one)."""
    path, db = tmp_path / "Bang.v", tmp_path / "p.sqlite"
    path.write_text(
        'Set Default Goal Selector "!".\n'
        "Lemma both : (forall b : bool, negb (negb b) = b) /\\ (forall n : nat, n * 1 = n).\n"
        "Proof. Admitted.\n"
    )
    argv = ["prove", "--file", str(path), "--theorem", "both", "--db", str(db)]
    argv += ["--budget", "20", "--generator", "symbolic", "--json"]
    answers = []
    for _ in range(2):
        code = cli.main(argv)
        answers.append(json.loads(capsys.readouterr().out))
        assert code == 0, answers[-1]
    first, again = answers
    assert first["proved"] and again["proved"], again
    assert again["models"][0]["cached"] and again["models"][0]["rechecked"]
    # No one symbolic tactic proves both conjuncts: the proof runs while
    # several goals are open, and the stored text keeps its focusing.
    assert any(t.startswith("1: ") for t in again["models"][0]["proof"]), again
