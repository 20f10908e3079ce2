"""The SQLite log of a run: what a real search writes, atomic per-theorem
commits, resuming a run by its config, pass@k read back from the attempts
table, and the example queries of search/SCHEMA.md."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from benchmarks.passk import load_attempts, pass_at_k, pass_at_k_curve
from lean_env.coq.source import parse_declarations
from lean_env.environment import open_environment
from lean_env.errors import UserError
from search.budget import Budget
from search.config import SearchConfig
from search.db import SearchDB, record_of
from search.generator import FixedTacticGenerator
from search.tree_search import TreeSearch

SOURCE = """\
Theorem and_intro : forall A B : Prop, A -> B -> A /\\ B.
Proof. Admitted.

Theorem not_succ : forall n : nat, n = S n.
Proof. Admitted.
"""
BROKEN = "Definition broken := undefined_thing.\nTheorem t : True.\nProof. Admitted.\n"
SCHEMA_MD = Path(__file__).resolve().parents[1] / "search" / "SCHEMA.md"


def gen() -> FixedTacticGenerator:
    return FixedTacticGenerator(tactics=("intros", "split", "assumption"), per_name=(), seed=3)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Real search results (computed once for the module): best-first proves
    one, rollouts on two, one theorem whose environment never starts."""
    directory = tmp_path_factory.mktemp("db")
    (directory / "Scratch.v").write_text(SOURCE, encoding="utf-8")
    (directory / "Broken.v").write_text(BROKEN, encoding="utf-8")
    decls = {d.theorem.short_name: d for d in parse_declarations(directory / "Scratch.v")}
    (broken_decl,) = parse_declarations(directory / "Broken.v")
    broken = broken_decl.theorem
    bf = TreeSearch(SearchConfig(strategy="best-first"))
    ro = TreeSearch(SearchConfig(strategy="rollouts"))
    budget = Budget(wall_clock=60, max_passes=20, max_depth=6)
    return {
        "best_first": [bf.search(decls["and_intro"].theorem, open_environment, gen(), budget)],
        "rollouts": [
            ro.search(decls["and_intro"].theorem, open_environment, gen(), budget),
            ro.search(decls["not_succ"].theorem, open_environment, gen(), budget),
            ro.search(broken, open_environment, gen(), budget),
        ],
    }


def test_a_search_is_written_in_full(tmp_path, results) -> None:
    (result,) = results["best_first"]
    with SearchDB(tmp_path / "run.sqlite") as db:
        run_id, resumed = db.open_run({"strategy": "best-first"}, total=1)
        assert not resumed
        db.write(run_id, record_of(result, benchmark_id=7, split="test"))
    conn = sqlite3.connect(tmp_path / "run.sqlite")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    row = conn.execute(
        "SELECT status, proof, benchmark_id, attempts, successes FROM theorems"
    ).fetchone()
    assert row == ("proved", json.dumps(result.proof), 7, 1, 1)
    assert conn.execute("SELECT count(*) FROM nodes").fetchone()[0] == len(result.tree)
    assert conn.execute("SELECT count(*) FROM edges").fetchone()[0] == len(result.tree.edges())
    kinds = dict(conn.execute("SELECT kind, count(*) FROM nodes GROUP BY kind").fetchall())
    assert kinds["finished"] >= 1 and kinds["error"] >= 1
    # The proofs table keeps each re-checked tactic path as the tree has it
    # (what expert iteration retraces); theorems.proof is the proof as
    # checked, with the `1: ` focusing added where several goals were open.
    ((verified, tactics),) = conn.execute("SELECT verified, tactics FROM proofs").fetchall()
    assert verified == 1
    assert [t.removeprefix("1: ") for t in result.proof] == json.loads(tactics)
    version, ended = conn.execute("SELECT code_version, ended_at FROM runs").fetchone()
    assert version and ended is None


def test_a_theorem_is_committed_whole_or_not_at_all(tmp_path, results) -> None:
    (result,) = results["best_first"]
    record = record_of(result)
    record.edges.append(dict(record.edges[0]))  # same primary key twice: the write fails midway
    with SearchDB(tmp_path / "run.sqlite") as db:
        run_id, _ = db.open_run({"x": 1})
        with pytest.raises(sqlite3.IntegrityError):
            db.write(run_id, record)
        for table in ("theorems", "nodes", "edges", "attempts", "proofs"):
            assert db.db[table].count == 0, table
        assert db.finished(run_id) == set()
        db.write(run_id, record_of(result))
        assert db.finished(run_id) == {result.theorem.name}


def test_same_config_resumes_the_run(tmp_path, results) -> None:
    path = tmp_path / "run.sqlite"
    with SearchDB(path) as db:
        run_id, _ = db.open_run({"budget": 1, "split": "test"}, total=3)
        db.write(run_id, record_of(results["rollouts"][0]))
    with SearchDB(path) as db:
        again, resumed = db.open_run(
            {"split": "test", "budget": 1}, total=3
        )  # key order does not matter
        assert (again, resumed) == (run_id, True)
        assert db.finished(run_id) == {results["rollouts"][0].theorem.name}
        other, resumed = db.open_run({"budget": 2, "split": "test"})
        assert other != run_id and not resumed


def test_pass_at_k_from_the_attempts_table(tmp_path, results) -> None:
    path = tmp_path / "run.sqlite"
    with SearchDB(path) as db:
        run_id, _ = db.open_run({"rollouts": True})
        for result in results["rollouts"]:
            db.write(run_id, record_of(result, store_tree=False))
        assert db.db["nodes"].count == 0 and db.summary(run_id)["start_failed"] == 1
    attempts = load_attempts(path)
    proved, failed, broken = results["rollouts"]
    assert attempts[broken.theorem.name] == []  # never started: still counted
    assert attempts[proved.theorem.name] == [a.success for a in proved.attempts]
    c = sum(a.success for a in proved.attempts)
    assert 0 < c < 20 and not any(attempts[failed.theorem.name])
    (p1, p4) = pass_at_k_curve(attempts, [1, 4])
    assert p1.estimate == pytest.approx(c / 20 / 3)
    assert p4.estimate == pytest.approx(pass_at_k(20, c, 4) / 3)


def _schema_queries() -> dict[str, str]:
    text = SCHEMA_MD.read_text(encoding="utf-8")
    return dict(re.findall(r"### (.+?)\n+```sql\n(.*?)```", text, re.S))


def test_schema_md_queries_run_and_answer(tmp_path, results) -> None:
    path = tmp_path / "run.sqlite"
    with SearchDB(path) as db:
        run_id, _ = db.open_run({"rollouts": True})
        for result in results["rollouts"]:
            db.write(run_id, record_of(result))
    queries = _schema_queries()
    assert len(queries) >= 2
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    proofs = conn.execute(queries["All proofs found"]).fetchall()
    proved = results["rollouts"][0]
    expected = [(proved.theorem.name, list(t)) for t, v in proved.verifications.items() if v.ok]
    assert [(r["theorem"], json.loads(r["tactics"])) for r in proofs] == expected
    assert [t.removeprefix("1: ") for t in proved.proof] == expected[0][1]
    (rate,) = conn.execute(queries["pass@1 and proved fraction per run"]).fetchall()
    c = sum(a.success for a in proved.attempts)
    assert rate["theorems"] == 3 and rate["proved"] == 1
    assert rate["pass_at_1"] == pytest.approx(c / 20 / 3)
    for name, sql in queries.items():  # every example at least runs
        conn.execute(sql).fetchall(), name


def test_not_a_database_is_a_user_error(tmp_path) -> None:
    bad = tmp_path / "junk.sqlite"
    bad.write_text("this is not sqlite, " * 100)
    with pytest.raises(UserError, match="cannot open"):
        SearchDB(bad)
