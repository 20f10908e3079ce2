"""No false "PROVED", ever: escapes in the tactic text, axioms hidden in the
context, and answers kept from before the context changed. Every case runs
the real coqtop (the session) and coqc (the re-check); the stale-context
cases run `prove` end to end twice on one database, editing in between.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from lean_env.context_key import context_key
from lean_env.coq.source import parse_declarations
from lean_env.coq.verify import verify_proof
from lean_env.environment import open_environment
from lean_env.types import ProofFinished, ProofState
from prover import cli

FALSE_SOURCE = """\
Definition f := 1.
Lemma helper : True. Proof. exact I. Qed.
Theorem bad : f = 2.
Proof. Admitted.
"""

# Attempts to prove the false `bad : f = 2` (each a whole proof). None may
# verify, and none may be reported finished-and-verified by the session.
ESCAPES = [
    # unchecked casts and conversions: the kernel re-checks at Qed
    ["exact_no_check eq_refl."],
    ["vm_cast_no_check eq_refl."],
    ["native_cast_no_check eq_refl."],
    ["change_no_check (2 = 2).", "reflexivity."],
    ["exact (eq_refl : f = 2)."],
    ["exact (@eq_refl nat 2 : f = 2)."],
    ["unify f 2."],
    ["vm_compute; reflexivity."],
    ["exact ltac:(exact eq_refl)."],
    # goals left shelved, evars left open
    ["shelve."],
    ["all: shelve."],
    ["simple refine (_ : f = 2); shelve."],
    ["refine ?[x]."],
    ["evar (x : f = 2); exact x."],
    ["epose proof (_ : False) as H; destruct H."],
    ["cut False.", "intro H; destruct H.", "shelve."],
    # non-terminating or ill-typed terms the tactic engine lets through
    ["exact ((fix F (n : nat) {struct n} : f = 2 := F n) 0)."],
    ["cofix H; exact H."],
    ["exact (False_ind _ _)."],
    ["apply helper."],
    ["exact I."],
    # admitting by another name, inside other tactics
    ["abstract admit."],
    ["assert (1 = 2) by admit.", "assumption."],
    ["transitivity 1; [reflexivity | admit]."],
    ["exact ltac:(give_up)."],
    ["solve [admit]."],
    ["try admit."],
    # vernacular in all its spellings
    ["(* a comment first *) Admitted."],
    ["Fail reflexivity."],
    ["Succeed reflexivity."],
    ["Time reflexivity."],
    ['Redirect "out" Admitted.'],
    ["Opaque f.", "reflexivity."],
    ["Ltac t := idtac.", "t."],
    ['Tactic Notation "x" := idtac.'],
    ['Declare ML Module "ltac_plugin".'],
    ["Existential 1 := eq_refl."],
    ["Unset Guard Checking.", "exact ((fix F (n : nat) : f = 2 := F n) 0)."],
    ["Abort All."],
    ["Proof."],
    ["Print Assumptions bad."],
    ["Conjecture c : f = 2.", "exact c."],
    ["Hypothesis c : f = 2.", "exact c."],
    ["Instance i : f = 2.", "Admitted."],
    ["Local Unset Universe Checking."],
    # several sentences in one string, hidden in strings and layout
    ["idtac. Admitted."],
    ["reflexivity.\nAdmitted."],
    ['idtac "x". Admitted.'],
    ['idtac "Admitted.". Admitted.'],
    ["exact I.) Admitted. (*"],
    # the theorem itself, under other names
    ["exact bad."],
    ["exact Scratch.bad."],
    ["let x := constr:(bad) in exact x."],
    ["exfalso; apply bad."],
]


@pytest.fixture(scope="module")
def false_theorem(tmp_path_factory):
    path = tmp_path_factory.mktemp("escape") / "Scratch.v"
    path.write_text(FALSE_SOURCE, encoding="utf-8")
    return {d.theorem.short_name: d for d in parse_declarations(path)}["bad"].theorem


def test_escapes_never_finish_in_the_session(false_theorem) -> None:
    """Each attempt replayed from the root in one real coqtop session: a
    step may fail or be rejected, and if the session ever says "finished",
    the re-check must refuse it."""
    with open_environment(false_theorem) as env:
        for tactics in ESCAPES:
            state = env.initial_state
            for tactic in tactics:
                result = env.run_tactic(state, tactic)
                if not isinstance(result, ProofState):
                    break
                state = result
            if isinstance(result, ProofFinished):
                assert not env.verify(tactics).ok, tactics


@pytest.mark.parametrize("tactics", ESCAPES, ids=[" ".join(t)[:40] for t in ESCAPES])
def test_escapes_never_verify(false_theorem, tactics: list[str]) -> None:
    verification = verify_proof(false_theorem, tactics, timeout=120)
    assert not verification.ok, verification


# -- axioms hidden in the context ---------------------------------------------

HIDDEN = {
    "axiom": ("Axiom cheat : False.", "cheat"),
    "parameter": ("Parameter cheat : False.", "cheat"),
    "conjecture": ("Conjecture cheat : False.", "cheat"),
    "hypothesis_outside_section": ("Hypothesis cheat : False.", "cheat"),
    "admitted_lemma": ("Lemma cheat : False. Admitted.", "cheat"),
    "axiom_in_module": ("Module M. Axiom cheat : False. End M. Import M.", "cheat"),
    "axiom_in_unimported_module": ("Module M. Axiom cheat : False. End M.", "M.cheat"),
}


@pytest.mark.parametrize("kind", sorted(HIDDEN))
def test_hidden_axiom_is_shown(tmp_path: Path, capsys, kind: str) -> None:
    """`prove` names the axiom in text and JSON; `dco check` likewise."""
    declaration, name = HIDDEN[kind]
    source = tmp_path / "Hidden.v"
    source.write_text(
        f"{declaration}\nHint Resolve {name} : core.\n"
        "Theorem t : forall n, n * 0 = 1.\nProof. Admitted.\n"
    )
    db = str(tmp_path / "p.sqlite")
    base = ["prove", "--file", str(source), "--theorem", "t", "--db", db, "--budget", "30"]
    assert cli.main(base) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"PROVED Hidden.t (assumes: {name}) (found by symbolic)"
    assert cli.main([*base, "--json"]) == 0  # answered from the database, re-checked
    report = json.loads(capsys.readouterr().out)
    assert report["proved"] and report["assumes"] == [name]
    assert report["models"][0]["cached"] and report["models"][0]["rechecked"]
    proof = " ".join(t if t.endswith(".") else t + "." for t in report["proof"])
    assert (
        cli.main(["check", "--file", str(source), "--theorem", "t", "--proof", proof, "--quiet"])
        == 0
    )
    assert capsys.readouterr().out.strip() == f"VERIFIED (assumes: {name})"


def test_hidden_axiom_refused_for_benchmarks(tmp_path: Path, capsys) -> None:
    """With refusal (the default of benchmark runs) the cheat does not count,
    and the refusal is said."""
    source = tmp_path / "Hidden.v"
    source.write_text(
        "Axiom cheat : False.\nHint Resolve cheat : core.\n"
        "Theorem t : forall n, n * 0 = 1.\nProof. Admitted.\n"
    )
    code = cli.main(
        [
            "prove",
            "--file",
            str(source),
            "--theorem",
            "t",
            "--budget",
            "5",
            "--db",
            str(tmp_path / "p.sqlite"),
            "--refuse-assumptions",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert out.startswith("NOT PROVED Hidden.t:") and "refused" in out.splitlines()[0]


def test_standard_library_axioms_are_not_flagged(tmp_path: Path) -> None:
    source = tmp_path / "Classic.v"
    source.write_text(
        "Require Import Classical.\nTheorem em : forall P, P \\/ ~ P.\nProof. exact classic. Qed.\n"
    )
    theorem = parse_declarations(source)[0].theorem
    verification = verify_proof(theorem, ["exact classic."])
    assert verification.ok and verification.axioms == ("classic",)
    assert verification.assumes == ()


def test_section_variables_are_not_flagged(tmp_path: Path) -> None:
    source = tmp_path / "Sec.v"
    source.write_text(
        "Section S.\nVariable x : nat.\nHypothesis h : x = 1.\n"
        "Theorem t : x = 1.\nProof. exact h. Qed.\nEnd S.\n"
    )
    theorem = parse_declarations(source)[0].theorem
    verification = verify_proof(theorem, ["exact h."])
    assert verification.ok and verification.assumes == ()


# -- stale contexts: the same command before and after an edit ----------------


def prove_json(capsys, path: Path, db: Path, *extra: str) -> dict:
    code = cli.main(
        [
            "prove",
            "--file",
            str(path),
            "--theorem",
            "c",
            "--db",
            str(db),
            "--budget",
            "20",
            "--json",
            *extra,
        ]
    )
    report = json.loads(capsys.readouterr().out)
    assert code == (0 if report["proved"] else 1)
    return report


def assert_not_stale(report: dict, path: Path, coq_args: tuple[str, ...] | None = None) -> None:
    """Either not proved, or proved by a proof that checks on the file as it
    is now (re-checked here, independently of the command)."""
    if not report["proved"]:
        return
    theorem = {d.theorem.short_name: d for d in parse_declarations(path, coq_args)}["c"].theorem
    assert verify_proof(theorem, report["proof"]).ok, report


def compile_lib(directory: Path, text: str) -> None:
    directory.mkdir(exist_ok=True)
    (directory / "Defs.v").write_text(text)
    subprocess.run(
        ["coqc", "-Q", ".", "L", "Defs.v"], cwd=directory, check=True, capture_output=True
    )


STALE_EDITS = {
    # (text before, text after): the theorem is c, provable before the edit
    "definition": (
        "Definition f := 1.\nTheorem c : f = 1.\n",
        "Definition f := 2.\nTheorem c : f = 1.\n",
    ),
    "notation": (
        "Notation two := 1.\nTheorem c : two = 1.\n",
        "Notation two := 2.\nTheorem c : two = 1.\n",
    ),
    "infix_override": (
        "Theorem c : 1 + 1 = 2.\n",
        'Infix "+" := Nat.mul.\nTheorem c : 1 + 1 = 2.\n',
    ),
    "statement": (
        "Definition f := 1.\nTheorem c : f = 1.\n",
        "Definition f := 1.\nTheorem c : f = 2.\n",
    ),
    "axiom_removed": (
        "Definition f := 1.\nAxiom a : f = 2.\nHint Resolve a : core.\nTheorem c : f = 2.\n",
        "Definition f := 1.\nTheorem c : f = 2.\n",
    ),
    "module_body": (
        "Module M. Definition f := 1. End M.\nTheorem c : M.f = 1.\n",
        "Module M. Definition f := 2. End M.\nTheorem c : M.f = 1.\n",
    ),
    "hint_lemma_changed": (
        "Definition f := 1.\nLemma h : f = 1. Proof. reflexivity. Qed.\nTheorem c : f = 1.\n",
        "Definition f := 2.\nLemma h : f = 2. Proof. reflexivity. Qed.\nTheorem c : f = 1.\n",
    ),
    "section_hypothesis": (
        "Section S.\nVariable x : nat.\nHypothesis h : x = 1.\nTheorem c : x = 1.\n",
        "Section S.\nVariable x : nat.\nHypothesis h : x = 2.\nTheorem c : x = 1.\n",
    ),
    "fixpoint": (
        "Fixpoint g (n : nat) : nat := match n with 0 => 0 | S m => g m end.\n"
        "Theorem c : g 3 = 0.\n",
        "Fixpoint g (n : nat) : nat := match n with 0 => 1 | S m => g m end.\n"
        "Theorem c : g 3 = 0.\n",
    ),
    "name_becomes_notation": (
        "Definition f := 1.\nTheorem c : f = 1.\n",
        "Definition f0 := 1.\nNotation f := (f0 + 1).\nTheorem c : f = 1.\n",
    ),
}


@pytest.mark.parametrize("case", sorted(STALE_EDITS))
def test_edited_context_is_never_answered_from_before(tmp_path: Path, capsys, case: str) -> None:
    before, after = STALE_EDITS[case]
    path, db = tmp_path / "Edit.v", tmp_path / "p.sqlite"
    path.write_text(before + "Proof. Admitted.\n")
    first = prove_json(capsys, path, db)
    assert first["proved"], first
    path.write_text(after + "Proof. Admitted.\n")
    second = prove_json(capsys, path, db)
    assert not second["models"][0]["cached"], "an edited context must be a new search"
    assert_not_stale(second, path)


def test_the_issues_case_f_1_to_f_2(tmp_path: Path, capsys) -> None:
    path, db = tmp_path / "F.v", tmp_path / "cache.sqlite"
    path.write_text("Definition f := 1.\nTheorem c : f = 1.\nProof. Admitted.\n")
    assert prove_json(capsys, path, db)["proved"]
    path.write_text("Definition f := 2.\nTheorem c : f = 1.\nProof. Admitted.\n")
    code = cli.main(
        ["prove", "--file", str(path), "--theorem", "c", "--db", str(db), "--budget", "20"]
    )
    out = capsys.readouterr().out
    assert code == 1 and out.startswith("NOT PROVED F.c"), out


def test_unchanged_context_is_answered_and_rechecked(tmp_path: Path, capsys) -> None:
    """Text after the theorem is out of scope: the same answer, re-checked."""
    path, db = tmp_path / "Same.v", tmp_path / "p.sqlite"
    path.write_text("Definition f := 1.\nTheorem c : f = 1.\nProof. Admitted.\n")
    prove_json(capsys, path, db)
    path.write_text(
        "Definition f := 1.\nTheorem c : f = 1.\nProof. Admitted.\nDefinition z := 0.\n"
    )
    again = prove_json(capsys, path, db)
    assert again["proved"] and again["models"][0]["cached"] and again["models"][0]["rechecked"]


def test_loaded_file_outside_the_key_is_caught_by_the_recheck(tmp_path: Path, capsys) -> None:
    """`Load` of a file by absolute path elsewhere: not part of the key, so
    the database answers, and the re-check finds the proof stale."""
    lib = tmp_path / "elsewhere"
    lib.mkdir()
    (lib / "defs.v").write_text("Definition f := 1.\n")
    work = tmp_path / "work"
    work.mkdir()
    path, db = work / "G.v", work / "p.sqlite"
    path.write_text(f'Load "{lib / "defs.v"}".\nTheorem c : f = 1.\nProof. Admitted.\n')
    assert prove_json(capsys, path, db)["proved"]
    (lib / "defs.v").write_text("Definition f := 2.\n")
    report = prove_json(capsys, path, db)
    assert not report["proved"]
    assert report["models"][0]["status"] == "stale"
    assert "no longer checks" in report["models"][0]["reason"]


def test_tampered_database_proof_is_caught(tmp_path: Path, capsys) -> None:
    path, db = tmp_path / "T.v", tmp_path / "p.sqlite"
    path.write_text("Definition f := 1.\nTheorem c : f = 1.\nProof. Admitted.\n")
    assert prove_json(capsys, path, db)["proved"]
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE theorems SET proof = ?", [json.dumps(["idtac."])])
    report = prove_json(capsys, path, db)
    assert not report["proved"] and report["models"][0]["status"] == "stale"


@pytest.mark.parametrize("change", ["recompiled_library", "other_load_path", "coq_project"])
def test_load_path_changes_are_new_runs(tmp_path: Path, capsys, change: str) -> None:
    """The files under -Q/-R load paths and the flags themselves are keyed."""
    one, two = tmp_path / "one", tmp_path / "two"
    compile_lib(one, "Definition f := 1.\n")
    compile_lib(two, "Definition f := 2.\n")
    work = tmp_path / "work"
    work.mkdir()
    path, db = work / "Q.v", work / "p.sqlite"
    path.write_text("From L Require Import Defs.\nTheorem c : f = 1.\nProof. Admitted.\n")
    flags = ["--coq-args", f"-Q {one} L"]
    if change == "coq_project":
        (work / "_CoqProject").write_text(f"-Q {one} L\n")
        flags = []
    assert prove_json(capsys, path, db, *flags)["proved"]
    if change == "recompiled_library":
        compile_lib(one, "Definition f := 2.\n")
    elif change == "other_load_path":
        flags = ["--coq-args", f"-Q {two} L"]
    else:
        (work / "_CoqProject").write_text(f"-Q {two} L\n")
    report = prove_json(capsys, path, db, *flags)
    assert not report["models"][0]["cached"]
    assert not report["proved"], report


def test_context_key_parts(tmp_path: Path) -> None:
    path = tmp_path / "K.v"
    path.write_text("Definition f := 1.\nTheorem c : f = 1.\nProof. Admitted.\n")
    theorem = parse_declarations(path)[0].theorem
    key = context_key(theorem)
    assert key["coq"].startswith("The Coq Proof Assistant")
    assert set(key) == {"context", "statement", "coq_args", "loads", "coq"}
    (tmp_path / "Other.vo").write_bytes(b"x")  # a compiled file beside it may be loaded
    assert context_key(theorem)["loads"] != key["loads"]
    os.utime(path, (0, 0))  # the theorem's own file is keyed by its text only
    assert context_key(parse_declarations(path)[0].theorem)["context"] == key["context"]
