"""Means over seeds of the study's tables (one seed's differences between
objectives are often within its epoch-to-epoch noise).

    python -m benchmarks.direct_answer.aggregate DIR [DIR ...] --out FILE

Each DIR holds a results.json of `python -m benchmarks.direct_answer.study`;
the tables are recomputed from the raw measurements with the current
tables.py, so runs made before a table was added still aggregate.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.direct_answer.tables import TABLE_KS, build_tables
from lean_env.errors import UserError


def _stat(values: Sequence[float | None]) -> dict[str, Any]:
    xs = [v for v in values if v is not None]
    return {
        "mean": round(statistics.fmean(xs), 4) if xs else None,
        "per_seed": [None if v is None else round(v, 4) for v in values],
    }


def _over(tables: Sequence[dict], get: Callable[[dict], float | None]) -> dict[str, Any]:
    return _stat([get(t) for t in tables])


def check_alike(results: Sequence[dict]) -> None:
    """Only runs of the same shape (DCO Ns, epochs) can be averaged."""
    shapes = {(tuple(r["config"]["dco_ns"]), r["config"]["finetune"]["epochs"]) for r in results}
    if len(shapes) > 1:
        raise UserError("the runs differ in DCO Ns or epochs; aggregate like with like")


def aggregate(results: Sequence[dict]) -> dict[str, Any]:
    tables = [build_tables(r) for r in results]
    first = tables[0]
    labels = list(first["table1"])
    epochs = [row["epoch"] for row in first["table1"]["ce"]]
    ks = [k for k in TABLE_KS if k in first["table1"]["ce"][0]["test_pass_at_k"]]
    test_ns = [row["test_n"] for row in first["figure2a"]["rows"]]

    table1 = {
        label: [
            {
                "epoch": e,
                **{
                    f"pass@{k}": _over(
                        tables,
                        lambda t, i=i, k=k, lb=label: t["table1"][lb][i]["test_pass_at_k"][k],
                    )
                    for k in ks
                },
                "train_greedy_accuracy": _over(
                    tables, lambda t, i=i, lb=label: t["table1"][lb][i]["train_greedy_accuracy"]
                ),
            }
            for i, e in enumerate(epochs)
        ]
        for label in labels
    }
    figure1 = {
        label: [
            {
                "epoch": e,
                "mean_confidence_correct": _over(
                    tables, lambda t, i=i, lb=label: t["figure1"][lb][i]["mean_confidence_correct"]
                ),
                "mean_confidence_wrong": _over(
                    tables, lambda t, i=i, lb=label: t["figure1"][lb][i]["mean_confidence_wrong"]
                ),
            }
            for i, e in enumerate(epochs)
        ]
        for label in labels
    }
    figure2a = {}
    for key in ("pass_at_n", "pass_at_n_late_mean"):
        rows = []
        for j, n in enumerate(test_ns):
            by_label = {
                lb: _over(tables, lambda t, j=j, lb=lb, key=key: t["figure2a"]["rows"][j][key][lb])
                for lb in labels
            }
            best = max(labels, key=lambda lb: by_label[lb]["mean"])
            rows.append(
                {
                    "test_n": n,
                    "pass_at_n": by_label,
                    "best_training": best,
                    "best_training_n": first["figure2a"]["training_n"][best],
                }
            )
        figure2a[key] = rows
    table3 = {
        label: {
            k: _over(tables, lambda t, lb=label, k=k: t["table3"][lb]["pass_at_k"][k])
            for k in row["pass_at_k"]
        }
        for label, row in first["table3"].items()
    }
    return {
        "seeds": [r["seed"] for r in results],
        "commands": [r["command"] for r in results],
        "wall_seconds_total": [r["wall_seconds"]["total"] for r in results],
        "table1": table1,
        "figure1": figure1,
        "figure2a": figure2a,
        "table3": table3,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.direct_answer.aggregate", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("dirs", nargs="+", help="study output directories (each with results.json)")
    parser.add_argument("--out", required=True, help="JSON file to write")
    args = parser.parse_args(argv)
    try:
        results = []
        for d in args.dirs:
            path = Path(d) / "results.json"
            if not path.is_file():
                raise UserError(f"no results.json in {d}")
            try:
                results.append(json.loads(path.read_text(encoding="utf-8")))
            except json.JSONDecodeError as exc:
                raise UserError(f"{path} is not valid JSON: {exc}") from exc
        check_alike(results)
        out = {
            "command": [
                "python",
                "-m",
                "benchmarks.direct_answer.aggregate",
                *(sys.argv[1:] if argv is None else argv),
            ]
        } | aggregate(results)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({len(results)} seeds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
