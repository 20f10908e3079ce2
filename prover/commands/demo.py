"""``dco demo``: the README's main job on the embedded default (Coq).

From a fresh setup it does the whole pipeline, reusing whatever a previous
run left (each step is cached and skipped next time):

1. traces the default coq-stdlib selection unless it is already traced
   (``data/benchmarks/coq-stdlib``; the same as ``dco trace --library coq-stdlib``);
2. trains one small tactic model per N' of ``--ensemble`` that ``--models``
   does not hold yet (CE for N'=1, DCOstep for the others), with a short demo
   recipe (``--train-steps`` optimizer steps; ``dco train`` makes full ones);
3. runs ``prove --ensemble`` (every model, pass@N rollouts) and, best-first on
   the same wall clock, the symbolic baseline with the arithmetic deciders
   (``symbolic-arith``), the k-NN policy (``knn``) and the hybrid over the CE
   model (``hybrid``) on ``--theorems`` held-out test theorems, and prints
   which prover proved which theorem.

``--quick`` instead proves the bundled example file step by step with its
own tactics and re-checks each proof (seconds; no training).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from lean_env.errors import UserError

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "Basics.v"
BENCHMARK = "coq-stdlib"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--quick", action="store_true", help="only replay and re-check the bundled example file"
    )
    parser.add_argument("--file", default=str(EXAMPLE), help="--quick: Coq file (default: bundled)")
    parser.add_argument(
        "--ensemble",
        default="1,4,8,16,32",
        metavar="N1,N2,...",
        help="N' values of the ensemble (default 1,4,8,16,32)",
    )
    parser.add_argument(
        "--models",
        default="models/demo",
        help="models directory; missing N' models are trained into it "
        "(default models/demo; give models to use full `dco train` models)",
    )
    parser.add_argument(
        "--train-steps",
        type=int,
        default=150,
        help="optimizer steps of each demo model trained here (default 150)",
    )
    parser.add_argument(
        "--theorems", type=int, default=5, help="held-out test theorems (default 5)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the theorem sample and sampling"
    )
    parser.add_argument("--passes", type=int, default=8, help="rollouts per model (default 8)")
    parser.add_argument(
        "--budget",
        type=float,
        default=20.0,
        help="wall clock per model and theorem, seconds (default 20)",
    )
    parser.add_argument("--tactic-timeout", type=float, default=5.0)
    parser.add_argument(
        "--db", default="runs/demo.sqlite", help="search log (default runs/demo.sqlite)"
    )


def run(args: argparse.Namespace) -> int:
    if args.quick:
        return replay_file(args.file, args.tactic_timeout)
    for flag in ("train_steps", "theorems", "passes"):
        if getattr(args, flag) < 1:
            raise UserError(f"--{flag.replace('_', '-')} must be >= 1")
    if not args.budget > 0:
        raise UserError("--budget must be positive")
    t0 = time.perf_counter()
    ensure_benchmark()
    members = ensure_models(args)
    table = prove_sample(args, members)
    print_table(table, [m.label for m in members])
    print(f"\ndemo finished in {time.perf_counter() - t0:.0f} s; search log {args.db}")
    return 0


def _step(message: str) -> None:
    print(f"[demo] {message}", flush=True)


def ensure_benchmark() -> None:
    from benchmarks.build import TraceConfig, format_report, trace_library
    from benchmarks.loader import default_benchmark_dir
    from benchmarks.stdlib import stdlib_library

    out = Path(default_benchmark_dir(BENCHMARK))
    if (out / "meta.json").is_file():
        _step(f"benchmark {BENCHMARK}: already traced in {out}")
        return
    library = stdlib_library([], [])
    _step(f"tracing {len(library.files)} files of {BENCHMARK} into {out} (once; several minutes)")
    meta = trace_library(library, out, TraceConfig(progress=sys.stderr.isatty()))
    print(format_report(meta), flush=True)


def ensure_models(args: argparse.Namespace) -> list[Any]:
    """One model per N' under --models, training the missing ones."""
    from benchmarks.training_data import load_train_data
    from prover import ensemble as ens
    from training.losses import LossConfig
    from training.trainer import TrainConfig, train

    n_primes = ens.parse_n_primes(args.ensemble)
    models = Path(args.models)
    models.mkdir(parents=True, exist_ok=True)
    found = ens.find_models(models, n_primes)
    for n_prime in (n for n in n_primes if n not in found):
        out = models / ens.model_dir_name(n_prime)
        loss = LossConfig(name="ce") if n_prime == 1 else LossConfig(name="dcostep", n=n_prime)
        _step(f"training {ens.label(n_prime)} ({loss.name}, {args.train_steps} steps) into {out}")
        # An interrupted demo left checkpoints: continue that run.
        resume = (out / "checkpoints").is_dir()
        train(
            TrainConfig(
                benchmark=BENCHMARK,
                out=str(out),
                loss=loss,
                max_steps=args.train_steps,
                warmup_steps=min(50, args.train_steps),
                checkpoint_every=50,
                seed=args.seed,
                resume=resume,
                progress=sys.stderr.isatty(),
            ),
            load_train_data(BENCHMARK),
        )
    if found:
        _step(f"reusing models in {models}: {', '.join(ens.label(n) for n in sorted(found))}")
    return ens.ensemble_members(n_primes, models, BENCHMARK)


def prove_sample(args: argparse.Namespace, members: list[Any]) -> list[dict[str, Any]]:
    """``prove --ensemble --all-models`` and the best-first provers of
    :func:`best_first_members` on a seeded sample of test theorems: one row
    per theorem."""
    from prover.commands.prove import prove_job
    from prover.evaluation import Execution
    from prover.options import select_jobs
    from search.budget import Budget
    from search.config import SearchConfig, Strategy
    from search.db import SearchDB

    selection = argparse.Namespace(
        benchmark=BENCHMARK,
        split="test",
        theorem=[],
        sample=args.theorems,
        seed=args.seed,
        limit=None,
    )
    jobs = select_jobs(selection)
    rollouts = SearchConfig(strategy=Strategy.ROLLOUTS, batch_size=32, stop_on_proof=True)
    budget = Budget(
        wall_clock=args.budget, max_passes=args.passes, tactic_timeout=args.tactic_timeout
    )
    best_first = SearchConfig(strategy=Strategy.BEST_FIRST)
    searchers = best_first_members(members)
    execution = Execution(progress=False, seed=args.seed)
    Path(args.db).parent.mkdir(parents=True, exist_ok=True)
    rows = []
    with SearchDB(args.db) as db:
        for i, job in enumerate(jobs, 1):
            name = job.theorem.name
            _step(f"[{i}/{len(jobs)}] prove --theorem {name} --ensemble {args.ensemble}")
            selection_key = {
                "theorem": name,
                "file": job.theorem.file,
                "statement": job.theorem.statement,
                "seed": args.seed,
            }
            found = prove_job(
                db,
                job,
                members,
                [budget] * len(members),
                rollouts,
                execution,
                selection_key,
                all_models=True,
                log=lambda _: None,
            )
            base = prove_job(
                db,
                job,
                searchers,
                [replace(budget, max_passes=None)] * len(searchers),
                best_first,
                execution,
                selection_key,
                all_models=True,
                log=lambda _: None,
            )
            rows.append(
                {
                    "theorem": name,
                    "models": {r["model"]: r for r in found},
                    "best_first": {r["model"]: r for r in base},
                }
            )
    return rows


def best_first_members(members: list[Any]) -> list[Any]:
    """The provers that search best-first: the symbolic baseline (its scores
    are uniform, so sampling it would be a random walk), the k-NN policy and
    the hybrid over the ensemble's CE model (its first model when N'=1 is not
    in the ensemble)."""
    from prover import ensemble as ens

    lm = next((m for m in members if m.n_prime == 1), members[0])
    return [
        ens.Member("symbolic-arith", "symbolic-arith"),
        ens.Member("knn", "knn"),
        # No model of its own: a member's model makes its run identity
        # "model:DIR"; the hybrid's run is fingerprinted through its spec.
        ens.Member("hybrid", f"hybrid:{lm.model}"),
    ]


def _cell(row: dict[str, Any]) -> str:
    return "proved" if row["status"] == "proved" else "-"


def print_table(rows: list[dict[str, Any]], labels: list[str]) -> None:
    searchers = list(rows[0]["best_first"]) if rows else []
    headers = ["theorem", *searchers, *labels, "ensemble"]
    body = []
    for row in rows:
        models = [_cell(row["models"][label]) for label in labels]
        body.append(
            [
                row["theorem"],
                *(_cell(row["best_first"][label]) for label in searchers),
                *models,
                "proved" if "proved" in models else "-",
            ]
        )
    totals = ["proved"]
    totals += [str(sum(r[i] == "proved" for r in body)) for i in range(1, len(headers))]
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *body, totals, strict=True)]
    line = lambda cells: "  ".join(f"{c:<{w}}" for c, w in zip(cells, widths, strict=True))  # noqa: E731
    print()
    print(line(headers))
    print(line(["-" * w for w in widths]))
    for cells in body:
        print(line(cells))
    print(line(totals))
    # Show the longest proof a learned prover found: a multi-step proof is
    # what the learning buys over one automation call.
    learned = [
        (r["theorem"], m)
        for r in rows
        for m in (*r["models"].values(), *r["best_first"].values())
        if m["proof"] and m["model"] != "symbolic-arith"
    ]
    if learned:
        name, best = max(learned, key=lambda x: len(x[1]["proof"]))
        print(
            f"\nfor example {name} ({best['model']}): {' '.join(t.rstrip('.') + '.' for t in best['proof'])}"
        )


def replay_file(path: str, tactic_timeout: float) -> int:
    """Prove each theorem of a Coq file with its own tactics, step by step in
    the Environment, printing the states, then re-check it."""
    from lean_env.coq.environment import CoqEnvironment
    from lean_env.coq.source import parse_declarations
    from lean_env.types import ProofFinished, ProofState

    declarations = [d for d in parse_declarations(path) if d.ending == "Qed"]
    failures = 0
    rows = []
    for declaration in declarations:
        t0 = time.perf_counter()
        with CoqEnvironment(declaration.theorem, tactic_timeout=tactic_timeout) as env:
            state = env.initial_state
            print(f"== {declaration.theorem.name}\n{state.goals}")
            finished = False
            for tactic in declaration.tactics:
                result = env.run_tactic(state, tactic)
                print(f"  > {tactic}")
                if isinstance(result, ProofFinished):
                    finished = True
                    break
                if not isinstance(result, ProofState):
                    print(f"  ! {result}")
                    break
                state = result
            verification = env.verify(declaration.tactics) if finished else None
        ok = verification is not None and verification.ok
        failures += not ok
        verdict = (
            "VERIFIED"
            if ok
            else f"REJECTED: {verification.reason if verification else 'not finished'}"
        )
        rows.append(
            (declaration.theorem.name, len(declaration.tactics), verdict, time.perf_counter() - t0)
        )
        print(f"  {verdict}\n")
    width = max(len(r[0]) for r in rows) if rows else 10
    print(f"{'theorem':<{width}}  steps  seconds  result")
    for name, steps, verdict, seconds in rows:
        print(f"{name:<{width}}  {steps:>5}  {seconds:>7.2f}  {verdict}")
    return 1 if failures else 0
