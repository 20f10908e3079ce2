"""The file helpers: an atomic write either replaces the file whole or leaves
it as it was; stored results show paths relative to the repository."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from search.fsutil import (
    REPO_ROOT,
    atomic_path,
    now,
    relative_paths,
    stored_path,
    write_json_atomic,
    write_jsonl_atomic,
)


def test_atomic_write_replaces_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "results.json"
    write_json_atomic(target, {"a": 1})
    assert json.loads(target.read_text()) == {"a": 1}
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("{half", encoding="utf-8")
        raise RuntimeError("crash while writing")
    assert json.loads(target.read_text()) == {"a": 1}  # the old file, intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]  # no temp left
    write_jsonl_atomic(target.with_suffix(".jsonl"), [{"x": "é"}, {"y": 2}])
    assert target.with_suffix(".jsonl").read_text(encoding="utf-8") == '{"x": "é"}\n{"y": 2}\n'


def test_timestamps_are_utc_seconds() -> None:
    stamp = now()
    assert stamp.endswith("+00:00") and len(stamp) == len("2026-01-01T00:00:00+00:00")


def test_stored_paths_are_relative(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert REPO_ROOT is not None  # the tests run from a checkout
    assert stored_path(REPO_ROOT / "models" / "ce") == "models/ce"
    monkeypatch.chdir(tmp_path)
    assert stored_path(tmp_path / "runs" / "x.sqlite") == "runs/x.sqlite"
    assert stored_path("runs/y") == "runs/y"  # relative already: as given
    payload = {
        "db": str(REPO_ROOT / "runs" / "a.sqlite"),
        "models": [str(tmp_path / "m")],
        "n": 3,
        "label": "N'=1",
        "elsewhere": "/proc/self",
    }
    assert relative_paths(payload) == {
        "db": "runs/a.sqlite",
        "models": ["m"],
        "n": 3,
        "label": "N'=1",
        "elsewhere": "/proc/self",
    }


def test_benchmark_specs_store_their_path_relative() -> None:
    """A ``KIND:PATH`` benchmark spec stores its path like any other path;
    other strings with a colon are left alone."""
    assert REPO_ROOT is not None
    inside = REPO_ROOT / "data" / "miniF2F-rocq"
    assert relative_paths({"benchmark": f"minif2f-rocq:{inside}", "label": "a:b"}) == {
        "benchmark": "minif2f-rocq:data/miniF2F-rocq",
        "label": "a:b",
    }
