"""The hybrid generator: the union of its sources' candidates, deduplicated,
ranked as a mixture (the documented priority), closing-attempt wrappers, the
fallback when a source is not available, and best-first with a really
trained tiny model plus the automation list in the real coqtop."""

from __future__ import annotations

import io
import math
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from lean_env.errors import UserError
from prover.generators import make_generator
from search.automation import CLOSERS, arith_generator
from search.generator import DEFAULT_TACTICS, Candidate, FixedTacticGenerator, TacticGenerator
from search.hybrid import HybridGenerator, Source


class Fixed:
    """A source that proposes given candidates for every state."""

    def __init__(self, cands: list[tuple[str, float]]) -> None:
        self.cands = [Candidate(t, math.log(p)) for t, p in cands]

    def generate(self, states, k, *, temperature=1.0, sample=True):
        return [self.cands[:k] for _ in states]


def probs(cands: list[Candidate]) -> list[tuple[str, float]]:
    return [(c.tactic, round(math.exp(c.logprob), 6)) for c in cands]


def test_union_is_deduplicated_and_ranked_by_the_mixture() -> None:
    lm = Fixed([("apply foo", 0.6), ("intros  x", 0.3), ("-", 0.05)])
    knn = Fixed([("intros x", 0.5), ("rewrite bar", 0.5)])
    auto = FixedTacticGenerator(tactics=("auto", "lia", "apply foo"), per_name=())
    hybrid = HybridGenerator(
        [Source("lm", lm), Source("knn", knn), Source("automation", auto, learned=False)],
        wrappers=(),
    )
    assert isinstance(hybrid, TacticGenerator)
    (got,) = hybrid.generate(["goal"], 10, sample=False)
    w = 1 / 3
    # intros x: lm 0.3 + knn 0.5 (whitespace-normalised: one tactic, the
    # first source's spelling); apply foo: lm 0.6 + automation 1/3
    assert probs(got) == [
        ("apply foo", round(w * 0.6 + w / 3, 6)),
        ("intros  x", round(w * 0.8, 6)),
        ("rewrite bar", round(w * 0.5, 6)),
        ("auto", round(w / 3, 6)),
        ("lia", round(w / 3, 6)),
        ("-", round(w * 0.05, 6)),
    ]
    assert len({c.tactic.replace("  ", " ") for c in got}) == len(got)
    # each source is asked for k: with k = 2 the automation list offers
    # only auto and lia, so apply foo has the model's share alone
    assert probs(hybrid.generate(["g"], 2, sample=False)[0]) == [
        ("intros  x", round(w * 0.8, 6)),
        ("apply foo", round(w * 0.6, 6)),
    ]
    # weights shift the mixture
    heavy = HybridGenerator([Source("lm", lm, weight=1), Source("knn", knn, weight=9)], wrappers=())
    assert [c.tactic for c in heavy.generate(["g"], 3)[0]] == [
        "intros  x",
        "rewrite bar",
        "apply foo",
    ]


def test_a_source_is_asked_for_at_most_its_max_candidates() -> None:
    asked: list[int] = []

    class Counting(Fixed):
        def generate(self, states, k, *, temperature=1.0, sample=True):
            asked.append(k)
            return super().generate(states, k)

    lm = Counting([(f"t{i}", 0.1) for i in range(10)])
    auto = FixedTacticGenerator(tactics=tuple(f"a{i}" for i in range(10)), per_name=())
    hybrid = HybridGenerator(
        [Source("lm", lm, max_candidates=3), Source("automation", auto, learned=False)],
        wrappers=(),
    )
    (got,) = hybrid.generate(["g"], 8, sample=False)
    # the model gives its 3, the automation list fills the rest of the 8
    assert asked == [3] and [c.tactic for c in got] == [
        "t0",
        "t1",
        "t2",
        "a0",
        "a1",
        "a2",
        "a3",
        "a4",
    ]
    hybrid.generate(["g"], 2, sample=False)
    assert asked[-1] == 2  # never more than the search's k
    with pytest.raises(ValueError, match="max_candidates"):
        HybridGenerator([Source("lm", lm, max_candidates=0)])


def test_a_closing_sources_candidates_come_on_top_of_k() -> None:
    """Closing attempts add no state, so they never take a learned
    candidate's place: with k = 3 the k-NN keeps its 3 and both closers are
    tried, each at its place in the mixture's ranking."""
    knn = Fixed([("t0", 0.5), ("t1", 0.3), ("t2", 0.1), ("t3", 0.1)])
    closers = FixedTacticGenerator(tactics=("lia", "easy"), per_name=())
    hybrid = HybridGenerator(
        [Source("knn", knn), Source("automation", closers, learned=False, closing=True)],
        wrappers=("now ({t})",),
        wrap_top=1,
    )
    (got,) = hybrid.generate(["g"], 3, sample=False)
    # knn: 0.25, 0.15, 0.05, (0.05 cut); closers 0.25 each (1/2 of 1/2)
    assert [c.tactic for c in got] == ["t0", "now (t0)", "lia", "easy", "t1"]
    # the same closers as an ordinary source compete for the k places
    plain = HybridGenerator(
        [Source("knn", knn), Source("automation", closers, learned=False)], wrappers=()
    )
    assert [c.tactic for c in plain.generate(["g"], 3, sample=False)[0]] == ["t0", "lia", "easy"]


def test_ties_keep_source_order_then_rank() -> None:
    a = Fixed([("a1", 0.5), ("a2", 0.5)])
    b = Fixed([("b1", 0.5), ("b2", 0.5)])
    hybrid = HybridGenerator([Source("a", a), Source("b", b)], wrappers=())
    assert [c.tactic for c in hybrid.generate(["g"], 4)[0]] == ["a1", "a2", "b1", "b2"]


def test_wrappers_follow_the_best_learned_candidates() -> None:
    lm = Fixed([("- ", 0.5), ("apply foo", 0.3), ("now (apply bar)", 0.1), ("apply bar", 0.05)])
    auto = FixedTacticGenerator(tactics=("auto",), per_name=())
    hybrid = HybridGenerator(
        [Source("lm", lm), Source("automation", auto, learned=False)], wrap_top=2
    )
    (got,) = hybrid.generate(["g"], 20)
    tactics = [c.tactic for c in got]
    # auto (1 * 1/2) first; the bullet is not wrapped; apply foo and the
    # next learned candidate are
    assert tactics[:4] == ["auto", "- ", "apply foo", "now (apply foo)"]
    assert tactics[4] == "(apply foo); auto"
    assert got[3].logprob == got[2].logprob == got[4].logprob
    # "now (apply bar)" is wrapped as it comes; it is not repeated later
    assert tactics.count("now (apply bar)") == 1 and "now (now (apply bar))" in tactics
    # the wrap budget is spent: apply bar stays unwrapped; the automation
    # list's tactics are never wrapped
    assert "now (apply bar)" in tactics and "(apply bar); auto" not in tactics
    assert "now (auto)" not in tactics
    # wrappers count within k
    assert len(hybrid.generate(["g"], 3)[0]) == 3


def test_fallback_without_a_model_is_the_automation_list(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # no models/ce here
    monkeypatch.delenv("DCO_HYBRID_MODEL", raising=False)
    err = io.StringIO()
    with redirect_stderr(err):
        gen = make_generator("hybrid", 0)
    assert "lm" in gen.missing and "automation" in [s.name for s in gen.sources]
    assert err.getvalue().count("\n") == 1 and err.getvalue().startswith(
        "hybrid: running without lm"
    )
    # the automation source is the symbolic list with the arithmetic deciders
    automation = arith_generator(seed=0)
    state = "  n : nat\n  ============================\n  n + 0 = n"
    if [s.name for s in gen.sources] == ["automation"]:
        assert [c.tactic for c in gen.generate([state], 64, sample=False)[0]] == [
            c.tactic for c in automation.generate([state], 64, sample=False)[0]
        ]
    assert "lra" in [
        c.tactic for c in gen.sources[-1].generator.generate([state], 64, sample=False)[0]
    ]
    with pytest.raises(UserError, match="does not exist"):
        make_generator(f"hybrid:{tmp_path / 'nope'}", 0)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from helpers import make_bench, train_models

    root = tmp_path_factory.mktemp("hybrid")
    bench, steps = make_bench(root)
    return bench, train_models(root, bench, steps, names=("ce",)) / "ce"


def test_hybrid_best_first_with_a_trained_model(trained, tmp_path) -> None:
    """`dco search --generator hybrid:MODEL` in the real coqtop: the model's
    candidates, their wrappers and the automation list in one tree."""
    from helpers import query

    from prover.cli import main

    bench, model = trained
    db = tmp_path / "h.sqlite"
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(io.StringIO()):
        rc = main(
            [
                "search",
                "--benchmark",
                str(bench),
                "--generator",
                f"hybrid:{model}",
                "--strategy",
                "best-first",
                "--num-candidates",
                "16",
                "--budget",
                "60",
                "--theorem",
                "t_and",
                "--theorem",
                "t_comm",
                "--db",
                str(db),
                "--quiet",
            ]
        )
    assert rc == 0 and "proved 2/2" in out.getvalue(), out.getvalue()
    tried = {r["tactic"] for r in query(db, "SELECT tactic FROM edges")}
    assert any(t.startswith("now (") for t in tried)  # a wrapper
    assert tried & set(DEFAULT_TACTICS)  # the automation list
    proofs = query(db, "SELECT verified FROM proofs")
    assert proofs and all(p["verified"] for p in proofs if p["verified"])


def test_with_a_learned_source_the_automation_list_only_closes(trained) -> None:
    """Beside a model the automation source offers the closing tactics only
    (its steps would crowd the model's paths out of best-first's frontier);
    alone it is the whole symbolic-arith list (the fallback test above)."""
    _, model = trained
    with redirect_stderr(io.StringIO()):
        gen = make_generator(f"hybrid:{model}", 0)
    assert gen.sources[0].name == "lm" and gen.sources[-1].name == "automation"
    state = "  n : nat\n  ============================\n  n + 0 = n"
    offered = gen.sources[-1].generator.generate([state], 64, sample=False)[0]
    assert [c.tactic for c in offered] == list(CLOSERS)
    learned = {
        c.tactic
        for source in gen.sources[:-1]
        for c in source.generator.generate([state], 64, sample=False)[0]
    }
    merged = [c.tactic for c in gen.generate([state], 64, sample=False)[0]]
    steps = [t for t in merged if t not in learned and t not in CLOSERS]
    assert all(t.startswith(("now (", "(")) for t in steps), steps  # only wrappers
    assert "lia" in merged


def test_a_hybrid_run_names_and_fingerprints_the_model_it_loads(tmp_path, monkeypatch) -> None:
    """A hybrid names no model on the command line but loads one: results
    say which, and retraining it in place makes a new run, not a resumed one."""
    from prover.ensemble import Member
    from prover.evaluation import policy_model, run_config
    from search.budget import Budget
    from search.config import SearchConfig

    model = tmp_path / "ce"
    model.mkdir()
    (model / "model.safetensors").write_bytes(b"first")
    monkeypatch.setenv("DCO_HYBRID_MODEL", str(model))
    hybrid = Member("hybrid", "hybrid")
    assert policy_model(hybrid) == str(model)
    assert policy_model(Member("hybrid", f"hybrid:{tmp_path / 'other'}")) == str(tmp_path / "other")
    assert policy_model(Member("symbolic", "symbolic")) is None

    def identity() -> dict:
        return run_config({}, hybrid, SearchConfig(), Budget(), True)

    before = identity()
    assert before["generator"] == "hybrid" and before["weights"]
    (model / "model.safetensors").write_bytes(b"retrained")
    assert identity()["weights"] != before["weights"]


def test_hybrid_none_leaves_the_model_out_on_purpose(tmp_path, monkeypatch) -> None:
    """`hybrid:none` is the ablation without a model: no model is loaded even
    where models/ce exists, no warning says one is missing, and its results
    are labelled apart from the full hybrid's."""
    from prover.ensemble import resolve_members
    from prover.evaluation import policy_model
    from prover.hybrid import hybrid_label, hybrid_model

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DCO_HYBRID_MODEL", raising=False)
    (tmp_path / "models" / "ce").mkdir(parents=True)
    (tmp_path / "models" / "ce" / "config.json").write_text("{}")
    assert hybrid_model("hybrid") == str(Path("models") / "ce")
    assert hybrid_model("hybrid:none") is None
    assert (hybrid_label("hybrid"), hybrid_label("hybrid:none")) == ("hybrid", "hybrid-no-lm")
    (member,) = resolve_members(
        ensemble=None, models="models", model=None, generator="hybrid:none", benchmark="coq-stdlib"
    )
    assert (member.label, member.generator) == ("hybrid-no-lm", "hybrid:none")
    assert policy_model(member) is None
    err = io.StringIO()
    with redirect_stderr(err):
        gen = make_generator("hybrid:none", 0)
    assert "lm" not in [s.name for s in gen.sources] and "lm" not in gen.missing
    assert "without lm" not in err.getvalue()
