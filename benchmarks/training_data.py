"""The data a training run or a retrieving model reads, loaded from a
benchmark here and passed down: the training layer itself never loads
benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.loader import load_benchmark, resolve_benchmark_dir
from lean_env.errors import UserError
from training.dataset import TrainData
from training.knn import INDEX_FILE
from training.trainer import TrainConfig, train


def load_train_data(spec: str) -> TrainData:
    """The train and val steps (bullets and braces left out) and the theorem
    places of the benchmark ``spec`` names."""
    data = TrainData.from_benchmark(load_benchmark(spec))
    data.index_path = knn_index_path(spec)
    return data


def knn_index_path(spec: str) -> Path | None:
    """The k-NN index cache beside a benchmark directory (None for a
    ``KIND:PATH`` spec: Lean benchmarks and miniF2F-rocq are not directories
    of ours to write into)."""
    kind, sep, _ = spec.partition(":")
    if sep and kind in ("leandojo", "minif2f", "minif2f-rocq"):
        return None
    return resolve_benchmark_dir(spec) / INDEX_FILE


def train_on_benchmark(config: TrainConfig, **kwargs: Any) -> Path:
    """``training.trainer.train`` on the benchmark ``config.benchmark`` names."""
    return train(config, load_train_data(config.benchmark), **kwargs)


def model_retriever(path: str) -> object | None:
    """The retriever a model trained with retrieval needs (over the train
    split of the benchmark it was trained on); None for other models."""
    from training.data import PromptFormat
    from training.generator import read_meta
    from training.retrieval import retriever_for

    meta = read_meta(path)
    fmt = PromptFormat.from_dict(meta.get("prompt_format") or {})
    if not fmt.retrieval_tokens:
        return None
    if not meta.get("benchmark"):
        raise UserError(f"model {path} was trained with retrieval but names no benchmark")
    data = load_train_data(str(meta["benchmark"]))
    return retriever_for(data, fmt.retrieved, data.index_path)
