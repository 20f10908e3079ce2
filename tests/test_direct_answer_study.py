"""The study's command line: a --quick run writes well-formed, seeded results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.direct_answer import aggregate
from benchmarks.direct_answer.study import main


@pytest.fixture(scope="module")
def quick_dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    a, b = tmp_path_factory.mktemp("a"), tmp_path_factory.mktemp("b")
    for out in (a, b):
        assert main(["--quick", "--seed", "5", "--jobs", "1", "--out", str(out)]) == 0
    return a, b


@pytest.fixture(scope="module")
def quick_runs(quick_dirs: tuple[Path, Path]) -> tuple[dict, dict]:
    a, b = (json.loads((d / "results.json").read_text()) for d in quick_dirs)
    return a, b


def _strip_times(results: dict) -> dict:
    """Everything but timings and the command (its --out), which differ between runs."""

    def walk(x: object) -> object:
        if isinstance(x, dict):
            return {k: walk(v) for k, v in x.items() if "seconds" not in k and k != "command"}
        if isinstance(x, list):
            return [walk(v) for v in x]
        return x

    return walk(results)


def test_same_seed_same_results(quick_runs: tuple[dict, dict]) -> None:
    a, b = quick_runs
    assert _strip_times(a) == _strip_times(b)


def test_results_are_self_describing(quick_runs: tuple[dict, dict]) -> None:
    r, _ = quick_runs
    assert r["seed"] == 5 and r["config"]["task"]["seed"] == 5
    assert r["command"][:3] == ["python", "-m", "benchmarks.direct_answer.study"]
    assert {"torch", "transformers", "numpy", "python"} <= set(r["versions"])
    assert r["wall_seconds"]["total"] > 0 and r["cpu_seconds"]["direct"] > 0
    assert "exact" in r["pass_at_k_method"]["direct"]


def test_tables_cover_every_objective_epoch_and_k(quick_runs: tuple[dict, dict]) -> None:
    r, _ = quick_runs
    cfg, tables = r["config"], r["tables"]
    labels = {"CE"} | {f"DCO N={n}" for n in cfg["dco_ns"]}
    assert set(tables["table1"]) == labels == set(tables["figure1"])
    epochs = cfg["finetune"]["epochs"]
    n_test = cfg["task"]["n_test"]
    for label in labels:
        rows = tables["table1"][label]
        assert [row["epoch"] for row in rows] == list(range(epochs + 1))
        for row in rows:
            values = list(row["test_pass_at_k"].values())
            assert all(0.0 <= v <= 1.0 for v in values)
            assert values == sorted(values)  # pass@k never falls with k
        for row in tables["figure1"][label]:
            assert row["n_correct"] + row["n_wrong"] == n_test
            assert sum(row["hist_correct"]) + sum(row["hist_wrong"]) == n_test
    # Figure 2a: one row per test N, each naming a trained model.
    rows = tables["figure2a"]["rows"]
    assert [row["test_n"] for row in rows] == [2**i for i in range(len(rows))]
    assert rows[-1]["test_n"] == cfg["max_k"]
    assert all(row["best_training"] in labels for row in rows)
    # Sampled cross-check and the chain-of-thought table.
    assert set(r["direct"]["sampled_check"]) == {"CE", f"DCO N={max(cfg['dco_ns'])}"}
    cot = tables["table3"]
    dcoa_label = f"DCOa N={cfg['dcoa']['n']}"
    assert set(cot) == {"base", "CE", dcoa_label}
    dcoa = cot[dcoa_label]
    assert len(dcoa["discarded_per_epoch"]) == cfg["cot_finetune"]["epochs"]
    assert all(0.0 <= v <= 1.0 for v in dcoa["pass_at_k"].values())


def test_bad_arguments_fail_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--quick", "--threads", "0", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err
    a_file = tmp_path / "f"
    a_file.write_text("x")
    assert main(["--quick", "--out", str(a_file)]) == 2


def test_aggregating_seeds(quick_dirs: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "agg.json"
    assert aggregate.main([*map(str, quick_dirs), "--out", str(out)]) == 0
    agg = json.loads(out.read_text())
    assert agg["seeds"] == [5, 5]
    # Two identical runs: every mean is the common per-seed value.
    for row in agg["figure2a"]["pass_at_n_late_mean"]:
        for cell in row["pass_at_n"].values():
            assert cell["per_seed"][0] == cell["per_seed"][1] == cell["mean"]
    assert aggregate.main([str(tmp_path / "missing"), "--out", str(out)]) == 2
