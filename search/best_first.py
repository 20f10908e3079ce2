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
from .tree import Kind, Status

DEPTH_CAP = "depth cap"


def _priority(ctx: SearchContext, node: int) -> float:
    data = ctx.tree[node]
    if ctx.config.length_normalize and data["depth"]:
        return data["logprob"] / data["depth"]
    return data["logprob"]


def run_best_first(ctx: SearchContext) -> tuple[Status, str]:
    tree, budget, config = ctx.tree, ctx.budget, ctx.config
    counter = itertools.count()  # ties: first found, first expanded
    frontier: list[tuple[float, int, int]] = []

    def push(node: int) -> None:
        if tree[node]["depth"] >= budget.max_depth:
            tree.fail(node, DEPTH_CAP)
        else:
            heapq.heappush(frontier, (-_priority(ctx, node), next(counter), node))

    push(tree.root)
    while frontier and tree.status is Status.OPEN:
        if ctx.clock.expired():
            return Status.OPEN, f"wall-clock budget of {budget.wall_clock:g} s spent"
        if budget.max_expansions is not None and ctx.stats.expansions >= budget.max_expansions:
            return Status.OPEN, f"expansion budget of {budget.max_expansions} spent"
        batch = []
        while frontier and len(batch) < config.batch_size:
            _, _, node = heapq.heappop(frontier)
            if tree[node]["status"] is Status.OPEN:
                batch.append(node)
        if budget.max_expansions is not None:
            batch = batch[: budget.max_expansions - ctx.stats.expansions]
        if not batch:
            continue
        candidates = ctx.generate([tree[n]["goals"] for n in batch], config.num_candidates)
        for node, cands in zip(batch, candidates, strict=True):
            ctx.stats.expansions += 1
            for cand in cands:
                # Checked before each tactic, never during one: a tactic that
                # started in time and proves the theorem counts.
                if ctx.clock.expired():
                    return Status.OPEN, f"wall-clock budget of {budget.wall_clock:g} s spent"
                before = len(tree)
                child = ctx.step(node, cand)
                if len(tree) > before and tree[child]["kind"] is Kind.STATE:
                    push(child)
                if ctx.proof is not None:
                    return Status.PROVED, "proof found and verified"
            tree.expanded(node)
            if ctx.proof is not None:
                return Status.PROVED, "proof found and verified"
    if tree.status is Status.FAILED:
        return Status.FAILED, "search space exhausted: every state expanded, no proof"
    if tree.status is Status.PROVED:
        return Status.PROVED, "proof found and verified"
    raise AssertionError("best-first ended with an open root and an empty frontier")
