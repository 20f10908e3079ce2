"""The on-disk benchmark format and its loader: round trips, name lookup,
dispatch to the Lean loaders, bad input."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest

from benchmarks.format import Benchmark, BenchmarkTheorem, Step, read_benchmark, write_benchmark
from benchmarks.loader import load_benchmark
from lean_env.errors import UserError
from lean_env.types import Theorem


def sample() -> Benchmark:
    theorems = [
        BenchmarkTheorem(
            i,
            Theorem(
                name=f"Lib.File.t{i}",
                statement=f"Lemma t{i} : True.",
                file="/abs/File.v",
                line=3 * i + 1,
                offset=40 * i,
                coq_args=("-Q", "/abs", "Lib"),
            ),
            split,
            ("intros", "-", "exact I") if i % 2 else ("exact I",),
        )
        for i, split in enumerate(["train", "train", "val", "test"])
    ]
    steps = [
        Step(
            t.id,
            j,
            f"1 goal\n  ============================\n  True (state {t.id}.{j}) \u2200",
            tactic,
            t.split,
        )
        for t in theorems
        for j, tactic in enumerate(t.tactics)
    ]
    return Benchmark("sample", theorems, steps, {"library": "sample", "seed": 7})


def test_write_read_round_trip(tmp_path: Path) -> None:
    original = sample()
    write_benchmark(tmp_path, original)
    assert {p.name for p in tmp_path.iterdir()} == {"theorems.jsonl", "steps.jsonl", "meta.json"}
    loaded = read_benchmark(tmp_path)
    assert loaded.theorem_list == original.theorem_list
    assert loaded.step_list == original.step_list
    assert loaded.meta == original.meta
    # One JSON object a line, with the documented keys.
    first = json.loads((tmp_path / "theorems.jsonl").read_text().splitlines()[0])
    assert {
        "id",
        "name",
        "short_name",
        "file",
        "line",
        "offset",
        "statement",
        "coq_args",
        "backend",
        "split",
        "num_steps",
        "tactics",
    } <= first.keys()
    step = json.loads((tmp_path / "steps.jsonl").read_text().splitlines()[0])
    assert step.keys() == {"theorem_id", "index", "state", "tactic", "split"}


def test_loader_by_directory_and_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = tmp_path / "benchmarks" / "coq-stdlib"
    write_benchmark(directory, sample())
    by_path = load_benchmark(str(directory))
    assert [t.name for t in by_path.theorems("test")] == ["Lib.File.t3"]
    assert {s.theorem_id for s in by_path.steps("train")} == {0, 1}
    monkeypatch.setenv("DCO_DATA", str(tmp_path))
    by_name = load_benchmark("coq-stdlib")
    assert by_name.theorem_list == by_path.theorem_list and by_name.name == "coq-stdlib"


def test_loader_dispatches_lean_specs(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    fake = types.ModuleType("benchmarks.lean")
    fake.load_leandojo = lambda path: calls.append(("leandojo", path)) or sample()  # type: ignore[attr-defined]
    fake.load_minif2f = lambda path: calls.append(("minif2f", path)) or sample()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "benchmarks.lean", fake)
    import benchmarks

    monkeypatch.setattr(benchmarks, "lean", fake, raising=False)
    load_benchmark("leandojo:/data/ld")
    load_benchmark("minif2f:/data/mf")
    assert calls == [("leandojo", "/data/ld"), ("minif2f", "/data/mf")]


def test_loader_errors_are_user_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DCO_DATA", str(tmp_path))
    with pytest.raises(UserError, match="dco trace --library coq-stdlib"):
        load_benchmark("coq-stdlib")
    with pytest.raises(UserError, match="not found"):
        load_benchmark(str(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="not a benchmark directory"):
        load_benchmark(str(tmp_path / "empty"))
    bad = tmp_path / "bad"
    write_benchmark(bad, sample())
    (bad / "steps.jsonl").write_text('{"theorem_id": 0,\n')
    with pytest.raises(UserError, match="malformed JSON"):
        load_benchmark(str(bad))


def test_split_names_are_checked_and_valid_means_val() -> None:
    """miniF2F's "valid" selects the val split, and a misspelt split is an
    error instead of an empty (silently vacuous) selection."""
    b = sample()
    assert [t.id for t in b.theorems("valid")] == [t.id for t in b.theorems("val")] == [2]
    assert len(list(b.steps("valid"))) == len(list(b.steps("val"))) > 0
    assert len(b.theorems(None)) == 4
    for bad in ("dev", "validation", "Test"):
        with pytest.raises(ValueError, match="unknown split"):
            b.theorems(bad)
        with pytest.raises(ValueError, match="unknown split"):
            list(b.steps(bad))
