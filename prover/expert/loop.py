"""The rounds of expert iteration.

Round 0 is the starting models (found under ``--models`` by their N', or
trained with ``--train-missing``), evaluated on the test split. Round r >= 1:

1. *proving*: the train theorems without a verified proof yet (fixed when the
   round starts) are searched by every model of round r-1, one search run
   each (seed + r, so a theorem left open is not retried with the same
   samples);
2. the new verified proofs are deduplicated, traced into steps
   (:mod:`.proofs`), written to ``round-r/added_steps.jsonl`` and recorded;
3. *training*: every N' model is retrained (:mod:`.models`) on
   ``round-r/benchmark`` (the base benchmark plus every round's added steps)
   into ``round-r/models/n{N'}``; a round that added nothing keeps its models;
4. *evaluating*: each model searches the test selection (seed fixed across
   rounds; a model evaluated before is not evaluated again).

Each phase's results are committed before the next starts, and each search is
a resumable run of the database, so re-running the same command continues
with the first unfinished round at the phase where it stopped.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.format import Benchmark, BenchmarkTheorem
from benchmarks.loader import load_benchmark
from lean_env.errors import UserError
from search.db import SearchDB
from search.fsutil import now, relative_paths, write_text_atomic
from search.runner import Job

from . import models as models_
from .config import ExpertConfig, Selection, label, model_dir_name
from .proofs import ADDED, found_proofs, select_and_trace, write_augmented, write_steps
from .searching import run_search, score
from .store import ExpertStore

PROVING, TRAINING, EVALUATING, DONE = "proving", "training", "evaluating", "done"
SUMMARY_FILE = "summary.json"

Log = Callable[[str], None]


def select(benchmark: str, selection: Selection) -> list[Job]:
    """The jobs of a split selection, chosen as ``dco search`` chooses them."""
    from prover.options import select_jobs

    return select_jobs(
        argparse.Namespace(
            benchmark=benchmark,
            split=selection.split,
            theorem=[],
            sample=selection.sample,
            seed=selection.seed,
            limit=selection.limit,
        )
    )


@dataclass
class Run:
    config: ExpertConfig
    db: SearchDB
    store: ExpertStore
    benchmark: Benchmark
    pool: list[Job]  # the train theorems in play
    test: list[Job]
    log: Log

    def __post_init__(self) -> None:
        self.by_name: dict[str, BenchmarkTheorem] = {
            t.theorem.name: t for t in self.benchmark.theorems()
        }


def run(
    config: ExpertConfig, log: Log = print, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Run (or continue) the rounds; returns the summary also written to
    ``OUT/summary.json``. ``extra`` goes into the summary's config."""
    import torch

    threads = torch.get_num_threads()
    config.out.mkdir(parents=True, exist_ok=True)
    started = now()
    try:
        with SearchDB(config.db_path) as db:
            store = ExpertStore(db.db)
            store.check_identity(config.identity())
            state = Run(
                config,
                db,
                store,
                load_benchmark(config.benchmark),
                select(config.benchmark, config.train),
                select(config.benchmark, config.test),
                log,
            )
            for r in range(config.rounds + 1):
                row = store.round(r)
                if row is not None and row["status"] == DONE:
                    log(f"round {r}: done before, skipped")
                    continue
                if r == 0:
                    _round_zero(state, threads)
                else:
                    _round(state, r, threads)
                write_summary(state, started, extra)
            return write_summary(state, started, extra)
    finally:
        # Loading a model for search in this process pins torch to one thread.
        torch.set_num_threads(threads)


def _start_models(state: Run, threads: int) -> dict[float, Path]:
    config = state.config
    found = models_.find_models(config.models, config.n_primes) if config.models else {}
    missing = [n for n in config.n_primes if n not in found]
    if missing and not config.train_missing:
        raise models_.missing_models_error(config.models, config.benchmark, missing)
    import torch

    for n in missing:
        out = config.round_dir(0) / "models" / model_dir_name(n)
        state.log(f"round 0: training the {label(n)} model into {out}")
        torch.set_num_threads(threads)
        found[n] = models_.train_model(models_.start_model_config(config, n, out))
    return found


def _round_zero(state: Run, threads: int) -> None:
    start = _start_models(state, threads)
    models = {label(n): str(start[n]) for n in state.config.n_primes}
    if state.store.round(0) is None:
        state.store.start_round(
            0,
            state.config.identity(),
            EVALUATING,
            models=models,
            train_pool=len(state.pool),
            proved_so_far=0,
        )
    _evaluate(state, 0, models, {})


def _round(state: Run, r: int, threads: int) -> None:
    config, store = state.config, state.store
    row = store.round(r)
    if row is None:
        pool = {j.theorem.name for j in state.pool}
        proved = store.proved() & pool
        targets = [j.theorem.name for j in state.pool if j.theorem.name not in proved]
        store.start_round(r, config.identity(), PROVING, targets=targets, train_pool=len(pool))
        row = store.round(r)
        assert row is not None
    previous = store.round(r - 1)
    if previous is None or previous["status"] != DONE:
        raise UserError(f"round {r - 1} is not finished")  # cannot happen: rounds run in order
    seconds: dict[str, float] = dict(row.get("seconds") or {})
    if row["status"] == PROVING:
        _prove(state, r, row, previous["models"], seconds)
        row = store.round(r)
        assert row is not None
    if row["status"] == TRAINING:
        models = _train(state, r, row, previous["models"], seconds, threads)
        store.update_round(r, status=EVALUATING, models=models, seconds=seconds)
        row = store.round(r)
        assert row is not None
    _evaluate(state, r, row["models"], seconds)


def _prove(
    state: Run, r: int, row: dict[str, Any], models: dict[str, str], seconds: dict[str, float]
) -> None:
    config, db = state.config, state.db
    targets = row["targets"]
    wanted = set(targets)
    jobs = [j for j in state.pool if j.theorem.name in wanted]
    t0 = time.perf_counter()
    runs: dict[str, int] = {}
    digest = hashlib.sha256(json.dumps(targets).encode()).hexdigest()[:16]
    for n in config.n_primes:
        name = label(n)
        if not jobs:
            break
        state.log(f"round {r}: searching {len(jobs)} train theorems with {name}")
        run_config = {
            "kind": "expert-prove",
            "round": r,
            "label": name,
            "model": models[name],
            "benchmark": config.benchmark,
            "split": "train",
            "targets": len(jobs),
            "targets_sha": digest,
            "search": config.search.to_dict(),
            "budget": config.budget.to_dict(),
            "seed": config.seed + r,
        }
        runs[name] = run_search(
            db,
            jobs,
            run_config,
            config.search,
            config.budget,
            Path(models[name]),
            seed=config.seed + r,
            workers=config.workers,
            progress=config.progress,
            desc=f"round {r} {name} train",
        )
        state.store.update_round(r, prove_runs=runs)
    seconds["prove"] = seconds.get("prove", 0.0) + time.perf_counter() - t0

    t1 = time.perf_counter()
    found = found_proofs(db, runs)
    selected = select_and_trace(
        found,
        state.by_name,
        state.store.known_proofs(),
        per_theorem=config.proofs_per_theorem,
        round_=r,
        tactic_timeout=max(10.0, 4 * config.budget.tactic_timeout),
    )
    round_dir = config.round_dir(r)
    round_dir.mkdir(parents=True, exist_ok=True)
    write_steps(round_dir / "added_steps.jsonl", selected.steps)
    seconds["trace"] = time.perf_counter() - t1
    status = [row_["status"] for row_ in selected.rows]
    pool = {j.theorem.name for j in state.pool}
    before = state.store.proved() & pool
    after = before | {row_["theorem"] for row_ in selected.rows}
    state.store.record_proofs(
        r,
        selected.rows,
        status=TRAINING,
        prove_runs=runs,
        proofs_found=len({(p.theorem, p.tactics) for p in found}),
        new_theorems=len(after - before),
        added_proofs=status.count(ADDED),
        added_steps=len(selected.steps),
        duplicates=status.count("duplicate"),
        capped=status.count("capped"),
        replay_failed=status.count("replay_failed"),
        proved_so_far=len(after),
        seconds=seconds,
    )
    state.log(
        f"round {r}: {len(after - before)} train theorems newly proved; "
        f"{status.count(ADDED)} proofs added ({len(selected.steps)} steps), "
        f"{status.count('duplicate')} duplicates of the human proof; "
        f"{len(after)}/{len(pool)} train theorems proved so far"
    )


def _train(
    state: Run,
    r: int,
    row: dict[str, Any],
    previous: dict[str, str],
    seconds: dict[str, float],
    threads: int,
) -> dict[str, str]:
    config = state.config
    added = [config.round_dir(k) / "added_steps.jsonl" for k in range(1, r + 1)]
    if not row.get("added_steps"):
        state.log(f"round {r}: no new training data; the models of round {r - 1} are kept")
        return dict(previous)
    import torch

    t0 = time.perf_counter()
    bench_dir = write_augmented(config.round_dir(r) / "benchmark", state.benchmark, added, r)
    start = _start_models(state, threads)
    models: dict[str, str] = {}
    for n in config.n_primes:
        name = label(n)
        out = config.round_dir(r) / "models" / model_dir_name(n)
        how = "continuing" if config.continue_training else "from scratch"
        state.log(f"round {r}: training the {name} model ({how}) into {out}")
        torch.set_num_threads(threads)
        train_config = models_.round_model_config(
            config, start[n], Path(previous[name]), bench_dir, out
        )
        models[name] = str(models_.train_model(train_config))
    seconds["train"] = time.perf_counter() - t0
    return models


def _evaluate(state: Run, r: int, models: dict[str, str], seconds: dict[str, float]) -> None:
    config, db = state.config, state.db
    t0 = time.perf_counter()
    scores: dict[str, Any] = {}
    run_ids = []
    for n in config.n_primes:
        name = label(n)
        model = Path(models[name])
        # No round in the config: a model kept from the last round is the same run.
        run_config = {
            "kind": "expert-test",
            "label": name,
            "model": str(model),
            "benchmark": config.benchmark,
            "selection": config.test.to_dict(),
            "search": config.test_search.to_dict(),
            "budget": config.test_budget.to_dict(),
            "seed": config.seed,
        }
        state.log(f"round {r}: evaluating {name} on {len(state.test)} test theorems")
        run_id = run_search(
            db,
            state.test,
            run_config,
            config.test_search,
            config.test_budget,
            model,
            seed=config.seed,
            workers=config.workers,
            progress=config.progress,
            desc=f"round {r} {name} test",
        )
        run_ids.append(run_id)
        scores[name] = score(
            db, run_id, name, model, n, config.test_search, config.test_budget
        ).to_dict()
    ensemble = None
    if len(run_ids) > 1:
        proved = db.proved_theorems(run_ids)
        ensemble = {
            "label": f"ensemble({','.join(f'{n:g}' for n in config.n_primes)})",
            "proved": len(proved),
            "total": len(state.test),
        }
    seconds["evaluate"] = seconds.get("evaluate", 0.0) + time.perf_counter() - t0
    state.store.update_round(
        r, status=DONE, test=scores, ensemble=ensemble, seconds=seconds, finished_at=now()
    )


def write_summary(state: Run, started: str, extra: dict[str, Any] | None) -> dict[str, Any]:
    rounds = []
    for row in state.store.rounds():
        row = dict(row)
        row.pop("config", None)
        row.pop("config_hash", None)
        targets = row.pop("targets", None)
        row["searched"] = len(targets) if targets is not None else None
        rounds.append(row)
    summary = {
        "kind": "expert-iteration",
        "benchmark": state.config.benchmark,
        "db": str(state.config.db_path),
        "config": {**state.config.to_dict(), **(extra or {})},
        "train_pool": len(state.pool),
        "test_theorems": len(state.test),
        "rounds": rounds,
        "started": started,
        "updated": now(),
    }
    path = state.config.out / SUMMARY_FILE
    write_text_atomic(path, json.dumps(relative_paths(summary), indent=2))
    return summary
