"""Tactic text is untrusted input (it comes from a model). Before anything
reaches coqtop it must be exactly one tactic sentence.

Coq itself does not reject vernacular inside a proof (``Require Import Lia.``
runs happily mid-proof, ``Admitted.`` ends it with an axiom), so the check is
here: the sentence must be a bullet, a brace, or a tactic expression, which in
Coq always starts with a lowercase identifier, ``(``, ``[`` or ``!`` after an
optional goal selector; every vernacular command starts with an uppercase
keyword or an attribute. ``Unshelve`` is the one capitalised tactic command
human proofs use, and it is allowed, as are tactics called by a qualified name
(``Z.le_elim H``): a command keyword followed by ``.name`` is a syntax
error in Coq (``Require.Import``, ``Abort.All``), so such a sentence is never a
command. ``admit``/``give_up`` and references to
the theorem itself are refused by name.
"""

from __future__ import annotations

import re

from .sentences import Sentence, SentenceError, split_one

# A goal selector in front of a tactic: "2:", "2-4:", "all:", "[n]:", "!:", "par:".
_SELECTOR = re.compile(
    r"^(?:all|par|!|\d+(?:\s*-\s*\d+)?(?:\s*,\s*\d+(?:\s*-\s*\d+)?)*|\[[\w']+\])\s*:\s*"
)
_TACTIC_START = re.compile(r"^(?:[a-z_]|\(|\[|Unshelve\b|[A-Z][\w']*\.[A-Za-z_])")
_IDENT = re.compile(r"[A-Za-z_][\w']*(?:\.[A-Za-z_][\w']*)*")
# Identifiers that make a proof not a proof. "Admitted"/"Abort" can only be
# vernacular, but they are listed so that the reason given is precise.
_FORBIDDEN_WORDS = {"admit", "give_up", "Admitted", "Abort"}
# coqtop's -emacs markup: text that could forge a prompt or a message boundary.
_MARKUP = ("<prompt", "</prompt", "<infomsg", "</infomsg", "<warning", "</warning")


class RejectedTactic(ValueError):
    """The text is not an acceptable tactic; the message says why."""


def check_tactic(text: str, theorem_name: str = "") -> Sentence:
    """Return the tactic as one normalised sentence (with its period where it
    needs one), or raise :class:`RejectedTactic`."""
    if any(m in text for m in _MARKUP):
        raise RejectedTactic("tactic contains coqtop markup")
    try:
        sentence = split_one(text)
    except SentenceError as exc:
        raise RejectedTactic(f"not a single tactic sentence: {exc}") from None
    tactic = sentence.text
    if sentence.is_structural:
        return sentence
    body = _SELECTOR.sub("", tactic, count=1)
    if not _TACTIC_START.match(body):
        head = body.split(None, 1)[0] if body.split() else body
        raise RejectedTactic(f"vernacular command {head!r} is not allowed inside a proof")
    words = set()
    stripped = re.sub(r'"(?:[^"]|"")*"', " ", tactic)  # identifiers inside strings are inert
    for ident in _IDENT.findall(stripped):
        words.add(ident)
        words.update(ident.split("."))
    bad = words & _FORBIDDEN_WORDS
    if bad:
        raise RejectedTactic(f"{sorted(bad)[0]!r} is not allowed: it does not prove the goal")
    if theorem_name:
        short = theorem_name.rsplit(".", 1)[-1]
        full_idents = set(_IDENT.findall(stripped))
        if any(i in (short, theorem_name) or theorem_name.endswith("." + i) for i in full_idents):
            raise RejectedTactic(f"tactic refers to the theorem being proved ({short})")
    return sentence


FOCUS_PREFIX = "1: "  # what focus_first puts in front of a tactic


def focus_first(sentence: Sentence, num_goals: int) -> Sentence:
    """``1: tac`` for a plain tactic sent while several goals are focused.

    Under Coq's default goal selector ``1`` the two mean the same; a file that
    sets ``Default Goal Selector "!"`` rejects the bare tactic. So a proof that
    search finds without bullets replays in any file."""
    text = sentence.text
    if num_goals <= 1 or sentence.is_structural or _SELECTOR.match(text):
        return sentence
    if not text[:1].islower() and not text.startswith(("(", "[")):
        return sentence  # Unshelve and qualified Ltac calls take no selector
    return Sentence(FOCUS_PREFIX + text, sentence.start, sentence.end)
