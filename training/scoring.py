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
    keep = batch.target_width + 1
    kwargs: dict[str, Any] = {
        "input_ids": batch.input_ids,
        "attention_mask": batch.attention_mask,
        "position_ids": batch.position_ids,
        "use_cache": False,
        **keep_logits(model, keep),
    }
    logits = model(**kwargs).logits[:, -keep:-1]
    labels = batch.labels
    token_nll = F.cross_entropy(
        logits.float().flatten(0, 1), labels.flatten(), ignore_index=IGNORE, reduction="none"
    ).view(labels.shape)
    return -token_nll.sum(dim=1), (labels != IGNORE).sum(dim=1)


def unit_sums(values: torch.Tensor, batch: Batch) -> torch.Tensor:
    """Sum per-row values into per-unit values (a proof's log p is the sum of
    its steps' log p)."""
    out = torch.zeros(batch.num_units, dtype=values.dtype, device=values.device)
    return out.index_add(0, batch.row_unit, values)
