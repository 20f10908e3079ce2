"""Evaluation of a model on the task: pass@k curves and max-confidence
histograms.

Direct answers: the probability ``p`` of the correct answer under the model is
computed exactly by teacher forcing (it is one sequence), so pass@k of a
problem is exactly ``1 - (1 - p)^k`` for k i.i.d. samples at temperature 1 and
no estimator is needed; the study confirms it against the unbiased estimator
on real samples. Max confidence is the probability of the greedy completion
(as in the paper), summarised separately for greedy answers that are right and wrong.

Chain of thought: p(answer) sums over all traces and is not computable, so
``n`` completions are sampled per problem and pass@k comes from the unbiased
estimator of benchmarks.passk; max confidence is the frequency of the most
common final answer among the samples.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
import torch
from transformers import LlamaForCausalLM

from benchmarks.direct_answer.model import completion_logprobs, generate
from benchmarks.direct_answer.task import Problem, final_answer, verify
from benchmarks.passk import pass_at_k
from training.confidence import summarize

DIRECT_MAX_NEW = 8  # longest product (6 digits) + EOS, one spare
COT_MAX_NEW = 36


def ks_up_to(n: int) -> list[int]:
    return [2**i for i in range(int(math.log2(n)) + 1)]


def exact_pass_at_k(log_p: torch.Tensor, ks: Sequence[int]) -> dict[str, float]:
    """Mean over problems of ``1 - (1 - p)^k``, in log space."""
    lp = log_p.double().clamp(max=0.0)
    log_1mp = torch.where(
        lp > -math.log(2.0), torch.log(-torch.expm1(lp)), torch.log1p(-torch.exp(lp))
    )
    return {str(k): float((-torch.expm1(k * log_1mp)).mean()) for k in ks}


def confidence_summary(conf: Sequence[float], correct: Sequence[bool]) -> dict:
    """training.confidence.summarize (mean, quantiles, 10-bin histogram) of max
    confidence over all problems and split by right and wrong answers."""
    return {
        "accuracy": sum(correct) / len(correct),
        "all": summarize(list(conf)),
        "correct": summarize([c for c, ok in zip(conf, correct, strict=True) if ok]),
        "wrong": summarize([c for c, ok in zip(conf, correct, strict=True) if not ok]),
    }


def _eval_mode(model: LlamaForCausalLM) -> bool:
    was_training = model.training
    model.eval()
    return was_training


@torch.no_grad()
def greedy(
    model: LlamaForCausalLM, problems: Sequence[Problem], batch: int = 512
) -> tuple[list[str | None], list[float]]:
    """Greedy direct answers and their probabilities."""
    completions: list[str | None] = []
    conf: list[float] = []
    for i in range(0, len(problems), batch):
        prompts = [p.prompt for p in problems[i : i + batch]]
        texts, lp = generate(model, prompts, max_new=DIRECT_MAX_NEW, greedy=True)
        completions += texts
        conf += [math.exp(x) for x in lp]
    return completions, conf


def evaluate_direct(
    model: LlamaForCausalLM, problems: Sequence[Problem], ks: Sequence[int]
) -> dict:
    """Exact pass@k (overall and per operand size), greedy confidence."""
    was_training = _eval_mode(model)
    log_p = completion_logprobs(model, problems, cot=False)
    completions, conf = greedy(model, problems)
    model.train(was_training)
    correct = [verify(p, c) for p, c in zip(problems, completions, strict=True)]
    by_size = {}
    for s in sorted({p.size for p in problems}):
        idx = torch.tensor([i for i, p in enumerate(problems) if p.size == s])
        by_size[s] = exact_pass_at_k(log_p[idx], ks)
    return {
        "pass_at_k": exact_pass_at_k(log_p, ks),
        "pass_at_k_by_size": by_size,
        "mean_log_p": float(log_p.mean()),
        "greedy_confidence": confidence_summary(conf, correct),
    }


@torch.no_grad()
def sample_answers(
    model: LlamaForCausalLM,
    problem: Problem,
    n: int,
    *,
    cot: bool,
    generator: torch.Generator,
    batch: int = 2048,
) -> list[str | None]:
    """``n`` final answers sampled at temperature 1 (None: cut, no EOS)."""
    was_training = _eval_mode(model)
    answers: list[str | None] = []
    max_new = COT_MAX_NEW if cot else DIRECT_MAX_NEW
    while len(answers) < n:
        m = min(batch, n - len(answers))
        texts, _ = generate(model, [problem.prompt], max_new=max_new, greedy=False, samples=m, generator=generator)
        answers += [final_answer(t, cot) for t in texts]
    model.train(was_training)
    return answers


def evaluate_sampled(
    model: LlamaForCausalLM,
    problems: Sequence[Problem],
    n: int,
    *,
    cot: bool,
    seed: int,
) -> dict:
    """pass@k for k = 1, 2, 4, ..., n by the unbiased estimator from ``n``
    samples per problem; max confidence = frequency of the modal answer."""
    generator = torch.Generator().manual_seed(seed)
    ks = ks_up_to(n)
    per_k: dict[int, list[float]] = {k: [] for k in ks}
    conf, correct = [], []
    for p in problems:
        answers = sample_answers(model, p, n, cot=cot, generator=generator)
        c = sum(a == p.answer for a in answers)
        for k in ks:
            per_k[k].append(pass_at_k(n, c, k))
        top, count = Counter(answers).most_common(1)[0]
        conf.append(count / n)
        correct.append(top == p.answer)
    return {
        "samples_per_problem": n,
        "pass_at_k": {str(k): float(np.mean(v)) for k, v in per_k.items()},
        "modal_answer_confidence": confidence_summary(conf, correct),
    }
