"""Run provers over a list of theorems as resumable runs of a search
database, and score them: pass@k per model, and the ensemble (a theorem is
proved if any model proved it, with which model found which proof).

Each model's search is its own run of the database, identified by its
config (benchmark, selection, generator, search, that model's budget), so a
second invocation resumes every model where it stopped, skips a model whose
run is finished, and reuses a model's run across commands that give it the
same budget (``--model`` and ``--ensemble-budget each``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.passk import pass_at_k_curve
from prover import ensemble as ens
from prover.compare import timing
from prover.ensemble import Member
from prover.hybrid import hybrid_model
from prover.progress import write_records
from search.budget import Budget
from search.config import SearchConfig, Strategy
from search.db import SearchDB
from search.runner import Job, run_jobs


@dataclass(frozen=True)
class Execution:
    """Where and how the searches run; none of it changes a theorem's result,
    so none of it is part of a run's identity."""

    workers: int = 1
    ray: str | None = None  # a Ray address, "local", or None for local processes
    progress: bool = True
    store_tree: bool = True
    seed: int = 0


def model_fingerprint(model: str | None) -> dict[str, Any] | None:
    """Size and mtime of a model's weights: a model retrained in place is a
    new run, not a resumed one."""
    if model is None:
        return None
    weights = sorted(p for p in Path(model).glob("*.safetensors")) or sorted(
        Path(model).glob("*.bin")
    )
    return {p.name: [p.stat().st_size, p.stat().st_mtime_ns] for p in weights}


def policy_model(member: Member) -> str | None:
    """The model directory a member's policy loads: its own, or the one its
    hybrid generator takes (``hybrid:DIR`` or the default model), or for a
    portfolio the first of its stages'."""
    if member.model:
        return member.model
    from prover.generators import portfolio_parts

    # a portfolio loads the model of its first stage that has one
    for spec in portfolio_parts(member.generator):
        if spec.startswith("model:"):
            return spec.removeprefix("model:")
        if path := hybrid_model(spec):
            return path
    return None


def run_config(
    selection: dict[str, Any],
    member: Member,
    search: SearchConfig,
    budget: Budget,
    store_tree: bool,
) -> dict[str, Any]:
    """The identity of one model's run."""
    model = str(Path(member.model).resolve()) if member.model else None
    return {
        "command": "evaluate",
        **selection,
        "generator": f"model:{model}" if model else member.generator,
        # A hybrid names no model but loads one: retraining it is a new run too.
        "weights": model_fingerprint(policy_model(member)),
        "search": search.to_dict(),
        "budget": budget.to_dict(),
        "store_tree": store_tree,
    }


def run_member(
    db: SearchDB,
    run_id: int,
    jobs: Sequence[Job],
    search: SearchConfig,
    budget: Budget,
    member: Member,
    execution: Execution,
) -> None:
    """Search ``jobs`` with one model as run ``run_id`` of ``db`` (opened
    with :meth:`SearchDB.open_run` from :func:`run_config`; theorems it
    committed before are skipped, and a finished run's model is not even
    loaded). A KeyboardInterrupt leaves every committed theorem in place."""
    from prover.generators import make_generator

    done = db.finished(run_id)
    todo = [j for j in jobs if j.theorem.name not in done]
    if not todo:
        db.end_run(run_id)
        return
    db.claim(run_id)
    factory = functools.partial(make_generator, member.generator, execution.seed)
    if execution.ray:
        from search.ray_runner import run_jobs_ray

        records = run_jobs_ray(
            todo,
            search,
            budget,
            factory,
            address=execution.ray,
            store_tree=execution.store_tree,
            seed=execution.seed,
        )
    else:
        records = run_jobs(
            todo,
            search,
            budget,
            factory,
            workers=execution.workers,
            store_tree=execution.store_tree,
            seed=execution.seed,
        )
    write_records(db, run_id, records, total=len(jobs), done=len(jobs) - len(todo),
                  label=member.label, quiet=not execution.progress)  # fmt: skip
    db.end_run(run_id)


def ks_for(passes: int) -> list[int]:
    """k = 1, 2, 4, ... up to ``passes``, and ``passes`` itself."""
    ks = [1 << i for i in range(passes.bit_length()) if 1 << i <= passes]
    return ks if ks[-1] == passes else [*ks, passes]


def score(
    db: SearchDB, run_id: int, member: Member, search: SearchConfig, budget: Budget, total: int
) -> dict[str, Any]:
    """One model's entry of ``results.json``. ``total`` is the number of
    theorems selected; theorems not finished yet (an interrupted run) count
    as not proved, and ``finished`` says how many are in."""
    summary = db.summary(run_id)
    passes = budget.max_passes if search.strategy is Strategy.ROLLOUTS else None
    attempts = db.attempt_successes(run_id)
    curve = pass_at_k_curve(attempts, ks_for(passes or 1), strict=False) if attempts else []
    # Unfinished theorems count 0 for every k, as theorems that never started do.
    share = len(attempts) / total if total else 0.0
    return {
        "label": member.label,
        "generator": member.generator,
        "model": policy_model(member),
        "n_prime": member.n_prime,
        "run_id": run_id,
        "proved": summary["proved"],
        "total": total,
        "finished": summary["total"],
        "start_failed": summary["start_failed"],
        "passes": passes,
        "seconds": round(db.seconds(run_id), 3),
        "pass_at_k": {str(p.k): p.estimate * share for p in curve},
        **timing(db, run_id, budget.wall_clock),
    }


def proofs_by_theorem(
    db: SearchDB, runs: Sequence[tuple[Member, int]]
) -> dict[str, dict[str, list[str]]]:
    """Theorem -> {model label: its verified proof}, over the given runs."""
    out: dict[str, dict[str, list[str]]] = {}
    for member, run_id in runs:
        for theorem, proof in db.proofs(run_id).items():
            out.setdefault(theorem, {})[member.label] = proof
    return out


def ensemble_score(
    db: SearchDB,
    runs: Sequence[tuple[Member, int]],
    label: str,
    total: int,
    strategy: Strategy,
) -> dict[str, Any]:
    """The ensemble's entry of ``results.json``: proved by any model;
    ``found_by`` counts the theorems each model proved (a theorem proved by
    several counts for each), ``only_by`` those no other model proved;
    ``pass_at_k``: :func:`prover.ensemble.ensemble_pass_at_k` for rollouts,
    else the proved fraction at the M passes (one search per model)."""
    proofs = proofs_by_theorem(db, runs)
    found_by, only_by = ens.credit([m.label for m, _ in runs], proofs.values())
    curve: dict[str, float] = {}
    if strategy is Strategy.ROLLOUTS:
        per_model = [db.attempt_successes(run_id) for _, run_id in runs]
        curve = {str(k): p for k, p in ens.ensemble_pass_at_k(per_model, total, ks_for).items()}
    if not curve and total:
        curve[str(len(runs))] = len(proofs) / total
    return {
        "label": label,
        "proved": len(proofs),
        "total": total,
        "found_by": found_by,
        "only_by": only_by,
        "pass_at_k": curve,
    }
