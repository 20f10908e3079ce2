"""`dco expert-iterate` end to end on a tiny Coq benchmark with real tiny
models, real coqtop/coqc and a real SQLite file: one round, then a second
round killed with SIGKILL mid-proving and resumed, and bad input.

The benchmark (traced from a real Coq file): four train theorems with human
proofs (``a_*``), three train theorems with no recorded proof (``b_*``, as
miniF2F-like statements have none) that the models can prove with what they
learned from the ``a_*`` proofs, one (``c_le``) that the starting models were
taught to "prove" with ``fix IH 1. exact IH.`` (accepted step by step by
coqtop, rejected by the independent re-check at ``Qed``), and two test
theorems. The starting models (N'=1 CE, N'=2 DCOstep) are trained here in
seconds on the human steps plus that bogus proof.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import time
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers import kill9, query, train_config

from benchmarks.format import Benchmark, BenchmarkTheorem, Step, write_benchmark
from benchmarks.loader import load_benchmark
from benchmarks.training_data import train_on_benchmark as train
from lean_env.coq.environment import CoqEnvironment
from lean_env.coq.trace import TracedStep, check_traced, replay, trace_file
from prover.cli import main
from prover.expert.config import ExpertConfig
from prover.expert.models import find_models, round_model_config, start_model_config
from training.data import normalize_tactic
from training.generator import read_meta
from training.losses import LossConfig

SOURCE = """Require Import Arith Lia.

Lemma a_add_0 : forall n : nat, n + 0 = n.
Proof. intros n. lia. Qed.

Lemma a_comm : forall n m : nat, n + m = m + n.
Proof. intros n m. lia. Qed.

Lemma a_mul_1 : forall n : nat, n * 1 = n.
Proof. intros n. lia. Qed.

Lemma a_succ : forall n : nat, S n = n + 1.
Proof. intros n. lia. Qed.

Lemma b_0_add : forall n : nat, 0 + n = n.
Proof. intros n. lia. Qed.

Lemma b_1_mul : forall n : nat, 1 * n = n.
Proof. intros n. lia. Qed.

Lemma b_assoc : forall n m : nat, n + m + 0 = m + n.
Proof. intros n m. lia. Qed.

Lemma c_le : forall n : nat, n <= n * n + n.
Proof. intros n. lia. Qed.

Lemma t_add_0_0 : forall n : nat, n + 0 + 0 = n.
Proof. intros n. lia. Qed.

Lemma t_comm : forall m n : nat, m + n = n + m.
Proof. intros m n. lia. Qed.
"""
BOGUS = ["fix IH 1", "exact IH"]
CONFIG = """passes = 8
budget = 30.0
max-steps = 20
n-primes = "1,2"
quiet = true
"""


@dataclass(frozen=True)
class Tiny:
    bench: Path
    models: Path
    config: Path


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Tiny:
    root = tmp_path_factory.mktemp("expert")
    source = root / "Ei.v"
    source.write_text(SOURCE, encoding="utf-8")
    traced = trace_file(source, recheck=False).theorems
    assert len(traced) == 10
    theorems, steps, bogus = [], [], []
    for i, tt in enumerate(traced):
        short = tt.theorem.short_name
        split = "test" if short.startswith("t_") else "train"
        human = short.startswith(("a_", "t_"))
        theorems.append(BenchmarkTheorem(i, tt.theorem, split, tt.tactics if human else ()))
        if human:
            steps += [Step(i, j, s.state, s.tactic, split) for j, s in enumerate(tt.steps)]
        if short == "c_le":
            with CoqEnvironment(tt.theorem) as env:
                fake = replay(env, BOGUS)
            assert fake.finished  # coqtop accepts it step by step
            bogus = [Step(i, j, s.state, s.tactic) for j, s in enumerate(fake.steps)]
    bench = root / "bench"
    write_benchmark(bench, Benchmark("ei", theorems, steps, {"library": "ei"}))
    taught = root / "taught"
    write_benchmark(taught, Benchmark("ei", theorems, steps + bogus, {"library": "ei"}))
    for n in (1, 2):
        loss = LossConfig("ce") if n == 1 else LossConfig("dcostep", n=n)
        train(train_config(taught, root / "models" / f"m{n}", max_steps=120, loss=loss))
    config = root / "ei.toml"
    config.write_text(CONFIG, encoding="utf-8")
    return Tiny(bench, root / "models", config)


def args(tiny: Tiny, out: Path, rounds: int, *extra: str) -> list[str]:
    return [
        "expert-iterate",
        "--config",
        str(tiny.config),
        "--rounds",
        str(rounds),
        "--benchmark",
        str(tiny.bench),
        "--models",
        str(tiny.models),
        "--out",
        str(out),
        *extra,
    ]


def run_main(argv: list[str]) -> tuple[int, str]:
    buf = io.StringIO()
    with redirect_stdout(buf):
        rc = main(argv)
    return rc, buf.getvalue()


def key(tactics: list[str]) -> tuple[str, ...]:
    return tuple(normalize_tactic(t) for t in tactics)


@pytest.fixture(scope="module")
def first(tiny: Tiny, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One round (plus round 0, the starting models' evaluation)."""
    out = tmp_path_factory.mktemp("run") / "ei"
    rc, stdout = run_main(args(tiny, out, 1))
    assert rc == 0, stdout
    return out, stdout


def test_a_round_adds_only_verified_deduplicated_proofs(first, tiny) -> None:
    out, stdout = first
    db = out / "expert.sqlite"
    rounds = query(db, "SELECT * FROM expert_rounds ORDER BY round")
    assert [(r["round"], r["status"]) for r in rounds] == [(0, "done"), (1, "done")]
    r1 = rounds[1]
    runs = json.loads(r1["prove_runs"])
    assert set(runs) == {"N'=1", "N'=2"}
    assert sorted(json.loads(r1["targets"])) == [
        f"Ei.{n}"
        for n in ("a_add_0", "a_comm", "a_mul_1", "a_succ", "b_0_add", "b_1_mul", "b_assoc", "c_le")
    ]

    # The bogus proof was found by the search and failed the re-check ...
    found = query(
        db,
        "SELECT run_id, theorem, tactics, verified FROM proofs WHERE run_id IN (?, ?)",
        (runs["N'=1"], runs["N'=2"]),
    )
    assert {"Ei.c_le"} == {p["theorem"] for p in found if json.loads(p["tactics"]) == BOGUS}
    assert all(not p["verified"] for p in found if json.loads(p["tactics"]) == BOGUS)
    # ... and every distinct verified proof of either model is one row of
    # expert_proofs (a proof both models found is one row), no other.
    verified = {(p["theorem"], key(json.loads(p["tactics"]))) for p in found if p["verified"]}
    recorded = query(db, "SELECT * FROM expert_proofs")
    assert len(recorded) == len(verified) > 0
    assert {(p["theorem"], key(json.loads(p["tactics"]))) for p in recorded} == verified
    # Proofs equal to the human proof are duplicates; at most one added per theorem.
    bench = {t.theorem.name: t for t in load_benchmark(str(tiny.bench)).theorems()}
    for p in recorded:
        same = bool(bench[p["theorem"]].tactics) and key(json.loads(p["tactics"])) == key(
            list(bench[p["theorem"]].tactics)
        )
        assert (p["status"] == "duplicate") == same, p
    added = [p for p in recorded if p["status"] == "added"]
    assert len({p["theorem"] for p in added}) == len(added) > 0
    assert r1["added_proofs"] == len(added) and r1["proved_so_far"] == len(
        verified_theorems(recorded)
    )

    # The added steps are the proofs traced in the Environment: replayed in a
    # fresh coqtop they show the same states, finish, and pass coqc.
    lines = (out / "round-1" / "added_steps.jsonl").read_text().splitlines()
    steps = [json.loads(line) for line in lines]
    assert len(steps) == r1["added_steps"] == sum(p["steps"] for p in added)
    for p in added:
        mine = sorted((s for s in steps if s["theorem"] == p["theorem"]), key=lambda s: s["index"])
        assert [s["tactic"] for s in mine] == json.loads(p["tactics"])
        assert {s["theorem_id"] for s in mine} == {bench[p["theorem"]].id}
        traced = [TracedStep(s["state"], s["tactic"]) for s in mine]
        assert check_traced(bench[p["theorem"]].theorem, traced) == ""

    # Round 1 trained on the base steps plus the added ones, continuing from round 0.
    augmented = load_benchmark(str(out / "round-1" / "benchmark"))
    base = load_benchmark(str(tiny.bench))
    assert len(list(augmented.steps("train"))) == len(list(base.steps("train"))) + len(steps)
    models = json.loads(r1["models"])
    for n in (1, 2):
        meta = read_meta(models[f"N'={n}"])
        assert Path(models[f"N'={n}"]) == out / "round-1" / "models" / f"n{n}"
        assert meta["n_prime"] == n and meta["steps"] == 20
        assert meta["base_model"] == str(tiny.models / f"m{n}")  # continued
        assert meta["train_units"] == len(list(augmented.steps("train")))

    # Test scores of both rounds, and the resolved config from the TOML file.
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["budget"]["max_passes"] == 8
    assert summary["config"]["config_file"] == str(tiny.config)
    for row in summary["rounds"]:
        for name in ("N'=1", "N'=2"):
            s = row["test"][name]
            assert s["total"] == 2 and set(s["pass_at_k"]) == {"1", "2", "4", "8"}
            assert (s["proved"] > 0) == (s["pass_at_k"]["8"] > 0)
    assert "round" in stdout and "ensemble(1,2)" in stdout


def test_the_report_shows_the_rounds(first, tmp_path: Path) -> None:
    """`dco report` renders a stored expert-iteration summary: one table row
    per round and model, with the summary's own counts."""
    from benchmarks.report.build import generate

    out, _ = first
    summary = json.loads((out / "summary.json").read_text())
    stored = tmp_path / "results" / "expert" / "ei"
    stored.mkdir(parents=True)
    shutil.copy(out / "summary.json", stored / "summary.json")
    text = generate(tmp_path / "results", tmp_path / "report").read_text()
    section = text[text.index("## Expert iteration") :].split("\n## ")[0]
    rows = [
        [c.strip() for c in ln.strip("|").split("|")]
        for ln in section.splitlines()
        if ln.startswith("| ") and not ln.startswith(("| round", "| ---"))
    ]
    r1 = summary["rounds"][1]
    assert [r[0] for r in rows if r[0]] == ["0", "1"]
    one = next(r for r in rows if r[0] == "1")
    assert one[1:5] == [
        str(r1["searched"]),
        str(r1["added_proofs"]),
        str(r1["added_steps"]),
        f"{r1['proved_so_far']}/{summary['train_pool']}",
    ]
    assert sum(r[5].startswith("N'=") for r in rows) == 4  # 2 models x 2 rounds
    assert "dco expert-iterate --rounds 1" in text  # provenance, rebuilt from the config


def verified_theorems(rows: list[dict[str, Any]]) -> set[str]:
    return {r["theorem"] for r in rows}


@pytest.fixture(scope="module")
def second(first, tiny: Tiny) -> dict[str, Any]:
    """Round 2, killed with SIGKILL while it proves, then resumed."""
    out, _ = first
    db = out / "expert.sqlite"
    before = query(db, "SELECT * FROM expert_rounds ORDER BY round")
    model_file = out / "round-1" / "models" / "n1" / "model.safetensors"
    mtime = model_file.stat().st_mtime_ns
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "prover.cli", *args(tiny, out, 2)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    status = None
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and status is None:
            rows = query(db, "SELECT status FROM expert_rounds WHERE round = 2")
            status = rows[0]["status"] if rows else None
            assert proc.poll() is None or status is not None, "ended before it could be killed"
            time.sleep(0.02)
    finally:
        kill9(proc)
    killed_stdout = proc.stdout.read().decode() if proc.stdout else ""
    rc, stdout = run_main(args(tiny, out, 2))
    return {
        "out": out,
        "before": before,
        "status_at_kill": status,
        "rc": rc,
        "killed_stdout": killed_stdout,
        "stdout": stdout,
        "mtime": mtime,
        "model_file": model_file,
    }


def test_resume_continues_the_unfinished_round(second) -> None:
    out = second["out"]
    db = out / "expert.sqlite"
    assert second["status_at_kill"] == "proving"
    assert second["rc"] == 0, second["stdout"]
    assert "round 1: done before, skipped" in second["killed_stdout"]
    assert "round 1: done before, skipped" in second["stdout"]
    rounds = query(db, "SELECT * FROM expert_rounds ORDER BY round")
    assert [r["status"] for r in rounds] == ["done"] * 3
    # Finished rounds untouched: same rows, same model files.
    assert rounds[:2] == second["before"]
    assert second["model_file"].stat().st_mtime_ns == second["mtime"]
    # One search run per (kind, round, model): the interrupted one was resumed.
    keys = []
    for run in query(db, "SELECT config FROM runs"):
        c = json.loads(run["config"])
        keys.append((c["kind"], c.get("round"), c["label"], c["model"]))
    assert len(keys) == len(set(keys))
    # Round 2 searched exactly the train theorems round 1 left unproved.
    proved_1 = {
        r["theorem"] for r in query(db, "SELECT theorem FROM expert_proofs WHERE round = 1")
    }
    targets_2 = json.loads(rounds[2]["targets"])
    assert set(targets_2) == set(json.loads(rounds[1]["targets"])) - proved_1
    assert "Ei.c_le" in targets_2
    for run_id in json.loads(rounds[2]["prove_runs"]).values():
        searched = query(db, "SELECT theorem FROM theorems WHERE run_id = ?", (run_id,))
        assert sorted(r["theorem"] for r in searched) == sorted(targets_2)


def test_two_rounds_summary_and_table(second) -> None:
    out = second["out"]
    summary = json.loads((out / "summary.json").read_text())
    assert [r["round"] for r in summary["rounds"]] == [0, 1, 2]
    assert summary["train_pool"] == 8 and summary["test_theorems"] == 2
    lines = second["stdout"].splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["round", "searched"])
    assert lines[header].split()[:4] == ["round", "searched", "new", "proofs"]
    assert "pass@1" in lines[header] and "pass@8" in lines[header]
    first_cells = [line.split()[0] for line in lines[header + 1 :] if line[:1].isdigit()]
    assert first_cells == ["0", "1", "2"]
    # The bogus proof never reached the training data in any round.
    for r in (1, 2):
        steps = (out / f"round-{r}" / "added_steps.jsonl").read_text()
        assert "fix IH" not in steps


def test_changed_settings_are_refused(second, tiny, capsys) -> None:
    out = second["out"]
    assert main([*args(tiny, out, 2), "--passes", "4"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "other settings" in err and "budget" in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--rounds", "0"], "argument --rounds: expected an integer in [1,"),
        (["--n-primes", "1,x"], "--n-primes: expected numbers"),
        (["--n-primes", "1,1"], "repeats a value"),
        (["--passes", "0"], "argument --passes: expected an integer in [1,"),
        (["--models", "/no/such/dir"], "no such directory"),
        (["--n-primes", "4"], "dco train --benchmark"),
        (["--proofs-per-theorem", "-1"], "--proofs-per-theorem"),
        (["--limit", "0"], "argument --limit: expected an integer in [1,"),
    ],
)
def test_bad_flags(tiny, tmp_path, capsys, extra, message) -> None:
    assert main([*args(tiny, tmp_path / "out", 1), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and err.count("\n") == 0 and message in err, err


def _expert_config(tiny: Tiny, tmp_path: Path, **kw: Any) -> ExpertConfig:
    return ExpertConfig(
        out=tmp_path / "out",
        rounds=1,
        benchmark=str(tiny.bench),
        n_primes=(1.0, 2.0),
        models=tiny.models,
        **kw,
    )


def test_retraining_recipe_continues_or_starts_over(tiny, tmp_path) -> None:
    start, previous = tiny.models / "m2", tmp_path / "previous"
    meta = read_meta(start)
    cont = round_model_config(
        _expert_config(tiny, tmp_path), start, previous, tiny.bench, tmp_path / "m"
    )
    assert cont.base_model == str(previous) and cont.epochs == 1.0 and cont.resume
    assert (cont.loss.name, cont.loss.n, cont.loss.threshold) == ("dcostep", 2.0, meta["epsilon"])
    assert cont.lr == 3e-3 and cont.batch_size == 8  # the starting model's recipe
    assert cont.prompt.to_dict() == meta["prompt_format"]
    scratch = round_model_config(
        _expert_config(tiny, tmp_path, continue_training=False, lr=1e-4),
        start,
        previous,
        tiny.bench,
        tmp_path / "m",
    )
    assert scratch.base_model is None and scratch.lr == 1e-4
    assert scratch.model.to_dict() == meta["model_config"]
    assert scratch.epochs == meta["config"]["epochs"]
    assert find_models(tiny.models, (1.0, 2.0, 4.0)) == {
        1.0: tiny.models / "m1",
        2.0: tiny.models / "m2",
    }
    fresh = start_model_config(_expert_config(tiny, tmp_path, max_steps=5), 4.0, tmp_path / "n4")
    assert (fresh.loss.name, fresh.loss.n, fresh.max_steps) == ("dcostep", 4.0, 5)
