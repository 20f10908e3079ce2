"""`dco demo`, the README's main job, end to end with real coqtop/coqc, real
SQLite and real models trained by the demo itself. The coq-stdlib benchmark
is replaced (through ``DCO_DATA``) by the small traced fixture of the
evaluate tests, so the demo's trace step finds it already traced."""

from __future__ import annotations

import io
import json
import shutil
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from helpers import make_bench

from benchmarks.format import Benchmark, write_benchmark
from benchmarks.loader import load_benchmark
from prover.cli import main

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """$DCO_DATA with benchmarks/coq-stdlib = the fixture: its theorems in the
    test split, the traced human proofs' steps as training data."""
    root = tmp_path_factory.mktemp("demo")
    bench, steps = make_bench(root)
    loaded = load_benchmark(str(bench))
    target = root / "data" / "benchmarks" / "coq-stdlib"
    write_benchmark(target, Benchmark("coq-stdlib", loaded.theorems(), steps, {"library": "ev"}))
    shutil.rmtree(bench)
    return root / "data"


def demo(data: Path, tmp: Path, monkeypatch: pytest.MonkeyPatch, *extra: str) -> tuple[int, str]:
    monkeypatch.setenv("DCO_DATA", str(data))
    buf = io.StringIO()
    with redirect_stdout(buf):
        rc = main(
            [
                "demo",
                "--models",
                str(tmp / "models"),
                "--ensemble",
                "1,2",
                "--train-steps",
                "3",
                "--theorems",
                "3",
                "--passes",
                "2",
                "--budget",
                "20",
                "--db",
                str(tmp / "demo.sqlite"),
                *extra,
            ]
        )
    return rc, buf.getvalue()


def test_demo_trains_missing_models_proves_and_reuses_them(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rc, out = demo(data, tmp_path, monkeypatch)
    assert rc == 0, out
    assert "already traced" in out
    models = tmp_path / "models"
    for name, loss, n in (("ce", "ce", 1), ("n2", "dcostep", 2)):
        meta = json.loads((models / name / "training_meta.json").read_text())
        assert meta["loss"] == loss and meta["steps"] == 3
        assert (meta.get("n_prime") or 1) == n
    header = next(line for line in out.splitlines() if line.startswith("theorem"))
    assert header.split() == [
        "theorem",
        "symbolic-arith",
        "knn",
        "hybrid",
        "N'=1",
        "N'=2",
        "ensemble",
    ]
    lines = out.splitlines()
    body = lines[lines.index(next(ln for ln in lines if ln.startswith("theorem"))) + 2 :]
    rows = [ln.split() for ln in body[:3]]
    assert len({r[0] for r in rows}) == 3 and all(len(r) == 7 for r in rows), out
    # u_false is unprovable and Broken.t never starts: nobody may claim them;
    # the baseline proves what lia proves, and the hybrid (whose automation
    # source is the baseline's list) proves it too.
    for row in rows:
        if row[0].endswith(("u_false", "Broken.t")):
            assert row[1:] == ["-"] * 6
        if row[0].endswith(("t_add_0", "t_comm")):
            assert row[1] == row[3] == "proved"
        assert row[6] == ("proved" if "proved" in row[4:6] else "-")
    totals = next(line.split() for line in out.splitlines() if line.startswith("proved "))
    assert [int(t) for t in totals[1:]] == [
        sum(r[i] == "proved" for r in rows) for i in range(1, 7)
    ]

    weights = sorted(models.glob("*/model.safetensors"))
    stamps = [p.stat().st_mtime_ns for p in weights]
    rc, again = demo(data, tmp_path, monkeypatch)
    assert rc == 0
    assert "reusing models" in again and "training N'" not in again
    assert [p.stat().st_mtime_ns for p in weights] == stamps
    # The second run answers from the search log: same table.
    assert (
        again[again.index("theorem  ") :].split("demo finished")[0]
        == out[out.index("theorem  ") :].split("demo finished")[0]
    )


def test_demo_quick_replays_the_bundled_file() -> None:
    buf = io.StringIO()
    with redirect_stdout(buf):
        rc = main(["demo", "--quick"])
    assert rc == 0
    assert "VERIFIED" in buf.getvalue() and "REJECTED" not in buf.getvalue()


def test_demo_bad_flag_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--passes", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--passes" in err
