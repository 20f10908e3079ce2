"""The policy interface of search, and the symbolic baseline policy.

A :class:`TacticGenerator` maps a batch of proof states (the goal text the
model sees) to up to ``k`` candidate tactics each, with their log-probability
under the policy (the sum of token log-probs for a language model). Search
only ever calls ``generate``, so a trained model plugs in by implementing it
(structurally: no need to inherit from anything).

:class:`FixedTacticGenerator` is the symbolic baseline: a fixed list of
tactics plus ``induction x`` / ``destruct x`` / ... for every name the state
binds, scored uniformly or by given weights.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Candidate:
    tactic: str
    logprob: float


@runtime_checkable
class TacticGenerator(Protocol):
    """Optionally also ``reseed(seed: int) -> None``: batch runs call it before
    each theorem, so that sampling does not depend on which worker process
    searched which theorems before it; and ``set_theorem(theorem) -> None``,
    called before each theorem, which a retrieving generator uses to hide
    the theorem and what follows it in its file (a generator made of others
    forwards both)."""

    def generate(
        self, states: Sequence[str], k: int, *, temperature: float = 1.0, sample: bool = True
    ) -> list[list[Candidate]]:
        """Up to ``k`` candidates for each state, one list per state, duplicates
        merged. ``sample``: draw at ``temperature``; otherwise the top ``k``."""
        ...


def reseed_each(generators: Sequence[object], seed: int) -> None:
    """Reseed the parts of a generator made of others (part ``i`` from
    ``seed + i``, so that they do not draw the same stream)."""
    for i, generator in enumerate(generators):
        reseed = getattr(generator, "reseed", None)
        if callable(reseed):
            reseed(seed + i)


def set_theorem_each(generators: Sequence[object], theorem: object) -> None:
    """Tell every part of a generator made of others which theorem is being
    proved: a retrieving part must not see it or what follows it in its file."""
    for generator in generators:
        set_theorem = getattr(generator, "set_theorem", None)
        if callable(set_theorem):
            set_theorem(theorem)


def check_generate_args(k: int, temperature: float, sample: bool) -> None:
    """The ValueError every ``generate`` gives for arguments it cannot honour."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if sample and temperature <= 0:
        raise ValueError(f"sampling needs temperature > 0, got {temperature}")


DEFAULT_TACTICS: tuple[str, ...] = (
    "intros",
    "reflexivity",
    "assumption",
    "auto",
    "trivial",
    "easy",
    "simpl",
    "split",
    "constructor",
    "left",
    "right",
    "lia",
    "tauto",
    "congruence",
    "discriminate",
    "firstorder",
    "intuition",
    "f_equal",
    "subst",
    "eauto",
    "exfalso",
)
# `{x}` is replaced by each name bound in the state (hypotheses of the first
# goal, then the variables of its conclusion's leading `forall`).
DEFAULT_PER_NAME: tuple[str, ...] = (
    "induction {x}",
    "destruct {x}",
    "apply {x}",
    "rewrite {x}",
    "rewrite <- {x}",
    "inversion {x}",
)

_IDENT = r"[A-Za-z_][\w']*"
# A hypothesis line of Coq's goal display: "  n, m : nat" or "  x := 3 : nat".
_HYP = re.compile(rf"^  ({_IDENT}(?:, {_IDENT})*) :=? ", re.M)
_FORALL = re.compile(r"^\s*forall\s+(.*?),", re.S)


def state_names(goals: str) -> list[str]:
    """Names bound in the first goal of a Coq goal display, in order, unique:
    its hypotheses, then the binders of a leading ``forall`` in its conclusion
    (``induction n`` introduces up to ``n`` by itself)."""
    first, sep, rest = goals.partition("============================")
    names: list[str] = []
    if sep:
        for match in _HYP.finditer(first):
            names.extend(match.group(1).split(", "))
        forall = _FORALL.match(rest.split("\n\ngoal ", 1)[0])
        if forall:
            binders = re.sub(r":[^()]*", " ", forall.group(1))  # drop the types
            names.extend(n for n in re.findall(_IDENT, binders) if n != "_")
    return list(dict.fromkeys(names))


class FixedTacticGenerator:
    """The symbolic baseline. ``scores`` maps a tactic or template (``"auto"``,
    ``"induction {x}"``) to an unnormalised log-weight (default 0, i.e. uniform);
    log-probs are the log-softmax of the weights over one state's candidates.
    Sampling draws ``k`` times with replacement at ``temperature`` and merges
    duplicates, like sampling ``k`` sequences from a language model."""

    def __init__(
        self,
        tactics: Sequence[str] = DEFAULT_TACTICS,
        per_name: Sequence[str] = DEFAULT_PER_NAME,
        scores: Mapping[str, float] | None = None,
        seed: int | None = 0,
    ) -> None:
        self.tactics = tuple(tactics)
        self.per_name = tuple(per_name)
        self.scores = dict(scores or {})
        self.rng = random.Random(seed)

    def reseed(self, seed: int) -> None:
        self.rng.seed(seed)

    def candidates(self, goals: str) -> list[Candidate]:
        """All candidates for one state, best first (list order breaks ties)."""
        weighted: dict[str, float] = {}
        for tactic in self.tactics:
            weighted.setdefault(tactic, self.scores.get(tactic, 0.0))
        names = state_names(goals)
        for template in self.per_name:
            for name in names:
                weighted.setdefault(template.format(x=name), self.scores.get(template, 0.0))
        if not weighted:
            return []
        top = max(weighted.values())
        log_z = top + math.log(math.fsum(math.exp(w - top) for w in weighted.values()))
        ranked = sorted(weighted.items(), key=lambda item: -item[1])  # stable: keeps list order
        return [Candidate(t, w - log_z) for t, w in ranked]

    def generate(
        self, states: Sequence[str], k: int, *, temperature: float = 1.0, sample: bool = True
    ) -> list[list[Candidate]]:
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        out = []
        for goals in states:
            cands = self.candidates(goals)
            if not sample or not cands:
                out.append(cands[:k])
                continue
            if temperature <= 0:
                raise ValueError(f"sampling needs temperature > 0, got {temperature}")
            weights = [math.exp((c.logprob - cands[0].logprob) / temperature) for c in cands]
            drawn = self.rng.choices(cands, weights=weights, k=k)
            out.append(list(dict.fromkeys(drawn)))
        return out
