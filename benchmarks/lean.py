"""Loaders for the Lean 4 benchmarks, mapped to :mod:`benchmarks.format` types.

LeanDojo Benchmark 4 (``load_leandojo``), as published on Zenodo
(``leandojo_benchmark_4.tar.gz``) and produced by LeanDojo's
``scripts/generate-benchmark-lean4.ipynb``::

    leandojo_benchmark_4/
      metadata.json                 {"from_repo": {"url", "commit"}, ...}
      corpus.jsonl                  premises (not used here)
      random/{train,val,test}.json
      novel_premises/{train,val,test}.json

Each split file is one JSON list of theorems ``{"url", "commit", "file_path",
"full_name", "start": [line, col], "end": [line, col], "traced_tactics":
[{"tactic", "annotated_tactic", "state_before", "state_after"}]}``. Every traced
tactic becomes a :class:`Step` (``state_before`` -> ``tactic``), and the
theorem's ``tactics`` are those tactics in order. That list is the training
data, NOT a replayable script: LeanDojo drops tactics containing ``·`` and
traces the tactics nested inside a tactic as steps of their own. The file
gives no statement text; ``statement`` is the initial goal (the first
``state_before``), empty for a theorem with no traced tactic (a term proof,
still provable through ``Dojo``).

miniF2F in Lean 4 (``load_minif2f``): a checkout of
https://github.com/yangky11/miniF2F-lean4, either layout it has had —
``MiniF2F/Valid.lean`` and ``MiniF2F/Test.lean`` holding every problem, or one
file per problem in ``MiniF2F/Valid/`` and ``MiniF2F/Test/`` — with each problem
stated as ``theorem NAME … := by sorry``. Splits ``val`` and ``test``, no steps;
``repo`` is the checkout (LeanDojo needs it to be a git repository, traced),
``file`` the ``.lean`` file inside it, ``name`` the theorem's full name.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lean_env.errors import UserError
from lean_env.leandojo import RejectedLeanTactic, blank_inert
from lean_env.types import Backend, Theorem

from .format import Benchmark, BenchmarkTheorem, Step
from .splits import SPLITS

LEANDOJO_SPLIT_KINDS = ("random", "novel_premises")
LEANDOJO_HINT = (
    "download LeanDojo Benchmark 4 (leandojo_benchmark_4.tar.gz from "
    "https://zenodo.org/doi/10.5281/zenodo.8040109, linked from https://leandojo.org), "
    "extract it with `tar -xf leandojo_benchmark_4.tar.gz` and give the "
    "leandojo_benchmark_4 directory (or its random/ or novel_premises/ directory)"
)
MINIF2F_HINT = (
    "clone miniF2F for Lean 4 (`git clone https://github.com/yangky11/miniF2F-lean4`) "
    "and give the checkout's directory (the one containing MiniF2F/)"
)
# Directory/file stems of miniF2F's two halves and our split names for them.
MINIF2F_SPLITS = (("Valid", "val"), ("Test", "test"))
_CHUNK = 1 << 20


# --------------------------------------------------------------------------
# LeanDojo Benchmark 4
# --------------------------------------------------------------------------


def load_leandojo(path: str | Path, split_kind: str = "random") -> Benchmark:
    """LeanDojo Benchmark 4 at ``path``: the ``leandojo_benchmark_4`` directory
    (``split_kind`` picks ``random`` or ``novel_premises``) or one of those two
    directories itself."""
    if split_kind not in LEANDOJO_SPLIT_KINDS:
        raise UserError(
            f"unknown LeanDojo split {split_kind!r}: use {' or '.join(LEANDOJO_SPLIT_KINDS)}"
        )
    given = Path(path).expanduser()
    if not given.is_dir():
        raise UserError(f"LeanDojo Benchmark not found at {given}: {LEANDOJO_HINT}")
    if (given / "train.json").is_file():
        split_dir, root = given, given.parent
        split_kind = given.name if given.name in LEANDOJO_SPLIT_KINDS else split_kind
    elif (given / split_kind / "train.json").is_file():
        split_dir, root = given / split_kind, given
    else:
        raise UserError(
            f"{given} holds no {split_kind}/train.json, so it is not LeanDojo Benchmark 4: "
            f"{LEANDOJO_HINT}"
        )
    theorems: list[BenchmarkTheorem] = []
    steps: list[Step] = []
    for split in SPLITS:
        file = split_dir / f"{split}.json"
        if not file.is_file():
            raise UserError(f"{file} is missing: the benchmark is incomplete; {LEANDOJO_HINT}")
        for i, record in enumerate(iter_json_array(file)):
            theorem, tactics, states = _leandojo_theorem(record, f"{file}: theorem #{i}")
            tid = len(theorems)
            theorems.append(BenchmarkTheorem(tid, theorem, split, tactics))
            steps.extend(
                Step(tid, k, state, tactic, split)
                for k, (state, tactic) in enumerate(zip(states, tactics, strict=True))
            )
    meta = _read_metadata(root / "metadata.json")
    counts = Counter(t.split for t in theorems)
    return Benchmark(
        name=f"leandojo_benchmark_4/{split_kind}",
        theorem_list=theorems,
        step_list=steps,
        meta={
            "library": "leandojo_benchmark_4",
            "backend": Backend.LEAN.value,
            "split_kind": split_kind,
            "root": str(root),
            "from_repo": meta.get("from_repo", {}),
            "leandojo_version": meta.get("leandojo_version"),
            "splits": {s: counts.get(s, 0) for s in SPLITS},
            "counts": {
                "theorems": len(theorems),
                "steps": len(steps),
                "theorems_without_steps": sum(1 for t in theorems if not t.tactics),
            },
        },
    )


def _leandojo_theorem(record: Any, where: str) -> tuple[Theorem, tuple[str, ...], tuple[str, ...]]:
    if not isinstance(record, dict):
        raise UserError(f"{where}: expected a JSON object, got {type(record).__name__}")
    missing = [
        k for k in ("url", "commit", "file_path", "full_name", "traced_tactics") if k not in record
    ]
    if missing:
        raise UserError(f"{where}: missing field {missing[0]!r} (not LeanDojo Benchmark 4?)")
    traced = record["traced_tactics"]
    if not isinstance(traced, list) or not all(
        isinstance(t, dict)
        and isinstance(t.get("tactic"), str)
        and isinstance(t.get("state_before"), str)
        for t in traced
    ):
        raise UserError(f"{where}: traced_tactics must be a list of {{tactic, state_before, ...}}")
    tactics = tuple(t["tactic"] for t in traced)
    states = tuple(t["state_before"] for t in traced)
    start = record.get("start")
    line = int(start[0]) if isinstance(start, list) and start else 0
    theorem = Theorem(
        name=str(record["full_name"]),
        statement=states[0] if states else "",
        backend=Backend.LEAN,
        file=str(record["file_path"]),
        line=line,
        repo=str(record["url"]),
        commit=str(record["commit"]),
    )
    return theorem, tactics, states


def _read_metadata(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: malformed JSON ({exc.msg})") from None
    return data if isinstance(data, dict) else {}


def iter_json_array(path: Path) -> Iterator[Any]:
    """The elements of the JSON list in ``path``, one at a time. A split file of
    LeanDojo Benchmark 4 is a single list of about a gigabyte; decoding it
    element by element keeps only one theorem's JSON tree in memory at once."""
    decoder = json.JSONDecoder()
    with path.open(encoding="utf-8") as fh:
        buf, pos = "", 0

        def fill() -> bool:
            nonlocal buf, pos
            chunk = fh.read(_CHUNK)
            if not chunk:
                return False
            buf, pos = buf[pos:] + chunk, 0
            return True

        def skip_space() -> str:
            """The next non-space character ('' at the end of the file)."""
            nonlocal pos
            while True:
                while pos < len(buf) and buf[pos] in " \t\r\n":
                    pos += 1
                if pos < len(buf):
                    return buf[pos]
                if not fill():
                    return ""

        if skip_space() != "[":
            raise UserError(f"{path}: not a JSON list (expected '[')")
        pos += 1
        if skip_space() == "]":
            return
        while True:
            while True:
                try:
                    value, end = decoder.raw_decode(buf, pos)
                    break
                except json.JSONDecodeError as exc:
                    if not fill():  # not a truncated buffer: the file is malformed
                        raise UserError(f"{path}: malformed JSON ({exc.msg})") from None
            pos = end
            yield value
            c = skip_space()
            if c == "]":
                return
            if c != ",":
                raise UserError(f"{path}: malformed JSON list (expected ',' or ']')")
            pos += 1
            skip_space()


# --------------------------------------------------------------------------
# miniF2F (Lean 4)
# --------------------------------------------------------------------------


def load_minif2f(path: str | Path) -> Benchmark:
    """miniF2F's statements from a checkout of miniF2F-lean4 at ``path``."""
    root = Path(path).expanduser()
    if not root.is_dir():
        raise UserError(f"miniF2F not found at {root}: {MINIF2F_HINT}")
    if root.name == "MiniF2F" and not (root / "MiniF2F").is_dir():
        root = root.parent  # given the MiniF2F/ folder itself
    root = root.resolve()
    sources = _minif2f_sources(root / "MiniF2F")
    if not sources:
        raise UserError(
            f"{root} has no MiniF2F/Valid.lean, MiniF2F/Test.lean, MiniF2F/Valid/ or "
            f"MiniF2F/Test/: not a miniF2F-lean4 checkout; {MINIF2F_HINT}"
        )
    commit = _git_head(root)
    theorems: list[BenchmarkTheorem] = []
    seen: set[str] = set()
    for file, split in sources:
        try:
            declarations = lean_theorems(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, RejectedLeanTactic) as exc:
            raise UserError(f"{file}: cannot read its theorems ({exc})") from None
        for d in declarations:
            if d.name in seen:  # a problem kept in both layouts at once
                continue
            seen.add(d.name)
            theorem = Theorem(
                name=d.name,
                statement=d.statement,
                backend=Backend.LEAN,
                file=file.relative_to(root).as_posix(),
                line=d.line,
                offset=d.offset,
                repo=str(root),
                commit=commit,
            )
            theorems.append(BenchmarkTheorem(len(theorems), theorem, split))
    if not theorems:
        raise UserError(f"no theorem found in the miniF2F files under {root / 'MiniF2F'}")
    counts = Counter(t.split for t in theorems)
    return Benchmark(
        name="minif2f-lean4",
        theorem_list=theorems,
        meta={
            "library": "minif2f-lean4",
            "backend": Backend.LEAN.value,
            "root": str(root),
            "commit": commit,
            "splits": {s: counts.get(s, 0) for s in SPLITS},
            "counts": {"theorems": len(theorems), "steps": 0},
        },
    )


def _minif2f_sources(base: Path) -> list[tuple[Path, str]]:
    sources: list[tuple[Path, str]] = []
    for stem, split in MINIF2F_SPLITS:
        if (base / stem).is_dir():
            sources += [(f, split) for f in sorted((base / stem).glob("*.lean"))]
        if (base / f"{stem}.lean").is_file():
            sources.append((base / f"{stem}.lean", split))
    return sources


def _git_head(root: Path) -> str | None:
    """The checkout's commit (LeanDojo's ``LeanGitRepo`` wants one); None if
    ``root`` is not itself a git checkout: the adapter then asks git for HEAD
    when it opens the theorem, and reports the problem if there is none."""
    if not (root / ".git").exists():
        return None
    try:
        proc = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    head = proc.stdout.strip()
    return head if proc.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", head) else None


@dataclass(frozen=True)
class LeanDeclaration:
    name: str  # full name, with the enclosing namespaces
    statement: str  # `theorem NAME binders : type`, without `:=` and the proof
    line: int  # 1-based line of the keyword
    offset: int  # character offset of the keyword


# Declarations and scope commands at the start of a line (Lean style; miniF2F's
# files follow it). Attributes and modifiers may precede the keyword.
_DECL = re.compile(
    r"^(?:@\[[^\]]*\]\s*)?(?:(?:private|protected|noncomputable|nonrec)\s+)*"
    r"(?P<kw>theorem|lemma)\s+(?P<name>[^\s(\[{:⦃]+)"
    r"|^(?P<scope>namespace|section|end)\b[ \t]*(?P<scope_name>[^\s]*)",
    re.MULTILINE,
)
_OPEN, _CLOSE = "([{⟨⦃", ")]}⟩⦄"


def lean_theorems(text: str) -> list[LeanDeclaration]:
    """The ``theorem``/``lemma`` declarations of a Lean 4 file whose statement
    ends with ``:=`` (a proof follows; in miniF2F it is ``by sorry``). Comments
    and strings are ignored; ``namespace``/``section``/``end`` give full names."""
    code = blank_inert(text)
    scopes: list[tuple[str, str]] = []  # (kind, name)
    found: list[LeanDeclaration] = []
    matches = list(_DECL.finditer(code))
    for i, m in enumerate(matches):
        if m.group("scope"):
            kind, name = m.group("scope"), m.group("scope_name")
            if kind == "end":
                if scopes:
                    scopes.pop()
            else:
                scopes.append((kind, name))
            continue
        stop = matches[i + 1].start() if i + 1 < len(matches) else len(code)
        assign = _top_level_assign(code, m.end(), stop)
        if assign is None:
            continue  # pattern-matching equations or a malformed declaration
        prefix = [n for kind, n in scopes if kind == "namespace" and n]
        name = m.group("name").removeprefix("_root_.")
        full = name if m.group("name").startswith("_root_.") else ".".join([*prefix, name])
        start = m.start("kw")
        found.append(
            LeanDeclaration(
                name=full,
                statement=text[start:assign].rstrip(),
                line=text.count("\n", 0, start) + 1,
                offset=start,
            )
        )
    return found


def _top_level_assign(code: str, start: int, stop: int) -> int | None:
    """Offset of the first ``:=`` outside brackets in ``code[start:stop]``."""
    depth = 0
    for j in range(start, stop - 1):
        c = code[j]
        if c in _OPEN:
            depth += 1
        elif c in _CLOSE:
            depth = max(0, depth - 1)
        elif c == ":" and code[j + 1] == "=" and depth == 0:
            return j
    return None
