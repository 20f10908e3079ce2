"""The trainer end to end on the tiny Coq benchmark with a real (tiny) model:
outputs, exact resume, checkpoint errors, the refill on a confident model,
the generator and the confidence probes (greedy rollouts in real coqtop)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from helpers import FMT, PROOFS, TINY, make_benchmark, train_config

from benchmarks.training_data import load_train_data
from benchmarks.training_data import train_on_benchmark as train
from lean_env.errors import UserError
from prover.cli import main
from search.generator import TacticGenerator
from training.confidence import evaluate_steps
from training.data import (
    Row,
    Unit,
    build_units,
    collate,
    encode_prompt,
    encode_tactic,
    normalize_tactic,
    pad_id,
)
from training.factor import factor
from training.generator import ModelTacticGenerator, read_meta
from training.losses import LossConfig
from training.model import load_pretrained
from training.scoring import row_logprobs
from training.trainer import Trainer

TIMING = ("tokens_per_s", "seconds", "probe_seconds")


def rows(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_benchmark(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def trained(bench: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CE model that has memorised the 13 training steps (bullets are not targets)."""
    out = tmp_path_factory.mktemp("ce")
    train(train_config(bench, out, max_steps=100, eval_every=50))
    return out


def train_steps(bench: Path) -> list[Any]:
    """The training targets: the train steps less bullets and braces."""
    return load_train_data(str(bench)).train


def test_outputs_of_a_run(trained: Path) -> None:
    for name in ("config.json", "model.safetensors", "tokenizer.json", "training_meta.json"):
        assert (trained / name).is_file(), name
    meta = read_meta(trained)
    assert (meta["loss"], meta["n"], meta["n_prime"], meta["epsilon"]) == ("ce", 1, 1, 0.0)
    assert meta["steps"] == 100 and meta["unit"] == "step"
    assert meta["prompt_format"] == FMT.to_dict() and meta["model_config"] == TINY.to_dict()
    log = rows(trained)
    steps = [r for r in log if "loss" in r]
    assert [r["step"] for r in steps] == list(range(1, 101))
    for key in ("loss", "nll", "mean_factor", "discards", "tokens_per_s", "lr"):
        assert all(key in r for r in steps), key
    assert steps[0]["lr"] < steps[8]["lr"] < steps[9]["lr"] == steps[-1]["lr"] == 3e-3  # warm-up
    assert steps[-1]["loss"] < steps[0]["loss"] / 10
    assert all(r["mean_factor"] == 1.0 and r["discards"] == 0 for r in steps)
    evals = [r for r in log if "eval" in r]
    assert [r["step"] for r in evals] == [50, 100]
    assert evals[-1]["eval"]["steps"] == 5  # the val split
    assert meta["final_eval"] == evals[-1]["eval"]


def test_the_model_learned_the_training_tactics(trained: Path, bench: Path) -> None:
    model, tokenizer = load_pretrained(trained)
    result = evaluate_steps(model, tokenizer, FMT, train_steps(bench))
    assert result["accuracy"] == 1.0
    assert result["max_confidence"]["mean"] > 0.8
    # The gold tactics' NLL: small once learned, and consistent per token.
    assert 0 < result["nll_per_token"] <= result["nll"] < 1.0


def test_generator_samples_scores_and_merges(trained: Path, bench: Path) -> None:
    gen = ModelTacticGenerator.from_pretrained(trained, seed=1)
    assert isinstance(gen, TacticGenerator)
    assert gen.fmt == FMT  # read from training_meta.json
    steps = train_steps(bench)
    states = [s.state for s in steps]
    sampled = gen.generate(states, 16, temperature=1.5)
    for step, cands in zip(steps, sampled, strict=True):
        texts = [c.tactic for c in cands]
        assert 1 <= len(cands) <= 16 and len(set(texts)) == len(texts)  # merged
        assert [c.logprob for c in cands] == sorted((c.logprob for c in cands), reverse=True)
        assert normalize_tactic(cands[0].tactic) == normalize_tactic(step.tactic)
    # A candidate's log-prob is the model's own score of the sampled tokens:
    # for the human tactic (the tokenization it was trained on) that is the
    # score of the (state, tactic) pair. (A rarer sample may be a token
    # sequence other than the canonical encoding of its text.)
    pairs = [
        (s.state, c.tactic)
        for s, cs in zip(steps, sampled, strict=True)
        for c in cs
        if c.tactic == s.tactic
    ]
    assert len(pairs) == len(steps)
    units = [
        Unit(
            i,
            (
                Row(
                    tuple(encode_prompt(gen.tokenizer, s, FMT)),
                    tuple(encode_tactic(gen.tokenizer, t, FMT) or ()),
                ),
            ),
            (s,),
            (t,),
        )
        for i, (s, t) in enumerate(pairs)
    ]
    with torch.no_grad():
        scores, _ = row_logprobs(gen.model, collate(units, pad_id(gen.tokenizer)))
    got = [
        c.logprob for s, cs in zip(steps, sampled, strict=True) for c in cs if c.tactic == s.tactic
    ]
    assert torch.allclose(scores.double(), torch.tensor(got, dtype=torch.float64), atol=1e-4)
    # top-k = 1 sampling is greedy; beam search's best is the greedy tactic too
    greedy = gen.generate(states, 1, sample=False)
    assert [g[0].tactic for g in greedy] == [s.tactic for s in steps]
    gen.top_k = 1
    assert [c[0].tactic for c in gen.generate(states, 4)] == [s.tactic for s in steps]
    gen.top_k = None
    beams = gen.generate(states[:3], 3, sample=False)
    for b, g in zip(beams, greedy[:3], strict=True):
        assert b[0].tactic == g[0].tactic and b[0].logprob == pytest.approx(g[0].logprob, abs=1e-4)
        assert len({c.tactic for c in b}) == len(b) <= 3
    # batching does not change the result: one state at a time gives the same
    alone = [gen.generate([s], 1, sample=False)[0][0] for s in states[:4]]
    assert [a.tactic for a in alone] == [g[0].tactic for g in greedy[:4]]
    for a, g in zip(alone, greedy[:4], strict=True):
        assert a.logprob == pytest.approx(g[0].logprob, abs=1e-4)
    with pytest.raises(ValueError):
        gen.generate(states, 2, temperature=0.0)


def test_confidence_command_steps_and_greedy_proofs(
    trained: Path, bench: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    metrics = trained / "confidence.jsonl"
    argv = ["confidence", "--model", str(trained), "--benchmark", str(bench), "--split", "train"]
    assert main([*argv, "--metrics", str(metrics)]) == 0
    out = capsys.readouterr().out
    assert "next-tactic accuracy (greedy == human): 1.000" in out
    assert "max confidence: mean" in out
    # Greedy rollouts in real coqtop: the memorised proofs go through.
    assert main([*argv, "--unit", "proof", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["outcomes"] == {"finished": 3}
    assert result["max_confidence"]["n"] == 3 and result["max_confidence"]["mean"] > 0.3
    assert json.loads(metrics.read_text())["accuracy"] == 1.0
    assert main(["confidence", "--model", str(bench), "--benchmark", str(bench)]) == 2
    assert "not a model directory" in capsys.readouterr().err


def test_refill_discards_what_a_confident_model_knows(
    trained: Path, bench: Path, tmp_path: Path
) -> None:
    """Fine-tuning the memorised model (as --base-model) with DCOstep N=4: the
    examples it is surest of have F < epsilon and are replaced from the stream;
    when all are below epsilon the run stops and says why."""
    model, tokenizer = load_pretrained(trained)
    units = build_units(train_steps(bench), tokenizer, FMT).units
    with torch.no_grad():
        logp, _ = row_logprobs(model, collate(units, pad_id(tokenizer)))
    f = factor(logp, 4)
    assert float(f.max()) < 0.5  # confident: F(4, p) is small for large p
    eps = float(f.median())  # about half of the units fall below
    out = tmp_path / "half"
    kw = {"base_model": str(trained), "max_steps": 2, "batch_size": 4, "eval_limit": 0}
    train(train_config(bench, out, loss=LossConfig("dcostep", n=4, epsilon=eps), **kw))
    meta = read_meta(out)
    log = [r for r in rows(out) if "loss" in r]
    assert meta["stopped_early"] is None and len(log) == 2
    assert sum(r["discards"] for r in log) > 0
    assert all(r["probed"] == r["discards"] + 4 for r in log)  # full batches
    assert all(r["mean_factor"] >= eps for r in log)
    assert (meta["base_model"], meta["n_prime"], meta["epsilon"]) == (str(trained), 4, eps)
    out = tmp_path / "all"
    train(
        train_config(bench, out, loss=LossConfig("dcostep", n=4, epsilon=float(f.max()) * 2), **kw)
    )
    meta = read_meta(out)
    assert meta["steps"] == 0 and "confident on all" in meta["stopped_early"]


def test_resume_is_exact(bench: Path, tmp_path: Path) -> None:
    """Crash after step 4, resume from the step-3 checkpoint: same weights,
    same metrics, same RNG state as an uninterrupted run. DCOa samples with
    the global RNG and reads the data stream through the refill."""
    loss = LossConfig("dcoa", n=4, samples=2)
    whole = tmp_path / "whole"
    kw = {"loss": loss, "max_steps": 6, "checkpoint_every": 3, "batch_size": 4, "eval_limit": 0}
    train(train_config(bench, whole, **kw))
    rng_whole = torch.get_rng_state()

    class Crash(Exception):
        pass

    def crash(row: dict[str, Any]) -> None:
        if row.get("step") == 4:
            raise Crash

    split = tmp_path / "split"

    with pytest.raises(Crash):
        Trainer(train_config(bench, split, **kw), load_train_data(str(bench)), on_log=crash).train()
    assert [p.name for p in (split / "checkpoints").iterdir()] == ["step-0000003"]
    torch.manual_seed(12345)  # a resumed process starts with some other RNG state
    train(train_config(bench, split, resume=True, **kw))
    assert torch.equal(torch.get_rng_state(), rng_whole)
    a, _ = load_pretrained(whole)
    b, _ = load_pretrained(split)
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert torch.equal(x, y), name
    strip = [
        [{k: v for k, v in r.items() if k not in TIMING} for r in rows(d)] for d in (whole, split)
    ]
    assert strip[0] == strip[1] and len(strip[0]) == 6


def test_checkpoint_errors(bench: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    kw = {"max_steps": 2, "checkpoint_every": 1, "eval_limit": 0}
    train(train_config(bench, out, **kw))
    with pytest.raises(UserError, match="already has checkpoints"):
        train(train_config(bench, out, **kw))
    with pytest.raises(UserError, match=r"does not match this run: loss"):
        train(train_config(bench, out, resume=True, loss=LossConfig("dcostep", n=8), **kw))
    with pytest.raises(UserError, match="does not match this run: batch_size"):
        train(train_config(bench, out, resume=True, **{**kw, "max_steps": 2}, batch_size=4))
    latest = sorted((out / "checkpoints").iterdir())[-1]
    weights = latest / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(UserError, match="corrupt") as err:
        train(train_config(bench, out, resume=True, **kw))
    assert "\n" not in str(err.value)
    (latest / "trainer_state.json").write_text("{not json")
    with pytest.raises(UserError, match="corrupt"):
        train(train_config(bench, out, resume=True, **kw))


def test_whole_proof_dco_and_dcoa_run(bench: Path, tmp_path: Path) -> None:
    out = tmp_path / "dco"
    train(
        train_config(
            bench, out, loss=LossConfig("dco", n=8), max_steps=2, batch_size=2, eval_limit=0
        )
    )
    meta = read_meta(out)
    assert meta["unit"] == "proof" and meta["train_units"] == len(
        [p for p in PROOFS.values() if p[0] == "train"]
    )
    assert meta["n_prime"] is None and meta["n"] == 8 and meta["epsilon"] == 1e-3
    assert all(0 < r["mean_factor"] <= 1 for r in rows(out) if "loss" in r)


def test_train_command(bench: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli"
    argv = [
        "train",
        "--benchmark",
        str(bench),
        "--out",
        str(out),
        "--loss",
        "dcostep",
        "--n",
        "8",
        "--max-steps",
        "2",
        "--hidden",
        "32",
        "--layers",
        "1",
        "--heads",
        "2",
        "--mlp",
        "64",
        "--vocab-size",
        "300",
        "--batch-size",
        "4",
        "--eval-limit",
        "2",
        "--no-progress",
    ]
    assert main(argv) == 0
    assert f"model written to {out}" in capsys.readouterr().out
    meta = read_meta(out)
    assert (meta["loss"], meta["n_prime"], meta["steps"]) == ("dcostep", 8, 2)
    assert meta["final_eval"]["steps"] == 2
    for bad, message in (
        (["--n", "0.5"], "--n must be a number >= 1"),
        (["--base-model", str(tmp_path / "nope")], "does not exist"),
        (["--epsilon", "2"], "--epsilon must be in [0, 1)"),
        (["--heads", "3"], "multiple of heads"),
        (["--vocab-size", "10"], "--vocab-size must be at least"),
        (["--eval-every", "-1"], "argument --eval-every: expected an integer in [0,"),
    ):
        assert main([*argv[:4], str(tmp_path / "bad"), *bad]) == 2
        err = capsys.readouterr().err.strip()
        assert message in err and len(err.splitlines()) == 1, err
