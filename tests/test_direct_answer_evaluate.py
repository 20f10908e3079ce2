"""Evaluation: exact pass@k agrees with the unbiased estimator on real samples,
decoding agrees with scoring. The model is a real (small) digit writer
trained for a few dozen steps."""

from __future__ import annotations

import math

import pytest
import torch

from benchmarks.direct_answer.evaluate import (
    confidence_summary,
    evaluate_direct,
    evaluate_sampled,
    exact_pass_at_k,
)
from benchmarks.direct_answer.model import ModelConfig, build
from benchmarks.direct_answer.task import Problem, encode, target_length

PROBLEMS = [Problem(23, 45), Problem(34, 86), Problem(12, 70), Problem(99, 11)]


@pytest.fixture(scope="module")
def trained() -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor]:
    """Trained on PROBLEMS until every answer has probability in (0.02, 0.9):
    neither certain nor hopeless, so every pass@k has something to measure."""
    torch.set_num_threads(1)
    x, y = encode(PROBLEMS, cot=False)
    m = build(target_length(False), ModelConfig(embed=8, hidden=32), seed=0)
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    for _ in range(300):
        lp = m.logp(x, y)
        if float(lp.detach().exp().min()) > 0.02:
            break
        (-lp.mean()).backward()
        opt.step()
        opt.zero_grad()
    m.eval()
    with torch.no_grad():
        p = m.logp(x, y).exp()
    assert float(p.min()) > 0.02 and float(p.max()) < 0.9
    return m, x, y


def test_decoding_and_scoring_agree(trained: tuple) -> None:
    m, x, _ = trained
    g = torch.Generator().manual_seed(1)
    for greedy in (True, False):
        tokens, lp = m.write(x.repeat(8, 1), greedy=greedy, generator=g)
        with torch.no_grad():
            scored = m.logp(x.repeat(8, 1), tokens)
        assert torch.allclose(scored, lp, atol=1e-4)


def test_greedy_confidence_is_the_greedy_answers_probability(trained: tuple) -> None:
    m, x, y = trained
    out = evaluate_direct(m, x, y, [1, 4])
    tokens, lp = m.write(x, greedy=True)
    g = out["greedy_confidence"]
    assert g["all"]["mean"] == pytest.approx(float(lp.exp().mean()), abs=1e-6)
    assert g["correct"]["n"] + g["wrong"]["n"] == len(PROBLEMS)


def test_exact_pass_at_k_matches_the_unbiased_estimator_on_samples(trained: tuple) -> None:
    m, x, y = trained
    n, ks = 4096, [1, 4, 16, 64]
    with torch.no_grad():
        p = m.logp(x, y).exp().double()
    exact = exact_pass_at_k(p.log(), ks)
    sampled = evaluate_sampled(m, x, y, n, seed=0)["pass_at_k"]
    for k in ks:
        # Delta-method standard error of the mean over problems of the
        # estimator from n draws: k (1-p)^(k-1) sqrt(p(1-p)/n) per problem.
        se = float(torch.sqrt(((k * (1 - p) ** (k - 1)) ** 2 * p * (1 - p) / n).sum())) / len(
            PROBLEMS
        )
        assert abs(sampled[str(k)] - exact[str(k)]) < 5 * se + 1e-3, (
            k,
            sampled[str(k)],
            exact[str(k)],
            se,
        )
    assert 0.0 < exact["1"] < exact["4"] < exact["16"] < exact["64"] <= 1.0


def test_exact_pass_at_k_edge_cases() -> None:
    out = exact_pass_at_k(torch.tensor([0.0, -math.inf, math.log(0.5)]), [1, 2])
    assert out["1"] == pytest.approx((1 + 0 + 0.5) / 3)
    assert out["2"] == pytest.approx((1 + 0 + 0.75) / 3)
    # Tiny p: no underflow to 0 (1 - (1 - 1e-12)^1000 = 1e-9).
    assert exact_pass_at_k(torch.tensor([math.log(1e-12)]), [1000])["1000"] == pytest.approx(
        1e-9, rel=1e-6
    )


def test_confidence_summary_splits_right_and_wrong() -> None:
    s = confidence_summary([0.05, 0.95, 0.55, 0.95], [False, True, False, False])
    assert s["accuracy"] == 0.25
    assert s["correct"]["n"] == 1 and s["wrong"]["n"] == 3
    assert s["wrong"]["mean"] == pytest.approx((0.05 + 0.55 + 0.95) / 3)
