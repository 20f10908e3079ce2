"""Reading a search database for the viewer: read-only, schema-checked.

The viewer never writes to the run it shows (it may be in progress in another
process), so it opens the file with SQLite's ``mode=ro`` instead of through
:class:`search.db.SearchDB`, whose open path creates missing tables. Every
failure to open or read (not a file, not SQLite, not a search log, locked) is
a :class:`~lean_env.errors.UserError` with one line of text.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from lean_env.closing import Closing
from lean_env.errors import UserError

# Columns the viewer reads, per table: a file lacking one is not a search log
# it can show.
REQUIRED: dict[str, tuple[str, ...]] = {
    "runs": ("id", "config", "code_version", "started_at", "ended_at", "total"),
    "theorems": (
        "run_id",
        "theorem",
        "file",
        "statement",
        "status",
        "reason",
        "start_failed",
        "proof",
        "attempts",
        "successes",
        "tactic_calls",
        "memo_hits",
        "expansions",
        "nodes",
        "seconds_start",
        "seconds_search",
        "stats",
        "finished_at",
    ),
    "nodes": (
        "run_id",
        "theorem",
        "node",
        "kind",
        "status",
        "depth",
        "parent",
        "tactic",
        "logprob",
        "goals",
        "num_goals",
        "expanded",
        "message",
        "cycle_to",
    ),
    "edges": ("run_id", "theorem", "src", "dst", "tactic", "logprob", "result", "seconds"),
    "attempts": (
        "run_id",
        "theorem",
        "idx",
        "success",
        "outcome",
        "steps",
        "logprob",
        "tactics",
        "seconds",
    ),
    "proofs": (
        "run_id",
        "theorem",
        "idx",
        "tactics",
        "length",
        "verified",
        "reason",
        "axioms",
        "seconds",
    ),
}

# A reader waits this long for a writer holding an exclusive lock, then gives up.
BUSY_TIMEOUT_MS = 3000


@dataclass(frozen=True)
class RunInfo:
    id: int
    config: dict[str, Any]
    code_version: str | None
    started_at: str | None
    ended_at: str | None  # None while running or if interrupted
    total: int | None  # theorems selected


@dataclass(frozen=True)
class Tree:
    """One theorem's stored proof tree, as database rows (dicts)."""

    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]


class RunReader(Closing):
    """A search database opened read-only. Use as a context manager."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise UserError(f"{self.path}: no such file")
        if not self.path.is_file():
            raise UserError(f"{self.path}: not a file")
        try:
            with self.path.open("rb") as fh:
                head = fh.read(16)
        except OSError as exc:
            raise UserError(f"cannot read {self.path}: {exc.strerror}") from None
        if head != b"SQLite format 3\x00":
            raise UserError(f"{self.path} is not a search log (not an SQLite database)")
        uri = f"file:{quote(str(self.path.resolve()))}?mode=ro"
        try:
            self.conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
            self.conn.row_factory = sqlite3.Row
            self._check_schema()
        except sqlite3.Error as exc:
            raise UserError(f"cannot read {self.path}: {self._why(exc)}") from None

    def _why(self, exc: sqlite3.Error) -> str:
        text = str(exc)
        if "locked" in text or "busy" in text:
            return f"{text} (another process holds it exclusively; retry when it is done)"
        return text

    def _check_schema(self) -> None:
        for table, columns in REQUIRED.items():
            have = {r[1] for r in self.conn.execute(f"PRAGMA table_info({table})")}
            if not have:
                raise UserError(
                    f"{self.path} is not a search log written by `dco search` (no table {table})"
                )
            missing = [c for c in columns if c not in have]
            if missing:
                raise UserError(
                    f"{self.path} is not a search log written by this version of `dco search` "
                    f"(table {table} lacks {', '.join(missing)})"
                )

    def close(self) -> None:
        self.conn.close()

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> Iterator[dict[str, Any]]:
        try:
            rows = self.conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise UserError(f"cannot read {self.path}: {self._why(exc)}") from None
        return (dict(r) for r in rows)

    # -- runs ------------------------------------------------------------------
    def run_ids(self) -> list[int]:
        return [r["id"] for r in self._query("SELECT id FROM runs ORDER BY id")]

    def run(self, run_id: int | None) -> RunInfo:
        """The run ``run_id``, or the latest run when it is None."""
        ids = self.run_ids()
        if not ids:
            raise UserError(f"{self.path} holds no run yet")
        if run_id is None:
            run_id = ids[-1]
        elif run_id not in ids:
            shown = ", ".join(map(str, ids[:20])) + (" ..." if len(ids) > 20 else "")
            raise UserError(f"{self.path} has no run {run_id} (its runs: {shown})")
        (row,) = self._query("SELECT * FROM runs WHERE id = ?", (run_id,))
        try:
            config = json.loads(row["config"] or "{}")
        except json.JSONDecodeError:
            config = {"unreadable config": row["config"]}
        return RunInfo(
            row["id"], config, row["code_version"], row["started_at"], row["ended_at"], row["total"]
        )

    # -- theorems --------------------------------------------------------------
    def theorems(self, run_id: int) -> list[dict[str, Any]]:
        """Every committed theorem of the run, by name, with its stats parsed."""
        rows = list(
            self._query("SELECT * FROM theorems WHERE run_id = ? ORDER BY theorem", (run_id,))
        )
        for row in rows:
            row["stats"] = _json(row["stats"], {})
            row["proof"] = _json(row["proof"], None)
        return rows

    def theorem(self, run_id: int, name: str) -> dict[str, Any] | None:
        rows = list(
            self._query("SELECT * FROM theorems WHERE run_id = ? AND theorem = ?", (run_id, name))
        )
        if not rows:
            return None
        row = rows[0]
        row["stats"] = _json(row["stats"], {})
        row["proof"] = _json(row["proof"], None)
        return row

    def tree(self, run_id: int, name: str) -> Tree:
        key = (run_id, name)
        nodes = list(
            self._query(
                "SELECT node, kind, status, depth, parent, tactic, logprob, goals, num_goals, "
                "expanded, message, cycle_to FROM nodes WHERE run_id = ? AND theorem = ? "
                "ORDER BY node",
                key,
            )
        )
        edges = list(
            self._query(
                "SELECT src, dst, tactic, logprob, result, seconds FROM edges "
                "WHERE run_id = ? AND theorem = ? ORDER BY rowid",
                key,
            )
        )
        return Tree(nodes, edges)

    def attempts(self, run_id: int, name: str) -> list[dict[str, Any]]:
        rows = list(
            self._query(
                "SELECT idx, success, outcome, steps, logprob, tactics, seconds FROM attempts "
                "WHERE run_id = ? AND theorem = ? ORDER BY idx",
                (run_id, name),
            )
        )
        for row in rows:
            row["tactics"] = _json(row["tactics"], [])
        return rows

    def proofs(self, run_id: int, name: str) -> list[dict[str, Any]]:
        rows = list(
            self._query(
                "SELECT idx, tactics, length, verified, reason, axioms, seconds FROM proofs "
                "WHERE run_id = ? AND theorem = ? ORDER BY idx",
                (run_id, name),
            )
        )
        for row in rows:
            row["tactics"] = _json(row["tactics"], [])
            row["axioms"] = _json(row["axioms"], [])
        return rows

    def successes(self, run_id: int) -> dict[str, list[bool]]:
        """Theorem -> success of each attempt in order (every committed theorem
        present; one whose environment never started has no attempts)."""
        out: dict[str, list[bool]] = {
            r["theorem"]: []
            for r in self._query("SELECT theorem FROM theorems WHERE run_id = ?", (run_id,))
        }
        for r in self._query(
            "SELECT theorem, success FROM attempts WHERE run_id = ? ORDER BY theorem, idx",
            (run_id,),
        ):
            if r["theorem"] in out:  # committed after the theorem list was read: skip
                out[r["theorem"]].append(bool(r["success"]))
        return out


def _json(text: str | None, default: Any) -> Any:
    if text is None:
        return default
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return default
