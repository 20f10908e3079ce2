"""The study's small model: an autoregressive digit writer.

``p(y | x) = prod_i p(y_i | x, y_<i)`` over the fixed-width answer (or
chain-of-thought) digits: one MLP reads the operand digits, the digits
written so far (a blank for the ones not yet written) and the position, and
gives the next digit's distribution. It is a language model over a 10-token
vocabulary with a fixed context, small enough that a whole test set is one
batched forward pass on a CPU, which is what makes exact pass@k and thousands
of samples per problem cheap.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

BLANK = 10  # a digit not yet written


@dataclass(frozen=True)
class ModelConfig:
    embed: int = 32
    hidden: int = 128


class DigitWriter(nn.Module):
    def __init__(self, inputs: int, length: int, config: ModelConfig) -> None:
        super().__init__()
        self.inputs, self.length = inputs, length
        e, h = config.embed, config.hidden
        self.x_embed = nn.Embedding(inputs * 10, e)
        self.y_embed = nn.Embedding(length * 11, e)
        self.pos_embed = nn.Embedding(length, e)
        self.net = nn.Sequential(
            nn.Linear((inputs + length + 1) * e, h),
            nn.GELU(),
            nn.Linear(h, h),
            nn.GELU(),
            nn.Linear(h, 10),
        )

    def next_logits(self, x: torch.Tensor, prev: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        """Logits of the digit at ``pos`` given operands ``x`` (R, I) and the
        digits written so far ``prev`` (R, L; BLANK from ``pos`` on)."""
        r = x.shape[0]
        xe = self.x_embed(x + 10 * torch.arange(self.inputs)).reshape(r, -1)
        ye = self.y_embed(prev + 11 * torch.arange(self.length)).reshape(r, -1)
        return self.net(torch.cat([xe, ye, self.pos_embed(pos)], dim=-1))

    def digit_logprobs(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """log p(y_i | x, y_<i) for every position at once (teacher forcing): (B, L)."""
        b, n = y.shape
        seen = torch.arange(n)[None, :] < torch.arange(n)[:, None]  # [i, j]: j before i
        prev = torch.where(seen[None], y[:, None, :], torch.full_like(y[:, None, :], BLANK))
        rows = self.next_logits(
            x[:, None, :].expand(b, n, self.inputs).reshape(b * n, -1),
            prev.reshape(b * n, n),
            torch.arange(n).repeat(b),
        ).log_softmax(-1)
        return rows.gather(1, y.reshape(-1, 1)).reshape(b, n)

    def logp(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """log p(y | x) of whole target rows: (B,)."""
        return self.digit_logprobs(x, y).sum(-1)

    @torch.no_grad()
    def write(
        self, x: torch.Tensor, *, greedy: bool, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One completion per row of ``x``, greedy or sampled at temperature 1,
        with its log-probability: ((R, L) digits, (R,))."""
        r = x.shape[0]
        out = torch.full((r, self.length), BLANK, dtype=torch.long)
        logp = torch.zeros(r)
        for i in range(self.length):
            lp = self.next_logits(x, out, torch.full((r,), i, dtype=torch.long)).log_softmax(-1)
            if greedy:
                d = lp.argmax(-1)
            else:
                d = torch.multinomial(lp.exp(), 1, generator=generator).squeeze(1)
            out[:, i] = d
            logp += lp.gather(1, d[:, None]).squeeze(1)
        return out, logp


def build(length: int, config: ModelConfig, seed: int) -> DigitWriter:
    torch.manual_seed(seed)
    return DigitWriter(4, length, config)
