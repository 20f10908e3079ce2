"""Top-1 and recall@k of a policy; the train-side numbers of a trained model."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from training.data import normalize_tactic

from .policies import rankings

KS = (4, 16, 64)


def hits(ranked: Sequence[str], gold: str, k: int) -> bool:
    target = normalize_tactic(gold)
    return any(normalize_tactic(t) == target for t in ranked[:k])


def policy_row(policy: str, ctx: Any, steps: Sequence[Any]) -> dict[str, Any]:
    ranked = rankings(policy, ctx, steps, max(KS))
    n = max(len(steps), 1)
    row: dict[str, Any] = {
        "top1": sum(hits(r, s.tactic, 1) for r, s in zip(ranked, steps, strict=True)) / n
    }
    for k in KS:
        row[f"recall@{k}"] = (
            sum(hits(r, s.tactic, k) for r, s in zip(ranked, steps, strict=True)) / n
        )
    row["steps"] = len(steps)
    return row


def copy_ceiling(train: Sequence[Any], steps: Sequence[Any]) -> dict[str, Any]:
    """The share of ``steps`` whose tactic occurs (normalised) among the train
    split's tactics: the most any policy that only returns train tactics (the
    prior, the lookup table, the k-NN) can reach at any k. A policy above it
    writes tactics the train split does not hold."""
    seen = {normalize_tactic(s.tactic) for s in train}
    hit = sum(normalize_tactic(s.tactic) in seen for s in steps)
    return {"seen_in_train": hit / max(len(steps), 1), "steps": len(steps)}


@torch.no_grad()
def dco_row(model_dir: Path, steps: Sequence[Any]) -> dict[str, float]:
    """Greedy accuracy on ``steps`` (train) and the share with F(N', p) < 0.5,
    p being the model's probability of the human tactic."""
    from benchmarks.training_data import model_retriever
    from training.confidence import evaluate_steps, gold_logprobs
    from training.factor import factor
    from training.generator import ModelTacticGenerator, read_meta

    gen = ModelTacticGenerator.from_pretrained(model_dir, retriever=model_retriever(str(model_dir)))
    n_prime = float(read_meta(model_dir).get("n_prime") or 1)
    retrieved = [gen.retriever.for_step(s) for s in steps] if gen.retriever is not None else None
    scored = gold_logprobs(gen.model, gen.tokenizer, gen.fmt, steps, retrieved=retrieved)
    acc = evaluate_steps(gen.model, gen.tokenizer, gen.fmt, steps, retrieved=retrieved, gold=scored)
    logp = torch.tensor([x[0] for x in scored if x], dtype=torch.float64)
    below = int((factor(logp, n_prime) < 0.5).sum()) if len(logp) else 0
    return {"train_top1": acc["accuracy"], "share_F_below_0.5": below / max(len(logp), 1)}
