"""One model's search over a list of theorems, as a resumable run of the
search database, and the scores of such a run (pass@k by the unbiased
estimator of :mod:`benchmarks.passk`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks.passk import pass_at_k_curve
from lean_env.context_key import contexts_digest
from prover.ensemble import Member
from prover.evaluation import Execution, ks_for, run_member
from search.budget import Budget
from search.config import SearchConfig, Strategy
from search.db import SearchDB
from search.runner import Job


@dataclass(frozen=True)
class Score:
    label: str
    model: str
    n_prime: float
    run_id: int
    proved: int
    total: int
    start_failed: int
    passes: int | None
    seconds: float  # search time summed over theorems (environment start included)
    pass_at_k: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_search(
    db: SearchDB,
    jobs: Sequence[Job],
    run_config: dict[str, Any],
    search: SearchConfig,
    budget: Budget,
    model: Path,
    *,
    seed: int,
    workers: int,
    progress: bool,
    desc: str,
) -> int:
    """Search ``jobs`` with ``model``; the run is ``run_config``'s run of the
    database, so a second call with the same config resumes it (theorems
    already committed are skipped). Returns the run id."""
    # The theorems' contexts are part of the key: edited files are a new run.
    keyed = {**run_config, "context": contexts_digest(j.theorem for j in jobs)}
    run_id, _ = db.open_run(keyed, total=len(jobs))
    run_member(
        db,
        run_id,
        jobs,
        search,
        budget,
        Member(desc, f"model:{model}", str(model)),
        Execution(workers=workers, progress=progress, seed=seed),
    )
    return run_id


def score(
    db: SearchDB,
    run_id: int,
    label: str,
    model: Path,
    n_prime: float,
    search: SearchConfig,
    budget: Budget,
) -> Score:
    summary = db.summary(run_id)
    attempts = db.attempt_successes(run_id)
    rollouts = search.strategy is Strategy.ROLLOUTS
    passes = budget.max_passes if rollouts else None
    curve = pass_at_k_curve(attempts, ks_for(passes or 1), strict=False) if attempts else []
    return Score(
        label=label,
        model=str(model),
        n_prime=n_prime,
        run_id=run_id,
        proved=summary["proved"],
        total=summary["total"],
        start_failed=summary["start_failed"],
        passes=passes,
        seconds=round(db.seconds(run_id), 3),
        pass_at_k={str(p.k): p.estimate for p in curve},
    )
