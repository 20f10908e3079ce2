"""Fine-tuning from scratch on the fixed training set for many epochs with CE,
DCO or DCOa.

Every loss is ``mean_i w_i * (-log p_i)`` over a batch with the weight
detached, so the gradient is the CE gradient scaled per example: CE w = 1;
DCO w = F(N, p), p the model's exact probability of the golden answer; DCOa
w = F(N, p̂), p̂ the fraction of ``samples`` completions sampled from the
current model whose final answer is right. F is training.factor's (log
space). Candidates with F < epsilon are discarded and the batch refilled from
the rest of the epoch, so every step but an epoch's last sees a full batch;
an epoch is one pass over the (reshuffled) training set, discarded problems
included. The optimiser is AdamW with a linear warm-up to a constant rate.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from benchmarks.direct_answer.evaluate import sample_answers
from benchmarks.direct_answer.model import DigitWriter
from benchmarks.direct_answer.task import answer_values
from training.factor import factor
from training.losses import LossConfig

MAX_GRAD_NORM = 1.0


@dataclass(frozen=True)
class FinetuneConfig:
    epochs: int = 60
    batch: int = 128
    # Measured on 2,000 and 4,000 training problems: at 3e-3 CE memorises the
    # training set (greedy accuracy > 80%) within 60 epochs.
    lr: float = 3e-3
    weight_decay: float = 0.0
    warmup_steps: int = 50


def label(loss: LossConfig) -> str:
    """The summary's name of an objective: ``ce``, ``dco-N``, ``dcoa-N``."""
    return "ce" if loss.name == "ce" else f"{loss.name}-{loss.n:g}"


def weights(
    model: DigitWriter,
    x: torch.Tensor,
    y: torch.Tensor,
    loss: LossConfig,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The detached weight of each candidate and, for DCOa, its p̂."""
    if loss.name == "ce":
        return torch.ones(x.shape[0]), None
    if loss.name == "dco":
        was_training = model.training
        model.eval()
        with torch.no_grad():
            log_p = model.logp(x, y)
        model.train(was_training)
        return factor(log_p, loss.n), None
    answers = sample_answers(model, x, loss.samples, generator)
    p_hat = (answers == answer_values(y)[:, None]).double().mean(1)
    # p̂ = 0: F(N, 0) = 1 (the limit), the example is trained on as by CE.
    w = torch.where(
        p_hat > 0, factor(torch.log(p_hat.clamp(min=1e-300)), loss.n), torch.ones_like(p_hat)
    )
    return w.float(), p_hat


@dataclass
class EpochStats:
    steps: int = 0
    stepped: int = 0
    discarded: int = 0
    factor_sum: float = 0.0
    p_hat_sum: float = 0.0
    probed: int = 0

    def record(self, epoch: int, seconds: float, loss: LossConfig) -> dict:
        out = {
            "epoch": epoch,
            "train_seconds": seconds,
            "steps": self.steps,
            "examples_stepped": self.stepped,
            "discarded": self.discarded,
            "mean_factor": self.factor_sum / max(1, self.stepped),
        }
        if loss.name == "dcoa":
            out["mean_p_hat"] = self.p_hat_sum / max(1, self.probed)
        return out


class Trainer:
    """One objective's fine-tuning: optimiser, schedule and refill state."""

    def __init__(
        self, model: DigitWriter, loss: LossConfig, config: FinetuneConfig, seed: int
    ) -> None:
        self.model, self.loss, self.config = model, loss, config
        self.opt = torch.optim.AdamW(
            model.parameters(), lr=config.lr, weight_decay=config.weight_decay
        )
        warm = max(1, config.warmup_steps)
        self.schedule = torch.optim.lr_scheduler.LambdaLR(
            self.opt, lambda t: min(1.0, (t + 1) / warm)
        )
        self.order = torch.Generator().manual_seed(seed)
        self.sampling = torch.Generator().manual_seed(seed + 1)

    def _step(self, x: torch.Tensor, y: torch.Tensor, w: torch.Tensor, stats: EpochStats) -> None:
        out = -(w * self.model.logp(x, y)).mean()
        out.backward()
        nn.utils.clip_grad_norm_(self.model.parameters(), MAX_GRAD_NORM)
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)
        self.schedule.step()
        stats.steps += 1
        stats.stepped += x.shape[0]
        stats.factor_sum += float(w.sum())

    def epoch(self, x: torch.Tensor, y: torch.Tensor) -> EpochStats:
        """One pass over the training set in a fresh order, with refill."""
        self.model.train()
        size, batch, eps = x.shape[0], self.config.batch, self.loss.threshold
        perm = torch.randperm(size, generator=self.order)
        stats, pos = EpochStats(), 0
        kept_i: list[torch.Tensor] = []
        kept_w: list[torch.Tensor] = []
        while pos < size:
            need = batch - sum(len(k) for k in kept_i)
            idx = perm[pos : pos + need]
            pos += len(idx)
            w, p_hat = weights(self.model, x[idx], y[idx], self.loss, self.sampling)
            if p_hat is not None:
                stats.p_hat_sum += float(p_hat.sum())
                stats.probed += len(idx)
            keep = w >= eps
            stats.discarded += int((~keep).sum())
            kept_i.append(idx[keep])
            kept_w.append(w[keep])
            if sum(len(k) for k in kept_i) >= batch or (pos >= size and kept_i):
                i, ws = torch.cat(kept_i), torch.cat(kept_w)
                kept_i, kept_w = [], []
                if len(i):
                    self._step(x[i], y[i], ws, stats)
        return stats


def finetune(
    model: DigitWriter,
    x: torch.Tensor,
    y: torch.Tensor,
    loss: LossConfig,
    config: FinetuneConfig,
    *,
    seed: int,
    on_epoch: Callable[[int], dict],
) -> list[dict]:
    """``config.epochs`` passes over (x, y); after each, the training
    statistics and whatever ``on_epoch(epoch)`` measures."""
    trainer = Trainer(model, loss, config, seed)
    history = []
    for epoch in range(1, config.epochs + 1):
        t0 = time.perf_counter()
        stats = trainer.epoch(x, y)
        history.append(stats.record(epoch, time.perf_counter() - t0, loss) | on_epoch(epoch))
    return history


def steps_per_epoch(n_train: int, batch: int) -> int:
    return math.ceil(n_train / batch)
