"""The benchmark format: in-memory types and the on-disk JSON Lines layout.

A benchmark directory holds::

    theorems.jsonl  one theorem a line: id, name, file, line, offset, statement,
                    coq_args, backend, split, num_steps, tactics (the verified
                    human proof)
    steps.jsonl     one (state, tactic) step a line: theorem_id, index, state
                    (the pretty-printed goals before the step, i.e. what the
                    model sees), tactic, split; for Coq a tactic is one
                    sentence without its final period, and bullets and
                    braces are steps of their own
    meta.json       library, Coq version, counts, seed, split sizes, ...
                    (``dco trace`` adds root, directories, the report's
                    counts and failures by reason, and time per file)
    failures.jsonl  (``dco trace`` only) one theorem kept out a line: name,
                    file, reason, detail

Every loader (traced Coq libraries, the LeanDojo Benchmark, miniF2F) maps its
source to these types, so later commands never care where theorems came from.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lean_env.errors import UserError
from lean_env.types import Theorem
from search.fsutil import write_jsonl_atomic, write_text_atomic

from .splits import split_name


@dataclass(frozen=True)
class Step:
    theorem_id: int
    index: int
    state: str
    tactic: str
    split: str = "train"


@dataclass(frozen=True)
class BenchmarkTheorem:
    id: int
    theorem: Theorem
    split: str
    tactics: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.theorem.name

    def to_dict(self) -> dict[str, Any]:
        d = self.theorem.to_dict()
        d.update(
            id=self.id,
            short_name=self.theorem.short_name,
            split=self.split,
            num_steps=len(self.tactics),
            tactics=list(self.tactics),
        )
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BenchmarkTheorem:
        return cls(
            id=int(d["id"]),
            theorem=Theorem.from_dict(d),
            split=d.get("split", "test"),
            tactics=tuple(d.get("tactics", ())),
        )


@dataclass
class Benchmark:
    """A loaded benchmark. ``steps`` may be empty for evaluation-only sources
    (miniF2F has statements but no traced proofs)."""

    name: str
    theorem_list: list[BenchmarkTheorem]
    step_list: list[Step] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def theorems(self, split: str | None = None) -> list[BenchmarkTheorem]:
        split = split_name(split)
        return [t for t in self.theorem_list if split is None or t.split == split]

    def steps(self, split: str | None = None) -> Iterator[Step]:
        split = split_name(split)
        return (s for s in self.step_list if split is None or s.split == split)

    def by_name(self, name: str) -> BenchmarkTheorem:
        """The theorem with this full name, else the one whose short name or
        dotted suffix (``Nat.add_0_r``) it is; an ambiguous name is an error."""
        for t in self.theorem_list:
            if t.theorem.name == name:
                return t
        matches = [
            t
            for t in self.theorem_list
            if t.theorem.short_name == name or t.theorem.name.endswith("." + name)
        ]
        if len(matches) == 1:
            return matches[0]
        if matches:
            options = ", ".join(t.theorem.name for t in matches[:3]) + (
                ", ..." if len(matches) > 3 else ""
            )
            raise UserError(
                f"theorem name {name!r} is ambiguous in benchmark {self.name!r} "
                f"({len(matches)} theorems: {options}); give the full name"
            )
        raise UserError(f"theorem {name!r} is not in benchmark {self.name!r}")


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise UserError(f"{path}:{lineno}: malformed JSON line ({exc.msg})") from None


def write_benchmark(directory: Path | str, benchmark: Benchmark) -> None:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    write_jsonl_atomic(directory / "theorems.jsonl", (t.to_dict() for t in benchmark.theorem_list))
    write_jsonl_atomic(
        directory / "steps.jsonl",
        (
            {
                "theorem_id": s.theorem_id,
                "index": s.index,
                "state": s.state,
                "tactic": s.tactic,
                "split": s.split,
            }
            for s in benchmark.step_list
        ),
    )
    write_text_atomic(directory / "meta.json", json.dumps(benchmark.meta, indent=2, sort_keys=True))


def read_benchmark(directory: Path | str, name: str | None = None) -> Benchmark:
    directory = Path(directory)
    theorems_path = directory / "theorems.jsonl"
    if not theorems_path.is_file():
        raise UserError(
            f"{directory} is not a benchmark directory (no theorems.jsonl); "
            "create one with `dco trace`"
        )
    meta_path = directory / "meta.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    except json.JSONDecodeError as exc:
        raise UserError(f"{meta_path}: malformed JSON ({exc.msg})") from None
    theorems = [BenchmarkTheorem.from_dict(d) for d in _read_jsonl(theorems_path)]
    steps_path = directory / "steps.jsonl"
    steps = (
        [
            Step(
                int(d["theorem_id"]),
                int(d["index"]),
                d["state"],
                d["tactic"],
                d.get("split", "train"),
            )
            for d in _read_jsonl(steps_path)
        ]
        if steps_path.is_file()
        else []
    )
    return Benchmark(name or meta.get("library", directory.name), theorems, steps, meta)
