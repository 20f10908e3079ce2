"""pass@N: N independent rollouts from the root.

A rollout samples one tactic per step and applies it, until the proof is
finished, a tactic fails or times out, or ``max_depth`` tactics have been
applied. A tactic that changes nothing (a CYCLE in the tree) is a step like
any other: the rollout goes on from the same state, as it would without the
tree.

The rollouts share the tree's memo table: a (state, tactic) pair already run
is answered from the table, without a proof-assistant call. The generator is
still asked for every step of every rollout, so the sampled tactics, and hence
the outcomes, have exactly the distribution of independent rollouts; only the
proof assistant's (deterministic) answers are reused. (The naive baseline
without the table, for measuring what it saves, is :mod:`search.naive`: the
same loop with another :class:`Stepper`.)

A FINISHED node's proof is re-checked once, along its discovery path (the
tactics that really produced it); a rollout that reaches a verified FINISHED
node through the table succeeds. Rollouts advance ``batch_size`` at a time in
lockstep so that a model generator gets batches; each rollout is recorded as
one :class:`~search.result.Attempt`, in the order they started.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

from lean_env.types import ProofState

from .context import SearchContext
from .generator import Candidate
from .result import CUT, Attempt, Outcome
from .tree import Kind, Status


@dataclass
class Rollout:
    index: int
    node: int  # where it is in the tree (memo table)
    state: ProofState  # its own state (naive baseline)
    started: float
    tactics: list[str] = field(default_factory=list)
    logprob: float = 0.0


class Stepper(Protocol):
    """How a rollout sees its state and takes one step."""

    def goals(self, ctx: SearchContext, r: Rollout) -> str: ...

    def step(self, ctx: SearchContext, r: Rollout, cand: Candidate) -> Outcome | None:
        """Advance ``r`` by ``cand``; the outcome if the rollout ended."""
        ...


class MemoStepper:
    """Steps through the tree's memo table."""

    def goals(self, ctx: SearchContext, r: Rollout) -> str:
        return ctx.tree.nodes[r.node].goals

    def step(self, ctx: SearchContext, r: Rollout, cand: Candidate) -> Outcome | None:
        child, _ = ctx.step(r.node, cand)
        data = ctx.tree.nodes[child]
        kind = data.kind
        if kind is Kind.FINISHED:
            return Outcome.PROVED if data.status is Status.PROVED else Outcome.VERIFY_FAILED
        if kind is Kind.ERROR:
            return Outcome.ERROR
        if kind is Kind.TIMEOUT:
            return Outcome.TIMEOUT
        r.node = ctx.tree.resolve(child)
        return None


class _Rollouts:
    """The rollouts of one search, advanced in lockstep."""

    def __init__(self, ctx: SearchContext, stepper: Stepper) -> None:
        self.ctx, self.stepper = ctx, stepper
        self.results: dict[int, Attempt] = {}
        self.active: list[Rollout] = []
        self.started = 0
        self.root = ctx.tree.state(ctx.tree.root)

    def cut(self) -> Outcome | None:
        """The outcome that cuts the rollouts still running, if it is time."""
        if self.ctx.clock.expired():
            return Outcome.BUDGET
        if self.ctx.proof is not None and self.ctx.config.stop_on_proof:
            return Outcome.STOPPED
        return None

    def finish(self, r: Rollout, outcome: Outcome) -> None:
        self.results[r.index] = Attempt(
            index=r.index,
            success=outcome is Outcome.PROVED,
            outcome=outcome,
            tactics=tuple(r.tactics),
            logprob=r.logprob,
            seconds=time.perf_counter() - r.started,
        )
        self.ctx.stats.passes += 1

    def refill(self) -> None:
        n, tree = self.ctx.budget.max_passes, self.ctx.tree
        while len(self.active) < self.ctx.config.batch_size and (n is None or self.started < n):
            self.active.append(Rollout(self.started, tree.root, self.root, time.perf_counter()))
            self.started += 1

    def advance(self) -> None:
        """One step of every active rollout (one generator call)."""
        ctx, active, stepper, cut = self.ctx, self.active, self.stepper, self.cut
        max_depth = ctx.budget.max_depth
        candidates = ctx.generate([stepper.goals(ctx, r) for r in active], 1)
        still: list[Rollout] = []
        for i, (r, cands) in enumerate(zip(active, candidates, strict=True)):
            if cut() is not None:
                still.extend(active[i:])
                break
            if not cands:
                self.finish(r, Outcome.NO_CANDIDATES)
                continue
            cand = cands[0]
            r.tactics.append(cand.tactic)
            r.logprob += cand.logprob
            outcome = stepper.step(ctx, r, cand)
            if outcome is None and len(r.tactics) >= max_depth:
                outcome = Outcome.DEPTH
            if outcome is None:
                still.append(r)
            else:
                self.finish(r, outcome)
        self.active = still

    def run(self) -> Outcome | None:
        """Run until every rollout ended or a cut; the cut, if any."""
        while (stop := self.cut()) is None:
            self.refill()
            if not self.active:
                break
            self.advance()
        for r in self.active:
            self.finish(r, stop or Outcome.BUDGET)
        return stop


def run_rollouts(ctx: SearchContext, stepper: Stepper | None = None) -> tuple[Status, str]:
    rollouts = _Rollouts(ctx, stepper or MemoStepper())
    stop = rollouts.run()
    results = rollouts.results
    ctx.attempts.extend(results[i] for i in sorted(results))
    done = sum(1 for a in results.values() if a.outcome not in CUT)
    if ctx.proof is not None:
        succeeded = sum(a.success for a in results.values())
        return Status.PROVED, f"proved; {succeeded} of {len(results)} rollouts succeeded"
    if stop is Outcome.BUDGET:
        wall = ctx.budget.wall_clock
        return Status.OPEN, f"wall-clock budget of {wall:g} s spent after {done} rollouts"
    return Status.FAILED, f"no proof in {done} rollouts"
