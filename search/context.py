"""What both strategies share while searching one theorem: the environment,
the tree, the generator, the clock, and timed access to each of them (so the
statistics can tell search time from generator and proof-assistant time)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from lean_env.environment import Environment
from lean_env.types import ProofState, TacticResult, Verification

from .budget import Budget, Clock
from .config import SearchConfig
from .generator import Candidate, TacticGenerator
from .result import Attempt, SearchStats
from .tree import Kind, ProofTree, Status

REFUSED_ASSUMPTIONS = "refused: relies on axioms beyond the standard library"


def refuse_assumptions(verification: Verification) -> Verification:
    """A passing re-check turned into a failure because the proof relies on
    axioms the search config does not accept (the reason names them)."""
    return replace(
        verification,
        ok=False,
        reason=f"{REFUSED_ASSUMPTIONS}: {', '.join(verification.assumes)}",
    )


@dataclass
class SearchContext:
    env: Environment
    tree: ProofTree
    generator: TacticGenerator
    config: SearchConfig
    budget: Budget
    clock: Clock
    stats: SearchStats = field(default_factory=SearchStats)
    attempts: list[Attempt] = field(default_factory=list)
    # The first verified proof and its verification.
    proof: list[str] | None = None
    verification: Verification | None = None
    proof_node: int | None = None  # its FINISHED node, when found through the tree
    # Every proof re-checked, by its tactics.
    verifications: dict[tuple[str, ...], Verification] = field(default_factory=dict)

    def generate(self, states: Sequence[str], k: int) -> list[list[Candidate]]:
        t0 = time.perf_counter()
        try:
            out = self.generator.generate(
                states, k, temperature=self.config.temperature, sample=self.config.sampling
            )
        finally:
            self.stats.seconds_generator += time.perf_counter() - t0
            self.stats.generator_calls += 1
        if len(out) != len(states):
            raise ValueError(f"generator returned {len(out)} lists for {len(states)} states")
        return out

    def run(self, state: ProofState, tactic: str) -> tuple[TacticResult, float]:
        t0 = time.perf_counter()
        try:
            return self.env.run_tactic(state, tactic), time.perf_counter() - t0
        finally:
            self.stats.seconds_tactics += time.perf_counter() - t0
            self.stats.tactic_calls += 1

    def verify(self, tactics: Sequence[str]) -> Verification:
        """Re-check a proof (each distinct tactic sequence once); the first that
        passes becomes the search's proof."""
        key = tuple(tactics)
        verification = self.verifications.get(key)
        if verification is None:
            t0, since = time.perf_counter(), self.clock.now()
            try:
                verification = self.env.verify(list(tactics))
            finally:
                self.stats.seconds_verify += time.perf_counter() - t0
                self.stats.verify_calls += 1
            if verification.ok and verification.assumes and not self.config.allow_assumptions:
                # Its time counts: a context whose axiom proves everything
                # would otherwise yield refused proofs without end.
                verification = refuse_assumptions(verification)
            else:
                self.clock.exclude(since)
            self.verifications[key] = verification
        if verification.ok and self.proof is None:
            # As checked: a Coq proof keeps the `1: ` focusing the search
            # added, so the stored answer re-checks under any goal selector.
            self.proof = list(verification.tactics or tactics)
            self.verification = verification
            self.stats.seconds_to_proof = self.clock.elapsed
        return verification

    def step(self, node: int, candidate: Candidate) -> tuple[int, bool]:
        """Apply a candidate to a tree node through the memo table; a new
        FINISHED child is re-checked at once. Returns the child and whether
        this step created it (False: a memo hit or a known state)."""
        child = self.tree.lookup(node, candidate.tactic)
        if child is not None:
            self.stats.memo_hits += 1
            return child, False
        result, seconds = self.run(self.tree.state(node), candidate.tactic)
        added = self.tree.add(node, candidate.tactic, candidate.logprob, result, seconds)
        child = added.node
        if self.tree.nodes[child].kind is Kind.FINISHED:
            verification = self.verify(self.tree.path(child))
            self.tree.verified(child, verification)
            if verification.ok and self.proof_node is None:
                self.proof_node = child
        return child, added.new

    @property
    def proved(self) -> bool:
        return self.tree.status is Status.PROVED or self.proof is not None
