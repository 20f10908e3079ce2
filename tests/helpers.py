"""Helpers that several test modules share (fixtures live in conftest.py).

- The tiny training benchmark: four real Coq lemmas with their (state,
  tactic) steps as coqtop 8.16 prints them (:func:`make_benchmark`), and a
  tiny model's training config (:func:`train_config`).
- The tiny evaluation benchmark for ``dco evaluate`` / ``prove`` / ``demo``:
  a Coq file traced with coqtop and a file whose context does not compile
  (:func:`make_bench`), with two tiny models taught its proofs
  (:func:`train_models`). Its test theorems ``t_*`` have human proofs;
  ``u_false`` is unprovable; ``Broken.t`` cannot even be opened.
- :func:`query`: rows of a SQLite file; :func:`kill9`: kill a command under
  test the way a user's ``kill -9`` would, without leaving its proof
  assistants behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmarks.format import Benchmark, BenchmarkTheorem, Step, write_benchmark
from lean_env.coq.source import parse_declarations
from lean_env.coq.trace import trace_file
from training.data import PromptFormat
from training.model import ModelConfig
from training.trainer import TrainConfig

# -- the tiny training benchmark and model ----------------------------------

TINY_SOURCE = """Require Import Arith Lia List.

Lemma add_zero_r : forall n : nat, n + 0 = n.
Proof.
  intros n. induction n as [| n IH].
  - reflexivity.
  - simpl. rewrite IH. reflexivity.
Qed.

Lemma double_plus : forall n : nat, 2 * n = n + n.
Proof. intros n. lia. Qed.

Lemma app_nil_r' : forall (A : Type) (l : list A), l ++ nil = l.
Proof. intros A l. induction l as [| x l IH]; simpl. reflexivity. rewrite IH. reflexivity. Qed.

Lemma and_swap : forall P Q : Prop, P /\\ Q -> Q /\\ P.
Proof. intros P Q H. destruct H as [HP HQ]. split. assumption. assumption. Qed.
"""

G = "  ============================\n"
PROOFS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "add_zero_r": (
        "train",
        [
            (f"1 goal\n  \n{G}  forall n : nat, n + 0 = n", "intros n"),
            (f"1 goal\n  \n  n : nat\n{G}  n + 0 = n", "induction n as [| n IH]"),
            (f"2 goals\n  \n{G}  0 + 0 = 0\n\ngoal 2 is:\n S n + 0 = S n", "-"),
            (f"1 goal\n  \n{G}  0 + 0 = 0", "reflexivity"),
            ("1 goal\n\ngoal 1 is:\n S n + 0 = S n", "-"),
            (f"1 goal\n  \n  n : nat\n  IH : n + 0 = n\n{G}  S n + 0 = S n", "simpl"),
            (f"1 goal\n  \n  n : nat\n  IH : n + 0 = n\n{G}  S (n + 0) = S n", "rewrite IH"),
            (f"1 goal\n  \n  n : nat\n  IH : n + 0 = n\n{G}  S n = S n", "reflexivity"),
        ],
    ),
    "double_plus": (
        "train",
        [
            (f"1 goal\n  \n{G}  forall n : nat, 2 * n = n + n", "intros n"),
            (f"1 goal\n  \n  n : nat\n{G}  2 * n = n + n", "lia"),
        ],
    ),
    "app_nil_r'": (
        "train",
        [
            (f"1 goal\n  \n{G}  forall (A : Type) (l : list A), l ++ nil = l", "intros A l"),
            (
                f"1 goal\n  \n  A : Type\n  l : list A\n{G}  l ++ nil = l",
                "induction l as [| x l IH]; simpl",
            ),
            (
                f"2 goals\n  \n  A : Type\n{G}  nil = nil\n\ngoal 2 is:\n x :: l ++ nil = x :: l",
                "reflexivity",
            ),
            (
                f"1 goal\n  \n  A : Type\n  x : A\n  l : list A\n  IH : l ++ nil = l\n{G}  x :: l ++ nil = x :: l",
                "rewrite IH",
            ),
            (
                f"1 goal\n  \n  A : Type\n  x : A\n  l : list A\n  IH : l ++ nil = l\n{G}  x :: l = x :: l",
                "reflexivity",
            ),
        ],
    ),
    "and_swap": (
        "val",
        [
            (f"1 goal\n  \n{G}  forall P Q : Prop, P /\\ Q -> Q /\\ P", "intros P Q H"),
            (f"1 goal\n  \n  P, Q : Prop\n  H : P /\\ Q\n{G}  Q /\\ P", "destruct H as [HP HQ]"),
            (f"1 goal\n  \n  P, Q : Prop\n  HP : P\n  HQ : Q\n{G}  Q /\\ P", "split"),
            (
                f"2 goals\n  \n  P, Q : Prop\n  HP : P\n  HQ : Q\n{G}  Q\n\ngoal 2 is:\n P",
                "assumption",
            ),
            (f"1 goal\n  \n  P, Q : Prop\n  HP : P\n  HQ : Q\n{G}  P", "assumption"),
        ],
    ),
}


def make_benchmark(directory: Path) -> Path:
    """Write the tiny benchmark (and its Coq file, so that theorems can be
    opened in coqtop) under ``directory``; returns the benchmark directory."""
    directory.mkdir(parents=True, exist_ok=True)
    source = directory / "Small.v"
    source.write_text(TINY_SOURCE, encoding="utf-8")
    decls = {d.theorem.short_name: d for d in parse_declarations(source)}
    theorems, steps = [], []
    for i, (name, (split, proof)) in enumerate(PROOFS.items()):
        theorems.append(BenchmarkTheorem(i, decls[name].theorem, split, tuple(t for _, t in proof)))
        steps.extend(Step(i, j, state, tactic, split) for j, (state, tactic) in enumerate(proof))
    bench = directory / "bench"
    write_benchmark(bench, Benchmark("tiny", theorems, steps, {"library": "tiny"}))
    return bench


TINY = ModelConfig(hidden=64, layers=2, heads=2, mlp=128, vocab_size=512)
FMT = PromptFormat(max_prompt_tokens=96, max_tactic_tokens=16)


def train_config(bench: Path, out: Path, **kw: Any) -> TrainConfig:
    base = TrainConfig(
        benchmark=str(bench),
        out=str(out),
        model=TINY,
        prompt=FMT,
        batch_size=8,
        lr=3e-3,
        warmup_steps=10,
        schedule="constant",
        checkpoint_every=1000,
        progress=False,
    )
    return replace(base, **kw)


# -- the tiny evaluation benchmark --------------------------------------------

EV_SOURCE = """Require Import Arith Lia.

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
    head, rest = EV_SOURCE.split("\n", 1)
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


def train_models(
    root: Path, bench: Path, steps: list[Step], names: tuple[str, ...] = ("ce", "n2")
) -> Path:
    """``root/models/ce`` (CE, N'=1) and ``root/models/n2`` (DCOstep, N'=2),
    taught the traced proofs (only those in ``names``)."""
    from benchmarks.loader import load_benchmark
    from benchmarks.training_data import train_on_benchmark as train
    from training.losses import LossConfig

    theorems = load_benchmark(str(bench)).theorems()
    taught = root / "taught"
    write_benchmark(
        taught,
        Benchmark("ev", [replace(t, split="train") for t in theorems], steps, {"library": "ev"}),
    )
    models = root / "models"
    for name, loss in (("ce", LossConfig("ce")), ("n2", LossConfig("dcostep", n=2))):
        if name not in names:
            continue
        train(train_config(taught, models / name, max_steps=80, loss=loss))
    return models


def query(db: Path, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(sql, params)]
    finally:
        con.close()


# -- processes ------------------------------------------------------------------


def children(pid: int) -> list[int]:
    """The direct children of ``pid`` (from /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                out.append(int(stat.parent.name))
    return out


def default_sigint() -> None:
    """``preexec_fn`` of a command a test interrupts: SIGINT as in a
    terminal (default action, unblocked). A child inherits an ignored or
    blocked SIGINT, and a shell's background job ignores it, so a suite
    started with ``&`` would otherwise run commands that Ctrl-C cannot stop."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def kill9(proc: subprocess.Popen) -> None:
    """SIGKILL ``proc``, then the process groups of its direct children:
    coqtop runs in its own process group, so the SIGKILL of its parent
    leaves it running until its current tactic ends."""
    kids = children(proc.pid)
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    for pid in kids:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
