"""The on-disk log of a search run: one SQLite file (WAL mode), via sqlite-utils.

Schema (``theorem`` is the theorem's full name; every table but ``runs`` is
keyed by ``(run_id, theorem, ...)``)::

    runs      id PK, config (JSON: strategy, generator, budget, benchmark,
              split, selection ...), config_hash, code_version (git describe,
              else the package version), started_at, ended_at (NULL while
              running or if interrupted), total (theorems selected)
    theorems  run_id, theorem, benchmark_id, split, file, statement,
              status (proved | failed | open), reason, start_failed (0/1),
              proof (JSON list of tactics, the verified proof, or NULL),
              attempts, successes, tactic_calls, memo_hits, expansions, nodes,
              seconds_start, seconds_search (the search's wall clock), stats
              (JSON: every counter and timer; seconds_to_proof: search
              seconds to the first verified proof, absent in older files),
              finished_at
    nodes     run_id, theorem, node, kind (state | finished | error | timeout
              | cycle), status, depth, parent (discovery parent), tactic (the
              one from parent), logprob (cumulative), goals, num_goals,
              expanded (0/1), message (error text, failure reason), cycle_to
    edges     run_id, theorem, src, dst, tactic, logprob, result (state |
              transposition | finished | error | timeout | cycle), seconds
    attempts  run_id, theorem, idx, success (0/1), outcome, steps, logprob,
              tactics (JSON list), seconds; one row per rollout (pass@N) or
              per best-first search; pass@k reads this table
    proofs    run_id, theorem, idx, tactics (JSON list), length, verified
              (0/1), reason (why the re-check failed), axioms (JSON list),
              assumes (JSON list: the axioms beyond the standard library's),
              seconds; every proof that was re-checked, passed or not

Each theorem's rows are written in one transaction, the ``theorems`` row
among them, so a theorem is either entirely in the file or not at all. A run
is identified by its config: starting a run whose config equals an earlier
run's in the same file resumes that run, skipping the theorems it finished; a
process killed with ``kill -9`` loses only the theorems in flight. A process
that writes a run first :meth:`~SearchDB.claim` s it: a second process that
tries to write the same run at the same time is refused with a clear error
(different runs may share a file and be written at once).
Example queries: search/SCHEMA.md.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import sqlite3
import subprocess
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from lean_env.closing import Closing
from lean_env.errors import UserError
from lean_env.types import Verification

from .fsutil import now
from .result import Attempt, SearchResult
from .tree import Kind, Node

TABLES: dict[str, tuple[dict[str, type], list[str]]] = {
    "runs": (
        {
            "id": int,
            "config": str,
            "config_hash": str,
            "code_version": str,
            "started_at": str,
            "ended_at": str,
            "total": int,
        },
        ["id"],
    ),
    "theorems": (
        {
            "run_id": int,
            "theorem": str,
            "benchmark_id": int,
            "split": str,
            "file": str,
            "statement": str,
            "status": str,
            "reason": str,
            "start_failed": int,
            "proof": str,
            "attempts": int,
            "successes": int,
            "tactic_calls": int,
            "memo_hits": int,
            "expansions": int,
            "nodes": int,
            "seconds_start": float,
            "seconds_search": float,
            "stats": str,
            "finished_at": str,
        },
        ["run_id", "theorem"],
    ),
    "nodes": (
        {
            "run_id": int,
            "theorem": str,
            "node": int,
            "kind": str,
            "status": str,
            "depth": int,
            "parent": int,
            "tactic": str,
            "logprob": float,
            "goals": str,
            "num_goals": int,
            "expanded": int,
            "message": str,
            "cycle_to": int,
        },
        ["run_id", "theorem", "node"],
    ),
    "edges": (
        {
            "run_id": int,
            "theorem": str,
            "src": int,
            "dst": int,
            "tactic": str,
            "logprob": float,
            "result": str,
            "seconds": float,
        },
        ["run_id", "theorem", "src", "tactic"],
    ),
    "attempts": (
        {
            "run_id": int,
            "theorem": str,
            "idx": int,
            "success": int,
            "outcome": str,
            "steps": int,
            "logprob": float,
            "tactics": str,
            "seconds": float,
        },
        ["run_id", "theorem", "idx"],
    ),
    "proofs": (
        {
            "run_id": int,
            "theorem": str,
            "idx": int,
            "tactics": str,
            "length": int,
            "verified": int,
            "reason": str,
            "axioms": str,
            "assumes": str,
            "seconds": float,
        },
        ["run_id", "theorem", "idx"],
    ),
}


# Columns added after the first release: a database written before lacks
# them and gains them on opening (its other columns are checked as they are).
ADDED_COLUMNS: dict[str, dict[str, type]] = {"proofs": {"assumes": str}}

BUSY_TIMEOUT_MS = 60_000


def check_writable_db(path: Path) -> None:
    """Refuse, before anything is written, a ``path`` that cannot become
    this search database: a directory, a read-only file or directory, a
    file that is not SQLite, or another program's database. An existing
    file is read through a read-only connection first, so a refused file
    is left exactly as it was (no journal-mode switch, no tables added)."""
    where = path.parent if str(path.parent) else Path(".")
    if not where.is_dir():
        raise UserError(f"directory of {path} does not exist")
    if path.is_dir():
        raise UserError(f"{path} is a directory, not a database file")
    if read_only(where):
        raise UserError(f"cannot write a database in {where}: directory is read-only")
    if not path.exists() or path.stat().st_size == 0:
        if path.exists() and read_only(path):
            raise UserError(f"{path} is read-only; make it writable or use another --db")
        return
    if not os.access(path, os.R_OK):
        raise UserError(f"{path} is not readable")
    problem = _schema_problem(path)
    if problem:
        raise UserError(
            f"cannot open {path}: not a dco search database ({problem}); use another --db"
        )
    if read_only(path):
        raise UserError(f"{path} is read-only; make it writable or use another --db")


def read_only(path: Path) -> bool:
    """Not writable, or marked read-only (no write bit) for a superuser,
    whom the permission check lets write anything."""
    if not os.access(path, os.W_OK):
        return True
    return os.geteuid() == 0 and not path.stat().st_mode & 0o222


def _schema_problem(path: Path) -> str | None:
    """Why an existing file is not a search database (None if it is one, or
    an empty one), read without writing to it."""
    with path.open("rb") as fh:
        header = fh.read(100)
    # Quoted from the file system's bytes: a name need not be valid UTF-8.
    uri = f"file:{urllib.parse.quote(os.fsencode(path.resolve()))}?mode=ro"
    # A WAL-mode file that nobody has open (no -wal beside it): even a
    # read-only connection would create -wal and -shm and leave them behind;
    # read it as an immutable file instead.
    if header[18:20] == b"\x02\x02" and not Path(f"{path}-wal").exists():
        uri += "&immutable=1"
    try:
        conn = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        tables = {
            name: {row[1] for row in conn.execute(f'PRAGMA table_info("{name}")')}
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            ).fetchall()
        }
    except sqlite3.Error as exc:
        return str(exc)
    finally:
        conn.close()
    # Ours: a `runs` table with our columns (other dco tables, such as expert
    # iteration's, may sit beside it). Anything else with tables is foreign.
    if tables and "runs" not in tables:
        return f"it has other tables ({', '.join(sorted(tables)[:5])})"
    for name, have in tables.items():
        if name not in TABLES:
            continue
        need = set(TABLES[name][0]) - set(ADDED_COLUMNS.get(name, {}))
        if not need <= have:
            return f"table {name} lacks columns {sorted(need - have)}"
    return None


def code_version() -> str:
    """``git describe`` of the source tree if it is a checkout, else the
    installed package's version."""
    root = Path(__file__).resolve().parents[1]
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--tags"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        if out.stdout.strip():
            return f"git:{out.stdout.strip()}"
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        from importlib.metadata import version

        return f"dco-prover {version('dco-prover')}"
    except Exception:
        return "unknown"


def config_hash(config: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class TheoremRecord:
    """Everything one theorem writes, as plain rows (cheap to send between
    processes). ``theorem`` is the row for the ``theorems`` table."""

    theorem: dict[str, Any]
    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)
    attempts: list[dict[str, Any]] = field(default_factory=list)
    proofs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.theorem["theorem"]

    @property
    def status(self) -> str:
        return self.theorem["status"]


def _attempt_row(a: Attempt) -> dict[str, Any]:
    return {
        "idx": a.index,
        "success": int(a.success),
        "outcome": str(a.outcome),
        "steps": a.steps,
        "logprob": a.logprob,
        "tactics": json.dumps(list(a.tactics)),
        "seconds": a.seconds,
    }


def _proof_row(idx: int, tactics: Sequence[str], v: Verification) -> dict[str, Any]:
    return {
        "idx": idx,
        "tactics": json.dumps(list(tactics)),
        "length": len(tactics),
        "verified": int(v.ok),
        "reason": v.reason,
        "axioms": json.dumps(list(v.axioms)),
        "assumes": json.dumps(list(v.assumes)),
        "seconds": v.seconds,
    }


def record_of(
    result: SearchResult,
    *,
    benchmark_id: int | None = None,
    split: str | None = None,
    store_tree: bool = True,
) -> TheoremRecord:
    """The rows of one search result (``run_id`` is filled in on writing)."""
    th = result.theorem
    stats = result.stats
    record = TheoremRecord(
        theorem={
            "theorem": th.name,
            "benchmark_id": benchmark_id,
            "split": split,
            "file": th.file,
            "statement": th.statement,
            "status": str(result.status),
            "reason": result.reason,
            "start_failed": int(result.start_failed),
            "proof": json.dumps(result.proof) if result.proof is not None else None,
            "attempts": len(result.attempts),
            "successes": sum(a.success for a in result.attempts),
            "tactic_calls": stats.tactic_calls,
            "memo_hits": stats.memo_hits,
            "expansions": stats.expansions,
            "nodes": stats.nodes,
            "seconds_start": stats.seconds_start,
            "seconds_search": stats.seconds_total,
            "stats": json.dumps(stats.to_dict()),
            "finished_at": now(),
        }
    )
    record.attempts = [_attempt_row(a) for a in result.attempts]
    if result.tree is not None:
        record.proofs = [
            _proof_row(i, tactics, v) for i, (tactics, v) in enumerate(result.verifications.items())
        ]
    if store_tree and result.tree is not None:
        record.nodes = [_node_row(d) for d in result.tree.nodes]
        record.edges = result.tree.edges()
    return record


def _node_row(d: Node) -> dict[str, Any]:
    return {
        "node": d.id,
        "kind": str(d.kind),
        "status": str(d.status),
        "depth": d.depth,
        "parent": d.parent,
        "tactic": d.tactic,
        "logprob": d.logprob,
        "goals": d.goals,
        "num_goals": d.state.num_goals if d.state is not None and d.kind is Kind.STATE else None,
        "expanded": int(d.expanded),
        "message": d.message or None,
        "cycle_to": d.to,
    }


class SearchDB(Closing):
    """A search database. Use as a context manager, or call :meth:`close`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock_fd: int | None = None
        check_writable_db(self.path)
        try:
            self.db = sqlite_utils.Database(self.path)
            # Another process writing a large proof tree holds the write lock
            # for a moment: wait for it rather than fail.
            self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._enable_wal()
            with self._immediate():  # two processes creating one file: one creates the tables
                self._create()
        except Exception as exc:  # sqlite3.DatabaseError: not a database, locked ...
            if isinstance(exc, UserError):
                raise
            raise UserError(f"cannot open {self.path} as a search database: {exc}") from None

    def _enable_wal(self) -> None:
        """Switch to WAL, waiting out another process that is switching the
        same new file (SQLite answers "locked" there without waiting)."""
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                self.db.enable_wal()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _create(self) -> None:
        existing = set(self.db.table_names())
        for name, (columns, pk) in TABLES.items():
            if name in existing:
                have = set(self.db[name].columns_dict)
                for column in ADDED_COLUMNS.get(name, {}).keys() - have:
                    self.db[name].add_column(column, ADDED_COLUMNS[name][column])
                continue
            with self.db.atomic():
                self.db[name].create(columns, pk=pk[0] if len(pk) == 1 else tuple(pk))

    def close(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases every claim of this process
            self._lock_fd = None
        self.db.close()

    # -- runs ------------------------------------------------------------------
    def open_run(self, config: dict[str, Any], total: int | None = None) -> tuple[int, bool]:
        """The run with this exact config (resumed: True), or a new one."""
        digest = config_hash(config)
        with self._immediate():
            # Look up and insert in one write transaction, so two processes
            # starting the same new run at once get one run, not two.
            rows = list(
                self.db.query(
                    "SELECT id FROM runs WHERE config_hash = ? ORDER BY id DESC LIMIT 1", [digest]
                )
            )
            if rows:
                run_id = rows[0]["id"]
                self.db["runs"].update(run_id, {"ended_at": None, "total": total})
                return run_id, True
            table = self.db["runs"]
            table.insert(
                {
                    "config": json.dumps(config, sort_keys=True),
                    "config_hash": digest,
                    "code_version": code_version(),
                    "started_at": now(),
                    "ended_at": None,
                    "total": total,
                }
            )
            assert table.last_pk is not None
            return int(table.last_pk), False

    @contextlib.contextmanager
    def _immediate(self) -> Iterator[None]:
        """A transaction that takes the write lock at once (sqlite-utils'
        own writes inside it become savepoints)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.conn.rollback()
            raise
        self.db.execute("COMMIT")

    def claim(self, run_id: int) -> None:
        """Take this run for writing until :meth:`close` (or the process's
        death, even by ``kill -9``): a POSIX record lock on byte ``run_id`` of
        the sidecar file ``<db>.lock``. The lock lives outside the database
        file because SQLite keeps its own POSIX locks there, and closing any
        other descriptor of that file would drop them."""
        if self._lock_fd is None:
            self._lock_fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.lockf(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, run_id)
        except OSError:
            raise UserError(
                f"run {run_id} of {self.path} is being written by another process; "
                "wait for it to finish (re-running then resumes), or use another --db"
            ) from None

    def end_run(self, run_id: int) -> None:
        with self._immediate():
            self.db["runs"].update(run_id, {"ended_at": now()})

    def latest_run_id(self) -> int | None:
        rows = list(self.db.query("SELECT max(id) AS id FROM runs"))
        return rows[0]["id"] if rows else None

    def run_config(self, run_id: int) -> dict[str, Any]:
        return json.loads(self.db["runs"].get(run_id)["config"])

    # -- theorems --------------------------------------------------------------
    def finished(self, run_id: int) -> set[str]:
        """Names of the theorems this run has committed."""
        return {
            r["theorem"]
            for r in self.db.query("SELECT theorem FROM theorems WHERE run_id = ?", [run_id])
        }

    def write(self, run_id: int, record: TheoremRecord) -> None:
        """All of one theorem's rows, in one transaction. It takes the write
        lock at its start: a deferred transaction that read first (sqlite-utils
        looks up the table) cannot upgrade to a write once another process has
        committed since, and fails with "database is locked" without waiting."""
        key = {"run_id": run_id, "theorem": record.name}
        with self._immediate():
            for table in ("nodes", "edges", "attempts", "proofs"):
                rows = [{**key, **row} for row in getattr(record, table)]
                if rows:
                    self.db[table].insert_all(rows, batch_size=1000)
            self.db["theorems"].insert({**key, **record.theorem})

    def summary(self, run_id: int) -> dict[str, int]:
        """Theorem counts of a run by status, plus start failures."""
        counts = {"total": 0, "proved": 0, "failed": 0, "open": 0, "start_failed": 0}
        for row in self.db.query(
            "SELECT status, start_failed, count(*) AS n FROM theorems WHERE run_id = ? "
            "GROUP BY status, start_failed",
            [run_id],
        ):
            counts["total"] += row["n"]
            counts[row["status"]] = counts.get(row["status"], 0) + row["n"]
            if row["start_failed"]:
                counts["start_failed"] += row["n"]
        return counts

    def attempt_successes(self, run_id: int) -> dict[str, list[bool]]:
        """Theorem -> success of each attempt in order; every theorem of the
        run is present, one that never started with an empty list."""
        out: dict[str, list[bool]] = {
            r["theorem"]: []
            for r in self.db.query(
                "SELECT theorem FROM theorems WHERE run_id = ? ORDER BY theorem", [run_id]
            )
        }
        for r in self.db.query(
            "SELECT a.theorem, a.success FROM attempts a JOIN theorems t "
            "ON a.run_id = t.run_id AND a.theorem = t.theorem "
            "WHERE a.run_id = ? ORDER BY a.theorem, a.idx",
            [run_id],
        ):
            out[r["theorem"]].append(bool(r["success"]))
        return out

    def seconds(self, run_id: int) -> float:
        """Start-up plus search seconds over the run's theorems."""
        rows = self.db.query(
            "SELECT coalesce(sum(seconds_start + seconds_search), 0) AS s FROM theorems "
            "WHERE run_id = ?",
            [run_id],
        )
        return float(next(iter(rows))["s"])

    def theorem_row(self, run_id: int, theorem: str, columns: Sequence[str]) -> dict[str, Any]:
        """Those columns of one theorem's ``theorems`` row (KeyError if the
        run has no such theorem)."""
        unknown = set(columns) - set(TABLES["theorems"][0])
        if unknown:
            raise ValueError(f"not columns of theorems: {sorted(unknown)}")
        rows = list(
            self.db.query(
                f"SELECT {', '.join(columns)} FROM theorems WHERE run_id = ? AND theorem = ?",
                [run_id, theorem],
            )
        )
        if not rows:
            raise KeyError(f"run {run_id} has no theorem {theorem}")
        return rows[0]

    def proofs(self, run_id: int) -> dict[str, list[str]]:
        """Proved theorem -> its verified proof (the search's first)."""
        return {
            r["theorem"]: json.loads(r["proof"])
            for r in self.db.query(
                "SELECT theorem, proof FROM theorems WHERE run_id = ? AND status = 'proved'",
                [run_id],
            )
        }

    def proved_theorems(self, run_ids: Sequence[int]) -> set[str]:
        """Theorems proved in any of the runs."""
        if not run_ids:
            return set()
        marks = ",".join("?" * len(run_ids))
        return {
            r["theorem"]
            for r in self.db.query(
                f"SELECT theorem FROM theorems WHERE status = 'proved' AND run_id IN ({marks})",
                list(run_ids),
            )
        }

    def verified_proofs(self, run_id: int) -> list[tuple[str, tuple[str, ...]]]:
        """(theorem, tactics) of every proof of the run that passed its
        re-check, by theorem, in the order they were checked."""
        return [
            (r["theorem"], tuple(json.loads(r["tactics"])))
            for r in self.db.query(
                "SELECT theorem, tactics FROM proofs WHERE run_id = ? AND verified = 1 "
                "ORDER BY theorem, idx",
                [run_id],
            )
        ]

    def proof_times(self, run_id: int) -> dict[str, tuple[float, float | None]]:
        """Proved theorem -> (its search seconds, the ``seconds_to_proof`` its
        stats recorded, None in databases written before that field)."""
        out: dict[str, tuple[float, float | None]] = {}
        for r in self.db.query(
            "SELECT theorem, seconds_search, stats FROM theorems "
            "WHERE run_id = ? AND status = 'proved'",
            [run_id],
        ):
            at = json.loads(r["stats"] or "{}").get("seconds_to_proof")
            out[r["theorem"]] = (float(r["seconds_search"] or 0.0), at)
        return out

    def search_seconds(self, run_id: int) -> list[float]:
        """Search seconds each finished theorem of the run used."""
        return [
            float(r["seconds_search"] or 0.0)
            for r in self.db.query("SELECT seconds_search FROM theorems WHERE run_id = ?", [run_id])
        ]

    def proved_assumptions(self, run_id: int) -> dict[str, list[str]]:
        """Proved theorem -> the assumptions its verified proof's re-check
        recorded (empty lists included)."""
        return {
            r["theorem"]: json.loads(r["assumes"] or "[]")
            for r in self.db.query(
                "SELECT p.theorem, p.assumes FROM proofs p JOIN theorems t "
                "ON p.run_id = t.run_id AND p.theorem = t.theorem AND p.tactics = t.proof "
                "WHERE p.run_id = ? AND t.status = 'proved' AND p.verified = 1",
                [run_id],
            )
        }

    def proofs_refused_for(self, run_id: int, reason_prefix: str) -> dict[str, int]:
        """Theorem -> how many of its proofs the run refused with a reason
        starting ``reason_prefix``, for theorems the run did not prove."""
        return {
            r["theorem"]: int(r["n"])
            for r in self.db.query(
                "SELECT p.theorem, count(*) AS n FROM proofs p JOIN theorems t "
                "ON p.run_id = t.run_id AND p.theorem = t.theorem "
                "WHERE p.run_id = ? AND t.status != 'proved' AND p.reason LIKE ? "
                "GROUP BY p.theorem",
                [run_id, reason_prefix + "%"],
            )
        }
