"""The DCO factor and loss, in log space from log p.

For an example whose target has probability ``p`` under the model, pass@N
coverage is ``1 - (1 - p)^N`` and the DCO loss is ``-log(1 - (1 - p)^N)``.
Its gradient is the cross-entropy gradient times

    F(N, p) = N p (1 - p)^(N-1) / (1 - (1 - p)^N)

computed here as

    log F = log N + log p + (N-1) log(1-p) - log(1 - (1-p)^N)

with both ``log(1 - exp(x))`` terms through :func:`log1mexp`, which is accurate
for ``x`` near 0 (p close to 1) as well as very negative (p tiny), and
``m log(1 - p)`` as ``-exp(log m + log(-log(1 - p)))``, which stays finite for
any N, also where p underflows but N p does not (whole proofs in float32). Where ``N p`` itself is tiny, the
expansion ``log F = -(N-1) p / 2 + O((N p)^2)`` is used (F -> 1 as p -> 0).

Half-precision inputs are computed (and returned) in float32: log p of a whole
proof is a sum of hundreds of token log-probs and 8 bits of mantissa cannot
hold it. Everything here is per example, so the cost is negligible.
"""

from __future__ import annotations

import math

import torch

# Below log(N p) = SMALL the second-order expansion is exact to ~(N p)^2 < 1e-17.
_SMALL = -20.0


def _compute_dtype(log_p: torch.Tensor) -> torch.Tensor:
    if log_p.dtype in (torch.float16, torch.bfloat16):
        return log_p.float()
    return log_p


def log1mexp(x: torch.Tensor) -> torch.Tensor:
    """``log(1 - exp(x))`` for ``x <= 0``, accurate everywhere (Mächler 2012):
    ``log(-expm1(x))`` near 0, ``log1p(-exp(x))`` further out."""
    return torch.where(x > -math.log(2.0), torch.log(-torch.expm1(x)), torch.log1p(-torch.exp(x)))


def _times_log1m(log_p: torch.Tensor, m: float) -> torch.Tensor:
    """``m * log(1 - p)``, computed as ``-exp(log m + log(-log(1 - p)))`` so
    that a huge ``m`` (N) never overflows the dtype, even where ``p``
    underflows; ``log(-log(1 - p)) = log p + log1p(p/2 + ...)`` for tiny p."""
    if m == 0:
        return torch.zeros_like(log_p)
    small = log_p < _SMALL
    # Each branch of the where gets only inputs where it is finite, so no
    # inf/nan leaks into the gradient from the branch that is not selected;
    # p = 1 exactly is moved to the largest p below 1 (F(N, 1) is set to 0 in
    # log_factor).
    lp_small = torch.where(small, log_p, torch.full_like(log_p, 2 * _SMALL))
    lp_big = torch.where(small, torch.full_like(log_p, -1.0), log_p)
    lp_big = lp_big.clamp(max=-torch.finfo(log_p.dtype).tiny)
    inner = torch.where(
        small, lp_small + torch.log1p(torch.exp(lp_small) / 2), torch.log(-log1mexp(lp_big))
    )
    # Past e^80, (1 - p)^m is 0 in any precision; the clamp keeps the value
    # finite (and the gradient 0, its limit) instead of inf/nan.
    return -torch.exp((math.log(m) + inner).clamp(max=80.0))


def _check_n(n: float) -> None:
    if not n >= 1:
        raise ValueError(f"N must be >= 1, got {n}")


@torch.no_grad()
def log_factor(log_p: torch.Tensor, n: float) -> torch.Tensor:
    """``log F(N, p)`` elementwise from ``log p`` (values > 0 are clamped to 0,
    i.e. p = 1). No gradient flows: the factor is a weight, not a loss term."""
    _check_n(n)
    log_p = _compute_dtype(log_p.detach()).clamp(max=0.0)
    if n == 1:
        return torch.zeros_like(log_p)  # CE: exactly 1, not 1 up to rounding
    log_n = math.log(n)
    exact = log_n + log_p + _times_log1m(log_p, n - 1) - log1mexp(_times_log1m(log_p, n))
    tiny = -(n - 1) / 2 * torch.exp(log_p)
    out = torch.where(log_p + log_n < _SMALL, tiny, exact)
    # F(N, 1) = 0 exactly; F <= 1 (rounding in float32 can leave log F a hair above 0).
    return torch.where(log_p == 0, float("-inf"), out.clamp(max=0.0))


def factor(log_p: torch.Tensor, n: float) -> torch.Tensor:
    """``F(N, p)``: the weight DCO puts on an example's cross-entropy gradient.
    F(1, p) = 1; F -> 1 as p -> 0; F falls monotonically in p; for large N it is
    ~0 once p >> 1/N."""
    return torch.exp(log_factor(log_p, n))


def dco_loss(log_p: torch.Tensor, n: float) -> torch.Tensor:
    """``-log(1 - (1 - p)^N)`` from ``log p``, differentiable; its gradient with
    respect to log p is ``-F(N, p)``. Used for logging the objective's value;
    training uses ``F.detach() * NLL``, which has the same gradient."""
    _check_n(n)
    log_p = _compute_dtype(log_p).clamp(max=0.0)
    if n == 1:
        return -log_p
    log_n = math.log(n)
    tiny = log_p + log_n < _SMALL
    # Each branch gets inputs where it is finite, so that no inf/nan leaks
    # into the gradient through the branch torch.where does not select.
    exact_lp = torch.where(tiny, torch.full_like(log_p, _SMALL), log_p)
    exact = -log1mexp(_times_log1m(exact_lp, n))
    tiny_lp = torch.where(tiny, log_p, torch.full_like(log_p, _SMALL))
    approx = -(log_n + tiny_lp) + (n - 1) / 2 * torch.exp(tiny_lp)
    return torch.where(tiny, approx, exact)
