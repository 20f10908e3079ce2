"""Features of a Coq goal display for nearest-neighbour retrieval
(Tactician style): the identifiers and symbols of the first goal's
conclusion, their bigrams, its head symbol, the identifiers of the
hypotheses' types, and the number of goals. Hypothesis *names* are left out
(``H``, ``H0`` say nothing about the goal); the names a tactic mentions are
adapted to the current state separately (:func:`adapt_names`).
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

RULE = "============================"
_TOKEN = re.compile(r"[A-Za-z_][\w'.]*|[^\s\w(),]+")
_COUNT = re.compile(r"^(\d+) goals?")
# A hypothesis line: "  n, m : nat" or "  x := 3 : nat" (continuation lines
# of a long type are indented further and belong to the type above).
_HYP = re.compile(r"^  ([A-Za-z_][\w']*(?:, [A-Za-z_][\w']*)*) :=? (.*)$")
_WORD = re.compile(r"[A-Za-z_][\w']*")


def split_goal(state: str) -> tuple[str, str, str, str]:
    """(header, hypotheses, conclusion of the first goal, the other goals)."""
    before, sep, after = state.partition(RULE)
    if not sep:
        return "", "", state, ""
    header, _, hyps = before.partition("\n")
    conclusion, sep2, rest = after.partition("\n\ngoal ")
    return header, hyps, conclusion, (sep2.lstrip("\n") + rest) if sep2 else ""


def hypotheses(state: str) -> list[tuple[str, str]]:
    """(name, type) of the first goal's hypotheses, in display order."""
    _, hyps, _, _ = split_goal(state)
    out: list[tuple[str, str]] = []
    for line in hyps.split("\n"):
        match = _HYP.match(line)
        if match:
            out.extend((name, match.group(2).strip()) for name in match.group(1).split(", "))
        elif out and line.startswith("   "):  # a long type continues
            name, typ = out[-1]
            out[-1] = (name, typ + " " + line.strip())
    return out


def _head(tokens: list[str]) -> str:
    for tok in tokens:
        if tok not in ("forall", "exists", "fun", "~"):
            return tok
    return tokens[0] if tokens else ""


def features(state: str) -> Counter[str]:
    """The bag of features of one state (counts)."""
    header, _, conclusion, rest = split_goal(state)
    bag: Counter[str] = Counter()
    toks = _TOKEN.findall(conclusion)
    bag.update("c:" + t for t in toks)
    bag.update(f"b:{a} {b}" for a, b in zip(toks, toks[1:], strict=False))
    if toks:
        bag["h:" + _head(toks)] += 2
    names = {n for n, _ in hypotheses(state)}
    for _, typ in hypotheses(state):
        bag.update("t:" + t for t in _TOKEN.findall(typ) if t not in names)
    match = _COUNT.match(header or state)
    goals = int(match.group(1)) if match else 1
    bag[f"n:{min(goals, 4)}"] += 1
    if rest:
        bag.update("o:" + t for t in _TOKEN.findall(rest)[:64])
    return bag


@lru_cache(maxsize=4096)
def _canonical(state: str) -> tuple[tuple[str, str], ...]:
    """The hypotheses with the state's own hypothesis names in their types
    replaced by their rank, so that ``Hlt : n < 3`` and ``H : m < 3`` have the
    same type when ``n`` and ``m`` are the first hypotheses of their states."""
    hyps = hypotheses(state)
    rank = {}
    for name, _ in hyps:
        rank.setdefault(name, f"#{len(rank)}")
    return tuple(
        (name, " ".join(_WORD.sub(lambda m: rank.get(m.group(0), m.group(0)), typ).split()))
        for name, typ in hyps
    )


def adapt_names(tactic: str, source: str, target: str) -> str:
    """``tactic`` written for state ``source``, with the hypothesis names it
    mentions renamed to those of ``target``: a name of ``source`` that
    ``target`` lacks becomes the target's hypothesis with the same type (up
    to the names of hypotheses; the first one not already taken). Unmatched
    names stay as they are."""
    mentioned = set(_WORD.findall(tactic))
    src = _canonical(source)
    tgt = _canonical(target)
    have = {n for n, _ in tgt}
    if not any(n in mentioned and n not in have for n, _ in src):
        return tactic
    by_type: dict[str, list[str]] = {}
    for name, typ in tgt:
        by_type.setdefault(typ, []).append(name)
    renames: dict[str, str] = {}
    for name, typ in src:
        if name not in mentioned or name in have:
            continue
        options = [n for n in by_type.get(typ, []) if n not in mentioned]
        options = [n for n in options if n not in renames.values()]
        if options:
            renames[name] = options[0]
    if not renames:
        return tactic
    return _WORD.sub(lambda m: renames.get(m.group(0), m.group(0)), tactic)
