"""Prompt format, encoding and batching of (state, tactic) steps.

Prompt format (documented in the README, stored in every trained model's
``training_meta.json``): a training sequence is

    [BOS] [retrieved RETRIEVED] state SEPARATOR tactic EOS

where ``state`` is the pretty-printed goals before the step (exactly the
``state`` of ``steps.jsonl``), ``SEPARATOR`` is ``<|tactic|>`` (one special
token for a tokenizer trained here, plain text for a pretrained one), and BOS
is whatever the tokenizer adds by itself (nothing for the one trained here).
With retrieval (``retrieval_tokens > 0``) the prompt starts with the tactics
of the nearest training states of other, earlier theorems (one a line, best
first, at most ``retrieved`` of them within ``retrieval_tokens`` tokens; see
:mod:`training.knn`) and the ``<|retrieved|>`` marker.
The state and the tactic are encoded separately, so a tactic has the same
tokens in training and in generation. Only the tactic tokens and the EOS are
scored: the loss never sees the state. A state longer than
``max_prompt_tokens`` loses hypotheses from the middle first and never its
goal line (:mod:`training.prompt`); a step whose tactic is longer than
``max_tactic_tokens`` is skipped (a truncated tactic would be a wrong target).

A *unit* is what the loss weighs as one example: one step (CE, DCOstep,
DCOa) or all steps of one proof (whole-proof DCO, p = product of the steps'
probabilities). A batch lays its rows out with the prompts left-padded to a
common end column and the targets right-padded after it, so that the scored
positions are the same last columns for every row (only those get logits) and
training sees the same layout as generation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from lean_env.errors import UserError

from .prompt import fit_state, retrieved_block

SEPARATOR = "<|tactic|>"
RETRIEVED = "<|retrieved|>"
IGNORE = -100  # label of a position that is not scored


@dataclass(frozen=True)
class PromptFormat:
    separator: str = SEPARATOR
    max_prompt_tokens: int = 256
    max_tactic_tokens: int = 64
    retrieval_tokens: int = 0  # budget of the retrieved block; 0: no retrieval
    retrieved: int = 8  # at most this many retrieved tactics

    def __post_init__(self) -> None:
        if self.max_prompt_tokens < 2 or self.max_tactic_tokens < 1:
            raise UserError("--max-prompt-tokens must be >= 2 and --max-tactic-tokens >= 1")
        if self.retrieval_tokens < 0 or self.retrieved < 1:
            raise UserError("--retrieval-tokens must be >= 0 and --retrieved >= 1")

    @property
    def max_positions(self) -> int:
        """The longest sequence: prompt, retrieved block and its marker, tactic, EOS."""
        extra = self.retrieval_tokens + 1 if self.retrieval_tokens else 0
        return self.max_prompt_tokens + extra + self.max_tactic_tokens + 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PromptFormat:
        keys = (
            "separator",
            "max_prompt_tokens",
            "max_tactic_tokens",
            "retrieval_tokens",
            "retrieved",
        )
        return cls(**{k: d[k] for k in keys if k in d})


def normalize_tactic(tactic: str) -> str:
    """Whitespace-normalised tactic without a final period: the form in which
    a generated tactic is compared with the human one."""
    return " ".join(tactic.split()).removesuffix(".").rstrip()


def eos_id(tokenizer: Any) -> int:
    if tokenizer.eos_token_id is None:
        raise UserError("the tokenizer has no end-of-sequence token; a tactic model needs one")
    return int(tokenizer.eos_token_id)


def pad_id(tokenizer: Any) -> int:
    return int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos_id(tokenizer))


def encode_prompt(
    tokenizer: Any, state: str, fmt: PromptFormat, retrieved: Sequence[str] = ()
) -> list[int]:
    """[BOS] [retrieved block, marker] state (fitted to its budget) SEPARATOR."""
    sep = tokenizer.encode(fmt.separator, add_special_tokens=False)
    bos = tokenizer.encode("", add_special_tokens=True)
    block: list[int] = []
    if fmt.retrieval_tokens:
        block = retrieved_block(tokenizer, retrieved[: fmt.retrieved], fmt.retrieval_tokens)
        block += tokenizer.encode(RETRIEVED, add_special_tokens=False)
    budget = max(fmt.max_prompt_tokens - len(sep) - len(bos), 0)
    return bos + block + fit_state(tokenizer, state, budget) + sep


def encode_tactic(tokenizer: Any, tactic: str, fmt: PromptFormat) -> list[int] | None:
    """Tactic tokens + EOS, or None when the tactic is too long to learn."""
    ids = tokenizer.encode(tactic, add_special_tokens=False)
    if len(ids) > fmt.max_tactic_tokens:
        return None
    return ids + [eos_id(tokenizer)]


@dataclass(frozen=True)
class Row:
    prompt: tuple[int, ...]
    target: tuple[int, ...]  # tactic + EOS, the scored tokens


@dataclass(frozen=True)
class Unit:
    """One example of the loss: a step, or every step of a proof."""

    id: int
    rows: tuple[Row, ...]
    states: tuple[str, ...]
    tactics: tuple[str, ...]

    @property
    def num_tokens(self) -> int:
        return sum(len(r.prompt) + len(r.target) for r in self.rows)


@dataclass
class UnitSet:
    units: list[Unit]
    skipped_steps: int = 0  # tactics longer than max_tactic_tokens
    num_steps: int = 0


def build_units(
    steps: Iterable[Any],
    tokenizer: Any,
    fmt: PromptFormat,
    *,
    by_proof: bool = False,
    retrieve: Callable[[Any], Sequence[str]] | None = None,
) -> UnitSet:
    """Encode ``steps`` (objects with theorem_id, index, state, tactic) into
    units: one per step, or one per proof (its steps in index order).
    ``retrieve(step)`` gives the retrieved tactics of a step's prompt."""
    groups: dict[int, list[tuple[int, str, str, Row]]] = {}
    out = UnitSet([])
    for step in steps:
        out.num_steps += 1
        target = encode_tactic(tokenizer, step.tactic, fmt)
        if target is None:
            out.skipped_steps += 1
            continue
        found = retrieve(step) if retrieve is not None and fmt.retrieval_tokens else ()
        row = Row(tuple(encode_prompt(tokenizer, step.state, fmt, found)), tuple(target))
        key = step.theorem_id if by_proof else out.num_steps
        groups.setdefault(key, []).append((step.index, step.state, step.tactic, row))
    for key, items in groups.items():
        items.sort(key=lambda item: item[0])
        out.units.append(
            Unit(
                id=key,
                rows=tuple(i[3] for i in items),
                states=tuple(i[1] for i in items),
                tactics=tuple(i[2] for i in items),
            )
        )
    return out


@dataclass
class Batch:
    input_ids: torch.Tensor  # [rows, P + T]
    attention_mask: torch.Tensor
    position_ids: torch.Tensor
    labels: torch.Tensor  # [rows, T]: the last T columns' tokens, IGNORE where not scored
    row_unit: torch.Tensor  # [rows]: index of each row's unit in ``units``
    units: list[Unit] = field(default_factory=list)
    factors: torch.Tensor | None = None  # per unit, when the refill already computed them

    @property
    def num_units(self) -> int:
        return len(self.units)

    @property
    def target_width(self) -> int:
        return self.labels.shape[1]

    def num_tokens(self) -> int:
        """Real (non-padding) tokens in the batch."""
        return int(self.attention_mask.sum())

    def to(self, device: torch.device | str) -> Batch:
        move = {
            k: getattr(self, k).to(device)
            for k in ("input_ids", "attention_mask", "position_ids", "labels", "row_unit")
        }
        factors = self.factors.to(device) if self.factors is not None else None
        return Batch(**move, units=self.units, factors=factors)


def collate(units: Sequence[Unit], pad: int) -> Batch:
    rows = [(u, r) for u, unit in enumerate(units) for r in unit.rows]
    if not rows:
        raise ValueError("cannot collate an empty batch")
    width_p = max(len(r.prompt) for _, r in rows)
    width_t = max(len(r.target) for _, r in rows)
    n = len(rows)
    ids = torch.full((n, width_p + width_t), pad, dtype=torch.long)
    mask = torch.zeros((n, width_p + width_t), dtype=torch.long)
    labels = torch.full((n, width_t), IGNORE, dtype=torch.long)
    for i, (_, r) in enumerate(rows):
        start = width_p - len(r.prompt)
        ids[i, start:width_p] = torch.tensor(r.prompt)
        ids[i, width_p : width_p + len(r.target)] = torch.tensor(r.target)
        mask[i, start : width_p + len(r.target)] = 1
        labels[i, : len(r.target)] = torch.tensor(r.target)
    return Batch(
        input_ids=ids,
        attention_mask=mask,
        position_ids=positions(mask),
        labels=labels,
        row_unit=torch.tensor([u for u, _ in rows], dtype=torch.long),
        units=list(units),
    )


def positions(mask: torch.Tensor) -> torch.Tensor:
    """Position ids that start at 0 at each row's first real token, so a
    left-padded row is positioned exactly as an unpadded one."""
    return (mask.cumsum(dim=1) - 1).clamp(min=0)


def corpus_texts(steps: Iterable[Any]) -> Iterable[str]:
    """The texts a tokenizer is trained on: every state and every tactic."""
    for step in steps:
        yield step.state
        yield step.tactic
