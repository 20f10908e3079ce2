"""`dco report`: the report from the stored direct-answer results, "not yet
run" sections, synthetic theorem-proving results, the claim criteria both
ways, determinism, the CLI (with a really trained tiny model for --models)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from helpers import make_benchmark

from benchmarks.report import claims
from benchmarks.report.build import generate
from benchmarks.report.markdown import pct
from benchmarks.report.sources import Result, load
from prover.cli import main

STORED = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
SECTIONS = (
    "## Direct answers",
    "## Theorem proving on coq-stdlib and miniF2F",
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
    first = agg["table1"]["ce"][0]
    assert f"| 0 | {pct(first['pass@1']['mean'], 2)} | {pct(first['pass@4']['mean'], 2)} |" in text
    assert "| paper (MATH) | 4.4% → 7.4% |" in text and "65.2% → 44.5%" in text
    for name in ("table1", "confidence", "histograms", "frontier", "cot"):
        png = direct_report / "figures" / f"direct_{name}.png"
        assert png.read_bytes().startswith(b"\x89PNG") and f"(figures/direct_{name}.png)" in text
    # Every stored result is listed with the command that produced it.
    assert "`python -m benchmarks.direct_answer.study --seed 1`" in text
    assert (
        "`python -m benchmarks.direct_answer.aggregate benchmarks/results/direct_answer/seed0"
        in text
    )
    # The four direct-answer claims are measured; theorem proving is not yet.
    for number in (1, 2, 3, 5):
        verdict = text.split(f"### Claim {number}: ")[1].split("\n")[0]
        assert verdict in (claims.HELD, claims.NOT_HELD)
    assert "### Claim 4: not measured" in text
    for section in ("Theorem proving", "Training the", "Speed benchmarks"):
        assert "*Not yet run.*" in text.split(f"## {section}")[1].split("\n## ")[0]


def test_same_results_give_the_same_bytes(
    direct_results: Path, direct_report: Path, tmp_path: Path
) -> None:
    again = direct_results.parent / "again"
    generate(direct_results, again)
    for path in [
        Path("REPORT.md"),
        *(p.relative_to(direct_report) for p in (direct_report / "figures").iterdir()),
    ]:
        assert (again / path).read_bytes() == (direct_report / path).read_bytes(), path


def test_nothing_stored_renders_not_yet_run(tmp_path: Path) -> None:
    generate(tmp_path / "results", tmp_path / "out")
    text = (tmp_path / "out" / "REPORT.md").read_text(encoding="utf-8")
    for heading in SECTIONS:
        assert heading in text
    assert text.count("*Not yet run.*") == 6
    assert text.count("**not measured**") == 5
    assert not (tmp_path / "out" / "figures").exists()


def test_only_the_reports_own_stale_figures_are_removed(tmp_path: Path) -> None:
    """The figures directory also holds other pictures (the run viewer's
    screenshots): regenerating removes a stale figure of the report's, never
    those."""
    figures = tmp_path / "out" / "figures"
    figures.mkdir(parents=True)
    (figures / "proving_passk_9.png").write_bytes(b"stale")
    (figures / "view_index.png").write_bytes(b"screenshot")
    generate(tmp_path / "results", tmp_path / "out")
    assert sorted(p.name for p in figures.iterdir()) == ["view_index.png"]


# --- synthetic theorem-proving results (the `dco evaluate` contract) ---


def model(
    label: str, n_prime: float | None, proved: int, passes: int | None, curve: dict[str, float]
) -> dict[str, Any]:
    return {
        "label": label,
        "model": None if n_prime is None else f"models/{label}",
        "n_prime": n_prime,
        "run_id": 1,
        "proved": proved,
        "total": 10,
        "finished": 10,
        "start_failed": 1,
        "passes": passes,
        "seconds": 100.0,
        "pass_at_k": curve,
    }


def evaluation(
    models: list[dict[str, Any]],
    *,
    strategy: str = "rollouts",
    passes: int | None = 16,
    ensemble: dict[str, Any] | None = None,
    budget: str | None = None,
) -> dict[str, Any]:
    return {
        "kind": "evaluation",
        "benchmark": "coq-stdlib",
        "split": "test",
        "theorems": 10,
        "strategy": strategy,
        "passes": passes,
        "budget_s": 60.0,
        "ensemble_budget": budget,
        "db": "evaluation.sqlite",
        "config": {
            "flags": {
                "benchmark": "coq-stdlib",
                "split": "test",
                "sample": 10,
                "seed": 0,
                "limit": None,
                "theorem": [],
                "passes": passes,
                "quiet": True,
            }
        },
        "models": models,
        "ensemble": ensemble,
        "interrupted": False,
        "machine": {"platform": "Linux", "python": "3.11", "cpus": 2},
        "started": "2026-11-22T12:00:00+00:00",
        "finished": "2026-11-22T12:10:00+00:00",
    }


def proving_runs(ensemble_proved: int, ce_proved: int) -> dict[str, dict[str, Any]]:
    members = [
        model("N'=1", 1, 3, 4, {"1": 0.1, "4": 0.3}),
        model("N'=8", 8, 4, 4, {"1": 0.1, "4": 0.4}),
    ]
    ens = {
        "label": "ensemble(1,8)",
        "proved": ensemble_proved,
        "total": 10,
        "found_by": {"N'=1": 3, "N'=8": 4},
        "only_by": {"N'=1": 1, "N'=8": 2},
        "pass_at_k": {"2": 0.2, "8": ensemble_proved / 10},
    }
    return {
        "symbolic": evaluation(
            [model("symbolic", None, 2, None, {"1": 0.2})], strategy="best-first", passes=None
        ),
        "ce": evaluation(
            [model("N'=1", 1, ce_proved, 8, {"1": 0.1, "8": ce_proved / 10})], passes=8
        ),
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
    runs = proving_runs(ensemble_proved=6, ce_proved=4)
    # a run stored before members named their generator: its label names it
    runs["hammer"] = evaluation(
        [model("hammer", None, 1, None, {"1": 0.1})], strategy="best-first", passes=None
    )
    write_proving(tmp_path / "results", runs)
    generate(tmp_path / "results", tmp_path / "out")
    text = (tmp_path / "out" / "REPORT.md").read_text(encoding="utf-8")
    section = text.split("## Theorem proving")[1].split("\n## ")[0]
    assert "*Not yet run.*" not in section
    # One table for the ten theorems: the baseline beside the models and the ensemble.
    assert section.count("### coq-stdlib test: 10 theorems (sample 10 (seed 0))") == 1
    assert "| symbolic | symbolic baseline | – | best-first |" in section
    assert "| hammer | hammer | – | best-first |" in section
    assert (
        "| ensemble | **ensemble(1,8)** (split budget) | – | rollouts | 8 | 60 | 6/10 | 60.0% |"
        in section
    )
    assert (
        "| ensemble | N'=8 | 8 | rollouts | 4 | 30 | 4/10 |" in section
    )  # split: half the wall clock each
    assert "found by no other model: N'=1 1, N'=8 2" in section
    assert (tmp_path / "out" / "figures" / "proving_passk_1.png").is_file()
    assert "| ensemble(1,8) (ensemble) | 60.0% | ce | 40.0% | 8 |" in section
    assert "### Claim 4: held" in text
    # The command is rebuilt from the stored flags when the file has none.
    assert (
        "`dco evaluate --benchmark coq-stdlib --split test --sample 10 --seed 0 --passes 8` (rebuilt"
        in text
    )


def test_a_minif2f_table_has_the_papers_minif2f_row_beside_it(tmp_path: Path) -> None:
    """The paper's MiniF2F numbers stand under the miniF2F table, not under
    coq-stdlib's."""
    runs = proving_runs(ensemble_proved=6, ce_proved=4)
    minif2f = evaluation(
        [model("symbolic-arith", None, 3, None, {"1": 0.3})], strategy="best-first", passes=None
    )
    minif2f["benchmark"] = minif2f["config"]["flags"]["benchmark"] = "minif2f-rocq:mf"
    runs = {"symbolic": runs["symbolic"], "mf": minif2f}
    write_proving(tmp_path / "results", runs)
    generate(tmp_path / "results", tmp_path / "out")
    text = (tmp_path / "out" / "REPORT.md").read_text(encoding="utf-8")
    stdlib = text.split("### coq-stdlib test")[1].split("\n### ")[0]
    mf = text.split("### minif2f-rocq:mf test")[1].split("\n### ")[0]
    assert "Paper, MiniF2F" not in stdlib
    assert "Paper, MiniF2F (" in mf and "CE 37.4%" in mf and "ensemble of N′" in mf
    assert "43.6%" in mf and "a different formal system" in mf


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


# --- the direct-answer claims on hand-made summary files, both ways ---


def summary_file(
    tmp_path: Path,
    seeds: dict[str, dict[str, list[dict[str, Any]]]],
    cot: dict[str, Any] | None = None,
    dcoa_n: int | None = 16,
) -> claims.DirectInput:
    """Write a summary.json of the study's shape and read it back as the
    report does."""
    path = tmp_path / "results" / "direct_answer" / "summary.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"seeds": seeds, "cot": cot or {}}), encoding="utf-8")
    stored = load(tmp_path / "results")
    assert stored.direct_summary is not None
    return claims.DirectInput(stored.direct_summary.data, dcoa_n)


def curve(
    pass1: list[float],
    pass256: list[float],
    wrong: list[float] | None = None,
    pass16: list[float] | None = None,
    pass4096: list[float] | None = None,
) -> list[dict[str, Any]]:
    n = len(pass1)
    wrong = wrong or [0.1] * n
    return [
        {
            "epoch": e,
            "train_accuracy": 0.5,
            "wrong_confidence": wrong[e],
            "pass@1": pass1[e],
            "pass@16": (pass16 or pass256)[e],
            "pass@256": pass256[e],
            "pass@4096": (pass4096 or pass256)[e],
        }
        for e in range(n)
    ]


RISE = [0.0001, 0.02, 0.04, 0.05, 0.055, 0.06]
FALL = [0.02, 0.6, 0.75, 0.6, 0.45, 0.4]


def test_claim1_needs_the_paper_sized_effect_in_every_seed(tmp_path: Path) -> None:
    good = {"ce": curve(RISE, FALL)}
    assert (
        claims.claim1(summary_file(tmp_path / "a", {"0": good, "1": good})).verdict == claims.HELD
    )
    # A net loss of pass@1 against epoch 0 (it rose, then fell below the start).
    loss = {"ce": curve([0.05, 0.08, 0.09, 0.07, 0.05, 0.045], FALL)}
    c = claims.claim1(summary_file(tmp_path / "b", {"0": good, "1": loss}))
    assert c.verdict == claims.NOT_HELD and "seed 1" in c.evidence[1]
    # pass@256 "falls 16 points from its peak" on a curve that jumps 20 points every epoch.
    noisy = {"ce": curve(RISE, [0.02, 0.5, 0.7, 0.5, 0.7, 0.54])}
    assert claims.claim1(summary_file(tmp_path / "c", {"0": noisy})).verdict == claims.NOT_HELD
    # Real but smaller than the paper's effect.
    small = {"ce": curve([0.0001, 0.004, 0.008, 0.01, 0.012, 0.015], FALL)}
    assert claims.claim1(summary_file(tmp_path / "d", {"0": small})).verdict == claims.NOT_HELD
    assert claims.claim1(summary_file(tmp_path / "e", {})).verdict == claims.NOT_MEASURED


def test_claim2_confidence(tmp_path: Path) -> None:
    climb = [0.0001, 0.1, 0.2, 0.3, 0.4, 0.5]

    def seeds(dco4: float, dco16: float, ce: list[float] = climb) -> dict[str, Any]:
        return {
            "0": {
                "ce": curve(RISE, FALL, ce),
                "dco-4": curve(RISE, FALL, [0.0001] + [dco4] * 5),
                "dco-16": curve(RISE, FALL, [0.0001] + [dco16] * 5),
            }
        }

    assert claims.claim2(summary_file(tmp_path / "a", seeds(0.3, 0.1))).verdict == claims.HELD
    assert claims.claim2(summary_file(tmp_path / "b", seeds(0.1, 0.3))).verdict == claims.NOT_HELD
    flat = [0.3, 0.35, 0.4, 0.45, 0.5, 0.5]  # grows, but less than doubles
    assert (
        claims.claim2(summary_file(tmp_path / "c", seeds(0.3, 0.1, flat))).verdict
        == claims.NOT_HELD
    )


def test_claim3_frontier_and_margin(tmp_path: Path) -> None:
    def obj(p1: float, p16: float, p256: float, p4096: float) -> list[dict[str, Any]]:
        return curve([p1] * 8, [p256] * 8, pass16=[p16] * 8, pass4096=[p4096] * 8)

    frontier = {
        "ce": obj(0.06, 0.15, 0.30, 0.45),
        "dco-4": obj(0.05, 0.2, 0.4, 0.6),
        "dco-16": obj(0.04, 0.3, 0.6, 0.8),
        "dco-256": obj(0.02, 0.25, 0.8, 0.95),
        "dco-4096": obj(0.01, 0.2, 0.7, 0.99),
    }
    assert (
        claims.claim3(summary_file(tmp_path / "a", {"0": frontier, "1": frontier})).verdict
        == claims.HELD
    )
    narrow = dict(
        frontier, **{"dco-256": obj(0.02, 0.25, 0.40, 0.95)}
    )  # beats CE by only 10 points
    narrow["dco-16"] = obj(0.04, 0.3, 0.35, 0.8)
    c = claims.claim3(summary_file(tmp_path / "b", {"0": frontier, "1": narrow}))
    assert c.verdict == claims.NOT_HELD and "+10.00 pt" in c.evidence[1]
    backwards = dict(frontier, ce=obj(0.06, 0.15, 0.30, 0.999))  # CE best at N = 4096
    assert claims.claim3(summary_file(tmp_path / "c", {"0": backwards})).verdict == claims.NOT_HELD


def test_claim5_needs_a_confidence_interval_above_zero_at_k_at_least_n(tmp_path: Path) -> None:
    def cot(ce: dict[str, float], dcoa: dict[str, float]) -> dict[str, Any]:
        return {"ce": ce, "dcoa": dcoa, "n_problems": 400, "samples": 256}

    ce = {"pass@1": 0.2, "pass@16": 0.4, "pass@64": 0.55}
    better = cot(
        ce, {"pass@1": 0.1, "pass@16": 0.6, "pass@64": 0.8}
    )  # worse at k = 1 < N': not judged
    inside = cot(ce, {"pass@1": 0.2, "pass@16": 0.42, "pass@64": 0.58})  # +2-3 points, interval +-7
    worse = cot(ce, {"pass@1": 0.2, "pass@16": 0.3, "pass@64": 0.4})
    assert (
        claims.claim5(summary_file(tmp_path / "a", {}, {"0": better, "1": better})).verdict
        == claims.HELD
    )
    c = claims.claim5(summary_file(tmp_path / "b", {}, {"0": better, "1": inside}))
    assert c.verdict == claims.NOT_HELD and "[" in c.evidence[1]
    assert claims.claim5(summary_file(tmp_path / "c", {}, {"0": worse})).verdict == claims.NOT_HELD
    assert (
        claims.claim5(summary_file(tmp_path / "d", {}, {"0": better}, None)).verdict
        == claims.NOT_MEASURED
    )


# --- the command line ---


def test_cli_writes_the_report_and_collects_a_trained_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from benchmarks.training_data import train_on_benchmark as train
    from training.data import PromptFormat
    from training.model import ModelConfig
    from training.trainer import TrainConfig

    bench = make_benchmark(tmp_path / "tiny")
    models = tmp_path / "models"
    train(
        TrainConfig(
            benchmark=str(bench),
            out=str(models / "ce"),
            max_steps=3,
            batch_size=8,
            model=ModelConfig(hidden=32, layers=1, heads=2, mlp=64, vocab_size=300),
            prompt=PromptFormat(max_prompt_tokens=64, max_tactic_tokens=8),
            warmup_steps=1,
            progress=False,
            eval_limit=5,
        )
    )
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
    assert (
        main(["report", "--results", str(tmp_path / "results"), "--out", str(tmp_path / "o")]) == 2
    )
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "coq_env.json is not valid JSON" in err and "\n" not in err
    assert (
        main(
            [
                "report",
                "--results",
                str(tmp_path / "results"),
                "--models",
                str(tmp_path / "none"),
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    assert "is not a directory" in capsys.readouterr().err


def test_provers_side_by_side_at_the_same_wall_clock(tmp_path: Path) -> None:
    """Runs whose results carry proof times stand side by side at every t up
    to the smallest budget, with paired exact McNemar tests; a run stored
    without proof times is left out of that table (and still reported)."""
    from benchmarks.paired import mcnemar_exact

    names = [f"T.t{i}" for i in range(10)]
    sym = model("symbolic", None, 4, None, {"1": 0.4})
    sym |= {
        "budget_per_theorem_s": 30.0,
        "seconds_per_theorem": 14.0,
        "proved_at": {"T.t0": 0.4, "T.t1": 3.0, "T.t2": 12.0, "T.t3": 29.0},
    }
    lm = model("N'=1", 1, 5, 160, {"1": 0.1, "160": 0.5})
    lm |= {
        "budget_per_theorem_s": 20.0,
        "seconds_per_theorem": 2.6,
        "proved_at": {n: 1.5 for n in names[4:9]},
    }
    runs = {
        "symbolic": evaluation([sym], strategy="best-first", passes=None),
        "lm": evaluation([lm], passes=160),
        "old": evaluation([model("N'=1", 1, 3, 8, {"1": 0.3})], passes=8),
    }
    for result in write_proving(tmp_path / "results", runs):
        (result.path.parent / "theorems.jsonl").write_text(
            "".join(json.dumps({"theorem": n}) + "\n" for n in names), encoding="utf-8"
        )
    generate(tmp_path / "results", tmp_path / "out")
    text = (tmp_path / "out" / "REPORT.md").read_text(encoding="utf-8")
    section = text.split("## Theorem proving")[1].split("\n## ")[0]
    assert (
        "| prover | ≤ 1 s | ≤ 2 s | ≤ 5 s | ≤ 10 s | ≤ 15 s | ≤ 20 s | s used / budget per theorem |"
        in section
    )
    assert "| symbolic: symbolic | 1 | 1 | 2 | 2 | 3 | 3 | 14.0 / 30 |" in section
    assert "| lm: N'=1 | 0 | 5 | 5 | 5 | 5 | 5 | 2.6 / 20 |" in section
    assert "old: N'=1" not in section.split("At the same wall clock")[1]
    # at 20 s: the model {t4..t8}, symbolic {t0, t1, t2}: 5 and 3 alone
    p = f"{mcnemar_exact(5, 3):.3g}"
    assert f"| lm: N'=1 | symbolic: symbolic | 5 vs 3 | 5 | 3 | {p} |" in section
    assert "Paired on the same 10 theorems at 20 s:" in section


def test_accuracy_section_renders_every_policy_and_member(tmp_path: Path) -> None:
    results = tmp_path / "results"
    (results / "tactic_accuracy").mkdir(parents=True)
    row = {"top1": 0.1, "recall@4": 0.2, "recall@16": 0.3, "recall@64": 0.4, "steps": 7}
    payload = {
        "prior": row,
        "knn": {**row, "top1": 0.125},
        "ceiling": {"seen_in_train": 0.375, "steps": 7},
        "dco": {"n8": {"train_top1": 0.5, "share_F_below_0.5": 0.25}},
    }
    (results / "tactic_accuracy" / "val.json").write_text(json.dumps(payload))
    generate(results, tmp_path / "out")
    text = (tmp_path / "out" / "REPORT.md").read_text(encoding="utf-8")
    section = text.split("## Next-tactic accuracy", 1)[1].split("\n## ", 1)[0]
    assert (
        "| prior " in section and "12.5%" in section and "| n8 " in section and "25.0%" in section
    )
    # the ceiling is a sentence under the table, not a policy row
    assert "| ceiling " not in section and "37.5% of these val tactics occur" in section
