"""The direct-answer study: does CE fine-tuning trade pass@N for pass@1, and
does DCO keep coverage (Chen et al., NeurIPS 2025, Table 1, Figures 1 and 2a,
Table 3), re-measured on a synthetic task on a CPU.

    python -m benchmarks.direct_answer.study --seed S [--quick] [--threads T] [--out DIR]

1. Train a small digit-writing model from scratch (epoch 0 = the untrained
   model) on a fixed training set for many epochs with CE and with DCO for each
   N'; after every epoch measure exact pass@k on the test set (k = 1, 2, 4, ...,
   4096), the greedy answer's confidence split right/wrong, and the greedy
   accuracy on the training set. 2. Cross-check the exact pass@k against the
   unbiased estimator on real samples. 3. The same with a chain of thought: CE
   and DCOa (p̂ by Monte Carlo with the verifier), pass@k from samples.

Writes DIR/seedS/results.json and rebuilds DIR/summary.json from every
DIR/seed*/results.json (default DIR: benchmarks/results/direct_answer).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from benchmarks.direct_answer.evaluate import (
    evaluate_direct,
    evaluate_sampled,
    exact_pass_at_k,
    ks_up_to,
)
from benchmarks.direct_answer.model import ModelConfig, build
from benchmarks.direct_answer.summary import write_summary
from benchmarks.direct_answer.tables import build_tables
from benchmarks.direct_answer.task import Task, TaskConfig, encode, target_length
from benchmarks.direct_answer.train import FinetuneConfig, finetune, label
from lean_env.errors import UserError
from training.losses import LossConfig

DEFAULT_OUT = Path("benchmarks/results/direct_answer")
TASK_DESIGN = (
    "a*b= for every pair of 2-digit numbers (8,100 problems, one distribution), answer = the "
    "product as 4 digits (exact match; 10^4 possible strings). The family is shuffled per seed: "
    "a fixed training set and a disjoint test set, no duplicates. The model writes the answer "
    "digit by digit: it can learn the number of digits, the leading and the last digit, but the "
    "carried middle digits only by memorising training problems, which then makes it "
    "confidently wrong on test problems that share operand digits with them."
)
PASS_AT_K_METHOD = {
    "direct": "exact: p = model probability of the golden answer by teacher forcing; "
    "pass@k = mean over test problems of 1-(1-p)^k (k i.i.d. samples at temperature 1); "
    "cross-checked against the unbiased estimator on sampled answers (sampled_check)",
    "cot": "unbiased estimator 1-C(n-c,k)/C(n,k) (benchmarks.passk.pass_at_k) from n sampled "
    "completions per test problem at temperature 1, final answer verified",
}


@dataclass(frozen=True)
class StudyConfig:
    seed: int = 0
    threads: int = 1
    # 2,000 training problems: memorised (greedy accuracy > 80%) within 60
    # epochs by the 128-unit model, while 4,000 took longer than 40 epochs.
    task: TaskConfig = field(default_factory=lambda: TaskConfig(n_train=2000, n_test=2000))
    model: ModelConfig = field(default_factory=ModelConfig)
    finetune: FinetuneConfig = field(default_factory=FinetuneConfig)
    dco_ns: tuple[int, ...] = (4, 16, 64, 256, 4096)
    max_k: int = 4096
    train_eval: int = 500  # training problems whose greedy accuracy is measured per epoch
    check_problems: int = 64  # sampled cross-check of the exact pass@k
    check_samples: int = 4096
    # Chain of thought: the first cot_train training and cot_test test problems.
    cot_train: int = 1000
    cot_test: int = 400
    cot_finetune: FinetuneConfig = field(default_factory=FinetuneConfig)
    # DCOa: N' = 16 from 16 samples (p̂ resolves 1/N'), the paper's epsilon 0.01.
    dcoa: LossConfig = field(default_factory=lambda: LossConfig("dcoa", n=16, samples=16))
    cot_eval_samples: int = 256  # n >= 4k for every k <= 64

    @staticmethod
    def quick(seed: int = 0, threads: int = 1) -> StudyConfig:
        """A smoke run (seconds): same code paths, toy sizes."""
        return StudyConfig(
            seed=seed,
            threads=threads,
            task=TaskConfig(seed=seed, n_train=96, n_test=48),
            model=ModelConfig(embed=8, hidden=32),
            finetune=FinetuneConfig(epochs=3, batch=32, warmup_steps=2),
            max_k=4096,
            train_eval=32,
            check_problems=4,
            check_samples=64,
            cot_train=48,
            cot_test=8,
            cot_finetune=FinetuneConfig(epochs=2, batch=16, warmup_steps=2),
            dcoa=LossConfig("dcoa", n=4, samples=4),
            cot_eval_samples=16,
        )


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _fine_tuned(
    base_model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    loss: LossConfig,
    finetune_config: FinetuneConfig,
    seed: int,
    on_epoch_for: Callable[[torch.nn.Module], Callable[[int], dict]],
) -> tuple[torch.nn.Module, list[dict]]:
    """A copy of ``base_model`` fine-tuned with ``loss``, and its history
    (``on_epoch_for(model)`` measures the copy after each epoch)."""
    model = copy.deepcopy(base_model)
    history = finetune(model, x, y, loss, finetune_config, seed=seed, on_epoch=on_epoch_for(model))
    return model, history


def _direct(config: StudyConfig, task: Task, timings: dict) -> dict:
    ks = ks_up_to(config.max_k)
    x, y = encode(task.train, cot=False)
    xt, yt = encode(task.test, cot=False)
    xp, yp = x[: config.train_eval], y[: config.train_eval]
    base_model = build(target_length(False), config.model, config.seed)

    def measure(m: torch.nn.Module) -> dict:
        return {"test": evaluate_direct(m, xt, yt, ks), "train": evaluate_direct(m, xp, yp, ks[:1])}

    base = measure(base_model)
    losses = [LossConfig("ce")] + [LossConfig("dco", n=n) for n in config.dco_ns]
    runs, finals = {}, {}
    for loss in losses:
        name = label(loss)
        t0 = time.perf_counter()
        model, history = _fine_tuned(
            base_model, x, y, loss, config.finetune, config.seed, lambda m: lambda _e: measure(m)
        )
        runs[name] = {"loss": loss.to_dict(), "epochs": history}
        finals[name] = model
        timings[f"direct_{name}"] = time.perf_counter() - t0
        last = history[-1]
        _log(
            f"[seed {config.seed}] {name}: {timings[f'direct_{name}']:.0f}s train acc "
            f"{last['train']['greedy_confidence']['accuracy']:.3f} pass@1 {last['test']['pass_at_k']['1']:.4f} "
            f"pass@256 {last['test']['pass_at_k'].get('256', float('nan')):.4f}"
        )

    t0 = time.perf_counter()
    check = {}
    xc, yc = xt[: config.check_problems], yt[: config.check_problems]
    for name in ("ce", label(losses[-1])):
        m = finals[name]
        sampled = evaluate_sampled(m, xc, yc, config.check_samples, seed=config.seed)
        with torch.no_grad():
            exact = exact_pass_at_k(m.logp(xc, yc), ks_up_to(config.check_samples))
        check[name] = {
            "problems": len(xc),
            "samples_per_problem": config.check_samples,
            "unbiased_estimator": sampled["pass_at_k"],
            "exact": exact,
            "max_abs_difference": max(abs(sampled["pass_at_k"][k] - exact[k]) for k in exact),
        }
    timings["direct_sampled_check"] = time.perf_counter() - t0
    return {"base": base, "runs": runs, "sampled_check": check}


def _cot(config: StudyConfig, task: Task, timings: dict) -> dict:
    x, y = encode(task.train[: config.cot_train], cot=True)
    xt, yt = encode(task.test[: config.cot_test], cot=True)
    base_model = build(target_length(True), config.model, config.seed + 1)
    n = config.cot_eval_samples

    def measure(m: torch.nn.Module) -> dict:
        out = evaluate_sampled(m, xt, yt, n, seed=config.seed)
        with torch.no_grad():
            out["mean_log_p_golden_trace"] = float(m.logp(xt, yt).mean())
        return out

    def per_epoch(m: torch.nn.Module, last: int) -> Callable[[int], dict]:
        def on_epoch(epoch: int) -> dict:
            # Every epoch: the cheap teacher-forced numbers; the sampled
            # evaluation only after the last.
            was_training = m.training
            m.eval()
            with torch.no_grad():
                tokens, _ = m.write(x[:500], greedy=True)
                lp = float(m.logp(xt, yt).mean())
            m.train(was_training)
            out = {
                "train_greedy_accuracy": float(
                    (tokens[:, -4:] == y[:500, -4:]).all(1).float().mean()
                ),
                "test_mean_log_p_golden_trace": lp,
            }
            return out | ({"test": measure(m)} if epoch == last else {})

        return on_epoch

    t0 = time.perf_counter()
    base = {"test": measure(base_model)}
    timings["cot_base_eval"] = time.perf_counter() - t0
    runs = {}
    for loss in (LossConfig("ce"), config.dcoa):
        name = label(loss)
        t0 = time.perf_counter()
        _, history = _fine_tuned(
            base_model, x, y, loss, config.cot_finetune, config.seed,
            lambda m: per_epoch(m, config.cot_finetune.epochs),
        )  # fmt: skip
        runs[name] = {"loss": loss.to_dict(), "epochs": history}
        timings[f"cot_{name}"] = time.perf_counter() - t0
        pk = history[-1]["test"]["pass_at_k"]
        _log(
            f"[seed {config.seed}] cot {name}: {timings[f'cot_{name}']:.0f}s train acc "
            f"{history[-1]['train_greedy_accuracy']:.3f} pass@1 {pk['1']:.4f} pass@{n // 4} {pk[str(n // 4)]:.4f}"
        )
    return {"base": base, "runs": runs, "n_problems": len(xt)}


def run_study(config: StudyConfig, command: list[str]) -> dict:
    torch.set_num_threads(config.threads)
    timings: dict[str, float] = {}
    t0, c0 = time.perf_counter(), time.process_time()
    task = Task(config.task)
    direct = _direct(config, task, timings)
    cot = _cot(config, task, timings)
    timings["total"] = time.perf_counter() - t0
    results = {
        "study": "direct_answer",
        "paper": "Chen et al., Rethinking Fine-Tuning when Scaling Test-Time Compute (NeurIPS 2025)",
        "command": command,
        "seed": config.seed,
        "config": asdict(config),
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "numpy": np.__version__,
        },
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "processes": 1,
            "torch_threads_per_process": config.threads,
            "load_average_at_end": os.getloadavg(),
        },
        "task_design": TASK_DESIGN,
        "pass_at_k_method": PASS_AT_K_METHOD,
        "wall_seconds": {k: round(v, 1) for k, v in timings.items()},
        "cpu_seconds": round(time.process_time() - c0, 1),
        "direct": direct,
        "cot": cot,
    }
    results["tables"] = build_tables(results)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.direct_answer.study", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--out", default=str(DEFAULT_OUT), help="results directory (default %(default)s)"
    )
    parser.add_argument("--quick", action="store_true", help="toy sizes, seconds (a smoke test)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args(argv)
    try:
        if args.threads < 1:
            raise UserError(f"--threads must be >= 1, got {args.threads}")
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise UserError(f"--out {out} exists and is not a directory")
        base = (
            StudyConfig.quick(args.seed, args.threads)
            if args.quick
            else StudyConfig(seed=args.seed, threads=args.threads)
        )
        config = replace(base, task=replace(base.task, seed=args.seed))
        command = [
            "python",
            "-m",
            "benchmarks.direct_answer.study",
            *(argv if argv is not None else sys.argv[1:]),
        ]
        results = run_study(config, command)
        seed_dir = out / f"seed{args.seed}"
        seed_dir.mkdir(parents=True, exist_ok=True)
        path = seed_dir / "results.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(results) + "\n", encoding="utf-8")  # one line: large
        tmp.replace(path)
        summary = write_summary(out)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path} and {summary} ({results['wall_seconds']['total']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
