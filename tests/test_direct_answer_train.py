"""The study's training step: DCO and DCOa weigh confident examples down and
the refill drops them. The models are real (small) digit writers trained for
a few dozen steps to be confident on one problem and ignorant of another."""

from __future__ import annotations

import pytest
import torch

from benchmarks.direct_answer.model import ModelConfig, build
from benchmarks.direct_answer.task import Problem, encode, target_length
from benchmarks.direct_answer.train import FinetuneConfig, Trainer, finetune, label, weights
from training.factor import factor
from training.losses import LossConfig

KNOWN, UNKNOWN = Problem(47, 86), Problem(59, 71)
SMALL = ModelConfig(embed=8, hidden=32)


def _confident_model(cot: bool, at_least: float, at_most: float = 1.0) -> torch.nn.Module:
    """A small model trained on KNOWN alone until p(KNOWN) is in [at_least, at_most]."""
    torch.set_num_threads(1)
    model = build(target_length(cot), SMALL, seed=0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    x, y = encode([KNOWN], cot)
    for _ in range(500):
        lp = model.logp(x, y)
        if at_least <= float(lp.detach().exp()) <= at_most:
            return model
        (-lp.mean()).backward()
        opt.step()
        opt.zero_grad()
    raise AssertionError("the model did not reach the requested confidence")


@pytest.fixture(scope="module")
def direct_model() -> torch.nn.Module:
    return _confident_model(cot=False, at_least=0.3, at_most=0.9)


def test_dco_weights_fall_with_confidence_and_ce_weights_do_not(
    direct_model: torch.nn.Module,
) -> None:
    x, y = encode([KNOWN, UNKNOWN], cot=False)
    g = torch.Generator().manual_seed(0)
    ce, _ = weights(direct_model, x, y, LossConfig("ce"), g)
    assert ce.tolist() == [1.0, 1.0]
    with torch.no_grad():
        log_p = direct_model.logp(x, y)
    assert log_p[0] > log_p[1]  # confident on KNOWN only
    previous = None
    for n in (4, 16, 64, 256):
        w, _ = weights(direct_model, x, y, LossConfig("dco", n=n), g)
        assert torch.allclose(w, factor(log_p, n))
        assert w[0] < w[1] and w[1] > 0.5  # the unknown example keeps ~ its CE weight
        if previous is not None:
            assert w[0] <= previous  # larger N: a given confidence counts less
        previous = float(w[0])
    assert previous < 1e-3  # p >> 1/256: below the refill threshold


def test_refill_drops_confident_examples_and_trains_on_the_rest(
    direct_model: torch.nn.Module,
) -> None:
    import copy

    model = copy.deepcopy(direct_model)
    x, y = encode([KNOWN, UNKNOWN] * 4, cot=False)
    trainer = Trainer(
        model, LossConfig("dco", n=256), FinetuneConfig(batch=4, warmup_steps=1), seed=0
    )
    stats = trainer.epoch(x, y)
    # Every KNOWN copy has F(256, p) < epsilon: discarded; the UNKNOWN ones fill batches.
    assert stats.discarded == 4 and stats.stepped == 4 and stats.steps == 1
    assert stats.factor_sum / stats.stepped > 0.5
    ce_stats = Trainer(
        copy.deepcopy(direct_model), LossConfig("ce"), FinetuneConfig(batch=4), seed=0
    ).epoch(x, y)
    assert ce_stats.discarded == 0 and ce_stats.stepped == 8 and ce_stats.steps == 2


def test_dcoa_estimates_p_hat_by_sampling_and_verifying() -> None:
    model = _confident_model(cot=True, at_least=0.95)
    x, y = encode([KNOWN, UNKNOWN], cot=True)
    loss = LossConfig("dcoa", n=16, samples=32)
    w, p_hat = weights(model, x, y, loss, torch.Generator().manual_seed(0))
    assert p_hat is not None and p_hat[0] > 0.8 and p_hat[1] == 0.0
    assert w[1] == 1.0 and w[0] < loss.threshold  # F(16, p̂ > 0.8) ~ 0: dropped
    history = finetune(
        model,
        x.repeat(2, 1),
        y.repeat(2, 1),
        loss,
        FinetuneConfig(epochs=1, batch=2),
        seed=0,
        on_epoch=lambda _e: {"seen": True},
    )
    (epoch,) = history
    assert epoch["discarded"] >= 2 and epoch["examples_stepped"] >= 2 and epoch["seen"]
    assert 0.0 < epoch["mean_p_hat"] < 1.0
    assert label(loss) == "dcoa-16" and label(LossConfig("dco", n=4096)) == "dco-4096"
