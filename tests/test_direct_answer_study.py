"""The study's command line: a --quick run writes well-formed, seeded results
and a summary.json of exactly the documented shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.direct_answer import aggregate
from benchmarks.direct_answer.study import main

OBJECTIVES = {"ce", "dco-4", "dco-16", "dco-64", "dco-256", "dco-4096"}
ROW_KEYS = {
    "epoch",
    "train_accuracy",
    "wrong_confidence",
    "pass@1",
    "pass@16",
    "pass@256",
    "pass@4096",
}


@pytest.fixture(scope="module")
def quick_dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    a, b = tmp_path_factory.mktemp("a"), tmp_path_factory.mktemp("b")
    for out in (a, b):
        assert main(["--quick", "--seed", "5", "--out", str(out)]) == 0
    return a, b


def _strip_times(results: dict) -> dict:
    """Everything but timings, the machine's load and the command (its --out)."""

    def walk(x: object) -> object:
        if isinstance(x, dict):
            return {
                k: walk(v)
                for k, v in x.items()
                if "seconds" not in k and k not in ("command", "load_average_at_end")
            }
        if isinstance(x, list):
            return [walk(v) for v in x]
        return x

    return walk(results)


def test_same_seed_same_results(quick_dirs: tuple[Path, Path]) -> None:
    a, b = (json.loads((d / "seed5" / "results.json").read_text()) for d in quick_dirs)
    assert _strip_times(a) == _strip_times(b)
    assert (quick_dirs[0] / "summary.json").read_text() == (
        quick_dirs[1] / "summary.json"
    ).read_text()


def test_summary_has_exactly_the_documented_shape(quick_dirs: tuple[Path, Path]) -> None:
    s = json.loads((quick_dirs[0] / "summary.json").read_text())
    assert set(s) == {"seeds", "cot"} and set(s["seeds"]) == {"5"} == set(s["cot"])
    curves = s["seeds"]["5"]
    assert set(curves) == OBJECTIVES
    results = json.loads((quick_dirs[0] / "seed5" / "results.json").read_text())
    epochs = results["config"]["finetune"]["epochs"]
    for rows in curves.values():
        assert [r["epoch"] for r in rows] == list(range(epochs + 1))
        for r in rows:
            assert set(r) == ROW_KEYS
            assert isinstance(r["epoch"], int)
            assert all(0.0 <= r[k] <= 1.0 for k in ROW_KEYS - {"epoch"})
            assert r["pass@1"] <= r["pass@16"] <= r["pass@256"] <= r["pass@4096"]
    assert curves["ce"][0] == curves["dco-4096"][0]  # epoch 0: the one untrained model
    cot = s["cot"]["5"]
    assert set(cot) == {"ce", "dcoa", "n_problems", "samples"}
    assert cot["n_problems"] == results["config"]["cot_test"]
    assert cot["samples"] == results["config"]["cot_eval_samples"]
    for name in ("ce", "dcoa"):
        assert set(cot[name]) == {f"pass@{2**i}" for i in range(5)}  # up to the 16 samples
    # The sampled cross-check of the exact pass@k ran on both ends of N'.
    assert set(results["direct"]["sampled_check"]) == {"ce", "dco-4096"}


def test_bad_arguments_fail_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--quick", "--threads", "0", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err
    a_file = tmp_path / "f"
    a_file.write_text("x")
    assert main(["--quick", "--out", str(a_file)]) == 2


def test_aggregating_seeds(quick_dirs: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "agg.json"
    assert aggregate.main([*(str(d / "seed5") for d in quick_dirs), "--out", str(out)]) == 0
    agg = json.loads(out.read_text())
    assert agg["seeds"] == [5, 5]
    for row in agg["figure2a"]["pass_at_n_late_mean"]:
        for cell in row["pass_at_n"].values():
            assert cell["per_seed"][0] == cell["per_seed"][1] == cell["mean"]
    assert aggregate.main([str(tmp_path / "missing"), "--out", str(out)]) == 2
