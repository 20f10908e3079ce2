"""Retrieval for the language model's prompt (ReProver style): the tactics
of the nearest training states (:mod:`training.knn`), seen only as far as
the theorem being proved may see them: never the theorem itself, nor
anything after it in its file, and never a val or test theorem (the index
holds train steps only). Training prompts obey the same rule as search, so
the model learns from what it will be shown."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .dataset import Place, TrainData, as_place
from .knn import KnnIndex, load_or_build


class Retriever:
    def __init__(self, index: KnnIndex, places: dict[int, Place], k: int) -> None:
        self.index, self.places, self.k = index, places, k
        self._memo: dict[tuple[int, int], list[str]] = {}

    def for_state(self, state: str, place: Place | None) -> list[str]:
        return [c.tactic for c in self.index.candidates(state, self.k, place)]

    def for_states(self, states: Sequence[str], theorem: Any) -> list[list[str]]:
        place = as_place(theorem)
        return [self.for_state(s, place) for s in states]

    def for_step(self, step: Any) -> list[str]:
        """For a benchmark step: hides its own theorem and what follows it."""
        key = (int(step.theorem_id), int(step.index))
        if key not in self._memo:
            self._memo[key] = self.for_state(step.state, self.places.get(step.theorem_id))
        return self._memo[key]


def retriever_for(data: TrainData, k: int, cache: Path | None = None) -> Retriever:
    """A retriever over ``data``'s train steps (index cached at ``cache``)."""
    return Retriever(load_or_build(data.train, data.places, cache), data.places, k)
