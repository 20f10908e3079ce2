"""Prompt format, tokenizer, units and batches of the training package, on
the tiny benchmark of tests/helpers.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from helpers import PROOFS, make_benchmark

from benchmarks.loader import load_benchmark
from lean_env.errors import UserError
from training.data import (
    IGNORE,
    SEPARATOR,
    PromptFormat,
    build_units,
    collate,
    corpus_texts,
    encode_prompt,
    encode_tactic,
    normalize_tactic,
    pad_id,
)
from training.model import ModelConfig, build_model
from training.scoring import row_logprobs, unit_sums
from training.tokenizer import train_tokenizer


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_benchmark(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def tokenizer(bench: Path):
    return train_tokenizer(corpus_texts(load_benchmark(str(bench)).steps("train")), 512)


def test_benchmark_round_trips(bench: Path) -> None:
    b = load_benchmark(str(bench))
    assert len(list(b.steps("train"))) == 15 and len(list(b.steps("val"))) == 5
    assert b.theorems("val")[0].theorem.short_name == "and_swap"


def test_tokenizer_is_byte_level_and_separator_is_one_token(tokenizer) -> None:
    text = "forall x : ℕ, x ≤ x ∧ ⊤  (* odd\twhitespace *)"
    ids = tokenizer.encode(text, add_special_tokens=False)
    assert tokenizer.decode(ids) == text  # no unknown tokens, exact round trip
    assert tokenizer.encode(SEPARATOR, add_special_tokens=False) == [
        tokenizer.convert_tokens_to_ids(SEPARATOR)
    ]
    assert tokenizer.eos_token_id is not None and tokenizer.pad_token_id != tokenizer.eos_token_id


def test_prompt_keeps_the_goal_and_ends_with_the_separator(tokenizer) -> None:
    """A state too long for its budget loses hypotheses, not its goal."""
    state = PROOFS["add_zero_r"][1][5][0]
    goal_only = "1 goal\n  ============================\n  S n + 0 = S n"
    budget = len(tokenizer.encode(goal_only, add_special_tokens=False)) + 1  # + the separator
    full = tokenizer.encode(state, add_special_tokens=False)
    ids = encode_prompt(tokenizer, state, PromptFormat(max_prompt_tokens=budget))
    sep = tokenizer.convert_tokens_to_ids(SEPARATOR)
    assert len(full) + 1 > budget >= len(ids) and ids[-1] == sep
    text = tokenizer.decode(ids[:-1])
    assert text.startswith("1 goal") and text.endswith("S n + 0 = S n") and "IH :" not in text


def test_tactic_target_ends_with_eos_and_long_tactics_are_skipped(tokenizer) -> None:
    fmt = PromptFormat(max_tactic_tokens=4)
    target = encode_tactic(tokenizer, "lia", fmt)
    assert target is not None and target[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(target[:-1]) == "lia"
    assert encode_tactic(tokenizer, "induction l as [| x l IH]; simpl", fmt) is None


def test_units_group_proofs_in_step_order(bench: Path, tokenizer) -> None:
    steps = list(load_benchmark(str(bench)).steps("train"))
    fmt = PromptFormat()
    per_step = build_units(steps, tokenizer, fmt)
    per_proof = build_units(reversed(steps), tokenizer, fmt, by_proof=True)
    assert len(per_step.units) == 15 and len(per_proof.units) == 3
    add = next(u for u in per_proof.units if u.tactics[0] == "intros n" and len(u.rows) == 8)
    assert add.tactics == tuple(t for _, t in PROOFS["add_zero_r"][1])
    short = build_units(steps, tokenizer, PromptFormat(max_tactic_tokens=3))
    assert short.skipped_steps > 0 and len(short.units) == 15 - short.skipped_steps


def test_normalize_tactic() -> None:
    assert normalize_tactic("  rewrite   IH .") == "rewrite IH"
    assert normalize_tactic("induction n\n as [| n IH]") == "induction n as [| n IH]"


def test_batch_scores_only_targets_and_padding_changes_nothing(bench: Path, tokenizer) -> None:
    """The log-prob of a row in a padded batch equals that of the same
    sequence alone, computed by hand from the model's full logits."""
    steps = list(load_benchmark(str(bench)).steps("train"))
    units = build_units(steps, tokenizer, PromptFormat()).units
    model = build_model(ModelConfig(hidden=32, layers=2, heads=2, mlp=64), tokenizer, 512, 0).eval()
    batch = collate(units, pad_id(tokenizer))
    # Prompts are left-padded to one column, targets follow it.
    width_p = max(len(u.rows[0].prompt) for u in units)
    for i, u in enumerate(units):
        row = u.rows[0]
        assert batch.input_ids[i, width_p - len(row.prompt) : width_p].tolist() == list(row.prompt)
        scored = batch.labels[i][batch.labels[i] != IGNORE].tolist()
        assert scored == list(row.target)
    with torch.no_grad():
        got, ntok = row_logprobs(model, batch)
        for i, u in enumerate(units):
            row = u.rows[0]
            ids = torch.tensor([list(row.prompt) + list(row.target)])
            logp = torch.log_softmax(model(input_ids=ids).logits[0].float(), dim=-1)
            start = len(row.prompt)
            want = sum(float(logp[start - 1 + j, t]) for j, t in enumerate(row.target))
            assert got[i].item() == pytest.approx(want, abs=1e-4)
            assert int(ntok[i]) == len(row.target)
    proofs = build_units(steps, tokenizer, PromptFormat(), by_proof=True).units
    pb = collate(proofs, pad_id(tokenizer))
    with torch.no_grad():
        per_row, _ = row_logprobs(model, pb)
        per_proof = unit_sums(per_row, pb)
    assert per_proof.shape == (3,)
    assert float(per_proof.sum()) == pytest.approx(float(got.sum()), abs=1e-3)


def test_bad_prompt_format_is_a_user_error() -> None:
    with pytest.raises(UserError):
        PromptFormat(max_tactic_tokens=0)
