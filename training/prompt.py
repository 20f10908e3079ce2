"""Fitting a prompt into its token budget.

A state that is too long loses hypotheses from the middle of its first
goal's context first (the first and last ones stay, with a ``  ...`` line
where some were dropped), then the goals after the first one, and only then
the end of the first goal's conclusion: the goal line is always kept.

The retrieved block (tactics that nearest training states used, best first)
keeps as many whole tactics, one a line, as fit its own budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .features import RULE

ELLIPSIS = "  ..."


def _cost(tokenizer: Any, line: str) -> int:
    return len(tokenizer.encode(line + "\n", add_special_tokens=False))


def _parts(state: str) -> tuple[list[str], list[str], list[str], list[str]] | None:
    """(header, hypotheses, first goal from the rule on, other goals) as lines."""
    lines = state.split("\n")
    rule = next((i for i, ln in enumerate(lines) if RULE in ln), None)
    if rule is None:
        return None
    end = next(
        (
            i
            for i in range(rule + 1, len(lines) - 1)
            if not lines[i].strip() and lines[i + 1].startswith("goal ")
        ),
        len(lines),
    )
    return lines[:1], lines[1:rule], lines[rule:end], lines[end:]


def _middle_out(lines: list[str], costs: list[int], budget: int) -> list[str]:
    """Keep lines from both ends towards the middle while they fit."""
    left, right, used = 0, len(lines) - 1, 0
    take_left = True
    while left <= right:
        i = left if take_left else right
        if used + costs[i] > budget:
            break
        used += costs[i]
        if take_left:
            left += 1
        else:
            right -= 1
        take_left = not take_left
    if left > right:
        return lines
    return lines[:left] + [ELLIPSIS] + lines[right + 1 :]


def fit_state(tokenizer: Any, state: str, budget: int) -> list[int]:
    """The state's tokens (no special tokens), at most ``budget`` of them."""
    ids = tokenizer.encode(state, add_special_tokens=False)
    if len(ids) <= budget:
        return ids
    parts = _parts(state)
    if parts is None:
        return ids[:budget]
    header, hyps, goal, rest = parts
    left = budget - sum(_cost(tokenizer, ln) for ln in header + goal)
    kept_hyps: list[str] = []
    if hyps and left > _cost(tokenizer, ELLIPSIS):
        costs = [_cost(tokenizer, ln) for ln in hyps]
        kept_hyps = _middle_out(hyps, costs, left - _cost(tokenizer, ELLIPSIS))
        left -= sum(_cost(tokenizer, ln) for ln in kept_hyps)
    kept_rest: list[str] = []
    for line in rest:
        c = _cost(tokenizer, line)
        if c > left:
            break
        kept_rest.append(line)
        left -= c
    text = "\n".join(header + kept_hyps + goal + kept_rest)
    return tokenizer.encode(text, add_special_tokens=False)[:budget]


def retrieved_block(tokenizer: Any, tactics: Sequence[str], budget: int) -> list[int]:
    """Whole tactics, one a line, best first, within ``budget`` tokens."""
    out: list[int] = []
    for tactic in tactics:
        ids = tokenizer.encode(" ".join(tactic.split()) + "\n", add_special_tokens=False)
        if len(out) + len(ids) > budget:
            break
        out.extend(ids)
    return out
