"""Best-first search with a learned policy (ReProver-style): a tiny model,
really trained here on the traced proofs of a fixture file, expands states
with its top-k tactics (beam search) or k samples, and proves multi-step
theorems in the real coqtop; every proof is re-checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import make_bench, train_models

from lean_env.environment import open_environment
from search.budget import Budget
from search.config import SearchConfig
from search.tree import Status
from search.tree_search import TreeSearch
from training.generator import ModelTacticGenerator

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("bf")
    bench, steps = make_bench(root)
    models = train_models(root, bench, steps, names=("ce",))
    from benchmarks.loader import load_benchmark

    theorems = {t.theorem.short_name: t.theorem for t in load_benchmark(str(bench)).theorems()}
    return theorems, models / "ce"


def search(theorem, model: Path, **config) -> object:
    gen = ModelTacticGenerator.from_pretrained(model, seed=0)
    return TreeSearch(SearchConfig(strategy="best-first", **config)).search(
        theorem, open_environment, gen, Budget(wall_clock=120, max_expansions=40)
    )


@pytest.mark.parametrize("sample", [False, True], ids=["beam", "sampled"])
def test_model_best_first_proves_a_theorem_needing_several_tactics(setup, sample) -> None:
    theorems, model = setup
    result = search(theorems["t_and"], model, num_candidates=4, sample=sample, batch_size=2)
    assert result.status is Status.PROVED, result.reason
    assert result.verification is not None and result.verification.ok
    # intros, destruct, split, assumption: four different tactics at least
    assert len({t.split()[0] for t in result.proof}) >= 3, result.proof
    assert result.stats.expansions >= len(result.proof) - 1
    result.tree.check_invariants()
    # the priority of a state is its path's summed log-probs: every proof
    # step's edge carries the model's (negative) log-prob
    assert all(e["logprob"] <= 0 for e in result.tree.edges())


def test_model_best_first_via_the_cli(setup, tmp_path) -> None:
    """`dco search --generator model:DIR --strategy best-first` end to end."""
    import io
    from contextlib import redirect_stdout

    from prover.cli import main

    theorems, model = setup
    bench = Path(theorems["t_and"].file).parent / "bench"
    buf = io.StringIO()
    with redirect_stdout(buf):
        rc = main(
            [
                "search",
                "--benchmark",
                str(bench),
                "--generator",
                f"model:{model}",
                "--strategy",
                "best-first",
                "--num-candidates",
                "4",
                "--batch-size",
                "4",
                "--theorem",
                "t_and",
                "--theorem",
                "t_or",
                "--budget",
                "60",
                "--db",
                str(tmp_path / "bf.sqlite"),
                "--quiet",
            ]
        )
    assert rc == 0
    assert "proved 2/2" in buf.getvalue(), buf.getvalue()
