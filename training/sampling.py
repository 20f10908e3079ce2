"""Batched decoding of tactics with a KV cache: greedy, or sampling with a
temperature and an optional top-k filter.

Every prompt is run through the model once; its cache is then repeated for
the ``samples`` draws (the same number for every prompt, or one count per
prompt), and rows that have emitted EOS are dropped from the batch as they
finish, so a batch of 16 states x 64 samples costs 16 prompt passes plus one
cached step per row per token. The draws of one prompt are independent
samples whatever their number: they share the prompt's keys and values,
which are a deterministic function of the prompt, and nothing else. The
log-probability of a row is its sum of token log-probs under the model itself (temperature 1,
no filter), EOS included: the quantity search ranks candidates by, whatever
distribution they were drawn from.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from .data import PromptFormat, encode_prompt, eos_id, pad_id, positions
from .scoring import keep_logits

# Finished rows are dropped from the batch (and its KV cache) once at most
# this fraction of it is live: compacting at every step copies the cache at
# every step, never compacting decodes dead rows to the end.
COMPACT_AT = 0.8


@dataclass
class Decoded:
    # One row per draw, prompt-major (with s draws each, prompt i's draws are
    # rows i*s .. i*s+s-1; with counts, prompt i's follow prompt i-1's).
    tokens: list[list[int]]  # without the EOS
    logprobs: list[float]  # sum of log p of the tokens and the EOS
    finished: list[bool]  # ended with EOS (False: cut at max_new_tokens)


def model_device(model: Any) -> torch.device:
    return next(model.parameters()).device


def draw_rows(probs: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """One index per row of ``probs`` (rows summing to ~1), drawn with
    probability ``probs[i, j]``: inverse-CDF sampling, one uniform per row.
    The same distribution as ``torch.multinomial(probs, 1)``, which on CPU
    was measured at 70 ms per call for 512 rows of a 4096-token vocabulary,
    more than the model's own forward pass; this costs a cumulative sum."""
    cdf = probs.double().cumsum(dim=-1)
    u = (
        torch.rand(
            (probs.shape[0], 1), generator=generator, device=probs.device, dtype=torch.float64
        )
        * cdf[:, -1:]
    )
    # right=True: the first j with cdf[j] > u, so a zero-probability token
    # (a flat step of the cdf) is never drawn
    idx = torch.searchsorted(cdf, u, right=True)[:, 0]
    return idx.clamp_(max=probs.shape[-1] - 1)


def cache_kwarg(model: Any) -> str:
    """The name under which ``model.forward`` takes the KV cache: ``cache`` in
    transformers 5.x, where the older ``past_key_values`` still works but
    warns on every call (one warning per search worker, in every demo run)."""
    return _cache_kwarg(type(model))


@functools.cache
def _cache_kwarg(model_class: type) -> str:
    # once per class: decode() runs at every expansion of a search
    forward = inspect.signature(model_class.forward).parameters
    return "cache" if "cache" in forward else "past_key_values"


def cache_of(output: Any) -> Any:
    """The KV cache a forward pass returned, under either name."""
    cache = getattr(output, "cache", None)
    return cache if cache is not None else output.past_key_values


def _pick(
    logits: torch.Tensor,
    greedy: bool,
    temperature: float,
    top_k: int | None,
    generator: torch.Generator | None,
) -> torch.Tensor:
    if greedy:
        return logits.argmax(dim=-1)
    scores = logits / temperature
    if top_k is not None and top_k < scores.shape[-1]:
        kth = torch.topk(scores, top_k, dim=-1).values[:, -1:]
        scores = scores.masked_fill(scores < kth, float("-inf"))
    return draw_rows(torch.softmax(scores, dim=-1), generator)


def _prefill(
    model: Any,
    prompts: Sequence[Sequence[int]],
    pad: int,
    samples: int | Sequence[int],
    counts: list[int],
) -> tuple[Any, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Run the left-padded prompts once: (KV cache, last logits, attention
    mask, next positions), each row repeated ``counts[i]`` times for prompt i."""
    device = model_device(model)
    n, width = len(prompts), max(len(p) for p in prompts)
    ids = torch.full((n, width), pad, dtype=torch.long)
    mask = torch.zeros((n, width), dtype=torch.long)
    for i, p in enumerate(prompts):
        ids[i, width - len(p) :] = torch.tensor(list(p), dtype=torch.long)
        mask[i, width - len(p) :] = 1
    ids, mask = ids.to(device), mask.to(device)
    out = model(
        input_ids=ids,
        attention_mask=mask,
        position_ids=positions(mask),
        use_cache=True,
        **keep_logits(model, 1),
    )
    cache, logits = cache_of(out), out.logits[:, -1].float()
    next_pos = mask.sum(dim=1)
    if isinstance(samples, int) and samples > 1:
        cache.batch_repeat_interleave(samples)
        logits = logits.repeat_interleave(samples, dim=0)
        mask = mask.repeat_interleave(samples, dim=0)
        next_pos = next_pos.repeat_interleave(samples, dim=0)
    elif max(counts) > 1:
        # row j of the batch draws for prompt index[j]: each prompt's cache
        # is copied once per draw, never recomputed
        index = torch.repeat_interleave(
            torch.arange(n, device=device), torch.tensor(counts, device=device)
        )
        cache.batch_select_indices(index)
        logits, mask, next_pos = logits[index], mask[index], next_pos[index]
    return cache, logits, mask, next_pos


@torch.no_grad()
def decode(
    model: Any,
    prompts: Sequence[Sequence[int]],
    *,
    eos: int,
    pad: int,
    max_new_tokens: int,
    samples: int | Sequence[int] = 1,
    greedy: bool = False,
    temperature: float = 1.0,
    top_k: int | None = None,
    generator: torch.Generator | None = None,
) -> Decoded:
    """``samples``: draws per prompt, one number for all or one per prompt."""
    if not greedy and temperature <= 0:
        raise ValueError(f"sampling needs temperature > 0, got {temperature}")
    counts = [samples] * len(prompts) if isinstance(samples, int) else list(samples)
    if len(counts) != len(prompts) or min(counts, default=1) < 1 or max_new_tokens < 1:
        raise ValueError("samples (one count >= 1 per prompt) and max_new_tokens must be >= 1")
    device = model_device(model)
    cache, logits, mask, next_pos = _prefill(model, prompts, pad, samples, counts)
    cache_name = cache_kwarg(model)
    rows = sum(counts)
    # The attention mask for every step at once (one more column per step),
    # rather than a concatenation that copies it at every step.
    seen = mask.shape[1]
    mask = torch.cat([mask, torch.ones_like(mask[:, :1]).expand(-1, max_new_tokens)], dim=1)
    active = torch.arange(rows, device=device)  # the global row of each live batch row
    tokens: list[list[int]] = [[] for _ in range(rows)]
    logprob = torch.zeros(rows, dtype=torch.float64, device=device)
    finished = torch.zeros(rows, dtype=torch.bool, device=device)
    for step in range(max_new_tokens):
        nxt = _pick(logits, greedy, temperature, top_k, generator)
        # log p of the drawn token, without materialising the log-softmax
        lp = logits.gather(1, nxt[:, None])[:, 0] - torch.logsumexp(logits, dim=-1)
        was_live = ~finished[active]
        logprob[active] += torch.where(was_live, lp.double(), 0.0)
        done = (nxt == eos) & was_live
        for row, tok, ok in zip(active.tolist(), nxt.tolist(), was_live.tolist(), strict=True):
            if ok and tok != eos:
                tokens[row].append(tok)
        finished[active[done]] = True
        if bool(finished.all()) or step == max_new_tokens - 1:
            break
        live = ~finished[active]
        # until compacted, finished rows decode on and are ignored
        if int(live.sum()) <= COMPACT_AT * len(active):
            keep = live.nonzero()[:, 0]
            cache.batch_select_indices(keep)
            active, mask, next_pos, nxt = active[keep], mask[keep], next_pos[keep], nxt[keep]
        seen += 1
        out = model(
            input_ids=nxt[:, None],
            attention_mask=mask[:, :seen],
            position_ids=next_pos[:, None],
            use_cache=True,
            **{cache_name: cache},
        )
        cache, logits = cache_of(out), out.logits[:, -1].float()
        next_pos = next_pos + 1
    return Decoded(tokens, logprob.tolist(), finished.tolist())


def decode_tactics(
    model: Any, tokenizer: Any, fmt: PromptFormat, prompts: Sequence[Sequence[int]], **kwargs: Any
) -> Decoded:
    """:func:`decode` of tactics: up to the format's tactic length, ending at
    the tokenizer's EOS (one token more than the limit, so a tactic cut at the
    limit is seen as unfinished)."""
    return decode(model, prompts, eos=eos_id(tokenizer), pad=pad_id(tokenizer),
                  max_new_tokens=fmt.max_tactic_tokens + 1, **kwargs)  # fmt: skip


def text_sampler(
    tokenizer: Any, fmt: PromptFormat, max_rows: int = 512
) -> Callable[[Any, Sequence[str], int], list[list[str]]]:
    """``sample(model, states, k) -> k sampled tactic texts per state`` (all
    draws, duplicates kept: the Monte Carlo estimate of DCOa counts them)."""

    def sample(model: Any, states: Sequence[str], k: int) -> list[list[str]]:
        out: list[list[str]] = []
        per_chunk = max(1, max_rows // k)
        for start in range(0, len(states), per_chunk):
            prompts = [encode_prompt(tokenizer, s, fmt) for s in states[start : start + per_chunk]]
            d = decode_tactics(model, tokenizer, fmt, prompts, samples=k)
            texts = [
                tokenizer.decode(t, skip_special_tokens=True).strip() if ok else ""
                for t, ok in zip(d.tokens, d.finished, strict=True)
            ]
            out.extend(texts[i * k : (i + 1) * k] for i in range(len(prompts)))
        return out

    return sample
