"""``load_benchmark(spec)``: the one way every command gets its theorems.

``spec`` is one of:

- ``coq-stdlib`` (or any name of a benchmark traced to the default place):
  ``$DCO_DATA/benchmarks/NAME`` if ``DCO_DATA`` is set, else
  ``data/benchmarks/NAME`` under the repository root;
- a benchmark directory (``theorems.jsonl``, ``steps.jsonl``, ``meta.json``);
- ``leandojo:PATH``: the LeanDojo Benchmark (Lean 4) at PATH;
- ``minif2f:PATH``: miniF2F (Lean 4) at PATH;
- ``minif2f-rocq:PATH``: miniF2F-rocq (Coq) at PATH, with the benchmark's
  prelude (:mod:`.minif2f_rocq`).
"""

from __future__ import annotations

import os
from pathlib import Path

from lean_env.errors import UserError

from . import minif2f_rocq
from .format import Benchmark, read_benchmark

REPO_ROOT = Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    """Where traced benchmarks, models and runs live by default."""
    env = os.environ.get("DCO_DATA")
    return Path(env) if env else REPO_ROOT / "data"


def default_benchmark_dir(name: str) -> Path:
    return data_dir() / "benchmarks" / name


def resolve_benchmark_dir(spec: str) -> Path:
    """The directory a non-Lean ``spec`` names (it need not exist yet)."""
    path = Path(spec).expanduser()
    if path.is_dir() or os.sep in spec or spec.startswith("."):
        return path
    return default_benchmark_dir(spec)


def load_benchmark(spec: str) -> Benchmark:
    if not spec:
        raise UserError("empty benchmark name")
    kind, sep, rest = spec.partition(":")
    if sep and kind in ("leandojo", "minif2f"):
        if not rest:
            raise UserError(f"{spec!r}: give a path after '{kind}:'")
        from . import lean  # lazy: the Lean loaders are needed only for Lean benchmarks

        return lean.load_leandojo(rest) if kind == "leandojo" else lean.load_minif2f(rest)
    if sep and kind == minif2f_rocq.NAME:
        if not rest:
            raise UserError(f"{spec!r}: give a path after '{kind}:' ({minif2f_rocq.HINT})")
        return minif2f_rocq.load_minif2f_rocq(rest, data_dir())
    directory = resolve_benchmark_dir(spec)
    if not directory.is_dir():
        hint = (
            f"run `dco trace --library {spec}` first"
            if spec in ("coq-stdlib", "coq-stdlib-math")
            else "give a benchmark directory made by `dco trace`, coq-stdlib, "
            "leandojo:PATH, minif2f:PATH or minif2f-rocq:PATH"
        )
        raise UserError(f"benchmark {spec!r} not found at {directory}: {hint}")
    return read_benchmark(directory, name=None if os.sep in spec else spec)


def benchmark_prelude(spec: str) -> str | None:
    """The prelude a benchmark adds to every problem (named in results), or
    None for benchmarks used as written."""
    kind, sep, _ = spec.partition(":")
    return minif2f_rocq.PRELUDE if sep and kind == minif2f_rocq.NAME else None
