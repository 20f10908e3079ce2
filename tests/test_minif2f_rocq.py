"""miniF2F-rocq (``minif2f-rocq:PATH``): the loader on a fixture in the
published layout (both file endings, a Coq 9 ``Stdlib`` import, a Coquelicot
import, a statement Coq rejects), the benchmark prelude applied identically
for every prover, ``dco evaluate`` on it with the real coqtop/coqc, and the
real shared copy of the benchmark when it is present."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from benchmarks.loader import benchmark_prelude, load_benchmark
from benchmarks.minif2f_rocq import NAME, PRELUDE, add_prelude, map_stdlib
from lean_env.coq.environment import CoqEnvironment
from lean_env.errors import UserError
from prover.cli import main
from prover.generators import NAMED_GENERATORS, make_generator
from search.runner import theorem_for

REPO = Path(__file__).resolve().parents[1]

PROBLEMS = {
    # Ends "Proof. Admitted."; needs lra, which only the prelude brings.
    "test/p_reals.v": "Require Import Reals.\nOpen Scope R_scope.\n\n"
    "Theorem p_reals : forall x y : R, x = 2 -> y = x + 1 -> y = 3.\nProof.\nAdmitted.\n",
    # Ends "Proof." alone; a Coq 9 import.
    "test/p_stdlib.v": "From Stdlib Require Import ZArith.\nOpen Scope Z_scope.\n\n"
    "Theorem p_stdlib : forall x : Z, 2 * x - x = Stdlib.ZArith.BinInt.Z.add x 0.\nProof.\n",
    # A Coquelicot statement, with a definition of the file's own.
    "test/p_coquelicot.v": "Require Import Reals.\nRequire Import Coquelicot.Coquelicot.\n"
    "Open Scope R_scope.\nDefinition sq (x : R) := x * x.\n\n"
    "Theorem p_coquelicot : forall x : R, is_derive sq x (2 * x).\nProof.\nAdmitted.\n",
    # Coq rejects the statement: a start failure, never dropped.
    "test/p_broken.v": "Require Import Arith.\n\n"
    "Theorem p_broken : forall n : nat, n + undefined_constant = n.\nProof.\nAdmitted.\n",
    "valid/v_nat.v": "Require Import Arith.\n\nTheorem v_nat : forall n : nat, n + 0 = n.\nProof.\n",
}


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A miniF2F-rocq checkout in the published layout; prepared copies go to
    a DCO_DATA of the test's own."""
    root = tmp_path / "miniF2F-rocq"
    for rel, text in PROBLEMS.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    monkeypatch.setenv("DCO_DATA", str(tmp_path / "data"))
    return root


def context_of(theorem) -> str:
    return Path(theorem.file).read_text(encoding="utf-8")[: theorem.offset]


def test_loader_splits_names_prelude_and_stdlib_mapping(checkout: Path) -> None:
    bench = load_benchmark(f"{NAME}:{checkout}")
    assert {t.name for t in bench.theorems("test")} == {
        "p_reals",
        "p_stdlib",
        "p_coquelicot",
        "p_broken",
    }
    assert [t.name for t in bench.theorems("val")] == ["v_nat"]
    assert bench.meta["prelude"] == PRELUDE and bench.meta["splits"] == {"test": 4, "val": 1}
    for bt in bench.theorem_list:
        context = context_of(bt.theorem)
        assert context.count(PRELUDE) == 1, bt.name
        # After the file's imports, before its definitions and the statement.
        before, _, after = context.partition(PRELUDE)
        assert "Require Import" in before and "Require" not in after
        assert bt.theorem.statement.startswith(f"Theorem {bt.name}")
        assert "Admitted" not in bt.theorem.statement
    stdlib = bench.by_name("p_stdlib").theorem
    assert "Stdlib" not in Path(stdlib.file).read_text(encoding="utf-8")
    assert "From Coq Require Import ZArith." in context_of(stdlib)
    assert "Coq.ZArith.BinInt.Z.add" in stdlib.statement
    coquelicot = context_of(bench.by_name("p_coquelicot").theorem)
    assert coquelicot.index(PRELUDE) < coquelicot.index("Definition sq")
    assert (
        benchmark_prelude(f"{NAME}:{checkout}") == PRELUDE
        and benchmark_prelude("coq-stdlib") is None
    )


def test_prelude_and_mapping_helpers() -> None:
    assert map_stdlib(
        "From Stdlib Require Import Reals.\nCheck Stdlib.Reals.Rdefinitions.R.\n"
    ) == ("From Coq Require Import Reals.\nCheck Coq.Reals.Rdefinitions.R.\n")
    assert map_stdlib("Definition Stdlib_x := 1.") == "Definition Stdlib_x := 1."
    assert add_prelude("Theorem t : True.\nProof.\n").startswith(PRELUDE + "\n")
    text = (
        "Require Import Arith.\nOpen Scope nat_scope.\nRequire Import List.\nDefinition d := 1.\n"
    )
    out = add_prelude(text)
    assert out.index(PRELUDE) > out.index("Require Import List.") and out.index(
        PRELUDE
    ) < out.index("Definition")


def test_missing_or_wrong_path_names_where_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="github.com/LLM4Rocq/miniF2F-rocq"):
        load_benchmark(f"{NAME}:{tmp_path / 'nowhere'}")
    (tmp_path / "test").mkdir()
    with pytest.raises(UserError, match="no test/\\*.v.*LLM4Rocq"):
        load_benchmark(f"{NAME}:{tmp_path}")
    with pytest.raises(UserError, match="give a path"):
        load_benchmark(f"{NAME}:")


def test_prelude_is_identical_for_every_prover(checkout: Path) -> None:
    """Every generator opens the problem in the same context (the prepared
    file, with the prelude), so a proof that needs the prelude's ``lra`` is
    checked the same way whichever prover found it; CoqHammer only adds its
    import after that context."""
    theorem = load_benchmark(f"{NAME}:{checkout}").by_name("p_reals").theorem
    scripts = {}
    for spec in NAMED_GENERATORS:
        opened = theorem_for(theorem, make_generator(spec, 0))
        assert (opened.file, opened.offset, opened.statement) == (
            theorem.file,
            theorem.offset,
            theorem.statement,
        )
        with CoqEnvironment(opened, tactic_timeout=60) as env:
            result = env.run_tactic(env.initial_state, "intros; subst; lra")
            assert type(result).__name__ == "ProofFinished", (spec, result)
            check = env.verify(["intros; subst; lra"])
        assert check.ok, (spec, check.reason)
        scripts[spec] = check.script
    prefix = context_of(theorem)
    for spec, script in scripts.items():
        assert script.startswith(prefix) and script.count(PRELUDE) == 1, spec
    assert "Hammer" in scripts["hammer"] and "Hammer" not in scripts["symbolic"]


def test_evaluate_counts_start_failures_with_reasons(
    checkout: Path, tmp_path: Path, capsys
) -> None:
    out, db = tmp_path / "out", tmp_path / "runs.sqlite"
    code = main(
        [
            "evaluate",
            "--benchmark",
            f"{NAME}:{checkout}",
            "--split",
            "test",
            "--generator",
            "symbolic-arith",
            "--strategy",
            "best-first",
            "--budget",
            "20",
            "--out",
            str(out),
            "--db",
            str(db),
            "--quiet",
        ]
    )
    assert code == 0, capsys.readouterr().err
    results = json.loads((out / "results.json").read_text())
    assert results["benchmark"].startswith("minif2f-rocq") and results["prelude"] == PRELUDE
    (member,) = results["models"]
    assert member["label"] == results["config"]["members"][0]["generator"] == "symbolic-arith"
    assert member["total"] == 4 and member["start_failed"] == 1  # in the denominator
    conn = sqlite3.connect(db)
    rows = {
        r[0]: r[1:]
        for r in conn.execute("SELECT theorem, status, start_failed, reason FROM theorems")
    }
    conn.close()
    assert rows["p_broken"][1] == 1 and "undefined_constant" in rows["p_broken"][2]
    assert rows["p_coquelicot"][1] == 0  # Coquelicot's statement loads
    assert rows["p_stdlib"][1] == 0  # so does the mapped Coq 9 import
    assert rows["p_reals"][0] == "proved"  # lra, in scope through the prelude only


def test_valid_is_accepted_as_the_val_split(checkout: Path, tmp_path: Path, capsys) -> None:
    code = main(
        [
            "search",
            "--benchmark",
            f"{NAME}:{checkout}",
            "--split",
            "valid",
            "--generator",
            "symbolic-arith",
            "--budget",
            "20",
            "--db",
            str(tmp_path / "s.sqlite"),
            "--quiet",
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert "proved 1/1" in capsys.readouterr().out


def test_statement_check_lists_what_does_not_load(checkout: Path, tmp_path: Path, capsys) -> None:
    """``python -m benchmarks.statement_check``: every test statement opened
    in real coqtop, none searched; the broken one is listed with Coq's reason
    and the report is also written to ``--out``."""
    from benchmarks.statement_check import main as check_main

    out = tmp_path / "load.json"
    assert check_main([f"{NAME}:{checkout}", "--split", "test", "--out", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert json.loads(capsys.readouterr().out) == report
    assert (report["theorems"], report["loaded"], report["split"]) == (4, 3, "test")
    assert list(report["failures"]) == ["p_broken"]
    assert "undefined_constant" in report["failures"]["p_broken"]


def test_root_closers_reports_which_tactic_closes_which_problem(
    checkout: Path, tmp_path: Path, capsys
) -> None:
    """``python -m benchmarks.root_closers`` with real coqtop on the test
    split: ``lra`` (in scope through the prelude) closes the Reals problem at
    the root and nothing else does; ``reflexivity`` closes nothing here; the
    broken statement is listed with no closer; bad ``--tactics`` is one line."""
    from benchmarks.root_closers import main as closers_main

    tactics = tmp_path / "tactics.json"
    tactics.write_text(json.dumps(["reflexivity", "intros; subst; lra"]), encoding="utf-8")
    out = tmp_path / "closers.json"
    argv = [f"{NAME}:{checkout}", "--split", "test", "--tactics", str(tactics)]
    assert closers_main([*argv, "--baseline", "1", "--out", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["closers"]["p_reals"] == {"intros; subst; lra": pytest.approx(0, abs=5)}
    assert report["closers"]["p_broken"] == {}
    assert report["closed_by_baseline"] == 0 and "p_reals" in report["only_new"]
    assert report["tactics"]["intros; subst; lra"]["alone"] >= 1
    assert report["tactics"]["reflexivity"] == {"closes": 0, "alone": 0}
    capsys.readouterr()
    tactics.write_text('{"not": "a list"}', encoding="utf-8")
    assert closers_main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "expected a JSON list" in err[0]


def shared_copy() -> Path | None:
    for base in (REPO.parent / "shared", Path("/work/shared")):
        if (base / "benchmarks" / "miniF2F-rocq" / "test").is_dir():
            return base / "benchmarks" / "miniF2F-rocq"
    return None


def test_real_shared_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The published benchmark: 244 + 244 problems, each with its prelude; one
    real problem opens and its proof passes the re-check."""
    root = shared_copy()
    if root is None:
        if os.environ.get("CI"):
            pytest.fail("CI has ../shared beside the clone; miniF2F-rocq is missing from it")
        pytest.skip("no shared copy of miniF2F-rocq here (../shared absent)")
    monkeypatch.setenv("DCO_DATA", str(tmp_path / "data"))
    bench = load_benchmark(f"{NAME}:{root}")
    assert bench.meta["splits"] == {"test": 244, "val": 244}
    assert len({t.name for t in bench.theorem_list}) == 488
    assert all(context_of(t.theorem).count(PRELUDE) == 1 for t in bench.theorem_list)
    theorem = bench.by_name("mathd_algebra_478").theorem
    with CoqEnvironment(theorem, tactic_timeout=60) as env:
        assert (
            type(env.run_tactic(env.initial_state, "intros; subst; lra")).__name__
            == "ProofFinished"
        )
        assert env.verify(["intros; subst; lra"]).ok
