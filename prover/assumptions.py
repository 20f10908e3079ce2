"""The axioms beyond the standard library's that a run's proofs rely on, read
back from a search database: shown by every command that reports proofs, and
counted apart from plain proofs in evaluations."""

from __future__ import annotations

from search.context import REFUSED_ASSUMPTIONS
from search.db import SearchDB


def assumes_by_theorem(db: SearchDB, run_id: int) -> dict[str, list[str]]:
    """Theorem -> the assumptions of its verified proof, for the proved
    theorems of the run whose proof has any."""
    return {name: a for name, a in db.proved_assumptions(run_id).items() if a}


def refused_theorems(db: SearchDB, run_id: int) -> set[str]:
    """Theorems not proved for which the run refused a proof that relies on
    axioms beyond the standard library's."""
    return set(db.proofs_refused_for(run_id, REFUSED_ASSUMPTIONS))


def assumption_counts(db: SearchDB, run_id: int) -> dict[str, int]:
    """``proved_with_assumptions``: proved theorems whose proof relies on
    such axioms (possible only with --allow-assumptions); ``refused``:
    theorems left unproved whose only proofs were refused for them."""
    return {
        "proved_with_assumptions": len(assumes_by_theorem(db, run_id)),
        "refused_assumptions": len(refused_theorems(db, run_id)),
    }
