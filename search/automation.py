"""Automation as tactic generators: the arithmetic deciders and CoqHammer.

``symbolic-arith`` is the symbolic baseline (:mod:`search.generator`) plus
Coq's arithmetic decision procedures. Tactics stay plain tactic text: the
``Require`` each needs (``Lia``, ``Lra``, ``Psatz``, ``Field``) is the
benchmark's business (miniF2F-rocq's prelude imports them all); where one is
not in scope the tactic simply fails, like any other candidate.

``hammer`` is CoqHammer 1.3 (Debian ``libcoq-hammer`` with the ATPs
``eprover`` and ``cvc4``): its reconstruction tactics (``sauto`` and friends,
no ATP needed) and ``hammer`` itself. Its library is imported through the
theorem's *preamble* (after the theorem's context, just before the statement:
imported before a file's own text it changed how later proofs' bullets
parse). The preamble is not part of the theorem's own context, so the re-check
accepts no axiom that only CoqHammer's imports bring in (its ``Tactics``
library loads ``Program.Equality``, whose ``dependent destruction`` uses
``JMeq_eq``). ``hammer`` cannot be bounded by Coq's ``Timeout`` (CoqHammer
reports "CoqHammer bug: Control.Timeout"): the environment's interrupt at the
per-tactic timeout bounds it, and ``Set Hammer ATPLimit`` bounds its ATP
phase below that.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from lean_env.errors import ProverNotInstalled

from .generator import (
    DEFAULT_PER_NAME,
    DEFAULT_TACTICS,
    Candidate,
    FixedTacticGenerator,
)

# Coq's arithmetic deciders and normalisers. Best-first runs one state's
# candidates in list order when their scores tie, so the list is split by
# cost: the fast deciders go before the symbolic list, the ones that can run
# to the tactic timeout on a hard goal (nonlinear search, psatz's external
# CSDP solver) after it. ``intros; t`` closes a stated implication in one
# step (most miniF2F problems have that shape).
#
# Two preprocessing steps widen what the deciders see; each was kept because
# it closed miniF2F-rocq *valid* problems at the root that no other tactic
# of the list closed there (23 more of 244, next to 47):
# - ``NAT_TO_Z_DIV_MOD`` turns ``nat`` arithmetic with ``mod``, ``/`` and
#   ``^`` into ``Z`` and each ``mod``/``/`` into its Euclidean equations, so
#   ``lia``/``nia`` decide divisibility and remainder goals
#   (``x < 100 -> x * 9 mod 100 = 1 -> x = 89``) and ``(5 ^ 2005) mod 100``
#   is computed in binary. Names are fully qualified: ``Lia`` loads these
#   modules, but their short names need ``ZArith`` imported, which many
#   problems do not.
# - ``REWRITE_DEFINITIONS`` rewrites with every hypothesis of the form
#   ``forall x, f x = ...`` (the usual way a problem defines a function) and
#   drops it, so ``lra`` sees ``f 2 = 9`` as the polynomial it is. Each
#   hypothesis is used once, so the loop ends.
NAT_TO_Z_DIV_MOD = (
    "Coq.micromega.Zify.zify; "
    "rewrite ?Coq.ZArith.Znat.Nat2Z.inj_mod, ?Coq.ZArith.Znat.Nat2Z.inj_div, "
    "?Coq.ZArith.Znat.Nat2Z.inj_pow in *; "
    "Coq.omega.PreOmega.Z.div_mod_to_equations"
)
REWRITE_DEFINITIONS = (
    "repeat match goal with H : forall _, _ = _ |- _ => rewrite !H in *; clear H end"
)
FAST_ARITH: tuple[str, ...] = (
    "lia",
    "lra",
    "intros; lia",
    "intros; lra",
    "intros; subst; lra",
    "ring",
    "field",
    f"intros; {REWRITE_DEFINITIONS}; lra",
    f"intros; {NAT_TO_Z_DIV_MOD}; lia",
)
SLOW_ARITH: tuple[str, ...] = (
    "nia",
    "nra",
    "intros; nia",
    "intros; nra",
    "intros; subst; nra",
    "intros; field",
    f"intros; {NAT_TO_Z_DIV_MOD}; nia",
    "intros; subst; field_simplify; lra",
    "psatz Z 2",
    "psatz R 2",
    "ring_simplify",
    "field_simplify",
)
ARITH_TACTICS: tuple[str, ...] = (*FAST_ARITH, *SLOW_ARITH)

# ``qauto`` is CoqHammer's quick variant (fails fast); ``hammer`` (the ATPs,
# then reconstruction) comes next because at a budget of a few tactic
# timeouts the slower reconstruction tactics after it may never run.
HAMMER_TACTICS: tuple[str, ...] = ("qauto", "hammer", "sauto", "hauto", "sfirstorder")
HAMMER_ATP_LIMIT = 10  # seconds; give the hammer member a --tactic-timeout above it
# The tactic timeout a hammer stage of a portfolio gets at least: the ATP
# phase plus reconstruction (the 300-theorem hammer run used 20 s).
HAMMER_TACTIC_TIMEOUT = 20.0
# Debian puts CoqHammer's helper (which it runs CVC4 through) off the PATH.
HAMMER_LIBEXEC = Path("/usr/libexec/coq-hammer")
HAMMER_ATPS = ("eprover", "cvc4", "vampire", "z3_tptp")


def arith_generator(seed: int | None = 0) -> FixedTacticGenerator:
    """The symbolic list plus the arithmetic deciders (``symbolic-arith``)."""
    tactics = tuple(dict.fromkeys((*FAST_ARITH, *DEFAULT_TACTICS, *SLOW_ARITH)))
    return FixedTacticGenerator(tactics, DEFAULT_PER_NAME, seed=seed)


# The tactics of ``symbolic-arith`` that end the goal they run on or fail
# (``auto``, ``trivial`` and ``eauto`` leave a goal they cannot prove
# unchanged, which the search counts as no progress). ``firstorder`` can
# succeed and leave goals, so it is tried as ``solve [firstorder]``. What the
# list keeps out are its steps: ``intros``, ``simpl``, ``split``,
# ``destruct x``, ``ring_simplify``, ``intuition`` (it too can leave goals),
# ... . A hybrid with a learned source uses these as closing attempts only
# (prover/hybrid.py).
_CLOSING = {
    "reflexivity", "assumption", "auto", "trivial", "easy", "lia", "tauto", "congruence",
    "discriminate", "eauto", "lra", "nia", "nra", "ring", "field", "psatz Z 2", "psatz R 2",
}  # fmt: skip
_CLOSING_IF_SOLVED = {"firstorder"}  # can succeed and leave goals: tried in solve [...]
CLOSERS: tuple[str, ...] = tuple(
    f"solve [{t}]" if t in _CLOSING_IF_SOLVED else t
    for t in dict.fromkeys((*FAST_ARITH, *DEFAULT_TACTICS, *SLOW_ARITH))
    if t.split(";")[-1].strip() in _CLOSING | _CLOSING_IF_SOLVED
)


def closer_generator(seed: int | None = 0) -> FixedTacticGenerator:
    """:data:`CLOSERS`, the same for every state, in list order."""
    return FixedTacticGenerator(CLOSERS, (), seed=seed)


def hammer_preamble(atp_limit: int = HAMMER_ATP_LIMIT) -> str:
    return f"From Hammer Require Import Hammer.\nSet Hammer ATPLimit {atp_limit}."


@cache
def hammer_problem() -> str | None:
    """Why CoqHammer cannot run here (one line), or None when it can."""
    coqc = shutil.which("coqc")
    if coqc is None:
        return "coqc not found: install Coq 8.16 (`apt-get install -y coq`)"
    where = subprocess.run([coqc, "-where"], capture_output=True, text=True, timeout=60)
    if not (Path(where.stdout.strip()) / "user-contrib" / "Hammer").is_dir():
        return (
            "CoqHammer is not installed: `apt-get install libcoq-hammer eprover cvc4` "
            "(or run scripts/setup.sh)"
        )
    path = os.pathsep.join((os.environ.get("PATH", ""), str(HAMMER_LIBEXEC)))
    if not any(shutil.which(atp, path=path) for atp in HAMMER_ATPS):
        return "no ATP for CoqHammer found: `apt-get install eprover cvc4`"
    return None


class HammerGenerator:
    """CoqHammer's tactics, the same for every state, in the order of
    :data:`HAMMER_TACTICS`."""

    def __init__(
        self, tactics: Sequence[str] = HAMMER_TACTICS, atp_limit: int = HAMMER_ATP_LIMIT
    ) -> None:
        problem = hammer_problem()
        if problem is not None:
            raise ProverNotInstalled(problem)
        self.tactics = tuple(tactics)
        # Read by the search runner: run before each statement (see above).
        self.preamble = hammer_preamble(atp_limit)
        # Read by a portfolio (search.portfolio): a hammer stage's tactics
        # get at least this, whatever the budget's tactic timeout.
        self.min_tactic_timeout = HAMMER_TACTIC_TIMEOUT
        # coqtop and the re-check's coqc are started by this process and
        # inherit its PATH; CoqHammer calls its helper by name.
        if HAMMER_LIBEXEC.is_dir() and str(HAMMER_LIBEXEC) not in os.environ.get("PATH", ""):
            os.environ["PATH"] = os.pathsep.join((os.environ.get("PATH", ""), str(HAMMER_LIBEXEC)))

    def generate(
        self, states: Sequence[str], k: int, *, temperature: float = 1.0, sample: bool = True
    ) -> list[list[Candidate]]:
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        uniform = FixedTacticGenerator(self.tactics, (), seed=0).candidates("")
        return [list(uniform[:k]) for _ in states]
