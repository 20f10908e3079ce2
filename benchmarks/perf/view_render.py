"""How fast a `dco view` theorem page opens for a large proof tree.

    python -m benchmarks.perf.view_render [--min-nodes 5000] [--budget 240]
        [--repeats 5] [--db runs/view-big.sqlite] [--out benchmarks/results/perf]

Grows a real proof tree with coqtop: best-first search with the symbolic
generator on an unprovable theorem (``n * m = n + m + 7``) until the budget
is spent (more budget, more nodes; the run is reused from ``--db`` when it
has enough nodes), writes its site with ``dco view``, then opens the
theorem's page in headless Chromium ``--repeats`` times and reports the
medians of: time until the page's script has drawn the tree (from the start
of navigation, ``performance.now()``), the part of it spent in the page's
script (parsing the tree's JSON and drawing the open nodes), and the time
of one "expand more" click (it opens states breadth-first, at most 3,000
tactic rows; layout included). Writes ``OUT/view_render.json``. A benchmark, not a
test: the numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.perf import record

SOURCE = "Theorem big_tree : forall n m : nat, n * m = n + m + 7.\nProof. Admitted.\n"
RESULTS = Path(__file__).resolve().parents[1] / "results" / "perf"


def grow_tree(db: Path, budget_s: float) -> tuple[str, int]:
    """(theorem, nodes) of the largest tree in ``db``, searching first if it has none."""
    import sqlite3

    if db.exists():
        row = (
            sqlite3.connect(db)
            .execute("SELECT theorem, nodes FROM theorems ORDER BY nodes DESC LIMIT 1")
            .fetchone()
        )
        if row:
            return row[0], row[1]
    from lean_env.coq.source import parse_declarations
    from lean_env.environment import open_environment
    from search.budget import Budget
    from search.config import SearchConfig
    from search.db import SearchDB, record_of
    from search.generator import FixedTacticGenerator
    from search.tree_search import TreeSearch

    source = db.with_suffix(".v")
    source.write_text(SOURCE, encoding="utf-8")
    (decl,) = parse_declarations(source)
    result = TreeSearch(SearchConfig(strategy="best-first")).search(
        decl.theorem,
        open_environment,
        FixedTacticGenerator(seed=0),
        Budget(wall_clock=budget_s, max_depth=12, tactic_timeout=2),
    )
    with SearchDB(db) as log:
        run_id, _ = log.open_run({"benchmark": "view_render", "budget_s": budget_s}, total=1)
        log.write(run_id, record_of(result))
        log.end_run(run_id)
    return decl.theorem.name, len(result.tree)


def measure(page: Path, repeats: int) -> dict[str, Any]:
    from benchmarks.perf.browser import Browser

    ready, script, expand, drawn = [], [], [], 0
    with Browser() as b:
        for _ in range(repeats):
            b.get(page.as_uri() + f"?r={time.monotonic_ns()}")  # a fresh load each time
            ready.append(float(b.wait_for("document.body.dataset.treeReady && performance.now()")))
            script.append(float(b.run("return document.body.dataset.treeMs;")))
            expand.append(
                b.run(
                    "const t = performance.now(); document.getElementById('expand-all').click();"
                    "document.body.offsetHeight; return performance.now() - t;"
                )
            )
            drawn = b.run("return document.querySelectorAll('li.edge').length;")
    return {
        "ready_ms_median": round(statistics.median(ready), 1),
        "ready_ms": [round(x, 1) for x in ready],
        "script_ms_median": round(statistics.median(script), 1),
        "script_ms": [round(x, 1) for x in script],
        "expand_more_ms_median": round(statistics.median(expand), 1),
        "expand_more_ms": [round(x, 1) for x in expand],
        "tactic_rows_after_one_expand_more": drawn,
        "page_bytes": page.stat().st_size,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--min-nodes", type=int, default=5000)
    parser.add_argument(
        "--budget", type=float, default=240.0, help="search seconds to grow the tree"
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--db", type=Path, help="keep the grown tree here (reused next time)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="view-render-"))
    db = args.db or work / "big.sqlite"
    theorem, nodes = grow_tree(db, args.budget)
    if nodes < args.min_nodes:
        print(
            f"the tree has {nodes} nodes, fewer than --min-nodes {args.min_nodes}: "
            "raise --budget (or remove --db to grow a new one)",
            file=sys.stderr,
        )
        return 2
    # The site comes from the command line (benchmarks never import the prover package).
    site = work / "site"
    done = subprocess.run(
        [sys.executable, "-m", "prover.cli", "view", "--db", str(db), "--out", str(site)]
    )
    if done.returncode != 0:
        return 2
    (page,) = (site / "t").glob("*.html")  # the run has one theorem
    rec = record.Recorder(
        "view_render",
        ["python", "-m", "benchmarks.perf.view_render", *(argv or sys.argv[1:])],
        {"repeats": args.repeats, "budget_s": args.budget, "theorem": theorem},
    )
    results = {"nodes": nodes, **measure(page, args.repeats)}
    path = record.write(args.out, rec.finish(results, time.monotonic() - started))
    print(
        f"{nodes} nodes: page ready in {results['ready_ms_median']} ms (median of "
        f"{args.repeats}; its script {results['script_ms_median']} ms), one 'expand more' click {results['expand_more_ms_median']} ms; {path}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
