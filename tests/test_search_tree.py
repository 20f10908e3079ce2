"""The proof tree as a data structure: status propagation, transposition,
cycles, and the invariant checker. The results fed in are values of the
lean_env result types (plain data); trees grown by real searches against
coqtop are checked in test_search_best_first and test_search_rollouts."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from lean_env.types import ProofFinished, ProofState, TacticError, TacticTimeout, Verification
from search.tree import InvariantError, Kind, ProofTree, Status

OK = Verification(ok=True)
BAD = Verification(ok=False, reason="coqc said no")


def st(i: int, goals: str | None = None) -> ProofState:
    return ProofState(i, goals if goals is not None else f"goal {i}")


def test_proved_propagates_to_the_root_only_after_verification() -> None:
    tree = ProofTree(st(0))
    a, _ = tree.add(tree.root, "intros", -0.5, st(1), 0.01)
    b, _ = tree.add(a, "split", -1.0, st(2), 0.01)
    done, kind = tree.add(b, "auto", -0.1, ProofFinished(3), 0.01)
    assert kind == "finished" and tree[done].status is Status.OPEN
    assert tree.status is Status.OPEN
    tree.verified(done, OK)
    assert [tree[n].status for n in (done, b, a, tree.root)] == [Status.PROVED] * 4
    assert tree.path(done) == ["intros", "split", "auto"]
    assert tree[done].logprob == pytest.approx(-1.6)
    tree.check_invariants()


def test_failed_needs_full_expansion_and_every_child_failed() -> None:
    tree = ProofTree(st(0))
    a, _ = tree.add(tree.root, "intros", -1, st(1), 0)
    tree.add(tree.root, "bogus", -1, TacticError("no"), 0)
    tree.add(a, "loop", -1, TacticTimeout(1.0), 0)
    tree.add(a, "bad", -1, TacticError("no"), 0)
    assert tree[a].status is Status.OPEN  # not expanded yet: more tactics may come
    tree.expanded(a)
    assert tree[a].status is Status.FAILED and tree.status is Status.OPEN
    tree.expanded(tree.root)
    assert tree.status is Status.FAILED
    tree.check_invariants()


def test_failed_verification_is_recorded_and_not_a_proof() -> None:
    tree = ProofTree(st(0))
    done, _ = tree.add(tree.root, "exact I", 0, ProofFinished(1), 0)
    tree.verified(done, BAD)
    assert tree[done].status is Status.FAILED and "coqc said no" in tree[done].message
    assert tree.status is Status.OPEN
    tree.expanded(tree.root)
    assert tree.status is Status.FAILED
    tree.check_invariants()


def test_transposition_shares_a_state_and_its_proof() -> None:
    tree = ProofTree(st(0))
    a, _ = tree.add(tree.root, "t1", -1, st(1, "A"), 0)
    b, _ = tree.add(tree.root, "t2", -1, st(2, "B"), 0)
    added = tree.add(b, "t3", -1, st(3, "A"), 0)  # same goals as a, other path
    a2, kind = added
    assert a2 == a and kind == "transposition" and not added.new
    assert tree.add(b, "t6", -1, st(5, "C"), 0).new  # a state not seen before
    assert tree.add(b, "t7", -1, st(6, "B"), 0).new  # a CYCLE terminal is a new node too
    assert tree.lookup(b, "t3") == a and tree.lookup(b, "t4") is None
    done, _ = tree.add(a, "t5", -1, ProofFinished(4), 0)
    tree.verified(done, OK)
    assert tree[b].status is Status.PROVED  # proved through the shared state
    assert tree.path(a) == ["t1"]  # discovery path: the tactics that made the state
    tree.check_invariants()


def test_two_tactics_to_one_state_are_both_kept() -> None:
    tree = ProofTree(st(0))
    a, _ = tree.add(tree.root, "intros", -1, st(1, "A"), 0.1)
    again, _ = tree.add(tree.root, "intro n", -2, st(2, "A"), 0.2)
    assert again == a and tree.graph.number_of_edges() == 1
    assert sorted(e["tactic"] for e in tree.edges()) == ["intro n", "intros"]
    tree.check_invariants()


def test_no_progress_and_back_edges_become_cycle_terminals() -> None:
    tree = ProofTree(st(0, "R"))
    same, kind = tree.add(tree.root, "simpl", -1, st(1, "R"), 0)
    assert kind == "cycle" and tree[same].kind is Kind.CYCLE and tree.resolve(same) == tree.root
    a, _ = tree.add(tree.root, "intros", -1, st(2, "A"), 0)
    back, kind = tree.add(a, "revert n", -1, st(3, "R"), 0)
    assert kind == "cycle" and tree.resolve(back) == tree.root
    assert nx.is_directed_acyclic_graph(tree.graph)
    tree.expanded(a)
    tree.expanded(tree.root)
    assert tree.status is Status.FAILED  # the only ways out lead back in
    tree.check_invariants()


def test_without_transposition_equal_goals_are_distinct_nodes() -> None:
    tree = ProofTree(st(0, "R"), transposition=False)
    child, kind = tree.add(tree.root, "simpl", -1, st(1, "R"), 0)
    assert kind == "state" and child != tree.root
    tree.check_invariants()


def test_misuse_is_refused() -> None:
    tree = ProofTree(st(0))
    a, _ = tree.add(tree.root, "intros", -1, st(1), 0)
    with pytest.raises(ValueError, match="already tried"):
        tree.add(tree.root, "intros", -1, st(2), 0)
    err, _ = tree.add(tree.root, "x", -1, TacticError("no"), 0)
    with pytest.raises(ValueError, match="not a state"):
        tree.add(err, "y", -1, st(3), 0)
    with pytest.raises(ValueError, match="not an untried state"):
        tree.fail(tree.root, "depth cap")


def test_invariant_checker_catches_corruption() -> None:
    tree = ProofTree(st(0))
    done, _ = tree.add(tree.root, "auto", 0, ProofFinished(1), 0)
    with pytest.raises(InvariantError, match="never verified"):
        tree.check_invariants()
    tree.verified(done, OK)
    tree.check_invariants()
    tree[tree.root].status = Status.OPEN
    with pytest.raises(InvariantError, match="children say proved"):
        tree.check_invariants()


def _statuses_from_scratch(tree: ProofTree) -> dict[int, Status]:
    """Least fixed point of the status rules, recomputed bottom-up."""
    g = tree.graph
    out: dict[int, Status] = {}
    for node in reversed(list(nx.topological_sort(g))):
        data = tree[node]
        if data.kind is not Kind.STATE:
            out[node] = data.status
            continue
        children = [out[c] for c in g.successors(node)]
        if Status.PROVED in children:
            out[node] = Status.PROVED
        elif data.expanded and all(s is Status.FAILED for s in children):
            out[node] = Status.FAILED
        else:
            out[node] = Status.OPEN
    return out


@pytest.mark.parametrize("seed", range(20))
def test_random_growth_keeps_invariants_and_monotone_statuses(seed: int) -> None:
    rng = random.Random(seed)
    goals = [f"g{i}" for i in range(12)]  # few distinct states: many transpositions and cycles
    tree = ProofTree(st(0, goals[0]))
    seen: dict[int, Status] = {}
    next_id = 1
    for _ in range(150):
        open_states = [d.id for d in tree.nodes if d.kind is Kind.STATE and not d.expanded]
        if not open_states:
            break
        node = rng.choice(open_states)
        roll = rng.random()
        if roll < 0.1:
            tree.expanded(node)
        else:
            tactic = f"t{rng.randrange(10**9)}"
            if roll < 0.5:
                result = st(next_id, rng.choice(goals))
            elif roll < 0.55:
                result = ProofFinished(next_id)
            elif roll < 0.9:
                result = TacticError("no")
            else:
                result = TacticTimeout(1.0)
            next_id += 1
            child, _ = tree.add(node, tactic, -rng.random(), result, 0)
            if tree[child].kind is Kind.FINISHED:
                tree.verified(child, OK if rng.random() < 0.7 else BAD)
        tree.check_invariants()
        current = {d.id: d.status for d in tree.nodes}
        assert current == _statuses_from_scratch(tree)
        for n, s in seen.items():  # a node leaves OPEN once and never changes again
            assert s is Status.OPEN or current[n] is s
        seen = current
