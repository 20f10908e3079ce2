"""The coq-stdlib library definition against the installed Coq: files, flags
and Coq's real names; tracing real standard-library files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.loader import load_benchmark
from benchmarks.stdlib import DEFAULT_DIRECTORIES, stdlib_args, stdlib_library, stdlib_root
from lean_env.coq.source import parse_declarations
from lean_env.coq.trace import trace_file


def test_default_selection_and_flags() -> None:
    library = stdlib_library()
    assert library.directories == DEFAULT_DIRECTORIES
    tops = {library.relative(p).split("/")[0] for p in library.files}
    assert tops == set(DEFAULT_DIRECTORIES)
    root = stdlib_root()
    assert stdlib_args(root / "Init" / "Peano.v") == ("-R", str(root), "Coq", "-noinit")
    assert stdlib_args(root / "Arith" / "PeanoNat.v") == ("-R", str(root), "Coq")
    only = stdlib_library(["Numbers"], ["Numbers/Cyclic"])
    rels = [only.relative(p) for p in only.files]
    assert rels and all(r.startswith("Numbers/") and "Cyclic" not in r for r in rels)


def test_theorems_get_coqs_real_names() -> None:
    path = stdlib_root() / "Arith" / "PeanoNat.v"
    names = {d.theorem.name for d in parse_declarations(path, stdlib_args(path))}
    assert "Coq.Arith.PeanoNat.Nat.add_0_l" in names


def test_tracing_an_init_file_without_the_prelude() -> None:
    path = stdlib_root() / "Init" / "Peano.v"
    result = trace_file(path, stdlib_args(path))
    assert result.error == "" and result.failures == []
    assert result.traced == len(result.theorems) == result.tactic_proved >= 20
    names = {t.theorem.name for t in result.theorems}
    assert "Coq.Init.Peano.plus_n_O" in names
    proof = next(t for t in result.theorems if t.theorem.name == "Coq.Init.Peano.plus_n_O")
    assert proof.tactics == ("intro n; induction n; simpl; auto",)
    assert "forall n : nat, n = n + 0" in proof.steps[0].state


@pytest.mark.slow
def test_trace_a_stdlib_directory_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "bench"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "prover.cli",
            "trace",
            "--library",
            "coq-stdlib",
            "--include",
            "Bool",
            "--include",
            "Relations",
            "--out",
            str(out),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stderr
    bench = load_benchmark(str(out))
    counts = bench.meta["counts"]
    assert counts["verified"] >= 0.9 * counts["tactic_proved"] > 100
    assert len(bench.theorems()) == counts["verified"]
