"""The speed benchmarks' section, from results/perf/*.json
(``python -m benchmarks.perf``), with their goals (see
:mod:`benchmarks.perf.summary`)."""

from __future__ import annotations

from benchmarks.perf.summary import summary_rows
from benchmarks.report.markdown import command, not_yet_run, table
from benchmarks.report.sources import Result


def section(perf: dict[str, Result]) -> str:
    lines = ["## Speed benchmarks", ""]
    if not perf:
        lines += [
            not_yet_run("No results under `results/perf/`.", "`python -m benchmarks.perf`"),
            "",
        ]
        return "\n".join(lines)
    rows = summary_rows({name: r.data for name, r in perf.items()})
    lines += [
        "Medians (and ratios measured side by side in one run) on a shared machine: the load "
        "average at each benchmark's start and end is listed below.",
        "",
        table(
            ["area", "measure", "value", "goal", "verdict"],
            [[r.area, r.metric, r.value, r.goal, r.verdict] for r in rows],
        ),
        "",
    ]
    rows = []
    for name, r in perf.items():
        d, m = r.data, r.data["machine"]
        rows.append(
            [
                name,
                d["started"],
                f"{d['seconds']:.0f} s",
                " / ".join(map(str, m.get("load_average_start", []))),
                " / ".join(map(str, m.get("load_average_end", []))),
                "quick (smoke)" if d["config"].get("quick") else "full",
            ]
        )
    first = next(iter(perf.values())).data
    lines += [
        table(
            [
                "benchmark",
                "started (UTC)",
                "took",
                "load avg at start (1/5/15 min)",
                "at end",
                "mode",
            ],
            rows,
        ),
        "",
        f"Command: {command(first['command'])}.",
        "",
    ]
    return "\n".join(lines)
