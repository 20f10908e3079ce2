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
proof assistant's (deterministic) answers are reused. With ``memo=False`` every
step goes to the proof assistant along the rollout's own states (the naive
baseline), and the tree holds only the root.

A FINISHED node's proof is re-checked once, along its discovery path (the
tactics that really produced it); a rollout that reaches a verified FINISHED
node through the table succeeds. Rollouts advance ``batch_size`` at a time in
lockstep so that a model generator gets batches; each rollout is recorded as
one :class:`~search.result.Attempt`, in the order they started.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from lean_env.types import ProofFinished, ProofState, TacticError, TacticTimeout

from .context import SearchContext
from .generator import Candidate
from .result import Attempt
from .tree import Kind, Status


@dataclass
class _Rollout:
    index: int
    node: int  # tree node (memo mode)
    state: ProofState  # the rollout's own state (naive mode)
    started: float
    tactics: list[str] = field(default_factory=list)
    logprob: float = 0.0


def _finish(ctx: SearchContext, r: _Rollout, outcome: str, results: dict[int, Attempt]) -> None:
    results[r.index] = Attempt(
        index=r.index,
        success=outcome == "proved",
        outcome=outcome,
        tactics=tuple(r.tactics),
        logprob=r.logprob,
        seconds=time.perf_counter() - r.started,
    )
    ctx.stats.passes += 1


def _step_memo(ctx: SearchContext, r: _Rollout, cand: Candidate) -> str | None:
    """Advance a rollout by one tactic through the memo table; the outcome
    if it ended."""
    child = ctx.step(r.node, cand)
    data = ctx.tree[child]
    kind = data["kind"]
    if kind is Kind.FINISHED:
        return "proved" if data["status"] is Status.PROVED else "verify_failed"
    if kind is Kind.ERROR or kind is Kind.TIMEOUT:
        return str(kind)
    r.node = ctx.tree.resolve(child)
    return None


def _step_naive(ctx: SearchContext, r: _Rollout, cand: Candidate) -> str | None:
    result, _ = ctx.run(r.state, cand.tactic)
    if isinstance(result, ProofFinished):
        return "proved" if ctx.verify(r.tactics).ok else "verify_failed"
    if isinstance(result, TacticError):
        return "error"
    if isinstance(result, TacticTimeout):
        return "timeout"
    r.state = result
    return None


def run_rollouts(ctx: SearchContext) -> tuple[Status, str]:
    budget, config, tree = ctx.budget, ctx.config, ctx.tree
    n = budget.max_passes
    step = _step_memo if config.memo else _step_naive
    results: dict[int, Attempt] = {}
    active: list[_Rollout] = []
    started = 0
    stop: str | None = None  # the outcome that cuts the rollouts still running
    root = tree.state(tree.root)
    while True:
        if ctx.clock.expired():
            stop = "budget"
        elif ctx.proof is not None and config.stop_on_proof:
            stop = "stopped"
        if stop is not None:
            break
        while len(active) < config.batch_size and (n is None or started < n):
            active.append(_Rollout(started, tree.root, root, time.perf_counter()))
            started += 1
        if not active:
            break
        candidates = ctx.generate(
            [tree[r.node]["goals"] if config.memo else r.state.goals for r in active], 1
        )
        still: list[_Rollout] = []
        for i, (r, cands) in enumerate(zip(active, candidates, strict=True)):
            if ctx.clock.expired() or (ctx.proof is not None and config.stop_on_proof):
                still.extend(active[i:])
                break
            if not cands:
                _finish(ctx, r, "no_candidates", results)
                continue
            cand = cands[0]
            r.tactics.append(cand.tactic)
            r.logprob += cand.logprob
            outcome = step(ctx, r, cand)
            if outcome is None and len(r.tactics) >= budget.max_depth:
                outcome = "depth"
            if outcome is None:
                still.append(r)
            else:
                _finish(ctx, r, outcome, results)
        active = still
    for r in active:
        _finish(ctx, r, stop or "budget", results)
    ctx.attempts.extend(results[i] for i in sorted(results))
    done = sum(1 for a in results.values() if a.outcome not in ("budget", "stopped"))
    if ctx.proof is not None:
        return (
            Status.PROVED,
            f"proved; {sum(a.success for a in results.values())} of {len(results)} rollouts succeeded",
        )
    if stop == "budget":
        return (
            Status.OPEN,
            f"wall-clock budget of {budget.wall_clock:g} s spent after {done} rollouts",
        )
    return Status.FAILED, f"no proof in {done} rollouts"
