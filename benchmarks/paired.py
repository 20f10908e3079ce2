"""Comparing provers on the same theorems: proved within t seconds, and
paired comparisons with the exact McNemar test.

Pure helpers over plain data (theorem name -> seconds at which the theorem
was proved, a set of proved names), used by ``dco evaluate`` and ``dco
report``. A run with a budget of B seconds per theorem answers "proved
within t" for every t <= B: a search that found its proof at t' <= t would
have found it with a budget of t, since nothing it did before t' depends on
the budget.

McNemar's test looks only at the discordant theorems: ``b`` proved by the
first prover alone, ``c`` by the second alone. Under the hypothesis that both
provers are equally strong, each discordant theorem goes either way with
probability 1/2, so the exact two-sided p-value is
``min(1, 2 * P(Binomial(b + c, 1/2) <= min(b, c)))``.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Wall clocks (seconds per theorem) at which provers are put side by side;
# each run's own budget is added to the ones below it.
TIME_GRID: tuple[float, ...] = (1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 1200, 3600)


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Exact two-sided McNemar p-value from the discordant counts."""
    if only_a < 0 or only_b < 0:
        raise ValueError("counts must be >= 0")
    n = only_a + only_b
    if n == 0:
        return 1.0
    tail = math.fsum(math.comb(n, i) for i in range(min(only_a, only_b) + 1)) / 2.0**n
    return min(1.0, 2.0 * tail)


@dataclass(frozen=True)
class Paired:
    """Two provers on the same theorems."""

    a: str
    b: str
    theorems: int
    both: int
    only_a: tuple[str, ...]
    only_b: tuple[str, ...]

    @property
    def p_value(self) -> float:
        return mcnemar_exact(len(self.only_a), len(self.only_b))

    @property
    def proved_a(self) -> int:
        return self.both + len(self.only_a)

    @property
    def proved_b(self) -> int:
        return self.both + len(self.only_b)

    def to_dict(self) -> dict[str, object]:
        return {
            "a": self.a,
            "b": self.b,
            "theorems": self.theorems,
            "both": self.both,
            "proved_a": self.proved_a,
            "proved_b": self.proved_b,
            "only_a": list(self.only_a),
            "only_b": list(self.only_b),
            "mcnemar_p": self.p_value,
        }


def paired(
    a: str, proved_a: Collection[str], b: str, proved_b: Collection[str], theorems: Collection[str]
) -> Paired:
    """Compare two provers on ``theorems`` (names outside it are ignored)."""
    scope = set(theorems)
    sa, sb = set(proved_a) & scope, set(proved_b) & scope
    return Paired(a, b, len(scope), len(sa & sb), tuple(sorted(sa - sb)), tuple(sorted(sb - sa)))


def proved_within(proved_at: Mapping[str, float], seconds: float) -> set[str]:
    """The theorems proved at or before ``seconds`` of search."""
    return {name for name, t in proved_at.items() if t <= seconds}


def time_grid(budgets: Iterable[float]) -> list[float]:
    """The wall clocks at which to compare runs: the grid up to the smallest
    budget, and that budget itself (beyond it, some run could not answer)."""
    limit = min(budgets)
    return sorted({*(t for t in TIME_GRID if t < limit), limit})


def within_counts(proved_at: Mapping[str, float], grid: Iterable[float]) -> dict[str, int]:
    """``{"t": theorems proved within t}`` for each t of ``grid`` (JSON keys)."""
    return {f"{t:g}": len(proved_within(proved_at, t)) for t in grid}


def side_by_side(members: Sequence[dict[str, Any]], theorems: Collection[str]) -> dict[str, Any]:
    """Every member beside the others at the same wall clock per theorem:
    proved within t for the common grid (up to the smallest budget), and
    paired comparisons of each pair at that smallest budget."""
    timed = [m for m in members if m.get("proved_at") is not None]
    if not timed:
        return {"grid": [], "proved_within": {}, "paired": []}
    grid = time_grid(m["budget_per_theorem_s"] for m in timed)
    at_t = grid[-1]
    pairs = [
        paired(
            a["label"],
            proved_within(a["proved_at"], at_t),
            b["label"],
            proved_within(b["proved_at"], at_t),
            theorems,
        ).to_dict()
        for i, a in enumerate(timed)
        for b in timed[i + 1 :]
    ]
    return {
        "grid": grid,
        "seconds": at_t,
        "proved_within": {m["label"]: within_counts(m["proved_at"], grid) for m in timed},
        # mean search seconds each prover used of its budget per theorem
        "seconds_per_theorem": {m["label"]: m.get("seconds_per_theorem") for m in timed},
        "budget_per_theorem_s": {m["label"]: m["budget_per_theorem_s"] for m in timed},
        "paired": pairs,
    }


def side_by_side_table(comparison: dict[str, Any]) -> str:
    """Proved within t (columns) per prover (rows), then the paired tests."""
    grid, rows = comparison["grid"], comparison["proved_within"]
    if not rows:
        return ""
    width = max(10, *(len(label) for label in rows))
    lines = [
        f"{'proved within t s':<{width}}  "
        + "  ".join(f"{t:>6g}" for t in grid)
        + "  s used/budget per theorem"
    ]
    for label, counts in rows.items():
        used = comparison.get("seconds_per_theorem", {}).get(label)
        budget = comparison.get("budget_per_theorem_s", {}).get(label)
        lines.append(
            f"{label:<{width}}  "
            + "  ".join(f"{counts[f'{t:g}']:>6}" for t in grid)
            + (f"  {used:.1f}/{budget:g}" if used is not None else "")
        )
    for p in comparison["paired"]:
        lines.append(
            f"at {comparison['seconds']:g} s: {p['a']} {p['proved_a']} vs {p['b']} {p['proved_b']}; "
            f"only {p['a']}: {len(p['only_a'])}, only {p['b']}: {len(p['only_b'])}; "
            f"exact McNemar p = {p['mcnemar_p']:.3g}"
        )
    return "\n".join(lines)
