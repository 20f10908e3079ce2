"""training.sampling's per-token draw (inverse-CDF sampling): the
frequencies follow the given probabilities (chi-square at p = 0.001), a
zero-probability token is never drawn, the top-k filter and the temperature
act as before, and a seeded generator repeats its draws; decode() with a
real model's KV cache."""

from __future__ import annotations

import math

import torch

from training.sampling import _pick, draw_rows


def chi2_critical(dof: int, z: float = 3.09) -> float:
    a = 2 / (9 * dof)
    return dof * (1 - a + z * math.sqrt(a)) ** 3


def frequencies(idx: torch.Tensor, vocab: int) -> torch.Tensor:
    return torch.bincount(idx, minlength=vocab).double()


def test_draws_follow_the_probabilities_and_skip_zeros() -> None:
    probs = torch.tensor([0.5, 0.0, 0.2, 0.15, 0.1, 0.0, 0.05], dtype=torch.float32)
    n = 40_000
    g = torch.Generator().manual_seed(3)
    idx = draw_rows(probs.expand(n, -1).contiguous(), g)
    seen = frequencies(idx, len(probs))
    assert seen[1] == 0 and seen[5] == 0
    nz = probs > 0
    expected = n * probs[nz].double()
    chi2 = float(((seen[nz] - expected) ** 2 / expected).sum())
    assert chi2 < chi2_critical(int(nz.sum()) - 1), (chi2, seen)
    again = draw_rows(probs.expand(n, -1).contiguous(), torch.Generator().manual_seed(3))
    assert torch.equal(idx, again)


def test_pick_with_temperature_and_top_k() -> None:
    logits = torch.log(torch.tensor([0.4, 0.3, 0.2, 0.1]))
    n = 40_000
    g = torch.Generator().manual_seed(5)
    rows = logits.expand(n, -1).contiguous()
    top2 = frequencies(_pick(rows, False, 1.0, 2, g), 4)
    assert top2[2] == 0 and top2[3] == 0
    assert abs(top2[0] / n - 0.4 / 0.7) < 0.015  # renormalised over the top 2
    hot = frequencies(_pick(rows, False, 2.0, None, g), 4)
    tempered = torch.softmax(logits / 2.0, dim=-1).double() * n
    chi2 = float(((hot - tempered) ** 2 / tempered).sum())
    assert chi2 < chi2_critical(3), (chi2, hot)
    assert torch.equal(_pick(rows[:3], True, 1.0, None, None), torch.zeros(3, dtype=torch.long))


def test_greedy_decode_uses_the_cache_without_deprecation_warnings() -> None:
    """decode() on a real (tiny, random) Llama: each greedy token is the argmax
    of a full forward pass over the prompt and the tokens so far (the KV cache
    is passed back correctly), and no FutureWarning is raised (transformers 5
    renamed ``past_key_values`` to ``cache``; the old name warned on every
    call, once per search worker)."""
    import warnings

    from transformers import LlamaConfig, LlamaForCausalLM

    from training.sampling import decode

    torch.manual_seed(0)
    model = LlamaForCausalLM(
        LlamaConfig(
            vocab_size=40,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=4,
        )
    ).eval()
    prompt = [5, 9, 13, 2]
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        out = decode(model, [prompt], eos=0, pad=1, max_new_tokens=6, greedy=True)
    tokens = out.tokens[0]
    assert len(tokens) >= 3  # seeded: the check below covers several cached steps
    seq = list(prompt)
    with torch.no_grad():
        for tok in tokens:
            assert tok == int(model(input_ids=torch.tensor([seq])).logits[0, -1].argmax())
            seq.append(tok)
