"""Every speed benchmark in one command; one JSON result per benchmark.

    python -m benchmarks.perf [--quick] [--only coq_env,search_speed,throughput,training_speed]
        [--benchmark coq-stdlib] [--split test] [--out benchmarks/results/perf]

Writes OUT/<benchmark>.json (measurements, command, configuration, machine
with the load average at start and end, dates) as each one finishes, then
prints the summary with the goals (factor overhead <= 2%, search-code share
< 5%). ``--quick`` is a smoke run (toy sizes, about a minute; its numbers
mean nothing) and writes to runs/perf-quick unless ``--out`` says otherwise,
so it never replaces the stored results.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.perf import record
from benchmarks.perf.summary import render_text
from lean_env.errors import UserError

RESULTS = Path(__file__).resolve().parents[1] / "results" / "perf"
QUICK_RESULTS = Path("runs") / "perf-quick"


@dataclass(frozen=True)
class CoqSettings:
    repeats: int = 200
    startups: int = 10


@dataclass(frozen=True)
class SearchSettings:
    theorems: int | None = None  # of the built-in mix; None: all 12
    budget: float = 10.0
    passes: tuple[int, ...] = (64, 512)
    tactic_timeout: float = 2.0


@dataclass(frozen=True)
class TrainingSettings:
    warm_steps: int = 150
    repeats: int = 21
    batch_proofs: int = 8
    states: int = 16
    k: int = 64
    one_by_one_states: int = 1
    tiny_model: bool = False  # a toy model (quick runs): numbers mean nothing


@dataclass(frozen=True)
class ThroughputSettings:
    sample: int = 16
    budget: float = 10.0
    expansions: int = 40
    rounds: int = 2


@dataclass(frozen=True)
class PerfConfig:
    benchmark: str = "coq-stdlib"
    split: str = "test"
    seed: int = 0
    quick: bool = False
    coq: CoqSettings = field(default_factory=CoqSettings)
    search: SearchSettings = field(default_factory=SearchSettings)
    training: TrainingSettings = field(default_factory=TrainingSettings)
    throughput: ThroughputSettings = field(default_factory=ThroughputSettings)

    @staticmethod
    def smoke(benchmark: str, split: str) -> PerfConfig:
        return PerfConfig(
            benchmark=benchmark,
            split=split,
            quick=True,
            coq=CoqSettings(repeats=20, startups=2),
            search=SearchSettings(theorems=3, budget=1.0, passes=(4,)),
            training=TrainingSettings(
                warm_steps=4, repeats=4, batch_proofs=2, states=2, k=4, tiny_model=True
            ),
            throughput=ThroughputSettings(sample=3, budget=3.0, expansions=4, rounds=1),
        )


def run_coq_env(config: PerfConfig) -> dict[str, Any]:
    from benchmarks.perf import coq_env

    return coq_env.measure(config.coq.repeats, config.coq.startups)


def run_search_speed(config: PerfConfig) -> dict[str, Any]:
    from benchmarks.perf import search_speed

    s = config.search
    with tempfile.TemporaryDirectory(prefix="dco-perf-search-") as tmp:
        theorems = search_speed.builtin_theorems(Path(tmp))[: s.theorems]
        return search_speed.measure(
            theorems, s.budget, list(s.passes), s.tactic_timeout, config.seed
        )


def run_training_speed(config: PerfConfig) -> dict[str, Any]:
    from benchmarks.perf import training_speed
    from training.data import PromptFormat
    from training.model import ModelConfig

    t = config.training
    model, prompt = (
        (
            ModelConfig(hidden=64, layers=2, heads=2, mlp=128, vocab_size=512),
            PromptFormat(max_prompt_tokens=96, max_tactic_tokens=8),
        )
        if t.tiny_model
        else (None, None)
    )
    return training_speed.measure(
        config.benchmark,
        warm_steps=t.warm_steps,
        repeats=t.repeats,
        batch_proofs=t.batch_proofs,
        states=t.states,
        k=t.k,
        one_by_one_states=t.one_by_one_states,
        model=model,
        prompt=prompt,
    )


def run_throughput(config: PerfConfig) -> dict[str, Any]:
    from benchmarks.perf import throughput
    from search.budget import Budget

    t = config.throughput
    jobs = throughput.sample_jobs(config.benchmark, config.split, t.sample, config.seed)
    if not jobs:
        raise UserError(f"{config.benchmark} has no {config.split} theorems")
    budget = Budget(wall_clock=t.budget, max_expansions=t.expansions, tactic_timeout=2.0)
    return throughput.measure(jobs, budget, t.rounds, config.seed)


# Throughput before training speed: its 1-worker runs search in this process,
# which should be as light as `dco evaluate --workers 1` is (no model, no torch
# threads). Run after training speed, the in-process searches took 40-50 s in
# all against 31 s for the same work in 2 fresh workers: a 2.28x "speed-up"
# on 2 cores.
BENCHMARKS: dict[str, Callable[[PerfConfig], dict[str, Any]]] = {
    "coq_env": run_coq_env,
    "search_speed": run_search_speed,
    "throughput": run_throughput,
    "training_speed": run_training_speed,
}


def run_suite(
    config: PerfConfig, names: list[str], out: Path, command: list[str]
) -> dict[str, dict[str, Any]]:
    payloads = {}
    for name in names:
        print(f"[perf] {name} ...", file=sys.stderr, flush=True)
        recorder = record.Recorder(name, command, asdict(config))
        t0 = time.perf_counter()
        results = BENCHMARKS[name](config)
        payloads[name] = recorder.finish(results, time.perf_counter() - t0)
        path = record.write(out, payloads[name])
        print(
            f"[perf] {name}: {payloads[name]['seconds']:.0f} s -> {path}",
            file=sys.stderr,
            flush=True,
        )
    return payloads


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.perf", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: toy sizes, ~1 minute")
    parser.add_argument("--only", help=f"comma-separated subset of {', '.join(BENCHMARKS)}")
    parser.add_argument(
        "--benchmark", default="coq-stdlib", help="benchmark for training speed and throughput"
    )
    parser.add_argument("--split", default="test", help="split sampled for throughput")
    parser.add_argument(
        "--out", help=f"result directory (default {RESULTS}; --quick: {QUICK_RESULTS})"
    )
    args = parser.parse_args(argv)
    try:
        names = list(BENCHMARKS) if not args.only else [n.strip() for n in args.only.split(",")]
        unknown = [n for n in names if n not in BENCHMARKS]
        if unknown:
            raise UserError(f"unknown benchmark {unknown[0]!r}; available: {', '.join(BENCHMARKS)}")
        config = (
            PerfConfig.smoke(args.benchmark, args.split)
            if args.quick
            else PerfConfig(benchmark=args.benchmark, split=args.split)
        )
        out = Path(args.out) if args.out else (QUICK_RESULTS if args.quick else RESULTS)
        if out.exists() and not out.is_dir():
            raise UserError(f"--out {out} exists and is not a directory")
        command = ["python", "-m", "benchmarks.perf", *(sys.argv[1:] if argv is None else argv)]
        payloads = run_suite(config, names, out, command)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    load = [p["machine"]["load_average_start"] for p in payloads.values()]
    machine = next(iter(payloads.values()))["machine"]
    print(
        f"\nspeed benchmarks on {machine['cpus']} x {machine['cpu_model']}; "
        f"load average (1/5/15 min) at each start: {load}"
    )
    print(render_text(payloads))
    return 0
