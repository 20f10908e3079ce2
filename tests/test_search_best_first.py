"""Best-first search against the real coqtop: proofs and their re-check,
status propagation and tree invariants, the depth cap, a proof on the last
step of an expiring budget, start failures, and proof-assistant crashes."""

from __future__ import annotations

import itertools
import os
import signal
from collections.abc import Sequence

from lean_env.environment import open_environment
from lean_env.types import ProofState
from search.best_first import DEPTH_CAP
from search.budget import Budget
from search.config import SearchConfig
from search.generator import Candidate, FixedTacticGenerator
from search.tree import Kind, Status
from search.tree_search import TreeSearch

SOURCE = """\
Theorem and_intro : forall A B : Prop, A -> B -> A /\\ B.
Proof. Admitted.

Theorem add_0_r : forall n : nat, n + 0 = n.
Proof. Admitted.

Theorem not_succ : forall n : nat, n = S n.
Proof. Admitted.

Theorem refl_all : forall n : nat, n = n.
Proof. Admitted.
"""


def three() -> FixedTacticGenerator:
    """With only these three, the shortest proofs of and_intro have 3 steps
    (`split` introduces the binders itself, then `assumption` twice)."""
    return FixedTacticGenerator(tactics=("intros", "split", "assumption"), per_name=())


def best_first(**kwargs) -> TreeSearch:
    return TreeSearch(SearchConfig(strategy="best-first", **kwargs))


def test_symbolic_search_finds_a_proof_that_rechecks(coq_file) -> None:
    theorem = coq_file(SOURCE)["add_0_r"].theorem
    result = best_first().search(
        theorem, open_environment, FixedTacticGenerator(), Budget(wall_clock=30)
    )
    assert result.status is Status.PROVED and result.proof
    assert result.verification is not None and result.verification.ok
    assert result.verifications[tuple(result.proof)].ok
    with open_environment(theorem) as env:  # an independent re-check, again
        assert env.verify(result.proof).ok
    result.tree.check_invariants()
    assert result.tree.status is Status.PROVED
    (attempt,) = result.attempts
    assert attempt.success and list(attempt.tactics) == result.proof
    assert result.stats.tactic_calls >= len(result.proof) and result.stats.expansions >= 1


def test_expansions_follow_priority_order(coq_file) -> None:
    """Popped states never gain priority: a child's cumulative log-prob is at
    most its parent's, so best-first pops them in non-increasing order."""
    theorem = coq_file(SOURCE)["not_succ"].theorem

    class Spy:
        def __init__(self) -> None:
            self.inner = FixedTacticGenerator(
                tactics=("intros", "simpl", "auto", "reflexivity"),
                per_name=("destruct {x}",),
                scores={"simpl": 1.0, "destruct {x}": 0.5},
            )
            self.seen: list[str] = []

        def generate(self, states: Sequence[str], k: int, **kw) -> list[list[Candidate]]:
            self.seen.extend(states)
            return self.inner.generate(states, k, **kw)

    spy = Spy()
    result = best_first().search(theorem, open_environment, spy, Budget(wall_clock=60, max_depth=3))
    tree = result.tree
    by_goals = {d.goals: d for d in tree.nodes if d.kind is Kind.STATE}
    priorities = [by_goals[g].logprob for g in spy.seen]
    assert len(priorities) == result.stats.expansions >= 3
    assert all(a >= b - 1e-12 for a, b in itertools.pairwise(priorities))


class ByGoal:
    """A scripted policy: candidates chosen by what the goal text contains."""

    def __init__(self, rules: list[tuple[str, list[Candidate]]]) -> None:
        self.rules = rules

    def generate(self, states: Sequence[str], k: int, **kw) -> list[list[Candidate]]:
        return [next((c for key, c in self.rules if key in goals), [])[:k] for goals in states]


def test_finished_proof_that_fails_the_recheck_does_not_count(coq_file) -> None:
    """`fix g 1. exact g.` closes every goal in coqtop, but the fixpoint is not
    guarded: Qed (coqc) rejects it. The policy makes best-first find it first;
    the search records the rejection and goes on to a real proof."""
    theorem = coq_file(SOURCE)["refl_all"].theorem
    policy = ByGoal(
        [
            ("g :", [Candidate("exact g", -0.1)]),
            ("forall", [Candidate("fix g 1", -0.1), Candidate("intros", -2.0)]),
            ("n = n", [Candidate("reflexivity", -0.1)]),
        ]
    )
    result = best_first().search(theorem, open_environment, policy, Budget(wall_clock=60))
    assert result.status is Status.PROVED and result.verification.ok
    assert result.proof == ["intros", "reflexivity"]
    bad = result.verifications[("fix g 1", "exact g")]
    assert not bad.ok and "ill-formed" in bad.reason
    tree = result.tree
    tree.check_invariants()
    (rejected,) = [
        d.id for d in tree.nodes if d.kind is Kind.FINISHED and d.status is Status.FAILED
    ]
    assert tree[rejected].message.startswith("verification failed")
    assert tree[tree[rejected].parent].status is Status.FAILED  # its only way out failed


def test_exhausted_search_is_failed_with_consistent_statuses(coq_file) -> None:
    theorem = coq_file(SOURCE)["not_succ"].theorem
    gen = FixedTacticGenerator(
        tactics=("intros", "simpl", "auto", "reflexivity"), per_name=("destruct {x}",)
    )
    result = best_first().search(theorem, open_environment, gen, Budget(wall_clock=60, max_depth=3))
    assert result.status is Status.FAILED and "exhausted" in result.reason
    assert result.proof is None and not result.attempts[0].success
    tree = result.tree
    tree.check_invariants()
    statuses = {d.status for d in tree.nodes}
    assert statuses == {Status.FAILED}  # nothing left open once the frontier is empty
    kinds = {d.kind for d in tree.nodes}
    assert {Kind.STATE, Kind.ERROR, Kind.CYCLE} <= kinds  # `simpl` on `n = S n` changes nothing


def test_depth_cap(coq_file) -> None:
    theorem = coq_file(SOURCE)["and_intro"].theorem
    capped = best_first().search(
        theorem, open_environment, three(), Budget(wall_clock=60, max_depth=2)
    )
    assert capped.status is Status.FAILED and "exhausted" in capped.reason
    tree = capped.tree
    tree.check_invariants()
    assert max(d.depth for d in tree.nodes) == 2
    at_cap = [d.id for d in tree.nodes if d.kind is Kind.STATE and d.depth == 2]
    assert at_cap
    for n in at_cap:  # states at the cap are given up on, never expanded
        assert tree[n].message == DEPTH_CAP and tree.graph.out_degree(n) == 0
        assert tree[n].status is Status.FAILED
    enough = best_first().search(
        theorem, open_environment, three(), Budget(wall_clock=60, max_depth=3)
    )
    assert enough.status is Status.PROVED and len(enough.proof) == 3 and enough.verification.ok


def test_proof_on_the_last_step_of_an_expiring_budget_counts(coq_file) -> None:
    """The clock reads the real environment's call counter: time passes the
    deadline exactly while the proving tactic runs (calls == n), or exactly
    before it would start (calls == n - 1)."""
    theorem = coq_file(SOURCE)["and_intro"].theorem
    with open_environment(theorem) as env:
        free = best_first().search(theorem, env, three(), Budget(wall_clock=600))
        n = free.stats.tactic_calls
    assert free.status is Status.PROVED

    for expire_at, expected in [(n, Status.PROVED), (n - 1, Status.OPEN)]:
        with open_environment(theorem) as env:
            start = env.tactic_calls

            def now(env=env, start=start, expire_at=expire_at) -> float:
                return 0.0 if env.tactic_calls - start < expire_at else 1000.0

            result = TreeSearch(SearchConfig(), now=now).search(
                theorem, env, three(), Budget(wall_clock=10)
            )
        assert result.status is expected, (expire_at, result.reason)
        assert result.stats.tactic_calls == expire_at
        if expected is Status.PROVED:
            assert result.proof == free.proof and result.verification.ok
        else:
            assert "budget" in result.reason and result.proof is None
        result.tree.check_invariants()


def test_expansion_budget(coq_file) -> None:
    theorem = coq_file(SOURCE)["and_intro"].theorem
    result = best_first().search(theorem, open_environment, three(), Budget(max_expansions=2))
    assert result.status is Status.OPEN and result.stats.expansions == 2
    assert "expansion budget" in result.reason


def test_environment_that_fails_to_start_is_failed_not_dropped(coq_file) -> None:
    decls = coq_file("Definition broken := undefined_thing.\nTheorem t : True.\nProof. Admitted.\n")
    result = best_first().search(decls["t"].theorem, open_environment, three(), Budget())
    assert result.status is Status.FAILED and result.start_failed
    assert "undefined_thing" in result.reason and result.tree is None and result.proof is None


class Killer:
    """The real symbolic generator, which also kills coqtop's process group
    (a real crash) on one call, and can make every restart fail."""

    def __init__(self, env, on_call: int, break_restarts: bool = False) -> None:
        self.env, self.on_call, self.break_restarts, self.calls = env, on_call, break_restarts, 0
        self.inner = FixedTacticGenerator()

    def generate(self, states: Sequence[str], k: int, **kw) -> list[list[Candidate]]:
        self.calls += 1
        if self.calls == self.on_call:
            if self.break_restarts:
                self.env.session.coq_args = ("-no-such-option",)
            os.killpg(self.env.session.coqtop.proc.pid, signal.SIGKILL)
        return self.inner.generate(states, k, **kw)


def test_search_survives_a_proof_assistant_crash(coq_file) -> None:
    theorem = coq_file(SOURCE)["add_0_r"].theorem
    with open_environment(theorem) as env:
        assert isinstance(env.run_tactic(env.initial_state, "intros"), ProofState)
        # Crash before the first expansion's tactics run.
        result = best_first().search(theorem, env, Killer(env, on_call=1), Budget(wall_clock=60))
        assert env.session.restarts >= 1
    assert result.status is Status.PROVED and result.verification.ok
    result.tree.check_invariants()


def test_unrecoverable_crash_is_failed_with_reason(coq_file) -> None:
    theorem = coq_file(SOURCE)["not_succ"].theorem
    with open_environment(theorem) as env:
        result = best_first().search(
            theorem, env, Killer(env, on_call=2, break_restarts=True), Budget(wall_clock=60)
        )
    assert result.status is Status.FAILED and "crashed" in result.reason
    assert result.tree is not None and result.stats.expansions >= 1  # what was searched is kept
