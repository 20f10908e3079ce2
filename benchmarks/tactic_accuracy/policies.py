"""The policies the accuracy benchmark compares. Each maps a val step to a
ranked list of distinct tactics (best first, at most ``k``).

prior     the train split's most common tactics, the same list for every state
lookup    the most common tactics among train states with the same first line
          (number of goals, focused or not), then the prior
knn       the k-NN index over train states (:mod:`training.knn`)
lm        a trained model without retrieval: greedy first, then a beam
lm+retrieval  a model trained with retrieval: greedy, beam and the retrieved
          tactics, re-ranked by the model's log-probability of the whole tactic
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import torch

from training.data import PromptFormat, Row, Unit, collate, encode_prompt, encode_tactic, pad_id
from training.dataset import Place, TrainData
from training.generator import ModelTacticGenerator, merge_candidates
from training.knn import KnnIndex
from training.scoring import row_logprobs

Ranked = list[str]


def prior_policy(data: TrainData, k: int) -> Ranked:
    counts = Counter(" ".join(s.tactic.split()) for s in data.train)
    return [t for t, _ in counts.most_common(k)]


def lookup_policy(data: TrainData, k: int) -> dict[str, Ranked]:
    """First line of the state -> its most common tactics (then the prior)."""
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for s in data.train:
        table[s.state.split("\n", 1)[0]][" ".join(s.tactic.split())] += 1
    prior = prior_policy(data, k)
    out = {}
    for key, counts in table.items():
        ranked = [t for t, _ in counts.most_common(k)]
        out[key] = ranked + [t for t in prior if t not in ranked][: k - len(ranked)]
    return out


def knn_ranked(index: KnnIndex, state: str, place: Place | None, k: int) -> Ranked:
    return [c.tactic for c in index.candidates(state, k, place)]


def lm_ranked(
    gen: ModelTacticGenerator, state: str, place: Place | None, k: int, beam: int
) -> Ranked:
    """Greedy first, then the beam's tactics by log-prob (no retrieval)."""
    gen.set_theorem(place)
    (greedy,) = gen.generate([state], 1, sample=False)
    (beams,) = gen.generate([state], beam, sample=False) if beam > 1 else ([],)
    ranked = [c.tactic for c in greedy]
    ranked += [c.tactic for c in beams if c.tactic not in ranked]
    return ranked[:k]


@torch.no_grad()
def score_tactics(
    gen: ModelTacticGenerator, state: str, retrieved: Sequence[str], tactics: Sequence[str]
) -> list[float]:
    """log p(tactic | prompt) of each tactic under the model (whole tactic, EOS included)."""
    fmt: PromptFormat = gen.fmt
    prompt = tuple(encode_prompt(gen.tokenizer, state, fmt, retrieved))
    units, keep = [], []
    for i, t in enumerate(tactics):
        target = encode_tactic(gen.tokenizer, t, fmt)
        if target is not None:
            units.append(Unit(i, (Row(prompt, tuple(target)),), (state,), (t,)))
            keep.append(i)
    scores = [float("-inf")] * len(tactics)
    if units:
        batch = collate(units, pad_id(gen.tokenizer)).to(next(gen.model.parameters()).device)
        logp, _ = row_logprobs(gen.model, batch)
        for i, lp in zip(keep, logp.tolist(), strict=True):
            scores[i] = lp
    return scores


def lm_retrieval_ranked(
    gen: ModelTacticGenerator, state: str, place: Place | None, k: int, beam: int
) -> Ranked:
    """Greedy, beam and retrieved tactics, ranked by the model's whole-tactic score."""
    assert gen.retriever is not None
    gen.set_theorem(place)
    found = gen.retriever.index.candidates(state, k, place)
    retrieved = [c.tactic for c in found]
    pool = lm_ranked(gen, state, place, beam, beam) + retrieved
    pool = list(dict.fromkeys(" ".join(t.split()) for t in pool))
    scores = score_tactics(gen, state, retrieved, pool)
    return [c.tactic for c in merge_candidates(pool, scores, k)]


def rankings(policy: str, ctx: Any, steps: Sequence[Any], k: int) -> list[Ranked]:
    """The ranked tactics of ``policy`` for each step."""
    if policy == "prior":
        fixed = prior_policy(ctx.data, k)
        return [fixed for _ in steps]
    if policy == "lookup":
        table, prior = lookup_policy(ctx.data, k), prior_policy(ctx.data, k)
        return [table.get(s.state.split("\n", 1)[0], prior) for s in steps]
    if policy == "knn":
        return [knn_ranked(ctx.index, s.state, ctx.place(s), k) for s in steps]
    gen = ctx.generators[policy]
    rank = lm_retrieval_ranked if gen.retriever is not None else lm_ranked
    return [rank(gen, s.state, ctx.place(s), k, ctx.beam) for s in steps]
