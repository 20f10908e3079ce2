"""Tracing the fixture Coq project (tests/fixtures/coqproject) with the real
coqtop and coqc: exactly the expected theorems, steps and states; traced
proofs replay to verified proofs; wrong contexts and bad proofs are caught."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from benchmarks.library import build_project, project_library
from lean_env.coq.batch_verify import verify_file_proofs
from lean_env.coq.source import parse_declarations
from lean_env.coq.trace import (
    SELF_REFERENCE,
    TACTIC_ERROR,
    FileTrace,
    TracedStep,
    TracedTheorem,
    check_traced,
    expand_ellipsis,
    proof_steps,
    proof_using,
    trace_file,
)

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "coqproject"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # A copy: compiling writes .vo files next to the sources.
    root = tmp_path_factory.mktemp("proj") / "coqproject"
    shutil.copytree(FIXTURE, root)
    assert build_project(project_library(root), log=lambda _: None) == 2
    return root


@pytest.fixture(scope="module")
def traces(project: Path) -> dict[str, FileTrace]:
    library = project_library(project)
    return {p.name: trace_file(p, library.args_for(p)) for p in library.files}


@pytest.fixture(scope="module")
def traced(traces: dict[str, FileTrace]) -> dict[str, TracedTheorem]:
    return {t.theorem.name: t for ft in traces.values() for t in ft.theorems}


def test_exactly_the_expected_theorems(traces: dict[str, FileTrace]) -> None:
    base, uses = traces["Base.v"], traces["Uses.v"]
    assert [t.theorem.name for t in base.theorems] == [
        "Fix.Base.add_0_r",
        "Fix.Base.and_swap",
        "Fix.Base.two_goals",
        "Fix.Base.M.double_0",
    ]
    assert (base.found, base.skipped, base.traced, base.failures) == (
        6,
        {"Admitted": 1, "Defined": 1},
        4,
        [],
    )
    # Uses.v Requires its sibling Base.v; its section variable is a theorem
    # argument (listed among the assumptions by Print Assumptions).
    assert [t.theorem.name for t in uses.theorems] == ["Fix.Uses.double_k", "Fix.Uses.use_add_0_r"]
    assert (uses.found, uses.skipped, uses.failures) == (2, {}, [])
    by_name = {t.theorem.name: t for t in uses.theorems}
    assert by_name["Fix.Uses.double_k"].axioms == ("k",)
    theorem = by_name["Fix.Uses.use_add_0_r"].theorem
    assert (theorem.line, theorem.statement) == (11, "Example use_add_0_r : 3 + 0 = 3.")
    assert theorem.coq_args[0] == "-Q" and theorem.coq_args[2] == "Fix"


def test_bullets_steps_and_states(traced: dict[str, TracedTheorem]) -> None:
    proof = traced["Fix.Base.add_0_r"]
    assert proof.tactics == (
        "intros n",
        "induction n as [| n IH]",
        "-",
        "reflexivity",
        "-",
        "simpl",
        "rewrite IH",
        "reflexivity",
    )
    states = [s.state for s in proof.steps]
    assert states[0] == "1 goal\n  \n  ============================\n  forall n : nat, n + 0 = n"
    assert states[2] == (
        "2 goals\n  \n  ============================\n  0 + 0 = 0\n\ngoal 2 is:\n S n + 0 = S n"
    )
    assert states[3] == "1 goal\n  \n  ============================\n  0 + 0 = 0"
    # After the first bullet's goal is solved, only the unfocused goal remains.
    assert states[4] == "1 goal\n\ngoal 1 is:\n S n + 0 = S n"
    assert states[5] == (
        "1 goal\n  \n  n : nat\n  IH : n + 0 = n\n  ============================\n  S n + 0 = S n"
    )


def test_braces_steps_and_states(traced: dict[str, TracedTheorem]) -> None:
    proof = traced["Fix.Base.and_swap"]
    assert proof.tactics == (
        "intros A B [HA HB]",
        "split",
        "{",
        "exact HB",
        "}",
        "{",
        "exact HA",
        "}",
    )
    hyps = "A, B : Prop\n  HA : A\n  HB : B\n  ============================\n"
    assert proof.steps[2].state == f"2 goals\n  \n  {hyps}  B\n\ngoal 2 is:\n A"
    assert proof.steps[3].state == f"1 goal\n  \n  {hyps}  B"
    assert proof.steps[4].state == "1 goal\n\ngoal 1 is:\n A"
    # Inside the last block the goals are done, but the block must still close.
    assert proof.steps[7].state == "No more goals."


def test_several_goals_without_structure(traced: dict[str, TracedTheorem]) -> None:
    proof = traced["Fix.Base.two_goals"]
    assert proof.tactics == ("intros P Q HP HQ", "split", "exact HP", "exact HQ")
    hyps = "P, Q : Prop\n  HP : P\n  HQ : Q\n  ============================\n"
    assert proof.steps[2].state == f"2 goals\n  \n  {hyps}  P\n\ngoal 2 is:\n Q"
    assert proof.steps[3].state == f"1 goal\n  \n  {hyps}  Q"


def test_proof_with_ellipsis_is_expanded(traced: dict[str, TracedTheorem]) -> None:
    proof = traced["Fix.Base.M.double_0"]
    assert proof.tactics == ("unfold double; reflexivity",)
    assert expand_ellipsis("intros...", "auto with arith") == "intros; auto with arith."
    assert expand_ellipsis("split...", "simpl; auto") == "split; (simpl; auto)."
    assert expand_ellipsis("split...", None) == "split."


def test_traced_proofs_replay_and_verify_in_a_fresh_environment(
    traced: dict[str, TracedTheorem],
) -> None:
    for name in ("Fix.Base.add_0_r", "Fix.Base.and_swap", "Fix.Uses.use_add_0_r"):
        proof = traced[name]
        assert check_traced(proof.theorem, proof.steps) == "", name


def test_wrongly_reconstructed_context_is_detected(traced: dict[str, TracedTheorem]) -> None:
    proof = traced["Fix.Base.M.double_0"]
    # Context cut before `double` is defined: the statement cannot be stated.
    early = dataclasses.replace(proof.theorem, offset=0)
    assert check_traced(early, proof.steps, verify=False).startswith("context:")
    # Context running past the theorem: it already exists there.
    text = Path(proof.theorem.file).read_text(encoding="utf-8")
    late = dataclasses.replace(proof.theorem, offset=text.index("End M."))
    assert check_traced(late, proof.steps, verify=False).startswith("context:")
    # A state recorded under another context differs from the replayed one.
    other = traced["Fix.Base.add_0_r"]
    wrong = (TracedStep(other.steps[0].state, proof.steps[0].tactic),)
    assert "differs" in check_traced(proof.theorem, wrong, verify=False)


def test_batch_recheck_rejects_a_bad_proof_and_keeps_the_others(project: Path) -> None:
    path = project / "Base.v"
    args = project_library(project).args_for(path)
    decls = [d for d in parse_declarations(path, args) if d.ending == "Qed"]
    proofs = [(d, proof_steps(d), proof_using(d)) for d in decls]
    proofs[0] = (decls[0], ["intros n", "reflexivity"], None)  # n + 0 = n is not by reflexivity
    verdicts = verify_file_proofs(path, args, proofs)
    assert [v.ok for v in verdicts] == [False, True, True, True]
    assert "coqc rejected the proof" in verdicts[0].reason


def test_batch_recheck_blames_a_proof_that_breaks_later_text(tmp_path: Path) -> None:
    source = tmp_path / "Later.v"
    source.write_text(
        "Section S.\nVariable h : False.\n"
        "Lemma a : True.\nProof. destruct h. Qed.\n"
        "End S.\n"
        "Definition use_a (x : False) : True := a x.\n"
        "Lemma b : True /\\ True.\nProof. split; exact I. Qed.\n"
        "Check undefined_name.\n"
        "Lemma c : True.\nProof. exact I. Qed.\n",
        encoding="utf-8",
    )
    a, b, c = parse_declarations(source, ())
    # a's traced proof (not using the section variable h) passes by itself,
    # but then `a` takes no argument after the section and `use_a` fails;
    # the `Check undefined_name.` before c fails whatever the proofs are.
    verdicts = verify_file_proofs(
        source, (), [(a, ["exact I"], None), (b, proof_steps(b), None), (c, proof_steps(c), None)]
    )
    assert [v.ok for v in verdicts] == [False, True, False]
    assert "later text" in verdicts[0].reason
    assert "text before it" in verdicts[2].reason and "undefined_name" in verdicts[2].reason


def test_failures_are_counted_by_reason(tmp_path: Path) -> None:
    source = tmp_path / "Bad.v"
    source.write_text(
        "Lemma ok : True.\nProof. exact I. Qed.\n"
        # A tactic called by its qualified name is a tactic, not a command.
        "Module T.\nLtac solve := exact I.\nEnd T.\n"
        "Lemma qualified : True.\nProof. T.solve. Qed.\n"
        # `fix NAME` reuses the theorem's name, which the tactic check refuses.
        "Lemma self : nat -> True.\nProof. fix self 1. intros; exact I. Qed.\n"
        # Last, so that its failure does not break the context of others.
        "Lemma broken : True.\nProof. exact 0. Qed.\n",
        encoding="utf-8",
    )
    result = trace_file(source, ())
    assert [t.theorem.short_name for t in result.theorems] == ["ok", "qualified"]
    assert result.theorems[1].tactics == ("T.solve",)
    assert (result.found, result.traced) == (4, 2)
    assert result.failure_counts() == {SELF_REFERENCE: 1, TACTIC_ERROR: 1}
