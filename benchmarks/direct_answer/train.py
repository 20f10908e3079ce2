"""Training: pre-training the base model on a fresh stream, then fine-tuning
it on the fixed training set for several epochs with CE, DCO or DCOa.

The objectives, the refill and the batch layout are the training package's
(training.losses, training.refill, training.data): every loss is
``mean_i w_i * (-log p_i)`` with the weight detached, so the gradient is the CE
gradient scaled per example: CE w = 1; DCO w = F(N, p), p the model's exact
probability of the golden answer; DCOa w = F(N, p̂), p̂ the fraction of
``samples`` completions sampled from the current model whose final answer the
task's verifier accepts. Candidates with F < epsilon are discarded and the
batch refilled from the data stream (training.refill.next_batch), so every
step sees a full batch. Here a unit is one problem (one row), so "dco" is the
paper's direct-answer DCO.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from transformers import LlamaForCausalLM, get_scheduler

from benchmarks.direct_answer.evaluate import COT_MAX_NEW, DIRECT_MAX_NEW
from benchmarks.direct_answer.model import PAD, generate, units
from benchmarks.direct_answer.task import Problem, parse_prompt, verify
from training.data import Unit, collate
from training.losses import Loss, LossConfig, LossOutput, make_loss
from training.refill import AllConfident, UnitStream, next_batch

MAX_GRAD_NORM = 1.0


@dataclass(frozen=True)
class PretrainConfig:
    steps: int = 1000
    batch: int = 128
    lr: float = 2e-3
    warmup: int = 100


@dataclass(frozen=True)
class FinetuneConfig:
    # 12 epochs: the tiny model memorises slowly (CE's training-set accuracy
    # rose only from 33% to 36% in 8 epochs; a higher rate or a smaller set
    # wrecked the base model's test accuracy before memorising more).
    epochs: int = 12
    batch: int = 64
    lr: float = 5e-4


def label(loss: LossConfig) -> str:
    return {"ce": "CE", "dco": f"DCO N={loss.n:g}", "dcoa": f"DCOa N={loss.n:g}"}[loss.name]


class VerifierCounter:
    """The DCOa verifier on prompts (``a*b=``), counting its verdicts so that
    the mean p̂ of an epoch can be reported."""

    def __init__(self, cot: bool) -> None:
        self.cot, self.calls, self.hits = cot, 0, 0

    def __call__(self, prompt: str, completion: str) -> bool:
        ok = verify(parse_prompt(prompt), completion, self.cot)
        self.calls += 1
        self.hits += ok
        return ok


def sampler(cot: bool, generator: torch.Generator) -> Callable[[Any, Sequence[str], int], list[list[str]]]:
    """``sample(model, prompts, k)``: k completions per prompt at temperature 1
    (a cut one is "", which never verifies)."""

    def sample(model: Any, prompts: Sequence[str], k: int) -> list[list[str]]:
        was_training = model.training
        model.eval()
        texts, _ = generate(
            model, prompts, max_new=COT_MAX_NEW if cot else DIRECT_MAX_NEW, greedy=False,
            samples=k, generator=generator,
        )  # fmt: skip
        model.train(was_training)
        flat = [t or "" for t in texts]
        return [flat[i * k : (i + 1) * k] for i in range(len(prompts))]

    return sample


def step_loss(model: LlamaForCausalLM, loss: Loss, problems: Sequence[Problem], cot: bool) -> LossOutput:
    """The training package's loss on a batch of problems' golden completions."""
    return loss.compute_loss(model, collate(units(problems, cot), PAD))


def _optimize(model: LlamaForCausalLM, opt: torch.optim.Optimizer, out: LossOutput) -> None:
    out.loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), MAX_GRAD_NORM)
    opt.step()
    opt.zero_grad(set_to_none=True)


def pretrain(
    model: LlamaForCausalLM, stream: Iterator[Problem], config: PretrainConfig, *, cot: bool
) -> dict:
    """CE on fresh problems (nothing repeats, nothing to memorise): the base
    model. Linear warm-up, cosine decay."""
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=0.0)
    schedule = get_scheduler("cosine", opt, num_warmup_steps=config.warmup, num_training_steps=config.steps)
    ce = make_loss(LossConfig("ce"))
    model.train()
    t0, losses = time.perf_counter(), []
    for _ in range(config.steps):
        out = step_loss(model, ce, [next(stream) for _ in range(config.batch)], cot)
        _optimize(model, opt, out)
        schedule.step()
        losses.append(float(out.loss.detach()))
    tail = losses[-50:]
    return {"seconds": time.perf_counter() - t0, "final_loss": sum(tail) / len(tail)}


def finetune(
    model: LlamaForCausalLM,
    train: Sequence[Unit],
    loss_config: LossConfig,
    config: FinetuneConfig,
    *,
    cot: bool,
    seed: int,
    on_epoch: Callable[[int], dict],
) -> list[dict]:
    """Fine-tune for ``config.epochs`` passes over ``train`` (a pass counts the
    discarded units too; a refilled batch may straddle two passes, so an epoch
    ends within one batch of the exact boundary); after each record the
    training statistics and whatever ``on_epoch(epoch)`` returns."""
    generator = torch.Generator().manual_seed(seed)
    counter = VerifierCounter(cot)
    loss = make_loss(loss_config, sample=sampler(cot, generator), verify=counter)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=0.0)
    stream = UnitStream(train, seed, config.batch, group_by_length=False)

    def probe(candidates: list[Unit]) -> torch.Tensor:
        was_training = model.training
        model.eval()
        try:
            return loss.probe(model, collate(candidates, PAD))
        finally:
            model.train(was_training)

    history = []
    for epoch in range(1, config.epochs + 1):
        model.train()
        t0, calls0, hits0 = time.perf_counter(), counter.calls, counter.hits
        steps = stepped = discarded = 0
        factor_sum, all_confident = 0.0, False
        while stream.epochs_done < epoch:
            try:
                got = next_batch(stream, config.batch, probe if loss.needs_probe else None, loss_config.threshold)
            except AllConfident:
                # A whole pass had F < epsilon everywhere (and was consumed):
                # nothing is left to train on, the model stops changing.
                all_confident = True
                break
            discarded += got.discarded
            batch = collate(got.units, PAD)
            batch.factors = got.factors
            out = loss.compute_loss(model, batch)
            _optimize(model, opt, out)
            steps += 1
            stepped += len(got.units)
            factor_sum += float(out.factors.sum())
        record = {
            "epoch": epoch,
            "train_seconds": time.perf_counter() - t0,
            "steps": steps,
            "examples_stepped": stepped,
            "discarded": discarded,
            "mean_factor": factor_sum / max(1, stepped),
            "all_confident": all_confident,
        }
        if counter.calls > calls0:
            record["mean_p_hat"] = (counter.hits - hits0) / (counter.calls - calls0)
        history.append(record | on_epoch(epoch))
    return history
