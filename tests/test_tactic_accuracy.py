"""The next-tactic accuracy benchmark on the tiny benchmark: the schema of
val.json and hand-checked top-1 / recall numbers of the table policies."""

from __future__ import annotations

import json
from pathlib import Path

from test_training_data import make_benchmark

from benchmarks.tactic_accuracy.__main__ import main
from benchmarks.tactic_accuracy.measure import hits

KEYS = {"top1", "recall@4", "recall@16", "recall@64", "steps"}


def test_hits_normalise_whitespace_and_the_final_period() -> None:
    assert hits(["auto", "intros  n."], "intros n", 2)
    assert not hits(["auto", "intros  n."], "intros n", 1)


def test_val_json_schema_and_values(tmp_path: Path) -> None:
    bench = make_benchmark(tmp_path / "tiny")
    out = tmp_path / "val.json"
    assert main(["--benchmark", str(bench), "--policies", "prior,lookup,knn", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert set(data) == {"prior", "lookup", "knn"}
    for row in data.values():
        assert set(row) == KEYS and row["steps"] == 5  # and_swap's five tactic steps
        assert 0 <= row["top1"] <= row["recall@4"] <= row["recall@16"] <= row["recall@64"] <= 1
    # The train split's tactics are intros n / intros A l / reflexivity x3 / rewrite IH x2 /
    # ...; none of and_swap's five (intros P Q H, destruct, split, assumption x2) is among them.
    assert data["prior"]["recall@64"] == 0.0
    data["dco"] = {"ce": {"train_top1": 1.0, "share_F_below_0.5": 0.0}}
    out.write_text(json.dumps(data))
    assert main(["--benchmark", str(bench), "--policies", "prior", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["dco"] == data["dco"]  # other rows are kept
