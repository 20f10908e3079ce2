"""The study's tiny causal LM over a character vocabulary, on top of the
training package: its model builder, batch layout, scoring and KV-cache
decoder are used as they are, with a character "tokenizer" in place of the
BPE one trained on proofs.

A training row is ``BOS prompt`` -> ``completion EOS``: only the completion and
its EOS are scored, so "answers 12" and "answers 123" are different events and
the probabilities of all completions sum to one.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from transformers import LlamaForCausalLM

from benchmarks.direct_answer.task import Problem
from training.data import Row, Unit, collate
from training.model import ModelConfig, build_model
from training.sampling import decode
from training.scoring import row_logprobs

PAD, BOS, EOS = 0, 1, 2
CHARS = "0123456789*+="
VOCAB = {c: i + 3 for i, c in enumerate(CHARS)}
MAX_LEN = 40  # BOS + "999*999=" + a 3-partial chain of thought + EOS fits
# The study's size: two layers, so a multi-digit product cannot be computed
# in one left-to-right pass (see task.py). ModelConfig.vocab_size describes the
# proof tokenizer and is not used here: build_model takes the vocabulary from
# the tokenizer (VOCAB_SIZE). Attention pinned to what the recorded runs used.
STUDY_MODEL = ModelConfig(hidden=96, layers=2, heads=4, mlp=384, attention="eager")
VOCAB_SIZE = 3 + len(CHARS)


class CharTokenizer:
    """What ``training.model.build_model`` and ``training.data`` read of a
    tokenizer: its size and special token ids."""

    pad_token_id, bos_token_id, eos_token_id = PAD, BOS, EOS

    def __len__(self) -> int:
        return VOCAB_SIZE


def build(config: ModelConfig, seed: int) -> LlamaForCausalLM:
    return build_model(config, CharTokenizer(), MAX_LEN, seed)


def encode(text: str) -> list[int]:
    return [VOCAB[c] for c in text]


def decode_text(ids: Sequence[int]) -> str:
    """Characters of ``ids``; a special token inside shows as '?' (and makes
    the completion wrong, which it is)."""
    return "".join(CHARS[i - 3] if i >= 3 else "?" for i in ids)


def prompt_ids(prompt: str) -> list[int]:
    return [BOS, *encode(prompt)]


def _unit(i: int, prompt: str, completion: str) -> Unit:
    row = Row(tuple(prompt_ids(prompt)), tuple(encode(completion) + [EOS]))
    return Unit(id=i, rows=(row,), states=(prompt,), tactics=(completion,))


def units(problems: Sequence[Problem], cot: bool) -> list[Unit]:
    """One training unit per problem: its golden completion."""
    return [_unit(i, p.prompt, p.target(cot)) for i, p in enumerate(problems)]


@torch.no_grad()
def score(
    model: LlamaForCausalLM, prompts: Sequence[str], completions: Sequence[str], batch: int = 512
) -> torch.Tensor:
    """log p(completion + EOS | prompt) per pair."""
    us = [_unit(i, p, c) for i, (p, c) in enumerate(zip(prompts, completions, strict=True))]
    out = [row_logprobs(model, collate(us[i : i + batch], PAD))[0] for i in range(0, len(us), batch)]
    return torch.cat(out)


def completion_logprobs(model: LlamaForCausalLM, problems: Sequence[Problem], cot: bool) -> torch.Tensor:
    """log p(golden completion + EOS | prompt) per problem (for CoT: of the
    golden trace, a lower bound on p(correct answer))."""
    return score(model, [p.prompt for p in problems], [p.target(cot) for p in problems])


def generate(
    model: LlamaForCausalLM,
    prompts: Sequence[str],
    *,
    max_new: int,
    greedy: bool,
    samples: int = 1,
    generator: torch.Generator | None = None,
) -> tuple[list[str | None], list[float]]:
    """``samples`` completions per prompt (prompt-major), greedy or sampled at
    temperature 1, and their log-probabilities (EOS included). A completion cut
    at ``max_new`` tokens without EOS is None (never correct)."""
    d = decode(
        model, [prompt_ids(p) for p in prompts], eos=EOS, pad=PAD, max_new_tokens=max_new,
        samples=samples, greedy=greedy, generator=generator,
    )  # fmt: skip
    texts = [decode_text(t) if ok else None for t, ok in zip(d.tokens, d.finished, strict=True)]
    return texts, d.logprobs
