"""``dco view``: look at a search run instead of querying it.

    dco view --db out.sqlite [--run ID] --out site/    # a static site, opens from file://
    dco view --db out.sqlite [--run ID] --serve         # the same on http://127.0.0.1:8000/

The site: an index of the run (config, proved/failed/open counts, pass@k
plot, where the time went, a sortable theorem table) and a page per theorem
with its search tree (see :mod:`prover.view`). The database is only read,
so a run still being written can be viewed; ``--serve`` re-reads it on every
request. Without ``--run``, the latest run of the file.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lean_env.errors import UserError
from prover.view.tree import MAX_NODES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", required=True, help="SQLite file written by dco search/evaluate/prove"
    )
    parser.add_argument(
        "--run", type=int, metavar="ID", help="which run of the file (default: the latest)"
    )
    parser.add_argument(
        "--out", metavar="DIR", help="write the site here (replaces an earlier site)"
    )
    parser.add_argument("--serve", action="store_true", help="serve the site on 127.0.0.1 instead")
    parser.add_argument("--port", type=int, default=8000, help="port for --serve (0: any free one)")
    parser.add_argument(
        "--max-nodes", type=int, default=MAX_NODES, help="most tree nodes one theorem page embeds"
    )


def command_for(db: str | Path, run_id: int, out: str | Path | None = None) -> str:
    """The command that shows run ``run_id`` of ``db`` (the hint other commands print)."""
    import shlex

    out = out if out is not None else Path(db).with_suffix("").as_posix() + f"-run{run_id}-view"
    return f"dco view --db {shlex.quote(str(db))} --run {run_id} --out {shlex.quote(str(out))}"


def run(args: argparse.Namespace) -> int:
    if args.max_nodes < 1:
        raise UserError("--max-nodes must be at least 1")
    if args.serve:
        if args.out:
            raise UserError("--serve and --out: choose one")
        if not 0 <= args.port <= 65535:
            raise UserError(f"--port {args.port} is not a port number")
        from prover.view.serve import serve

        serve(args.db, args.run, args.port, lambda line: print(line, flush=True), args.max_nodes)
        return 0
    if not args.out:
        raise UserError("give --out DIR (a static site) or --serve")
    from prover.view.site import build_site

    summary, out = build_site(args.db, args.run, args.out, args.max_nodes)
    c = summary.counts
    print(
        f"run {summary.run.id}: {c['proved']} proved, {c['failed']} failed, {c['open']} open "
        f"of {c['total']}; site: {out / 'index.html'}"
    )
    return 0
