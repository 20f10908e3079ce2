"""The outputs of ``dco evaluate``: ``results.json`` (the contract read by
``dco report``), the pass@k table, and ``passk.png``.

``results.json``::

    {"kind": "evaluation", "benchmark", "split", "theorems", "strategy",
     "passes", "budget_s", "ensemble_budget", "db", "config" (resolved),
     "models": [{"label", "model", "n_prime", "run_id", "proved", "total",
                 "finished", "start_failed", "passes", "seconds", "pass_at_k",
                 "budget_per_theorem_s", "seconds_per_theorem" (mean search
                 seconds used), "median_seconds_per_theorem",
                 "proved_at" ({theorem: search seconds to its first verified
                 proof}), "proved_within" ({"t": proved within t seconds})}],
     "ensemble": null | {"label", "proved", "total", "found_by", "only_by",
                         "pass_at_k" (keyed by total passes)},
     "side_by_side": {"grid" (seconds), "seconds" (the largest), "proved_within"
                      ({label: {"t": count}}), "paired" ([{"a", "b", "theorems",
                      "both", "proved_a", "proved_b", "only_a", "only_b",
                      "mcnemar_p"}] at "seconds")},
     "interrupted", "machine", "started", "finished"}

The timing fields were added later: a reader must accept results without them.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path
from typing import Any

from search.fsutil import atomic_path

RESULTS_FILE = "results.json"
PLOT_FILE = "passk.png"


def machine() -> dict[str, Any]:
    """What ran it: enough to tell two machines' timings apart (no host
    name: a stored result should not name the machine), and which code and
    Coq (``git``: ``git describe`` of the checkout, so that a stored number
    can be traced to, say, the automation list it was measured with)."""
    from benchmarks.stdlib import coq_version
    from search.db import code_version

    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "git": code_version(),
    }
    if (coq := coq_version()) != "unknown":
        info["coq"] = coq
    torch = sys.modules.get("torch")  # only if a model was used: never import it for this
    if torch is not None:
        info["torch"] = torch.__version__
        info["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return info


def curves(results: dict[str, Any]) -> list[tuple[str, dict[int, float]]]:
    """(label, {k: pass@k}) for every model and the ensemble."""
    out = [(m["label"], {int(k): v for k, v in m["pass_at_k"].items()}) for m in results["models"]]
    if results.get("ensemble"):
        e = results["ensemble"]
        out.append((e["label"], {int(k): v for k, v in e["pass_at_k"].items()}))
    return out


def passk_table(results: dict[str, Any]) -> str:
    """k down, one column per model (and the ensemble, at k = total passes)."""
    series = curves(results)
    ks = sorted({k for _, c in series for k in c})
    width = max(10, *(len(name) for name, _ in series))
    lines = [f"{'k':>6}  " + "  ".join(f"{name:>{width}}" for name, _ in series)]
    for k in ks:
        cells = [f"{c[k]:>{width}.4f}" if k in c else f"{'-':>{width}}" for _, c in series]
        lines.append(f"{k:>6}  " + "  ".join(cells))
    proved = [f"{m['proved']}/{m['total']}" for m in results["models"]]
    if results.get("ensemble"):
        proved.append(f"{results['ensemble']['proved']}/{results['ensemble']['total']}")
    lines.append(f"{'proved':>6}  " + "  ".join(f"{p:>{width}}" for p in proved))
    return "\n".join(lines)


def plot_passk(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display on servers
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for name, curve in curves(results):
        ks = sorted(curve)
        style = "--" if name.startswith("ensemble") else "-"
        ax.plot(ks, [curve[k] for k in ks], style, marker="o", markersize=3, label=name)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("k (passes; ensemble: total over its models)")
    ax.set_ylabel("pass@k")
    ax.set_ylim(bottom=0)
    ax.set_title(
        f"{results['benchmark']} {results['split']}: {results['theorems']} theorems, "
        f"{results['strategy']}"
    )
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120)
    plt.close(fig)
