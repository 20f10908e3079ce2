"""The one entry point: ``TreeSearch(config).search(theorem, environment,
generator, budget) -> SearchResult``, with best-first or pass@N rollouts
behind it.

``environment`` is an opened :class:`~lean_env.environment.Environment` (the
caller closes it; its tactic timeout is set to the budget's) or a factory
``(theorem, tactic_timeout=...) -> Environment`` such as
:func:`lean_env.environment.open_environment` (the search opens and closes
it). A theorem whose environment fails to start, or whose proof assistant
crashes beyond recovery, is FAILED with the reason: it is never dropped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from lean_env.environment import Environment, open_environment
from lean_env.errors import EnvironmentCrashed, EnvironmentStartError
from lean_env.types import Theorem

from .best_first import run_best_first
from .budget import Budget, Clock
from .config import SearchConfig, Strategy
from .context import SearchContext
from .generator import TacticGenerator
from .naive import run_naive_rollouts
from .portfolio import PortfolioGenerator
from .result import Attempt, Outcome, SearchResult, SearchStats
from .rollouts import run_rollouts
from .tree import ProofTree, Status

# The reason of a search whose proof assistant died beyond recovery.
CRASHED = "proof assistant crashed and could not be restored"


class EnvironmentFactory(Protocol):
    def __call__(self, theorem: Theorem, *, tactic_timeout: float) -> Environment: ...


class TreeSearch:
    def __init__(
        self, config: SearchConfig | None = None, *, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config or SearchConfig()
        self.now = now  # the budget's clock; injectable for tests

    def search(
        self,
        theorem: Theorem,
        environment: Environment | EnvironmentFactory = open_environment,
        generator: TacticGenerator | None = None,
        budget: Budget | None = None,
    ) -> SearchResult:
        if generator is None:
            raise ValueError("a tactic generator is required")
        budget = budget or Budget()
        stats = SearchStats()
        if isinstance(environment, Environment):
            environment.tactic_timeout = budget.tactic_timeout
            return self._search_in(theorem, environment, generator, budget, stats)
        t0 = time.perf_counter()
        try:
            env = environment(theorem, tactic_timeout=budget.tactic_timeout)
        except (EnvironmentStartError, EnvironmentCrashed) as exc:
            stats.seconds_start = time.perf_counter() - t0
            return SearchResult(
                theorem=theorem,
                status=Status.FAILED,
                reason=f"environment failed to start: {exc}",
                proof=None,
                tree=None,
                stats=stats,
                start_failed=True,
            )
        stats.seconds_start = time.perf_counter() - t0
        with env:
            return self._search_in(theorem, env, generator, budget, stats)

    def _strategy(self) -> Callable[[SearchContext], tuple[Status, str]]:
        if self.config.strategy is Strategy.BEST_FIRST:
            return run_best_first
        return run_rollouts if self.config.memo else run_naive_rollouts

    def _search_in(
        self,
        theorem: Theorem,
        env: Environment,
        generator: TacticGenerator,
        budget: Budget,
        stats: SearchStats,
    ) -> SearchResult:
        if isinstance(generator, PortfolioGenerator):
            return self._search_stages(theorem, env, generator, budget, stats)
        t0 = time.perf_counter()
        tree = ProofTree(env.initial_state, transposition=self.config.transposition)
        ctx = SearchContext(
            env, tree, generator, self.config, budget, Clock(budget, self.now), stats
        )
        try:
            status, reason = self._strategy()(ctx)
        except (EnvironmentCrashed, EnvironmentStartError) as exc:
            # The proof assistant died and could not be brought back (a restart
            # that fails to start is a start error). A proof verified before
            # the crash still counts.
            status = Status.PROVED if ctx.proof is not None else Status.FAILED
            reason = f"{CRASHED}: {exc}"
        if self.config.strategy is Strategy.BEST_FIRST:
            ctx.attempts.append(_best_first_attempt(ctx, status, time.perf_counter() - t0))
        stats.nodes = tree.graph.number_of_nodes()
        stats.edges = tree.graph.number_of_edges()
        stats.seconds_total = time.perf_counter() - t0
        return SearchResult(
            theorem=theorem,
            status=status,
            reason=reason,
            proof=ctx.proof,
            tree=tree,
            stats=stats,
            attempts=ctx.attempts,
            verification=ctx.verification,
            verifications=ctx.verifications,
        )

    def _search_stages(
        self,
        theorem: Theorem,
        env: Environment,
        portfolio: PortfolioGenerator,
        budget: Budget,
        stats: SearchStats,
    ) -> SearchResult:
        """Each stage of the portfolio in turn, in the same session, until one
        proves the theorem (see :mod:`search.portfolio`)."""
        used = 0.0
        attempts: list[Attempt] = []
        verifications: dict = {}
        result: SearchResult | None = None
        for i, stage in enumerate(portfolio.stages):
            wall_clock = portfolio.wall_clocks(budget.wall_clock, used, i)
            if not wall_clock > 0:  # never the first stage: the budget is > 0
                break
            timeout = max(budget.tactic_timeout, stage.min_tactic_timeout)
            share = replace(budget, wall_clock=wall_clock, tactic_timeout=timeout)
            env.tactic_timeout = timeout
            before = stats.seconds_to_proof
            result = self._search_in(theorem, env, stage.generator, share, stats)
            if stats.seconds_to_proof is not None and before is None:
                stats.seconds_to_proof += used  # from the start of the first stage
            used += result.stats.seconds_total
            for attempt in result.attempts:
                attempts.append(replace(attempt, index=len(attempts)))
            verifications.update(result.verifications)
            if result.proved or result.reason.startswith(CRASHED):
                break
        env.tactic_timeout = budget.tactic_timeout
        assert result is not None  # the first stage always runs
        stats.seconds_total = used
        if self.config.strategy is Strategy.BEST_FIRST:
            # One search of the theorem, as a single best-first search is (so
            # pass@1 stays the proved share): the last stage's attempt, which
            # is the proving one when any proved, over the whole time.
            attempts = [replace(attempts[-1], index=0, seconds=used)]
        return replace(
            result,
            stats=stats,
            attempts=attempts,
            verifications=verifications,
        )


def _best_first_attempt(ctx: SearchContext, status: Status, seconds: float) -> Attempt:
    """A best-first search recorded as one attempt."""
    proved = ctx.proof is not None
    node = ctx.proof_node
    return Attempt(
        index=0,
        success=proved,
        outcome=Outcome.PROVED if proved else Outcome(status.value),
        tactics=tuple(ctx.proof or ()),
        logprob=ctx.tree[node].logprob if node is not None else 0.0,
        seconds=seconds,
    )
