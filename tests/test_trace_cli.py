"""`dco trace --path` and `dco stats` end to end on the fixture project, as a
user runs them: the benchmark directory, the report, resuming, bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.loader import load_benchmark

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "coqproject"


def dco(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "prover.cli", *args], capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def traced(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    base = tmp_path_factory.mktemp("cli")
    project = base / "coqproject"
    shutil.copytree(FIXTURE, project)
    out = base / "bench"
    result = dco(
        "trace",
        "--path",
        str(project),
        "--out",
        str(out),
        "--workers",
        "2",
        "--no-progress",
        "--seed",
        "1",
    )
    return out, result


def test_trace_writes_a_benchmark_and_reports(traced) -> None:
    out, result = traced
    assert result.returncode == 0, result.stdout + result.stderr
    assert "compiling Base.v" in result.stdout  # Uses.v Requires it
    for line in (
        "theorems found: 8",
        "tactic proofs (Qed): 6",
        "verified (replayed and re-checked by coqc): 6 = 100.0%",
        "failures by reason: none",
        "Admitted 1, Defined 1",
    ):
        assert line in result.stdout, result.stdout
    bench = load_benchmark(str(out))
    assert len(bench.theorems()) == 6
    assert sum(len(t.tactics) for t in bench.theorems()) == len(list(bench.steps())) == 23
    meta = json.loads((out / "meta.json").read_text())
    assert meta["counts"]["verified"] == 6 and meta["seed"] == 1
    assert sum(meta["splits"].values()) == 6 and meta["splits"]["test"] >= 1
    assert set(meta["time"]["per_file"]) == {"Base.v", "Uses.v"}
    assert (out / "files" / "Base.v.json").is_file()


def test_trace_resumes_without_retracing(traced) -> None:
    out, first = traced
    before = (out / "theorems.jsonl").read_text()
    first_wall = json.loads((out / "meta.json").read_text())["time"]["wall_seconds_all_runs"]
    again = dco(
        "trace",
        "--path",
        str(Path(out).parent / "coqproject"),
        "--out",
        str(out),
        "--no-progress",
        "--seed",
        "1",
    )
    assert again.returncode == 0, again.stderr
    assert "resuming: 2 of 2 files already traced" in again.stdout
    assert (out / "theorems.jsonl").read_text() == before
    # The time of the run that did the work is kept.
    assert (
        json.loads((out / "meta.json").read_text())["time"]["wall_seconds_all_runs"] >= first_wall
    )


def test_stats_command(traced) -> None:
    out, _ = traced
    result = dco("stats", "--benchmark", str(out))
    assert result.returncode == 0, result.stderr
    assert "total 6 23" in " ".join(result.stdout.split())
    assert "LeanDojo training set" in result.stdout and "reflexivity" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("trace", "--path", "/no/such/project"), "no such project directory"),
        (
            ("trace", "--library", "coq-stdlib", "--include", "NoSuchDir", "--out", "/tmp/x"),
            "no directory 'NoSuchDir'",
        ),
        (("stats", "--benchmark", "/no/such/benchmark"), "not found"),
    ],
)
def test_bad_input_is_one_line_error(args: tuple[str, ...], message: str) -> None:
    result = dco(*args)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
