"""`dco evaluate` under abuse, in real subprocesses with real coqtop and a
real SQLite file (symbolic generator): kill -9 then resume gives the
results of an uninterrupted run with no duplicated rows; two evaluations
of one database at once (same run: a clear refusal; different runs: both
complete) leave it intact; Ctrl-C (SIGINT) writes and reports the partial
results."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import default_sigint, kill9, make_bench, query

from prover.cli import main


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_bench(tmp_path_factory.mktemp("rel"))[0]


def argv(bench: Path, out: Path, db: Path, passes: int) -> list[str]:
    return [
        "evaluate",
        "--benchmark",
        str(bench),
        "--generator",
        "symbolic",
        "--strategy",
        "rollouts",
        "--passes",
        str(passes),
        "--budget",
        "120",
        "--out",
        str(out),
        "--db",
        str(db),
        "--quiet",
        "--no-tree",
    ]


def start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "prover.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,  # the Ctrl-C test's run must see SIGINT
    )


def committed(db: Path) -> int:
    if not db.exists():
        return 0
    con = sqlite3.connect(db, timeout=30)
    try:
        if not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'theorems'").fetchone():
            return 0
        return con.execute("SELECT count(*) FROM theorems").fetchone()[0]
    finally:
        con.close()


def wait_for(proc: subprocess.Popen, db: Path, rows: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while committed(db) < rows:
        assert proc.poll() is None, (
            f"ended before {rows} theorems were committed: {proc.stderr.read()}"
        )
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def outcome(db: Path) -> tuple[list[dict], list[dict]]:
    theorems = query(
        db,
        "SELECT theorem, status, reason, start_failed, proof, attempts, "
        "successes FROM theorems ORDER BY theorem",
    )
    attempts = query(
        db, "SELECT theorem, idx, success, outcome, tactics FROM attempts ORDER BY theorem, idx"
    )
    return theorems, attempts


def test_kill_9_then_resume_gives_the_uninterrupted_results(bench, tmp_path, capsys) -> None:
    ref_db = tmp_path / "ref.sqlite"
    assert main(argv(bench, tmp_path / "ref", ref_db, 16)) == 0
    reference = json.loads((tmp_path / "ref" / "results.json").read_text())

    db = tmp_path / "killed.sqlite"
    proc = start(argv(bench, tmp_path / "out", db, 16))
    try:
        wait_for(proc, db, 2)
    finally:
        kill9(proc)
    before = committed(db)
    assert 2 <= before < 6, "not killed mid-run"
    capsys.readouterr()
    assert main(argv(bench, tmp_path / "out", db, 16)) == 0
    resumed = json.loads((tmp_path / "out" / "results.json").read_text())

    assert outcome(db) == outcome(ref_db)
    assert query(db, "SELECT count(*) AS n FROM runs")[0]["n"] == 1
    assert query(db, "SELECT count(*) AS n FROM theorems")[0]["n"] == 6  # no duplicates
    assert query(db, "SELECT count(*) AS n FROM attempts")[0]["n"] == 16 * 5  # Broken.t: none
    # Timings differ between any two runs; which theorems were proved may not.
    strip = (
        "seconds",
        "seconds_per_theorem",
        "median_seconds_per_theorem",
        "proved_at",
        "proved_within",
    )
    assert [{k: v for k, v in m.items() if k not in strip} for m in resumed["models"]] == [
        {k: v for k, v in m.items() if k not in strip} for m in reference["models"]
    ]
    assert [sorted(m["proved_at"]) for m in resumed["models"]] == [
        sorted(m["proved_at"]) for m in reference["models"]
    ]


def test_the_same_run_twice_at_once_is_refused(bench, tmp_path) -> None:
    db = tmp_path / "same.sqlite"
    first = start(argv(bench, tmp_path / "a", db, 64))
    try:
        wait_for(first, db, 1)
        second = subprocess.run(
            [sys.executable, "-m", "prover.cli", *argv(bench, tmp_path / "b", db, 64)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert first.poll() is None, "the first evaluation ended too soon for this test"
    finally:
        kill9(first)
    assert second.returncode == 2
    assert second.stderr.startswith("error: run 1 of ") and second.stderr.count("\n") == 1
    assert "being written by another process" in second.stderr
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
    con.close()


def test_two_different_evaluations_share_one_database(bench, tmp_path) -> None:
    db = tmp_path / "shared.sqlite"
    procs = [start(argv(bench, tmp_path / f"o{p}", db, p)) for p in (4, 8)]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    counts = con.execute("SELECT count(*), count(DISTINCT theorem) FROM theorems GROUP BY run_id")
    assert sorted(counts.fetchall()) == [(6, 6), (6, 6)]
    passes = dict(con.execute("SELECT run_id, count(*) / 5 FROM attempts GROUP BY run_id"))
    con.close()
    for p in (4, 8):
        results = json.loads((tmp_path / f"o{p}" / "results.json").read_text())
        m = results["models"][0]
        assert m["passes"] == p and m["total"] == 6 and passes[m["run_id"]] == p


def test_ctrl_c_saves_and_reports_partial_results(bench, tmp_path) -> None:
    db = tmp_path / "int.sqlite"
    out = tmp_path / "out"
    proc = start(argv(bench, out, db, 64))
    try:
        wait_for(proc, db, 2)
        assert proc.poll() is None, "the run ended before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            kill9(proc)
    assert proc.returncode == 130, stderr
    assert "interrupted: partial results written" in stderr
    results = json.loads((out / "results.json").read_text())
    (m,) = results["models"]
    done = committed(db)
    assert results["interrupted"] is True and 2 <= m["finished"] == done < 6
    assert m["total"] == 6
    assert (
        m["proved"]
        == query(db, "SELECT count(*) AS n FROM theorems WHERE status = 'proved'")[0]["n"]
    )
    assert f"{m['proved']}/6" in stdout and (out / "passk.png").is_file()
