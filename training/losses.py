"""The training objectives as strategies of one trainer (trl style: a new
loss overrides :meth:`Loss.weights` or :meth:`Loss.compute_loss`, never the
training loop).

Every loss is ``mean over units of  w_u * NLL_u`` where ``NLL_u = -log p_u``
is the summed negative log-likelihood of the unit's target tokens and the
weight ``w_u`` is computed without gradient:

    ce       w = 1
    dcostep  w = F(N, p(tactic | state))                  unit = one step
    dco      w = F(N, prod of the proof's step probs)     unit = one proof
    dcoa     w = F(N, p_hat), p_hat = fraction of ``samples`` completions
             drawn from the model that the verifier accepts   unit = one step

so the gradient is exactly the paper's (CE gradient times the factor). With
``length_normalize`` the NLL is divided by the unit's number of target tokens
(off by default: the paper's loss is on the sequence probability); the factor
always uses the unnormalised p.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch

from lean_env.errors import UserError

from .data import Batch
from .factor import factor
from .scoring import row_logprobs, scores, unit_sums

LOSSES = ("ce", "dco", "dcostep", "dcoa")
# The refill threshold on F: the paper's DCOa drops F < 0.01; for the
# per-step and whole-proof losses this project's default is 1e-3.
DEFAULT_EPSILON = {"ce": 0.0, "dco": 1e-3, "dcostep": 1e-3, "dcoa": 0.01}

# verify(problem, completion) -> bool; sample(model, problems, k) -> k completions each
Verifier = Callable[[str, str], bool]
Sampler = Callable[[Any, Sequence[str], int], list[list[str]]]


@dataclass(frozen=True)
class LossConfig:
    name: str = "ce"
    n: float = 1.0  # N of pass@N (N' for dcostep); ignored by ce
    epsilon: float | None = None  # refill threshold on F; None: DEFAULT_EPSILON[name]
    samples: int = 16  # dcoa: completions per example for the Monte Carlo estimate
    length_normalize: bool = False
    # Weight of an auxiliary next-token loss on the prompt (retrieved tactics
    # and state), per token relative to a target token, added unweighted by
    # F. A model trained from scratch gets ~25x more tokens of Coq to learn
    # syntax, names and copying from than the targets alone; 0: the paper's loss.
    prompt_weight: float = 0.0

    def __post_init__(self) -> None:
        if self.name not in LOSSES:
            raise UserError(f"unknown loss {self.name!r}; choose one of {', '.join(LOSSES)}")
        if not (self.n >= 1 and math.isfinite(self.n)):
            raise UserError(f"--n must be a number >= 1, got {self.n}")
        if self.epsilon is not None and not 0 <= self.epsilon < 1:
            raise UserError(f"--epsilon must be in [0, 1), got {self.epsilon}")
        if self.samples < 1:
            raise UserError(f"--samples must be >= 1, got {self.samples}")
        if not (0 <= self.prompt_weight < math.inf):
            raise UserError(f"--prompt-loss must be a number >= 0, got {self.prompt_weight}")
        if self.prompt_weight and self.name == "dcoa":
            raise UserError("--prompt-loss applies to ce, dco and dcostep, not dcoa")

    @property
    def threshold(self) -> float:
        return DEFAULT_EPSILON[self.name] if self.epsilon is None else self.epsilon

    @property
    def effective_n(self) -> float:
        return 1.0 if self.name == "ce" else self.n

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(n=self.effective_n, epsilon=self.threshold)
        return d


@dataclass
class LossOutput:
    loss: torch.Tensor  # scalar, differentiable
    factors: torch.Tensor  # [units], no grad
    logp: torch.Tensor  # [units] log p of each unit's target, no grad
    tokens: int  # scored target tokens


class Loss:
    """Cross-entropy; the base of the others."""

    by_proof = False  # units are whole proofs

    def __init__(self, config: LossConfig) -> None:
        self.config = config

    @property
    def needs_probe(self) -> bool:
        """Whether the refill must weigh candidates before training on them."""
        return False

    def weights(self, logp: torch.Tensor, batch: Batch) -> torch.Tensor:
        """Per-unit weight on the NLL, from the units' log p (no grad)."""
        return torch.ones_like(logp)

    def compute_loss(self, model: Any, batch: Batch) -> LossOutput:
        weight = self.config.prompt_weight
        row_lp, row_tokens, prompt_nll = scores(model, batch, prompt=weight > 0)
        logp = unit_sums(row_lp, batch)
        with torch.no_grad():
            w = self.weights(logp.detach(), batch)
        nll = -logp
        if self.config.length_normalize:
            nll = nll / unit_sums(row_tokens, batch).clamp(min=1)
        loss = (w * nll).mean()
        if prompt_nll is not None:
            loss = loss + weight * prompt_nll
        return LossOutput(loss, w, logp.detach(), int(row_tokens.sum()))

    @torch.no_grad()
    def probe(self, model: Any, batch: Batch) -> torch.Tensor:
        """The weights of ``batch``'s units under the current model, without
        training on them: the refill's decision (a no-grad forward)."""
        row_lp, _ = row_logprobs(model, batch)
        return self.weights(unit_sums(row_lp, batch), batch)


class DCOStepLoss(Loss):
    @property
    def needs_probe(self) -> bool:
        return self.config.threshold > 0

    def weights(self, logp: torch.Tensor, batch: Batch) -> torch.Tensor:
        return factor(logp, self.config.n).to(logp.dtype)


class DCOLoss(DCOStepLoss):
    by_proof = True


class DCOALoss(Loss):
    """F(N, p_hat) with p_hat a Monte Carlo estimate; for chain-of-thought
    targets whose probability is intractable, only the final answer checked."""

    def __init__(self, config: LossConfig, sample: Sampler, verify: Verifier) -> None:
        super().__init__(config)
        self.sample, self.verify = sample, verify

    @property
    def needs_probe(self) -> bool:
        return True  # the estimate is needed even without a threshold

    def estimate(self, model: Any, problems: Sequence[str]) -> torch.Tensor:
        """p_hat per problem: the fraction of ``samples`` draws verified."""
        k = self.config.samples
        draws = self.sample(model, problems, k)
        hits = [sum(self.verify(p, c) for c in cs) for p, cs in zip(problems, draws, strict=True)]
        return torch.tensor([h / k for h in hits], dtype=torch.float64)

    @torch.no_grad()
    def probe(self, model: Any, batch: Batch) -> torch.Tensor:
        p_hat = self.estimate(model, [u.states[0] for u in batch.units])
        return factor(torch.log(p_hat), self.config.n).float()  # log 0 = -inf -> F = 1

    def compute_loss(self, model: Any, batch: Batch) -> LossOutput:
        if batch.factors is None:  # not from the refill: estimate now
            batch.factors = self.probe(model, batch).to(batch.input_ids.device)
        return super().compute_loss(model, batch)

    def weights(self, logp: torch.Tensor, batch: Batch) -> torch.Tensor:
        assert batch.factors is not None
        return batch.factors.to(logp.dtype)


def make_loss(
    config: LossConfig, *, sample: Sampler | None = None, verify: Verifier | None = None
) -> Loss:
    if config.name == "ce":
        return Loss(config)
    if config.name == "dcostep":
        return DCOStepLoss(config)
    if config.name == "dco":
        return DCOLoss(config)
    if sample is None or verify is None:
        raise UserError("the dcoa loss needs a sampler and a verifier")
    return DCOALoss(config, sample, verify)
