"""``dco confidence``: the distribution of a model's max confidence.

    dco confidence --model models/n8 --benchmark coq-stdlib --split val
    dco confidence --model models/n8 --split val --unit proof --limit 100

Per state (``--unit step``, default): the probability of the model's greedy
tactic, with next-tactic accuracy against the human tactic. Per proof
(``--unit proof``): the probability of the greedy proof, i.e. of the greedy
tactics along a greedy rollout in the proof assistant (up to --max-depth
steps), with how the rollouts ended. This is the quantity the paper tracks
over training (its Figure 1); ``dco train`` also writes the per-state numbers
to its metrics.jsonl at each evaluation. --metrics FILE appends the result.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from functools import partial
from typing import Any

from benchmarks.loader import load_benchmark
from benchmarks.splits import SPLITS
from benchmarks.training_data import model_retriever
from lean_env.environment import open_environment
from lean_env.errors import EnvironmentError_, UserError
from training.confidence import evaluate_steps, greedy_proof, summarize
from training.dataset import as_place, tactic_steps
from training.generator import ModelTacticGenerator


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="a model directory written by dco train")
    parser.add_argument("--benchmark", default="coq-stdlib")
    parser.add_argument("--split", choices=SPLITS, default="val")
    parser.add_argument("--unit", choices=("step", "proof"), default="step")
    parser.add_argument("--limit", type=int, default=None, help="a seeded sample of this many")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-depth", type=int, default=50, help="proof mode: rollout depth cap")
    parser.add_argument("--tactic-timeout", type=float, default=5.0)
    parser.add_argument("--device", default=None, help="e.g. cuda; default cpu")
    parser.add_argument("--metrics", metavar="FILE", help="append the result as a JSON line")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def _sample(items: list[Any], limit: int | None, seed: int) -> list[Any]:
    if limit is None or limit >= len(items):
        return items
    return random.Random(seed).sample(items, limit)


def _proofs(
    gen: ModelTacticGenerator, theorems: list[Any], args: argparse.Namespace
) -> dict[str, Any]:
    outcomes: Counter[str] = Counter()
    confidences = []
    for bt in theorems:
        try:
            with open_environment(bt.theorem, tactic_timeout=args.tactic_timeout) as env:
                retrieve = (
                    partial(gen.retriever.for_state, place=as_place(bt.theorem))
                    if gen.retriever is not None
                    else None
                )
                g = greedy_proof(gen.model, gen.tokenizer, gen.fmt, env, args.max_depth, retrieve)
        except EnvironmentError_ as exc:
            outcomes["environment error"] += 1
            print(f"{bt.name}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
            continue
        outcomes[g.outcome] += 1
        confidences.append(g.confidence)
    return {
        "theorems": len(theorems),
        "outcomes": dict(outcomes),
        "max_confidence": summarize(confidences),
    }


def run(args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit < 1:
        raise UserError("--limit must be >= 1")
    if args.batch_size < 1 or args.max_depth < 1:
        raise UserError("--batch-size and --max-depth must be >= 1")
    benchmark = load_benchmark(args.benchmark)
    gen = ModelTacticGenerator.from_pretrained(
        args.model, device=args.device, retriever=model_retriever(args.model)
    )
    if args.unit == "step":
        # bullets and braces are not tactics a model proposes
        steps = _sample(tactic_steps(benchmark.steps(args.split)), args.limit, args.seed)
        if not steps:
            raise UserError(f"benchmark {benchmark.name!r} has no {args.split} steps")
        retrieved = gen.retriever.for_steps(steps) if gen.retriever is not None else None
        result = evaluate_steps(
            gen.model, gen.tokenizer, gen.fmt, steps, args.batch_size, retrieved=retrieved
        )
    else:
        theorems = _sample(benchmark.theorems(args.split), args.limit, args.seed)
        if not theorems:
            raise UserError(f"benchmark {benchmark.name!r} has no {args.split} theorems")
        result = _proofs(gen, theorems, args)
    result = {
        "model": args.model,
        "benchmark": benchmark.name,
        "split": args.split,
        "unit": args.unit,
        **result,
    }
    if args.metrics:
        with open(args.metrics, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(result) + "\n")
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(format_result(result))
    return 0


def format_result(r: dict[str, Any]) -> str:
    mc = r["max_confidence"]
    lines = [f"{r['model']} on {r['benchmark']} {r['split']} ({r['unit']}s: {mc.get('n', 0)})"]
    if "accuracy" in r:
        lines.append(f"next-tactic accuracy (greedy == human): {r['accuracy']:.3f}")
    if "outcomes" in r:
        lines.append(
            "greedy rollouts: " + ", ".join(f"{k} {v}" for k, v in sorted(r["outcomes"].items()))
        )
    if mc.get("n"):
        lines.append(
            f"max confidence: mean {mc['mean']:.3f}  p10 {mc['p10']:.3f}  p25 {mc['p25']:.3f}  "
            f"median {mc['median']:.3f}  p75 {mc['p75']:.3f}  p90 {mc['p90']:.3f}"
        )
        width = max(mc["histogram"]) or 1
        for i, count in enumerate(mc["histogram"]):
            bar = "#" * round(40 * count / width)
            lines.append(
                f"  [{i / 10:.1f}, {(i + 1) / 10:.1f}{']' if i == 9 else ')'} {count:6d} {bar}"
            )
    return "\n".join(lines)
