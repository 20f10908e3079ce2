"""An expert-iteration run's own tables, beside the search runs' tables in the
same SQLite file (WAL mode, opened through :class:`search.db.SearchDB`)::

    expert_rounds  round PK (0 = the starting models), status (proving |
                   training | evaluating | done), config (JSON: the settings
                   a resumed run must share), config_hash, train_pool (train
                   theorems in play), targets (JSON: the theorems this round
                   searched, fixed when the round starts), prove_runs (JSON:
                   label -> search run id), proofs_found (distinct verified
                   proofs), new_theorems (proved for the first time),
                   added_proofs, added_steps, duplicates (same tactics as the
                   human proof or an earlier one), capped (over
                   --proofs-per-theorem), replay_failed, proved_so_far,
                   models (JSON: label -> model directory), test (JSON: label
                   -> test scores, see searching.Score), ensemble (JSON),
                   seconds (JSON: prove, trace, train, evaluate), started_at,
                   finished_at
    expert_proofs  theorem, key (JSON of the whitespace-normalised tactics)
                   PK; round, benchmark_id, tactics (JSON, as found), length,
                   found_by (model label), run_id (its search run), status
                   (added | duplicate | capped | replay_failed), reason,
                   steps (steps added to the training data)

A train theorem counts as proved from the round in which a verified proof of
it was found (any status). A round's proofs are written in one transaction
with its move to ``training``, so an interrupted round never half-records them.
"""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from lean_env.errors import UserError
from search.db import config_hash
from search.fsutil import now

ROUNDS, PROOFS = "expert_rounds", "expert_proofs"

JSON_COLUMNS = ("config", "targets", "prove_runs", "models", "test", "ensemble", "seconds")

SCHEMA: dict[str, tuple[dict[str, type], str | tuple[str, ...]]] = {
    ROUNDS: (
        {
            "round": int,
            "status": str,
            "config": str,
            "config_hash": str,
            "train_pool": int,
            "targets": str,
            "prove_runs": str,
            "proofs_found": int,
            "new_theorems": int,
            "added_proofs": int,
            "added_steps": int,
            "duplicates": int,
            "capped": int,
            "replay_failed": int,
            "proved_so_far": int,
            "models": str,
            "test": str,
            "ensemble": str,
            "seconds": str,
            "started_at": str,
            "finished_at": str,
        },
        "round",
    ),
    PROOFS: (
        {
            "theorem": str,
            "key": str,
            "round": int,
            "benchmark_id": int,
            "tactics": str,
            "length": int,
            "found_by": str,
            "run_id": int,
            "status": str,
            "reason": str,
            "steps": int,
        },
        ("theorem", "key"),
    ),
}


def proof_key(tactics: list[str] | tuple[str, ...]) -> str:
    """Two proofs are the same when their tactics agree up to whitespace and
    a final period."""
    from training.data import normalize_tactic

    return json.dumps([normalize_tactic(t) for t in tactics], ensure_ascii=False)


class ExpertStore:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        existing = set(db.table_names())
        for name, (columns, pk) in SCHEMA.items():
            if name in existing:
                missing = set(columns) - set(db[name].columns_dict)
                if missing:
                    raise UserError(
                        f"table {name} lacks columns {sorted(missing)}: "
                        "not written by this version of `dco expert-iterate`"
                    )
                continue
            with db.atomic():
                db[name].create(columns, pk=pk)

    # -- the run's settings ------------------------------------------------
    def check_identity(self, identity: dict[str, Any]) -> None:
        """Refuse to continue a run whose rounds were made with other settings."""
        digest = config_hash(identity)
        for row in self.db.query(f"SELECT round, config, config_hash FROM {ROUNDS} ORDER BY round"):
            if row["config_hash"] != digest:
                old = json.loads(row["config"])
                diff = sorted(k for k in set(old) | set(identity) if old.get(k) != identity.get(k))
                raise UserError(
                    f"round {row['round']} of this run was made with other settings "
                    f"({', '.join(diff)} differ); use the same flags or another --out"
                )

    # -- rounds ------------------------------------------------------------
    def round(self, r: int) -> dict[str, Any] | None:
        rows = list(self.db.query(f"SELECT * FROM {ROUNDS} WHERE round = ?", [r]))
        if not rows:
            return None
        row = dict(rows[0])
        for key in JSON_COLUMNS:
            if row.get(key) is not None:
                row[key] = json.loads(row[key])
        return row

    def rounds(self) -> list[dict[str, Any]]:
        ids = [r["round"] for r in self.db.query(f"SELECT round FROM {ROUNDS} ORDER BY round")]
        return [row for r in ids if (row := self.round(r)) is not None]

    def start_round(self, r: int, identity: dict[str, Any], status: str, **fields: Any) -> None:
        row = {
            "round": r,
            "status": status,
            "config": identity,
            "config_hash": config_hash(identity),
            "started_at": now(),
            **fields,
        }
        with self.db.atomic():
            self.db[ROUNDS].insert(_encode(row), replace=True)

    def update_round(self, r: int, **fields: Any) -> None:
        with self.db.atomic():
            self.db[ROUNDS].update(r, _encode(fields))

    # -- proofs ------------------------------------------------------------
    def proved(self) -> set[str]:
        """Train theorems with a verified proof found by some round."""
        return {r["theorem"] for r in self.db.query(f"SELECT DISTINCT theorem FROM {PROOFS}")}

    def known_proofs(self) -> dict[str, list[dict[str, Any]]]:
        """Theorem -> its recorded proofs (key, status), every round."""
        out: dict[str, list[dict[str, Any]]] = {}
        for row in self.db.query(f"SELECT theorem, key, status, round FROM {PROOFS}"):
            out.setdefault(row["theorem"], []).append(dict(row))
        return out

    def record_proofs(self, r: int, rows: list[dict[str, Any]], **round_fields: Any) -> None:
        """Replace round ``r``'s proofs by ``rows`` and update the round, at once."""
        with self.db.atomic():
            self.db.execute(f"DELETE FROM {PROOFS} WHERE round = ?", [r])
            if rows:
                self.db[PROOFS].insert_all([{**row, "round": r} for row in rows])
            self.db[ROUNDS].update(r, _encode(round_fields))

    def proofs(self, r: int | None = None) -> list[dict[str, Any]]:
        where, params = ("WHERE round = ?", [r]) if r is not None else ("", [])
        return [
            dict(row)
            for row in self.db.query(
                f"SELECT * FROM {PROOFS} {where} ORDER BY round, theorem, key", params
            )
        ]


def _encode(fields: dict[str, Any]) -> dict[str, Any]:
    return {
        k: json.dumps(v, sort_keys=True) if k in JSON_COLUMNS and v is not None else v
        for k, v in fields.items()
    }
