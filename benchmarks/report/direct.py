"""The direct-answer study's section: Table 1, Figure 1, Figure 2a and
Table 3 analogues, means over the stored seeds (recomputed from each seed's
raw measurements with benchmarks.direct_answer's own tables and aggregate),
with the paper's numbers beside where it gives them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.direct_answer.aggregate import aggregate, check_alike
from benchmarks.direct_answer.tables import build_tables
from benchmarks.report import figures
from benchmarks.report.claims import DirectInput
from benchmarks.report.markdown import DASH, not_yet_run, pct, points, table
from benchmarks.report.paper import PAPER, TABLE1_CE
from benchmarks.report.sources import Result
from lean_env.errors import UserError

STUDY_COMMAND = "`python -m benchmarks.direct_answer.study --seed S`"


def direct_input(summary: Result | None, results: list[Result]) -> DirectInput:
    """The claims' input: summary.json and DCOa's N' (from the runs' config)."""
    if summary is None:
        return DirectInput()
    ns = {int(r.data["config"]["dcoa"]["n"]) for r in results}
    if len(ns) > 1:
        raise UserError(f"the stored runs trained DCOa with different N': {sorted(ns)}")
    return DirectInput(summary.data, ns.pop() if ns else None)


@dataclass(frozen=True)
class _Tables:
    seeds: list[int]
    tables: list[dict[str, Any]]


def _m(cell: dict[str, Any] | None) -> float | None:
    return None if cell is None else cell["mean"]


def _table1(agg: dict[str, Any]) -> str:
    ce = agg["table1"]["ce"]
    ks = [k.removeprefix("pass@") for k in ce[0] if k.startswith("pass@")]
    # Every 5th epoch and the last (every epoch is in summary.json and the figure).
    shown = [r for r in ce if r["epoch"] % 5 == 0 or r is ce[-1]]
    rows = [
        [
            str(r["epoch"]),
            *(pct(_m(r[f"pass@{k}"]), 2) for k in ks),
            pct(_m(r["train_greedy_accuracy"]), 1),
        ]
        for r in shown
    ]
    paper = [
        [
            "paper (MATH)",
            *(
                f"{pct(TABLE1_CE[k][0])} → {pct(TABLE1_CE[k][1])}" if k in TABLE1_CE else DASH
                for k in ks
            ),
            DASH,
        ]
    ]
    return table(
        ["CE epoch", *(f"pass@{k}" for k in ks), "train greedy accuracy"],
        rows + paper,
        right=range(len(ks) + 2),
    )


def _final_epoch(agg: dict[str, Any]) -> str:
    rows = []
    for label, rs in agg["table1"].items():
        first, last = rs[0], rs[-1]
        rows.append(
            [
                label,
                *(
                    f"{pct(_m(last[f'pass@{k}']), 2)} ({points(_m(last[f'pass@{k}']) - _m(first[f'pass@{k}']), 1)})"
                    for k in ("1", "16", "256", "4096")
                    if f"pass@{k}" in last
                ),
                pct(_m(last["train_greedy_accuracy"]), 1),
            ]
        )
    ks = [k for k in ("1", "16", "256", "4096") if f"pass@{k}" in agg["table1"]["ce"][0]]
    return table(
        ["objective", *(f"pass@{k} (vs epoch 0)" for k in ks), "train greedy accuracy"],
        rows,
        right=range(1, len(ks) + 2),
    )


def _confidence(d: _Tables) -> tuple[str, dict[str, tuple[list[int], list[int]]]]:
    labels = list(d.tables[0]["figure1"])
    rows, hists = [], {}
    for label in labels:
        per = [t["figure1"][label] for t in d.tables]

        def mean(key: str, i: int, per: list = per) -> float | None:
            xs = [rs[i][key] for rs in per if rs[i][key] is not None]
            return sum(xs) / len(xs) if xs else None

        n_right = sum(rs[-1]["n_correct"] for rs in per)
        n_wrong = sum(rs[-1]["n_wrong"] for rs in per)
        rows.append(
            [
                label,
                str(d.tables[0]["figure2a"]["training_n"][label]),
                pct(mean("mean_confidence", -1), 2),
                f"{pct(mean('mean_confidence_correct', -1), 1)} ({n_right})",
                f"{pct(mean('mean_confidence_wrong', -1), 2)} ({n_wrong})",
                f"{pct(mean('mean_confidence', 0), 2)} / {pct(mean('mean_confidence_wrong', 0), 2)}",
            ]
        )
        hists[label] = (
            [sum(rs[-1]["hist_wrong"][i] for rs in per) for i in range(10)],
            [sum(rs[-1]["hist_correct"][i] for rs in per) for i in range(10)],
        )
    headers = [
        "objective",
        "N",
        "mean confidence, last epoch",
        "on right answers (count, all seeds)",
        "on wrong answers (count, all seeds)",
        "epoch 0: all / wrong",
    ]
    return table(headers, rows, right=range(1, 6)), hists


def _frontier(agg: dict[str, Any]) -> str:
    rows_late = agg["figure2a"]["pass_at_n_late_mean"]
    labels = list(rows_late[0]["pass_at_n"])
    rows = []
    for r in rows_late:
        ce = _m(r["pass_at_n"]["ce"])
        cells = [pct(ce, 2)] + [points(_m(r["pass_at_n"][lb]) - ce) for lb in labels[1:]]
        rows.append([str(r["test_n"]), *cells, f"{r['best_training']} (N′={r['best_training_n']})"])
    return table(
        ["test N", "CE pass@N", *(f"{lb} − CE" for lb in labels[1:]), "best training"],
        rows,
        right=range(len(labels) + 1),
    )


def _cot(agg: dict[str, Any], d: _Tables) -> str:
    t3 = agg["table3"]
    labels = list(t3)
    ks = list(t3[labels[0]])
    rows = [[k, *(pct(_m(t3[lb][k]), 1) for lb in labels)] for k in ks]
    extra = []
    for key, name in (
        ("modal_answer_accuracy", "modal-answer accuracy"),
        ("mean_modal_confidence_wrong", "mean confidence, wrong modal answers"),
    ):
        vals = []
        for lb in labels:
            xs = [t["table3"][lb][key] for t in d.tables if t["table3"][lb][key] is not None]
            vals.append(pct(sum(xs) / len(xs), 1) if xs else DASH)
        extra.append([name, *vals])
    return table(
        ["k", *(f"{lb} pass@k" for lb in labels)], [*rows, *extra], right=range(1, len(labels) + 1)
    )


def section(results: list[Result], fig_dir: Path, base: Path) -> tuple[str, list[Path]]:
    lines = [
        "## Direct answers: a synthetic study of the paper's Table 1, Figures 1 and 2a, Table 3",
        "",
    ]
    if not results:
        lines += [
            not_yet_run(
                "No results under `results/direct_answer/<run>/results.json`.", STUDY_COMMAND
            ),
            "",
        ]
        return "\n".join(lines), []
    data = [r.data for r in results]
    check_alike(data)
    agg = aggregate(data)
    d = _Tables([x["seed"] for x in data], [build_tables(x) for x in data])
    c = data[0]["config"]
    rel = lambda p: p.relative_to(base).as_posix()  # noqa: E731
    figs = {
        name: fig_dir / f"direct_{name}.png"
        for name in ("table1", "confidence", "histograms", "frontier", "cot")
    }
    figures.direct_table1(agg["table1"], figs["table1"])
    figures.direct_confidence(agg["figure1"], figs["confidence"])
    conf_table, hists = _confidence(d)
    figures.direct_histograms(hists, figs["histograms"])
    figures.direct_frontier(agg["figure2a"]["pass_at_n_late_mean"], figs["frontier"])
    figures.passk_curves(
        [(lb, {k: v["mean"] for k, v in row.items()}) for lb, row in agg["table3"].items()],
        "Chain of thought: test pass@k after fine-tuning (mean over seeds)",
        figs["cot"],
    )
    m = c["model"]
    losses = [r["loss"] for part in ("direct", "cot") for r in data[0][part]["runs"].values()]
    eps = {loss["name"]: loss["epsilon"] for loss in losses}
    checks = "; ".join(
        f"{name} "
        + ", ".join(
            f"seed {x['seed']}: {100 * x['direct']['sampled_check'][name]['max_abs_difference']:.2f} pt"
            for x in data
        )
        for name in data[0]["direct"]["sampled_check"]
    )
    walls = ", ".join(f"seed {x['seed']}: {x['wall_seconds']['total'] / 60:.1f} min" for x in data)
    lines += [
        f"**Task.** {data[0]['task_design']}",
        "",
        f"**Setup.** Seeds {', '.join(map(str, d.seeds))}; a digit-writing MLP language model "
        f"({m['hidden']} hidden units, {m['embed']}-dim embeddings) trained from scratch (epoch 0 = "
        f"the untrained model) for {c['finetune']['epochs']} epochs on {c['task']['n_train']} training "
        f"problems, AdamW (rate {c['finetune']['lr']:g} after a {c['finetune']['warmup_steps']}-step "
        f"linear warm-up, weight decay {c['finetune']['weight_decay']:g}, batch {c['finetune']['batch']}), "
        f"with CE and with DCO for N′ ∈ {{{', '.join(map(str, c['dco_ns']))}}} (refill: candidates "
        f"with F < {eps['dco']:g} are replaced); {c['task']['n_test']} test problems. pass@k: "
        f"{data[0]['pass_at_k_method']['direct']}. Numbers are means over the seeds (per-seed values "
        f"in the Claims section). Wall time per seed (whole study, one torch thread, machine shared "
        f"and loaded): {walls}.",
        "",
        f"Cross-check of the exact pass@k against the unbiased estimator on real samples "
        f"({c['check_samples']} per problem, {c['check_problems']} test problems, final models): largest "
        f"difference over k ≤ {c['check_samples']}: {checks}.",
        "",
        "### Table 1 analogue: CE over the epochs",
        "",
        _table1(agg),
        "",
        f"Paper ({PAPER}, Table 1): CE's pass@1 rises {pct(TABLE1_CE['1'][0])} → "
        f"{pct(TABLE1_CE['1'][1])} over its epochs while pass@256 falls "
        f"{pct(TABLE1_CE['256'][0])} → {pct(TABLE1_CE['256'][1])}.",
        "",
        "Last epoch of every objective (change from the base model in points):",
        "",
        _final_epoch(agg),
        "",
        f"![Table 1 analogue]({rel(figs['table1'])})",
        "",
        "### Figure 1 analogue: the greedy answer's confidence, right vs wrong",
        "",
        conf_table,
        "",
        f"![confidence over epochs]({rel(figs['confidence'])})",
        "",
        f"![confidence histograms]({rel(figs['histograms'])})",
        "",
        "### Figure 2a analogue: pass@N per training N′ (mean over the last quarter of the epochs)",
        "",
        _frontier(agg),
        "",
        f"![frontier]({rel(figs['frontier'])})",
        "",
        f"### Table 3 analogue: chain of thought, DCOa vs CE ({c['cot_finetune']['epochs']} epochs on "
        f"{c['cot_train']} training problems, {c['cot_test']} test problems, {c['cot_eval_samples']} "
        "samples each)",
        "",
        f"pass@k: {data[0]['pass_at_k_method']['cot']}. DCOa estimates p̂ from "
        f"{c['dcoa']['samples']} sampled completions per problem, verified, and weights CE by "
        f"F(N′={c['dcoa']['n']:g}, p̂), dropping examples with F < {eps['dcoa']:g}; the paper "
        "gives no Table 3 numbers in this project's notes, so none are quoted.",
        "",
        _cot(agg, d),
        "",
        f"![chain of thought]({rel(figs['cot'])})",
        "",
    ]
    return "\n".join(lines), list(figs.values())
