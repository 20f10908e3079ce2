"""The next-tactic accuracy section: ``tactic_accuracy/val.json`` written by
``python -m benchmarks.tactic_accuracy``."""

from __future__ import annotations

from pathlib import Path

from benchmarks.report.markdown import not_yet_run, pct, table
from benchmarks.report.sources import read_json

FILE = Path("tactic_accuracy") / "val.json"
METRICS = ("top1", "recall@4", "recall@16", "recall@64")


def section(results_dir: Path) -> str:
    lines = ["## Next-tactic accuracy (val split, bullets and braces left out)", ""]
    path = results_dir / FILE
    if not path.is_file():
        return "\n".join(
            lines
            + [
                not_yet_run(
                    "The next-tactic accuracy of each policy.",
                    "`python -m benchmarks.tactic_accuracy`",
                ),
                "",
            ]
        )
    data = read_json(path)
    policies = [
        (k, v) for k, v in data.items() if k not in ("dco", "ceiling") and isinstance(v, dict)
    ]
    lines += [
        "Exact match after whitespace normalisation; `python -m benchmarks.tactic_accuracy`.",
        "",
        table(
            ["policy", *METRICS, "val steps"],
            [[k, *(pct(v.get(m)) for m in METRICS), str(v.get("steps", ""))] for k, v in policies],
            right=range(1, 6),
        ),
        "",
    ]
    ceiling = data.get("ceiling") or {}
    if "seen_in_train" in ceiling:
        lines += [
            f"{pct(ceiling['seen_in_train'])} of these val tactics occur in the train split: "
            "no policy that only copies train tactics (prior, lookup, k-NN) can pass that at any k.",
            "",
        ]
    dco = data.get("dco") or {}
    if dco:
        lines += [
            "Trained members: greedy accuracy on train steps and the share of train steps whose "
            "factor F(N', p) is below 0.5 (DCO acting).",
            "",
            table(
                ["model", "train top-1", "share F < 0.5"],
                [
                    [k, pct(v.get("train_top1")), pct(v.get("share_F_below_0.5"))]
                    for k, v in dco.items()
                ],
                right=(1, 2),
            ),
            "",
        ]
    return "\n".join(lines)
