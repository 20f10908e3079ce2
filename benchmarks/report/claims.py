"""Verdicts on the paper's five claims, derived from the stored results by
explicit criteria (the criteria are printed in the report next to the
verdicts). One rule throughout: a claim measured over several seeds holds
only if its criterion holds in every seed (and so in their mean); a
criterion that fails in any seed gives "did not hold", with the per-seed
numbers shown. A claim with no results to judge it is "not measured".

1. CE: pass@1 rises over the epochs while pass@N for large N falls
   (Table 1). Least-squares slope over the fine-tuning epochs 1..E of CE's
   test pass@1 and pass@256: held if pass@1's slope > 0 and pass@256's < 0.
2. CE makes the max confidence climb, mostly on wrong answers; DCO keeps it
   low, lower for larger N (Figure 1). On the test problems, with the
   confidence of the greedy answer: (a) CE's mean confidence on wrong answers
   is higher at the last epoch than at epoch 0; (b) the climb is mostly on
   wrong answers: CE's summed confidence over wrong answers grows more, from
   epoch 0 to the last, than over right answers; (c) at the last epoch every
   DCO N has a lower mean confidence (all answers) than CE; (d) that mean is
   non-increasing in the training N (CE = 1).
3. A best training N' per test N, growing with N: a frontier (Figure 2a).
   With pass@N averaged over the second half of the epochs, the best training
   N' is non-decreasing in the test N and not the same for every test N.
4. DCOstep models with several N' plus their ensemble beat CE at equal
   compute (Table 2). An evaluation with an ensemble (including some N' > 1)
   and a CE (N' = 1) run with the same total passes on the same theorems: held
   if the ensemble proves more theorems, in every such pair.
5. DCOa helps with chain of thought (Table 3): DCOa's pass@k is above CE's
   both at k = DCOa's training N and at the largest k evaluated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from benchmarks.report.markdown import pct, points
from benchmarks.report.paper import TABLE1_CE, TABLE2
from benchmarks.report.proving import equal_compute_pairs
from benchmarks.report.sources import Result

HELD, NOT_HELD, NOT_MEASURED = "held", "did not hold", "not measured"
K_LARGE = "256"  # the paper's large N in Table 1


@dataclass(frozen=True)
class Claim:
    number: int
    statement: str
    criterion: str
    verdict: str
    evidence: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DirectInput:
    """Per seed: the study's tables (benchmarks.direct_answer.tables.build_tables)
    and the training N of each chain-of-thought run by label."""

    seeds: list[int]
    tables: list[dict[str, Any]]
    cot_n: dict[str, int] = field(default_factory=dict)


STATEMENTS = {
    1: "With CE, pass@1 rises over the epochs while pass@N for large N falls (Table 1).",
    2: "CE makes the model's max confidence climb, mostly on wrong answers; DCO keeps it low, "
       "lower for larger N (Figure 1).",
    3: "For each test N there is a best training N′ ≈ N: a Pareto frontier (Figure 2a).",
    4: "DCOstep with several N′ plus an ensemble beats CE at equal compute in theorem proving "
       "(Table 2).",
    5: "DCOa helps with chain-of-thought (Table 3).",
}  # fmt: skip

CRITERIA = {
    1: "Least-squares slope over the fine-tuning epochs 1..E of CE's test pass@1 and pass@256: "
       "held if pass@1's slope is positive and pass@256's negative, in every seed.",
    2: "Greedy-answer confidence on the test problems, in every seed: (a) CE's mean confidence on "
       "wrong answers is higher at the last epoch than at epoch 0; (b) CE's summed confidence "
       "over wrong answers grows more than over right answers (epoch 0 → last); (c) at the last "
       "epoch every DCO N has a lower mean confidence than CE; (d) that mean is non-increasing "
       "in the training N (CE = 1).",
    3: "pass@N averaged over the second half of the epochs: the best training N′ is "
       "non-decreasing in the test N and not the same for every test N, in every seed.",
    4: "An evaluation with an ensemble containing some N′ > 1 and a CE (N′ = 1) run with the same "
       "total passes on the same theorems: held if the ensemble proves more theorems, in every "
       "such pair.",
    5: "DCOa's pass@k above CE's at k = DCOa's training N and at the largest k evaluated, in every "
       "seed.",
}  # fmt: skip


def _claim(number: int, verdict: str, evidence: list[str]) -> Claim:
    return Claim(number, STATEMENTS[number], CRITERIA[number], verdict, evidence)


def slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


def _mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs)


def _seeds(d: DirectInput, values: Sequence[float], fmt: Any = points) -> str:
    return ", ".join(f"seed {s}: {fmt(v)}" for s, v in zip(d.seeds, values, strict=True))


def claim1(d: DirectInput) -> Claim:
    rows = [[r for r in t["table1"]["CE"] if r["epoch"] >= 1] for t in d.tables]
    if not rows or any(len(r) < 2 or K_LARGE not in r[0]["test_pass_at_k"] for r in rows):
        return _claim(1, NOT_MEASURED, ["needs CE runs of >= 2 epochs with pass@256"])
    slopes: dict[str, list[float]] = {"1": [], K_LARGE: []}
    for seed_rows in rows:
        epochs = [r["epoch"] for r in seed_rows]
        for k, ss in slopes.items():
            ss.append(slope(epochs, [r["test_pass_at_k"][k] for r in seed_rows]))
    held = all(a > 0 for a in slopes["1"]) and all(b < 0 for b in slopes[K_LARGE])
    evidence = []
    base = [[r for r in t["table1"]["CE"] if r["epoch"] == 0] for t in d.tables]
    for k, ss in slopes.items():
        first = _mean([r[0]["test_pass_at_k"][k] for r in rows])
        last = _mean([r[-1]["test_pass_at_k"][k] for r in rows])
        p0, p1 = TABLE1_CE[k]
        evidence.append(
            f"pass@{k} (mean over seeds): {pct(first, 2)} at epoch {rows[0][0]['epoch']} → "
            f"{pct(last, 2)} at epoch {rows[0][-1]['epoch']}; slope {points(_mean(ss), 3)}/epoch "
            f"({_seeds(d, ss, lambda v: points(v, 3))}); change over the epochs "
            f"{points(last - first)} (paper: {pct(p0)} → {pct(p1)}, {points(p1 - p0, 1)})."
        )
        if all(base):
            start = _mean([b[0]["test_pass_at_k"][k] for b in base])
            evidence.append(f"pass@{k} of the base model (epoch 0, before fine-tuning): "
                            f"{pct(start, 2)}; the last epoch is {points(last - start)} from it.")  # fmt: skip
    return _claim(1, HELD if held else NOT_HELD, evidence)


def _confidence(t: dict[str, Any]) -> dict[str, Any]:
    f1, n_of = t["figure1"], t["figure2a"]["training_n"]

    def mass(row: dict[str, Any], kind: str) -> float:
        mean = row[f"mean_confidence_{kind}"]
        return 0.0 if mean is None else mean * row[f"n_{kind}"]

    ce = f1["CE"]
    first, last = ce[0], ce[-1]
    final = sorted(((n_of[label], rows[-1]["mean_confidence"]) for label, rows in f1.items()))
    return {
        "wrong_first": first["mean_confidence_wrong"], "wrong_last": last["mean_confidence_wrong"],
        "d_mass_wrong": mass(last, "wrong") - mass(first, "wrong"),
        "d_mass_correct": mass(last, "correct") - mass(first, "correct"),
        "final": final,
    }  # fmt: skip


def claim2(d: DirectInput) -> Claim:
    if not d.tables:
        return _claim(2, NOT_MEASURED, ["no direct-answer study results"])
    c = [_confidence(t) for t in d.tables]
    checks = {
        "a": [x["wrong_last"] is not None and x["wrong_first"] is not None
              and x["wrong_last"] > x["wrong_first"] for x in c],
        "b": [x["d_mass_wrong"] > x["d_mass_correct"] for x in c],
        "c": [all(m < x["final"][0][1] for _, m in x["final"][1:]) for x in c],
        "d": [all(a[1] >= b[1] for a, b in pairwise(x["final"])) for x in c],
    }  # fmt: skip
    held = all(all(v) for v in checks.values())

    def ok(key: str) -> str:
        vs = checks[key]
        return "yes" if all(vs) else ("no" if not any(vs) else "not in every seed")

    finals = {n: _mean([dict(x["final"])[n] for x in c]) for n, _ in c[0]["final"]}
    wrong = [(x["wrong_first"] or 0.0, x["wrong_last"] or 0.0) for x in c]
    evidence = [
        "(a) CE's mean confidence on wrong answers, epoch 0 → last: "
        + ", ".join(f"seed {s}: {pct(a, 2)} → {pct(b, 2)}" for s, (a, b) in zip(d.seeds, wrong, strict=True))
        + f": {ok('a')}.",
        "(b) change of CE's summed confidence (sum of probabilities over the test problems), "
        "wrong vs right answers: "
        + ", ".join(f"seed {s}: {x['d_mass_wrong']:+.2f} vs {x['d_mass_correct']:+.2f}"
                    for s, x in zip(d.seeds, c, strict=True)) + f": {ok('b')}.",
        "(c, d) mean confidence at the last epoch by training N (mean over seeds): "
        + ", ".join(f"N={n}: {pct(m, 2)}" for n, m in finals.items())
        + f"; below CE: {ok('c')}; non-increasing in N: {ok('d')}.",
    ]  # fmt: skip
    return _claim(2, HELD if held else NOT_HELD, evidence)


def _frontier(rows: list[dict[str, Any]], n_of: dict[str, int]) -> list[tuple[int, int, float]]:
    """(test N, best training N', its margin over CE) per test N."""
    out = []
    for row in rows:
        by = row["pass_at_n_late_mean"]
        best = max(by, key=lambda lb: (by[lb], -n_of[lb]))
        out.append((row["test_n"], n_of[best], by[best] - by["CE"]))
    return out


def _is_frontier(f: list[tuple[int, int, float]]) -> bool:
    best = [b for _, b, _ in f]
    return all(a <= b for a, b in pairwise(best)) and len(set(best)) > 1


def claim3(d: DirectInput) -> Claim:
    if not d.tables:
        return _claim(3, NOT_MEASURED, ["no direct-answer study results"])
    n_of = d.tables[0]["figure2a"]["training_n"]
    per_seed = [_frontier(t["figure2a"]["rows"], n_of) for t in d.tables]
    mean_rows = []
    for j, row in enumerate(d.tables[0]["figure2a"]["rows"]):
        mean_rows.append({"test_n": row["test_n"], "pass_at_n_late_mean": {
            lb: _mean([t["figure2a"]["rows"][j]["pass_at_n_late_mean"][lb] for t in d.tables])
            for lb in row["pass_at_n_late_mean"]}})  # fmt: skip
    mean = _frontier(mean_rows, n_of)
    held = _is_frontier(mean) and all(_is_frontier(f) for f in per_seed)

    def seq(f: list[tuple[int, int, float]]) -> str:
        return ", ".join(f"{n}→{b}" for n, b, _ in f)

    evidence = [f"best training N′ per test N (test N→N′), mean over seeds: {seq(mean)}: "
                f"{'a frontier' if _is_frontier(mean) else 'no frontier'}."]  # fmt: skip
    evidence += [f"seed {s}: {seq(f)}: {'a frontier' if _is_frontier(f) else 'no frontier'}."
                 for s, f in zip(d.seeds, per_seed, strict=True)]  # fmt: skip
    margins = [m for _, _, m in mean]
    evidence.append(f"margin of the best N′ over CE (mean over seeds): at most "
                    f"{points(max(margins))}, at test N={mean[-1][0]}: {points(mean[-1][2])}.")  # fmt: skip
    return _claim(3, HELD if held else NOT_HELD, evidence)


def claim4(evaluations: Sequence[Result]) -> Claim:
    paper = "; ".join(
        f"{bench}: CE {pct(v['CE'])}, ensemble {pct(v['ensemble'])}" for bench, v in TABLE2.items()
    )
    if not evaluations:
        return _claim(4, NOT_MEASURED, ["no theorem-proving evaluation stored yet", f"paper (pass@4k): {paper}."])
    pairs = equal_compute_pairs(evaluations)
    if not pairs:
        return _claim(4, NOT_MEASURED, [
            "no stored pair of an ensemble (with some N′ > 1) and a CE run with the same total "
            "passes on the same theorems", f"paper (pass@4k): {paper}."])  # fmt: skip
    evidence, wins = [], []
    for p in pairs:
        e, ce = p.ensemble_share, p.ce_share
        wins.append(e > ce)
        evidence.append(
            f"{p.ensemble_label} ({p.ensemble_run}) {p.ensemble['proved']}/{p.ensemble['total']} "
            f"= {pct(e)} vs CE ({p.ce_run}) {p.ce['proved']}/{p.ce['total']} = {pct(ce)} at "
            f"{p.passes} passes in all: {points(e - ce, 1)}."
        )
    evidence.append(f"paper (pass@4k): {paper}.")
    return _claim(4, HELD if all(wins) else NOT_HELD, evidence)


def claim5(d: DirectInput) -> Claim:
    label = next((lb for lb in d.cot_n if lb.startswith("DCOa")), None)
    if not d.tables or label is None:
        return _claim(5, NOT_MEASURED, ["no chain-of-thought DCOa run"])
    n = str(d.cot_n[label])
    wins, evidence = [], []
    for s, t in zip(d.seeds, d.tables, strict=True):
        ce, dcoa = t["table3"]["CE"]["pass_at_k"], t["table3"][label]["pass_at_k"]
        kmax = max(ce, key=int)
        ks = [k for k in dict.fromkeys((n, kmax)) if k in ce and k in dcoa]
        wins.append(len(ks) == len({n, kmax}) and all(dcoa[k] > ce[k] for k in ks))
        evidence.append(f"seed {s}: " + ", ".join(
            f"pass@{k} {label} {pct(dcoa[k])} vs CE {pct(ce[k])} ({points(dcoa[k] - ce[k], 1)})"
            for k in ks))  # fmt: skip
    return _claim(5, HELD if all(wins) else NOT_HELD, evidence)


def all_claims(direct: DirectInput, evaluations: Sequence[Result]) -> list[Claim]:
    return [claim1(direct), claim2(direct), claim3(direct), claim4(evaluations), claim5(direct)]
