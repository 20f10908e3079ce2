"""The seeded train/val/test split, the assembled benchmark (no test theorem's
steps in train) and the statistics, on synthetic traces (no Coq needed)."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

from benchmarks.build import TraceConfig, assemble
from benchmarks.format import read_benchmark
from benchmarks.library import Library
from benchmarks.splits import SplitConfig, assign_splits, split_sizes
from benchmarks.stats import compute_stats, format_stats, tactic_head
from lean_env.coq.trace import Failure, FileTrace, TracedStep, TracedTheorem
from lean_env.types import Theorem


def keys(n: int) -> list[tuple[str, str, int]]:
    return [(f"Lib.F{i % 7}.t{i}", f"F{i % 7}.v", i) for i in range(n)]


def test_split_is_deterministic_for_a_seed_and_independent_of_order() -> None:
    ks = keys(6000)
    first = assign_splits(ks, SplitConfig(seed=3))
    assert first == assign_splits(ks, SplitConfig(seed=3))
    assert first != assign_splits(ks, SplitConfig(seed=4))
    shuffled = ks[:]
    random.Random(1).shuffle(shuffled)
    again = dict(zip(shuffled, assign_splits(shuffled, SplitConfig(seed=3)), strict=True))
    assert again == dict(zip(ks, first, strict=True))
    assert Counter(first) == {"test": 1000, "val": 500, "train": 4500}


def test_split_sizes_are_fixed_and_scale_down_for_small_corpora() -> None:
    config = SplitConfig()
    assert split_sizes(100_000, config) == (1000, 500)
    assert split_sizes(5000, config) == (1000, 500)
    test, val = split_sizes(3000, config)
    assert (test, val) == (600, 300)
    assert split_sizes(6, config) == (1, 0)
    assert split_sizes(1, config) == (0, 0)
    assert split_sizes(0, config) == (0, 0)
    assert split_sizes(10_000, SplitConfig(test_size=2000, val_size=0)) == (2000, 0)


def synthetic_traces(root: Path, n_files: int = 5, per_file: int = 40) -> list[FileTrace]:
    traces = []
    for f in range(n_files):
        path = root / f"F{f}.v"
        theorems = []
        for k in range(per_file):
            length = 1 + (k % 4)
            theorem = Theorem(
                f"Lib.F{f}.t{k}", f"Lemma t{k} : True.", file=str(path), line=k + 1, offset=100 * k
            )
            steps = tuple(
                TracedStep(f"state {f}.{k}.{j}", "-" if j == 1 else f"tac{j} x")
                for j in range(length)
            )
            theorems.append(TracedTheorem(theorem, steps))
        traces.append(
            FileTrace(
                str(path),
                (),
                found=per_file + 2,
                skipped={"Defined": 1},
                traced=per_file,
                theorems=theorems,
                failures=[Failure(f"Lib.F{f}.bad", "replay: a step failed")],
                seconds=1.0 + f,
            )
        )
    return traces


def test_assembled_benchmark_keeps_test_steps_out_of_train(tmp_path: Path) -> None:
    traces = synthetic_traces(tmp_path)
    library = Library("lib", tmp_path, tuple(Path(t.file) for t in traces), lambda p: ())
    config = TraceConfig(workers=1, split=SplitConfig(seed=5, test_size=30, val_size=15))
    meta = assemble(library, tmp_path / "out", config, traces, {}, 12.0)
    bench = read_benchmark(tmp_path / "out")
    assert meta["splits"] == {"train": 155, "val": 15, "test": 30}
    assert meta["counts"]["failures"] == {"replay: a step failed": 5}
    assert meta["counts"]["skipped"] == {"Defined": 5}
    assert (meta["counts"]["tactic_proved"], meta["counts"]["verified"]) == (205, 200)
    assert meta["time"]["file_seconds_median"] == 3.0
    split_of = {t.id: t.split for t in bench.theorems()}
    assert all(split_of[s.theorem_id] == "train" for s in bench.steps("train"))
    test_ids = {t.id for t in bench.theorems("test")}
    assert test_ids and not test_ids & {s.theorem_id for s in bench.steps("train")}
    # Every theorem's steps are exactly its tactics, in order.
    for t in bench.theorems():
        assert tuple(s.tactic for s in bench.steps() if s.theorem_id == t.id) == t.tactics
    # Ids follow file order; re-assembling gives the same split.
    assert [t.name for t in bench.theorems()[:2]] == ["Lib.F0.t0", "Lib.F0.t1"]
    assemble(library, tmp_path / "again", config, list(reversed(traces)), {}, 1.0)
    assert read_benchmark(tmp_path / "again").theorem_list == bench.theorem_list


def test_stats_of_a_benchmark(tmp_path: Path) -> None:
    traces = synthetic_traces(tmp_path, n_files=1, per_file=8)
    library = Library("lib", tmp_path, (Path(traces[0].file),), lambda p: ())
    assemble(library, tmp_path / "out", TraceConfig(workers=1), traces, {}, 1.0)
    stats = compute_stats(read_benchmark(tmp_path / "out"))
    # Lengths 1,2,3,4,1,2,3,4: all steps; the bullet at index 1 is not a tactic.
    assert (stats.lengths["all"].mean, stats.lengths["all"].median) == (2.5, 2.5)
    assert (stats.tactic_lengths["all"].mean, stats.tactic_lengths["all"].median) == (1.75, 1.5)
    assert sum(stats.theorems.values()) == 8
    # targets: 20 steps less the 6 bullets (theorems of length >= 2)
    assert sum(stats.steps.values()) == 20 and sum(stats.targets.values()) == 14
    assert stats.heads[0] == ("tac0", 8)
    text = format_stats("lib", stats)
    assert "LeanDojo" in text and "tac0" in text and "targets" in text
    assert tactic_head("2: rewrite <- H; auto") == "rewrite"
    assert tactic_head("Z.le_elim H") == "Z.le_elim"
