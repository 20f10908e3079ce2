"""Evaluation of a model on the task: pass@k curves and max-confidence.

Direct answers: the probability ``p`` of the correct answer under the model is
computed exactly by teacher forcing (it is one sequence), so pass@k of a
problem is exactly ``1 - (1 - p)^k`` for k i.i.d. samples at temperature 1 and
no estimator is needed; the study confirms it against the unbiased estimator
on real samples. Max confidence is the probability of the greedy completion
(as in the paper), summarised separately for greedy answers that are right and wrong.

Chain of thought: p(answer) sums over all traces, so ``n`` completions are
sampled per problem and pass@k comes from the unbiased estimator of
benchmarks.passk; max confidence is the frequency of the modal final answer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from benchmarks.direct_answer.model import DigitWriter
from benchmarks.direct_answer.task import answer_values
from benchmarks.passk import pass_at_k
from training.confidence import summarize
from training.factor import log1mexp


def ks_up_to(n: int) -> list[int]:
    return [2**i for i in range(int(math.log2(n)) + 1)]


def exact_per_problem(log_p: torch.Tensor, k: int) -> torch.Tensor:
    """``1 - (1 - p)^k`` per problem, in log space (float64)."""
    lp = log_p.double().clamp(max=0.0)
    return -torch.expm1(k * log1mexp(lp))


def exact_pass_at_k(log_p: torch.Tensor, ks: Sequence[int]) -> dict[str, float]:
    """Mean over problems of ``1 - (1 - p)^k``."""
    return {str(k): float(exact_per_problem(log_p, k).mean()) for k in ks}


def confidence_summary(conf: Sequence[float], correct: Sequence[bool]) -> dict:
    """training.confidence.summarize (mean, quantiles, 10-bin histogram) of max
    confidence over all problems and split by right and wrong answers."""
    return {
        "accuracy": sum(correct) / len(correct),
        "all": summarize(list(conf)),
        "correct": summarize([c for c, ok in zip(conf, correct, strict=True) if ok]),
        "wrong": summarize([c for c, ok in zip(conf, correct, strict=True) if not ok]),
    }


@torch.no_grad()
def evaluate_direct(
    model: DigitWriter, x: torch.Tensor, y: torch.Tensor, ks: Sequence[int]
) -> dict:
    """Exact pass@k and the greedy answer's confidence, right vs wrong."""
    was_training = model.training
    model.eval()
    log_p = model.logp(x, y)
    tokens, greedy_lp = model.write(x, greedy=True)
    model.train(was_training)
    correct = (answer_values(tokens) == answer_values(y)).tolist()
    return {
        "pass_at_k": exact_pass_at_k(log_p, ks),
        "mean_log_p": float(log_p.mean()),
        "greedy_confidence": confidence_summary(greedy_lp.exp().tolist(), correct),
    }


@torch.no_grad()
def sample_answers(
    model: DigitWriter, x: torch.Tensor, n: int, generator: torch.Generator, chunk: int = 65536
) -> torch.Tensor:
    """``n`` final answers per problem sampled at temperature 1: (B, n) ints."""
    was_training = model.training
    model.eval()
    rows = x.repeat_interleave(n, dim=0)
    out = [
        answer_values(model.write(rows[i : i + chunk], greedy=False, generator=generator)[0])
        for i in range(0, rows.shape[0], chunk)
    ]
    model.train(was_training)
    return torch.cat(out).reshape(x.shape[0], n)


def evaluate_sampled(
    model: DigitWriter, x: torch.Tensor, y: torch.Tensor, n: int, *, seed: int
) -> dict:
    """pass@k for k = 1, 2, 4, ..., n by the unbiased estimator from ``n``
    samples per problem (per-problem values kept for paired intervals); max
    confidence = frequency of the modal final answer."""
    answers = sample_answers(model, x, n, torch.Generator().manual_seed(seed))
    truth = answer_values(y)
    counts = (answers == truth[:, None]).sum(1).tolist()
    modal = answers.mode(dim=1).values
    conf = ((answers == modal[:, None]).sum(1).double() / n).tolist()
    per_problem = {str(k): [pass_at_k(n, c, k) for c in counts] for k in ks_up_to(n)}
    return {
        "samples_per_problem": n,
        "pass_at_k": {k: float(np.mean(v)) for k, v in per_problem.items()},
        "pass_at_k_per_problem": per_problem,
        "modal_answer_confidence": confidence_summary(conf, (modal == truth).tolist()),
    }
