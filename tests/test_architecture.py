"""The import directions of the packages, read from the source (AST) of
every module: data flows one way, lean_env <- search <- training <-
benchmarks <- prover. A package imports only itself and packages below it
(also inside functions: a lazy import is still a dependency), and no module
imports another module's private names (``from x import _y``)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Lowest first; README.md's "Layout" section shows the same order.
LAYERS = ("lean_env", "search", "training", "benchmarks", "prover")


def modules() -> list[Path]:
    return sorted(p for layer in LAYERS for p in (ROOT / layer).rglob("*.py"))


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, root: Path = ROOT) -> Iterator[tuple[int, str, list[str]]]:
    """(line, absolute module, names imported from it) of every import."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path, root).split(".")
    if path.name != "__init__.py":
        package.pop()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            yield node.lineno, module, [alias.name for alias in node.names]


def where(path: Path, line: int) -> str:
    return f"{path.relative_to(ROOT)}:{line}"


def test_every_layer_is_scanned() -> None:
    found = {module_name(p).split(".")[0] for p in modules()}
    assert found == set(LAYERS)
    # The scanner resolves relative imports: a known one is seen as absolute.
    seen = {m for _, m, _ in imports(ROOT / "search" / "tree_search.py")}
    assert {"search.best_first", "lean_env.environment"} <= seen


def test_imports_go_down_the_layers_only() -> None:
    wrong = []
    for path in modules():
        own = LAYERS.index(module_name(path).split(".")[0])
        for line, module, _ in imports(path):
            top = module.split(".")[0]
            if top in LAYERS and LAYERS.index(top) > own:
                wrong.append(f"{where(path, line)}: {LAYERS[own]} imports {module}")
    assert not wrong, "imports against the layering:\n" + "\n".join(wrong)


def test_no_private_names_imported_across_modules() -> None:
    wrong = []
    for path in modules():
        for line, module, names in imports(path):
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if module.split(".")[0] in LAYERS and private:
                wrong.append(f"{where(path, line)}: from {module} import {', '.join(private)}")
            if any(
                part.startswith("_") and not part.startswith("__") for part in module.split(".")
            ):
                wrong.append(f"{where(path, line)}: imports private module {module}")
    assert not wrong, "private names imported across modules:\n" + "\n".join(wrong)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from ..errors import UserError", ("lean_env.errors", ["UserError"])),
        ("from . import coqtop", ("lean_env.coq", ["coqtop"])),
        ("def f():\n    import prover.cli", ("prover.cli", [])),
    ],
)
def test_the_scanner_reads_relative_and_lazy_imports(
    tmp_path: Path, source: str, expected: tuple[str, list[str]]
) -> None:
    path = tmp_path / "lean_env" / "coq" / "probe.py"
    path.parent.mkdir(parents=True)
    path.write_text(source + "\n", encoding="utf-8")
    [(_, module, names)] = list(imports(path, tmp_path))
    assert (module, names) == expected
