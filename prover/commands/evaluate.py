"""``dco evaluate``: a prover (one model, the symbolic baseline, or an
ensemble of N' models) over every selected theorem of a benchmark split,
with a per-theorem budget.

    dco evaluate --benchmark coq-stdlib --split test --ensemble 1,4,8,16,32 \\
        --models models --strategy rollouts --passes 64 --budget 5000 --out runs/eval

Each model's search is a resumable run of ``--db`` (default
``OUT/evaluation.sqlite``): re-running the same command continues where it
stopped and skips finished models. Theorems run in ``--workers`` local
processes, or as Ray tasks with ``--ray ADDRESS`` (``--ray local`` starts a
local Ray). Writes ``OUT/results.json``, ``OUT/theorems.jsonl`` (per theorem:
which models proved it, with their proofs) and ``OUT/passk.png``, and prints
the pass@k table. Ctrl-C keeps what was committed and writes the partial
results (exit 130).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from benchmarks.loader import benchmark_prelude
from prover import ensemble as ens
from prover.evaluation import (
    Execution,
    ensemble_score,
    proofs_by_theorem,
    run_config,
    run_member,
    score,
)
from prover.options import (
    add_model_arguments,
    add_search_arguments,
    add_selection_arguments,
    check_workers,
    search_settings,
    select_jobs,
)
from prover.results import (
    PLOT_FILE,
    RESULTS_FILE,
    machine,
    now,
    passk_table,
    plot_passk,
    write_json,
)
from search.budget import Budget
from search.config import SearchConfig
from search.db import SearchDB


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_selection_arguments(parser)
    add_model_arguments(parser)
    add_search_arguments(parser, budget=5000.0, strategy="rollouts")
    out = parser.add_argument_group("running and output")
    out.add_argument("--out", required=True, metavar="DIR", help="results directory")
    out.add_argument("--db", help="SQLite file of the runs (default OUT/evaluation.sqlite)")
    out.add_argument("--workers", type=int, default=1, help="parallel search processes")
    out.add_argument("--ray", metavar="ADDRESS",
                     help="run theorems as Ray tasks on this cluster ('local': start one here)")  # fmt: skip
    out.add_argument("--no-tree", action="store_true", help="store attempts and proofs, not trees")
    out.add_argument("--quiet", action="store_true", help="no progress bar")


def resolved_config(
    args: argparse.Namespace,
    members: list[ens.Member],
    budgets: list[Budget],
    search: SearchConfig,
    budget: Budget,
) -> dict[str, Any]:
    """Every flag's value after ``--config FILE.toml`` and the command line,
    and what they resolved to."""
    return {
        "flags": dict(vars(args)),
        "members": [m.to_dict() for m in members],
        "search": search.to_dict(),
        "budget": budget.to_dict(),
        "member_budgets": {m.label: b.to_dict() for m, b in zip(members, budgets, strict=True)},
    }


def run(args: argparse.Namespace) -> int:
    started = now()
    check_workers(args.workers)
    search, budget = search_settings(args)
    members = ens.resolve_members(ensemble=args.ensemble, models=args.models, model=args.model,
                                  generator=args.generator, benchmark=args.benchmark)  # fmt: skip
    budgets = ens.member_budgets(budget, len(members), args.ensemble_budget)
    jobs = select_jobs(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    db_path = Path(args.db) if args.db else out / "evaluation.sqlite"
    execution = Execution(workers=args.workers, ray=args.ray, progress=not args.quiet,
                          store_tree=not args.no_tree, seed=args.seed)  # fmt: skip
    selection = {"benchmark": args.benchmark, "split": args.split,
                 "theorems": sorted(args.theorem), "sample": args.sample, "limit": args.limit,
                 "seed": args.seed}  # fmt: skip
    print(f"evaluating {', '.join(m.label for m in members)} on {len(jobs)} theorems of "
          f"{args.benchmark} ({args.split}); runs in {db_path}")  # fmt: skip

    runs: list[tuple[ens.Member, int]] = []
    interrupted = False
    with SearchDB(db_path) as db:
        try:
            for member, member_budget in zip(members, budgets, strict=True):
                config = run_config(selection, member, search, member_budget, execution.store_tree)
                run_id, _ = db.open_run(config, total=len(jobs))
                runs.append((member, run_id))
                run_member(db, run_id, jobs, search, member_budget, member, execution)
        except KeyboardInterrupt:
            interrupted = True
        budget_of = dict(zip((m.label for m in members), budgets, strict=True))
        scores = [score(db, run_id, m, search, budget_of[m.label], len(jobs)) for m, run_id in runs]
        combined = (
            ensemble_score(db, runs, ens.ensemble_label(members), len(jobs), search.strategy)
            if len(members) > 1 and runs
            else None
        )
        proofs = proofs_by_theorem(db, runs)
    results = {
        "kind": "evaluation",
        "benchmark": args.benchmark,
        "prelude": benchmark_prelude(args.benchmark),
        "split": args.split,
        "theorems": len(jobs),
        "strategy": search.strategy.value,
        "passes": budget.max_passes if search.strategy.value == "rollouts" else None,
        "budget_s": budget.wall_clock,
        "ensemble_budget": args.ensemble_budget if len(members) > 1 else None,
        "db": str(db_path),
        "config": resolved_config(args, members, budgets, search, budget),
        "models": scores,
        "ensemble": combined,
        "interrupted": interrupted,
        "machine": machine(),
        "started": started,
        "finished": now(),
    }  # fmt: skip
    write_json(out / RESULTS_FILE, results)
    _write_theorems(out / "theorems.jsonl", jobs, proofs)
    if scores:
        plot_passk(results, out / PLOT_FILE)
        print(passk_table(results))
    print(f"results: {out / RESULTS_FILE}; plot: {out / PLOT_FILE}; database: {db_path}")
    if interrupted:
        print("interrupted: partial results written; re-run the same command to resume",
              file=sys.stderr)  # fmt: skip
        return 130
    return 0


def _write_theorems(path: Path, jobs: list, proofs: dict[str, dict[str, list[str]]]) -> None:
    tmp = path.with_suffix(".jsonl.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for job in jobs:
            by = proofs.get(job.theorem.name, {})
            fh.write(json.dumps({"theorem": job.theorem.name, "proved": bool(by),
                                 "proved_by": sorted(by), "proofs": by}) + "\n")  # fmt: skip
    tmp.replace(path)
