"""How to search (what to spend is :class:`~search.budget.Budget`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from lean_env.errors import UserError


class Strategy(StrEnum):
    BEST_FIRST = "best-first"
    ROLLOUTS = "rollouts"


@dataclass(frozen=True)
class SearchConfig:
    strategy: Strategy = Strategy.BEST_FIRST
    # best-first: tactics asked for per expanded state; rollouts: always 1 per step.
    num_candidates: int = 64
    temperature: float = 1.0
    # Sample (at ``temperature``) or take the top k. None: the strategy's
    # default, top-k for best-first and sampling for rollouts.
    sample: bool | None = None
    # best-first priority: cumulative log-prob, or divided by the depth.
    length_normalize: bool = False
    # States per generator call (best-first: states popped at once; rollouts:
    # rollouts advanced in lockstep).
    batch_size: int = 1
    # Rollouts share a (state, tactic) -> result table; False runs every step
    # (the naive baseline of search/naive.py, for measuring what the table saves).
    memo: bool = True
    # Deduplicate states by goal text (see search.tree).
    transposition: bool = True
    # Rollouts: stop at the first proof (cheaper) or run all N passes (needed
    # for an unbiased pass@k curve). Best-first always stops.
    stop_on_proof: bool = False
    # Accept a proof that relies on axioms beyond the standard library's
    # (``Verification.assumes``, e.g. ``Axiom cheat : False.`` in the
    # theorem's file). False: such a proof counts as failed verification and
    # the search goes on (the default: a caller that shows them, like
    # `prove`, turns it on).
    allow_assumptions: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "strategy", Strategy(self.strategy))
        if self.num_candidates < 1:
            raise UserError(f"number of candidates must be >= 1, got {self.num_candidates}")
        if self.batch_size < 1:
            raise UserError(f"batch size must be >= 1, got {self.batch_size}")
        if self.sampling and not self.temperature > 0:
            raise UserError(f"sampling needs a temperature > 0, got {self.temperature}")

    @property
    def sampling(self) -> bool:
        if self.sample is not None:
            return self.sample
        return self.strategy is Strategy.ROLLOUTS

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["strategy"] = self.strategy.value
        return d
