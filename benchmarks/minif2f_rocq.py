"""Loader for miniF2F-rocq, the public Coq formalisation of miniF2F.

https://github.com/LLM4Rocq/miniF2F-rocq (MIT licence): 244 ``test`` and 244
``valid`` problems, one file each, ``test/NAME.v`` and ``valid/NAME.v``. A file
holds its imports (the header), perhaps auxiliary ``Definition``s, then
``Theorem NAME ...`` followed by ``Proof.`` and ``Admitted.``, or ``Proof.``
alone. Splits: ``test`` and ``val`` (the ``valid`` directory); no steps.

What the benchmark fixes, the same for every prover:

- the **prelude** :data:`PRELUDE` goes right after the file's header (its last
  ``Require``), so ``lia``/``lra``/``nra``/``psatz``/``field`` are in scope in
  every problem, like Lean's ``import Mathlib``. Definitions of the file come
  after it, so they shadow library names as the file's author meant;
- the files target Coq 9, whose standard library is called ``Stdlib``: on
  Coq 8.x the prefix is mapped back to ``Coq``.

Each problem is written, so transformed, to a prepared copy under
``$DCO_DATA/minif2f-rocq/`` (rewritten only when its text changes); the
theorem's context is that copy's text before the statement, so the search and
the ``coqc`` re-check see exactly the same context. A statement that Coq
rejects is not filtered out here: it fails to start in the search, and counts
in the denominator with Coq's message as its reason.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from lean_env.coq.sentences import SentenceError, split_sentences
from lean_env.coq.source import parse_declarations
from lean_env.errors import UserError
from lean_env.types import Backend, Theorem

from .format import Benchmark, BenchmarkTheorem

NAME = "minif2f-rocq"
PRELUDE = "From Coq Require Import Lia Lra Psatz Field."
HINT = (
    "clone miniF2F-rocq (`git clone https://github.com/LLM4Rocq/miniF2F-rocq`, MIT "
    "licence) and give the checkout's directory (the one containing test/ and valid/)"
)
# Not a Coq name: the statement of a file without its theorem fails with it.
NO_THEOREM = "no_theorem_named_like_the_file"
# Directory of the published layout and our split name for it.
SPLIT_DIRS = (("test", "test"), ("valid", "val"))
_STDLIB = re.compile(r"\bStdlib\b(?=\s+Require\b|\.)")
_REQUIRE = re.compile(r"(?:From\s+\S+\s+)?Require\b")


def map_stdlib(text: str) -> str:
    """Coq 9's ``From Stdlib Require ...`` and ``Stdlib.X`` names as Coq 8.x
    calls them (``Coq``)."""
    return _STDLIB.sub("Coq", text)


def add_prelude(text: str, prelude: str = PRELUDE) -> str:
    """``text`` with ``prelude`` on its own line after the last ``Require``
    sentence of the header (the sentences before the first declaration), or at
    the top when the header requires nothing."""
    try:
        sentences = split_sentences(text)
    except SentenceError:
        return f"{prelude}\n{text}"  # Coq will say what is wrong with the file
    cut = 0
    for sentence in sentences:
        if _REQUIRE.match(sentence.text):
            cut = sentence.end
        elif not re.match(r"(?:Import|Export|Open|Local|Global|Set|Unset)\b", sentence.text):
            break
    return f"{text[:cut]}\n{prelude}\n{text[cut:]}" if cut else f"{prelude}\n{text}"


def prepare(text: str, prelude: str = PRELUDE) -> str:
    """A problem file's text as the search and the re-check see it."""
    return add_prelude(map_stdlib(text), prelude)


def cache_dir(root: Path, prelude: str, base: Path) -> Path:
    """Where the prepared copies of the checkout at ``root`` go: one folder per
    (checkout, prelude), so two checkouts or preludes never mix."""
    key = hashlib.sha256(f"{root.resolve()}\n{prelude}".encode()).hexdigest()[:12]
    return base / NAME / key


def _write_if_changed(path: Path, text: str) -> None:
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".v.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)  # atomic: a worker never reads half a file


def _problem(source: Path, prepared: Path, prelude: str) -> Theorem:
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {source}: {exc}") from None
    prepared_text = prepare(text, prelude)
    _write_if_changed(prepared, prepared_text)
    try:
        declarations = parse_declarations(prepared, (), prepared_text)
    except UserError:
        declarations = []  # not even splittable into sentences
    found = [d for d in declarations if d.theorem.short_name == source.stem]
    if not found:
        # Still a problem of the benchmark: its context is the whole file and
        # its statement names what is missing, so it fails to start with a
        # reason (Coq's error in the file, or that) instead of vanishing.
        return Theorem(
            source.stem,
            f"Theorem {source.stem} : {NO_THEOREM}.",
            Backend.COQ,
            str(prepared.resolve()),
            1,
            len(prepared_text),
        )
    theorem = found[0].theorem
    return Theorem(
        name=source.stem,
        statement=theorem.statement,
        backend=Backend.COQ,
        file=theorem.file,
        line=theorem.line,
        offset=theorem.offset,
    )


def load_minif2f_rocq(path: str | Path, data: Path, prelude: str = PRELUDE) -> Benchmark:
    """miniF2F-rocq at ``path``; prepared copies go under ``data``."""
    root = Path(path).expanduser()
    if not root.is_dir():
        raise UserError(f"miniF2F-rocq not found at {root}: {HINT}")
    missing = [d for d, _ in SPLIT_DIRS if not any((root / d).glob("*.v"))]
    if missing:
        raise UserError(f"{root} has no {missing[0]}/*.v, so it is not miniF2F-rocq: {HINT}")
    out = cache_dir(root, prelude, data)
    theorems: list[BenchmarkTheorem] = []
    for directory, split in SPLIT_DIRS:
        for source in sorted((root / directory).glob("*.v")):
            theorem = _problem(source, out / directory / source.name, prelude)
            theorems.append(BenchmarkTheorem(len(theorems), theorem, split))
    counts = {split: sum(t.split == split for t in theorems) for _, split in SPLIT_DIRS}
    return Benchmark(
        name=NAME,
        theorem_list=theorems,
        meta={
            "library": NAME,
            "backend": Backend.COQ.value,
            "root": str(root.resolve()),
            "prepared": str(out),
            "prelude": prelude,
            "stdlib_prefix": "Stdlib -> Coq",
            "splits": counts,
            "counts": {"theorems": len(theorems), "steps": 0},
        },
    )
