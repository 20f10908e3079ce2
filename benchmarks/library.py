"""A Coq library to trace: its root folder, which .v files, and the coqtop/coqc
flags each file needs.

Two kinds exist: any Coq project (a folder of .v files, with its
``_CoqProject`` if present) and Coq's standard library (:mod:`.stdlib`), whose
files need flags of their own.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from lean_env.coq.source import coq_project_args
from lean_env.errors import ProverNotInstalled, UserError


@dataclass(frozen=True)
class Library:
    name: str
    root: Path
    files: tuple[Path, ...]  # absolute, sorted
    args_for: Callable[[Path], tuple[str, ...]]
    directories: tuple[str, ...] = ()  # the sub-directories selected, "" for all

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()


def select_files(
    root: Path, include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> tuple[Path, ...]:
    """The .v files under ``root``: only those under one of ``include``'s
    sub-directories (all if empty), minus those under ``exclude``'s."""
    root = root.resolve()
    for directory in (*include, *exclude):
        if not (root / directory).is_dir():
            raise UserError(f"no directory {directory!r} under {root}")
    chosen = []
    for path in sorted(root.rglob("*.v")):
        rel = path.relative_to(root)
        if include and not any(_under(rel, d) for d in include):
            continue
        if any(_under(rel, d) for d in exclude):
            continue
        chosen.append(path)
    return tuple(chosen)


def _under(rel: Path, directory: str) -> bool:
    parts = Path(directory).parts
    return rel.parts[: len(parts)] == parts


def project_library(
    path: Path | str, include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> Library:
    """A Coq project folder; each file gets the flags of its ``_CoqProject``."""
    root = Path(path).resolve()
    if not root.is_dir():
        raise UserError(f"no such project directory: {path}")
    files = select_files(root, include, exclude)
    if not files:
        raise UserError(f"no .v files under {root}" + (f" in {list(include)}" if include else ""))
    return Library(root.name, root, files, coq_project_args, tuple(include))


def build_project(library: Library, log: Callable[[str], None] = print) -> int:
    """Compile the project's files whose ``.vo`` is missing or out of date, in
    dependency order (``coqdep -sort``), so that files can ``Require`` their
    siblings; returns how many were compiled. The ``.vo`` files go next to the
    sources, as the project's own build would put them. A file that does not
    compile is reported through ``log`` and left out."""
    coqdep, coqc = shutil.which("coqdep"), shutil.which("coqc")
    if coqdep is None or coqc is None:
        raise ProverNotInstalled(
            "coqdep/coqc not found: install Coq 8.16 (`apt-get install -y coq`)"
        )
    every = tuple(sorted(library.root.rglob("*.v")))  # dependencies may lie outside the selection
    args = library.args_for(every[0]) if every else ()
    order = subprocess.run(
        [coqdep, "-sort", *args, *map(str, every)],
        capture_output=True,
        text=True,
        cwd=library.root,
        timeout=600,
    )
    if order.returncode != 0:
        raise UserError(f"coqdep failed on {library.root}: {order.stderr.strip()[:300]}")
    newest = 0.0
    compiled = 0
    for name in order.stdout.split():
        source = (library.root / name).resolve()
        vo = source.with_suffix(".vo")
        if vo.exists() and vo.stat().st_mtime >= max(source.stat().st_mtime, newest):
            newest = max(newest, vo.stat().st_mtime)
            continue
        log(f"compiling {library.relative(source)}")
        done = subprocess.run(
            [coqc, "-q", *library.args_for(source), str(source)],
            capture_output=True,
            text=True,
            cwd=source.parent,
            timeout=3600,
        )
        if done.returncode != 0:
            # Not fatal: its theorems, and those of files that Require it,
            # fail to trace and are counted by reason.
            log(
                f"warning: {library.relative(source)} does not compile: "
                f"{' '.join(done.stdout.split() + done.stderr.split())[-300:]}"
            )
            continue
        compiled += 1
        newest = max(newest, vo.stat().st_mtime)
    return compiled
