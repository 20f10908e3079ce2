"""A real search run for the `dco view` tests: three theorems searched by the
real coqtop and logged to a real SQLite file, with four fixed tactics:
``and_intro`` is proved, ``not_succ`` fails (every tactic errors or loops: the
search space is exhausted), and ``script_text``, whose statement holds a
``<script>`` element, is proved too."""

from __future__ import annotations

from pathlib import Path

from lean_env.coq.source import parse_declarations
from lean_env.environment import open_environment
from search.budget import Budget
from search.config import SearchConfig
from search.db import SearchDB, TheoremRecord, record_of
from search.generator import FixedTacticGenerator
from search.tree_search import TreeSearch

SCRIPT = "<script>window.dcoPwned = 1</script>"
SOURCE = f"""Require Import String.
Open Scope string_scope.

Theorem and_intro : forall A B : Prop, A -> B -> A /\\ B.
Proof. Admitted.

Theorem not_succ : forall n : nat, n = S n.
Proof. Admitted.

Theorem script_text : "{SCRIPT}" = "{SCRIPT}".
Proof. Admitted.
"""
TACTICS = ("intros", "split", "assumption", "reflexivity")
CONFIG = {
    "benchmark": "view-fixture",
    "split": "test",
    "generator": "symbolic",
    "strategy": "best-first",
}


def search_records(directory: Path) -> dict[str, TheoremRecord]:
    """Search the three theorems; their records by short name."""
    (directory / "View.v").write_text(SOURCE, encoding="utf-8")
    search = TreeSearch(SearchConfig(strategy="best-first"))
    budget = Budget(wall_clock=60, max_depth=6, tactic_timeout=5)
    records = {}
    for decl in parse_declarations(directory / "View.v"):
        generator = FixedTacticGenerator(tactics=TACTICS, per_name=(), seed=3)
        result = search.search(decl.theorem, open_environment, generator, budget)
        records[decl.theorem.short_name] = record_of(result, split="test")
    return records


def rollout_records(directory: Path, passes: int = 4) -> list[TheoremRecord]:
    """pass@N rollouts (``passes`` attempts each, not stopping at a proof) on
    ``and_intro`` and ``not_succ``: a run with a pass@k curve."""
    (directory / "Roll.v").write_text(SOURCE, encoding="utf-8")
    search = TreeSearch(SearchConfig(strategy="rollouts"))
    budget = Budget(wall_clock=60, max_passes=passes, max_depth=6, tactic_timeout=5)
    records = []
    for decl in parse_declarations(directory / "Roll.v")[:2]:
        generator = FixedTacticGenerator(tactics=TACTICS, per_name=(), seed=3)
        result = search.search(decl.theorem, open_environment, generator, budget)
        records.append(record_of(result, split="test"))
    return records


def write_run(db: Path, records: list[TheoremRecord], config: dict | None = None) -> int:
    with SearchDB(db) as log:
        run_id, _ = log.open_run(config or CONFIG, total=len(records))
        for record in records:
            log.write(run_id, record)
        log.end_run(run_id)
    return run_id
