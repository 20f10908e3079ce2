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

A proof that relies on axioms beyond the standard library's (e.g. declared in
the theorem's file) does not count unless ``--allow-assumptions``; either way
each model's entry counts them apart (``proved_with_assumptions``,
``refused_assumptions``) and ``theorems.jsonl`` names the axioms. A run is
keyed by its flags and the selected theorems' contexts, so editing a
benchmark's files starts new runs instead of resuming stale ones.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from benchmarks.loader import benchmark_prelude
from prover import ensemble as ens
from prover.assumptions import assumes_by_theorem, assumption_counts
from prover.compare import side_by_side, side_by_side_table
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
    selection_config,
)
from prover.results import (
    PLOT_FILE,
    RESULTS_FILE,
    machine,
    passk_table,
    plot_passk,
)
from search.budget import Budget
from search.config import SearchConfig
from search.db import SearchDB, check_writable_db
from search.fsutil import now, relative_paths, write_json_atomic, write_jsonl_atomic


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_selection_arguments(parser)
    add_model_arguments(parser)
    add_search_arguments(parser, budget=5000.0, strategy="rollouts")
    out = parser.add_argument_group("running and output")
    out.add_argument("--out", required=True, metavar="DIR", help="results directory")
    out.add_argument("--db", help="SQLite file of the runs (default OUT/evaluation.sqlite)")
    out.add_argument("--workers", type=int, default=1, help="parallel search processes")
    out.add_argument(
        "--ray",
        metavar="ADDRESS",
        help="run theorems as Ray tasks on this cluster ('local': start one here)",
    )
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
    if args.db:
        check_writable_db(Path(args.db))  # a bad --db fails before anything is written
    check_workers(args.workers)
    search, budget = search_settings(args)
    members = ens.resolve_members(
        ensemble=args.ensemble,
        models=args.models,
        model=args.model,
        generator=args.generator,
        benchmark=args.benchmark,
        strategy=search.strategy.value,
    )
    budgets = ens.member_budgets(budget, len(members), args.ensemble_budget)
    jobs = select_jobs(args)
    out = Path(args.out)
    db_path = Path(args.db) if args.db else out / "evaluation.sqlite"
    execution = Execution(
        workers=args.workers,
        ray=args.ray,
        progress=not args.quiet,
        store_tree=not args.no_tree,
        seed=args.seed,
    )
    selection = selection_config(args, jobs)
    out.mkdir(parents=True, exist_ok=True)
    print(
        f"evaluating {', '.join(m.label for m in members)} on {len(jobs)} theorems of "
        f"{args.benchmark} ({args.split}); runs in {db_path}"
    )

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
        scores = [
            {
                **score(db, run_id, m, search, budget_of[m.label], len(jobs)),
                **assumption_counts(db, run_id),
            }
            for m, run_id in runs
        ]
        assumed = {m.label: assumes_by_theorem(db, run_id) for m, run_id in runs}
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
        # the members at the same wall clock per theorem, and paired tests
        "side_by_side": side_by_side(scores, [j.theorem.name for j in jobs]),
        "interrupted": interrupted,
        "machine": machine(),
        "started": started,
        "finished": now(),
    }
    write_json_atomic(out / RESULTS_FILE, relative_paths(results))
    _write_theorems(out / "theorems.jsonl", jobs, proofs, assumed)
    from prover.commands.view import command_for

    for member, run_id in runs:  # before the table and the results line, which end the output
        print(f"browse {member.label}: {command_for(db_path, run_id, out / f'view-run{run_id}')}")
    if scores:
        plot_passk(results, out / PLOT_FILE)
        print(passk_table(results))
        if len(scores) > 1:
            print(side_by_side_table(results["side_by_side"]))
    for entry in scores:
        if entry["proved_with_assumptions"] or entry["refused_assumptions"]:
            print(
                f"{entry['label']}: {entry['proved_with_assumptions']} proved relying on axioms "
                f"beyond the standard library, {entry['refused_assumptions']} not proved "
                "because their proofs did"
                + ("" if search.allow_assumptions else " (--allow-assumptions accepts them)")
            )
    print(f"results: {out / RESULTS_FILE}; plot: {out / PLOT_FILE}; database: {db_path}")
    if interrupted:
        print(
            "interrupted: partial results written; re-run the same command to resume",
            file=sys.stderr,
        )
        return 130
    return 0


def _write_theorems(
    path: Path,
    jobs: list,
    proofs: dict[str, dict[str, list[str]]],
    assumed: dict[str, dict[str, list[str]]],
) -> None:
    def row(name: str, by: dict[str, list[str]]) -> dict:
        assumes = {label: a[name] for label, a in assumed.items() if name in a}
        return {
            "theorem": name,
            "proved": bool(by),
            "proved_by": sorted(by),
            "proofs": by,
            "assumes": assumes,
        }

    rows = (row(job.theorem.name, proofs.get(job.theorem.name, {})) for job in jobs)
    write_jsonl_atomic(path, rows, ensure_ascii=True)
