"""A tiny real benchmark for the `dco evaluate` / `prove` tests: a Coq file
traced with coqtop, a file whose context does not compile, and (for the
model tests) two tiny models trained in seconds on the traced steps.

Test theorems ``t_*`` have human proofs the models are taught; ``u_false``
is unprovable; ``Broken.t`` cannot even be opened (a start failure).
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmarks.format import Benchmark, BenchmarkTheorem, Step, write_benchmark
from lean_env.coq.source import parse_declarations
from lean_env.coq.trace import trace_file

SOURCE = """Require Import Arith Lia.

Lemma t_add_0 : forall n : nat, n + 0 = n.
Proof. intros n. lia. Qed.

Lemma t_and : forall P Q : Prop, P /\\ Q -> Q /\\ P.
Proof. intros P Q H. destruct H as [HP HQ]. split. assumption. assumption. Qed.

Lemma u_false : forall n : nat, n = S n.
Proof. Admitted.

Lemma t_comm : forall n m : nat, n + m = m + n.
Proof. intros n m. lia. Qed.

Lemma t_or : forall P Q : Prop, P -> P \\/ Q.
Proof. intros P Q H. left. assumption. Qed.
"""
BROKEN = "Definition broken := undefined_thing.\nTheorem t : True.\nProof. exact I. Qed.\n"


def make_bench(root: Path, *, extra_hard: int = 0, prelude: str = "") -> tuple[Path, list[Step]]:
    """The benchmark directory (every theorem in the test split) and the
    traced steps of the ``t_*`` proofs. ``extra_hard`` appends that many
    more unprovable theorems (slow ones, for the kill/interrupt tests);
    ``prelude`` goes after the file's first line."""
    root.mkdir(parents=True, exist_ok=True)
    head, rest = SOURCE.split("\n", 1)
    source = f"{head}\n{prelude}{rest}" + "".join(
        f"\nLemma u_hard{i} : forall n m : nat, n * m = n + m + {i}.\nProof. Admitted.\n"
        for i in range(extra_hard)
    )
    (root / "Ev.v").write_text(source, encoding="utf-8")
    (root / "Broken.v").write_text(BROKEN, encoding="utf-8")
    traced = {t.theorem.name: t for t in trace_file(root / "Ev.v", recheck=False).theorems}
    theorems, steps = [], []
    for name in ("Ev.v", "Broken.v"):
        for decl in parse_declarations(root / name):
            i = len(theorems)
            tt = traced.get(decl.theorem.name)
            tactics = tt.tactics if tt else ()
            theorems.append(BenchmarkTheorem(i, decl.theorem, "test", tactics))
            if tt:
                steps += [Step(i, j, s.state, s.tactic, "train") for j, s in enumerate(tt.steps)]
    bench = root / "bench"
    write_benchmark(bench, Benchmark("ev", theorems, [], {"library": "ev"}))
    return bench, steps


def train_models(root: Path, bench: Path, steps: list[Step]) -> Path:
    """``root/models/ce`` (CE, N'=1) and ``root/models/n2`` (DCOstep, N'=2),
    taught the traced proofs."""
    from test_training_trainer import config as train_config

    from benchmarks.loader import load_benchmark
    from prover.training_data import train_on_benchmark as train
    from training.losses import LossConfig

    theorems = load_benchmark(str(bench)).theorems()
    taught = root / "taught"
    write_benchmark(taught, Benchmark("ev", [replace(t, split="train") for t in theorems],
                                      steps, {"library": "ev"}))  # fmt: skip
    models = root / "models"
    for name, loss in (("ce", LossConfig("ce")), ("n2", LossConfig("dcostep", n=2))):
        train(train_config(taught, models / name, max_steps=80, loss=loss))
    return models


def query(db: Path, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(sql, params)]
    finally:
        con.close()
