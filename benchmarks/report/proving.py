"""The theorem-proving section: every `dco evaluate` result stored under
results/proving/<run>/results.json (contract in prover/results.py), grouped
by the theorems they ran on so that the symbolic baseline stands beside the
models on the same theorems, with pass@k curves; the equal-compute pairs of
an ensemble and a CE run (claim 4); the paper's and published numbers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.paired import side_by_side
from benchmarks.report import figures
from benchmarks.report.markdown import DASH, num, pct, table
from benchmarks.report.paper import COQ_STDLIB_PUBLISHED, PAPER, TABLE2
from benchmarks.report.sources import Result

MAX_PASSK_COLUMNS = 7


def run_name(result: Result) -> str:
    return result.path.parent.name


def selection(data: dict[str, Any]) -> tuple[Any, ...]:
    """The theorems an evaluation ran on (runs on the same ones share a table)."""
    flags = data.get("config", {}).get("flags", {})
    return (
        data["benchmark"],
        data["split"],
        data["theorems"],
        flags.get("sample"),
        flags.get("seed"),
        flags.get("limit"),
        tuple(sorted(flags.get("theorem") or ())),
    )


def is_symbolic(model: dict[str, Any]) -> bool:
    # results written before members named their generator name it in the
    # label (symbolic, symbolic-arith, hammer) when they name no model
    generator = model.get("generator") or model.get("label") or "symbolic"
    return model.get("model") is None and model.get("n_prime") is None and generator == "symbolic"


def total_passes(data: dict[str, Any]) -> int | None:
    """Passes an ensemble spends per theorem, over all its models."""
    if data.get("passes") is None or not data.get("ensemble"):
        return None
    if data.get("ensemble_budget") == "each":
        return int(data["passes"]) * len(data["models"])
    return int(data["passes"])


@dataclass(frozen=True)
class Pair:
    ensemble_run: str
    ensemble: dict[str, Any]
    ce_run: str
    ce: dict[str, Any]
    passes: int

    @property
    def ensemble_label(self) -> str:
        return self.ensemble["label"]

    @property
    def ensemble_share(self) -> float:
        return self.ensemble["proved"] / self.ensemble["total"] if self.ensemble["total"] else 0.0

    @property
    def ce_share(self) -> float:
        return self.ce["proved"] / self.ce["total"] if self.ce["total"] else 0.0


def equal_compute_pairs(evaluations: Sequence[Result]) -> list[Pair]:
    """Every (ensemble with some N' > 1, CE run) on the same theorems where
    the CE run's passes equal the ensemble's total passes."""
    pairs = []
    for ens in evaluations:
        e = ens.data
        total = total_passes(e)
        if total is None or not any((m.get("n_prime") or 0) > 1 for m in e["models"]):
            continue
        for other in evaluations:
            if selection(other.data) != selection(e) or other.data["strategy"] != e["strategy"]:
                continue
            for m in other.data["models"]:
                if m.get("n_prime") == 1 and m.get("passes") == total:
                    pairs.append(Pair(run_name(ens), e["ensemble"], run_name(other), m, total))
    return pairs


def passk_columns(curves: Sequence[dict[str, float]]) -> list[int]:
    """The k of the pass@k columns: every k present, thinned to every other
    power of two (and the largest k) when there are too many."""
    ks = sorted({int(k) for c in curves for k in c})
    if len(ks) > MAX_PASSK_COLUMNS:
        ks = [k for k in ks if k == ks[-1] or (k & (k - 1) == 0 and (k.bit_length() - 1) % 2 == 0)]
    return ks


def _passk_cells(curve: dict[str, float], ks: list[int]) -> list[str]:
    return [pct(curve[str(k)]) if str(k) in curve else DASH for k in ks]


def _group_table(group: list[Result]) -> str:
    ks = passk_columns(
        [m["pass_at_k"] for r in group for m in r.data["models"]]
        + [r.data["ensemble"].get("pass_at_k", {}) for r in group if r.data.get("ensemble")]
    )
    rows = []
    for r in group:
        d = r.data
        for m in d["models"]:
            prover = "symbolic baseline" if is_symbolic(m) else m["label"]
            rows.append(
                [
                    run_name(r),
                    prover,
                    num(m.get("n_prime"), 0) if m.get("n_prime") else DASH,
                    d["strategy"],
                    str(m.get("passes") or DASH),
                    num(
                        d["budget_s"]
                        / (len(d["models"]) if d.get("ensemble_budget") == "split" else 1),
                        0,
                    ),
                    f"{m['proved']}/{m['total']}",
                    pct(m["proved"] / m["total"] if m["total"] else None),
                    str(m.get("start_failed", DASH)),
                    *_passk_cells(m["pass_at_k"], ks),
                    num(m.get("seconds"), 0),
                ]
            )
        if d.get("ensemble"):
            e = d["ensemble"]
            rows.append(
                [
                    run_name(r),
                    f"**{e['label']}** ({d.get('ensemble_budget')} budget)",
                    DASH,
                    d["strategy"],
                    str(total_passes(d) or DASH),
                    num(d["budget_s"], 0),
                    f"{e['proved']}/{e['total']}",
                    pct(e["proved"] / e["total"] if e["total"] else None),
                    DASH,
                    *_passk_cells(e.get("pass_at_k", {}), ks),
                    DASH,
                ]
            )
    headers = [
        "run",
        "prover",
        "N′",
        "strategy",
        "passes",
        "budget/thm (s)",
        "proved",
        "share",
        "start failures",
        *(f"pass@{k}" for k in ks),
        "search s",
    ]
    return table(headers, rows, right=[2, *range(4, len(headers))])


def theorem_names(result: Result) -> list[str] | None:
    """The theorems an evaluation ran on, from its theorems.jsonl."""
    path = result.path.parent / "theorems.jsonl"
    if not path.is_file():
        return None
    import json

    return [json.loads(line)["theorem"] for line in path.read_text(encoding="utf-8").splitlines()]


def wall_clock_lines(group: list[Result]) -> list[str]:
    """Every prover of a group at the same wall clock per theorem (proved
    within t, seconds used of the budget) and paired exact McNemar tests at
    the smallest budget. Runs stored without proof times are left out."""
    members = [
        {**m, "label": f"{run_name(r)}: {m['label']}"}
        for r in group
        for m in r.data["models"]
        if m.get("proved_at") is not None
    ]
    names = next((n for n in map(theorem_names, group) if n is not None), None)
    if not members or names is None:
        return []
    s = side_by_side(members, names)
    grid = s["grid"]
    rows = [
        [
            label,
            *(str(counts[f"{t:g}"]) for t in grid),
            f"{num(s['seconds_per_theorem'][label], 1)} / {s['budget_per_theorem_s'][label]:g}",
        ]
        for label, counts in s["proved_within"].items()
    ]
    lines = [
        "At the same wall clock per theorem (proved within t seconds of search; each run "
        "answers every t up to its budget; runs stored without proof times left out):",
        "",
        table(
            ["prover", *(f"≤ {t:g} s" for t in grid), "s used / budget per theorem"],
            rows,
            right=range(1, len(grid) + 2),
        ),
        "",
    ]
    if s["paired"]:
        pairs = [
            [
                p["a"],
                p["b"],
                f"{p['proved_a']} vs {p['proved_b']}",
                str(len(p["only_a"])),
                str(len(p["only_b"])),
                f"{p['mcnemar_p']:.3g}",
            ]
            for p in s["paired"]
        ]
        lines += [
            f"Paired on the same {s['paired'][0]['theorems']} theorems at {s['seconds']:g} s:",
            "",
            table(
                ["A", "B", "proved", "only A", "only B", "exact McNemar p"],
                pairs,
                right=(2, 3, 4, 5),
            ),
            "",
        ]
    return lines


def paper_beside(bench: str) -> list[str]:
    """The paper's MiniF2F row under a miniF2F table (Lean or Coq), so that
    the two are read together, with what makes them differ."""
    if not bench.startswith("minif2f"):
        return []
    v = TABLE2["MiniF2F"]
    return [
        f"Paper, MiniF2F ({PAPER}, Table 2): CE {pct(v['CE'])}, best single DCOstep "
        f"{pct(v['best single DCOstep'])}, ensemble of N′ ∈ {{1,4,8,16,32}} {pct(v['ensemble'])}"
        " (Lean 4, Qwen2.5-Math-1.5B, pass@4k with 5,000 s per theorem on GPUs; a different "
        "formal system, model and budget).",
        "",
    ]


def section(evaluations: Sequence[Result], fig_dir: Path, base: Path) -> tuple[str, list[Path]]:
    lines = ["## Theorem proving on coq-stdlib and miniF2F", ""]
    made: list[Path] = []
    if not evaluations:
        lines += [
            "*Not yet run.* No evaluation results under `results/proving/<run>/results.json`. "
            "Produce them with `dco evaluate ... --out benchmarks/results/proving/<run>` "
            "(e.g. `--generator symbolic` for the baseline, `--model models/ce`, "
            "`--ensemble 1,4,8,16,32 --models models`).",
            "",
        ]
    groups: dict[tuple[Any, ...], list[Result]] = {}
    for r in evaluations:
        groups.setdefault(selection(r.data), []).append(r)
    for i, (key, group) in enumerate(groups.items(), start=1):
        bench, split, n, sample, seed, limit, _ = key
        how = f"sample {sample} (seed {seed})" if sample else (f"first {limit}" if limit else "all")
        lines += [f"### {bench} {split}: {n} theorems ({how})", "", _group_table(group), ""]
        lines += paper_beside(str(bench))
        lines += wall_clock_lines(group)
        for r in group:
            e = r.data.get("ensemble")
            if e:
                found = ", ".join(f"{k} {v}" for k, v in e.get("found_by", {}).items())
                only = ", ".join(f"{k} {v}" for k, v in e.get("only_by", {}).items())
                lines += [
                    f"{run_name(r)}: theorems found by each model: {found}"
                    + (f"; found by no other model: {only}" if only else "")
                    + ".",
                    "",
                ]
        path = fig_dir / f"proving_passk_{i}.png"
        curves = [
            (f"{run_name(r)}: {m['label']}", m["pass_at_k"])
            for r in group
            for m in r.data["models"]
        ]
        curves += [
            (
                f"{run_name(r)}: {r.data['ensemble']['label']}",
                r.data["ensemble"].get("pass_at_k", {}),
            )
            for r in group
            if r.data.get("ensemble")
        ]
        figures.passk_curves(curves, f"{bench} {split}: {n} theorems ({how})", path)
        made.append(path)
        lines += [f"![pass@k]({path.relative_to(base).as_posix()})", ""]
    pairs = equal_compute_pairs(evaluations)
    if pairs:
        lines += [
            "Equal compute (the ensemble's total passes = CE's passes, same theorems):",
            "",
            table(
                ["ensemble", "proved", "CE run", "proved", "passes"],
                [
                    [
                        f"{p.ensemble_label} ({p.ensemble_run})",
                        pct(p.ensemble_share),
                        p.ce_run,
                        pct(p.ce_share),
                        str(p.passes),
                    ]
                    for p in pairs
                ],
            ),
            "",
        ]
    rows = [
        [f"paper, {bench}", pct(v["CE"]), pct(v["best single DCOstep"]), pct(v["ensemble"])]
        for bench, v in TABLE2.items()
    ]
    lines += [
        f"Paper ({PAPER}, Table 2; Qwen2.5-Math-1.5B, Lean 4, pass@4k), not comparable in "
        "model, prover or budget, for scale:",
        "",
        table(
            ["", "CE", "best single DCOstep", "ensemble of N′ ∈ {1,4,8,16,32}"],
            rows,
            right=(1, 2, 3),
        ),
        "",
        "Published results on the Coq standard library (other systems and protocols, "
        "context only): "
        + "; ".join(f"{k} {pct(v)}" for k, v in COQ_STDLIB_PUBLISHED.items())
        + ".",
        "",
    ]
    return "\n".join(lines), made
