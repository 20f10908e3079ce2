"""Retrieval for the language model's prompt (ReProver style): the tactics
of the nearest training states (:mod:`training.knn`), seen only as far as
the theorem being proved may see them: never the theorem itself, nor
anything after it in its file, and never a val or test theorem (the index
holds train steps only). Training prompts obey the same rule as search, so
the model learns from what it will be shown."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .dataset import Place, TrainData, as_place
from .knn import RETRIEVAL_VOTES, KnnIndex, load_or_build


class Retriever:
    """``memo_path``: a JSON file that keeps the retrieved tactics of
    benchmark steps across runs (they depend only on the index and ``k``)."""

    def __init__(
        self, index: KnnIndex, places: dict[int, Place], k: int, memo_path: Path | None = None
    ) -> None:
        self.index, self.places, self.k = index, places, k
        self.memo_path = memo_path
        self._memo: dict[str, list[str]] = self._read_memo()
        self._dirty = False

    def _read_memo(self) -> dict[str, list[str]]:
        if self.memo_path is None or not self.memo_path.is_file():
            return {}
        try:
            stored = json.loads(self.memo_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return {}
        if stored.get("index") != self.index.info["fingerprint"] or stored.get("k") != self.k:
            return {}
        return dict(stored.get("memo", {}))

    def save(self) -> None:
        """Write the memo (atomically) if it grew."""
        if self.memo_path is None or not self._dirty:
            return
        payload = {"index": self.index.info["fingerprint"], "k": self.k, "memo": self._memo}
        tmp = self.memo_path.with_name(self.memo_path.name + ".tmp")
        tmp.write_text(json.dumps(payload), encoding="utf-8")
        tmp.replace(self.memo_path)
        self._dirty = False

    def for_steps(self, steps: Sequence[Any]) -> list[list[str]]:
        out = [self.for_step(s) for s in steps]
        self.save()
        return out

    def for_state(self, state: str, place: Place | None) -> list[str]:
        return [c.tactic for c in self.index.candidates(state, self.k, place, **RETRIEVAL_VOTES)]

    def for_states(self, states: Sequence[str], theorem: Any) -> list[list[str]]:
        place = as_place(theorem)
        return [self.for_state(s, place) for s in states]

    def for_step(self, step: Any) -> list[str]:
        """For a benchmark step: hides its own theorem and what follows it."""
        key = f"{int(step.theorem_id)}:{int(step.index)}"
        if key not in self._memo:
            self._memo[key] = self.for_state(step.state, self.places.get(step.theorem_id))
            self._dirty = True
        return self._memo[key]


def retriever_for(data: TrainData, k: int, cache: Path | None = None) -> Retriever:
    """A retriever over ``data``'s train steps (index cached at ``cache``,
    the steps' retrieved tactics beside it)."""
    memo = cache.with_name(f"{cache.stem}-retrieved-k{k}.json") if cache is not None else None
    return Retriever(load_or_build(data.train, data.places, cache), data.places, k, memo)
