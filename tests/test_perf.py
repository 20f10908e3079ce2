"""`python -m benchmarks.perf`: the whole suite in one command (its --quick
smoke variant on the tiny benchmark, real coqtop and a really trained toy
model), the result files it writes, and the report's speed section on them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import make_benchmark

from benchmarks.perf.record import distribution_ms
from benchmarks.perf.suite import main
from benchmarks.report.build import generate

ROOT = Path(__file__).resolve().parents[1]
NAMES = ("coq_env", "search_speed", "training_speed", "throughput")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    tmp = tmp_path_factory.mktemp("perf")
    bench = make_benchmark(tmp / "tiny")
    out = tmp / "results" / "perf"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.perf",
            "--quick",
            "--benchmark",
            str(bench),
            "--split",
            "train",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc.stdout


def test_one_command_writes_every_result(quick_run: tuple[Path, str]) -> None:
    out, stdout = quick_run
    payloads = {n: json.loads((out / f"{n}.json").read_text()) for n in NAMES}
    for name, p in payloads.items():
        assert p["kind"] == "perf" and p["benchmark"] == name and p["config"]["quick"] is True
        assert p["command"][:4] == ["python", "-m", "benchmarks.perf", "--quick"]
        m = p["machine"]
        assert m["cpus"] >= 1 and m["cpu_model"] and m["python"] and m["torch"]
        assert m["coq"].startswith("8.") and m["git"]
        assert len(m["load_average_start"]) == 3 and len(m["load_average_end"]) == 3
        assert p["started"] <= p["finished"]
    coq = payloads["coq_env"]["results"]
    for key in ("tactic", "raw_tactic", "backtrack_plus_tactic", "startup"):
        assert 0 < coq[key]["median_ms"] <= coq[key]["p95_ms"]
    assert coq["tactic"]["n"] == 20
    search = payloads["search_speed"]["results"]
    assert 0 <= search["max_search_code_share"] < 1 and search["theorems"] == 3
    memo = search["rollouts"]["4"]
    assert memo["tactic_calls"] <= memo["naive_calls"] and "naive_run" in memo
    training = payloads["training_speed"]["results"]
    assert training["steps"]["ce_ms"] > 0 and training["steps"]["factor_ratio"] > 0
    assert training["sampling"]["batched_s"] > 0 and training["sampling"]["k"] == 4
    through = payloads["throughput"]["results"]
    assert [r["workers"] for r in through["runs"]] == [1, 2] and through["theorems"] == 3
    assert through["ratio_2_to_1"] > 0
    # The printed summary carries the goals and the load.
    assert "load average" in stdout and "goal < 5%" in stdout and "goal <= 2%" in stdout
    assert "1 worker" in stdout and "2 workers" in stdout


def test_report_speed_section_from_the_results(quick_run: tuple[Path, str], tmp_path: Path) -> None:
    out, _ = quick_run
    generate(out.parent, tmp_path / "report")
    text = (tmp_path / "report" / "REPORT.md").read_text(encoding="utf-8")
    section = text.split("## Speed benchmarks")[1].split("\n## ")[0]
    assert "*Not yet run.*" not in section
    assert "| coqtop | per-tactic latency, Environment | median " in section and "p95" in section
    assert "| search | search-code share of wall time |" in section and "| < 5% |" in section
    assert "| evaluation | throughput, 3 theorems" in section and "quick (smoke)" in section


def test_p95_is_an_observed_latency() -> None:
    d = distribution_ms([i / 1000 for i in range(1, 101)])  # 1..100 ms
    assert (d["median_ms"], d["p95_ms"], d["n"]) == (50.5, 95.0, 100)
    assert distribution_ms([0.002])["p95_ms"] == 2.0


def test_unknown_benchmark_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--only", "coq_env,nope", "--out", "/nonexistent/never"]) == 2
    err = capsys.readouterr().err.strip()
    assert (
        err
        == "error: unknown benchmark 'nope'; available: coq_env, search_speed, throughput, training_speed"
    )
