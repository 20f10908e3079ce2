"""Provers side by side at the same wall clock per theorem, from their runs
in a search database: when each theorem was proved, proved-within-t, and
paired comparisons (theorems each proves alone, exact McNemar test).

A theorem's proof time is ``seconds_to_proof`` in the ``stats`` JSON of its
``theorems`` row (search seconds when the first verified proof was found).
Databases written before that field existed give the search's whole wall
clock instead (``seconds_search``): exact for best-first, which stops at its
first proof, and an upper bound for rollouts that run all their passes.
"""

from __future__ import annotations

import statistics
from typing import Any

from benchmarks.paired import side_by_side, side_by_side_table, time_grid, within_counts
from search.db import SearchDB

__all__ = ["proved_at", "seconds_used", "side_by_side", "side_by_side_table", "timing"]


def proved_at(db: SearchDB, run_id: int) -> dict[str, float]:
    """Theorem -> search seconds at which the run proved it."""
    return {
        name: round(float(at if at is not None else seconds), 3)
        for name, (seconds, at) in db.proof_times(run_id).items()
    }


def seconds_used(db: SearchDB, run_id: int) -> list[float]:
    """Search seconds each finished theorem of the run used."""
    return db.search_seconds(run_id)


def timing(db: SearchDB, run_id: int, budget_s: float) -> dict[str, Any]:
    """The timing fields of one member's entry in ``results.json``."""
    used = seconds_used(db, run_id)
    at = proved_at(db, run_id)
    return {
        "budget_per_theorem_s": budget_s,
        # A run that stops early (rollouts done with their passes) says so here.
        "seconds_per_theorem": round(statistics.fmean(used), 3) if used else None,
        "median_seconds_per_theorem": round(statistics.median(used), 3) if used else None,
        "proved_at": dict(sorted(at.items())),
        "proved_within": within_counts(at, time_grid([budget_s])),
    }
