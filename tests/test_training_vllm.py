"""The vLLM generator: importable without vllm, and a clear error without it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lean_env.errors import UserError


def test_missing_vllm_is_a_clear_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # None in sys.modules makes `import vllm` fail as if it were not installed
    # (it is not, on CPU machines; this keeps the test meaningful where it is).
    monkeypatch.setitem(sys.modules, "vllm", None)
    from training.vllm_generator import VLLMTacticGenerator  # importing needs no vllm

    with pytest.raises(UserError) as err:
        VLLMTacticGenerator(tmp_path)
    message = str(err.value)
    assert "vllm" in message and "pip install 'dco-prover[gpu]'" in message
    assert "\n" not in message
