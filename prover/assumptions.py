"""The axioms beyond the standard library's that a run's proofs rely on, read
back from a search database: shown by every command that reports proofs, and
counted apart from plain proofs in evaluations."""

from __future__ import annotations

import json

from search.context import REFUSED_ASSUMPTIONS
from search.db import SearchDB


def assumes_by_theorem(db: SearchDB, run_id: int) -> dict[str, list[str]]:
    """Theorem -> the assumptions of its verified proof, for the proved
    theorems of the run whose proof has any."""
    out: dict[str, list[str]] = {}
    for row in db.db.query(
        "SELECT p.theorem, p.assumes FROM proofs p JOIN theorems t "
        "ON p.run_id = t.run_id AND p.theorem = t.theorem AND p.tactics = t.proof "
        "WHERE p.run_id = ? AND t.status = 'proved' AND p.verified = 1",
        [run_id],
    ):
        assumes = json.loads(row["assumes"] or "[]")
        if assumes:
            out[row["theorem"]] = assumes
    return out


def refused_theorems(db: SearchDB, run_id: int) -> set[str]:
    """Theorems not proved for which the run refused a proof that relies on
    axioms beyond the standard library's."""
    return {
        row["theorem"]
        for row in db.db.query(
            "SELECT DISTINCT p.theorem FROM proofs p JOIN theorems t "
            "ON p.run_id = t.run_id AND p.theorem = t.theorem "
            "WHERE p.run_id = ? AND t.status != 'proved' AND p.reason LIKE ?",
            [run_id, REFUSED_ASSUMPTIONS + "%"],
        )
    }


def assumption_counts(db: SearchDB, run_id: int) -> dict[str, int]:
    """``proved_with_assumptions``: proved theorems whose proof relies on
    such axioms (possible only with --allow-assumptions); ``refused``:
    theorems left unproved whose only proofs were refused for them."""
    return {
        "proved_with_assumptions": len(assumes_by_theorem(db, run_id)),
        "refused_assumptions": len(refused_theorems(db, run_id)),
    }
