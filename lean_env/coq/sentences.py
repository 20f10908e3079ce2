"""Split Coq source text into sentences, the unit coqtop executes.

One home for Coq's lexical rules that matter to us: nested comments, strings
(with ``""`` escapes, also lexed inside comments), the sentence-ending period
(a ``.`` or ``...`` followed by whitespace or end of input, but not ``..``), and the
proof-structure sentences that end without a period: bullets (``-``, ``+``,
``*`` and their repetitions), ``{`` (optionally behind a goal selector such as
``2:``) and ``}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BULLET = re.compile(r"(-+|\++|\*+)(?=\s|$|[^-+*)])")
_SELECTOR_BRACE = re.compile(r"(?:\d+|\[[A-Za-z_][\w']*\]|all)\s*:\s*\{")


class SentenceError(ValueError):
    """Source text that cannot be split: an unterminated comment or string, or a
    final sentence without its period."""


@dataclass(frozen=True)
class Sentence:
    """One sentence. ``text`` has comments removed and whitespace outside
    strings collapsed; ``start``/``end`` are character offsets into the source."""

    text: str
    start: int
    end: int

    @property
    def is_structural(self) -> bool:
        """A bullet or a brace: proof structure rather than a tactic."""
        return (
            bool(_BULLET.fullmatch(self.text))
            or self.text == "}"
            or bool(_SELECTOR_BRACE.fullmatch(self.text) or self.text == "{")
        )


def _skip_string(src: str, i: int) -> int:
    """``src[i]`` is an opening quote; return the index after the closing one."""
    n = len(src)
    i += 1
    while i < n:
        if src[i] == '"':
            if i + 1 < n and src[i + 1] == '"':
                i += 2
                continue
            return i + 1
        i += 1
    raise SentenceError("unterminated string literal")


def _skip_comment(src: str, i: int) -> int:
    """``src[i:i+2] == '(*'``; return the index after the matching ``*)``."""
    n = len(src)
    depth = 0
    while i < n:
        if src.startswith("(*", i):
            depth += 1
            i += 2
        elif src.startswith("*)", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        elif src[i] == '"':
            i = _skip_string(src, i)
        else:
            i += 1
    raise SentenceError("unterminated comment")


def _normalise(pieces: list[str]) -> str:
    out: list[str] = []
    for piece in pieces:
        if piece.startswith('"'):
            out.append(piece)
        else:
            out.append(re.sub(r"\s+", " ", piece))
    return "".join(out).strip()


def split_sentences(src: str) -> list[Sentence]:
    """All sentences of ``src`` in order. Raises :class:`SentenceError` on
    malformed input, including trailing text that is not a whole sentence."""
    sentences: list[Sentence] = []
    n = len(src)
    i = 0
    while True:
        # Skip whitespace and comments between sentences.
        while i < n:
            if src[i].isspace():
                i += 1
            elif src.startswith("(*", i):
                i = _skip_comment(src, i)
            else:
                break
        if i >= n:
            return sentences
        start = i
        bullet = _BULLET.match(src, i)
        if bullet:
            sentences.append(Sentence(bullet.group(0), start, bullet.end()))
            i = bullet.end()
            continue
        if src[i] in "{}":
            sentences.append(Sentence(src[i], start, i + 1))
            i += 1
            continue
        brace = _SELECTOR_BRACE.match(src, i)
        if brace:
            sentences.append(Sentence(_normalise([brace.group(0)]), start, brace.end()))
            i = brace.end()
            continue
        pieces: list[str] = []
        chunk_start = i
        while True:
            if i >= n:
                raise SentenceError(
                    f"sentence at offset {start} has no terminating period: "
                    f"{src[start : start + 60]!r}"
                )
            c = src[i]
            if c == '"':
                pieces.append(src[chunk_start:i])
                j = _skip_string(src, i)
                pieces.append(src[i:j])
                i = chunk_start = j
            elif src.startswith("(*", i):
                pieces.append(src[chunk_start:i] + " ")
                i = chunk_start = _skip_comment(src, i)
            elif c == ".":
                j = i
                while j < n and src[j] == ".":
                    j += 1
                # ``tac...`` ends a sentence too (``...`` applies the tactic
                # set by ``Proof with``).
                if j - i in (1, 3) and (j == n or src[j].isspace()):
                    pieces.append(src[chunk_start:j])
                    sentences.append(Sentence(_normalise(pieces), start, j))
                    i = j
                    break
                i = j  # ``..`` and qualified names do not end a sentence
            else:
                i += 1


def split_one(text: str) -> Sentence:
    """Exactly one sentence, as a tactic must be. A missing final period is
    supplied (users write ``--proof "auto"``); anything else raises."""
    stripped = text.strip()
    try:
        sentences = split_sentences(stripped)
    except SentenceError:
        sentences = split_sentences(stripped + ".")
    if len(sentences) != 1:
        raise SentenceError(f"expected exactly one sentence, got {len(sentences)}")
    return sentences[0]
