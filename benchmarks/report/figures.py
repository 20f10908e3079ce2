"""The report's PNG figures (matplotlib, Agg). Deterministic: no timestamp or
version in the files, fixed sizes and orders, so that the same results give
the same bytes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from search.fsutil import atomic_path

DPI = 110


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no display on servers
    import matplotlib.pyplot as plt

    return plt


def save(fig: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=DPI, metadata={"Software": None})
    _plt().close(fig)


def _log2_axis(ax: Any, xlabel: str) -> None:
    ax.set_xscale("log", base=2)
    ax.set_xlabel(xlabel)
    ax.grid(True, alpha=0.3)


def passk_curves(curves: Sequence[tuple[str, dict[str, float]]], title: str, path: Path) -> None:
    """One curve per prover; a prover with a single k (best-first search is
    one attempt) is a horizontal line at its proved share, so it stands
    beside the curves as the floor they are measured against."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9.0, 4.6))
    colors = plt.get_cmap("tab20").colors
    for i, (label, curve) in enumerate(curves):
        ks = sorted(int(k) for k in curve)
        if not ks:
            continue
        color = colors[i % len(colors)]
        if len(ks) == 1:
            ax.axhline(curve[str(ks[0])], color=color, linestyle=":", linewidth=1.5, label=label)
            continue
        style = "--" if "ensemble(" in label else "-"
        ax.plot(
            ks,
            [curve[str(k)] for k in ks],
            style,
            color=color,
            marker="o",
            markersize=3,
            label=label,
        )
    _log2_axis(ax, "k (passes; an ensemble: over all its models)")
    ax.set_ylabel("pass@k")
    ax.set_ylim(bottom=0)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    save(fig, path)


def _mean(table: dict[str, Any]) -> float:
    return table["mean"]


def direct_table1(table1: dict[str, list[dict[str, Any]]], path: Path) -> None:
    """CE's pass@k over the epochs (Table 1), DCO at the largest N dashed."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.8))
    contrast = [lb for lb in table1 if lb != "ce"][-1:]
    for label in ["ce", *contrast]:
        rows = table1[label]
        epochs = [r["epoch"] for r in rows]
        style = "-" if label == "ce" else "--"
        axes[0].plot(
            epochs, [_mean(r["pass@1"]) for r in rows], style, marker="o", markersize=3, label=label
        )
        for k in ("256", "4096"):
            if f"pass@{k}" in rows[0]:
                axes[1].plot(
                    epochs,
                    [_mean(r[f"pass@{k}"]) for r in rows],
                    style,
                    marker="o",
                    markersize=3,
                    label=f"{label} pass@{k}",
                )
    axes[0].set_title("pass@1", fontsize=10)
    axes[1].set_title("pass@N, large N", fontsize=10)
    fig.suptitle(
        "Direct answers: test pass@k over fine-tuning epochs (mean over seeds)", fontsize=10
    )
    _save_over_epochs(fig, axes, path)


def _save_over_epochs(fig: Any, axes: Sequence[Any], path: Path) -> None:
    """Finish and save a figure whose panels run over fine-tuning epochs."""
    for ax in axes:
        ax.set_xlabel("epoch (0 = base model)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    save(fig, path)


def direct_confidence(figure1: dict[str, list[dict[str, Any]]], path: Path) -> None:
    """Mean greedy confidence on right and on wrong answers over the epochs (Figure 1)."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.8), sharex=True)
    for label, rows in figure1.items():
        epochs = [r["epoch"] for r in rows]
        for ax, kind in zip(axes, ("wrong", "correct"), strict=True):
            ys = [_mean(r[f"mean_confidence_{kind}"]) for r in rows]
            ax.plot(epochs, ys, marker="o", markersize=3, label=label)
    axes[0].set_title("mean max-confidence, wrong answers", fontsize=10)
    axes[1].set_title("mean max-confidence, right answers", fontsize=10)
    _save_over_epochs(fig, axes, path)


def direct_histograms(hists: dict[str, tuple[list[int], list[int]]], path: Path) -> None:
    """Final-epoch histograms of the greedy answer's confidence, right answers
    stacked on wrong ones, one panel per objective (summed over seeds)."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(hists), figsize=(2.3 * len(hists), 3.0), sharey=True)
    axes = axes if len(hists) > 1 else [axes]
    centers = [0.05 + 0.1 * i for i in range(10)]
    for ax, (label, (wrong, right)) in zip(axes, hists.items(), strict=True):
        ax.bar(centers, wrong, width=0.09, color="tab:red", label="wrong")
        ax.bar(centers, right, width=0.09, bottom=wrong, color="tab:green", label="right")
        ax.set_yscale("symlog", linthresh=1)
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("max confidence")
    axes[0].set_ylabel("test problems")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    save(fig, path)


def direct_frontier(rows: list[dict[str, Any]], path: Path) -> None:
    """pass@N at test N per training N' (Figure 2a): absolute, and relative to CE."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.8))
    labels = list(rows[0]["pass_at_n"])
    ns = [r["test_n"] for r in rows]
    for label in labels:
        ys = [_mean(r["pass_at_n"][label]) for r in rows]
        ce = [_mean(r["pass_at_n"]["ce"]) for r in rows]
        axes[0].plot(ns, ys, marker="o", markersize=3, label=label)
        axes[1].plot(
            ns,
            [100 * (y - c) for y, c in zip(ys, ce, strict=True)],
            marker="o",
            markersize=3,
            label=label,
        )
    frontier = [max(_mean(r["pass_at_n"][lb]) for lb in labels) for r in rows]
    axes[0].plot(ns, frontier, "k:", label="frontier (best N′)")
    axes[0].set_ylabel("pass@N")
    axes[1].set_ylabel("pass@N − CE's (points)")
    for ax in axes:
        _log2_axis(ax, "test N")
        ax.legend(fontsize=7)
    fig.suptitle(
        "Direct answers: pass@N per training objective, mean of the late epochs and seeds",
        fontsize=10,
    )
    fig.tight_layout()
    save(fig, path)


def training_confidence(models: list[dict[str, Any]], path: Path) -> None:
    """Validation next-tactic accuracy and mean max-confidence per tactic model."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    names = [m["name"] for m in models]
    xs = range(len(models))
    acc = [m["final_eval"]["accuracy"] for m in models]
    conf = [m["final_eval"]["max_confidence"]["mean"] for m in models]
    ax.bar([x - 0.2 for x in xs], acc, width=0.4, label="next-tactic accuracy (val)")
    ax.bar([x + 0.2 for x in xs], conf, width=0.4, label="mean max-confidence (val)")
    ax.set_xticks(list(xs), names, fontsize=8)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("coq-stdlib tactic models", fontsize=10)
    fig.tight_layout()
    save(fig, path)
