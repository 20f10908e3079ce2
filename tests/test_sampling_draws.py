"""training.sampling's per-token draw (inverse-CDF sampling): the
frequencies follow the given probabilities (chi-square at p = 0.001), a
zero-probability token is never drawn, the top-k filter and the temperature
act as before, and a seeded generator repeats its draws."""

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
