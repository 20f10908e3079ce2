"""A hybrid policy: the union of several generators' candidates (a language
model, a k-NN policy, the automation list), deduplicated, ranked as a
mixture, plus closing-attempt wrappers around the best learned candidates.

How candidates are ranked (what a user sees in the tree and in the order
tactics are tried):

1. Every source is asked for ``k`` candidates of each state (sampled or top
   ``k``, as the search asks), or for its own ``max_candidates`` when that is
   smaller (a language model's beam search costs time in proportion to its
   width). A candidate's log-prob under its source gives its probability
   ``p_s(t)``.
2. The hybrid's probability of a tactic is the mixture
   ``p(t) = sum_s w_s * p_s(t)`` over the sources that proposed it (weights
   ``w_s`` normalised to 1; equal by default). A tactic proposed by several
   sources (compared after whitespace normalisation) appears once, with the
   summed probability, in the spelling of the first source that proposed it.
3. Candidates come in decreasing ``p(t)``; ties keep the source order, then
   each source's own order. The first ``k`` are kept, and the log-prob
   reported to search is ``log p(t)``, so best-first's priority (the summed
   log-probs of a path) is that of the mixture policy.
4. A *closing* source's candidates (tactics that end the goal or fail, such
   as the automation list's deciders beside a learned policy) add no state
   to the search, so they do not compete for the ``k`` places: all of them
   are kept, in their place in the ranking, on top of the ``k``.

So a confident model's top tactics come first, and the automation list
(probability ``w / (its length)`` each) comes before the model's unlikely
tail: a near-prior model ranks below the automation list, a strong one above.

Wrappers: each of the ``wrap_top`` best candidates of the learned sources
(not the automation list, whose tactics already close or fail) is followed by
closing attempts such as ``now (t)`` and ``(t); auto``, with the same
log-prob as ``t``: ``now`` fails unless the goal is closed, so it costs one
tactic call and proves goals that ``t`` leaves for ``easy``. Bullets and
braces are never wrapped. Wrappers count within the ``k`` candidates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from .generator import Candidate, TacticGenerator, reseed_each, set_theorem_each

DEFAULT_WRAPPERS: tuple[str, ...] = ("now ({t})", "({t}); auto")
_STRUCTURAL = ("-", "+", "*", "{", "}")


@dataclass(frozen=True)
class Source:
    """One sub-generator of the hybrid. ``learned``: its candidates get
    closing-attempt wrappers (the automation list's do not).
    ``max_candidates``: the most it is asked for per state (None: ``k``).
    ``closing``: its candidates end a goal or fail, so they add no state to
    the search; they are ranked with the others but come on top of the ``k``
    (asked for in full, never cut), so that they do not take the learned
    sources' places."""

    name: str
    generator: TacticGenerator
    weight: float = 1.0
    learned: bool = True
    max_candidates: int | None = None
    closing: bool = False

    def asked(self, k: int) -> int:
        """How many candidates it is asked for when the search wants ``k``."""
        limit = self.max_candidates or k
        return limit if self.closing else min(k, limit)


def normalize(tactic: str) -> str:
    return " ".join(tactic.split()).removesuffix(".").rstrip()


@dataclass
class HybridGenerator:
    sources: Sequence[Source]
    wrappers: Sequence[str] = DEFAULT_WRAPPERS
    wrap_top: int = 2
    # Sources that were asked for but are not available (e.g. no model
    # trained yet), by name, with the reason: the documented fallback.
    missing: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.sources:
            raise ValueError("a hybrid generator needs at least one source")
        if any(s.weight <= 0 for s in self.sources):
            raise ValueError("source weights must be > 0")
        if any(s.max_candidates is not None and s.max_candidates < 1 for s in self.sources):
            raise ValueError("a source's max_candidates must be >= 1")
        total = math.fsum(s.weight for s in self.sources)
        self._weights = [s.weight / total for s in self.sources]

    def reseed(self, seed: int) -> None:
        reseed_each([s.generator for s in self.sources], seed)

    def set_theorem(self, theorem: object) -> None:
        """Tell every retrieving source which theorem is being proved, so that
        none of them sees that theorem or what follows it in its file (the
        search runner calls this on the generator it holds: the hybrid)."""
        set_theorem_each([s.generator for s in self.sources], theorem)

    def generate(
        self, states: Sequence[str], k: int, *, temperature: float = 1.0, sample: bool = True
    ) -> list[list[Candidate]]:
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        per_source = [
            s.generator.generate(states, s.asked(k), temperature=temperature, sample=sample)
            for s in self.sources
        ]
        return [self.merge([out[i] for out in per_source], k) for i in range(len(states))]

    def merge(self, lists: Sequence[Sequence[Candidate]], k: int) -> list[Candidate]:
        """One state's candidates from each source (in source order), ranked
        by the mixture; wrappers inserted after the best learned ones."""
        # key -> [mixture probability, source index, rank, spelling, learned,
        #         closing (proposed by closing sources only)]
        merged: dict[str, list] = {}
        for s, (source, weight, cands) in enumerate(
            zip(self.sources, self._weights, lists, strict=True)
        ):
            for rank, cand in enumerate(cands):
                key = normalize(cand.tactic)
                if not key:
                    continue
                p = weight * math.exp(min(cand.logprob, 0.0))
                if key in merged:
                    merged[key][0] += p
                    merged[key][4] = merged[key][4] or source.learned
                    merged[key][5] = merged[key][5] and source.closing
                else:
                    merged[key] = [p, s, rank, cand.tactic, source.learned, source.closing]
        ranked = sorted(merged.values(), key=lambda e: (-e[0], e[1], e[2]))
        out: list[Candidate] = []
        seen = set(merged)
        wrapped = counted = 0
        for p, _, _, tactic, learned, closing in ranked:
            if counted >= k and not closing:
                continue
            logprob = math.log(p) if p > 0 else -math.inf
            out.append(Candidate(tactic, logprob))
            counted += not closing
            if learned and wrapped < self.wrap_top and not tactic.lstrip().startswith(_STRUCTURAL):
                wrapped += 1
                for template in self.wrappers:
                    variant = template.format(t=tactic)
                    if counted < k and normalize(variant) not in seen:
                        seen.add(normalize(variant))
                        out.append(Candidate(variant, logprob))
                        counted += 1
        return out
