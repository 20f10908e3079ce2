"""The naive baseline of pass@N: independent rollouts without the memo
table, every step sent to the proof assistant along the rollout's own
states. It exists to measure what the table saves
(``SearchConfig(memo=False)``, ``dco search --no-memo``, and
benchmarks/perf/search_speed.py); the tree holds only the root. A rollout
that finishes has its own tactics re-checked."""

from __future__ import annotations

from lean_env.types import ProofFinished, TacticError, TacticTimeout

from .context import SearchContext
from .generator import Candidate
from .result import Outcome
from .rollouts import Rollout, run_rollouts
from .tree import Status


class NaiveStepper:
    def goals(self, ctx: SearchContext, r: Rollout) -> str:
        return r.state.goals

    def step(self, ctx: SearchContext, r: Rollout, cand: Candidate) -> Outcome | None:
        result, _ = ctx.run(r.state, cand.tactic)
        if isinstance(result, ProofFinished):
            return Outcome.PROVED if ctx.verify(r.tactics).ok else Outcome.VERIFY_FAILED
        if isinstance(result, TacticError):
            return Outcome.ERROR
        if isinstance(result, TacticTimeout):
            return Outcome.TIMEOUT
        r.state = result
        return None


def run_naive_rollouts(ctx: SearchContext) -> tuple[Status, str]:
    return run_rollouts(ctx, NaiveStepper())
