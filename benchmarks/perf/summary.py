"""The headline numbers of the perf results, with the project's goals for
them (factor overhead <= 2%, search-code share < 5%): one
home for both the suite's printed summary and the report's table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FACTOR_GOAL = 0.02  # DCO/DCOstep step time at most 2% above CE's
SEARCH_SHARE_GOAL = 0.05  # the search code under 5% of the search's wall clock
SAMPLING_GOAL = 5.0  # pass@512: model samples/s at least 5x the former lockstep rollouts


@dataclass(frozen=True)
class Row:
    area: str
    metric: str
    value: str
    goal: str = ""
    met: bool | None = None

    @property
    def verdict(self) -> str:
        return "" if self.met is None else ("met" if self.met else "not met")


def _coq(r: dict[str, Any]) -> list[Row]:
    def dist(key: str) -> str:
        return f"median {r[key]['median_ms']:.3f} ms, p95 {r[key]['p95_ms']:.3f} ms"

    return [
        Row("coqtop", "per-tactic latency, Environment", dist("tactic")),
        Row(
            "coqtop",
            "per-tactic latency, raw coqtop pipe",
            f"{dist('raw_tactic')} (Environment / raw: {r['tactic_ratio_to_raw']:.2f}x)",
        ),
        Row(
            "coqtop",
            "backtrack + tactic, Environment",
            f"{dist('backtrack_plus_tactic')} (raw {r['raw_backtrack_plus_tactic']['median_ms']:.3f} ms, "
            f"{r['backtrack_ratio_to_raw']:.2f}x)",
        ),
        Row("coqtop", "environment start-up", dist("startup")),
    ]


def _search(r: dict[str, Any]) -> list[Row]:
    shares = [("best-first", r["best_first"])] + [
        (f"rollouts pass@{n}", t) for n, t in r["rollouts"].items()
    ]
    text = ", ".join(f"{name} {100 * t['search_code_share']:.2f}%" for name, t in shares)
    share = r["max_search_code_share"]
    rows = [
        Row(
            "search",
            "search-code share of wall time",
            text,
            f"< {SEARCH_SHARE_GOAL:.0%}",
            share < SEARCH_SHARE_GOAL,
        )
    ]
    saved = ", ".join(
        f"pass@{n}: {t['tactic_calls']:.0f} vs {t['naive_calls']:.0f} naive ({100 * t['calls_saved']:.1f}% saved)"
        for n, t in r["rollouts"].items()
    )
    rows.append(Row("search", "proof-assistant calls saved by the memo table", saved))
    w = r["sqlite_write"]
    rows.append(
        Row(
            "search",
            "SQLite write per theorem",
            f"median {w['median_ms']:.1f} ms ({100 * w['share_of_search_wall']:.2f}% of search wall)",
        )
    )
    return rows


def _training(r: dict[str, Any]) -> list[Row]:
    s, c = r["steps"], r["sampling"]
    rows = []
    for name, label in (("dcostep", "DCOstep"), ("dco", "DCO (whole proof)")):
        over = s[f"{name}_ratio"] - 1
        rows.append(
            Row(
                "training",
                f"{label} step vs CE, same batches, no refill",
                f"{100 * over:+.2f}% wall (cpu {100 * (s[f'{name}_cpu_ratio'] - 1):+.2f}%); "
                f"CE step {s['ce_ms']:.1f} ms",
                f"<= {FACTOR_GOAL:.0%}",
                over <= FACTOR_GOAL,
            )
        )
    rows.append(
        Row(
            "training",
            "the factor F alone",
            f"{100 * s['factor_ratio']:.2f}% of a CE step ({s['factor_ms']:.3f} ms)",
        )
    )
    rows.append(
        Row(
            "training",
            "refill probe (no-grad forward, DCO only)",
            f"{100 * s['probe_ratio']:.0f}% of a CE step",
        )
    )
    rows.append(
        Row(
            "sampling",
            f"{c['k']} tactics for each of {c['states']} states",
            f"batched {c['batched_s']:.2f} s; one state at a time {c['per_state_ratio']:.1f}x slower; "
            f"one sample at a time {c['one_by_one_ratio']:.1f}x slower",
        )
    )
    return rows


def _throughput(r: dict[str, Any]) -> list[Row]:
    w = r["workers"]
    return [
        Row(
            "evaluation",
            f"throughput, {r['theorems']} theorems, best-first, symbolic",
            f"1 worker {w['1']['theorems_per_minute']:.1f}/min, 2 workers "
            f"{w['2']['theorems_per_minute']:.1f}/min (ratio {r['ratio_2_to_1']:.2f})",
        )
    ]


def _sampling(r: dict[str, Any]) -> list[Row]:
    rows = []
    for n, per in r["passes"].items():
        ratio = per["ratio_after_to_before"]
        rows.append(
            Row(
                "sampling",
                f"pass@{n} rollouts: model samples/s, shared prompt passes vs before",
                f"after {per['after']['samples_per_s']:.1f}/s (batch {per['after']['batch_size']}), "
                f"before {per['before']['samples_per_s']:.1f}/s (batch 32): {ratio:.1f}x; "
                f"vs before with batch {per['before-wide']['batch_size']}: "
                f"{per['ratio_after_to_before_wide']:.1f}x",
                f">= {SAMPLING_GOAL:g}x" if n == "512" else "",
                ratio >= SAMPLING_GOAL if n == "512" else None,
            )
        )
    return rows


SUMMARIES = {
    "coq_env": _coq,
    "search_speed": _search,
    "training_speed": _training,
    "throughput": _throughput,
    "sampling_speed": _sampling,
}


def summary_rows(payloads: dict[str, dict[str, Any]]) -> list[Row]:
    """Rows for the perf results present, in a fixed order."""
    rows: list[Row] = []
    for name, make in SUMMARIES.items():
        if name in payloads:
            rows.extend(make(payloads[name]["results"]))
    return rows


def render_text(payloads: dict[str, dict[str, Any]]) -> str:
    lines = []
    for row in summary_rows(payloads):
        goal = f"   [goal {row.goal}: {row.verdict}]" if row.goal else ""
        lines.append(f"{row.area:<10} {row.metric:<54} {row.value}{goal}")
    return "\n".join(lines)
