"""The generator protocol and the symbolic baseline, on goal text printed by
the real coqtop."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from lean_env.environment import open_environment
from lean_env.types import ProofState
from search.generator import Candidate, FixedTacticGenerator, TacticGenerator, state_names

SOURCE = """\
Theorem t : forall (n m : nat) (l : list nat), n + 0 = n -> length l = m -> m = length l.
Proof. Admitted.
"""


@pytest.fixture(scope="module")
def goals(tmp_path_factory) -> tuple[str, str]:
    """The root's goal text and the text after `intros`, from coqtop."""
    from lean_env.coq.source import parse_declarations

    path = tmp_path_factory.mktemp("gen") / "G.v"
    path.write_text(SOURCE, encoding="utf-8")
    (decl,) = parse_declarations(path)
    with open_environment(decl.theorem) as env:
        root = env.initial_state
        after = env.run_tactic(root, "intros n m l H H'")
        assert isinstance(after, ProofState)
        return root.goals, after.goals


def test_names_from_hypotheses_and_leading_forall(goals) -> None:
    root, after = goals
    assert state_names(root) == ["n", "m", "l"]
    assert state_names(after) == ["n", "m", "l", "H", "H'"]
    assert state_names("") == []


def test_candidates_include_per_name_tactics_with_normalised_logprobs(goals) -> None:
    _, after = goals
    gen = FixedTacticGenerator()
    cands = gen.candidates(after)
    tactics = [c.tactic for c in cands]
    assert {"intros", "lia", "induction n", "destruct l", "rewrite <- H'", "inversion H"} <= set(
        tactics
    )
    assert len(tactics) == len(set(tactics))
    assert math.fsum(math.exp(c.logprob) for c in cands) == pytest.approx(1.0)
    assert len({round(c.logprob, 12) for c in cands}) == 1  # uniform by default


def test_top_k_follows_given_scores_and_is_deterministic(goals) -> None:
    _, after = goals
    gen = FixedTacticGenerator(
        tactics=("auto", "lia", "intros"),
        per_name=("induction {x}",),
        scores={"lia": 2.0, "induction {x}": 1.0},
    )
    (top,) = gen.generate([after], 3, sample=False)
    assert [c.tactic for c in top] == ["lia", "induction n", "induction m"]
    assert top[0].logprob > top[1].logprob
    assert gen.generate([after], 3, sample=False) == [top]


def test_sampling_frequencies_follow_the_tempered_distribution() -> None:
    gen = FixedTacticGenerator(tactics=("a", "b"), per_name=(), scores={"a": math.log(3)}, seed=7)
    counts = Counter(gen.generate(["x"], 1)[0][0].tactic for _ in range(4000))
    assert counts["a"] / 4000 == pytest.approx(0.75, abs=0.03)
    hot = Counter(gen.generate(["x"], 1, temperature=1e6)[0][0].tactic for _ in range(4000))
    assert hot["a"] / 4000 == pytest.approx(0.5, abs=0.03)
    # The log-prob reported is the policy's, not the tempered one.
    (cand,) = gen.generate(["x"], 1, temperature=5.0)[0]
    assert cand.logprob == pytest.approx(math.log(0.75) if cand.tactic == "a" else math.log(0.25))


def test_sampled_duplicates_are_merged_and_batches_keep_their_order(goals) -> None:
    gen = FixedTacticGenerator(tactics=("a", "b"), per_name=("destruct {x}",), seed=0)
    out = gen.generate(["no names here", goals[1]], 50)
    assert len(out) == 2
    assert sorted(c.tactic for c in out[0]) == ["a", "b"]
    assert all(isinstance(c, Candidate) for c in out[1]) and len(out[1]) == len(set(out[1]))
    assert any(c.tactic == "destruct H'" for c in out[1])


def test_satisfies_the_protocol() -> None:
    assert isinstance(FixedTacticGenerator(), TacticGenerator)
    with pytest.raises(ValueError):
        FixedTacticGenerator().generate(["x"], 0)
