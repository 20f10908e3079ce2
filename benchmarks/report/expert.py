"""Expert iteration, from ``dco expert-iterate``'s summary.json (copied to
results/expert/<run>/summary.json): one row per round and model. The same
rows make the table ``dco expert-iterate`` prints."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from benchmarks.report.markdown import command, not_yet_run, table
from benchmarks.report.sources import Result


def _share(proved: int, total: int) -> str:
    return f"{proved}/{total} ({100 * proved / total:.1f}%)" if total else "0/0"


def round_rows(summary: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and rows: round, train theorems searched, new proofs and steps,
    train proved so far, then each model's (and the ensemble's) test proved
    with pass@1 and pass@N."""
    ks: list[str] = []
    for row in summary["rounds"]:
        for s in (row.get("test") or {}).values():
            ks = sorted(set(ks) | set(s["pass_at_k"]), key=int)
    shown = [k for k in ks if k in ("1", ks[-1])] if ks else []
    header = ["round", "searched", "new proofs", "steps", "train proved", "model", "test proved"]
    header += [f"pass@{k}" for k in shown]
    lines = []
    pool = summary["train_pool"]
    for row in summary["rounds"]:
        later = row["round"] != 0
        first = [
            str(row["round"]),
            str(row.get("searched") or 0) if later else "-",
            str(row.get("added_proofs") or 0) if later else "-",
            str(row.get("added_steps") or 0) if later else "-",
            f"{row.get('proved_so_far') or 0}/{pool}",
        ]
        tests = list((row.get("test") or {}).values())
        if not tests:
            lines.append([*first, "-", f"({row['status']})"] + ["" for _ in shown])
        for i, s in enumerate(tests):
            cells = first if i == 0 else [""] * len(first)
            passk = [f"{s['pass_at_k'][k]:.3f}" if k in s["pass_at_k"] else "-" for k in shown]
            lines.append([*cells, s["label"], _share(s["proved"], s["total"]), *passk])
        if row.get("ensemble"):
            e = row["ensemble"]
            lines.append(
                [""] * len(first)
                + [e["label"], _share(e["proved"], e["total"])]
                + ["" for _ in shown]
            )
    return header, lines


def stored_command(c: dict[str, Any]) -> list[str]:
    """The ``dco expert-iterate`` flags that set the stored config's main settings."""
    train, test, budget = c.get("train", {}), c.get("test", {}), c.get("budget", {})
    flags = [
        ("--rounds", c.get("rounds")),
        ("--models", c.get("models")),
        ("--n-primes", ",".join(f"{n:g}" for n in c.get("n_primes", [])) or None),
        ("--strategy", c.get("search", {}).get("strategy")),
        ("--sample", train.get("sample")),
        ("--passes", budget.get("max_passes")),
        ("--budget", budget.get("wall_clock")),
        ("--test-sample", test.get("sample")),
        ("--out", c.get("out")),
    ]
    return ["dco", "expert-iterate", *(str(x) for f, v in flags if v is not None for x in (f, v))]


def section(runs: Sequence[Result]) -> str:
    lines = ["## Expert iteration", ""]
    if not runs:
        how = "`dco expert-iterate ... --out DIR`, then copy `DIR/summary.json` to `results/expert/<run>/`"
        return "\n".join([*lines, not_yet_run("No results under `results/expert/`.", how), ""])
    for r in runs:
        d = r.data
        c = d.get("config", {})
        header, rows = round_rows(d)
        seconds = [row.get("seconds") or {} for row in d["rounds"]]
        total = sum(sum(s.values()) for s in seconds)
        search, budget = c.get("search", {}), c.get("budget", {})
        n_primes = ", ".join(f"{n:g}" for n in c.get("n_primes", []))
        lines += [
            f"### {r.path.parent.name}: {d['benchmark']}, {len(d['rounds']) - 1} rounds",
            "",
            f"Train theorems in the pool: {d['train_pool']}; test theorems: {d['test_theorems']}; "
            f"N′ models: {n_primes}; proving {search.get('strategy')} with "
            f"{budget.get('max_passes')} passes and {budget.get('wall_clock')} s per theorem; "
            f"time over all rounds {total / 60:.1f} min. Command (from the stored config): "
            f"{command(stored_command(c))}.",
            "",
            table(header, rows),
            "",
        ]
    return "\n".join(lines)
