"""Best-first search: always expand the open state with the highest priority.

Priority is the cumulative log-prob of the tactics on a state's discovery
path, optionally divided by its depth. Expanding a state asks the generator
for ``num_candidates`` tactics and runs every one that the memo table has not
seen. States at the depth cap are not expanded (FAILED: a proof through them
would be longer than ``max_depth``). The search ends at the first verified
proof, when the root is FAILED (every state expanded, nothing proved), or when
the budget is spent (OPEN).
"""

from __future__ import annotations

import heapq
import itertools

from .context import SearchContext
from .generator import Candidate
from .tree import Kind, Status

DEPTH_CAP = "depth cap"
PROVED = "proof found and verified"


class _Frontier:
    """The open states by priority; ties: first found, first expanded."""

    def __init__(self, ctx: SearchContext) -> None:
        self.ctx = ctx
        self.heap: list[tuple[float, int, int]] = []
        self.counter = itertools.count()

    def __bool__(self) -> bool:
        return bool(self.heap)

    def priority(self, node: int) -> float:
        data = self.ctx.tree[node]
        if self.ctx.config.length_normalize and data.depth:
            return data.logprob / data.depth
        return data.logprob

    def push(self, node: int) -> None:
        """Queue a new state, or fail it at the depth cap."""
        ctx = self.ctx
        if ctx.tree[node].depth >= ctx.budget.max_depth:
            ctx.tree.fail(node, DEPTH_CAP)
        else:
            heapq.heappush(self.heap, (-self.priority(node), next(self.counter), node))

    def pop_batch(self, size: int) -> list[int]:
        """Up to ``size`` open states, best first."""
        batch: list[int] = []
        while self.heap and len(batch) < size:
            _, _, node = heapq.heappop(self.heap)
            if self.ctx.tree[node].status is Status.OPEN:
                batch.append(node)
        return batch


def _budget_spent(ctx: SearchContext) -> str | None:
    budget = ctx.budget
    if ctx.clock.expired():
        return f"wall-clock budget of {budget.wall_clock:g} s spent"
    if budget.max_expansions is not None and ctx.stats.expansions >= budget.max_expansions:
        return f"expansion budget of {budget.max_expansions} spent"
    return None


def _expand(
    ctx: SearchContext, frontier: _Frontier, node: int, cands: list[Candidate]
) -> tuple[Status, str] | None:
    """Run a state's candidates; the search's end, if it ends here."""
    ctx.stats.expansions += 1
    for cand in cands:
        # Checked before each tactic, never during one: a tactic that
        # started in time and proves the theorem counts.
        if ctx.clock.expired():
            return Status.OPEN, f"wall-clock budget of {ctx.budget.wall_clock:g} s spent"
        child, new = ctx.step(node, cand)
        if new and ctx.tree[child].kind is Kind.STATE:
            frontier.push(child)
        if ctx.proof is not None:
            return Status.PROVED, PROVED
    ctx.tree.expanded(node)
    return (Status.PROVED, PROVED) if ctx.proof is not None else None


def run_best_first(ctx: SearchContext) -> tuple[Status, str]:
    tree, budget, config = ctx.tree, ctx.budget, ctx.config
    frontier = _Frontier(ctx)
    frontier.push(tree.root)
    while frontier and tree.status is Status.OPEN:
        spent = _budget_spent(ctx)
        if spent is not None:
            return Status.OPEN, spent
        batch = frontier.pop_batch(config.batch_size)
        if budget.max_expansions is not None:
            batch = batch[: budget.max_expansions - ctx.stats.expansions]
        if not batch:
            continue
        candidates = ctx.generate([tree[n].goals for n in batch], config.num_candidates)
        for node, cands in zip(batch, candidates, strict=True):
            end = _expand(ctx, frontier, node, cands)
            if end is not None:
                return end
    if tree.status is Status.FAILED:
        return Status.FAILED, "search space exhausted: every state expanded, no proof"
    if tree.status is Status.PROVED:
        return Status.PROVED, PROVED
    raise AssertionError("best-first ended with an open root and an empty frontier")
