"""What the trainer and the retrievers are given: the train and val steps of
one benchmark and where each theorem sits in its file.

The trainer never loads a benchmark itself: whoever calls it (``dco train``,
expert iteration, the demo) loads one and passes a :class:`TrainData`. Any
object with ``name``, ``steps(split)`` and ``theorems()`` (the benchmark
format's ``Benchmark``) converts with :meth:`TrainData.from_benchmark`.

Bullets and braces (``-``, ``+``, ``*``, ``{``, ``}`` and their repetitions)
are not targets: which one is right depends on a stack of focused goals the
state does not show, and search handles focusing itself. They are left out
here, once, for every consumer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from lean_env.coq.sentences import Sentence


class StepLike(Protocol):
    theorem_id: int
    index: int
    state: str
    tactic: str


class Place(NamedTuple):
    """Where a theorem starts: its file and its offset (or line) in it."""

    file: str
    position: int


def is_structural(tactic: str) -> bool:
    """A bullet or a brace (``-``, ``++``, ``*``, ``{``, ``2: {``, ``}``)."""
    return Sentence(" ".join(tactic.split()), 0, 0).is_structural


def tactic_steps(steps: Iterable[Any]) -> list[Any]:
    """The steps whose tactic is a model target (bullets and braces left out)."""
    return [s for s in steps if not is_structural(s.tactic)]


@dataclass
class TrainData:
    name: str
    train: list[Any]
    val: list[Any] = field(default_factory=list)
    # theorem id -> place; retrieval uses it to see only what precedes a theorem
    places: dict[int, Place] = field(default_factory=dict)
    structural_dropped: int = 0  # bullet and brace steps left out
    index_path: Path | None = None  # where the k-NN index is cached (beside the benchmark)

    @classmethod
    def from_steps(
        cls,
        name: str,
        train: Sequence[Any],
        val: Sequence[Any] = (),
        places: dict[int, Place] | None = None,
    ) -> TrainData:
        kept_train, kept_val = tactic_steps(train), tactic_steps(val)
        dropped = len(train) + len(val) - len(kept_train) - len(kept_val)
        return cls(name, kept_train, kept_val, dict(places or {}), dropped)

    @classmethod
    def from_benchmark(cls, benchmark: Any) -> TrainData:
        """From a loaded benchmark (duck-typed: ``name``, ``steps(split)``,
        ``theorems()`` of objects with ``id`` and ``theorem.file/offset/line``)."""
        return cls.from_steps(
            benchmark.name,
            list(benchmark.steps("train")),
            list(benchmark.steps("val")),
            theorem_places(benchmark.theorems()),
        )


def as_place(theorem: Any) -> Place | None:
    """The place of a Theorem (file and offset, else line); a Place or None as is."""
    if theorem is None or isinstance(theorem, Place):
        return theorem
    position = theorem.offset if theorem.offset is not None else theorem.line
    return Place(str(theorem.file), int(position))


def theorem_places(theorems: Iterable[Any]) -> dict[int, Place]:
    out: dict[int, Place] = {}
    for t in theorems:
        place = as_place(t.theorem)
        assert place is not None
        out[int(t.id)] = place
    return out
