"""Bad input end to end: each case is one `error:` line (exit 2) or a
`REJECTED` verdict (exit 1), no traceback, and nothing the user did not
name as an output is modified: refused databases keep every byte, no -wal
or -shm files appear, no output directory is left behind, no temporary
directory outlives its process."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from helpers import default_sigint, kill9

from lean_env.coq.tempdirs import private_tempdir, remove_stale
from lean_env.errors import UserError
from prover import cli
from search.db import SearchDB

SOURCE = "Definition f := 1.\nTheorem c : f = 1.\nProof. reflexivity. Qed.\n"


def error_line(capsys, argv: list[str]) -> str:
    code = cli.main(argv)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2 and len(lines) == 1, (code, captured.err)
    assert lines[0].startswith("error: ")
    return lines[0]


def files_of(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}


@pytest.fixture
def coq_file(tmp_path: Path) -> Path:
    path = tmp_path / "A.v"
    path.write_text(SOURCE)
    return path


def prove_args(path: Path, db: Path) -> list[str]:
    return [
        "prove",
        "--file",
        str(path),
        "--theorem",
        "c",
        "--db",
        str(db),
        "--budget",
        "10",
        "--quiet",
    ]


def test_read_only_database_is_refused_untouched(tmp_path: Path, coq_file: Path, capsys) -> None:
    db = tmp_path / "runs.sqlite"
    SearchDB(db).close()
    db.chmod(stat.S_IRUSR | stat.S_IRGRP)
    before = files_of(tmp_path)
    line = error_line(capsys, prove_args(coq_file, db))
    assert line == f"error: {db} is read-only; make it writable or use another --db"
    assert files_of(tmp_path) == before  # no -wal, no -shm, same bytes


def test_read_only_directory_for_a_new_database(tmp_path: Path, coq_file: Path, capsys) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        line = error_line(capsys, prove_args(coq_file, ro / "new.sqlite"))
        assert "read-only" in line and not any(ro.iterdir())
    finally:
        ro.chmod(stat.S_IRWXU)


@pytest.mark.parametrize("journal", ["delete", "wal"])
def test_foreign_database_is_refused_untouched(
    tmp_path: Path, coq_file: Path, capsys, journal: str
) -> None:
    db = tmp_path / "app.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA journal_mode = {journal}")
        conn.execute("CREATE TABLE users (name TEXT)")
        conn.execute("INSERT INTO users VALUES ('ada')")
    conn.close()
    before = files_of(tmp_path)
    line = error_line(capsys, prove_args(coq_file, db))
    assert line == (
        f"error: cannot open {db}: not a dco search database (it has other tables "
        "(users)); use another --db"
    )
    assert files_of(tmp_path) == before
    with sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == journal
        tables = conn.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
        assert tables == [("users",)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a database at all, just text" * 10, "file is not a database"),
        (b"SQLite format 3\x00" + b"\xff" * 200, "not a dco search database"),
    ],
)
def test_corrupt_database_for_evaluate_leaves_no_out(
    tmp_path: Path, capsys, content: bytes, message: str
) -> None:
    db = tmp_path / "bad.sqlite"
    db.write_bytes(content)
    out = tmp_path / "results"
    benchmark = tmp_path / "bench"
    line = error_line(
        capsys, ["evaluate", "--benchmark", str(benchmark), "--out", str(out), "--db", str(db)]
    )
    assert message in line and not out.exists(), line
    assert db.read_bytes() == content


def test_database_that_is_a_directory(tmp_path: Path, coq_file: Path, capsys) -> None:
    line = error_line(capsys, prove_args(coq_file, tmp_path))
    assert "is a directory" in line


def test_train_out_is_a_file(tmp_path: Path, capsys) -> None:
    out = tmp_path / "model"
    out.write_text("keep me")
    line = error_line(capsys, ["train", "--out", str(out)])
    # Refused while the flags are parsed: before any data is loaded.
    assert line.startswith("error: argument --out:") and "not a directory" in line
    assert out.read_text() == "keep me"


def test_syntax_error_before_the_theorem_is_bad_input(tmp_path: Path, capsys) -> None:
    path = tmp_path / "S.v"
    path.write_text("Definition f := 1 +.\nTheorem c : 1 = 1.\nProof. reflexivity. Qed.\n")
    line = error_line(capsys, prove_args(path, tmp_path / "p.sqlite"))
    assert "Syntax error" in line and "S.v" in line
    line = error_line(capsys, ["check", "--file", str(path), "--theorem", "c"])
    assert "Syntax error" in line


def test_directory_as_file(tmp_path: Path, capsys) -> None:
    for command in ("check", "prove"):
        line = error_line(capsys, [command, "--file", str(tmp_path), "--theorem", "c"])
        assert line.startswith(f"error: argument --file: {tmp_path} is a directory")


def test_unclosed_brace_is_named(coq_file: Path, capsys) -> None:
    code = cli.main(
        ["check", "--file", str(coq_file), "--theorem", "c", "--proof", "{ reflexivity.", "--quiet"]
    )
    assert code == 1
    assert capsys.readouterr().out.strip() == (
        "REJECTED: the proof is incomplete: a `{` block is still open (close it with `}`)"
    )


def test_check_has_an_overall_time_limit(coq_file: Path, capsys) -> None:
    start = time.monotonic()
    code = cli.main(
        [
            "check",
            "--file",
            str(coq_file),
            "--theorem",
            "c",
            "--timeout",
            "2",
            "--tactic-timeout",
            "100",
            "--proof",
            "do 100000000 idtac 1.",
            "--quiet",
        ]
    )
    assert code == 1
    assert capsys.readouterr().out.strip() == "REJECTED: the check ran past --timeout 2 s"
    assert time.monotonic() - start < 30


def ours() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("dco-coq-*")}


def runaway_check(coq_file: Path) -> list[str]:
    """A `dco check` whose tactic runs far longer than any test waits."""
    return [sys.executable, "-m", "prover.cli", "check", "--file", str(coq_file),
            "--theorem", "c", "--proof", "do 100000000 idtac 1.", "--tactic-timeout", "100"]  # fmt: skip


def test_temp_dirs_of_a_killed_process_are_swept(coq_file: Path) -> None:
    """kill -9 of `dco check` mid-tactic leaves its session's directory; the
    next process to open a session removes it."""
    before = ours()
    proc = subprocess.Popen(
        runaway_check(coq_file),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not any(n.startswith(f"dco-coq-{proc.pid}-") for n in ours() - before):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.2)
    kill9(proc)
    left = [n for n in ours() - before if n.startswith(f"dco-coq-{proc.pid}-")]
    assert left, "the killed process had no chance to clean up"
    assert remove_stale("dco-coq-") >= 1
    assert not [n for n in ours() if n.startswith(f"dco-coq-{proc.pid}-")]


def test_temp_dirs_of_live_processes_are_kept() -> None:
    with private_tempdir("dco-coq-") as mine:
        remove_stale("dco-coq-")
        assert Path(mine).is_dir() and Path(mine).name.startswith(f"dco-coq-{os.getpid()}-")


def test_interrupted_check_leaves_no_temp_dir(coq_file: Path) -> None:
    """SIGINT (Ctrl-C) is an ordinary exit path: everything is removed."""
    before = ours()
    proc = subprocess.Popen(
        runaway_check(coq_file),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
    )
    deadline = time.monotonic() + 120
    while not any(n.startswith(f"dco-coq-{proc.pid}-") for n in ours() - before):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err, err
    assert not [n for n in ours() if n.startswith(f"dco-coq-{proc.pid}-")]


def test_dco_companion_tables_are_accepted_foreign_runs_refused(tmp_path: Path) -> None:
    """A search database may carry other dco tables (expert iteration's);
    a `runs` table of another program's shape is still refused."""
    ours_db = tmp_path / "expert.sqlite"
    SearchDB(ours_db).close()
    with sqlite3.connect(ours_db) as conn:
        conn.execute("CREATE TABLE expert_rounds (round INTEGER PRIMARY KEY)")
    conn.close()
    SearchDB(ours_db).close()
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE runs (id INTEGER, name TEXT)")
    conn.close()
    before = other.read_bytes()
    with pytest.raises(UserError, match="lacks columns"):
        SearchDB(other)
    assert other.read_bytes() == before
