"""The policies the accuracy benchmark compares. Each maps a val step to a
ranked list of distinct tactics (best first, at most ``k``).

prior     the train split's most common tactics, the same list for every state
lookup    the most common tactics among train states with the same first line
          (number of goals, focused or not), then the prior
knn       the k-NN index over train states (:mod:`training.knn`)
lm        a trained model without retrieval: greedy first, then a beam's
          tactics by log-probability
lm+retrieval  a model trained with retrieval: greedy, the beam and the
          retrieved tactics of its prompt, ranked by the model's
          log-probability of the whole tactic, then the rest of the k-NN list
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import torch

from search.generator import Candidate
from training.data import Row, Unit, collate, encode_prompt, encode_tactic, pad_id
from training.dataset import Place, TrainData
from training.generator import ModelTacticGenerator
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


def lm_prompts(
    gen: ModelTacticGenerator, steps: Sequence[Any]
) -> tuple[list[list[int]], list[list[str]]]:
    """Each step's prompt and retrieved tactics (none for a model without
    retrieval). Retrieval hides the step's own theorem and what follows it."""
    found = gen.retriever.for_steps(steps) if gen.retriever is not None else [[] for _ in steps]
    prompts = [
        encode_prompt(gen.tokenizer, s.state, gen.fmt, r) for s, r in zip(steps, found, strict=True)
    ]
    return prompts, found


def lm_candidates(
    gen: ModelTacticGenerator, prompts: list[list[int]], beam: int
) -> list[list[Candidate]]:
    """Greedy first, then the beam's other tactics, each with its log-prob."""
    greedy = gen.generate_from_prompts(prompts, 1, sample=False)
    beams = (
        gen.generate_from_prompts(prompts, beam, sample=False)
        if beam > 1
        else [[] for _ in prompts]
    )
    out = []
    for g, b in zip(greedy, beams, strict=True):
        seen = {c.tactic for c in g}
        out.append([*g, *(c for c in b if c.tactic not in seen)])
    return out


@torch.no_grad()
def score_tactics(
    gen: ModelTacticGenerator, prompt: Sequence[int], tactics: Sequence[str]
) -> list[float]:
    """log p(tactic | prompt) of each tactic under the model (whole tactic, EOS included)."""
    units, keep = [], []
    for i, t in enumerate(tactics):
        target = encode_tactic(gen.tokenizer, t, gen.fmt)
        if target is not None:
            units.append(Unit(i, (Row(tuple(prompt), tuple(target)),), ("",), (t,)))
            keep.append(i)
    scores = [float("-inf")] * len(tactics)
    if units:
        batch = collate(units, pad_id(gen.tokenizer)).to(next(gen.model.parameters()).device)
        logp, _ = row_logprobs(gen.model, batch)
        for i, lp in zip(keep, logp.tolist(), strict=True):
            scores[i] = lp
    return scores


def lm_rankings(gen: ModelTacticGenerator, ctx: Any, steps: Sequence[Any], k: int) -> list[Ranked]:
    """The LM's candidates by log-prob; with retrieval, the retrieved tactics
    of the prompt are scored by the model too and merged in, and the rest of
    the k-NN list fills up to ``k``."""
    prompts, found = lm_prompts(gen, steps)
    out = []
    for step, prompt, retrieved, cands in zip(
        steps, prompts, found, lm_candidates(gen, prompts, ctx.beam), strict=True
    ):
        if gen.retriever is None:
            out.append([c.tactic for c in cands][:k])
            continue
        extra = [t for t in retrieved if t not in {c.tactic for c in cands}]
        scored = [
            *cands,
            *(
                Candidate(t, lp)
                for t, lp in zip(extra, score_tactics(gen, prompt, extra), strict=True)
            ),
        ]
        ranked = [c.tactic for c in sorted(scored, key=lambda c: -c.logprob)]
        rest = knn_ranked(ctx.index, step.state, ctx.place(step), k)
        out.append(list(dict.fromkeys([*ranked, *rest]))[:k])
    return out


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
    return lm_rankings(ctx.generators[policy], ctx, steps, k)
