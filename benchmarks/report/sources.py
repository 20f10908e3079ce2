"""The stored results the report is made of, as found under the results
directory (default benchmarks/results):

    direct_answer/seed<S>/results.json python -m benchmarks.direct_answer.study --seed S
    direct_answer/summary.json         (rebuilt by the study from every seed's results)
    direct_answer/aggregate.json       python -m benchmarks.direct_answer.aggregate
    proving/<run>/results.json         dco evaluate --out (the evaluation contract)
    training/<model>.json              dco report --models DIR (copied from training_meta.json)
    perf/<benchmark>.json              python -m benchmarks.perf
    expert/<run>/summary.json          dco expert-iterate --out DIR (DIR/summary.json)

Anything missing is simply absent (its section says "not yet run"); a file
that is there but not valid JSON is an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lean_env.errors import UserError


@dataclass(frozen=True)
class Result:
    path: Path
    data: dict[str, Any]


@dataclass
class Stored:
    root: Path
    direct: list[Result] = field(default_factory=list)
    direct_aggregate: Result | None = None
    direct_summary: Result | None = None
    proving: list[Result] = field(default_factory=list)
    training: list[Result] = field(default_factory=list)
    perf: dict[str, Result] = field(default_factory=dict)
    expert: list[Result] = field(default_factory=list)


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UserError(f"{path} is not valid JSON: {exc}") from None
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a JSON object")
    return data


def _kind(path: Path, expected: str) -> Result:
    data = read_json(path)
    if data.get("kind", expected) != expected:
        raise UserError(f"{path}: kind {data.get('kind')!r}, expected {expected!r}")
    return Result(path, data)


def load(root: Path) -> Stored:
    if root.exists() and not root.is_dir():
        raise UserError(f"results {root} is not a directory")
    stored = Stored(root)
    direct = root / "direct_answer"
    for path in sorted(direct.glob("*/results.json")):
        result = Result(path, read_json(path))
        if result.data.get("study") != "direct_answer":
            raise UserError(f"{path}: not a direct-answer study result")
        stored.direct.append(result)
    if (direct / "summary.json").is_file():
        stored.direct_summary = Result(direct / "summary.json", read_json(direct / "summary.json"))
    if (direct / "aggregate.json").is_file():
        stored.direct_aggregate = Result(
            direct / "aggregate.json", read_json(direct / "aggregate.json")
        )
    stored.proving = [
        _kind(p, "evaluation") for p in sorted((root / "proving").glob("*/results.json"))
    ]
    stored.training = [_kind(p, "training") for p in sorted((root / "training").glob("*.json"))]
    stored.expert = [
        _kind(p, "expert-iteration") for p in sorted((root / "expert").glob("*/summary.json"))
    ]
    for path in sorted((root / "perf").glob("*.json")):
        result = _kind(path, "perf")
        stored.perf[result.data["benchmark"]] = result
    return stored
