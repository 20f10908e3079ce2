"""The per-seed curves of every stored study run in one small file,
``summary.json``, which the report's claim criteria read:

    {"seeds": {"<seed>": {"<objective>": [{"epoch", "train_accuracy",
        "wrong_confidence", "pass@1", "pass@16", "pass@256", "pass@4096"}, ...]}},
     "cot": {"<seed>": {"ce": {"pass@<k>": ...}, "dcoa": {...},
                        "n_problems": int, "samples": int}}}

Objectives are named ``ce`` and ``dco-<N'>``; epoch 0 is the untrained model
shared by all of them. ``wrong_confidence`` is the mean probability of the
greedy answer over the test problems it gets wrong (0 when it gets none
wrong).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from lean_env.errors import UserError

SUMMARY = "summary.json"
SUMMARY_KS = ("1", "16", "256", "4096")


def _point(epoch: int, m: dict[str, Any]) -> dict[str, Any]:
    wrong = m["test"]["greedy_confidence"]["wrong"]
    return {
        "epoch": epoch,
        "train_accuracy": round(m["train"]["greedy_confidence"]["accuracy"], 6),
        "wrong_confidence": round(wrong["mean"], 6) if wrong["n"] else 0.0,
        **{
            f"pass@{k}": round(m["test"]["pass_at_k"][k], 6)
            for k in SUMMARY_KS
            if k in m["test"]["pass_at_k"]
        },
    }


def seed_curves(results: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    direct = results["direct"]
    return {
        name: [_point(0, direct["base"])] + [_point(e["epoch"], e) for e in run["epochs"]]
        for name, run in direct["runs"].items()
    }


def seed_cot(results: dict[str, Any]) -> dict[str, Any]:
    cot = results["cot"]
    out: dict[str, Any] = {}
    for name, run in cot["runs"].items():
        test = run["epochs"][-1]["test"]
        key = "dcoa" if name.startswith("dcoa") else name
        out[key] = {f"pass@{k}": round(v, 6) for k, v in test["pass_at_k"].items()}
        out["samples"] = test["samples_per_problem"]
    out["n_problems"] = cot["n_problems"]
    return out


def build_summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    ordered = sorted(results, key=lambda r: r["seed"])
    return {
        "seeds": {str(r["seed"]): seed_curves(r) for r in ordered},
        "cot": {str(r["seed"]): seed_cot(r) for r in ordered},
    }


def load_runs(root: Path) -> list[dict[str, Any]]:
    runs = []
    for path in sorted(root.glob("seed*/results.json")):
        try:
            runs.append(json.loads(path.read_text(encoding="utf-8")))
        except json.JSONDecodeError as exc:
            raise UserError(f"{path} is not valid JSON: {exc}") from None
    return runs


def write_summary(root: Path) -> Path:
    """Rebuild ROOT/summary.json from ROOT/seed*/results.json."""
    path = root / SUMMARY
    tmp = path.with_suffix(f".json.{os.getpid()}.tmp")  # two seeds may finish at once
    tmp.write_text(json.dumps(build_summary(load_runs(root)), indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
