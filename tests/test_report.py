"""`dco report`: the report from the stored direct-answer results, "not yet
run" sections, synthetic theorem-proving results, the claim criteria both
ways, determinism, the CLI (with a really trained tiny model for --models)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from test_training_data import make_benchmark

from benchmarks.report import claims
from benchmarks.report.build import generate
from benchmarks.report.markdown import pct
from benchmarks.report.sources import Result
from prover.cli import main

STORED = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
SECTIONS = (
    "## Direct answers",
    "## Theorem proving on coq-stdlib",
    "## Expert iteration",
    "## Training the coq-stdlib tactic models",
    "## Next-tactic accuracy",
    "## Speed benchmarks",
    "## Reproducing",
    "## Claims: what held here",
)


@pytest.fixture(scope="module")
def direct_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A results directory holding only the committed direct-answer study."""
    root = tmp_path_factory.mktemp("stored") / "results"
    shutil.copytree(STORED / "direct_answer", root / "direct_answer")
    return root


@pytest.fixture(scope="module")
def direct_report(direct_results: Path) -> Path:
    out = direct_results.parent / "report"
    generate(direct_results, out)
    return out


def test_stored_direct_results_render_every_section(direct_report: Path) -> None:
    text = (direct_report / "REPORT.md").read_text(encoding="utf-8")
    for heading in SECTIONS:
        assert heading in text
    # The Table 1 analogue shows the stored aggregate's numbers (recomputed
    # from the seeds: the two must agree) with the paper's beside them.
    agg = json.loads((STORED / "direct_answer" / "aggregate.json").read_text())
    first = agg["table1"]["CE"][0]
    assert f"| 0 | {pct(first['pass@1']['mean'], 2)} | {pct(first['pass@4']['mean'], 2)} |" in text
    assert "| paper (MATH) | 4.4% → 7.4% |" in text and "65.2% → 44.5%" in text
    for name in ("table1", "confidence", "histograms", "frontier", "cot"):
        png = direct_report / "figures" / f"direct_{name}.png"
        assert png.read_bytes().startswith(b"\x89PNG") and f"(figures/direct_{name}.png)" in text
    # Every stored result is listed with the command that produced it.
    assert "`python -m benchmarks.direct_answer.study --seed 1 --out benchmarks/results/direct_answer/seed1`" in text
    assert "`python -m benchmarks.direct_answer.aggregate benchmarks/results/direct_answer/seed0" in text
    # The four direct-answer claims are measured; theorem proving is not yet.
    for number in (1, 2, 3, 5):
        verdict = text.split(f"### Claim {number}: ")[1].split("\n")[0]
        assert verdict in (claims.HELD, claims.NOT_HELD)
    assert "### Claim 4: not measured" in text
    for section in ("Theorem proving", "Training the", "Speed benchmarks"):
        assert "*Not yet run.*" in text.split(f"## {section}")[1].split("\n## ")[0]


def test_same_results_give_the_same_bytes(direct_results: Path, direct_report: Path, tmp_path: Path) -> None:
    again = direct_results.parent / "again"
    generate(direct_results, again)
    for path in [Path("REPORT.md"), *(p.relative_to(direct_report) for p in (direct_report / "figures").iterdir())]:
        assert (again / path).read_bytes() == (direct_report / path).read_bytes(), path


def test_nothing_stored_renders_not_yet_run(tmp_path: Path) -> None:
    generate(tmp_path / "results", tmp_path / "out")
    text = (tmp_path / "out" / "REPORT.md").read_text(encoding="utf-8")
    for heading in SECTIONS:
        assert heading in text
    assert text.count("*Not yet run.*") == 6
    assert text.count("**not measured**") == 5
    assert not (tmp_path / "out" / "figures").exists()


# --- synthetic theorem-proving results (the `dco evaluate` contract) ---


def model(label: str, n_prime: float | None, proved: int, passes: int | None,
          curve: dict[str, float]) -> dict[str, Any]:  # fmt: skip
    return {"label": label, "model": None if n_prime is None else f"models/{label}",
            "n_prime": n_prime, "run_id": 1, "proved": proved, "total": 10, "finished": 10,
            "start_failed": 1, "passes": passes, "seconds": 100.0, "pass_at_k": curve}  # fmt: skip


def evaluation(models: list[dict[str, Any]], *, strategy: str = "rollouts", passes: int | None = 16,
               ensemble: dict[str, Any] | None = None, budget: str | None = None) -> dict[str, Any]:  # fmt: skip
    return {
        "kind": "evaluation", "benchmark": "coq-stdlib", "split": "test", "theorems": 10,
        "strategy": strategy, "passes": passes, "budget_s": 60.0, "ensemble_budget": budget,
        "db": "evaluation.sqlite",
        "config": {"flags": {"benchmark": "coq-stdlib", "split": "test", "sample": 10, "seed": 0,
                             "limit": None, "theorem": [], "passes": passes, "quiet": True}},
        "models": models, "ensemble": ensemble, "interrupted": False,
        "machine": {"platform": "Linux", "python": "3.11", "cpus": 2},
        "started": "2026-11-22T12:00:00+00:00", "finished": "2026-11-22T12:10:00+00:00",
    }  # fmt: skip


def proving_runs(ensemble_proved: int, ce_proved: int) -> dict[str, dict[str, Any]]:
    members = [model("N'=1", 1, 3, 4, {"1": 0.1, "4": 0.3}),
               model("N'=8", 8, 4, 4, {"1": 0.1, "4": 0.4})]  # fmt: skip
    ens = {"label": "ensemble(1,8)", "proved": ensemble_proved, "total": 10,
           "found_by": {"N'=1": 3, "N'=8": 4}, "only_by": {"N'=1": 1, "N'=8": 2},
           "pass_at_k": {"2": 0.2, "8": ensemble_proved / 10}}  # fmt: skip
    return {
        "symbolic": evaluation([model("symbolic", None, 2, None, {"1": 0.2})],
                               strategy="best-first", passes=None),  # fmt: skip
        "ce": evaluation([model("N'=1", 1, ce_proved, 8, {"1": 0.1, "8": ce_proved / 10})], passes=8),
        "ensemble": evaluation(members, passes=8, ensemble=ens, budget="split"),
    }


def write_proving(root: Path, runs: dict[str, dict[str, Any]]) -> list[Result]:
    out = []
    for name, data in runs.items():
        path = root / "proving" / name / "results.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(data), encoding="utf-8")
        out.append(Result(path, data))
    return out


def test_proving_results_render_beside_the_symbolic_baseline(tmp_path: Path) -> None:
    write_proving(tmp_path / "results", proving_runs(ensemble_proved=6, ce_proved=4))
    generate(tmp_path / "results", tmp_path / "out")
    text = (tmp_path / "out" / "REPORT.md").read_text(encoding="utf-8")
    section = text.split("## Theorem proving")[1].split("\n## ")[0]
    assert "*Not yet run.*" not in section
    # One table for the ten theorems: the baseline beside the models and the ensemble.
    assert section.count("### coq-stdlib test: 10 theorems (sample 10 (seed 0))") == 1
    assert "| symbolic | symbolic baseline | – | best-first |" in section
    assert "| ensemble | **ensemble(1,8)** (split budget) | – | rollouts | 8 | 60 | 6/10 | 60.0% |" in section
    assert "| ensemble | N'=8 | 8 | rollouts | 4 | 30 | 4/10 |" in section  # split: half the wall clock each
    assert "found by no other model: N'=1 1, N'=8 2" in section
    assert (tmp_path / "out" / "figures" / "proving_passk_1.png").is_file()
    assert "| ensemble(1,8) (ensemble) | 60.0% | ce | 40.0% | 8 |" in section
    assert "### Claim 4: held" in text
    # The command is rebuilt from the stored flags when the file has none.
    assert "`dco evaluate --benchmark coq-stdlib --split test --sample 10 --seed 0 --passes 8` (rebuilt" in text


def test_claim4_both_ways_and_unmatched(tmp_path: Path) -> None:
    won = claims.claim4(write_proving(tmp_path / "a", proving_runs(6, 4)))
    lost = claims.claim4(write_proving(tmp_path / "b", proving_runs(4, 4)))
    assert won.verdict == claims.HELD and "+20.0 pt" in won.evidence[0]
    assert lost.verdict == claims.NOT_HELD
    # CE with other passes than the ensemble's total is not equal compute.
    runs = proving_runs(6, 4)
    runs["ce"]["models"][0]["passes"] = 16
    assert claims.claim4(write_proving(tmp_path / "c", runs)).verdict == claims.NOT_MEASURED
    assert claims.claim4([]).verdict == claims.NOT_MEASURED


# --- the direct-answer claims on synthetic tables, both ways ---

LABELS = {"CE": 1, "DCO N=4": 4, "DCO N=16": 16}


def table1(pass1: list[float], pass256: list[float]) -> dict[str, Any]:
    rows = [{"epoch": e, "test_pass_at_k": {"1": a, "256": b}}
            for e, (a, b) in enumerate(zip(pass1, pass256, strict=True))]  # fmt: skip
    return {"table1": {"CE": rows}}


def direct(*tables: dict[str, Any]) -> claims.DirectInput:
    return claims.DirectInput(list(range(len(tables))), list(tables), {"CE": 1, "DCOa N=16": 16})


def test_claim1_trend_over_the_epochs() -> None:
    rising = table1([0.05, 0.04, 0.05, 0.06], [0.6, 0.58, 0.55, 0.5])
    assert claims.claim1(direct(rising, rising)).verdict == claims.HELD
    flat = table1([0.05, 0.06, 0.05, 0.05], [0.6, 0.58, 0.55, 0.5])
    assert claims.claim1(direct(rising, flat)).verdict == claims.NOT_HELD  # not in every seed
    assert claims.claim1(direct(table1([0.1, 0.2], [0.5, 0.4]))).verdict == claims.NOT_MEASURED


def figure1(wrong_last: float, finals: dict[str, float]) -> dict[str, Any]:
    def row(epoch: int, mean: float, wrong: float, right: float) -> dict[str, Any]:
        return {"epoch": epoch, "mean_confidence": mean, "mean_confidence_correct": right,
                "mean_confidence_wrong": wrong, "n_correct": 10, "n_wrong": 90}  # fmt: skip

    return {
        "figure1": {lb: [row(0, 0.05, 0.02, 0.4), row(3, finals[lb], wrong_last, 0.4)] for lb in LABELS},
        "figure2a": {"training_n": LABELS},
    }


def test_claim2_confidence() -> None:
    good = figure1(0.08, {"CE": 0.10, "DCO N=4": 0.08, "DCO N=16": 0.06})
    assert claims.claim2(direct(good)).verdict == claims.HELD
    not_monotone = figure1(0.08, {"CE": 0.10, "DCO N=4": 0.05, "DCO N=16": 0.07})
    assert claims.claim2(direct(not_monotone)).verdict == claims.NOT_HELD
    no_climb = figure1(0.01, {"CE": 0.10, "DCO N=4": 0.08, "DCO N=16": 0.06})
    assert claims.claim2(direct(no_climb)).verdict == claims.NOT_HELD


def figure2a(best_by_test_n: dict[int, str]) -> dict[str, Any]:
    rows = [{"test_n": n, "pass_at_n_late_mean": {lb: 0.5 + (0.01 if lb == best else 0.0) for lb in LABELS}}
            for n, best in best_by_test_n.items()]  # fmt: skip
    return {"figure2a": {"rows": rows, "training_n": LABELS}}


def test_claim3_frontier() -> None:
    frontier = figure2a({1: "CE", 16: "DCO N=4", 256: "DCO N=16"})
    assert claims.claim3(direct(frontier, frontier)).verdict == claims.HELD
    one_best = figure2a({1: "DCO N=4", 16: "DCO N=4", 256: "DCO N=4"})
    assert claims.claim3(direct(one_best)).verdict == claims.NOT_HELD
    backwards = figure2a({1: "DCO N=16", 16: "DCO N=4", 256: "CE"})
    assert claims.claim3(direct(frontier, backwards)).verdict == claims.NOT_HELD


def table3(ce: dict[str, float], dcoa: dict[str, float]) -> dict[str, Any]:
    return {"table3": {"CE": {"pass_at_k": ce}, "DCOa N=16": {"pass_at_k": dcoa}}}


def test_claim5_chain_of_thought() -> None:
    better = table3({"1": 0.1, "16": 0.3, "256": 0.6}, {"1": 0.09, "16": 0.35, "256": 0.7})
    worse = table3({"1": 0.1, "16": 0.3, "256": 0.6}, {"1": 0.2, "16": 0.35, "256": 0.55})
    assert claims.claim5(direct(better, better)).verdict == claims.HELD
    assert claims.claim5(direct(better, worse)).verdict == claims.NOT_HELD
    assert claims.claim5(claims.DirectInput([0], [better], {})).verdict == claims.NOT_MEASURED


# --- the command line ---


def test_cli_writes_the_report_and_collects_a_trained_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from prover.training_data import train_on_benchmark as train
    from training.data import PromptFormat
    from training.model import ModelConfig
    from training.trainer import TrainConfig

    bench = make_benchmark(tmp_path / "tiny")
    models = tmp_path / "models"
    train(TrainConfig(benchmark=str(bench), out=str(models / "ce"), max_steps=3, batch_size=8,
                      model=ModelConfig(hidden=32, layers=1, heads=2, mlp=64, vocab_size=300),
                      prompt=PromptFormat(max_prompt_tokens=64, max_tactic_tokens=8),
                      warmup_steps=1, progress=False, eval_limit=5))  # fmt: skip
    results, out = tmp_path / "results", tmp_path / "out"
    code = main(["report", "--results", str(results), "--out", str(out), "--models", str(models)])
    assert code == 0
    stored = json.loads((results / "training" / "ce.json").read_text())
    assert stored["kind"] == "training" and stored["steps"] == 3
    assert stored["command"][:6] == ["dco", "train", "--benchmark", str(bench), "--loss", "ce"]
    assert "--max-steps" in stored["command"]
    text = (out / "REPORT.md").read_text(encoding="utf-8")
    training = text.split("## Training the")[1].split("\n## ")[0]
    assert "*Not yet run.*" not in training and "| ce | ce | 1 |" in training
    assert (out / "figures" / "training_models.png").is_file()
    capsys.readouterr()


def test_cli_bad_input_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "results" / "perf" / "coq_env.json"
    bad.parent.mkdir(parents=True)
    bad.write_text("{not json", encoding="utf-8")
    assert main(["report", "--results", str(tmp_path / "results"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "coq_env.json is not valid JSON" in err and "\n" not in err
    assert main(["report", "--results", str(tmp_path / "results"), "--models", str(tmp_path / "none"),
                 "--out", str(tmp_path / "o")]) == 2  # fmt: skip
    assert "is not a directory" in capsys.readouterr().err


def test_accuracy_section_renders_every_policy_and_member(tmp_path: Path) -> None:
    results = tmp_path / "results"
    (results / "tactic_accuracy").mkdir(parents=True)
    row = {"top1": 0.1, "recall@4": 0.2, "recall@16": 0.3, "recall@64": 0.4, "steps": 7}
    payload = {"prior": row, "knn": {**row, "top1": 0.125}, "dco": {"n8": {"train_top1": 0.5, "share_F_below_0.5": 0.25}}}
    (results / "tactic_accuracy" / "val.json").write_text(json.dumps(payload))
    generate(results, tmp_path / "out")
    text = (tmp_path / "out" / "REPORT.md").read_text(encoding="utf-8")
    section = text.split("## Next-tactic accuracy", 1)[1].split("\n## ", 1)[0]
    assert "| prior " in section and "12.5%" in section and "| n8 " in section and "25.0%" in section
