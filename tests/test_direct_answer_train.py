"""The study's training step: DCO and DCOa weigh confident examples down.

The models here are real (tiny) LMs trained for a few dozen steps to be
confident on one problem and ignorant of another."""

from __future__ import annotations

import copy

import pytest
import torch

from benchmarks.direct_answer.model import build, units
from benchmarks.direct_answer.task import Problem
from benchmarks.direct_answer.train import (
    FinetuneConfig,
    VerifierCounter,
    finetune,
    sampler,
    step_loss,
)
from training.factor import factor
from training.losses import LossConfig, make_loss
from training.model import ModelConfig

KNOWN, UNKNOWN = Problem(347, 86), Problem(59, 71)
TINY = ModelConfig(hidden=32, layers=1, heads=2, mlp=64, attention="eager")
CE = make_loss(LossConfig("ce"))


def _confident_model(cot: bool, at_least: float, at_most: float = 1.0) -> torch.nn.Module:
    """A tiny model trained on KNOWN alone until p(KNOWN) is in [at_least, at_most]."""
    torch.set_num_threads(1)
    model = build(TINY, seed=0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(500):
        out = step_loss(model, CE, [KNOWN] * 4, cot)
        if at_least <= float(out.logp[0].exp()) <= at_most:
            return model
        out.loss.backward()
        opt.step()
        opt.zero_grad()
    raise AssertionError("the model did not reach the requested confidence")


@pytest.fixture(scope="module")
def direct_model() -> torch.nn.Module:
    return _confident_model(cot=False, at_least=0.3, at_most=0.9)


def test_dco_weights_fall_with_confidence_and_ce_weights_do_not(direct_model: torch.nn.Module) -> None:
    batch = [KNOWN, UNKNOWN]
    ce = step_loss(direct_model, CE, batch, cot=False)
    assert ce.logp[0] > ce.logp[1]  # the model is confident on KNOWN only
    assert ce.factors.tolist() == [1.0, 1.0]
    previous = None
    for n in (4, 16, 64, 256):
        w = step_loss(direct_model, make_loss(LossConfig("dco", n=n)), batch, cot=False).factors
        assert torch.allclose(w, factor(ce.logp, n))
        assert w[0] < w[1]  # the confident example counts less
        assert w[1] > 0.5  # an example the model does not know keeps ~ its CE weight
        if previous is not None:
            assert w[0] <= previous  # larger N: a given confidence counts less
        previous = float(w[0])
    assert previous < 0.01  # p >> 1/256: DCO N=256 all but ignores it


def test_a_dco_step_moves_a_confident_example_less_than_a_ce_step(direct_model: torch.nn.Module) -> None:
    def gain(loss: LossConfig, problem: Problem) -> float:
        """Change of log p(problem) after one small SGD step on it alone."""
        model = copy.deepcopy(direct_model)
        opt = torch.optim.SGD(model.parameters(), lr=1e-3)  # small: first-order regime
        out = step_loss(model, make_loss(loss), [problem], cot=False)
        out.loss.backward()
        opt.step()
        with torch.no_grad():
            after = step_loss(model, CE, [problem], cot=False).logp
        return float(after[0] - out.logp[0])

    ce, dco = LossConfig("ce"), LossConfig("dco", n=256)
    ce_known, ce_unknown = gain(ce, KNOWN), gain(ce, UNKNOWN)
    dco_known, dco_unknown = gain(dco, KNOWN), gain(dco, UNKNOWN)
    assert ce_known > 0 and ce_unknown > 0
    # The unknown example is learnt about as fast; the confident one barely moves.
    assert dco_unknown > 0.5 * ce_unknown
    assert abs(dco_known) < 0.1 * ce_known


def test_dcoa_discards_examples_the_model_already_solves() -> None:
    model = _confident_model(cot=True, at_least=0.95)
    loss = make_loss(
        LossConfig("dcoa", n=16, samples=16),
        sample=sampler(True, torch.Generator().manual_seed(0)),
        verify=VerifierCounter(cot=True),
    )
    p_hat = loss.estimate(model, [KNOWN.prompt, UNKNOWN.prompt])
    assert p_hat[0] > 0.5 and p_hat[1] == 0.0
    history = finetune(
        model, units([KNOWN, UNKNOWN, KNOWN, UNKNOWN], cot=True), LossConfig("dcoa", n=16, samples=16),
        FinetuneConfig(epochs=1, batch=2), cot=True, seed=0, on_epoch=lambda _e: {},
    )  # fmt: skip
    (epoch,) = history
    # Both copies of KNOWN are dropped (F(16, p̂) < 0.01); the UNKNOWN ones,
    # p̂ = 0 so F = 1, fill the batches.
    assert epoch["discarded"] >= 2
    assert epoch["examples_stepped"] >= 2
    assert epoch["mean_factor"] == pytest.approx(1.0)
    assert 0.0 < epoch["mean_p_hat"] < 1.0
