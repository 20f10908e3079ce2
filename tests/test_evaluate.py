"""`dco evaluate` and `prove` end to end with real coqtop/coqc, a real
SQLite file and two real tiny models (CE N'=1, DCOstep N'=2) trained here:
results.json's schema and numbers against the database, resuming and
skipping finished models, split vs each ensembles, --config, a theorem whose
proof assistant keeps crashing, prove's output and exit codes, bad input."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from helpers import make_bench, query, train_models

import prover.generators
from prover.cli import main, prove_main
from search.generator import FixedTacticGenerator

CONTRACT = {
    "kind",
    "benchmark",
    "split",
    "theorems",
    "strategy",
    "passes",
    "budget_s",
    "ensemble_budget",
    "db",
    "config",
    "models",
    "ensemble",
    "machine",
    "started",
    "finished",
}
MODEL_KEYS = {
    "label",
    "model",
    "n_prime",
    "run_id",
    "proved",
    "total",
    "start_failed",
    "passes",
    "seconds",
    "pass_at_k",
}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("ev")
    bench, steps = make_bench(root)
    return bench, train_models(root, bench, steps)


def run(argv: list[str], entry=main) -> tuple[int, str]:
    buf = io.StringIO()
    with redirect_stdout(buf):
        rc = entry(argv)
    return rc, buf.getvalue()


def evaluate(bench: Path, out: Path, *extra: str) -> tuple[int, str, dict]:
    rc, stdout = run(
        ["evaluate", "--benchmark", str(bench), "--out", str(out), "--quiet", "--no-tree", *extra]
    )
    results = json.loads((out / "results.json").read_text()) if rc in (0, 130) else {}
    return rc, stdout, results


def test_one_model_results_match_the_database_and_resume(tiny, tmp_path) -> None:
    bench, models = tiny
    out = tmp_path / "one"
    args = [
        "--model",
        str(models / "ce"),
        "--strategy",
        "rollouts",
        "--passes",
        "4",
        "--budget",
        "60",
    ]
    rc, stdout, results = evaluate(bench, out, *args)
    assert rc == 0, stdout
    assert set(results) >= CONTRACT and results["kind"] == "evaluation"
    assert (results["theorems"], results["passes"], results["budget_s"]) == (6, 4, 60.0)
    # which code and Coq produced the numbers (this test runs from a checkout)
    assert results["machine"]["git"].startswith("git:") and results["machine"]["coq"].startswith(
        "8."
    )
    assert results["ensemble"] is None and results["ensemble_budget"] is None
    (m,) = results["models"]
    # a lone model is named by its search; its N' stays in the entry
    assert set(m) >= MODEL_KEYS and (m["label"], m["n_prime"], m["passes"]) == (
        "lm-rollouts",
        1.0,
        4,
    )
    db = Path(results["db"])
    rows = {
        r["theorem"]: r
        for r in query(db, "SELECT * FROM theorems WHERE run_id = ?", (m["run_id"],))
    }
    assert len(rows) == m["total"] == 6
    assert m["proved"] == sum(r["status"] == "proved" for r in rows.values()) >= 2
    assert m["start_failed"] == 1 and rows["Broken.t"]["status"] == "failed"
    assert rows["Ev.u_false"]["status"] != "proved"
    # pass@k from the attempts table, independently: pass@1 is the mean
    # success rate, pass@n the share of theorems with any success.
    attempts = query(db, "SELECT theorem, success FROM attempts WHERE run_id = ?", (m["run_id"],))
    per: dict[str, list[int]] = {}
    for a in attempts:
        per.setdefault(a["theorem"], []).append(a["success"])
    assert all(len(v) == 4 for v in per.values()) and "Broken.t" not in per
    assert m["pass_at_k"]["1"] == pytest.approx(sum(sum(v) / 4 for v in per.values()) / 6)
    assert m["pass_at_k"]["4"] == pytest.approx(m["proved"] / 6)
    assert list(m["pass_at_k"]) == ["1", "2", "4"]
    assert m["pass_at_k"]["1"] <= m["pass_at_k"]["2"] <= m["pass_at_k"]["4"]
    # The resolved config, the table, the plot, the per-theorem file.
    assert results["config"]["flags"]["passes"] == 4
    assert results["config"]["member_budgets"]["lm-rollouts"]["max_passes"] == 4
    assert "proved" in stdout.splitlines()[-2] and f"{m['proved']}/6" in stdout
    assert (out / "passk.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = [json.loads(x) for x in (out / "theorems.jsonl").read_text().splitlines()]
    assert {x["theorem"] for x in lines if x["proved"]} == {
        n for n, r in rows.items() if r["status"] == "proved"
    }
    # The same command again: the finished run is reused, nothing searched.
    rc, _, again = evaluate(bench, out, *args)
    assert rc == 0 and again["models"][0] == m
    assert query(db, "SELECT count(*) AS n FROM theorems")[0]["n"] == 6
    assert query(db, "SELECT count(*) AS n FROM runs")[0]["n"] == 1


def test_ensemble_split_and_each(tiny, tmp_path) -> None:
    bench, models = tiny
    out, db = tmp_path / "ens", tmp_path / "ens.sqlite"
    common = [
        "--ensemble",
        "1,2",
        "--models",
        str(models),
        "--strategy",
        "rollouts",
        "--passes",
        "4",
        "--budget",
        "60",
        "--db",
        str(db),
    ]
    rc, stdout, split = evaluate(bench, out, *common, "--ensemble-budget", "split")
    assert rc == 0, stdout
    assert split["ensemble_budget"] == "split"
    assert [(m["label"], m["passes"]) for m in split["models"]] == [("N'=1", 2), ("N'=2", 2)]
    for m in split["models"]:
        config = json.loads(
            query(db, "SELECT config FROM runs WHERE id = ?", (m["run_id"],))[0]["config"]
        )
        assert config["budget"]["max_passes"] == 2 and config["budget"]["wall_clock"] == 30.0
        counts = query(
            db,
            "SELECT count(*) AS n FROM attempts WHERE run_id = ? GROUP BY theorem",
            (m["run_id"],),
        )
        assert {c["n"] for c in counts} == {2}
    proved = {
        m["label"]: {
            r["theorem"]
            for r in query(
                db,
                "SELECT theorem FROM theorems WHERE run_id = ? AND status = 'proved'",
                (m["run_id"],),
            )
        }
        for m in split["models"]
    }
    e = split["ensemble"]
    assert e["label"] == "ensemble(1,2)" and e["total"] == 6
    assert e["proved"] == len(proved["N'=1"] | proved["N'=2"])
    assert e["found_by"] == {k: len(v) for k, v in proved.items()}
    assert e["only_by"]["N'=1"] == len(proved["N'=1"] - proved["N'=2"])
    assert e["pass_at_k"]["4"] == pytest.approx(e["proved"] / 6)  # 2 passes each, 4 in all
    assert "ensemble(1,2)" in stdout

    rc, _, each = evaluate(bench, out, *common, "--ensemble-budget", "each")
    assert rc == 0 and [m["passes"] for m in each["models"]] == [4, 4]
    assert query(db, "SELECT count(*) AS n FROM runs")[0]["n"] == 4
    # One model alone with the full budget is the same run as its `each` member.
    rc, _, alone = evaluate(bench, tmp_path / "alone", "--model", str(models / "ce"), *common[4:])
    assert rc == 0 and alone["models"][0]["run_id"] == each["models"][0]["run_id"]
    assert query(db, "SELECT count(*) AS n FROM runs")[0]["n"] == 4


def test_config_file_with_flags_overriding(tiny, tmp_path) -> None:
    bench, models = tiny
    config = tmp_path / "eval.toml"
    config.write_text(
        f'benchmark = "{bench}"\nensemble = "1,2"\nmodels = "{models}"\n'
        'strategy = "pass@n"\npasses = 8\nbudget = 60.0\nensemble-budget = "each"\n'
        "limit = 2\n",
        encoding="utf-8",
    )
    out = tmp_path / "cfg"
    rc, stdout = run(
        [
            "evaluate",
            "--config",
            str(config),
            "--passes",
            "2",
            "--out",
            str(out),
            "--quiet",
            "--no-tree",
        ]
    )
    assert rc == 0, stdout
    results = json.loads((out / "results.json").read_text())
    assert (results["strategy"], results["passes"], results["theorems"]) == ("rollouts", 2, 2)
    assert results["ensemble_budget"] == "each"
    assert results["config"]["flags"]["config"] == str(config)
    assert results["config"]["flags"]["ensemble"] == "1,2"


class CrashingGenerator(FixedTacticGenerator):
    """The symbolic baseline, except that on ``t_and`` it kills the real
    coqtop under the search and removes the compiled library the theorem's
    file needs, so every restart of the proof assistant fails too."""

    def __init__(self, library: Path, seed: int) -> None:
        super().__init__(seed=seed)
        self.library = library

    def generate(self, states, k, **kw):
        if any("P /\\ Q" in s for s in states):
            self.library.unlink(missing_ok=True)
            for pid in _coqtops():
                os.kill(pid, signal.SIGKILL)
        return super().generate(states, k, **kw)


def _coqtops() -> list[int]:
    out = subprocess.run(
        ["pgrep", "-P", str(os.getpid()), "coqtop"], capture_output=True, text=True
    ).stdout
    return [int(p) for p in out.split()]


def test_a_theorem_that_crashes_its_environment_fails_and_the_run_goes_on(
    tmp_path, monkeypatch
) -> None:
    # Ev.v needs a compiled library of its own, which the generator deletes.
    root = tmp_path / "crash"
    root.mkdir()
    lib = root / "Lib.v"
    lib.write_text("Definition lib_one := 1.\n", encoding="utf-8")
    (root / "_CoqProject").write_text(f"-Q {root} Crash\n", encoding="utf-8")
    subprocess.run(["coqc", "-Q", str(root), "Crash", str(lib)], check=True, cwd=root)
    bench, _ = make_bench(root, prelude="Require Crash.Lib.\n")
    monkeypatch.setattr(
        prover.generators,
        "make_generator",
        lambda spec, seed, worker=0: CrashingGenerator(lib.with_suffix(".vo"), seed),
    )
    db = tmp_path / "c.sqlite"
    rc, stdout, results = evaluate(
        bench, tmp_path / "out", "--strategy", "best-first", "--budget", "20", "--db", str(db)
    )
    assert rc == 0, stdout
    # Full names are Crash.Ev.* here (the file is under -Q ... Crash).
    rows = {r["theorem"].removeprefix("Crash."): r for r in query(db, "SELECT * FROM theorems")}
    assert len(rows) == results["models"][0]["total"] == 6  # the run went on past the crash
    crashed = rows["Ev.t_and"]
    assert crashed["status"] == "failed" and not crashed["start_failed"]
    assert "crashed and could not be restored" in crashed["reason"]
    assert rows["Ev.t_add_0"]["status"] == "proved"  # searched before the crash
    # The theorems after it need the deleted library: they fail to start, and are counted.
    after = [rows[n] for n in ("Ev.u_false", "Ev.t_comm", "Ev.t_or")]
    assert all(r["status"] == "failed" and r["start_failed"] for r in after)
    assert results["models"][0]["start_failed"] == 4  # with Broken.t


def test_prove_prints_a_script_that_compiles(tiny, tmp_path) -> None:
    bench, models = tiny
    db = tmp_path / "p.sqlite"
    args = [
        "--theorem",
        "t_and",
        "--benchmark",
        str(bench),
        "--ensemble",
        "1,2",
        "--models",
        str(models),
        "--strategy",
        "rollouts",
        "--passes",
        "8",
        "--budget",
        "60",
        "--db",
        str(db),
    ]
    rc, stdout = run([*args, "--json"], prove_main)
    assert rc == 0, stdout
    report = json.loads(stdout)
    assert report["proved"] and report["found_by"] == "N'=1" and report["db"] == str(db)
    assert [m["model"] for m in report["models"]] == ["N'=1"]  # stopped at the first proof
    first = report["models"][0]
    # 8 passes split over 2 models; rollouts stop at the first proof.
    assert first["status"] == "proved" and 1 <= first["successes"] <= first["attempts"] <= 4
    script = report["script"]
    assert script.startswith("Lemma t_and :") and script.endswith("Qed.")
    # Ready to paste: the file's text before the lemma plus the script compiles.
    source = (bench.parent / "Ev.v").read_text()
    start = source.index("Lemma t_and")
    check = tmp_path / "Check.v"
    check.write_text(source[:start] + script + "\n", encoding="utf-8")
    assert subprocess.run(["coqc", str(check)], cwd=tmp_path, capture_output=True).returncode == 0

    # The same command on a terminal: the readable summary, answered from the database.
    rc, text = run([*args, "--all-models"], prove_main)
    assert rc == 0
    assert text.startswith("PROVED Ev.t_and (found by N'=")
    assert script in text and f"search log: {db}" in text
    assert "N'=1" in text and "N'=2" in text  # --all-models ran both


def test_prove_exit_codes(tiny, tmp_path) -> None:
    bench, models = tiny
    source = bench.parent / "Ev.v"
    rc, text = run(
        [
            "--theorem",
            "t_or",
            "--file",
            str(source),
            "--generator",
            "symbolic",
            "--budget",
            "20",
            "--db",
            str(tmp_path / "a.sqlite"),
        ],
        prove_main,
    )
    assert rc == 0 and text.startswith("PROVED Ev.t_or (found by symbolic)")
    rc, text = run(
        [
            "--theorem",
            "u_false",
            "--file",
            str(source),
            "--model",
            str(models / "n2"),
            "--budget",
            "3",
            "--db",
            str(tmp_path / "b.sqlite"),
        ],
        prove_main,
    )
    assert rc == 1 and text.startswith("NOT PROVED Ev.u_false")
    # a lone model is named by its search; the table's column fits the name
    header, row = text.splitlines()[2:4]
    label, status = row.split()[:2]  # failed, or open when the 3 s ran out first
    assert label == "lm-best-first" and header.index("status") == row.index(f" {status} ") + 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--theorem", "nope"], "'nope' not found in"),
        (["--theorem", "t_or", "--ensemble", "1,4"], "--loss dcostep --n 4 --out"),
        (
            ["--theorem", "t_or", "--passes", "0", "--strategy", "rollouts"],
            "argument --passes: expected an integer in [1,",
        ),
        (["--theorem", "t_or", "--strategy", "dfs"], "invalid choice: 'dfs'"),
        (["--theorem", "t_or", "--model", "/nonexistent"], "no such directory"),
        (["--theorem", "t_or", "--benchmark", "b", "--file", __file__], "not allowed with"),
    ],
)
def test_prove_bad_input_is_one_line(tiny, tmp_path, capsys, argv, message) -> None:
    bench, models = tiny
    argv = [a if a != "__" else "" for a in argv]
    if "--file" not in argv and "--benchmark" not in argv:
        argv += ["--file", str(bench.parent / "Ev.v")]
    rc = prove_main([*argv, "--models", str(models), "--db", str(tmp_path / "x.sqlite")])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: ") and message in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--ensemble", "1,3", "--passes", "2"], "no model with N'=3"),
        (["--strategy", "rollouts"], "needs --passes"),
        (["--workers", "0", "--passes", "2"], "argument --workers: expected an integer in [1,"),
        (["--ensemble", "1,2", "--passes", "1"], "1 passes cannot be shared by 2 models"),
        (["--generator", "oracle", "--passes", "2"], "unknown generator 'oracle'"),
        (["--passes", "2", "--ensemble-budget", "half"], "invalid choice: 'half'"),
        (["--passes", "2", "--sample", "0"], "argument --sample: expected an integer in [1,"),
    ],
)
def test_evaluate_bad_input_is_one_line(tiny, tmp_path, capsys, argv, message) -> None:
    bench, models = tiny
    rc = main(
        [
            "evaluate",
            "--benchmark",
            str(bench),
            "--models",
            str(models),
            "--out",
            str(tmp_path / "o"),
            *argv,
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "o" / "results.json").exists()


def test_ray_gives_the_local_results(tmp_path) -> None:
    ray = pytest.importorskip("ray")
    bench, _ = make_bench(tmp_path / "ray")
    args = [
        "--generator",
        "symbolic",
        "--strategy",
        "rollouts",
        "--passes",
        "8",
        "--budget",
        "60",
        "--limit",
        "3",
    ]
    rc, _, local = evaluate(bench, tmp_path / "local", *args)
    assert rc == 0
    try:
        rc, _, remote = evaluate(bench, tmp_path / "remote", *args, "--ray", "local")
    finally:
        ray.shutdown()
    assert rc == 0
    assert remote["config"]["flags"]["ray"] == "local"
    rows = [
        query(
            tmp_path / d / "evaluation.sqlite",
            "SELECT theorem, status, attempts, successes, proof FROM theorems ORDER BY theorem",
        )
        for d in ("local", "remote")
    ]
    assert rows[0] == rows[1] and len(rows[0]) == 3
    assert remote["models"][0]["pass_at_k"] == local["models"][0]["pass_at_k"]
    shutil.rmtree(tmp_path / "remote", ignore_errors=True)
