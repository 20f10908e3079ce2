"""A portfolio: several generators searched one after another on the same
theorem, within one search and one budget (``--generator A,B``).

Why: a learned policy and CoqHammer prove different theorems (Tactician and
CoqHammer each prove about 40% of the Coq standard library and 56.7%
together), and they do not mix well as candidates of one best-first tree: a
``hammer`` call is worth one attempt at the goal, not one at every state, and
it takes seconds where a learned tactic takes milliseconds. So each stage is
its own search of the theorem, in the same proof-assistant session:

- stage ``i`` gets ``wall_clock * share_i / (sum of the shares of the stages
  not yet run)`` of what is left of the budget, so time a stage does not use
  (its search space ran out) goes to the stages after it; equal shares by
  default;
- a stage's tactic timeout is the budget's, or the stage's minimum when that
  is larger (CoqHammer's ``hammer`` needs its ATP phase plus reconstruction);
- the first verified proof ends the search; ``seconds_to_proof`` counts from
  the start of the first stage, so proved-within-t stays comparable with a
  single search's;
- the result's tree is the proving stage's (else the last stage's): each
  stage builds its own tree, and one theorem stores one.

The budget rules of :mod:`search.budget` hold per stage: a stage may overrun
its share by at most one of its tactic timeouts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .generator import Candidate, TacticGenerator, reseed_each, set_theorem_each


@dataclass(frozen=True)
class Stage:
    name: str
    generator: TacticGenerator
    share: float = 1.0
    min_tactic_timeout: float = 0.0  # the stage's tactics get at least this


@dataclass
class PortfolioGenerator:
    """The stages of a portfolio, in the order they run. The search
    (:class:`search.tree_search.TreeSearch`) runs them; ``generate`` is the
    first stage's, for callers that only want candidates."""

    stages: Sequence[Stage]

    def __post_init__(self) -> None:
        if not self.stages:
            raise ValueError("a portfolio needs at least one stage")
        if any(not s.share > 0 for s in self.stages):
            raise ValueError("stage shares must be > 0")
        if any(s.min_tactic_timeout < 0 for s in self.stages):
            raise ValueError("a stage's minimum tactic timeout must be >= 0")

    @property
    def preamble(self) -> str:
        """Every stage's preamble (a plugin's ``Require``), once each: the
        stages share one session, opened before the first runs."""
        parts = [getattr(s.generator, "preamble", "") for s in self.stages]
        return "\n".join(dict.fromkeys(p for p in parts if p))

    def reseed(self, seed: int) -> None:
        reseed_each([s.generator for s in self.stages], seed)

    def set_theorem(self, theorem: object) -> None:
        set_theorem_each([s.generator for s in self.stages], theorem)

    def generate(
        self, states: Sequence[str], k: int, *, temperature: float = 1.0, sample: bool = True
    ) -> list[list[Candidate]]:
        return self.stages[0].generator.generate(states, k, temperature=temperature, sample=sample)

    def wall_clocks(self, total: float, used: float, index: int) -> float:
        """Stage ``index``'s wall clock when ``used`` seconds of ``total`` are
        spent: its share of what is left."""
        rest = self.stages[index:]
        left = max(0.0, total - used)
        return left * self.stages[index].share / sum(s.share for s in rest)
