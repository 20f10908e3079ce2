"""benchmarks.perf.sampling_speed end to end on a tiny model trained here
(real coqtop): every configuration runs, the shared configurations make
fewer prompt passes, and the result file and the summary row are written.
The numbers of such a toy run mean nothing."""

from __future__ import annotations

import json

import pytest

from benchmarks.perf import sampling_speed
from benchmarks.perf.summary import render_text

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_sampling_speed_smoke(tmp_path) -> None:
    from helpers import make_bench, train_models

    bench, steps = make_bench(tmp_path / "bench")
    model = train_models(tmp_path, bench, steps, names=("ce",)) / "ce"
    rc = sampling_speed.main(
        [
            "--model",
            str(model),
            "--passes",
            "8",
            "--theorems",
            "1",
            "--repeats",
            "1",
            "--out",
            str(tmp_path / "perf"),
        ]
    )
    assert rc == 0
    payload = json.loads((tmp_path / "perf" / "sampling_speed.json").read_text())
    per = payload["results"]["passes"]["8"]
    for name, _, _ in sampling_speed.CONFIGS:
        (run,) = per[name]["runs"]
        assert run["draws"] >= 8 and run["samples_per_s"] > 0
    assert per["after"]["runs"][0]["prompt_passes"] < per["before"]["runs"][0]["prompt_passes"]
    assert per["before"]["runs"][0]["prompt_passes"] == per["before"]["runs"][0]["draws"]
    assert "pass@8 rollouts: model samples/s" in render_text({"sampling_speed": payload})
