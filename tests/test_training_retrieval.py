"""Clean targets, truncation, the k-NN index and retrieval in the prompt,
with real (tiny) tokenizers and models on hand-made Coq states."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from helpers import make_benchmark

from benchmarks.format import Step
from benchmarks.training_data import load_train_data
from lean_env.types import Theorem
from search.generator import FixedTacticGenerator
from search.hybrid import HybridGenerator, Source
from search.runner import prepare_generator
from training.data import PromptFormat, corpus_texts, encode_prompt
from training.dataset import Place, TrainData
from training.features import adapt_names
from training.generator import merge_candidates
from training.knn import KnnIndex, KnnTacticGenerator, load_or_build
from training.prompt import ELLIPSIS
from training.retrieval import Retriever
from training.tokenizer import train_tokenizer

G = "  ============================\n"
BULLETS = ("-", "+", "*", "--", "++", "***", "{", "}", "2: {")


def state(hyps: list[str], goal: str) -> str:
    return "1 goal\n  \n" + "".join(f"  {h}\n" for h in hyps) + G + f"  {goal}"


def toy_data() -> TrainData:
    """Theorems 0, 1, 2 in A.v at offsets 10, 20, 30 and theorem 3 in B.v.
    The query below is made for theorem 1: theorem 2 (later in the same file)
    holds a state equal to the query with a tactic nobody else uses."""
    query = state(["l : list nat"], "rev (rev l) = l")
    steps = [
        Step(0, 0, state(["n : nat"], "n + 0 = n"), "early_tactic"),
        Step(0, 1, state(["n : nat"], "n + 0 = n"), "-"),
        Step(1, 0, query, "own_tactic"),
        Step(2, 0, query, "leaked_tactic"),
        Step(3, 0, state(["l : list nat"], "rev (rev l) = l"), "other_file_tactic"),
    ]
    places = {0: Place("A.v", 10), 1: Place("A.v", 20), 2: Place("A.v", 30), 3: Place("B.v", 5)}
    return TrainData.from_steps("toy", steps, [], places)


def test_bullets_are_not_targets_nor_candidates() -> None:
    data = toy_data()
    assert data.structural_dropped == 1 and all(s.tactic != "-" for s in data.train)
    got = merge_candidates([*BULLETS, "intros", "- "], [0.0] * (len(BULLETS) + 2), 16)
    assert [c.tactic for c in got] == ["intros"]
    steps = [Step(0, i, state(["n : nat"], "n = n"), t) for i, t in enumerate(BULLETS)]
    index = KnnIndex.build([*steps, Step(0, 99, state(["n : nat"], "n = n"), "auto")], {})
    gen = KnnTacticGenerator(index)
    (cands,) = gen.generate([state(["n : nat"], "n = n")], 64)
    assert [c.tactic for c in cands] == ["auto"]


def test_votes_favour_the_nearest_state_over_a_crowd() -> None:
    """One state almost equal to the query against three middling ones: plain
    sums of similarity pick the crowd's tactic, similarity ** 4 the nearest
    state's; a model's retrieval keeps the ranking it was trained on."""
    query = state(["n : nat", "l : list nat"], "length (repeat n 3) = 3")
    near = Step(0, 0, state(["n : nat", "l : list nat"], "length (repeat n 2) = 2"), "near_tac")
    crowd = [
        Step(i, 0, state(["n : nat", "l : list nat"], "length (map S l) = length l"), "crowd_tac")
        for i in range(1, 4)
    ]
    index = KnnIndex.build([near, *crowd], {})
    near_sim = [n.similarity for n in index.neighbours(query, 4) if n.tactic == "near_tac"]
    crowd_sims = [n.similarity for n in index.neighbours(query, 4) if n.tactic == "crowd_tac"]
    assert sum(crowd_sims) > near_sim[0] and near_sim[0] ** 4 > sum(c**4 for c in crowd_sims)
    assert [c.tactic for c in index.candidates(query, 2, vote_power=1.0)][0] == "crowd_tac"
    assert [c.tactic for c in index.candidates(query, 2)][0] == "near_tac"
    retriever = Retriever(index, {}, k=2)
    assert retriever.for_state(query, None)[0] == "crowd_tac"


def test_retrieval_never_sees_the_theorem_or_what_follows_it() -> None:
    data = toy_data()
    index = KnnIndex.build(data.train, data.places)
    query = data.train[1]  # theorem 1's step
    assert query.tactic == "own_tactic"
    unrestricted = [c.tactic for c in index.candidates(query.state, 16)]
    assert {"own_tactic", "leaked_tactic"} <= set(unrestricted)  # the test can fail
    seen = [c.tactic for c in index.candidates(query.state, 16, data.places[1])]
    assert "own_tactic" not in seen and "leaked_tactic" not in seen
    assert "other_file_tactic" in seen and "early_tactic" in seen
    retriever = Retriever(index, data.places, 8)
    assert set(retriever.for_step(query)) == set(seen)
    # the search path: the runner tells the generator which theorem it proves
    gen = KnnTacticGenerator(index)
    gen.set_theorem(SimpleNamespace(file="A.v", offset=20, line=3))
    (cands,) = gen.generate([query.state], 16)
    assert {"own_tactic", "leaked_tactic"}.isdisjoint(c.tactic for c in cands)
    # through the hybrid, which the runner tells instead of its sources
    hybrid = HybridGenerator(
        [
            Source("knn", KnnTacticGenerator(index)),
            Source("automation", FixedTacticGenerator(("auto",)), learned=False),
        ],
        wrappers=(),
    )
    (before,) = hybrid.generate([query.state], 16)
    assert "leaked_tactic" in [c.tactic for c in before]  # the check below can fail
    prepare_generator(hybrid, Theorem("t1", "True", file="A.v", line=3, offset=20), seed=0)
    (cands,) = hybrid.generate([query.state], 16)
    tactics = [c.tactic for c in cands]
    assert {"own_tactic", "leaked_tactic"}.isdisjoint(tactics) and "other_file_tactic" in tactics
    # and the prompt the model sees holds none of it either
    tok = train_tokenizer(corpus_texts(data.train), 300)
    fmt = PromptFormat(max_prompt_tokens=64, max_tactic_tokens=8, retrieval_tokens=32)
    text = tok.decode(encode_prompt(tok, query.state, fmt, retriever.for_step(query)))
    assert "leaked_tactic" not in text and "own_tactic" not in text and "other_file" in text


def test_truncation_keeps_the_goal_line() -> None:
    hyps = [f"H{i} : P{i} -> Q{i} -> R{i}" for i in range(200)]
    goal = "forall x y : nat, x + y = y + x"
    long = state(hyps, goal) + "\n\ngoal 2 is:\n True"
    tok = train_tokenizer([long, goal, "intros"], 400)
    fmt = PromptFormat(max_prompt_tokens=96, max_tactic_tokens=8)
    ids = encode_prompt(tok, long, fmt)
    text = tok.decode(ids)
    assert len(ids) <= fmt.max_prompt_tokens
    assert text.startswith("1 goal") and goal in text and "=====" in text
    assert "H0 : P0" in text and "H199 : P199" in text and ELLIPSIS in text
    assert "H100 :" not in text
    # a state that fits is unchanged
    short = state(hyps[:2], goal)
    assert tok.decode(encode_prompt(tok, short, fmt)).startswith(short)


def test_knn_index_is_deterministic_and_round_trips(tmp_path: Path) -> None:
    data = load_train_data(str(make_benchmark(tmp_path / "tiny")))
    a = KnnIndex.build(data.train, data.places)
    b = KnnIndex.build(list(data.train), dict(data.places))
    assert a.info == b.info and all(np.array_equal(a.a[k], b.a[k]) for k in a.a)
    path = tmp_path / "index.npz"
    a.save(path)
    c = KnnIndex.load(path)
    for s in data.val + data.train:
        assert c.candidates(s.state, 8) == a.candidates(s.state, 8)
    assert load_or_build(data.train, data.places, path).info == a.info
    stamp = path.stat().st_mtime_ns
    load_or_build(data.train, data.places, path)
    assert path.stat().st_mtime_ns == stamp  # read from the cache, not rebuilt
    changed = [*data.train[:-1], Step(0, 7, data.train[-1].state, "omega")]
    rebuilt = load_or_build(changed, data.places, path)
    assert rebuilt.info["fingerprint"] != a.info["fingerprint"] and "omega" in rebuilt.tactics
    with pytest.raises(ValueError):
        KnnTacticGenerator(a).generate(["x"], 0)


def test_neighbour_hypothesis_names_are_adapted() -> None:
    source = state(["n : nat", "Hlt : n < 3"], "n < 5")
    target = state(["m : nat", "H : m < 3"], "m < 5")
    assert adapt_names("apply Nat.lt_trans with 3; [exact Hlt | auto]", source, target) == (
        "apply Nat.lt_trans with 3; [exact H | auto]"
    )
    assert adapt_names("lia", source, target) == "lia"
    assert adapt_names("induction n", source, target) == "induction m"


def test_a_tiny_model_with_retrieval_overfits_a_tiny_set(tmp_path: Path) -> None:
    """The learning path end to end: a tiny model trained with retrieved
    tactics in its prompt reaches 100% greedy accuracy on its training steps,
    through the trainer's own evaluation and through the search generator."""
    import torch

    from benchmarks.training_data import model_retriever, train_on_benchmark
    from training.confidence import evaluate_steps
    from training.generator import ModelTacticGenerator
    from training.model import ModelConfig
    from training.trainer import TrainConfig

    torch.set_num_threads(1)
    bench = make_benchmark(tmp_path / "tiny")
    fmt = PromptFormat(max_prompt_tokens=96, max_tactic_tokens=16, retrieval_tokens=32)
    out = tmp_path / "model"
    train_on_benchmark(
        TrainConfig(
            benchmark=str(bench),
            out=str(out),
            prompt=fmt,
            batch_size=8,
            lr=3e-3,
            max_steps=100,
            warmup_steps=10,
            schedule="constant",
            progress=False,
            checkpoint_every=1000,
            model=ModelConfig(hidden=64, layers=2, heads=2, mlp=128, vocab_size=512),
        )
    )
    data = load_train_data(str(bench))
    gen = ModelTacticGenerator.from_pretrained(out, retriever=model_retriever(str(out)))
    assert gen.retriever is not None and gen.fmt == fmt
    retrieved = gen.retriever.for_steps(data.train)
    assert any(retrieved)
    result = evaluate_steps(gen.model, gen.tokenizer, fmt, data.train, retrieved=retrieved)
    assert result["accuracy"] == 1.0
    for step in data.train:
        gen.set_theorem(data.places[step.theorem_id])
        (best,) = gen.generate([step.state], 1, sample=False)
        assert best[0].tactic == step.tactic


def test_knn_generator_from_the_registry(tmp_path: Path) -> None:
    from lean_env.errors import UserError
    from prover.ensemble import resolve_members
    from prover.generators import make_generator

    bench = make_benchmark(tmp_path / "tiny")
    gen = make_generator(f"knn:{bench}", seed=0)
    assert isinstance(gen, KnnTacticGenerator)
    assert (bench / "knn-index.npz").is_file()  # cached beside the benchmark
    data = load_train_data(str(bench))
    (cands,) = gen.generate([data.val[0].state], 4)
    assert cands and cands[0].tactic.startswith("intros")  # the nearest states begin with intros
    assert all(c.logprob <= 0 for c in cands)
    got = resolve_members(
        ensemble=None, models="models", model=None, generator="knn", benchmark=str(bench)
    )
    assert [m.generator for m in got] == [f"knn:{bench}"]
    with pytest.raises(UserError):
        make_generator("knn:/does/not/exist", seed=0)


def test_knn_over_a_benchmark_without_train_steps_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Evaluating ``--generator knn`` on a statements-only benchmark (as
    miniF2F is) used to index its empty train split: every search ended at
    once with no candidate and the run reported 0 proved. It is now a clear
    error before any work, and ``knn:CORPUS`` names where to retrieve from."""
    from benchmarks.format import read_benchmark, write_benchmark
    from lean_env.errors import UserError
    from prover.ensemble import resolve_members
    from prover.generators import make_generator

    bench = make_benchmark(tmp_path / "tiny")
    full = read_benchmark(bench)
    held_out = [t for t in full.theorem_list if t.split != "train"]
    statements_only = tmp_path / "statements-only"
    write_benchmark(statements_only, replace(full, theorem_list=held_out, step_list=[]))

    def members(generator: str) -> list[str]:
        got = resolve_members(
            ensemble=None,
            models="models",
            model=None,
            generator=generator,
            benchmark=str(statements_only),
        )
        return [m.generator for m in got]

    for spec in ("knn", f"knn:{statements_only}"):
        with pytest.raises(UserError, match="no train steps.*knn:coq-stdlib"):
            members(spec)
    with pytest.raises(UserError, match="no train steps"):
        make_generator(f"knn:{statements_only}", seed=0)
    # Naming a corpus that has train steps works on the statements-only benchmark.
    assert members(f"knn:{bench}") == [f"knn:{bench}"]
    assert members(f"knn:{bench},symbolic") == [f"knn:{bench},symbolic"]
    # dco search resolves --generator the same way: one line, exit 2, no run.
    from prover.cli import main

    db = tmp_path / "runs.sqlite"
    argv = ["search", "--benchmark", str(statements_only), "--generator", "knn", "--db", str(db)]
    assert main(argv) == 2
    assert "no train steps" in capsys.readouterr().err and not db.exists()
