"""Evaluation: exact pass@k agrees with sampling, decoding agrees with scoring."""

from __future__ import annotations

import math

import pytest
import torch

from benchmarks.direct_answer.evaluate import (
    confidence_summary,
    evaluate_sampled,
    exact_pass_at_k,
    greedy,
)
from benchmarks.direct_answer.model import build, completion_logprobs, generate, score
from benchmarks.direct_answer.task import Problem
from benchmarks.direct_answer.train import step_loss
from training.losses import LossConfig, make_loss
from training.model import ModelConfig

PROBLEMS = [Problem(23, 45), Problem(347, 86), Problem(12, 7)]


@pytest.fixture(scope="module")
def model() -> torch.nn.Module:
    """A tiny model trained a little on PROBLEMS: answers neither certain nor
    hopeless, so sampled and exact pass@k both have something to measure."""
    torch.set_num_threads(1)
    m = build(ModelConfig(hidden=32, layers=1, heads=2, mlp=64, attention="eager"), seed=0)
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    ce = make_loss(LossConfig("ce"))
    for _ in range(200):
        out = step_loss(m, ce, PROBLEMS, cot=False)
        if float(out.logp.exp().min()) > 0.05:
            break
        out.loss.backward()
        opt.step()
        opt.zero_grad()
    m.eval()
    return m


def test_decoding_and_scoring_agree(model: torch.nn.Module) -> None:
    prompts = [p.prompt for p in PROBLEMS]
    g = torch.Generator().manual_seed(1)
    for greedy_ in (True, False):
        texts, lp = generate(model, prompts, max_new=8, greedy=greedy_, samples=4, generator=g)
        # The decoder's log-probability of a completion is the scorer's.
        done = [i for i, t in enumerate(texts) if t is not None and "?" not in t]
        assert done
        scored = score(model, [prompts[i // 4] for i in done], [texts[i] for i in done])
        assert torch.allclose(scored, torch.tensor([lp[i] for i in done], dtype=scored.dtype), atol=1e-4)
    # Greedy confidence is the probability of the greedy completion.
    completions, conf = greedy(model, PROBLEMS)
    assert all(c is not None for c in completions)
    scored = score(model, prompts, completions).exp()
    assert torch.allclose(scored, torch.tensor(conf, dtype=scored.dtype), atol=1e-4)


def test_exact_pass_at_k_matches_the_unbiased_estimator_on_samples(model: torch.nn.Module) -> None:
    n = 2048
    exact = exact_pass_at_k(completion_logprobs(model, PROBLEMS, cot=False), [1, 4, 16])
    sampled = evaluate_sampled(model, PROBLEMS, n, cot=False, seed=0)["pass_at_k"]
    # pass@1 is a mean of n*len(PROBLEMS) Bernoulli draws: 5 standard errors.
    se = math.sqrt(exact["1"] * (1 - exact["1"]) / (n * len(PROBLEMS)))
    assert abs(sampled["1"] - exact["1"]) < 5 * se + 1e-3
    for k in ("4", "16"):
        assert abs(sampled[k] - exact[k]) < 0.05
    assert 0.0 < exact["1"] < exact["4"] < exact["16"] <= 1.0


def test_exact_pass_at_k_edge_cases() -> None:
    out = exact_pass_at_k(torch.tensor([0.0, -math.inf, math.log(0.5)]), [1, 2])
    assert out["1"] == pytest.approx((1 + 0 + 0.5) / 3)
    assert out["2"] == pytest.approx((1 + 0 + 0.75) / 3)
    # Tiny p: no underflow to 0 (1 - (1 - 1e-12)^1000 = 1e-9).
    assert exact_pass_at_k(torch.tensor([math.log(1e-12)]), [1000])["1000"] == pytest.approx(1e-9, rel=1e-6)


def test_confidence_summary_splits_right_and_wrong() -> None:
    s = confidence_summary([0.05, 0.95, 0.55, 0.95], [False, True, False, False])
    assert s["accuracy"] == 0.25
    assert s["correct"]["n"] == 1 and s["wrong"]["n"] == 3
    assert sum(s["correct"]["histogram"]) == 1 and sum(s["wrong"]["histogram"]) == 3
    assert s["wrong"]["histogram"][0] == 1 and s["wrong"]["histogram"][-1] == 1
    assert s["wrong"]["mean"] == pytest.approx((0.05 + 0.55 + 0.95) / 3)
