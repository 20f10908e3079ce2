"""Shared fixtures. Tests drive the real coqtop/coqc (installed by
scripts/setup.sh); none of them is skipped when Coq is missing, they fail."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from lean_env.coq.source import Declaration, parse_declarations


@pytest.fixture
def coq_file(tmp_path: Path) -> Callable[..., dict[str, Declaration]]:
    """Write Coq source to a file and return its declarations by short name."""

    def make(source: str, name: str = "Scratch.v") -> dict[str, Declaration]:
        path = tmp_path / name
        path.write_text(source, encoding="utf-8")
        return {d.theorem.short_name: d for d in parse_declarations(path)}

    return make


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models on 2 cores shared with coqtop: one OpenMP thread is far
    faster (two made tiny-model training up to 15x slower). Use with
    ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
