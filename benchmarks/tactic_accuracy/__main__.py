"""``python -m benchmarks.tactic_accuracy [--lm DIR] [--lm-retrieval DIR] [--models DIR]``."""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.loader import REPO_ROOT
from lean_env.errors import UserError

from .measure import copy_ceiling, dco_row, policy_row

OUT = REPO_ROOT / "benchmarks" / "results" / "tactic_accuracy" / "val.json"
CEILING = "ceiling"  # not a policy: what copying train tactics can reach (measure.copy_ceiling)
DCO_MODELS = {"ce": "ce", "n4": "n4", "n8": "n8", "n16": "n16", "n32": "n32"}


@dataclass
class Context:
    data: Any
    index: Any
    beam: int
    generators: dict[str, Any] = field(default_factory=dict)

    def place(self, step: Any) -> Any:
        return self.data.places.get(step.theorem_id)


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.tactic_accuracy")
    p.add_argument("--benchmark", default="coq-stdlib")
    p.add_argument("--lm", metavar="DIR", help="a model trained without retrieval")
    p.add_argument("--lm-retrieval", metavar="DIR", help="a model trained with retrieval")
    p.add_argument("--models", metavar="DIR", help="ce/, n4/, ... for the dco rows")
    p.add_argument("--policies", default="prior,lookup,knn,lm,lm+retrieval")
    p.add_argument("--limit", type=int, default=0, help="val steps (a seeded sample; 0: all)")
    p.add_argument("--train-limit", type=int, default=1000, help="train steps for the dco rows")
    p.add_argument("--beam", type=int, default=16, help="beam width of the LM policies")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=OUT)
    return p.parse_args(argv)


def sample(steps: list[Any], limit: int, seed: int) -> list[Any]:
    steps = list(steps)
    random.Random(seed).shuffle(steps)
    return steps[:limit] if limit > 0 else steps


def load_generators(args: argparse.Namespace) -> dict[str, Any]:
    from benchmarks.training_data import model_retriever
    from training.generator import ModelTacticGenerator

    out = {}
    for name, path in (("lm", args.lm), ("lm+retrieval", args.lm_retrieval)):
        if path:
            out[name] = ModelTacticGenerator.from_pretrained(path, retriever=model_retriever(path))
    return out


def main(argv: list[str] | None = None) -> int:
    from benchmarks.training_data import load_train_data
    from training.knn import load_or_build

    args = parse(argv)
    data = load_train_data(args.benchmark)
    result: dict[str, Any] = json.loads(args.out.read_text()) if args.out.is_file() else {}
    ctx = Context(data, load_or_build(data.train, data.places, data.index_path), args.beam)
    ctx.generators = load_generators(args)
    val = sample(data.val, args.limit, args.seed)
    result[CEILING] = copy_ceiling(data.train, val)
    for policy in [p for p in args.policies.split(",") if p]:
        if policy in ("lm", "lm+retrieval") and policy not in ctx.generators:
            continue
        t0 = time.perf_counter()
        result[policy] = policy_row(policy, ctx, val)
        print(
            f"{policy:<14} {json.dumps(result[policy])} ({time.perf_counter() - t0:.0f} s)",
            file=sys.stderr,
        )
    if args.models:
        train = sample(data.train, args.train_limit, args.seed)
        dco = result.setdefault("dco", {})
        for key, sub in DCO_MODELS.items():
            if (Path(args.models) / sub / "training_meta.json").is_file():
                dco[key] = dco_row(Path(args.models) / sub, train)
                print(f"dco {key}: {dco[key]}", file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
