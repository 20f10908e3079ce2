"""The DCO factor F(N, p) and loss against exact rational arithmetic and autograd."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
import torch

from training.factor import dco_loss, factor, log_factor

NS = (1, 2, 4, 16, 256, 4096)
PS = (
    1e-12,
    1e-9,
    3e-7,
    1e-5,
    1e-4,
    1e-3,
    0.01,
    0.05,
    0.1,
    0.25,
    0.5,
    0.75,
    0.9,
    0.99,
    0.999,
    1 - 1e-5,
    1 - 1e-7,
    1 - 1e-9,
    1 - 1e-12,
)


def exact_log(q: Fraction) -> float:
    """log of a positive rational to float precision (relative, also near 1)."""
    if abs(q - 1) < Fraction(1, 2):
        return math.log1p(float(q - 1))
    return math.log(q.numerator) - math.log(q.denominator)


def exact_log_factor(n: int, p: float) -> float:
    """log F(N, p) for the float p taken as an exact rational."""
    q = Fraction(p)
    return exact_log(n * q * (1 - q) ** (n - 1) / (1 - (1 - q) ** n))


@pytest.fixture(scope="module")
def exact() -> dict[tuple[int, float], float]:
    return {(n, p): exact_log_factor(n, p) for n in NS for p in PS}


def test_float64_matches_exact_rationals(exact: dict[tuple[int, float], float]) -> None:
    for n in NS:
        log_p = torch.tensor([math.log(p) for p in PS], dtype=torch.float64)
        got_log = log_factor(log_p, n).tolist()
        got = factor(log_p, n).tolist()
        for p, g_log, g in zip(PS, got_log, got, strict=True):
            want = exact[(n, p)]
            # |log F - log F*| < 1e-9 is a relative error < 1e-9 on F, even
            # where F itself is below float64's range (N = 4096, p near 1).
            assert abs(g_log - want) < 1e-9, (n, p, g_log, want)
            if want > -700:
                assert abs(g / math.exp(want) - 1) < 1e-9, (n, p)


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-4), (torch.bfloat16, 1e-4)])
def test_low_precision_is_sensible(
    dtype: torch.dtype, tol: float, exact: dict[tuple[int, float], float]
) -> None:
    for n in NS:
        log_p = torch.tensor([math.log(p) for p in PS], dtype=dtype)
        got = factor(log_p, n)
        assert got.dtype == torch.float32  # half precision is computed in float32
        for p_in, g in zip(log_p.double().tolist(), got.tolist(), strict=True):
            # compare at the p the low-precision input really holds
            want = math.exp(exact_log_factor(n, math.exp(p_in))) if p_in < 0 else float(n == 1)
            if want > 1e-30:
                assert abs(g / want - 1) < tol * max(1.0, abs(math.log(want))), (n, p_in, g, want)
            else:
                assert g < 1e-25
            assert 0.0 <= g <= 1.0 + 1e-6


def test_n_one_is_cross_entropy() -> None:
    log_p = torch.linspace(-40, 0, 101, dtype=torch.float64)
    assert torch.equal(factor(log_p, 1), torch.ones_like(log_p))
    assert torch.allclose(dco_loss(log_p, 1), -log_p)


def test_limits_and_monotone_decrease() -> None:
    log_p = torch.linspace(-60, 0, 2001, dtype=torch.float64)
    for n in NS[1:]:
        f = factor(log_p, n)
        assert torch.all(f[1:] <= f[:-1] * (1 + 1e-12)), n  # falls as p grows
        assert f[0] == pytest.approx(1.0, abs=1e-12)  # p -> 0
        assert f[-1] == 0.0  # p = 1
        tiny = torch.tensor([float("-inf"), -1e4, -745.0], dtype=torch.float64)
        assert torch.allclose(factor(tiny, n), torch.ones(3, dtype=torch.float64))
        assert factor(torch.tensor([-1e-20], dtype=torch.float64), n).item() < 1e-15


def test_huge_n_with_underflowing_p_stays_finite() -> None:
    """Whole-proof p underflows float32 (e^-139) while N p does not: F must
    still be right, not nan."""
    n = math.exp(123.0)
    log_p = torch.tensor([-139.0, -123.0, -100.0])
    got = factor(log_p, n).double()
    for lp, g in zip(log_p.tolist(), got.tolist(), strict=True):
        x = math.exp(lp + 123.0)  # N p; here (1 - p)^N = exp(-N p) to float precision
        want = x * math.exp(-x) / -math.expm1(-x)
        assert g == pytest.approx(want, rel=1e-4), (lp, g, want)
    assert torch.all(torch.isfinite(dco_loss(log_p, n)))


def test_large_n_cuts_off_confident_examples() -> None:
    # F ~ 0 once p >> 1/N: the paper's reason to refill the batch.
    n = 256
    f = factor(torch.log(torch.tensor([1 / 2560, 10 / 256], dtype=torch.float64)), n)
    assert f[0] > 0.9 and f[1] < 1e-3


def test_gradient_matches_autograd_of_the_dco_loss() -> None:
    """d/dlog p of -log(1 - (1 - p)^N), computed naively by autograd in float64
    where it is representable, is -F(N, p): the CE gradient times F."""
    for n in NS:
        for p in PS:
            log_p = torch.tensor(math.log(p), dtype=torch.float64, requires_grad=True)
            q = torch.exp(log_p)
            naive = -torch.log(1 - (1 - q) ** n)
            if not torch.isfinite(naive) or (1 - q) ** n in (0.0, 1.0) or n * p < 1e-6:
                continue  # the naive formula has no precision left here
            (grad,) = torch.autograd.grad(naive, log_p)
            want = factor(log_p.detach(), n).item()
            assert -grad.item() == pytest.approx(want, rel=1e-6, abs=1e-300), (n, p)
            ours = log_p.detach().clone().requires_grad_(True)
            (g2,) = torch.autograd.grad(dco_loss(ours, n), ours)
            assert -g2.item() == pytest.approx(want, rel=1e-6, abs=1e-300), (n, p)
            assert dco_loss(log_p.detach(), n).item() == pytest.approx(naive.item(), rel=1e-6)


def test_dco_loss_matches_exact_rationals() -> None:
    for n in NS:
        log_p = torch.tensor([math.log(p) for p in PS], dtype=torch.float64)
        for p, got in zip(PS, dco_loss(log_p, n).tolist(), strict=True):
            want = -exact_log(1 - (1 - Fraction(p)) ** n)  # -log of pass@N coverage
            assert got == pytest.approx(want, rel=1e-9, abs=1e-15), (n, p)


def test_dco_loss_is_finite_where_the_naive_formula_is_not() -> None:
    log_p = torch.tensor([-800.0, -50.0, -1e-15], dtype=torch.float64, requires_grad=True)
    loss = dco_loss(log_p, 16)
    assert torch.all(torch.isfinite(loss))
    assert loss[0].item() == pytest.approx(800 - math.log(16), rel=1e-12)
    loss.sum().backward()
    assert torch.all(torch.isfinite(log_p.grad))


def test_bad_n_is_rejected() -> None:
    with pytest.raises(ValueError):
        factor(torch.zeros(1), 0.5)
