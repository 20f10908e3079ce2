"""Verdicts on the paper's five claims, derived from the stored results by
explicit criteria (printed in the report next to the verdicts). One rule
throughout: a claim measured over several seeds holds only if its criterion
holds in every seed; a criterion that fails in any seed gives "did not
hold", with the per-seed numbers shown. A claim with no results to judge it
is "not measured". The direct-answer claims read the study's summary.json
(benchmarks.direct_answer.summary).

No criterion can call a net loss or an effect inside the noise a success:
changes are measured against fixed points (the untrained model at epoch 0,
the peak of a curve), must reach the size of the paper's effect, and must
exceed twice the curve's own epoch-to-epoch noise; comparisons between
objectives use late-epoch means; claim 5 needs a 95% confidence interval
that excludes zero.
"""

from __future__ import annotations

import math
import statistics
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
# The sizes of the paper's effects the criteria ask for (Table 1: pass@1
# +3.0 pt, pass@256 -20.7 pt; Table 1 vs DCO's gain at large N).
MIN_PASS1_GAIN = 0.02
MIN_COVERAGE_DROP = 0.15
MIN_DCO_MARGIN = 0.15
NOISE_TIMES = 2.0  # a change must exceed this many epoch-to-epoch standard deviations
LATE_FRACTION = 0.25  # late epochs: the last quarter of the fine-tuning epochs
Z95 = 1.96


@dataclass(frozen=True)
class Claim:
    number: int
    statement: str
    criterion: str
    verdict: str
    evidence: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DirectInput:
    """The study's summary.json (seeds -> objective -> per-epoch rows, and the
    chain-of-thought comparison) and DCOa's training N' (None: unknown)."""

    summary: dict[str, Any] = field(default_factory=dict)
    dcoa_n: int | None = None

    @property
    def seeds(self) -> list[str]:
        return list(self.summary.get("seeds", {}))


STATEMENTS = {
    1: "With CE, pass@1 rises over the epochs while pass@N for large N falls (Table 1).",
    2: "CE makes the model's max confidence climb, mostly on wrong answers; DCO keeps it low, "
    "lower for larger N (Figure 1).",
    3: "For each test N there is a best training N′ ≈ N: a Pareto frontier (Figure 2a).",
    4: "DCOstep with several N′ plus an ensemble beats CE at equal compute in theorem proving "
    "(Table 2).",
    5: "DCOa helps with chain-of-thought (Table 3).",
}

CRITERIA = {
    1: f"In every seed, CE's test pass@1 at the last epoch is at least {100 * MIN_PASS1_GAIN:g} pt above "
    f"epoch 0 (the untrained model) and pass@256 at the last epoch is at least "
    f"{100 * MIN_COVERAGE_DROP:g} pt below its peak over the epochs; each change also exceeds "
    f"{NOISE_TIMES:g} standard deviations of the curve's epoch-to-epoch changes.",
    2: "In every seed: (a) CE's mean confidence on wrong greedy test answers at the last epoch is at "
    "least twice that at epoch 0; (b) averaged over the late epochs (last quarter), that "
    "confidence falls strictly with the training N′ (CE = 1 > 4 > 16 > ...).",
    3: f"Pass@N averaged over the late epochs (last quarter), in every seed: DCO N′=256 beats CE at "
    f"pass@256 by at least {100 * MIN_DCO_MARGIN:g} pt; the best training N′ is non-decreasing "
    "over test N = 1, 16, 256, 4096, is CE or N′=4 at N = 1 and at least 256 at N = 4096.",
    4: "An evaluation with an ensemble containing some N′ > 1 and a CE (N′ = 1) run with the same "
    "total passes on the same theorems: held if the ensemble proves more theorems, in every "
    "such pair.",
    5: "In every seed, at every evaluated k with DCOa's training N′ <= k <= n/4 (n samples per "
    "problem): DCOa's pass@k minus CE's has a "
    "95% confidence interval above zero (normal approximation, each pass@k's variance bounded "
    "by p(1-p)/problems).",
}


def _claim(number: int, verdict: str, evidence: list[str]) -> Claim:
    return Claim(number, STATEMENTS[number], CRITERIA[number], verdict, evidence)


def noise(values: Sequence[float]) -> float:
    """Standard deviation of a curve's epoch-to-epoch changes (0 for < 3 points)."""
    steps = [b - a for a, b in pairwise(values)]
    return statistics.stdev(steps) if len(steps) >= 2 else 0.0


def late_mean(rows: Sequence[dict[str, Any]], key: str) -> float:
    """Mean of ``key`` over the last quarter of the fine-tuning epochs (>= 1)."""
    tuned = [r for r in rows if r["epoch"] >= 1] or list(rows)
    tail = tuned[-max(1, math.ceil(LATE_FRACTION * len(tuned))) :]
    return sum(r[key] for r in tail) / len(tail)


def _n_prime(objective: str) -> int:
    return 1 if objective == "ce" else int(objective.rsplit("-", 1)[1])


def _ce_rows(d: DirectInput) -> list[list[dict[str, Any]]] | None:
    rows = [d.summary["seeds"][s].get("ce", []) for s in d.seeds]
    if not rows or any(len(r) < 3 or f"pass@{K_LARGE}" not in r[0] for r in rows):
        return None
    return rows


def claim1(d: DirectInput) -> Claim:
    rows = _ce_rows(d)
    if rows is None:
        return _claim(1, NOT_MEASURED, ["needs CE curves of >= 2 epochs with pass@256"])
    oks, evidence = [], []
    for s, r in zip(d.seeds, rows, strict=True):
        p1 = [x["pass@1"] for x in r]
        p256 = [x[f"pass@{K_LARGE}"] for x in r]
        gain, drop = p1[-1] - p1[0], max(p256) - p256[-1]
        n1, n256 = NOISE_TIMES * noise(p1[1:]), NOISE_TIMES * noise(p256[1:])
        ok = gain >= MIN_PASS1_GAIN and gain > n1 and drop >= MIN_COVERAGE_DROP and drop > n256
        oks.append(ok)
        i_peak = p256.index(max(p256))
        peak = r[i_peak]["epoch"]
        evidence.append(
            f"seed {s}: pass@1 {pct(p1[0], 2)} (epoch 0) → {pct(p1[-1], 2)} (epoch {r[-1]['epoch']}), "
            f"{points(gain)} (noise bound {points(n1)}); pass@256 peak {pct(max(p256), 1)} at epoch "
            f"{peak} → {pct(p256[-1], 1)}, {points(-drop)} (noise bound {points(n256)}): "
            f"{'yes' if ok else 'no'}. From the peak epoch on (not part of the criterion): pass@1 "
            f"{pct(p1[i_peak], 2)} → {pct(p1[-1], 2)} while pass@256 falls."
        )
    p0, p1_ = TABLE1_CE["1"]
    q0, q1 = TABLE1_CE[K_LARGE]
    evidence.append(
        f"paper (MATH): pass@1 {pct(p0)} → {pct(p1_)} ({points(p1_ - p0, 1)}), "
        f"pass@256 {pct(q0)} → {pct(q1)} ({points(q1 - q0, 1)})."
    )
    return _claim(1, HELD if all(oks) else NOT_HELD, evidence)


def claim2(d: DirectInput) -> Claim:
    rows = _ce_rows(d)
    if rows is None:
        return _claim(2, NOT_MEASURED, ["no direct-answer study results"])
    oks, evidence = [], []
    for s in d.seeds:
        curves = d.summary["seeds"][s]
        ce = curves["ce"]
        first, last = ce[0]["wrong_confidence"], ce[-1]["wrong_confidence"]
        climb = first > 0 and last >= 2 * first
        late = sorted((_n_prime(o), late_mean(rs, "wrong_confidence")) for o, rs in curves.items())
        falling = len(late) > 1 and all(a[1] > b[1] for a, b in pairwise(late))
        oks.append(climb and falling)
        ratio = f"×{last / first:.1f}" if first > 0 else "from 0"
        evidence.append(
            f"seed {s}: (a) CE's wrong-answer confidence {pct(first, 2)} → {pct(last, 1)} ({ratio}): "
            f"{'yes' if climb else 'no'}; (b) late-epoch wrong-answer confidence by N′: "
            + ", ".join(f"{n}: {pct(c, 1)}" for n, c in late)
            + f": {'falls with N′' if falling else 'not falling with N′'}."
        )
    return _claim(2, HELD if all(oks) else NOT_HELD, evidence)


def _best_n(curves: dict[str, list[dict[str, Any]]], k: str) -> tuple[int, float]:
    by = {
        _n_prime(o): late_mean(rs, f"pass@{k}") for o, rs in curves.items() if f"pass@{k}" in rs[0]
    }
    best = max(by, key=lambda n: (by[n], -n))
    return best, by[best]


def claim3(d: DirectInput) -> Claim:
    rows = _ce_rows(d)
    ks = ("1", "16", "256", "4096")
    if rows is None or any({"dco-256"} - set(d.summary["seeds"][s]) for s in d.seeds):
        return _claim(3, NOT_MEASURED, ["needs CE and DCO N′=256 curves"])
    oks, evidence = [], []
    for s in d.seeds:
        curves = d.summary["seeds"][s]
        if any(f"pass@{k}" not in curves["ce"][0] for k in ks):
            return _claim(3, NOT_MEASURED, [f"seed {s}: pass@k missing for some k in {ks}"])
        ce, dco = late_mean(curves["ce"], "pass@256"), late_mean(curves["dco-256"], "pass@256")
        best = [_best_n(curves, k) for k in ks]
        order = [b for b, _ in best]
        frontier = all(a <= b for a, b in pairwise(order)) and order[0] <= 4 and order[-1] >= 256
        margin = dco - ce >= MIN_DCO_MARGIN
        oks.append(frontier and margin)
        evidence.append(
            f"seed {s}: pass@256 DCO N′=256 {pct(dco, 1)} vs CE {pct(ce, 1)} ({points(dco - ce)}): "
            f"{'yes' if margin else 'no'}; best N′ per test N: "
            + ", ".join(f"{k}→{b} ({pct(v, 1)})" for k, (b, v) in zip(ks, best, strict=True))
            + f": {'a frontier' if frontier else 'no frontier'}."
        )
    return _claim(3, HELD if all(oks) else NOT_HELD, evidence)


def claim4(evaluations: Sequence[Result]) -> Claim:
    paper = "; ".join(
        f"{bench}: CE {pct(v['CE'])}, ensemble {pct(v['ensemble'])}" for bench, v in TABLE2.items()
    )
    if not evaluations:
        return _claim(
            4,
            NOT_MEASURED,
            ["no theorem-proving evaluation stored yet", f"paper (pass@4k): {paper}."],
        )
    pairs = equal_compute_pairs(evaluations)
    if not pairs:
        return _claim(
            4,
            NOT_MEASURED,
            [
                "no stored pair of an ensemble (with some N′ > 1) and a CE run with the same total "
                "passes on the same theorems",
                f"paper (pass@4k): {paper}.",
            ],
        )
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
    cot = d.summary.get("cot", {})
    if not cot or d.dcoa_n is None:
        return _claim(5, NOT_MEASURED, ["no chain-of-thought DCOa run"])
    oks, evidence = [], []
    for s, c in cot.items():
        n = c["n_problems"]
        # Judged where pass@k is well resolved: n >= 4k samples per problem.
        ks = sorted(
            (
                k
                for k in c["dcoa"]
                if k in c["ce"] and d.dcoa_n <= int(k.removeprefix("pass@")) <= c["samples"] // 4
            ),
            key=lambda k: int(k.removeprefix("pass@")),
        )
        if not ks:
            oks.append(False)
            evidence.append(f"seed {s}: no k with N′={d.dcoa_n} <= k <= samples/4 evaluated.")
            continue
        parts, ok = [], True
        for k in ks:
            a, b = c["dcoa"][k], c["ce"][k]
            half = Z95 * math.sqrt((a * (1 - a) + b * (1 - b)) / n)
            ok = ok and a - b - half > 0
            parts.append(
                f"{k} DCOa {pct(a, 1)} vs CE {pct(b, 1)}: {points(a - b, 1)} "
                f"[{points(a - b - half, 1)}, {points(a - b + half, 1)}]"
            )
        oks.append(ok)
        evidence.append(
            f"seed {s} ({n} problems, {c['samples']} samples each, DCOa N′={d.dcoa_n}): "
            + "; ".join(parts)
            + f": {'yes' if ok else 'no'}."
        )
    return _claim(5, HELD if all(oks) else NOT_HELD, evidence)


def all_claims(direct: DirectInput, evaluations: Sequence[Result]) -> list[Claim]:
    return [claim1(direct), claim2(direct), claim3(direct), claim4(evaluations), claim5(direct)]
