"""The next-tactic accuracy benchmark on the tiny benchmark: the schema of
val.json and hand-checked top-1 / recall numbers of the table policies."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import make_benchmark

from benchmarks.tactic_accuracy.__main__ import main
from benchmarks.tactic_accuracy.measure import hits

KEYS = {"top1", "recall@4", "recall@16", "recall@64", "steps"}


def test_hits_normalise_whitespace_and_the_final_period() -> None:
    assert hits(["auto", "intros  n."], "intros n", 2)
    assert not hits(["auto", "intros  n."], "intros n", 1)


def test_val_json_schema_and_values(tmp_path: Path) -> None:
    bench = make_benchmark(tmp_path / "tiny")
    out = tmp_path / "val.json"
    assert (
        main(["--benchmark", str(bench), "--policies", "prior,lookup,knn", "--out", str(out)]) == 0
    )
    data = json.loads(out.read_text())
    ceiling = data.pop("ceiling")
    assert set(data) == {"prior", "lookup", "knn"}
    for row in data.values():
        assert set(row) == KEYS and row["steps"] == 5  # and_swap's five tactic steps
        assert 0 <= row["top1"] <= row["recall@4"] <= row["recall@16"] <= row["recall@64"] <= 1
        assert row["recall@64"] <= ceiling["seen_in_train"]  # they only copy train tactics
    # The train split's tactics are intros n / intros A l / reflexivity x3 / rewrite IH x2 /
    # ...; none of and_swap's five (intros P Q H, destruct, split, assumption x2) is among them.
    assert data["prior"]["recall@64"] == 0.0
    assert ceiling == {"seen_in_train": 0.0, "steps": 5}
    data["ceiling"] = ceiling
    data["dco"] = {"ce": {"train_top1": 1.0, "share_F_below_0.5": 0.0}}
    out.write_text(json.dumps(data))
    assert main(["--benchmark", str(bench), "--policies", "prior", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["dco"] == data["dco"]  # other rows are kept


def test_lm_policies_and_dco_rows_with_a_tiny_model(tmp_path: Path) -> None:
    """A tiny model trained with retrieval (real training) as ``lm+retrieval``
    and as the ``ce`` member: the rows have the schema and the numbers of a
    model that memorised its train steps."""
    from benchmarks.training_data import train_on_benchmark
    from training.data import PromptFormat
    from training.model import ModelConfig
    from training.trainer import TrainConfig

    bench = make_benchmark(tmp_path / "tiny")
    models = tmp_path / "models"
    fmt = PromptFormat(max_prompt_tokens=96, max_tactic_tokens=16, retrieval_tokens=32)
    train_on_benchmark(
        TrainConfig(
            benchmark=str(bench),
            out=str(models / "ce"),
            prompt=fmt,
            batch_size=8,
            lr=3e-3,
            max_steps=80,
            warmup_steps=10,
            schedule="constant",
            progress=False,
            eval_limit=0,
            model=ModelConfig(hidden=64, layers=2, heads=2, mlp=128, vocab_size=512),
        )
    )
    out = tmp_path / "val.json"
    argv = [
        "--benchmark",
        str(bench),
        "--policies",
        "knn,lm+retrieval",
        "--out",
        str(out),
        "--lm-retrieval",
        str(models / "ce"),
        "--models",
        str(models),
        "--beam",
        "4",
    ]
    assert main(argv) == 0
    data = json.loads(out.read_text())
    assert set(data["lm+retrieval"]) == KEYS and data["lm+retrieval"]["steps"] == 5
    # its list ends with the rest of the k-NN list, so it recalls at least as much at 64
    assert data["lm+retrieval"]["recall@64"] >= data["knn"]["recall@64"]
    assert data["dco"]["ce"]["train_top1"] == 1.0
    assert data["dco"]["ce"]["share_F_below_0.5"] == 0.0  # CE: F = 1 everywhere
