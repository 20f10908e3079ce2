"""``dco search``: proof search over a benchmark split, logged to SQLite.

    dco search --benchmark coq-stdlib --split test --generator symbolic \\
        --strategy best-first --budget 60 --db out.sqlite [--sample 200 --seed 0]

Every selected theorem ends in the database as proved, failed (including
those whose environment could not start) or open (budget spent). Re-running
the same command with the same ``--db`` resumes the run: finished theorems
are skipped, nothing committed is lost. ``--workers`` searches theorems in
parallel processes. Ends with a summary line: proved / total, and how many
proofs rely on axioms beyond the standard library's (refused unless
``--allow-assumptions``). A run is keyed by its flags and the selected
theorems' contexts (file text before each, load paths, Coq version): after an
edit, the same command starts a new run instead of resuming.
"""

from __future__ import annotations

import argparse
import functools
from typing import Any

from lean_env.types import assumes_note
from prover import options
from prover.assumptions import assumes_by_theorem, refused_theorems
from prover.ensemble import resolve_members
from prover.generators import GENERATORS, make_generator
from prover.progress import write_records
from search.db import SearchDB
from search.runner import run_jobs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_selection_arguments(parser)
    options.add_search_arguments(parser, budget=60.0)
    parser.add_argument(
        "--generator", default="symbolic", help=f"tactic generator: {', '.join(GENERATORS)}"
    )
    out = parser.add_argument_group("output")
    out.add_argument("--db", required=True, help="SQLite file of the run (created or resumed)")
    out.add_argument("--no-tree", action="store_true", help="store attempts and proofs, not trees")
    out.add_argument("--workers", type=int, default=1, help="parallel search processes")
    out.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    options.check_workers(args.workers)
    config, budget = options.search_settings(args)
    # The same resolution as evaluate and prove (knn -> knn:BENCHMARK, a
    # missing plugin or an unknown name fails here, before any work).
    (member,) = resolve_members(
        ensemble=None, models="", model=None, generator=args.generator, benchmark=args.benchmark
    )
    spec = member.generator
    make_generator(spec, args.seed)
    jobs = options.select_jobs(args)
    run_config: dict[str, Any] = {
        **options.selection_config(args, jobs),
        "generator": spec,
        "search": config.to_dict(),
        "budget": budget.to_dict(),
        "store_tree": not args.no_tree,
    }
    with SearchDB(args.db) as db:
        run_id, resumed = db.open_run(run_config, total=len(jobs))
        done = db.finished(run_id)
        todo = [j for j in jobs if j.theorem.name not in done]
        if todo:
            db.claim(run_id)  # refuse a second process writing this run at once
        if resumed:
            print(
                f"resuming run {run_id} in {args.db}: {len(jobs) - len(todo)} of {len(jobs)} theorems done"
            )
        else:
            print(f"run {run_id} in {args.db}: {len(jobs)} theorems")
        records = run_jobs(
            todo,
            config,
            budget,
            functools.partial(make_generator, spec, args.seed),
            workers=args.workers,
            store_tree=not args.no_tree,
            seed=args.seed,
        )
        write_records(db, run_id, records, total=len(jobs), done=len(jobs) - len(todo),
                      quiet=args.quiet)  # fmt: skip
        db.end_run(run_id)
        s = db.summary(run_id)
        assumed = assumes_by_theorem(db, run_id)
        refused = refused_theorems(db, run_id)
    from prover.commands.view import command_for

    # The summary stays the last line (scripts read it); the hint comes just before.
    print(f"browse it: {command_for(args.db, run_id)}")
    share = s["proved"] / s["total"] if s["total"] else 0.0
    for name, axioms in sorted(assumed.items()):
        print(f"PROVED {name}{assumes_note(axioms)}")
    if assumed or refused:
        print(
            f"axioms beyond the standard library: {len(assumed)} proved theorem(s) rely on "
            f"them; {len(refused)} theorem(s) not proved because their proofs did"
            + ("" if config.allow_assumptions else " (--allow-assumptions accepts them)")
        )
    print(
        f"proved {s['proved']}/{s['total']} ({100 * share:.1f}%); "
        f"failed {s['failed']} (environment did not start: {s['start_failed']}); "
        f"open (budget spent) {s['open']}; run {run_id} in {args.db}"
    )
    return 0
