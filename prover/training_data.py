"""The benchmark a training run reads, loaded here (the command layer) and
passed down: the trainer itself never loads benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.loader import load_benchmark, resolve_benchmark_dir
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
