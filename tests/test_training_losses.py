"""CE / DCOstep / DCO / DCOa as strategies of one loss interface, on a real
(tiny, freshly initialised) causal LM and the tiny Coq benchmark."""

from __future__ import annotations

import argparse
import math

import pytest
import torch
from helpers import make_benchmark

from benchmarks.loader import load_benchmark
from lean_env.errors import UserError
from training.data import PromptFormat, build_units, collate, corpus_texts, pad_id
from training.factor import dco_loss, factor
from training.losses import LossConfig, make_loss
from training.model import ModelConfig, build_model
from training.sampling import text_sampler
from training.scoring import row_logprobs, unit_sums
from training.tokenizer import train_tokenizer

FMT = PromptFormat(max_tactic_tokens=16)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory):
    bench = make_benchmark(tmp_path_factory.mktemp("tiny"))
    steps = list(load_benchmark(str(bench)).steps("train"))
    tok = train_tokenizer(corpus_texts(steps), 512)
    model = build_model(ModelConfig(hidden=32, layers=2, heads=2, mlp=64), tok, 512, 0)
    return steps, tok, model


def _grads(model: torch.nn.Module, loss: torch.Tensor) -> list[torch.Tensor]:
    model.zero_grad()
    loss.backward()
    return [p.grad.clone() for p in model.parameters() if p.grad is not None]


def test_ce_is_the_mean_sequence_nll(setup) -> None:
    steps, tok, model = setup
    batch = collate(build_units(steps, tok, FMT).units, pad_id(tok))
    out = make_loss(LossConfig("ce")).compute_loss(model, batch)
    logp, ntok = row_logprobs(model, batch)
    assert out.loss.item() == pytest.approx(float(-logp.detach().mean()), rel=1e-5)
    assert torch.equal(out.factors, torch.ones(15))
    assert out.tokens == int(ntok.sum())
    normalized = make_loss(LossConfig("ce", length_normalize=True)).compute_loss(model, batch)
    assert normalized.loss.item() == pytest.approx(float((-logp.detach() / ntok).mean()), rel=1e-5)


def test_prompt_loss_adds_the_prompt_tokens_nll_per_unit(setup) -> None:
    """The auxiliary term is the summed next-token NLL of every real prompt
    token after the first (padding never scored), per unit, times the weight;
    computed here by hand from one full forward pass per row, unpadded."""
    steps, tok, model = setup
    units = build_units(steps, tok, FMT).units
    batch = collate(units, pad_id(tok))
    plain = make_loss(LossConfig("ce")).compute_loss(model, batch).loss.item()
    with_prompt = make_loss(LossConfig("ce", prompt_weight=0.25)).compute_loss(model, batch)
    by_hand = 0.0
    with torch.no_grad():
        for unit in units:
            ids = torch.tensor([unit.rows[0].prompt])
            logits = model(input_ids=ids).logits[0, :-1].float()
            by_hand += float(torch.nn.functional.cross_entropy(logits, ids[0, 1:], reduction="sum"))
    expected = plain + 0.25 * by_hand / len(units)
    assert with_prompt.loss.item() == pytest.approx(expected, rel=1e-4)
    # The target log-probs, the factors and the token count are unchanged.
    assert with_prompt.tokens == make_loss(LossConfig("ce")).compute_loss(model, batch).tokens
    grads = _grads(model, with_prompt.loss)
    assert any(float(g.abs().sum()) > 0 for g in grads)


@pytest.mark.parametrize("name, by_proof", [("dcostep", False), ("dco", True)])
def test_dco_gradient_is_the_paper_gradient(setup, name: str, by_proof: bool) -> None:
    """F.detach() * NLL has the gradient of -log(1 - (1 - p)^N) through the
    whole model; for DCO, p is the product of a proof's step probabilities."""
    steps, tok, model = setup
    units = build_units(steps, tok, FMT, by_proof=by_proof).units
    assert len(units) == (3 if by_proof else 15)
    batch = collate(units, pad_id(tok))
    row_lp, _ = row_logprobs(model, batch)
    logp = unit_sums(row_lp, batch)
    # N p ~ 1 at the median p of this untrained model, so the factors spread
    # over (0, 1) instead of all being ~1.
    n = math.exp(-float(logp.detach().median()))
    loss = make_loss(LossConfig(name, n=n))
    out = loss.compute_loss(model, batch)
    assert torch.allclose(out.logp, logp.detach())
    assert torch.allclose(out.factors, factor(logp.detach(), n).float())
    assert 0.05 < float(out.factors.mean()) < 0.95  # a real weighting
    ours = _grads(model, loss.compute_loss(model, batch).loss)
    reference = _grads(model, dco_loss(unit_sums(row_logprobs(model, batch)[0], batch), n).mean())
    for a, b in zip(ours, reference, strict=True):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-7)


def test_probe_agrees_with_the_training_forward(setup) -> None:
    steps, tok, model = setup
    batch = collate(build_units(steps, tok, FMT).units, pad_id(tok))
    loss = make_loss(LossConfig("dcostep", n=1e12))
    assert loss.needs_probe and not make_loss(LossConfig("ce")).needs_probe
    assert not make_loss(LossConfig("dcostep", n=8, epsilon=0)).needs_probe
    assert torch.allclose(loss.probe(model, batch), loss.compute_loss(model, batch).factors)


def test_dcoa_estimates_p_by_sampling_and_verifying(setup) -> None:
    steps, tok, model = setup
    units = build_units(steps, tok, FMT).units[:3]
    batch = collate(units, pad_id(tok))
    calls: list[tuple[str, str]] = []
    accept = {units[0].states[0]}  # the verifier accepts anything for the first state only

    def verify(problem: str, completion: str) -> bool:
        calls.append((problem, completion))
        return problem in accept

    loss = make_loss(
        LossConfig("dcoa", n=4, samples=5), sample=text_sampler(tok, FMT), verify=verify
    )
    f = loss.probe(model, batch)
    assert len(calls) == 15  # 5 draws for each of 3 problems
    assert {p for p, _ in calls} == {u.states[0] for u in units}
    # p_hat = 1 -> F(4, 1) = 0; p_hat = 0 -> F = 1 (the limit)
    assert f.tolist() == [0.0, 1.0, 1.0]
    batch.factors = f
    out = loss.compute_loss(model, batch)
    assert out.factors.tolist() == [0.0, 1.0, 1.0] and len(calls) == 15  # reused, not re-sampled


def test_loss_config_errors_are_user_errors() -> None:
    for bad in (
        {"name": "kl"},
        {"name": "dcostep", "n": 0.5},
        {"name": "dco", "epsilon": 1.0},
        {"name": "dcoa", "samples": 0},
        {"name": "ce", "prompt_weight": -1.0},
        {"name": "ce", "prompt_weight": math.nan},
        {"name": "dcoa", "prompt_weight": 0.1},
    ):
        with pytest.raises(UserError):
            LossConfig(**bad)
    with pytest.raises(UserError, match="verifier"):
        make_loss(LossConfig("dcoa", n=4))


def test_default_thresholds_and_normalisation() -> None:
    assert LossConfig("dcostep", n=8).threshold == 1e-3
    assert LossConfig("dco", n=8).threshold == 1e-3
    assert LossConfig("dcoa", n=8).threshold == 0.01
    assert LossConfig("ce", n=8).effective_n == 1
    assert LossConfig("dcostep", n=8).length_normalize is False


def test_dco_train_defaults_to_the_recipe_prompt_loss_where_it_applies() -> None:
    """`dco train` without --prompt-loss: the recipe's weight from scratch, none
    for a pretrained base model or DCOa; an explicit value always wins."""
    from prover.commands.train import add_arguments, config_from_args
    from training.trainer import RECIPE_PROMPT_LOSS

    def weight(*argv: str) -> float:
        parser = argparse.ArgumentParser()
        add_arguments(parser)
        return config_from_args(parser.parse_args(["--out", "m", *argv])).loss.prompt_weight

    assert RECIPE_PROMPT_LOSS > 0
    assert weight() == weight("--loss", "dcostep", "--n", "8") == RECIPE_PROMPT_LOSS
    assert weight("--base-model", "some/dir") == 0.0
    assert weight("--loss", "dcoa", "--n", "4") == 0.0
    assert weight("--prompt-loss", "0") == 0.0
    assert weight("--base-model", "d", "--prompt-loss", "0.5") == 0.5
