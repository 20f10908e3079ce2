"""`dco search` end to end on a small benchmark: the summary (start failures
in the denominator), resuming, worker processes, a run killed with SIGKILL
and restarted, and bad input."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import kill9

from benchmarks.format import Benchmark, BenchmarkTheorem, write_benchmark
from lean_env.coq.source import parse_declarations
from prover.cli import main

GOOD = """\
Theorem and_intro : forall A B : Prop, A -> B -> A /\\ B.
Proof. split; assumption. Qed.

Theorem not_succ : forall n : nat, n = S n.
Proof. Admitted.

Theorem or_left : forall A B : Prop, A -> A \\/ B.
Proof. intros; left; assumption. Qed.
"""
BROKEN = "Definition broken := undefined_thing.\nTheorem t : True.\nProof. exact I. Qed.\n"


@pytest.fixture
def bench(tmp_path: Path) -> Path:
    """A benchmark directory: three theorems of Good.v (one unprovable), one
    whose file's context does not compile."""
    theorems = []
    for name, text in [("Good.v", GOOD), ("Broken.v", BROKEN)]:
        (tmp_path / name).write_text(text, encoding="utf-8")
        for decl in parse_declarations(tmp_path / name):
            theorems.append(BenchmarkTheorem(len(theorems), decl.theorem, "test", decl.tactics))
    write_benchmark(tmp_path / "bench", Benchmark("tiny", theorems, [], {"library": "tiny"}))
    return tmp_path / "bench"


def rows(db: Path) -> dict[str, tuple]:
    if not db.exists():
        return {}
    conn = sqlite3.connect(db)
    try:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'theorems'").fetchone():
            return {}  # the run is still creating its tables
        return {
            r[0]: r[1:]
            for r in conn.execute(
                "SELECT theorem, status, start_failed, finished_at, nodes FROM theorems"
            )
        }
    finally:
        conn.close()


def test_search_a_benchmark_then_resume(bench, tmp_path, capsys) -> None:
    db = tmp_path / "out.sqlite"
    args = [
        "search",
        "--benchmark",
        str(bench),
        "--split",
        "test",
        "--generator",
        "symbolic",
        "--strategy",
        "best-first",
        "--budget",
        "2",
        "--db",
        str(db),
        "--quiet",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "run 1" in out and "4 theorems" in out
    last = out.strip().splitlines()[-1]
    assert last.startswith(
        "proved 2/4 (50.0%); failed 1 (environment did not start: 1); open (budget spent) 1"
    )
    first = rows(db)
    assert first["Broken.t"][:2] == ("failed", 1)
    assert first["Good.not_succ"][0] == "open"

    assert main(args) == 0
    out = capsys.readouterr().out
    assert "resuming run 1" in out and "4 of 4 theorems done" in out
    assert rows(db) == first  # nothing redone


def test_rollouts_in_worker_processes(bench, tmp_path, capsys) -> None:
    db = tmp_path / "out.sqlite"
    args = [
        "search",
        "--benchmark",
        str(bench),
        "--strategy",
        "rollouts",
        "--passes",
        "32",
        "--budget",
        "2",
        "--db",
        str(db),
        "--workers",
        "2",
        "--quiet",
        "--no-tree",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "proved 2/4" in out.strip().splitlines()[-1]
    conn = sqlite3.connect(db)
    per_theorem = dict(
        conn.execute("SELECT theorem, count(*) FROM attempts GROUP BY theorem").fetchall()
    )
    assert per_theorem["Good.and_intro"] == 32 and "Broken.t" not in per_theorem
    assert conn.execute("SELECT count(*) FROM nodes").fetchone()[0] == 0


def test_killed_run_resumes_and_loses_nothing_committed(bench, tmp_path, capsys) -> None:
    db = tmp_path / "out.sqlite"
    args = ["search", "--benchmark", str(bench), "--budget", "4", "--db", str(db), "--quiet"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "prover.cli", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    try:
        # Theorems run in (file, offset) order: Broken.t, then Good.and_intro,
        # then Good.not_succ, which searches for its full 4 s: kill it then.
        while time.monotonic() < deadline:
            if len(rows(db)) >= 2:
                break
            assert proc.poll() is None, "dco search ended before it could be killed"
            time.sleep(0.05)
    finally:
        kill9(proc)
    before = rows(db)
    assert set(before) == {"Broken.t", "Good.and_intro"}
    assert main([*args, "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "resuming run 1" in out and "2 of 4 theorems done" in out
    after = rows(db)
    assert len(after) == 4 and all(after[name] == row for name, row in before.items())
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
    assert conn.execute("SELECT ended_at IS NOT NULL FROM runs").fetchone()[0] == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--generator", "oracle"], "unknown generator 'oracle'"),
        (["--strategy", "rollouts"], "needs --passes"),
        (["--budget", "0"], "argument --budget: expected seconds"),
        (["--theorem", "nope"], "'nope' is not in benchmark"),
    ],
)
def test_bad_input_is_one_line(bench, tmp_path, capsys, extra, message) -> None:
    args = ["search", "--benchmark", str(bench), "--db", str(tmp_path / "o.sqlite"), *extra]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_missing_benchmark_is_one_line(tmp_path, capsys) -> None:
    assert (
        main(["search", "--benchmark", str(tmp_path / "none"), "--db", str(tmp_path / "o.sqlite")])
        == 2
    )
    err = capsys.readouterr().err
    assert err.startswith("error: benchmark") and err.count("\n") == 1
