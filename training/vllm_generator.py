"""The tactic generator on vLLM (GPU machines; the ``[gpu]`` extra).

Same interface and prompt format as :class:`training.generator.ModelTacticGenerator`:
``k`` samples per state at ``temperature`` (or the ``k`` best by beam search
with ``sample=False``), each with its summed token log-prob, duplicates
merged. vLLM is imported when a generator is created, so importing this
module never needs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lean_env.errors import UserError
from search.generator import Candidate, check_generate_args

from .data import PromptFormat, encode_prompt
from .generator import merge_candidates, read_meta


def _import_vllm() -> Any:
    try:
        import vllm
    except ImportError as exc:
        raise UserError(
            "the vLLM generator needs vllm, which is not installed "
            f"({exc.msg}); install the GPU extra: pip install 'dco-prover[gpu]'"
        ) from None
    return vllm


class VLLMTacticGenerator:
    def __init__(
        self,
        path: str | Path,
        *,
        top_k: int | None = None,
        seed: int = 0,
        gpu_memory_utilization: float = 0.85,
        **engine_kwargs: Any,
    ) -> None:
        vllm = _import_vllm()
        self._vllm = vllm
        self.path = str(path)
        self.fmt = PromptFormat.from_dict(read_meta(path).get("prompt_format", {}))
        self.top_k = top_k
        self.seed = seed
        self.llm = vllm.LLM(
            model=self.path,
            seed=seed,
            gpu_memory_utilization=gpu_memory_utilization,
            **engine_kwargs,
        )
        self.tokenizer = self.llm.get_tokenizer()

    def _prompts(self, states: Sequence[str]) -> list[list[int]]:
        return [encode_prompt(self.tokenizer, s, self.fmt) for s in states]

    def _inputs(self, prompts: list[list[int]]) -> list[Any]:
        return [self._vllm.inputs.TokensPrompt(prompt_token_ids=p) for p in prompts]

    def generate(
        self, states: Sequence[str], k: int, *, temperature: float = 1.0, sample: bool = True
    ) -> list[list[Candidate]]:
        check_generate_args(k, temperature, sample)
        max_tokens = self.fmt.max_tactic_tokens + 1
        if not sample:
            params = self._vllm.sampling_params.BeamSearchParams(
                beam_width=k, max_tokens=max_tokens, length_penalty=0.0
            )
            prompts = self._prompts(states)
            outs = self.llm.beam_search(self._inputs(prompts), params)
            result = []
            for prompt, out in zip(prompts, outs, strict=True):
                texts, scores = [], []
                for seq in out.sequences:  # tokens = prompt + generated
                    new = seq.tokens[len(prompt) :]
                    texts.append(self.tokenizer.decode(new, skip_special_tokens=True).strip())
                    scores.append(seq.cum_logprob)
                result.append(merge_candidates(texts, scores, k))
            return result
        params = self._vllm.SamplingParams(
            n=k,
            temperature=temperature,
            top_k=self.top_k or -1,
            max_tokens=max_tokens,
            logprobs=0,  # the chosen token's log-prob (the raw model's: vLLM's default mode)
            seed=self.seed,
        )
        outs = self.llm.generate(self._inputs(self._prompts(states)), params, use_tqdm=False)
        result = []
        for out in outs:
            texts: list[str | None] = []
            scores: list[float] = []
            for c in out.outputs:
                finished = c.finish_reason == "stop"  # ended with EOS, not cut at max_tokens
                texts.append(c.text.strip() if finished else None)
                scores.append(c.cumulative_logprob if c.cumulative_logprob is not None else 0.0)
            result.append(merge_candidates(texts, scores, k))
        return result
