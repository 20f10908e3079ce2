"""Max-confidence probes and next-tactic accuracy (the paper's Figure 1 quantity).

The max confidence of a model on a state is the probability of its greedy
tactic (EOS included). CE training drives it towards 1 on the training data;
DCO limits it. On a proof, it is the probability of the greedy proof: the
product of the greedy tactics' probabilities along a greedy rollout in the
proof assistant (see :func:`greedy_proof`).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from lean_env.environment import Environment
from lean_env.types import ProofFinished, ProofState

from .data import (
    PromptFormat,
    Row,
    Unit,
    collate,
    encode_prompt,
    encode_tactic,
    normalize_tactic,
    pad_id,
)
from .sampling import decode_tactics
from .scoring import row_logprobs

HISTOGRAM_BINS = 10  # equal-width bins of [0, 1]


@dataclass(frozen=True)
class Greedy:
    tactic: str
    logprob: float
    finished: bool  # False: cut at the length limit (then never correct)

    @property
    def confidence(self) -> float:
        return math.exp(self.logprob)


def greedy_tactics(
    model: Any,
    tokenizer: Any,
    fmt: PromptFormat,
    states: Sequence[str],
    batch_size: int = 64,
    retrieved: Sequence[Sequence[str]] | None = None,
) -> list[Greedy]:
    """The greedy tactic of each state (``retrieved[i]``: the retrieved
    tactics of state i's prompt, for a model trained with retrieval)."""
    out: list[Greedy] = []
    found = retrieved if retrieved is not None else [()] * len(states)
    for start in range(0, len(states), batch_size):
        prompts = [
            encode_prompt(tokenizer, s, fmt, r)
            for s, r in zip(
                states[start : start + batch_size], found[start : start + batch_size], strict=True
            )
        ]
        d = decode_tactics(model, tokenizer, fmt, prompts, greedy=True)
        for tokens, lp, ok in zip(d.tokens, d.logprobs, d.finished, strict=True):
            text = tokenizer.decode(tokens, skip_special_tokens=True).strip()
            out.append(Greedy(text, lp, ok))
    return out


def summarize(confidences: Sequence[float]) -> dict[str, Any]:
    """Mean, quantiles and a 10-bin histogram of confidences in [0, 1]."""
    if not confidences:
        return {"n": 0}
    xs = sorted(confidences)
    q = statistics.quantiles(xs, n=20, method="inclusive") if len(xs) > 1 else [xs[0]] * 19
    hist = [0] * HISTOGRAM_BINS
    for x in xs:
        hist[min(int(x * HISTOGRAM_BINS), HISTOGRAM_BINS - 1)] += 1
    return {
        "n": len(xs),
        "mean": statistics.fmean(xs),
        "p10": q[1],
        "p25": q[4],
        "median": statistics.median(xs),
        "p75": q[14],
        "p90": q[17],
        "histogram": hist,
    }


def evaluate_steps(
    model: Any,
    tokenizer: Any,
    fmt: PromptFormat,
    steps: Sequence[Any],
    batch_size: int = 64,
    retrieved: Sequence[Sequence[str]] | None = None,
    gold: Sequence[tuple[float, int] | None] | None = None,
) -> dict[str, Any]:
    """Next-tactic accuracy (greedy tactic == human tactic, whitespace
    normalised), the max-confidence distribution over ``steps`` and the mean
    NLL of the human tactics (per tactic and per token: the smooth curve).
    ``gold``: the :func:`gold_logprobs` of ``steps`` when the caller already
    has them (they are not computed again)."""
    was_training = model.training
    model.eval()
    try:
        preds = greedy_tactics(
            model, tokenizer, fmt, [s.state for s in steps], batch_size, retrieved
        )
        if gold is None:
            gold = gold_logprobs(model, tokenizer, fmt, steps, retrieved, batch_size=batch_size)
    finally:
        model.train(was_training)
    hits = [
        p.finished and normalize_tactic(p.tactic) == normalize_tactic(s.tactic)
        for p, s in zip(preds, steps, strict=True)
    ]
    scored = [x for x in gold if x]
    return {
        "steps": len(steps),
        "accuracy": sum(hits) / len(hits) if hits else 0.0,
        "max_confidence": summarize([p.confidence for p in preds]),
        # Tactics too long to encode are left out of both.
        "nll": -sum(lp for lp, _ in scored) / max(len(scored), 1),
        "nll_per_token": -sum(lp for lp, _ in scored) / max(sum(n for _, n in scored), 1),
    }


@torch.no_grad()
def gold_logprobs(
    model: Any,
    tokenizer: Any,
    fmt: PromptFormat,
    steps: Sequence[Any],
    retrieved: Sequence[Sequence[str]] | None = None,
    *,
    batch_size: int = 64,
) -> list[tuple[float, int] | None]:
    """Per step, (log p of its human tactic, EOS included; scored tokens), or
    None for a tactic too long to encode."""
    found = retrieved if retrieved is not None else [()] * len(steps)
    units = []
    for i, (s, r) in enumerate(zip(steps, found, strict=True)):
        target = encode_tactic(tokenizer, s.tactic, fmt)
        if target is not None:
            row = Row(tuple(encode_prompt(tokenizer, s.state, fmt, r)), tuple(target))
            units.append(Unit(i, (row,), (s.state,), (s.tactic,)))
    out: list[tuple[float, int] | None] = [None] * len(steps)
    device = next(model.parameters()).device
    for start in range(0, len(units), batch_size):
        chunk = units[start : start + batch_size]
        lp, n = row_logprobs(model, collate(chunk, pad_id(tokenizer)).to(device))
        for unit, a, b in zip(chunk, lp.tolist(), n.tolist(), strict=True):
            out[unit.id] = (a, b)
    return out


@dataclass(frozen=True)
class GreedyProof:
    tactics: tuple[str, ...]
    logprob: float
    outcome: str  # finished (not yet re-checked) | error | cut (no EOS) | depth

    @property
    def confidence(self) -> float:
        return math.exp(self.logprob)


def greedy_proof(
    model: Any,
    tokenizer: Any,
    fmt: PromptFormat,
    env: Environment,
    max_depth: int = 50,
    retrieve: Callable[[str], Sequence[str]] | None = None,
) -> GreedyProof:
    """Follow the greedy tactic from the root until the proof is finished, a
    tactic fails, or ``max_depth``; the proof's probability is the product of
    the greedy tactics' probabilities (as far as the rollout went).
    ``retrieve(goals)``: the retrieved tactics, for a model trained with them."""
    state: Any = env.initial_state
    tactics: list[str] = []
    logprob = 0.0
    for _ in range(max_depth):
        found = [retrieve(state.goals)] if retrieve is not None else None
        (g,) = greedy_tactics(model, tokenizer, fmt, [state.goals], 1, found)
        logprob += g.logprob
        if not g.finished:
            return GreedyProof(tuple(tactics), logprob, "cut")
        tactics.append(g.tactic)
        state = env.run_tactic(state, g.tactic)
        if isinstance(state, ProofFinished):
            return GreedyProof(tuple(tactics), logprob, "finished")
        if not isinstance(state, ProofState):
            return GreedyProof(tuple(tactics), logprob, "error")
    return GreedyProof(tuple(tactics), logprob, "depth")
