"""The ``coq-stdlib`` library: Coq's own standard library sources.

They live in ``$(coqc -where)/theories`` next to their compiled ``.vo`` files.
Each file is loaded with ``-R <theories> Coq`` so that its theorems get Coq's
real names (``Coq.Arith.PeanoNat.Nat.add_comm``); files under ``Init`` are
what the prelude is made of, so they are loaded with ``-noinit`` (loading the
prelude would define their contents a second time).
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from lean_env.errors import ProverNotInstalled

from .library import Library, select_files

NAME = "coq-stdlib"
MATH_NAME = "coq-stdlib-math"

# The default selection: the core libraries of arithmetic, logic, lists and
# orders, large enough for the experiments (several thousand theorems).
DEFAULT_DIRECTORIES = (
    "Init",
    "Logic",
    "Bool",
    "Arith",
    "PArith",
    "NArith",
    "ZArith",
    "Lists",
    "Sorting",
    "Relations",
    "Sets",
    "Structures",
)


# ``coq-stdlib-math``: the mathematics the default selection leaves out, for
# models meant for competition problems (miniF2F): real analysis and real
# arithmetic, rationals, and the abstract and cyclic number libraries. ZArith
# (with its number theory, Znumtheory, Zdiv, Zgcd_alt, ...) is in the default
# selection already; keeping the two selections disjoint means no theorem is
# in one benchmark's training split and the other's test split.
MATH_DIRECTORIES = ("Reals", "QArith", "Numbers")


@functools.cache
def coqlib() -> Path:
    """``coqc -where``: the installed Coq library."""
    coqc = shutil.which("coqc")
    if coqc is None:
        raise ProverNotInstalled("coqc not found: install Coq 8.16 (`apt-get install -y coq`)")
    out = subprocess.run([coqc, "-where"], capture_output=True, text=True, check=True, timeout=60)
    return Path(out.stdout.strip())


def stdlib_root() -> Path:
    return coqlib() / "theories"


@functools.cache
def coq_version() -> str:
    coqc = shutil.which("coqc")
    if coqc is None:
        return "unknown"
    out = subprocess.run([coqc, "--print-version"], capture_output=True, text=True, timeout=60)
    return out.stdout.split()[0] if out.stdout.split() else "unknown"


def stdlib_args(path: Path) -> tuple[str, ...]:
    root = stdlib_root()
    args = ("-R", str(root), "Coq")
    if path.resolve().relative_to(root).parts[0] == "Init":
        return (*args, "-noinit")
    return args


def stdlib_library(include: Sequence[str] = (), exclude: Sequence[str] = ()) -> Library:
    """The standard library restricted to ``include`` (default: the default
    selection) minus ``exclude``."""
    root = stdlib_root()
    directories = tuple(include) or DEFAULT_DIRECTORIES
    return Library(NAME, root, select_files(root, directories, exclude), stdlib_args, directories)


def stdlib_math_library(include: Sequence[str] = (), exclude: Sequence[str] = ()) -> Library:
    """``coq-stdlib-math``: :data:`MATH_DIRECTORIES` (or ``include``) minus ``exclude``."""
    root = stdlib_root()
    directories = tuple(include) or MATH_DIRECTORIES
    return Library(
        MATH_NAME, root, select_files(root, directories, exclude), stdlib_args, directories
    )
