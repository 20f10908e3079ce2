"""The paper's tables and figures as data, computed from the raw results:
Table 1 (pass@k per CE epoch), Figure 1 (greedy confidence, right vs wrong,
per objective and epoch), Figure 2a (pass@N at test vs training N'),
Table 3 (chain of thought: DCOa vs CE). `dco report` plots from these."""

from __future__ import annotations

import math
from typing import Any

TABLE_KS = ("1", "4", "16", "64", "256", "1024", "4096")


def _pick(pass_at_k: dict[str, float], ks: tuple[str, ...] = TABLE_KS) -> dict[str, float]:
    return {k: round(pass_at_k[k], 4) for k in ks if k in pass_at_k}


def _train_n(loss: dict) -> int:
    return int(loss["n"])  # 1 for CE (training.losses.LossConfig.to_dict)


def _epochs(direct: dict, label: str) -> list[tuple[int, dict]]:
    """(epoch, measurements) with epoch 0 = the shared base model."""
    base = (0, {"test": direct["base"]["test"], "train": direct["base"]["train"]})
    return [base] + [(e["epoch"], e) for e in direct["runs"][label]["epochs"]]


def table1(direct: dict) -> dict[str, list[dict]]:
    out = {}
    for label in direct["runs"]:
        out[label] = [
            {
                "epoch": epoch,
                **{k: m[k] for k in ("steps", "discarded", "mean_factor") if k in m},
                "test_pass_at_k": _pick(m["test"]["pass_at_k"]),
                "test_greedy_accuracy": round(m["test"]["greedy_confidence"]["accuracy"], 4),
                "train_greedy_accuracy": round(m["train"]["greedy_confidence"]["accuracy"], 4),
                "train_mean_log_p": round(m["train"]["mean_log_p"], 3),
            }
            for epoch, m in _epochs(direct, label)
        ]
    return out


def _mean(summary: dict) -> float | None:
    """Mean of a training.confidence.summarize() result (None when empty)."""
    return round(summary["mean"], 4) if summary["n"] else None


def figure1(direct: dict) -> dict[str, list[dict]]:
    out = {}
    for label in direct["runs"]:
        rows = []
        for epoch, m in _epochs(direct, label):
            g = m["test"]["greedy_confidence"]
            rows.append(
                {
                    "epoch": epoch,
                    "accuracy": round(g["accuracy"], 4),
                    "mean_confidence": _mean(g["all"]),
                    "mean_confidence_correct": _mean(g["correct"]),
                    "mean_confidence_wrong": _mean(g["wrong"]),
                    "n_correct": g["correct"]["n"],
                    "n_wrong": g["wrong"]["n"],
                    "hist_correct": g["correct"].get("histogram", [0] * 10),
                    "hist_wrong": g["wrong"].get("histogram", [0] * 10),
                }
            )
        out[label] = rows
    return out


def figure2a(direct: dict) -> dict[str, Any]:
    """pass@N for every test N (rows) and training N' (columns), at the final
    epoch and averaged over the last quarter of the epochs (the late epochs
    the report's claim criteria use)."""
    runs = direct["runs"]
    train_n = {label: _train_n(r["loss"]) for label, r in runs.items()}
    final = {label: r["epochs"][-1]["test"]["pass_at_k"] for label, r in runs.items()}
    late = {}
    for label, r in runs.items():
        tail = r["epochs"][-max(1, math.ceil(len(r["epochs"]) / 4)) :]
        late[label] = {
            k: sum(e["test"]["pass_at_k"][k] for e in tail) / len(tail) for k in final[label]
        }
    rows = []
    for n in next(iter(final.values())):
        row: dict[str, Any] = {
            "test_n": int(n),
            "base_model": round(direct["base"]["test"]["pass_at_k"][n], 4),
        }
        for key, table in (("", final), ("_late_mean", late)):
            by_train = {label: round(pk[n], 4) for label, pk in table.items()}
            best = max(by_train, key=lambda lbl: by_train[lbl])
            row |= {
                f"pass_at_n{key}": by_train,
                f"best_training{key}": best,
                f"best_training_n{key}": train_n[best],
            }
        rows.append(row)
    return {"rows": rows, "training_n": train_n, "late_epochs": "last quarter of the epochs, mean"}


def table3(cot: dict) -> dict[str, dict]:
    out = {"base": _cot_row(cot["base"]["test"])}
    for label, r in cot["runs"].items():
        last = r["epochs"][-1]
        out[label] = _cot_row(last["test"]) | {
            "discarded_per_epoch": [e["discarded"] for e in r["epochs"]],
            "steps_per_epoch": [e["steps"] for e in r["epochs"]],
            "mean_p_hat_per_epoch": [
                round(e["mean_p_hat"], 4) for e in r["epochs"] if "mean_p_hat" in e
            ],
            "mean_factor_per_epoch": [round(e["mean_factor"], 4) for e in r["epochs"]],
        }
    return out


def _cot_row(test: dict) -> dict:
    conf = test["modal_answer_confidence"]
    return {
        "pass_at_k": _pick(test["pass_at_k"], tuple(test["pass_at_k"])),
        "samples_per_problem": test["samples_per_problem"],
        "modal_answer_accuracy": round(conf["accuracy"], 4),
        "mean_modal_confidence_correct": _mean(conf["correct"]),
        "mean_modal_confidence_wrong": _mean(conf["wrong"]),
        "mean_log_p_golden_trace": round(test["mean_log_p_golden_trace"], 3),
    }


def build_tables(results: dict) -> dict[str, Any]:
    direct, cot = results["direct"], results["cot"]
    t1, f1, f2 = table1(direct), figure1(direct), figure2a(direct)
    t3 = table3(cot)
    ce = t1["ce"]
    summary = {
        "table1_CE": [
            {
                "epoch": r["epoch"],
                **{f"pass@{k}": r["test_pass_at_k"].get(k) for k in ("1", "256", "4096")},
            }
            for r in ce
        ],
        "figure1_final_epoch": {
            label: {
                k: rows[-1][k]
                for k in ("mean_confidence_correct", "mean_confidence_wrong", "n_correct")
            }
            for label, rows in f1.items()
        },
        "figure2a_best_training_n": {r["test_n"]: r["best_training_n"] for r in f2["rows"]},
        "figure2a_best_training_n_late_mean": {
            r["test_n"]: r["best_training_n_late_mean"] for r in f2["rows"]
        },
        "table3": {label: row["pass_at_k"] for label, row in t3.items()},
    }
    return {"table1": t1, "figure1": f1, "figure2a": f2, "table3": t3, "summary": summary}
