"""``prove`` (also ``dco prove``): prove one theorem with one model, the
symbolic baseline, or an ensemble of N' models.

    prove --theorem Nat.sub_0_r --ensemble 1,4,8,16,32 --models models
    prove --theorem my_lemma --file Foo.v --generator symbolic --json

The theorem comes from a Coq file (``--file``) or a benchmark
(``--benchmark``, default coq-stdlib). Models are tried in the order given
(each model's search is a run of ``--db``, so the proof trees are logged and
the same command answers again from the database); the first proof ends it
unless ``--all-models``. Prints the verified proof as a script ready to
paste, which model found it, the axioms beyond the standard library's it
relies on (``PROVED x (assumes: cheat)``), the search statistics and the
database. Exit 0: proved; 1: not proved; 2: bad input (including a file
whose text before the theorem Coq rejects).

An answer from the database is keyed by everything that decides it (the
theorem's context: the file's text before it, the files its load paths hold,
the load-path flags and Coq's version; the statement; the search settings),
so an edited file is a new search, and a proof taken from the database is
re-checked against the current file before it is reported.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from lean_env.context_key import contexts_digest
from lean_env.errors import UserError
from lean_env.types import Backend, Theorem, assumes_note
from prover import ensemble as ens
from prover.evaluation import Execution, run_config, run_member
from prover.options import add_model_arguments, add_search_arguments, search_settings
from search.budget import Budget
from search.config import SearchConfig
from search.context import REFUSED_ASSUMPTIONS, refuse_assumptions
from search.db import SearchDB
from search.runner import Job

DEFAULT_DB = Path("runs") / "prove.sqlite"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    what = parser.add_argument_group("theorem")
    what.add_argument("--theorem", required=True, metavar="NAME", help="full or short name")
    source = what.add_mutually_exclusive_group()
    source.add_argument("--file", metavar="X.v", help="the Coq file that states it")
    source.add_argument("--benchmark", help="the benchmark that holds it (default coq-stdlib)")
    what.add_argument(
        "--coq-args",
        default=None,
        help="--file: extra coqtop/coqc flags (default: from _CoqProject)",
    )
    add_model_arguments(parser)
    add_search_arguments(parser, budget=300.0, strategy="best-first", allow_assumptions=True)
    out = parser.add_argument_group("output")
    out.add_argument(
        "--all-models",
        action="store_true",
        help="run every model of the ensemble even after one proved it",
    )
    out.add_argument("--seed", type=int, default=0, help="seed of sampled tactics")
    out.add_argument(
        "--db", default=str(DEFAULT_DB), help=f"SQLite file of the searches (default {DEFAULT_DB})"
    )
    out.add_argument("--no-tree", action="store_true", help="store attempts and proofs, not trees")
    out.add_argument("--json", action="store_true", help="one JSON object on stdout")
    out.add_argument("--quiet", action="store_true", help="no progress output")


def find_theorem(args: argparse.Namespace) -> Job:
    if args.file:
        import shlex

        from lean_env.coq.source import find_declaration

        if not Path(args.file).is_file():
            raise UserError(f"--file {args.file}: no such file")
        coq_args = tuple(shlex.split(args.coq_args)) if args.coq_args is not None else None
        return Job(find_declaration(args.file, args.theorem, coq_args).theorem)
    from benchmarks.loader import load_benchmark

    found = load_benchmark(args.benchmark).by_name(args.theorem)
    return Job(found.theorem, found.id, found.split)


def proof_script(theorem: Theorem, tactics: list[str]) -> str:
    """The statement and proof, ready to paste into a source file."""
    if theorem.backend is Backend.COQ:
        from lean_env.coq.tactic_check import check_tactic

        body = "\n".join("  " + check_tactic(t, theorem.name).text for t in tactics)
        return f"{theorem.statement}\nProof.\n{body}\nQed."
    statement = theorem.statement.rstrip()
    statement = statement.removesuffix("by").rstrip().removesuffix(":=").rstrip()
    return statement + " := by\n" + "\n".join("  " + t for t in tactics)


# What each model's entry of the output shows of its search.
ROW_COLUMNS = (
    "status", "reason", "start_failed", "proof", "attempts", "successes",
    "tactic_calls", "expansions", "nodes", "seconds_start", "seconds_search",
)  # fmt: skip


def _assumes(db: SearchDB, run_id: int, name: str) -> list[str]:
    """The axioms beyond the standard library's that the run's re-check of
    the theorem's proof found."""
    return db.proved_assumptions(run_id).get(name, [])


def _refused(db: SearchDB, run_id: int, name: str) -> int:
    """How many proofs the run refused for relying on axioms beyond the
    standard library's."""
    return db.proofs_refused_for(run_id, REFUSED_ASSUMPTIONS).get(name, 0)


def recheck(theorem: Theorem, row: dict[str, Any], search: SearchConfig) -> dict[str, Any]:
    """A proof answered from the database, re-checked against the current
    file: the row as it stands, or marked ``stale`` if the proof no longer
    checks (or now relies on an axiom the search config refuses)."""
    if theorem.backend is Backend.COQ:
        from lean_env.coq.verify import verify_proof

        verification = verify_proof(theorem, row["proof"])
    else:
        from lean_env.environment import open_environment

        with open_environment(theorem) as env:
            verification = env.verify(row["proof"])
    if verification.ok and verification.assumes and not search.allow_assumptions:
        verification = refuse_assumptions(verification)
    if verification.ok:
        return {**row, "assumes": list(verification.assumes), "rechecked": True}
    return {
        **row,
        "status": "stale",
        "rechecked": True,
        "assumes": [],
        "reason": f"the stored proof no longer checks: {verification.reason}",
    }


def prove_job(
    db: SearchDB,
    job: Job,
    members: list[ens.Member],
    budgets: list[Budget],
    search: SearchConfig,
    execution: Execution,
    selection: dict[str, Any],
    *,
    all_models: bool,
    log: Callable[[str], None],
) -> list[dict[str, Any]]:
    """Search ``job`` with each member in turn (each a run of ``db``) until
    one proves it, or with all of them; one result row per member searched.
    Each run is keyed by the theorem's context as well as ``selection``."""
    results: list[dict[str, Any]] = []
    context = contexts_digest([job.theorem])
    for member, member_budget in zip(members, budgets, strict=True):
        config = {
            **run_config(selection, member, search, member_budget, execution.store_tree),
            "command": "prove",
            "context": context,
        }
        run_id, _ = db.open_run(config, total=1)
        cached = job.theorem.name in db.finished(run_id)
        log(
            f"{member.label}: "
            + ("answered from the database" if cached else "searching")
            + f" ({search.strategy.value}, {member_budget.wall_clock:g} s"
            + (f", {member_budget.max_passes} passes" if member_budget.max_passes else "")
            + ")"
        )
        run_member(db, run_id, [job], search, member_budget, member, execution)
        row = db.theorem_row(run_id, job.theorem.name, ROW_COLUMNS)
        result = {
            "model": member.label,
            "path": member.model,
            "run_id": run_id,
            **row,
            "proof": json.loads(row["proof"]) if row["proof"] else None,
            "cached": cached,
            "rechecked": False,
            "assumes": [],
            "refused": _refused(db, run_id, job.theorem.name),
        }
        if result["status"] == "proved":
            if cached:
                result = recheck(job.theorem, result, search)
            else:
                result["assumes"] = _assumes(db, run_id, job.theorem.name)
        results.append(result)
        log(f"{member.label}: {result['status']} ({result['reason']})")
        if result["status"] == "proved" and not all_models:
            break
    return results


def run(args: argparse.Namespace) -> int:
    if args.benchmark is None and not args.file:
        args.benchmark = "coq-stdlib"
    search, budget = search_settings(args)
    # One proof is the goal here, not a pass@k estimate: rollouts stop at it.
    search = replace(search, stop_on_proof=True)
    members = ens.resolve_members(
        ensemble=args.ensemble,
        models=args.models,
        model=args.model,
        generator=args.generator,
        benchmark=args.benchmark or "coq-stdlib",
        strategy=search.strategy.value,
    )
    budgets = ens.member_budgets(budget, len(members), args.ensemble_budget)
    job = find_theorem(args)
    db_path = Path(args.db)
    if args.db == str(DEFAULT_DB):
        db_path.parent.mkdir(parents=True, exist_ok=True)
    execution = Execution(progress=False, store_tree=not args.no_tree, seed=args.seed)
    selection = {
        "theorem": job.theorem.name,
        "file": job.theorem.file,
        "statement": job.theorem.statement,
        "seed": args.seed,
    }
    log = (lambda _: None) if args.quiet or args.json else (lambda s: print(s, file=sys.stderr))
    with SearchDB(db_path) as db:
        results = prove_job(
            db,
            job,
            members,
            budgets,
            search,
            execution,
            selection,
            all_models=args.all_models,
            log=log,
        )
    if all(r["start_failed"] for r in results):
        # The theorem could not even be stated: bad input, not a failed search.
        reason = results[0]["reason"].removeprefix("environment failed to start: ")
        raise UserError(f"cannot set up {job.theorem.name}: {reason}")
    proved = [r for r in results if r["status"] == "proved"]
    winner = min(proved, key=lambda r: len(r["proof"])) if proved else None
    report = {
        "theorem": job.theorem.name,
        "file": job.theorem.file,
        "proved": winner is not None,
        "found_by": winner["model"] if winner else None,
        "proved_by": [r["model"] for r in proved],
        "proof": winner["proof"] if winner else None,
        "assumes": winner["assumes"] if winner else [],
        "script": proof_script(job.theorem, winner["proof"]) if winner else None,
        "models": results,
        "strategy": search.strategy.value,
        "ensemble_budget": args.ensemble_budget if len(members) > 1 else None,
        "db": str(db_path),
        "config": {
            "flags": dict(vars(args)),
            "search": search.to_dict(),
            "budget": budget.to_dict(),
            "member_budgets": {m.label: b.to_dict() for m, b in zip(members, budgets, strict=True)},
        },
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_summary(report)
    return 0 if winner else 1


def _print_summary(report: dict[str, Any]) -> None:
    name = report["theorem"]
    if report["proved"]:
        print(f"PROVED {name}{assumes_note(report['assumes'])} (found by {report['found_by']})\n")
        print(report["script"] + "\n")
    else:
        stale = [r for r in report["models"] if r["status"] == "stale"]
        refused = sum(r["refused"] for r in report["models"])
        why = (
            f": {stale[0]['reason']}"
            if stale
            else f": {refused} proof(s) refused, relying on axioms beyond the standard "
            "library (--refuse-assumptions)"
            if refused
            else ""
        )
        print(f"NOT PROVED {name}{why}\n")
    width = max([12, *(len(r["model"]) for r in report["models"])])  # labels such as A,B,C
    print(f"{'model':<{width}} {'status':<8} {'attempts':>8} {'tactics':>8} {'seconds':>8}  reason")
    for r in report["models"]:
        seconds = (r["seconds_start"] or 0) + (r["seconds_search"] or 0)
        print(
            f"{r['model']:<{width}} {r['status']:<8} {r['attempts']:>8} {r['tactic_calls']:>8} "
            f"{seconds:>8.1f}  {r['reason']}"
        )
    print(
        f"\nsearch log: {report['db']} (runs {', '.join(str(r['run_id']) for r in report['models'])})"
    )
    from prover.commands.view import command_for

    shown = next(
        (r for r in report["models"] if r["model"] == report["found_by"]), report["models"][-1]
    )
    print(f"browse its search tree: {command_for(report['db'], shown['run_id'])}")
