"""The direct-answer study: does CE fine-tuning trade pass@N for pass@1, and
does DCO keep coverage (Chen et al., NeurIPS 2025, Table 1, Figures 1 and 2a,
Table 3), re-measured on a synthetic task on a CPU.

    python -m benchmarks.direct_answer.study [--quick] [--seed S] [--threads T] [--jobs 1|2] --out DIR

1. Pre-train a tiny LM with CE on a fresh stream of problems: the base model
   (epoch 0). 2. Fine-tune copies of it on a fixed training set for several
   epochs with CE and with DCO for each N; after every epoch measure exact
   pass@k on the test set (k = 1, 2, 4, ..., 4096) and the greedy answer's
   confidence, split right/wrong. 3. Cross-check the exact pass@k against the
   unbiased estimator on real samples. 4. The same with a chain of thought:
   a CoT base model fine-tuned with CE and with DCOa (p̂ by Monte Carlo with
   the verifier), pass@k from samples. Writes DIR/results.json.
"""

from __future__ import annotations

import argparse
import copy
import json
import multiprocessing as mp
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import transformers

from benchmarks.direct_answer.evaluate import (
    evaluate_direct,
    evaluate_sampled,
    exact_pass_at_k,
    ks_up_to,
)
from benchmarks.direct_answer.model import (
    STUDY_MODEL,
    VOCAB_SIZE,
    build,
    completion_logprobs,
    units,
)
from benchmarks.direct_answer.tables import build_tables
from benchmarks.direct_answer.task import Task, TaskConfig
from benchmarks.direct_answer.train import (
    FinetuneConfig,
    PretrainConfig,
    finetune,
    label,
    pretrain,
)
from lean_env.errors import UserError
from training.losses import LossConfig
from training.model import ModelConfig

TASK_DESIGN = (
    "a*b= with 1-3 digit operands, answer = the decimal product (exact string match). "
    "A 2-layer LM writing the product left to right learns its length, leading and last "
    "digits but not the carried middle digits, so a test answer has ~100 (2x2 digits) to ~10^4 (3x3) "
    "plausible values. The base model is pre-trained on a fresh stream (no "
    "repeats); fine-tuning repeats a fixed training set every epoch, which can be memorised "
    "while the test set cannot. Test problems are unseen and harder (both operands >= 2 "
    "digits) than the training mix (all sizes, 1x1 to 3x3)."
)
PASS_AT_K_METHOD = {
    "direct": "exact: p = model probability of the golden answer (+EOS) by teacher forcing; "
    "pass@k = mean over test problems of 1-(1-p)^k (k i.i.d. samples at temperature 1); "
    "cross-checked against the unbiased estimator on sampled answers (sampled_check)",
    "cot": "unbiased estimator 1-C(n-c,k)/C(n,k) (benchmarks.passk.pass_at_k) from n sampled "
    "completions per test problem at temperature 1, final answer verified",
}


@dataclass(frozen=True)
class StudyConfig:
    seed: int = 0
    threads: int = 1
    task: TaskConfig = field(default_factory=TaskConfig)
    model: ModelConfig = STUDY_MODEL
    pretrain: PretrainConfig = field(default_factory=PretrainConfig)
    finetune: FinetuneConfig = field(default_factory=FinetuneConfig)
    dco_ns: tuple[int, ...] = (4, 16, 64, 256)
    max_k: int = 4096
    train_eval: int = 400  # training problems evaluated per epoch (memorisation)
    check_problems: int = 32  # sampled cross-check of the exact pass@k
    check_samples: int = 4096
    # Chain of thought
    cot_task: TaskConfig = field(default_factory=lambda: TaskConfig(n_train=1000, n_test=100))
    cot_pretrain: PretrainConfig = field(default_factory=PretrainConfig)
    # 4 epochs: with the DCOa sampling every epoch costs ~1 min.
    cot_finetune: FinetuneConfig = field(default_factory=lambda: FinetuneConfig(epochs=4))
    # DCOa: p̂ from 16 samples, N = 16 (p̂ resolves probabilities down to 1/16,
    # about 1/N), the paper's epsilon 0.01 (training.losses' default for dcoa).
    dcoa: LossConfig = field(default_factory=lambda: LossConfig("dcoa", n=16, samples=16))
    cot_eval_samples: int = 256

    @staticmethod
    def quick(seed: int = 0, threads: int = 1) -> StudyConfig:
        """A smoke run (< 1 minute): same code paths, toy sizes."""
        return StudyConfig(
            seed=seed,
            threads=threads,
            task=TaskConfig(seed=seed, n_train=64, n_test=24),
            model=ModelConfig(hidden=32, layers=1, heads=2, mlp=64, attention="eager"),
            pretrain=PretrainConfig(steps=30, batch=32, warmup=5),
            finetune=FinetuneConfig(epochs=2, batch=32),
            max_k=64,
            train_eval=16,
            check_problems=4,
            check_samples=64,
            cot_task=TaskConfig(seed=seed, n_train=32, n_test=6),
            cot_pretrain=PretrainConfig(steps=20, batch=32, warmup=5),
            cot_finetune=FinetuneConfig(epochs=2, batch=16),
            dcoa=LossConfig("dcoa", n=4, samples=4),
            cot_eval_samples=16,
        )


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _direct(config: StudyConfig, timings: dict) -> dict:
    task = Task(config.task)
    ks = ks_up_to(config.max_k)
    train_units = units(task.train, cot=False)
    train_probe = task.train[: config.train_eval]
    model = build(config.model, config.seed)
    t0 = time.perf_counter()
    pre = pretrain(model, task.stream(config.seed), config.pretrain, cot=False)
    timings["direct_pretrain"] = time.perf_counter() - t0
    _log(f"[direct] pretrain: {timings['direct_pretrain']:.0f}s")

    def measure(m: torch.nn.Module) -> dict:
        return {
            "test": evaluate_direct(m, task.test, ks),
            "train": evaluate_direct(m, train_probe, ks),
        }

    base = {"pretrain": pre, **measure(model)}
    losses = [LossConfig("ce")] + [LossConfig("dco", n=n) for n in config.dco_ns]
    runs, finals = {}, {}
    for loss in losses:
        name = label(loss)
        t0 = time.perf_counter()
        tuned = copy.deepcopy(model)
        history = finetune(
            tuned, train_units, loss, config.finetune, cot=False, seed=config.seed,
            on_epoch=lambda _epoch, m=tuned: measure(m),
        )  # fmt: skip
        runs[name] = {"loss": loss.to_dict(), "epochs": history}
        finals[name] = tuned
        timings[f"direct_{name}"] = time.perf_counter() - t0
        last = history[-1]["test"]["pass_at_k"]
        _log(f"[direct] {name}: {timings[f'direct_{name}']:.0f}s pass@1 {last['1']:.3f} "
             f"pass@{config.max_k} {last[str(config.max_k)]:.3f}")  # fmt: skip

    t0 = time.perf_counter()
    check = {}
    probe = task.test[: config.check_problems]
    for name in ("CE", label(losses[-1])):
        m = finals[name]
        sampled = evaluate_sampled(m, probe, config.check_samples, cot=False, seed=config.seed)
        exact = exact_pass_at_k(completion_logprobs(m, probe, cot=False), ks_up_to(config.check_samples))
        check[name] = {
            "problems": len(probe),
            "samples_per_problem": config.check_samples,
            "unbiased_estimator": sampled["pass_at_k"],
            "exact": exact,
            "max_abs_difference": max(abs(sampled["pass_at_k"][k] - exact[k]) for k in exact),
        }
    timings["direct_sampled_check"] = time.perf_counter() - t0
    return {"base": base, "runs": runs, "sampled_check": check}


def _cot(config: StudyConfig, timings: dict) -> dict:
    task = Task(config.cot_task)
    train_units = units(task.train, cot=True)
    model = build(config.model, config.seed + 1)
    t0 = time.perf_counter()
    pre = pretrain(model, task.stream(config.seed), config.cot_pretrain, cot=True)
    timings["cot_pretrain"] = time.perf_counter() - t0
    _log(f"[cot] pretrain: {timings['cot_pretrain']:.0f}s")

    def measure(m: torch.nn.Module) -> dict:
        out = evaluate_sampled(m, task.test, config.cot_eval_samples, cot=True, seed=config.seed)
        out["mean_log_p_golden_trace"] = float(completion_logprobs(m, task.test, cot=True).mean())
        return out

    t0 = time.perf_counter()
    base = {"pretrain": pre, "test": measure(model)}
    timings["cot_base_eval"] = time.perf_counter() - t0
    _log(f"[cot] base eval: {timings['cot_base_eval']:.0f}s")
    runs = {}
    last = config.cot_finetune.epochs
    for loss in (LossConfig("ce"), config.dcoa):
        name = label(loss)
        t0 = time.perf_counter()
        tuned = copy.deepcopy(model)
        history = finetune(
            tuned, train_units, loss, config.cot_finetune, cot=True, seed=config.seed,
            # Sampled evaluation is the expensive part: only after the last epoch.
            on_epoch=lambda epoch, m=tuned: {"test": measure(m)} if epoch == last else {},
        )  # fmt: skip
        runs[name] = {"loss": loss.to_dict(), "epochs": history}
        timings[f"cot_{name}"] = time.perf_counter() - t0
        _log(f"[cot] {name}: {timings[f'cot_{name}']:.0f}s")
    return {"base": base, "runs": runs}


def _part(name: str, config: StudyConfig) -> tuple[dict, dict[str, float]]:
    """One independent half of the study (a process of its own with --jobs 2)."""
    torch.set_num_threads(config.threads)
    timings: dict[str, float] = {}
    t0, c0 = time.perf_counter(), time.process_time()
    result = (_direct if name == "direct" else _cot)(config, timings)
    timings[f"{name}_total"] = time.perf_counter() - t0
    # CPU seconds of this process: the cost without other jobs' contention.
    timings[f"{name}_cpu_seconds"] = time.process_time() - c0
    return result, timings


def run_study(config: StudyConfig, command: list[str], jobs: int = 1) -> dict:
    """Run both halves, in parallel processes when ``jobs`` is 2 (they share
    nothing; one torch thread each beats two threads per process on a busy
    2-core machine)."""
    t0 = time.perf_counter()
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=2, mp_context=mp.get_context("spawn")) as pool:
            futures = [pool.submit(_part, name, config) for name in ("direct", "cot")]
            (direct, t_direct), (cot, t_cot) = (f.result() for f in futures)
    else:
        (direct, t_direct), (cot, t_cot) = _part("direct", config), _part("cot", config)
    timings = t_direct | t_cot | {"total": time.perf_counter() - t0}
    results = {
        "study": "direct_answer",
        "paper": "Chen et al., Rethinking Fine-Tuning when Scaling Test-Time Compute (NeurIPS 2025)",
        "command": command,
        "seed": config.seed,
        "config": asdict(config),
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "numpy": np.__version__,
        },
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "torch_threads_per_process": config.threads,
            "processes": jobs,
        },
        "model_vocab_size": VOCAB_SIZE,  # characters + PAD/BOS/EOS (config.model.vocab_size is unused)
        "task_design": TASK_DESIGN,
        "pass_at_k_method": PASS_AT_K_METHOD,
        "wall_seconds": {k: round(v, 1) for k, v in timings.items() if not k.endswith("_cpu_seconds")},
        "cpu_seconds": {k.removesuffix("_cpu_seconds"): round(v, 1) for k, v in timings.items() if k.endswith("_cpu_seconds")},
        "direct": direct,
        "cot": cot,
    }
    results["tables"] = build_tables(results)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.direct_answer.study", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="directory for results.json")
    parser.add_argument("--quick", action="store_true", help="toy sizes, < 1 minute (a smoke test)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads per process")
    parser.add_argument(
        "--jobs", type=int, choices=(1, 2), default=2,
        help="processes: 2 runs the direct and the chain-of-thought halves in parallel",
    )
    args = parser.parse_args(argv)
    try:
        if args.threads < 1:
            raise UserError(f"--threads must be >= 1, got {args.threads}")
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise UserError(f"--out {out} exists and is not a directory")
        out.mkdir(parents=True, exist_ok=True)
        base = StudyConfig.quick(args.seed, args.threads) if args.quick else StudyConfig(seed=args.seed, threads=args.threads)
        config = replace(base, task=replace(base.task, seed=args.seed), cot_task=replace(base.cot_task, seed=args.seed))
        command = ["python", "-m", "benchmarks.direct_answer.study", *(argv if argv is not None else sys.argv[1:])]
        results = run_study(config, command, jobs=args.jobs)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    path = out / "results.json"
    path.write_text(json.dumps(results) + "\n", encoding="utf-8")  # one line: small
    print(json.dumps(results["tables"]["summary"], indent=1))
    print(f"wrote {path} ({results['wall_seconds']['total']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
