"""Writing the site: every page into a temporary directory beside ``--out``,
then one rename, so ``--out`` holds either the previous site or the new one,
never half of one."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, BinaryIO

from lean_env.errors import UserError

from .data import RunReader
from .pages import index_html, theorem_html
from .summary import RunSummary, summarize
from .tree import MAX_NODES, payload

MARKER = ".dco-view"  # marks a directory as a site this command wrote (safe to replace)
PLOT = "passk.png"


def page_name(theorem: str) -> str:
    """A theorem page's path in the site: readable, and distinct for names
    that differ only in characters a file name cannot hold."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", theorem)[:80].strip("._") or "theorem"
    return f"t/{slug}-{hashlib.sha1(theorem.encode()).hexdigest()[:8]}.html"


def proof_script(row: dict[str, Any]) -> str | None:
    """The statement with its verified proof, ready to paste into a source file."""
    tactics = row["proof"]
    if not tactics:
        return None
    statement = (row["statement"] or "").rstrip()
    if str(row["file"] or "").endswith(".lean"):
        statement = statement.removesuffix("by").rstrip().removesuffix(":=").rstrip()
        return statement + " := by\n" + "\n".join("  " + t for t in tactics)
    from lean_env.coq.tactic_check import RejectedTactic, check_tactic

    lines = []
    for t in tactics:
        try:
            lines.append("  " + check_tactic(t).text)
        except RejectedTactic:  # verified, so Coq accepted it; show it as stored
            lines.append("  " + t)
    return f"{statement}\nProof.\n" + "\n".join(lines) + "\nQed."


def theorem_page(
    reader: RunReader, summary: RunSummary, row: dict[str, Any], max_nodes: int = MAX_NODES
) -> str:
    name = row["theorem"]
    tree = payload(reader.tree(summary.run.id, name), row["proof"], max_nodes)
    return theorem_html(
        summary,
        row,
        tree,
        reader.attempts(summary.run.id, name),
        reader.proofs(summary.run.id, name),
        proof_script(row),
        "../index.html",
    )


def pages_of(summary: RunSummary) -> dict[str, str]:
    return {t["theorem"]: page_name(t["theorem"]) for t in summary.theorems}


def write_plot(summary: RunSummary, path: Path | BinaryIO) -> bool:
    """The pass@k curve as a PNG; False (no file) when there is nothing to plot."""
    if len(summary.passk) < 2:
        return False
    import matplotlib

    matplotlib.use("Agg")  # no display on servers
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.0, 3.2))
    ax.plot(
        [p.k for p in summary.passk],
        [p.estimate for p in summary.passk],
        marker="o",
        markersize=3,
        label=summary.generator,
    )
    ax.set_xscale("log", base=2)
    ax.set_xlabel("k (attempts)")
    ax.set_ylabel("pass@k")
    ax.set_ylim(0, 1)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"run {summary.run.id}: {summary.counts['total']} theorems", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)
    return True


def build_site(
    db: str | Path, run_id: int | None, out: str | Path, max_nodes: int = MAX_NODES
) -> tuple[RunSummary, Path]:
    """Write the site of one run (the latest if ``run_id`` is None) to ``out``."""
    out = Path(out)
    _check_out(out)
    with RunReader(db) as reader:
        summary = summarize(reader, run_id)
        if not summary.theorems:
            raise UserError(
                f"run {summary.run.id} of {db} has no finished theorem yet: nothing to show "
                "(use --serve to watch it fill)"
            )
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
        try:
            _write(reader, summary, tmp, max_nodes)
            _swap(tmp, out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return summary, out


def _write(reader: RunReader, summary: RunSummary, tmp: Path, max_nodes: int) -> None:
    (tmp / "t").mkdir()
    pages = pages_of(summary)
    plot = PLOT if write_plot(summary, tmp / PLOT) else None
    (tmp / "index.html").write_text(index_html(summary, plot, pages), encoding="utf-8")
    for row in summary.theorems:
        html = theorem_page(reader, summary, row, max_nodes)
        (tmp / pages[row["theorem"]]).write_text(html, encoding="utf-8")
    (tmp / MARKER).write_text(f"run {summary.run.id} of {summary.db_path}\n", encoding="utf-8")
    os.chmod(tmp, 0o755)  # mkdtemp makes it private; a site is meant to be read


def _check_out(out: Path) -> None:
    """Refuse to replace anything but an empty directory or an earlier site."""
    if not out.exists():
        return
    if not out.is_dir():
        raise UserError(f"--out {out} exists and is not a directory")
    if (out / MARKER).exists() or not any(out.iterdir()):
        return
    raise UserError(
        f"--out {out} is a non-empty directory that `dco view` did not write; "
        "choose a new or empty one"
    )


def _swap(new: Path, out: Path) -> None:
    """Put ``new`` at ``out``; an earlier site there is removed only after."""
    if not out.exists():
        new.rename(out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
    old.rmdir()
    out.rename(old)
    try:
        new.rename(out)
    except OSError:
        old.rename(out)  # put the earlier site back
        raise
    shutil.rmtree(old, ignore_errors=True)
