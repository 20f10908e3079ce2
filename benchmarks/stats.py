"""Statistics of a benchmark: counts per split, proof lengths, common tactics.

Proof length is counted two ways: all steps (what replaying the proof in the
Environment takes, bullets and braces included) and tactic steps only (bullets
and braces left out), the closer analogue of LeanDojo's tactic counts (its
training set: mean 4.2, median 2).
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field

from lean_env.coq.sentences import Sentence

from .format import Benchmark
from .splits import SPLITS

# A goal selector in front of a tactic ("2:", "all:") is not part of its name.
_SELECTOR = re.compile(r"^(?:all|par|!|\d+(?:\s*-\s*\d+)?|\[[\w']+\])\s*:\s*")
_HEAD = re.compile(r"[A-Za-z_][\w'.]*|\S")


def is_structural(tactic: str) -> bool:
    return Sentence(tactic, 0, 0).is_structural


def tactic_head(tactic: str) -> str:
    """The tactic's leading word: ``rewrite`` for ``rewrite <- H; auto``."""
    body = _SELECTOR.sub("", tactic.strip(), count=1)
    match = _HEAD.match(body)
    return match.group(0) if match else body


@dataclass(frozen=True)
class Lengths:
    count: int
    mean: float
    median: float
    max: int

    @classmethod
    def of(cls, values: list[int]) -> Lengths:
        if not values:
            return cls(0, 0.0, 0.0, 0)
        return cls(len(values), statistics.fmean(values), statistics.median(values), max(values))


@dataclass(frozen=True)
class BenchmarkStats:
    theorems: dict[str, int]  # per split
    steps: dict[str, int]  # per split
    lengths: dict[str, Lengths]  # per split and "all": all steps
    tactic_lengths: dict[str, Lengths]  # per split and "all": bullets and braces left out
    heads: list[tuple[str, int]]  # most common tactic heads over all steps
    tactics: list[tuple[str, int]]  # most common whole tactics
    # model targets per split: the steps less bullets and braces, which are
    # left out of training and never generated
    targets: dict[str, int] = field(default_factory=dict)


def compute_stats(benchmark: Benchmark, top: int = 20) -> BenchmarkStats:
    by_split = {s: benchmark.theorems(s) for s in SPLITS}
    steps = {s: sum(len(t.tactics) for t in ts) for s, ts in by_split.items()}
    lengths, tactic_lengths = {}, {}
    for name, ts in [*by_split.items(), ("all", benchmark.theorems())]:
        lengths[name] = Lengths.of([len(t.tactics) for t in ts])
        tactic_lengths[name] = Lengths.of(
            [sum(not is_structural(x) for x in t.tactics) for t in ts]
        )
    heads: Counter[str] = Counter()
    whole: Counter[str] = Counter()
    for t in benchmark.theorems():
        for tactic in t.tactics:
            if not is_structural(tactic):
                heads[tactic_head(tactic)] += 1
                whole[tactic] += 1
    targets = {
        s: sum(not is_structural(x) for t in ts for x in t.tactics) for s, ts in by_split.items()
    }
    return BenchmarkStats(
        {s: len(ts) for s, ts in by_split.items()},
        steps,
        lengths,
        tactic_lengths,
        heads.most_common(top),
        whole.most_common(top),
        targets,
    )


def format_stats(name: str, stats: BenchmarkStats) -> str:
    lines = [
        f"benchmark {name}",
        f"{'split':<8}{'theorems':>10}{'steps':>10}{'targets':>10}{'bullets':>10}",
    ]
    for s in SPLITS:
        t = stats.targets.get(s, stats.steps[s])
        lines.append(
            f"{s:<8}{stats.theorems[s]:>10}{stats.steps[s]:>10}{t:>10}{stats.steps[s] - t:>10}"
        )
    total, targets = sum(stats.steps.values()), sum(stats.targets.values())
    lines.append(
        f"{'total':<8}{sum(stats.theorems.values()):>10}{total:>10}{targets:>10}"
        f"{total - targets:>10}"
    )
    lines.append("  targets: the steps a model learns (bullets and braces are left out)")
    lines.append("proof length (steps per theorem): mean / median / max")
    for s in (*SPLITS, "all"):
        a, t = stats.lengths[s], stats.tactic_lengths[s]
        lines.append(
            f"  {s:<6} all steps {a.mean:5.2f} / {a.median:4g} / {a.max:<4d}"
            f"  tactics only {t.mean:5.2f} / {t.median:4g} / {t.max}"
        )
    lines.append("  (LeanDojo training set, for reference: mean 4.2, median 2)")
    lines.append("most common tactics (leading word):")
    lines += [f"  {n:7d}  {h}" for h, n in stats.heads]
    lines.append("most common whole tactics:")
    lines += [f"  {n:7d}  {t}" for t, n in stats.tactics]
    return "\n".join(lines)
