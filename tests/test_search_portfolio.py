"""A portfolio (``--generator A,B``): its stages searched one after another
on the same theorem in the real coqtop, each with its share of the wall clock,
the first verified proof ending it; the CLI spec, its label and its errors;
and CoqHammer as a stage with the real plugin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lean_env.errors import UserError
from lean_env.types import Theorem
from prover.ensemble import resolve_members
from prover.evaluation import policy_model
from prover.generators import make_generator
from search.automation import HAMMER_TACTIC_TIMEOUT, HammerGenerator, hammer_preamble
from search.budget import Budget
from search.config import SearchConfig
from search.generator import FixedTacticGenerator
from search.portfolio import PortfolioGenerator, Stage
from search.runner import Job, run_jobs, theorem_for
from search.tree_search import TreeSearch


def file_theorem(tmp_path: Path, context: str, statement: str) -> Theorem:
    path = tmp_path / "Ctx.v"
    path.write_text(context, encoding="utf-8")
    return Theorem("t", statement, file=str(path), line=1, offset=len(context))


class Recording:
    """A fixed list of tactics that counts the calls asking it for candidates."""

    def __init__(self, tactics: tuple[str, ...]) -> None:
        self.inner = FixedTacticGenerator(tactics, ())
        self.calls = 0

    def generate(self, states, k, *, temperature=1.0, sample=True):
        self.calls += 1
        return self.inner.generate(states, k, temperature=temperature, sample=sample)


def test_shares_split_what_is_left() -> None:
    a, b, c = (Stage(n, FixedTacticGenerator(("idtac",), ())) for n in "abc")
    portfolio = PortfolioGenerator([a, b, c])
    assert portfolio.wall_clocks(30.0, 0.0, 0) == pytest.approx(10.0)
    # the first stage used 4 s of its 10: the rest is split between two
    assert portfolio.wall_clocks(30.0, 4.0, 1) == pytest.approx(13.0)
    assert portfolio.wall_clocks(30.0, 31.0, 2) == 0.0
    with pytest.raises(ValueError):
        PortfolioGenerator([])
    with pytest.raises(ValueError):
        PortfolioGenerator([Stage("a", a.generator, share=0.0)])


def test_a_later_stage_proves_what_the_first_cannot(tmp_path: Path) -> None:
    """Stage 1 only knows tactics that fail, so its search space runs out;
    stage 2 proves the theorem with lia. Both stages searched (attempts of
    each), the proof is stage 2's and re-checked, and the time to proof
    counts from the start of stage 1."""
    theorem = file_theorem(
        tmp_path, "Require Import Lia.\n", "Theorem t : forall n : nat, n + 0 = n."
    )
    first, second = Recording(("discriminate", "exfalso")), Recording(("intros; lia",))
    portfolio = PortfolioGenerator([Stage("fails", first), Stage("lia", second)])
    result = TreeSearch(SearchConfig()).search(
        theorem, generator=portfolio, budget=Budget(wall_clock=30, tactic_timeout=5)
    )
    assert result.proved, result.reason
    assert result.proof == ["intros; lia"] and result.verification.ok
    assert first.calls >= 1 and second.calls >= 1
    # one best-first search of the theorem: one attempt (pass@1 = proved)
    (attempt,) = result.attempts
    assert attempt.success and attempt.tactics == ("intros; lia",)
    assert attempt.seconds == pytest.approx(result.stats.seconds_total)
    assert 0 < result.stats.seconds_to_proof <= result.stats.seconds_total


def test_a_proof_in_the_first_stage_skips_the_rest(tmp_path: Path) -> None:
    theorem = file_theorem(tmp_path, "", "Theorem t : True.")
    first, second = Recording(("exact I",)), Recording(("trivial",))
    result = TreeSearch(SearchConfig()).search(
        theorem,
        generator=PortfolioGenerator([Stage("a", first), Stage("b", second)]),
        budget=Budget(wall_clock=30),
    )
    assert result.proved and result.proof == ["exact I"]
    assert second.calls == 0 and len(result.attempts) == 1


def test_portfolio_spec_label_and_errors(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # no models/ce: the hybrid stage has no model
    (member,) = resolve_members(
        ensemble=None,
        models="models",
        model=None,
        generator="symbolic,symbolic-arith",
        benchmark="coq-stdlib",
    )
    assert (member.label, member.generator) == (
        "symbolic,symbolic-arith",
        "symbolic,symbolic-arith",
    )
    assert policy_model(member) is None
    model = tmp_path / "m"
    (member,) = resolve_members(
        ensemble=None,
        models="models",
        model=None,
        generator=f"hybrid:{model},hammer",
        benchmark="coq-stdlib",
    )
    assert member.label == "hybrid,hammer" and policy_model(member) == str(model)
    gen = make_generator("symbolic,symbolic-arith", 0)
    assert isinstance(gen, PortfolioGenerator)
    assert [s.name for s in gen.stages] == ["symbolic", "symbolic-arith"]
    # weights: the stage's share of the wall clock, shown in the label
    (member,) = resolve_members(
        ensemble=None,
        models="models",
        model=None,
        generator="symbolic@1, symbolic-arith@2",
        benchmark="coq-stdlib",
    )
    assert member.label == member.generator == "symbolic@1,symbolic-arith@2"
    gen = make_generator(member.generator, 0)
    assert isinstance(gen, PortfolioGenerator)
    assert [(s.name, s.share) for s in gen.stages] == [("symbolic", 1.0), ("symbolic-arith", 2.0)]
    assert gen.wall_clocks(30.0, 0.0, 0) == pytest.approx(10.0)
    assert [s.share for s in make_generator("symbolic,symbolic-arith@3", 0).stages] == [1.0, 3.0]
    for bad in (
        "symbolic,",
        "symbolic,symbolic",
        "symbolic,nope",
        "symbolic@1,symbolic@2",
        "symbolic@0,symbolic-arith",
        "symbolic@-1,symbolic-arith",
        "symbolic@inf,symbolic-arith",
        "symbolic@1",
    ):
        with pytest.raises(UserError):
            resolve_members(
                ensemble=None, models="models", model=None, generator=bad, benchmark="coq-stdlib"
            )


def test_a_hammer_stage_with_the_real_plugin(tmp_path: Path) -> None:
    """``symbolic,hammer`` through the runner: the session imports CoqHammer
    (the portfolio's preamble), the symbolic stage cannot prove this
    first-order goal, and the proof CoqHammer finds in the second stage
    passes the re-check."""
    theorem = file_theorem(
        tmp_path,
        "Require Import List.\n",
        "Theorem t : forall (A : Type) (P Q : A -> Prop) (a : A), (forall x, P x /\\ Q x) -> Q a.",
    )
    symbolic = FixedTacticGenerator(("reflexivity", "discriminate"), ())
    portfolio = PortfolioGenerator(
        [
            Stage("symbolic", symbolic),
            Stage("hammer", HammerGenerator(), min_tactic_timeout=HAMMER_TACTIC_TIMEOUT),
        ]
    )
    assert theorem_for(theorem, portfolio).preamble == hammer_preamble()
    # from the CLI, the hammer stage takes the generator's own minimum
    built = make_generator("symbolic,hammer", 0)
    assert [s.min_tactic_timeout for s in built.stages] == [0.0, HAMMER_TACTIC_TIMEOUT]
    (record,) = run_jobs(
        [Job(theorem)],
        SearchConfig(),
        Budget(wall_clock=60, tactic_timeout=1),
        lambda _: portfolio,
        store_tree=False,
    )
    assert record.theorem["status"] == "proved", record.theorem["reason"]
    proof = record.theorem["proof"]
    assert any(t in json.dumps(proof) for t in ("qauto", "sauto", "hammer")), proof


def test_each_stage_runs_at_its_own_tactic_timeout(tmp_path: Path) -> None:
    """A stage with a minimum tactic timeout (CoqHammer's) runs its tactics
    at that timeout in the shared session, the others at the budget's, and
    the session gets the budget's back afterwards."""
    from lean_env.environment import open_environment

    theorem = file_theorem(tmp_path, "", "Theorem t : 1 = 2.")

    class Seen:
        def __init__(self, env) -> None:
            self.env, self.timeouts = env, []

        def generate(self, states, k, *, temperature=1.0, sample=True):
            self.timeouts.append(self.env.tactic_timeout)
            return [[] for _ in states]  # nothing to try: the stage ends at once

    with open_environment(theorem, tactic_timeout=2.0) as env:
        plain, slow = Seen(env), Seen(env)
        portfolio = PortfolioGenerator(
            [Stage("plain", plain), Stage("slow", slow, min_tactic_timeout=7.0)]
        )
        result = TreeSearch(SearchConfig()).search(
            theorem, env, portfolio, Budget(wall_clock=10, tactic_timeout=2.0)
        )
        assert not result.proved
        assert plain.timeouts == [2.0] and slow.timeouts == [7.0]
        assert env.tactic_timeout == 2.0
