"""Log-probabilities of the target tokens of a batch (one forward pass).

Only the last ``T + 1`` positions get logits (``logits_to_keep``): with the
batch layout of :mod:`training.data` every target sits in the last ``T``
columns, and for a small model the vocabulary projection of the prompt
positions would otherwise be most of the cost.
"""

from __future__ import annotations

import inspect
from functools import cache
from typing import Any

import torch
import torch.nn.functional as F

from .data import IGNORE, Batch


@cache
def _accepts_logits_to_keep(cls: type) -> bool:
    return "logits_to_keep" in inspect.signature(cls.forward).parameters


def keep_logits(model: Any, keep: int) -> dict[str, int]:
    """The forward kwargs that compute logits for the last ``keep`` positions
    only, where the model supports it (a full forward gives the same values)."""
    # Accelerate/DeepSpeed wrap the model; the HF model's forward is what counts.
    inner = getattr(model, "module", model)
    return {"logits_to_keep": keep} if _accepts_logits_to_keep(type(inner)) else {}


def row_logprobs(model: Any, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """``(log p(target | prompt) per row, scored tokens per row)``; the first
    is differentiable when grad is enabled. Computed in float32."""
    row_lp, row_tokens, _ = scores(model, batch, prompt=False)
    return row_lp, row_tokens


def scores(
    model: Any, batch: Batch, *, prompt: bool
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """:func:`row_logprobs` plus, with ``prompt``, the next-token NLL of the
    prompt's own tokens (retrieved block and state) summed and divided by the
    batch's units (the scale of the target loss, so that a weight is per
    token relative to a target token), from the same forward pass, which then
    computes logits at every position."""
    keep = batch.target_width + 1
    kwargs: dict[str, Any] = {
        "input_ids": batch.input_ids,
        "attention_mask": batch.attention_mask,
        "position_ids": batch.position_ids,
        "use_cache": False,
        **({} if prompt else keep_logits(model, keep)),
    }
    all_logits = model(**kwargs).logits
    logits = all_logits[:, -keep:-1]
    labels = batch.labels
    token_nll = F.cross_entropy(
        logits.float().flatten(0, 1), labels.flatten(), ignore_index=IGNORE, reduction="none"
    ).view(labels.shape)
    prompt_nll = _prompt_nll(all_logits, batch) if prompt else None
    return -token_nll.sum(dim=1), (labels != IGNORE).sum(dim=1), prompt_nll


def _prompt_nll(logits: torch.Tensor, batch: Batch) -> torch.Tensor:
    """Summed NLL of each prompt token given the ones before it, per unit
    (padding and the first real token unscored; the separator is scored)."""
    width_p = batch.input_ids.shape[1] - batch.target_width
    ids, mask = batch.input_ids[:, :width_p], batch.attention_mask[:, :width_p]
    scored = (mask[:, 1:] == 1) & (mask[:, :-1] == 1)
    labels = ids[:, 1:].masked_fill(~scored, IGNORE)
    return F.cross_entropy(
        logits[:, : width_p - 1].float().flatten(0, 1),
        labels.flatten(),
        ignore_index=IGNORE,
        reduction="sum",
    ) / max(batch.num_units, 1)


def unit_sums(values: torch.Tensor, batch: Batch) -> torch.Tensor:
    """Sum per-row values into per-unit values (a proof's log p is the sum of
    its steps' log p)."""
    out = torch.zeros(batch.num_units, dtype=values.dtype, device=values.device)
    return out.index_add(0, batch.row_unit, values)
