"""Model samples per second of pass@N rollouts: independent prompt passes
(before) versus prompt passes shared by the rollouts that stand at the same
state (after), on the same model, in one run.

    python -m benchmarks.perf.sampling_speed [--model DIR | --benchmark coq-stdlib
        --train-steps 150] [--passes 64,512] [--theorems 4] [--repeats 2]

Rollouts run in the real coqtop over the built-in theorem mix of
``benchmarks.perf.search_speed`` (the memo table on, as in ``dco evaluate``).
Each configuration counts the tactics drawn from the model (one per rollout
step) and the seconds spent in the generator; samples per second is their
ratio. Configurations:

- ``before``: the former sampler (``torch.multinomial`` per token), every
  rollout's draw runs its own prompt pass, rollouts in lockstep batches of
  32 (``dco evaluate``'s default batch): what rollouts did before;
- ``before-wide``: the same with all N rollouts in one lockstep batch;
- ``after``: inverse-CDF sampling, draws at the same state share one prompt
  pass, all N rollouts in one batch (grouped by state in the generator);
- ``after-32``: the same in batches of 32.

The configurations alternate within each repeat so that drift in the load of
a shared machine hits them alike; per configuration, the median over repeats.
Without ``--model``, a model of the default size is trained for
``--train-steps`` CE steps on ``--benchmark`` first (so that it ends its
tactics with EOS, as a trained model does).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.perf import record
from benchmarks.perf.search_speed import builtin_theorems
from lean_env.types import Theorem
from search.budget import Budget
from search.config import SearchConfig, Strategy
from search.generator import Candidate
from search.runner import FileSessions, theorem_seed
from search.tree_search import TreeSearch

RESULTS = Path(__file__).resolve().parents[1] / "results" / "perf"
# (name, share prompt passes and the new sampler, batch size; None: all N
# rollouts at once)
CONFIGS: tuple[tuple[str, bool, int | None], ...] = (
    ("before", False, 32),
    ("before-wide", False, None),
    ("after", True, None),
    ("after-32", True, 32),
)


def multinomial_rows(probs: Any, generator: Any) -> Any:
    """The former per-token sampler, for the ``before`` configurations."""
    import torch

    return torch.multinomial(probs, 1, generator=generator)[:, 0]


class Counting:
    """A generator wrapper that counts the draws asked of it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.draws = 0

    def reseed(self, seed: int) -> None:
        self.inner.reseed(seed)

    def generate(self, states: Sequence[str], k: int, **kw: Any) -> list[list[Candidate]]:
        self.draws += len(states) * k
        return self.inner.generate(states, k, **kw)


def rollouts_once(
    gen: Any, theorems: list[Theorem], passes: int, batch: int, seed: int
) -> dict[str, float]:
    counting = Counting(gen)
    gen.prompt_passes = 0
    searcher = TreeSearch(SearchConfig(strategy=Strategy.ROLLOUTS, batch_size=batch))
    budget = Budget(wall_clock=3600, max_passes=passes, max_depth=8, tactic_timeout=2.0)
    environments = FileSessions()
    generator_s = wall = steps = 0.0
    try:
        for theorem in theorems:
            counting.reseed(theorem_seed(seed, theorem))
            t0 = time.perf_counter()
            result = searcher.search(theorem, environments, counting, budget)
            wall += time.perf_counter() - t0
            generator_s += result.stats.seconds_generator
            steps += sum(a.steps for a in result.attempts)
    finally:
        environments.close()
    return {
        "draws": counting.draws,
        "prompt_passes": gen.prompt_passes,
        "generator_s": generator_s,
        "wall_s": wall,
        "steps": steps,
        "samples_per_s": counting.draws / max(generator_s, 1e-9),
    }


def measure(
    model: str, theorems: list[Theorem], passes: list[int], repeats: int, seed: int
) -> dict[str, Any]:
    import torch

    from training import sampling
    from training.generator import ModelTacticGenerator

    new_sampler = sampling.draw_rows
    torch.set_num_threads(1)  # one search process per core, as `dco evaluate` runs them
    gen = ModelTacticGenerator.from_pretrained(model, seed=seed)
    out: dict[str, Any] = {"theorems": len(theorems), "model": model, "passes": {}}
    for n in passes:
        runs: dict[str, list[dict[str, float]]] = {name: [] for name, _, _ in CONFIGS}
        for rep in range(repeats):
            for name, share, batch in CONFIGS if rep % 2 == 0 else reversed(CONFIGS):
                gen.share_prefix = share
                sampling.draw_rows = new_sampler if share else multinomial_rows
                try:
                    runs[name].append(rollouts_once(gen, theorems, n, batch or n, seed + rep))
                finally:
                    sampling.draw_rows = new_sampler
                r = runs[name][-1]
                print(
                    f"[sampling_speed] pass@{n} {name}: {r['samples_per_s']:.0f} samples/s "
                    f"({r['draws']:.0f} draws, {r['prompt_passes']:.0f} prompt passes, "
                    f"generator {r['generator_s']:.1f} s)",
                    file=sys.stderr,
                    flush=True,
                )
        per: dict[str, Any] = {}
        for name, share, batch in CONFIGS:
            per[name] = {
                "share_prefix": share,
                "batch_size": batch or n,
                "runs": runs[name],
                "samples_per_s": statistics.median(r["samples_per_s"] for r in runs[name]),
            }
        before = per["before"]["samples_per_s"]
        per["ratio_after_to_before"] = per["after"]["samples_per_s"] / before
        per["ratio_after_to_before_wide"] = (
            per["after"]["samples_per_s"] / per["before-wide"]["samples_per_s"]
        )
        out["passes"][str(n)] = per
    return out


def report(r: dict[str, Any]) -> str:
    lines = [f"pass@N rollouts of {r['model']} on {r['theorems']} theorems (real coqtop):"]
    for n, per in r["passes"].items():
        cells = ", ".join(
            f"{name} {per[name]['samples_per_s']:.0f}/s (batch {per[name]['batch_size']})"
            for name, _, _ in CONFIGS
        )
        lines.append(
            f"  pass@{n}: {cells}; after/before {per['ratio_after_to_before']:.1f}x, "
            f"after/before-wide {per['ratio_after_to_before_wide']:.1f}x"
        )
    return "\n".join(lines)


def train_default_model(benchmark: str, steps: int, out: str) -> str:
    """A model of the default size after a short CE run (small batches at a
    high learning rate: enough to end its tactics with EOS, in minutes)."""
    import torch

    from benchmarks.loader import load_benchmark
    from training.dataset import TrainData
    from training.trainer import TrainConfig, Trainer

    torch.set_num_threads(1)
    data = TrainData.from_benchmark(load_benchmark(benchmark))
    Trainer(
        TrainConfig(
            benchmark=benchmark,
            out=out,
            max_steps=steps,
            warmup_steps=min(10, steps),
            batch_size=8,
            lr=3e-3,
            progress=False,
            eval_limit=0,
            checkpoint_every=10**9,
        ),
        data,
    ).train()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="model directory (default: train one first)")
    parser.add_argument("--benchmark", default="coq-stdlib", help="to train the model on")
    parser.add_argument("--train-steps", type=int, default=60)
    parser.add_argument("--keep-model", help="save the trained model here (to reuse with --model)")
    parser.add_argument("--passes", default="64,512")
    parser.add_argument("--theorems", type=int, default=4, help="of the built-in mix")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(RESULTS), help="result directory")
    args = parser.parse_args(argv)
    passes = sorted(int(x) for x in args.passes.split(","))
    command = [
        "python",
        "-m",
        "benchmarks.perf.sampling_speed",
        *(sys.argv[1:] if argv is None else argv),
    ]
    recorder = record.Recorder("sampling_speed", command, vars(args))
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dco-sampling-speed-") as tmp:
        model = args.model or train_default_model(
            args.benchmark, args.train_steps, args.keep_model or f"{tmp}/model"
        )
        theorems = builtin_theorems(Path(tmp))[: args.theorems]
        results = measure(model, theorems, passes, args.repeats, args.seed)
    payload = recorder.finish(results, time.perf_counter() - t0)
    path = record.write(Path(args.out), payload)
    print(report(results))
    print(
        f"load average at start {payload['machine']['load_average_start']}, "
        f"end {payload['machine']['load_average_end']}; written to {path}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
