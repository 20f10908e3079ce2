"""A trained Hugging Face model as a search policy (search's TacticGenerator).

``generate(states, k)`` samples ``k`` tactics per state at ``temperature``
(optionally from the ``top_k`` most likely tokens only) in batches of at most
``max_rows`` sequences, or with ``sample=False`` returns the ``k`` best by a
beam search of width ``k``. Each candidate carries the sum of its tokens'
log-probs under the model (EOS included); identical tactics are merged and
candidates come best first. Tactics cut at the length limit are dropped, and
so are bullets and braces: they are not tactics a model proposes (search
handles focusing itself).

One sampled tactic per state (``k = 1``, what pass@N rollouts ask for at
every step) is a draw per entry of ``states``, repeats included: rollouts
that stand at the same state each get their own independent draw. Equal
states then share one prompt pass (prefill once, sample the m tactics from
the shared KV cache), which is what makes pass@512 cheap: 512 rollouts at
the root cost one prompt pass instead of 512. With ``share_prefix=False``
every entry gets its own pass (the former behaviour, kept to measure the
difference). When no state repeats, both give the same tactics for a seed.

A model trained with retrieval gets a :class:`~training.retrieval.Retriever`;
the search runner calls :meth:`ModelTacticGenerator.set_theorem` before each
theorem, so retrieval never sees that theorem or what follows it in its file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from lean_env.errors import UserError
from search.generator import Candidate, check_generate_args

from .data import PromptFormat, encode_prompt, eos_id, pad_id
from .dataset import Place, as_place, is_structural
from .model import load_pretrained
from .retrieval import Retriever
from .sampling import decode_tactics, model_device

META_FILE = "training_meta.json"


def read_meta(path: str | Path) -> dict[str, Any]:
    """The training metadata of a model directory ({} for a model not trained here)."""
    meta = Path(path) / META_FILE
    if not meta.is_file():
        return {}
    try:
        return json.loads(meta.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UserError(f"{meta}: malformed JSON ({exc.msg})") from None


def merge_candidates(
    texts: Sequence[str | None], logprobs: Sequence[float], k: int
) -> list[Candidate]:
    """Distinct tactics, best first; None (unfinished), empty texts, bullets
    and braces dropped."""
    best: dict[str, float] = {}
    for text, lp in zip(texts, logprobs, strict=True):
        if text and is_structural(text):
            continue
        if text and (text not in best or lp > best[text]):
            best[text] = lp
    ranked = sorted(best.items(), key=lambda item: -item[1])
    return [Candidate(t, lp) for t, lp in ranked[:k]]


class ModelTacticGenerator:
    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        fmt: PromptFormat | None = None,
        *,
        top_k: int | None = None,
        max_rows: int = 512,
        seed: int | None = 0,
        share_prefix: bool = True,
        retriever: Retriever | None = None,
    ) -> None:
        self.model = model.eval()
        self.retriever = retriever
        self.place: Place | None = None
        self.share_prefix = share_prefix
        self.prompt_passes = 0  # prompts run through the model so far (sampling)
        self.tokenizer = tokenizer
        self.fmt = fmt or PromptFormat()
        self.top_k = top_k
        self.max_rows = max_rows
        self.rng = torch.Generator(device=model_device(model))
        if seed is not None:
            self.rng.manual_seed(seed)

    @classmethod
    def from_pretrained(
        cls, path: str | Path, *, device: str | None = None, **kwargs: Any
    ) -> ModelTacticGenerator:
        """Load a model directory written by ``dco train`` (or any HF causal LM,
        which then gets the default prompt format)."""
        meta = read_meta(path)
        model, tokenizer = load_pretrained(path)
        if device:
            model = model.to(device)
        fmt = PromptFormat.from_dict(meta.get("prompt_format", {}))
        return cls(model, tokenizer, fmt, **kwargs)

    def set_theorem(self, theorem: Any) -> None:
        """Retrieve only what a proof of ``theorem`` (Theorem, Place, None) may see."""
        self.place = as_place(theorem)

    def prompts(self, states: Sequence[str]) -> list[list[int]]:
        if self.retriever is None or not self.fmt.retrieval_tokens:
            return [encode_prompt(self.tokenizer, s, self.fmt) for s in states]
        return [
            encode_prompt(self.tokenizer, s, self.fmt, self.retriever.for_state(s, self.place))
            for s in states
        ]

    def reseed(self, seed: int) -> None:
        """Restart sampling from ``seed`` (batch runs call it before each theorem)."""
        self.rng.manual_seed(seed)

    def _texts(self, tokens: Sequence[Sequence[int]]) -> list[str]:
        return [self.tokenizer.decode(t, skip_special_tokens=True).strip() for t in tokens]

    def generate(
        self, states: Sequence[str], k: int, *, temperature: float = 1.0, sample: bool = True
    ) -> list[list[Candidate]]:
        check_generate_args(k, temperature, sample)
        if sample and k == 1 and self.share_prefix:
            return self._draw_each(states, temperature)
        return self.generate_from_prompts(
            self.prompts(states), k, temperature=temperature, sample=sample
        )

    def generate_from_prompts(
        self,
        prompts: Sequence[Sequence[int]],
        k: int,
        *,
        temperature: float = 1.0,
        sample: bool = True,
    ) -> list[list[Candidate]]:
        """:meth:`generate` for prompts already encoded (``encode_prompt``)."""
        prompts = [list(p) for p in prompts]
        out: list[list[Candidate]] = []
        per_chunk = max(1, self.max_rows // k)
        for start in range(0, len(prompts), per_chunk):
            chunk = prompts[start : start + per_chunk]
            if sample or k == 1:
                texts, scores = self._decode(chunk, k, temperature, sample)
            else:
                texts, scores = self._beam(chunk, k)
            for i in range(len(chunk)):
                out.append(
                    merge_candidates(texts[i * k : (i + 1) * k], scores[i * k : (i + 1) * k], k)
                )
        return out

    def _draw_each(self, states: Sequence[str], temperature: float) -> list[list[Candidate]]:
        """One independent draw per entry of ``states``; equal states share
        their prompt pass. Chunks hold at most ``max_rows`` draws (a state
        with more draws is split over chunks); states keep their order of
        first appearance, so distinct states decode exactly as one draw each
        through ``generate`` did."""
        groups: dict[str, list[int]] = {}
        for i, state in enumerate(states):
            groups.setdefault(state, []).append(i)
        chunks: list[list[tuple[str, list[int]]]] = [[]]
        rows = 0
        for state, idx in groups.items():
            for j in range(0, len(idx), self.max_rows):
                piece = idx[j : j + self.max_rows]
                if rows + len(piece) > self.max_rows:
                    chunks.append([])
                    rows = 0
                chunks[-1].append((state, piece))
                rows += len(piece)
        out: list[list[Candidate]] = [[] for _ in states]
        for chunk in chunks:
            if not chunk:
                continue
            prompts = self.prompts([s for s, _ in chunk])
            texts, scores = self._decode(prompts, [len(i) for _, i in chunk], temperature, True)
            order = [i for _, idx in chunk for i in idx]  # prompt-major, as decode's rows
            for i, text, score in zip(order, texts, scores, strict=True):
                out[i] = merge_candidates([text], [score], 1)
        return out

    def _decode(
        self, prompts: list[list[int]], k: int | list[int], temperature: float, sample: bool
    ) -> tuple[list[str | None], list[float]]:
        self.prompt_passes += len(prompts)
        d = decode_tactics(self.model, self.tokenizer, self.fmt, prompts, samples=k,
                           greedy=not sample, temperature=temperature, top_k=self.top_k,
                           generator=self.rng)  # fmt: skip
        texts = self._texts(d.tokens)
        return [t if ok else None for t, ok in zip(texts, d.finished, strict=True)], d.logprobs

    @torch.no_grad()
    def _beam(self, prompts: list[list[int]], k: int) -> tuple[list[str | None], list[float]]:
        """The ``k`` best tactics per prompt by beam search (width k, no length
        penalty, so a beam's score is its summed log-prob)."""
        eos, pad = eos_id(self.tokenizer), pad_id(self.tokenizer)
        width = max(len(p) for p in prompts)
        ids = torch.full((len(prompts), width), pad, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for i, p in enumerate(prompts):  # left padding, as generate() expects
            ids[i, width - len(p) :] = torch.tensor(p)
            mask[i, width - len(p) :] = 1
        device = model_device(self.model)
        out = self.model.generate(
            input_ids=ids.to(device),
            attention_mask=mask.to(device),
            num_beams=k,
            num_return_sequences=k,
            do_sample=False,
            length_penalty=0.0,
            # Not True: that stops once k beams have ended, even while a longer
            # but likelier one is still running. With no length penalty the
            # default rule (stop when no running beam can beat the k-th ended
            # one; log-probs only fall) is exact.
            early_stopping=False,
            max_new_tokens=self.fmt.max_tactic_tokens + 1,
            eos_token_id=eos,
            pad_token_id=pad,
            output_scores=True,
            return_dict_in_generate=True,
        )
        texts: list[str | None] = []
        for seq in out.sequences[:, width:].tolist():
            # an unfinished beam (cut at the length limit) is not a tactic
            texts.append(self._texts([seq[: seq.index(eos)]])[0] if eos in seq else None)
        return texts, out.sequences_scores.tolist()
