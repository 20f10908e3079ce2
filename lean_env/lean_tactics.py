"""Untrusted Lean 4 tactic text (model output), checked before it reaches Lean.

The check is textual: comments and string literals are blanked, then the
identifiers are scanned. What is refused and why is in
:func:`check_lean_tactic`; :func:`proof_script` writes accepted tactics back as
the proof of a theorem for the whole-file check.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence

# --------------------------------------------------------------------------
# The tactic check
# --------------------------------------------------------------------------

# Identifiers that close a goal without proving it, or trust something outside
# Lean's kernel: `sorry`/`admit` and the axiom behind them; `native_decide` and
# the compiler-trusting axioms it relies on.
FORBIDDEN_IDENTIFIERS = frozenset(
    {
        "sorry",
        "admit",
        "sorryAx",
        "native_decide",
        "ofReduceBool",
        "ofReduceNat",
        "reduceBool",
        "reduceNat",
        "trustCompiler",
    }
)
# Tactics that run arbitrary meta-code (which can add an axiom and use it).
FORBIDDEN_TACTICS = frozenset({"run_tac", "run_cmd", "run_elab", "run_meta", "by_elab"})
# Command keywords. In a file, a tactic block ends at the first token that is
# not a tactic and Lean goes on parsing commands, whatever the indentation: a
# tactic text containing one of these would smuggle a declaration (or change
# the file's scope) into the whole-file check. None of them is a tactic.
COMMAND_KEYWORDS = frozenset(
    {
        "theorem",
        "lemma",
        "def",
        "abbrev",
        "axiom",
        "example",
        "instance",
        "opaque",
        "structure",
        "class",
        "inductive",
        "mutual",
        "namespace",
        "section",
        "end",
        "variable",
        "universe",
        "import",
        "attribute",
        "macro",
        "macro_rules",
        "syntax",
        "elab",
        "elab_rules",
        "notation",
        "infix",
        "infixl",
        "infixr",
        "prefix",
        "postfix",
        "initialize",
        "builtin_initialize",
        "declare_syntax_cat",
        "noncomputable",
        "unsafe",
        "partial",
        "private",
        "protected",
        "export",
        "omit",
        "include",
        "deriving",
        "add_decl_doc",
        "register_option",
        "register_simp_attr",
    }
)
# `set_option NAME VALUE in TAC` is a legitimate tactic, but some options switch
# checks off (`debug.skipKernelTC`); only these are allowed.
ALLOWED_OPTIONS = frozenset(
    {"maxHeartbeats", "maxRecDepth", "synthInstance.maxHeartbeats", "synthInstance.maxSize"}
)
ALLOWED_OPTION_PREFIXES = ("pp.", "trace.", "linter.")

# Lean 4's identifier syntax (isIdFirst/isIdRest): letters (incl. Greek and
# letter-like symbols, which Python's \w covers), digits after the first
# character, _ ' ! ?, subscripts; «…» quotes anything. λ Π Σ are not letters
# to Lean, so they are blanked before scanning.
_ATOM = r"(?:«[^»\n]*»|[^\W\d][\w'!?]*)"
_IDENT = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
_NON_LETTERS = str.maketrans({c: " " for c in "λΠΣ"})
_HASH_COMMAND = re.compile(r"#[A-Za-z_]")
_SET_OPTION = re.compile(r"\bset_option\s+([\w.]+)")
# `decide +native` / `decide (config := {native := true})` are native_decide.
_NATIVE_CONFIG = re.compile(r"\+native\b|\bnative\s*:=\s*true\b")


class RejectedLeanTactic(ValueError):
    """The text is not an acceptable Lean tactic; the message says why."""


def blank_inert(text: str) -> str:
    """``text`` with comments and string/char literals replaced by spaces (their
    contents are inert); raises on an unterminated one, which in a file would
    swallow everything after the proof."""
    out = list(text)
    i, n = 0, len(text)

    def blank(a: int, b: int) -> None:
        for k in range(a, b):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        c = text[i]
        if text.startswith("--", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
        elif text.startswith("/-", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/-", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("-/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            if depth:
                raise RejectedLeanTactic("unterminated block comment")
            blank(i, j)
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                raise RejectedLeanTactic("unterminated string literal")
            blank(i, j + 1)
            i = j + 1
        elif c == "'" and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] in "_'!?")):
            # A char literal ('a', '\n'), not the prime of an identifier (h').
            m = re.match(r"'(?:\\.[^']*|[^'\\\n])'", text[i:])
            if m:
                blank(i, i + m.end())
                i += m.end()
            else:
                i += 1
        else:
            i += 1
    return "".join(out)


def _refers_to(ident: str, theorem_name: str) -> bool:
    """Whether ``ident`` (or a prefix of it, as in ``thm.mp``) can name the
    theorem: its full name, or any dotted suffix of it (the namespaces of a
    declaration's name are open inside its proof). This also refuses a
    homonym from another namespace used as a term: the price of never letting
    a self-reference through, since the REPL does not run Lean's termination
    check on a recursive proof."""
    ident = ident.removeprefix("_root_.")
    parts = ident.split(".")
    for k in range(1, len(parts) + 1):
        candidate = ".".join(parts[:k])
        if candidate == theorem_name or theorem_name.endswith("." + candidate):
            return True
    return False


# What may come right before a tactic: the start of the text, a sequencing
# token (`;`, `<;>`), `by`, or a combinator that takes a tactic (`try tac`).
# An identifier there is the tactic's own keyword (`ext x`, `rfl`, `symm`),
# never a term: Lean does not accept a bare term where a tactic is expected.
_TACTIC_BEFORE = re.compile(
    r"(?:^|;|<;>|(?<![\w'!?.])(?:by|try|repeat|all_goals|any_goals|focus))\s*$"
)
# A focusing dot (`·` anywhere, `.` only as the first thing on its line).
_BULLET_BEFORE = re.compile(r"(?:·|^[ \t]*\.|\n[ \t]*\.)[ \t]+$")


def _in_tactic_position(code: str, start: int) -> bool:
    """Whether the identifier at ``code[start]`` stands where a tactic starts."""
    before = code[:start]
    return bool(_TACTIC_BEFORE.search(before) or _BULLET_BEFORE.search(before))


def check_lean_tactic(text: str, theorem_name: str = "") -> str:
    """The tactic text to send (surrounding blank space removed), or raise
    :class:`RejectedLeanTactic`. Refused, outside comments and strings:

    - :data:`FORBIDDEN_IDENTIFIERS` (``sorry``, ``admit``, ``sorryAx``,
      ``native_decide`` ...) and ``decide +native``;
    - :data:`FORBIDDEN_TACTICS` (``run_tac`` ... run arbitrary meta-code);
    - :data:`COMMAND_KEYWORDS` (``theorem``, ``axiom``, ``namespace``, ``end`` ...)
      and ``#``-commands (``#eval``, ``#exit`` ...): a second command smuggled
      after the tactic;
    - ``set_option`` of anything but :data:`ALLOWED_OPTIONS` / ``pp.*``,
      ``trace.*``, ``linter.*``;
    - the theorem's own name used as a term: the full name or any dotted suffix
      of it (see :func:`_refers_to`), except a one-part identifier standing
      where a tactic starts, which is a tactic keyword (``ext x`` in
      ``Finset.ext``, ``rfl`` in ``Iff.rfl``, ``symm``, ``congr 1``);
    - unterminated comments or strings.

    A multi-line tactic is fine: LeanDojo's traced tactics often are.
    """
    tactic = text.replace("\r\n", "\n").strip()
    if not tactic:
        raise RejectedLeanTactic("empty tactic")
    if "\x00" in tactic:
        raise RejectedLeanTactic("tactic contains a NUL character")
    code = blank_inert(tactic).translate(_NON_LETTERS)
    hash_command = _HASH_COMMAND.search(code)
    if hash_command:
        word = re.match(r"#\w+", code[hash_command.start() :])
        raise RejectedLeanTactic(f"command {word.group(0) if word else '#'!r} is not a tactic")
    for option in _SET_OPTION.findall(code):
        if option not in ALLOWED_OPTIONS and not option.startswith(ALLOWED_OPTION_PREFIXES):
            raise RejectedLeanTactic(f"set_option {option} is not allowed inside a proof")
    if _NATIVE_CONFIG.search(code):
        raise RejectedLeanTactic("native evaluation is not allowed: it trusts the compiler")
    for match in _IDENT.finditer(code):
        ident = match.group(0)
        if ident in COMMAND_KEYWORDS:
            raise RejectedLeanTactic(f"command keyword {ident!r} is not allowed in a tactic")
        if ident in FORBIDDEN_TACTICS:
            raise RejectedLeanTactic(f"{ident!r} runs arbitrary meta-code: not allowed")
        bad = [p for p in ident.split(".") if p in FORBIDDEN_IDENTIFIERS]
        if bad:
            raise RejectedLeanTactic(f"{bad[0]!r} is not allowed: it does not prove the goal")
        if (
            theorem_name
            and _refers_to(ident, theorem_name)
            and not ("." not in ident and _in_tactic_position(code, match.start()))
        ):
            raise RejectedLeanTactic(f"tactic refers to the theorem being proved ({ident})")
    return tactic


def proof_script(tactics: Sequence[str]) -> str:
    """The proof term for ``theorem … :=``: ``by`` and the tactics, one after the
    other, each shifted right by two columns as a whole. The REPL parsed each
    tactic as if it started at column 0, so a uniform shift keeps the layout
    (``·`` blocks, ``| case =>`` alternatives) exactly as Lean saw it."""
    return "by\n" + "\n".join(textwrap.indent(t, "  ") for t in tactics)
