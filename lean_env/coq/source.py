"""Find theorem declarations and their proofs in a Coq source file.

A declaration's context is the file's text before it (the theorem itself and
everything after it are out of scope), so a :class:`~lean_env.types.Theorem`
records the file and the character offset where the declaration starts. Full
names follow Coq's rules: the file's logical path, then the enclosing
``Module`` names (``Section`` names are not part of names).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from ..types import Backend, Theorem
from .sentences import Sentence, SentenceError, split_sentences

THEOREM_KEYWORDS = ("Lemma", "Theorem", "Corollary", "Proposition", "Fact", "Remark", "Example")
PROOF_ENDINGS = ("Qed", "Defined", "Admitted", "Abort", "Save")

_ATTRS = r"(?:#\[[^\]]*\]\s*)*(?:(?:Local|Global|Polymorphic|Monomorphic|Program)\s+)*"
_DECL = re.compile(_ATTRS + r"(" + "|".join(THEOREM_KEYWORDS) + r")\s+([A-Za-z_][\w']*)")
_MODULE_OPEN = re.compile(
    _ATTRS + r"(?:Module(?:\s+Type)?|Section)\s+(?:(?:Import|Export)\s+)?([A-Za-z_][\w']*)"
)
_END = re.compile(r"End\s+([A-Za-z_][\w']*)\s*\.$")
_ENDING = re.compile(r"(" + "|".join(PROOF_ENDINGS) + r")\b")


@dataclass(frozen=True)
class Declaration:
    """A theorem found in a file, with its proof as written there."""

    theorem: Theorem
    proof: tuple[Sentence, ...]
    ending: str  # Qed, Defined, Admitted, ... or "" if the file ends first

    @property
    def tactics(self) -> tuple[str, ...]:
        """The proof's tactic sentences (``Proof.`` and the ending left out)."""
        return tuple(s.text for s in self.proof if not _is_proof_keyword(s.text))


def _is_proof_keyword(text: str) -> bool:
    return text == "Proof." or text.startswith("Proof using") or text.startswith("Proof with")


def _opens_scope(text: str) -> str | None:
    """The name of the Module/Module Type/Section this sentence opens, if any.
    ``Module M := N.`` and ``Module M : T := N.`` define without opening."""
    match = _MODULE_OPEN.match(text)
    if not match:
        return None
    if ":=" in text or text.startswith("Declare"):
        return None
    return match.group(1)


def coq_project_args(path: Path) -> tuple[str, ...]:
    """Load-path flags (-Q/-R/-I/-arg) from the nearest ``_CoqProject`` above
    ``path``, with directories made absolute; empty if there is none."""
    for directory in [path.parent, *path.parent.parents]:
        project = directory / "_CoqProject"
        if project.is_file():
            tokens = shlex.split(project.read_text(encoding="utf-8"), comments=True)
            args: list[str] = []
            i = 0
            while i < len(tokens):
                tok = tokens[i]
                if tok in ("-Q", "-R") and i + 2 < len(tokens):
                    args += [tok, str((directory / tokens[i + 1]).resolve()), tokens[i + 2]]
                    i += 3
                elif tok == "-I" and i + 1 < len(tokens):
                    args += [tok, str((directory / tokens[i + 1]).resolve())]
                    i += 2
                elif tok == "-arg" and i + 1 < len(tokens):
                    args += shlex.split(tokens[i + 1])
                    i += 2
                else:
                    i += 1  # a file name listed in the project
            return tuple(args)
    return ()


def logical_prefix(path: Path, coq_args: tuple[str, ...]) -> str:
    """The module name Coq gives ``path`` under the -Q/-R mappings, e.g.
    ``Coq.Arith.PeanoNat``; the file's stem when no mapping covers it."""
    path = path.resolve()
    i = 0
    while i < len(coq_args):
        if coq_args[i] in ("-Q", "-R") and i + 2 < len(coq_args):
            root, logical = Path(coq_args[i + 1]).resolve(), coq_args[i + 2]
            try:
                rel = path.with_suffix("").relative_to(root)
            except ValueError:
                i += 3
                continue
            return ".".join(p for p in (logical, *rel.parts) if p)
        i += 1
    return path.stem


def parse_declarations(
    path: Path | str, coq_args: tuple[str, ...] | None = None, text: str | None = None
) -> list[Declaration]:
    """All theorem declarations of the file, in order. Raises
    :class:`~lean_env.errors.UserError` for a missing or malformed file."""
    path = Path(path)
    if text is None:
        if not path.is_file():
            raise UserError(f"no such Coq file: {path}")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"cannot read {path}: {exc}") from None
    if coq_args is None:
        coq_args = coq_project_args(path)
    try:
        sentences = split_sentences(text)
    except SentenceError as exc:
        raise UserError(f"{path}: malformed Coq file: {exc}") from None
    prefix = logical_prefix(path, coq_args)
    scopes: list[tuple[str, bool]] = []  # (name, is_module)
    found: list[Declaration] = []
    i = 0
    while i < len(sentences):
        s = sentences[i]
        opened = _opens_scope(s.text)
        if opened is not None:
            scopes.append((opened, "Section" not in s.text.split(opened, 1)[0]))
            i += 1
            continue
        end = _END.match(s.text)
        if end and scopes and scopes[-1][0] == end.group(1):
            scopes.pop()
            i += 1
            continue
        decl = _DECL.match(s.text)
        if not decl:
            i += 1
            continue
        name = decl.group(2)
        modules = [n for n, is_module in scopes if is_module]
        full_name = ".".join([prefix, *modules, name])
        j = i + 1
        proof: list[Sentence] = []
        ending = ""
        following = sentences[j].text if j < len(sentences) else ""
        if ":=" in s.text and re.match(r"[A-Z]", following) and not following.startswith("Proof"):
            ending, j = "term", i  # `Lemma x : T := t.`: no proof script follows
        elif re.match(r"Proof\s+(?!using\b|with\b)", following):
            ending = "term"  # `Proof t.` gives the proof term directly
        while not ending and j < len(sentences):
            ending_match = _ENDING.match(sentences[j].text)
            if ending_match:
                ending = ending_match.group(1)
                break
            proof.append(sentences[j])
            j += 1
        theorem = Theorem(
            name=full_name,
            statement=s.text,
            backend=Backend.COQ,
            file=str(path.resolve()),
            line=text.count("\n", 0, s.start) + 1,
            offset=s.start,
            coq_args=tuple(coq_args),
        )
        found.append(Declaration(theorem, tuple(proof), ending))
        i = j + 1
    return found


def find_declaration(
    path: Path | str, name: str, coq_args: tuple[str, ...] | None = None
) -> Declaration:
    """The declaration called ``name`` (full name, a dotted suffix of it, or the
    short name when that is unambiguous)."""
    declarations = parse_declarations(path, coq_args)
    matches = [
        d for d in declarations if d.theorem.name == name or d.theorem.name.endswith("." + name)
    ]
    if not matches:
        raise UserError(f"theorem {name!r} not found in {path}")
    if len(matches) > 1:
        exact = [d for d in matches if d.theorem.name == name]
        if len(exact) == 1:
            return exact[0]
        options = ", ".join(d.theorem.name for d in matches[:5])
        raise UserError(f"theorem name {name!r} is ambiguous in {path}: {options}")
    return matches[0]
