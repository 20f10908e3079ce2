"""The one place tactic generators are made from a ``--generator`` value.

``symbolic`` is the fixed-tactic baseline, ``symbolic-arith`` the same plus
the arithmetic deciders, ``hammer`` CoqHammer's tactics (both in
:mod:`search.automation`); ``model:DIR`` a model directory
written by ``dco train`` (or any Hugging Face causal LM directory);
``hybrid[:MODEL_DIR]`` the union of a model's, the k-NN's and the automation
tactics' candidates (:mod:`prover.hybrid`); ``A,B,...`` a portfolio of
those, searched one after another on each theorem with equal shares of its
wall clock (:mod:`search.portfolio`). torch and
transformers are imported only when a model is used, so symbolic runs stay
light.
"""

from __future__ import annotations

import os

from lean_env.errors import ProverNotInstalled, UserError
from prover.hybrid import hybrid_label, hybrid_model, is_hybrid, make_hybrid
from search.automation import HammerGenerator, arith_generator, hammer_problem
from search.generator import FixedTacticGenerator, TacticGenerator
from search.portfolio import PortfolioGenerator, Stage

# Generators named by a fixed word (members of a run are labelled by it).
NAMED_GENERATORS = ("symbolic", "symbolic-arith", "hammer")
GENERATORS = (
    *NAMED_GENERATORS,
    "model:DIR",
    "knn",
    "knn:BENCHMARK",
    "hybrid",
    "hybrid:MODEL_DIR",
    "hybrid:none",
    "A,B or A@W,B@W (a portfolio)",
)


def portfolio_stages(spec: str) -> list[tuple[str, float | None]]:
    """The stages of a portfolio spec ``A,B,...`` with their shares of the
    wall clock ([(spec, None)] when not a portfolio). A stage may carry a
    weight, ``A@1,B@2`` (A a third, B two thirds); without one it weighs 1.
    A portfolio names distinct, non-empty generators."""
    parts = [part.strip() for part in spec.split(",")]
    if len(parts) == 1:
        return [(spec, None)]
    stages = [_weighted(part, spec) for part in parts]
    names = [name for name, _ in stages]
    if "" in names or len(set(names)) < len(names):
        raise UserError(f"--generator {spec!r}: a portfolio names distinct generators, A,B")
    return stages


def _weighted(part: str, spec: str) -> tuple[str, float | None]:
    name, sep, weight = part.rpartition("@")
    try:
        share = float(weight) if sep else None
    except ValueError:  # not a weight: an @ of the name (a model path)
        share = None
    if share is None:
        return part, None
    if not (share > 0 and share < float("inf")):
        raise UserError(f"--generator {spec!r}: a stage's weight (A@W) must be a number > 0")
    return name.strip(), share


def portfolio_parts(spec: str) -> list[str]:
    """The generators of a portfolio spec, in order, without their weights."""
    return [name for name, _ in portfolio_stages(spec)]


def check_available(spec: str) -> None:
    """Raise the one-line error a generator that cannot run here gives, before
    any work starts (workers would otherwise each fail on their own)."""
    if spec == "hammer" and (problem := hammer_problem()) is not None:
        raise ProverNotInstalled(f"--generator hammer: {problem}")


def make_generator(spec: str, seed: int, worker: int = 0) -> TacticGenerator:
    """The generator a ``--generator`` value names (one per worker process;
    the runner reseeds it per theorem)."""
    parts = portfolio_stages(spec)
    if len(parts) > 1:
        stages = []
        for part, share in parts:
            generator = make_generator(part, seed, worker)
            # a generator whose tactics need longer (CoqHammer's) says so
            least = getattr(generator, "min_tactic_timeout", 0.0)
            stages.append(Stage(part, generator, share=share or 1.0, min_tactic_timeout=least))
        return PortfolioGenerator(stages)
    if spec == "symbolic":
        return FixedTacticGenerator(seed=seed)
    if spec == "symbolic-arith":
        return arith_generator(seed=seed)
    if spec == "hammer":
        return HammerGenerator()
    if spec.startswith("model:"):
        return load_model_generator(spec.removeprefix("model:"), seed)
    if spec == "knn" or spec.startswith("knn:"):
        return load_knn_generator(spec.removeprefix("knn").removeprefix(":") or "coq-stdlib")
    if is_hybrid(spec):
        return make_hybrid(
            hybrid_model(spec), seed, worker, model_wanted=hybrid_label(spec) == "hybrid"
        )
    raise UserError(f"unknown generator {spec!r}; available: {', '.join(GENERATORS)}")


def load_model_generator(path: str, seed: int) -> TacticGenerator:
    """A model directory as a policy, on the GPU when there is one."""
    import torch
    from transformers.utils import logging as hf_logging

    from benchmarks.training_data import model_retriever
    from training.generator import ModelTacticGenerator

    hf_logging.disable_progress_bar()  # one "Loading weights" bar per worker is noise

    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        # One intra-op thread per search process, as Ray does for its workers:
        # parallelism comes from --workers, and two processes each spinning
        # several OpenMP threads on shared cores made sampling 10-20x slower
        # (measured: 39 ms vs 331 ms per one-state call beside a training run).
        torch.set_num_threads(int(os.environ.get("DCO_TORCH_THREADS", "1")))
    return ModelTacticGenerator.from_pretrained(
        path, device=device, seed=seed, retriever=model_retriever(path)
    )


def load_knn_generator(benchmark: str) -> TacticGenerator:
    """Tactician-style k-NN over the benchmark's train states (index cached
    beside the benchmark)."""
    from benchmarks.training_data import load_train_data
    from training.knn import KnnTacticGenerator, load_or_build

    data = load_train_data(benchmark)
    if not data.train:
        raise UserError(knn_without_train_steps(benchmark))
    return KnnTacticGenerator(load_or_build(data.train, data.places, data.index_path))


def knn_without_train_steps(benchmark: str) -> str:
    # An empty index proposes nothing: every search would end at once with
    # "search space exhausted" and the run would look like a k-NN that fails.
    return (
        f"--generator knn: benchmark {benchmark!r} has no train steps to index "
        "(miniF2F has statements only); name the corpus to retrieve from, "
        "e.g. --generator knn:coq-stdlib"
    )
