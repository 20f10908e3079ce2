"""The automation generators: ``symbolic-arith`` (the symbolic list plus the
arithmetic deciders) and ``hammer`` (CoqHammer, with the real plugin and ATPs
that scripts/setup.sh installs), including what the re-check accepts when
CoqHammer's import runs before the statement."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lean_env.coq.tactic_check import check_tactic
from lean_env.coq.verify import verify_proof
from lean_env.environment import open_environment
from lean_env.types import ProofFinished, ProofState, Theorem
from prover.generators import make_generator
from search.automation import (
    ARITH_TACTICS,
    CLOSERS,
    NAT_TO_Z_DIV_MOD,
    REWRITE_DEFINITIONS,
    HammerGenerator,
    arith_generator,
    closer_generator,
    hammer_preamble,
)
from search.budget import Budget
from search.config import SearchConfig
from search.generator import DEFAULT_TACTICS
from search.runner import Job, run_jobs, theorem_for

REPO = Path(__file__).resolve().parents[1]


def test_arith_list_extends_the_symbolic_one_and_stays_vernacular_free() -> None:
    names = {t.split()[-1] for t in ARITH_TACTICS}
    assert {"lia", "nia", "lra", "nra", "field", "ring", "2"} <= names  # "psatz Z 2"
    assert any(t.startswith("psatz") for t in ARITH_TACTICS)
    generator = make_generator("symbolic-arith", 0)
    listed = [c.tactic for c in generator.candidates("")]
    assert set(DEFAULT_TACTICS) | set(ARITH_TACTICS) == set(listed)
    for tactic in listed:
        assert check_tactic(tactic).text.rstrip(".") == tactic  # a plain tactic, no Require
    # Cheap deciders are tried before the symbolic list, slow ones after it.
    assert listed.index("lra") < listed.index("intros") < listed.index("nra")
    assert arith_generator().generate(["goal"], 3, sample=False)[0][0].tactic == "lia"


def file_theorem(tmp_path: Path, context: str, statement: str) -> Theorem:
    path = tmp_path / "Ctx.v"
    path.write_text(context, encoding="utf-8")
    return Theorem("t", statement, file=str(path), line=1, offset=len(context))


def test_hammer_preamble_axioms_are_not_the_theorems_context(tmp_path: Path) -> None:
    """CoqHammer's import loads Program.Equality, hence JMeq_eq, which rests
    on the axiom ``Eqdep.Eq_rect_eq.eq_rect_eq``. A
    proof that uses it passes coqc, but the re-check looks axioms up in the
    theorem's own context, without the preamble, and refuses it; with the
    same import in the file's own text, the axiom is the context's and counts."""
    statement = "Theorem t : forall (A : Type) (x y : A), Coq.Logic.JMeq.JMeq x y -> x = y."
    theorem = file_theorem(tmp_path, "Definition d := 0.\n", statement)
    opened = theorem_for(theorem, HammerGenerator())
    assert opened.preamble == hammer_preamble() and opened.offset == theorem.offset
    refused = verify_proof(opened, ["intros A x y H", "apply Coq.Logic.JMeq.JMeq_eq", "exact H"])
    assert not refused.ok and "not in the context" in refused.reason, refused.reason
    assert "eq_rect_eq" in refused.reason
    own = file_theorem(tmp_path, "From Hammer Require Import Hammer.\n", statement)
    accepted = verify_proof(own, ["intros A x y H", "apply Coq.Logic.JMeq.JMeq_eq", "exact H"])
    assert accepted.ok and "eq_rect_eq" in " ".join(accepted.axioms), accepted.reason


def test_hammer_generator_proves_and_the_proof_is_rechecked(tmp_path: Path) -> None:
    """The real plugin: a search with ``--generator hammer`` on a file whose
    context does not import CoqHammer; its tactic closes the goal and the
    coqc re-check (with the import before the statement) accepts it."""
    theorem = file_theorem(
        tmp_path,
        "Require Import List.\n",
        "Theorem t : forall (A : Type) (P Q : A -> Prop) (a : A), (forall x, P x /\\ Q x) -> Q a.",
    )
    (record,) = run_jobs(
        [Job(theorem)],
        SearchConfig(),
        Budget(wall_clock=120, tactic_timeout=60),
        lambda _: HammerGenerator(),
        store_tree=False,
    )
    assert record.theorem["status"] == "proved", record.theorem["reason"]
    proof = record.theorem["proof"]
    assert any(t in proof for t in ("qauto", "sauto", "hauto", "sfirstorder", "hammer")), proof


def test_missing_atp_is_one_clear_line(tmp_path: Path) -> None:
    """With no ATP on the PATH (coqc only), ``--generator hammer`` stops
    before any work with one line on stderr and exit code 2."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("coqc", "coqtop"):
        (bin_dir / tool).symlink_to(subprocess.check_output(["which", tool], text=True).strip())
    env = {**os.environ, "PATH": str(bin_dir), "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "prover.cli",
            "evaluate",
            "--generator",
            "hammer",
            "--strategy",
            "best-first",
            "--budget",
            "5",
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "hammer" in lines[0] and "eprover" in lines[0], lines
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("spec", ["symbolic-arith", "hammer"])
def test_named_generators_label_their_members(spec: str) -> None:
    from prover.ensemble import resolve_members

    (member,) = resolve_members(
        ensemble=None, models="models", model=None, generator=spec, benchmark="coq-stdlib"
    )
    assert member.label == member.generator == spec


def test_preprocessing_tactics_close_the_competition_shapes(tmp_path: Path) -> None:
    """The two preprocessing steps of the arithmetic list, in real coqtop, on
    a file that imports only ``Arith`` and the deciders (as most miniF2F
    problems do): a remainder problem over ``nat`` closes only after
    ``NAT_TO_Z_DIV_MOD`` and a function given by its defining equation only
    after ``REWRITE_DEFINITIONS``. The plain deciders fail on both, and each
    proof passes the coqc re-check."""
    context = "Require Import Arith Reals.\nFrom Coq Require Import Lia Lra.\nOpen Scope R_scope.\n"
    cases = {
        "Theorem t : forall x : nat, (x < 100 -> x * 9 mod 100 = 1 -> x = 89)%nat.": (
            f"intros; {NAT_TO_Z_DIV_MOD}; lia",
            "intros; lia",
        ),
        "Theorem t : forall (c : R) (f : R -> R), (forall x, f x = c * x^2 - 3) -> f 2 = 9 -> c = 3.": (
            f"intros; {REWRITE_DEFINITIONS}; lra",
            "intros; lra",
        ),
    }
    for statement, (tactic, plain) in cases.items():
        assert tactic in ARITH_TACTICS and plain in ARITH_TACTICS
        theorem = file_theorem(tmp_path, context, statement)
        assert not verify_proof(theorem, [plain]).ok, statement
        checked = verify_proof(theorem, [tactic])
        assert checked.ok, (statement, checked.reason)


def test_closers_end_the_goal_or_leave_it_as_it_was(tmp_path: Path) -> None:
    """The hybrid's closing attempts (``CLOSERS``), in real coqtop: on a goal
    none of them can prove each fails or leaves the state unchanged (so it
    adds no state to a search), and on goals they can prove they close it.
    The list's steps (``intros``, ``simpl``, ``split``, ...) are not in it."""
    listed = set(ARITH_TACTICS) | set(DEFAULT_TACTICS)
    assert set(CLOSERS) - listed == {"solve [firstorder]"}
    assert not {"intros", "simpl", "split", "subst", "constructor", "intuition"} & set(CLOSERS)
    assert {"lia", "lra", "auto", "easy", "nia"} <= set(CLOSERS)
    generated = closer_generator().generate(["goal"], 64, sample=False)[0]
    assert [c.tactic for c in generated] == list(CLOSERS)
    context = "Require Import Arith Reals.\nFrom Coq Require Import Lia Lra Psatz Field.\n"
    unprovable = file_theorem(
        tmp_path, context, "Theorem t : forall (n m : nat) (P : Prop), P /\\ n = m."
    )
    with open_environment(unprovable, tactic_timeout=5) as env:
        root = env.initial_state
        for tactic in CLOSERS:
            result = env.run_tactic(root, tactic)
            assert not isinstance(result, ProofFinished), tactic
            if isinstance(result, ProofState):
                assert result.goals == root.goals, tactic
    provable = file_theorem(tmp_path, context, "Theorem t : forall n : nat, n + 0 = n.")
    with open_environment(provable, tactic_timeout=5) as env:
        closed = [
            t for t in CLOSERS if isinstance(env.run_tactic(env.initial_state, t), ProofFinished)
        ]
    assert {"lia", "intros; lia"} <= set(closed), closed
