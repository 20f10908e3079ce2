"""k-nearest-neighbour tactic prediction over proof states (Tactician style).

:class:`KnnIndex` holds the training steps as TF-IDF vectors of their
states' features (:mod:`training.features`; sublinear term frequency, L2
normalised, cosine similarity) in an inverted index built with numpy. A
query ranks the indexed states by similarity and returns the distinct
tactics of the nearest ones; a tactic's score is the sum of ``similarity **
vote_power`` over the neighbours that used it, and its log-probability the
log of its share of the summed scores (so the candidates form a
distribution). The power makes the nearest states count for more than a
crowd of middling ones: on all 1,376 coq-stdlib val steps, power 4 over the
128 nearest states gave top-1 9.7% and recall@16 20.3%, plain sums over 64
gave 7.0% and 19.5% (power 2: 9.2%; taking the single nearest state's
tactic first: 8.2%). The retrieval in a model's prompt keeps the plain sums
over 64 (:data:`RETRIEVAL_VOTES`): the models were trained on that ranking.

Nothing from the future leaks: a query made on behalf of a theorem at
``Place(file, position)`` never sees an indexed step of a theorem in the same
file at that position or later (the theorem itself included). The index
holds train steps only, so val and test theorems are never in it.

The index is deterministic in its steps and is saved as one ``.npz`` file
(with a fingerprint of the steps it was built from) beside the benchmark, so
it is built once: :func:`load_or_build`.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lean_env.errors import UserError
from search.generator import Candidate

from .data import normalize_tactic
from .dataset import Place, as_place, is_structural
from .features import adapt_names, features

INDEX_VERSION = 1
INDEX_FILE = "knn-index.npz"
NEIGHBOURS = 128  # nearest states a query looks at
VOTE_POWER = 4.0  # a neighbour's vote is its similarity to this power
RETRIEVAL_VOTES = {"neighbours": 64, "vote_power": 1.0}


def fingerprint(steps: Sequence[Any], places: dict[int, Place]) -> str:
    h = hashlib.sha256(f"knn-v{INDEX_VERSION}".encode())
    for s in steps:
        place = places.get(s.theorem_id, Place("", 0))
        h.update(f"\0{s.theorem_id}\0{s.index}\0{place.file}\0{place.position}\0".encode())
        h.update(s.state.encode())
        h.update(b"\0" + s.tactic.encode())
    return h.hexdigest()


@dataclass(frozen=True)
class Neighbour:
    entry: int
    similarity: float
    tactic: str


class KnnIndex:
    def __init__(self, arrays: dict[str, np.ndarray], info: dict[str, Any]) -> None:
        self.a = arrays
        self.info = info
        self.vocab: dict[str, int] = {f: i for i, f in enumerate(info["vocab"])}
        self.tactics: list[str] = info["tactics"]
        self.states: list[str] = info["states"]
        self.files: dict[str, int] = {f: i for i, f in enumerate(info["files"])}
        self.size = len(self.tactics)

    # -- building ----------------------------------------------------------

    @classmethod
    def build(cls, steps: Sequence[Any], places: dict[int, Place]) -> KnnIndex:
        steps = [s for s in steps if not is_structural(s.tactic)]
        bags = [features(s.state) for s in steps]
        vocab = sorted({f for bag in bags for f in bag})
        ids = {f: i for i, f in enumerate(vocab)}
        df = np.zeros(len(vocab), dtype=np.float64)
        for bag in bags:
            df[[ids[f] for f in bag]] += 1
        idf = np.log((1 + len(bags)) / (1 + df)) + 1.0
        rows, cols, vals = [], [], []
        for r, bag in enumerate(bags):
            fi = np.array([ids[f] for f in bag], dtype=np.int64)
            w = (1.0 + np.log(np.array(list(bag.values()), dtype=np.float64))) * idf[fi]
            w /= max(float(np.linalg.norm(w)), 1e-12)
            rows.append(np.full(len(fi), r, dtype=np.int32))
            cols.append(fi)
            vals.append(w)
        files = sorted({places.get(s.theorem_id, Place("", 0)).file for s in steps})
        file_ids = {f: i for i, f in enumerate(files)}
        arrays = _postings(rows, cols, vals, len(vocab))
        arrays["idf"] = idf
        arrays["file_id"] = np.array(
            [file_ids[places.get(s.theorem_id, Place("", 0)).file] for s in steps], dtype=np.int32
        )
        arrays["position"] = np.array(
            [places.get(s.theorem_id, Place("", 0)).position for s in steps], dtype=np.int64
        )
        arrays["theorem"] = np.array([s.theorem_id for s in steps], dtype=np.int64)
        info = {
            "version": INDEX_VERSION,
            "fingerprint": fingerprint(steps, places),
            "vocab": vocab,
            "tactics": [s.tactic for s in steps],
            "states": [s.state for s in steps],
            "files": files,
        }
        return cls(arrays, info)

    # -- persistence -------------------------------------------------------

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        info = np.frombuffer(json.dumps(self.info).encode(), dtype=np.uint8)
        np.savez_compressed(tmp, info=info, **self.a)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> KnnIndex:
        try:
            with np.load(path) as z:
                arrays = {k: z[k] for k in z.files if k != "info"}
                info = json.loads(z["info"].tobytes().decode())
        except (OSError, ValueError, KeyError) as exc:
            raise UserError(
                f"k-NN index {path} is unreadable ({exc}); delete it to rebuild"
            ) from None
        return cls(arrays, info)

    # -- queries -----------------------------------------------------------

    def vector(self, state: str) -> tuple[np.ndarray, np.ndarray]:
        bag = features(state)
        known = [(self.vocab[f], c) for f, c in bag.items() if f in self.vocab]
        if not known:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        fi = np.array([i for i, _ in known], dtype=np.int64)
        w = (1.0 + np.log(np.array([c for _, c in known], dtype=np.float64))) * self.a["idf"][fi]
        return fi, w / max(float(np.linalg.norm(w)), 1e-12)

    def similarities(self, state: str, place: Place | None = None) -> np.ndarray:
        """Cosine similarity of ``state`` to every indexed state; -1 for the
        entries a query for ``place`` must not see."""
        fi, w = self.vector(state)
        starts, ends = self.a["start"][fi], self.a["start"][fi + 1]
        if len(fi):
            take = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends, strict=True)])
            weights = np.repeat(w, ends - starts) * self.a["weight"][take]
            sims = np.bincount(self.a["doc"][take], weights=weights, minlength=self.size)
        else:
            sims = np.zeros(self.size)
        if place is not None and place.file in self.files:
            hidden = (self.a["file_id"] == self.files[place.file]) & (
                self.a["position"] >= place.position
            )
            sims[hidden] = -1.0
        return sims

    def neighbours(self, state: str, k: int, place: Place | None = None) -> list[Neighbour]:
        """The ``k`` most similar visible states, most similar first (ties by
        index order, so results are deterministic)."""
        sims = self.similarities(state, place)
        k = min(k, self.size)
        if k <= 0:
            return []
        top = np.argpartition(-sims, k - 1)[:k] if k < self.size else np.arange(self.size)
        top = top[np.lexsort((top, -sims[top]))]
        return [Neighbour(int(i), float(sims[i]), self.tactics[i]) for i in top if sims[i] > 0]

    def candidates(
        self,
        state: str,
        k: int,
        place: Place | None = None,
        *,
        adapt: bool = True,
        neighbours: int = NEIGHBOURS,
        vote_power: float = VOTE_POWER,
    ) -> list[Candidate]:
        """Up to ``k`` distinct tactics of the ``neighbours`` nearest states,
        best first."""
        scores: dict[str, float] = {}
        order: list[str] = []
        for n in self.neighbours(state, max(neighbours, k), place):
            tactic = self.tactics[n.entry]
            if adapt:
                tactic = adapt_names(tactic, self.states[n.entry], state)
            key = normalize_tactic(tactic)
            if key not in scores:
                order.append(key)
                scores[key] = 0.0
            scores[key] += n.similarity**vote_power
        total = math.fsum(scores.values())
        ranked = sorted(order, key=lambda t: -scores[t])[:k]  # stable: nearest first on ties
        return [Candidate(t, math.log(scores[t] / total)) for t in ranked]


def _postings(
    rows: list[np.ndarray], cols: list[np.ndarray], vals: list[np.ndarray], features: int
) -> dict[str, np.ndarray]:
    """The inverted index: for feature f, docs ``doc[start[f]:start[f+1]]``
    with weights ``weight[...]`` (docs ascending)."""
    r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int32)
    c = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    v = np.concatenate(vals) if vals else np.zeros(0)
    order = np.lexsort((r, c))
    counts = np.bincount(c, minlength=features)
    start = np.zeros(features + 1, dtype=np.int64)
    np.cumsum(counts, out=start[1:])
    return {"doc": r[order].astype(np.int32), "weight": v[order], "start": start}


def load_or_build(steps: Sequence[Any], places: dict[int, Place], path: Path | None) -> KnnIndex:
    """The index of ``steps``: read from ``path`` when it was built from the
    same steps, else built (and saved there when ``path`` is given)."""
    if path is not None and path.is_file():
        index = KnnIndex.load(path)
        kept = [s for s in steps if not is_structural(s.tactic)]
        if index.info.get("fingerprint") == fingerprint(kept, places):
            return index
    index = KnnIndex.build(steps, places)
    if path is not None:
        index.save(path)
    return index


class KnnTacticGenerator:
    """The k-NN index as a search policy (search's TacticGenerator). It is
    deterministic: sampling and the top ``k`` give the same candidates."""

    def __init__(self, index: KnnIndex, *, adapt: bool = True) -> None:
        self.index = index
        self.adapt = adapt
        self.place: Place | None = None

    def reseed(self, seed: int) -> None:  # nothing random to reseed
        del seed

    def set_theorem(self, theorem: Any) -> None:
        """Hide what a proof of ``theorem`` (a Theorem, a Place or None) may not see."""
        self.place = as_place(theorem)

    def generate(
        self, states: Sequence[str], k: int, *, temperature: float = 1.0, sample: bool = True
    ) -> list[list[Candidate]]:
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        return [self.index.candidates(s, k, self.place, adapt=self.adapt) for s in states]
