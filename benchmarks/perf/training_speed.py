"""Speed of training and sampling, as ratios measured in one run.

    python -m benchmarks.perf.training_speed [--benchmark coq-stdlib] [--model DIR]

1. Training-step time of DCOstep (N=8) and whole-proof DCO (N=8) versus CE
   on the same batches (the same rows: a batch of proofs, scored per step or
   per proof), without the refill: the cost of the factor itself (goal: within
   2%). The refill's extra no-grad forward is timed separately, as a ratio to
   the CE step.
2. Training tokens/s of the default model, and the time that makes for one
   epoch of the benchmark's train split.
3. Sampling 64 tactics for each of 16 states: batched (one call) versus one
   state at a time versus one sample at a time.

Wall-clock times are medians of interleaved repeats, so slow drift on a shared
machine hits every variant alike; CPU time is reported too (on a loaded
machine, CPU seconds / threads estimates the unloaded wall time).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

import torch

from benchmarks.loader import load_benchmark
from training.data import Batch, PromptFormat, Unit, build_units, collate, pad_id
from training.dataset import TrainData
from training.generator import ModelTacticGenerator
from training.losses import Loss, LossConfig, make_loss
from training.model import ModelConfig
from training.trainer import TrainConfig, Trainer


def _timed(fn: Callable[..., Any], *args: Any) -> tuple[float, float]:
    w, c = time.perf_counter(), time.process_time()
    fn(*args)
    return time.perf_counter() - w, time.process_time() - c


def _median(xs: list[float]) -> float:
    return statistics.median(xs)


def _train_model(
    benchmark: str, steps: int, out: str, model: ModelConfig, prompt: PromptFormat
) -> Trainer:
    """A model (default size unless told) after a short CE run (so that it ends
    its tactics with EOS, as a trained model does)."""
    trainer = Trainer(
        TrainConfig(
            benchmark=benchmark,
            out=out,
            model=model,
            prompt=prompt,
            max_steps=steps,
            warmup_steps=min(10, steps),
            progress=False,
            eval_limit=0,
            checkpoint_every=10**9,
        ),
        TrainData.from_benchmark(load_benchmark(benchmark)),
    )
    trainer.train()
    return trainer


def _step(loss: Loss, model: Any, batch: Batch, opt: torch.optim.Optimizer) -> None:
    out = loss.compute_loss(model, batch)
    out.loss.backward()
    opt.step()
    opt.zero_grad()


def _factor_only(loss: Loss, logp: torch.Tensor, batch: Batch, times: int) -> None:
    for _ in range(times):
        loss.weights(logp, batch)


def step_costs(trainer: Trainer, repeats: int, batch_proofs: int) -> dict[str, float]:
    tok, fmt, model = (
        trainer.tokenizer,
        trainer.config.prompt,
        trainer.accelerator.unwrap_model(trainer.model),
    )
    steps = list(load_benchmark(trainer.config.benchmark).steps("train"))
    proofs = build_units(steps, tok, fmt, by_proof=True).units
    proofs = [p for p in proofs if len(p.rows) <= 8]  # comparable batch sizes
    opt = torch.optim.AdamW(model.parameters(), lr=1e-9)  # a real step that changes ~nothing
    losses = {
        "ce": make_loss(LossConfig("ce")),
        "dcostep": make_loss(LossConfig("dcostep", n=8, epsilon=0)),
        "dco": make_loss(LossConfig("dco", n=8, epsilon=0)),
    }
    pad = pad_id(tok)
    wall: dict[str, list[float]] = {k: [] for k in [*losses, "probe", "factor"]}
    cpu: dict[str, list[float]] = {k: [] for k in wall}
    tokens: list[int] = []
    model.train()
    for r in range(repeats):
        group = proofs[(r * batch_proofs) % len(proofs) :][:batch_proofs]
        per_step = [
            Unit(p.id, (row,), (s,), (t,))
            for p in group
            for row, s, t in zip(p.rows, p.states, p.tactics, strict=True)
        ]
        batches = {
            "ce": collate(per_step, pad),
            "dcostep": collate(per_step, pad),
            "dco": collate(group, pad),
        }
        tokens.append(batches["ce"].num_tokens())
        order = list(losses) if r % 2 == 0 else list(reversed(losses))
        for name in order:
            w, c = _timed(_step, losses[name], model, batches[name], opt)
            wall[name].append(w)
            cpu[name].append(c)
        model.eval()
        w, c = _timed(losses["dcostep"].probe, model, batches["dcostep"])
        model.train()
        wall["probe"].append(w)
        cpu["probe"].append(c)
        # The factor alone (what DCO adds to a CE step, computed on this
        # batch's log-probs): isolated, it is not drowned in the noise of
        # the forward/backward on a shared machine.
        logp = -torch.rand(len(per_step), dtype=torch.float32) * 40
        w, c = _timed(_factor_only, losses["dcostep"], logp, batches["dcostep"], 10)
        wall["factor"].append(w / 10)
        cpu["factor"].append(c / 10)
    # The first repeat warms caches up: dropped. Ratios are medians of the
    # per-repeat ratios (paired on the same batch), steadier than ratios of medians.
    res = {f"{k}_ms": 1000 * _median(v[1:]) for k, v in wall.items()}
    res.update({f"{k}_cpu_ms": 1000 * _median(v[1:]) for k, v in cpu.items()})
    for k in ("dcostep", "dco", "probe", "factor"):
        res[f"{k}_ratio"] = _median(
            [a / b for a, b in zip(wall[k][1:], wall["ce"][1:], strict=True)]
        )
        res[f"{k}_cpu_ratio"] = _median(
            [a / b for a, b in zip(cpu[k][1:], cpu["ce"][1:], strict=True)]
        )
    res["tokens_per_batch"] = statistics.fmean(tokens)
    res["ce_tokens_per_s"] = res["tokens_per_batch"] / (res["ce_ms"] / 1000)
    res["ce_tokens_per_cpu_s"] = res["tokens_per_batch"] / (res["ce_cpu_ms"] / 1000)
    return res


def sampling_costs(trainer: Trainer, states: int, k: int, one_by_one: int) -> dict[str, float]:
    model = trainer.accelerator.unwrap_model(trainer.model)
    gen = ModelTacticGenerator(model, trainer.tokenizer, trainer.config.prompt, max_rows=states * k)
    pool = [s.state for s in load_benchmark(trainer.config.benchmark).steps("val")][:states]
    batched, _ = _timed(lambda: gen.generate(pool, k))
    per_state, _ = _timed(lambda: [gen.generate([s], k) for s in pool])
    # One sample at a time, over the first `one_by_one` states (scaled up).
    subset = pool[:one_by_one]
    single, _ = _timed(lambda: [gen.generate([s], 1) for s in subset for _ in range(k)])
    single *= len(pool) / len(subset)
    return {
        "states": len(pool),
        "k": k,
        "one_by_one_states": len(subset),
        "batched_s": batched,
        "per_state_s": per_state,
        "one_by_one_s": single,
        "per_state_ratio": per_state / batched,
        "one_by_one_ratio": single / batched,
    }


def measure(
    benchmark: str,
    *,
    warm_steps: int = 150,
    repeats: int = 21,
    batch_proofs: int = 8,
    epoch_units: int | None = None,
    states: int = 16,
    k: int = 64,
    one_by_one_states: int = 1,
    model: ModelConfig | None = None,
    prompt: PromptFormat | None = None,
) -> dict[str, Any]:
    """Training-step costs, the epoch estimate and sampling costs, measured
    on a model trained for ``warm_steps`` CE steps (default size unless told)."""
    model, prompt = model or ModelConfig(), prompt or PromptFormat()
    with tempfile.TemporaryDirectory(prefix="dco-perf-") as out:
        trainer = _train_model(benchmark, warm_steps, out, model, prompt)
        s = step_costs(trainer, repeats, batch_proofs)
        train_steps = list(load_benchmark(benchmark).steps("train"))
        units = epoch_units or len(train_steps)
        mean_tokens = statistics.fmean(
            u.num_tokens for u in build_units(train_steps, trainer.tokenizer, prompt).units
        )
        threads = torch.get_num_threads()
        epoch = {
            "units": units,
            "mean_tokens_per_unit": mean_tokens,
            "wall_minutes": units * mean_tokens / s["ce_tokens_per_s"] / 60,
            "unloaded_minutes": units * mean_tokens / s["ce_tokens_per_cpu_s"] / threads / 60,
        }
        sampling = sampling_costs(trainer, states, k, one_by_one_states)
    return {
        "model": model.to_dict(),
        "prompt": prompt.to_dict(),
        "torch_threads": threads,
        "repeats": repeats,
        "steps": s,
        "epoch": epoch,
        "sampling": sampling,
    }


def report(r: dict[str, Any]) -> str:
    s, e, c = r["steps"], r["epoch"], r["sampling"]
    lines = [
        f"model {r['model']}, torch threads {r['torch_threads']}",
        f"\ntraining step on the same batches (~{s['tokens_per_batch']:.0f} tokens), "
        f"median of {r['repeats'] - 1}:",
        f"  {'ce':8s} {s['ce_ms']:8.1f} ms  (cpu {s['ce_cpu_ms']:8.1f} ms)",
    ]
    for name in ("dcostep", "dco"):
        lines.append(
            f"  {name:8s} {s[name + '_ms']:8.1f} ms  (cpu {s[name + '_cpu_ms']:8.1f} ms)"
            f"  ratio to ce {s[name + '_ratio']:.3f}  (cpu {s[name + '_cpu_ratio']:.3f})"
        )
    lines += [
        f"  the factor alone (F for the batch): {s['factor_ms']:.3f} ms = "
        f"{s['factor_ratio']:.2%} of the ce step (cpu {s['factor_cpu_ratio']:.2%})",
        f"  refill probe (no-grad forward of the batch): {s['probe_ms']:.1f} ms, "
        f"ratio to the ce step {s['probe_ratio']:.3f}",
        f"\nCE training: {s['ce_tokens_per_s']:.0f} tokens/s wall, "
        f"{s['ce_tokens_per_cpu_s']:.0f} tokens per cpu-second",
        f"  one epoch of {e['units']} steps x {e['mean_tokens_per_unit']:.0f} tokens: "
        f"{e['wall_minutes']:.1f} min at this wall speed, {e['unloaded_minutes']:.1f} min unloaded "
        f"(cpu time / {r['torch_threads']} threads); DCOstep with the refill adds "
        f"~{s['probe_ratio']:.0%} (one probe per batch)",
        f"\nsampling {c['k']} tactics for each of {c['states']} states:",
        f"  batched (one call)        {c['batched_s']:8.2f} s",
        f"  one state at a time       {c['per_state_s']:8.2f} s   ratio {c['per_state_ratio']:.1f}x",
        f"  one sample at a time      {c['one_by_one_s']:8.2f} s   ratio {c['one_by_one_ratio']:.1f}x"
        f"  (timed on {c['one_by_one_states']} states, scaled to {c['states']})",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--benchmark", default="coq-stdlib")
    parser.add_argument("--warm-steps", type=int, default=150, help="CE steps before measuring")
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--batch-proofs", type=int, default=8)
    parser.add_argument(
        "--epoch-units", type=int, default=None, help="default: the train split's steps"
    )
    parser.add_argument(
        "--one-by-one-states", type=int, default=1, help="states timed sample by sample"
    )
    args = parser.parse_args(argv)
    print(
        report(
            measure(
                args.benchmark,
                warm_steps=args.warm_steps,
                repeats=args.repeats,
                batch_proofs=args.batch_proofs,
                epoch_units=args.epoch_units,
                one_by_one_states=args.one_by_one_states,
            )
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
