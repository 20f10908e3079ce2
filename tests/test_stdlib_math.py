"""The ``coq-stdlib-math`` selection: the mathematics the default
coq-stdlib selection leaves out, disjoint from it, traceable by name."""

from __future__ import annotations

from benchmarks.stdlib import (
    DEFAULT_DIRECTORIES,
    MATH_DIRECTORIES,
    stdlib_library,
    stdlib_math_library,
)
from prover.cli import main


def test_math_selection_is_real_and_disjoint_from_the_default() -> None:
    math = stdlib_math_library()
    assert math.name == "coq-stdlib-math" and math.directories == MATH_DIRECTORIES
    rel = {math.relative(p) for p in math.files}
    assert {"Reals/Rtrigo1.v", "QArith/Qreals.v"} <= rel
    assert any(r.startswith("Numbers/") for r in rel)
    assert not rel & {stdlib_library().relative(p) for p in stdlib_library().files}
    assert not set(MATH_DIRECTORIES) & set(DEFAULT_DIRECTORIES)


def test_trace_accepts_the_math_library(capsys) -> None:
    assert main(["trace", "--library", "coq-stdlib-math", "--include", "NoSuchDir"]) == 2
    assert "no directory 'NoSuchDir'" in capsys.readouterr().err
