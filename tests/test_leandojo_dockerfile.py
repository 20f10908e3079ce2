"""The Lean image, read statically: Docker cannot run on the test machines, so
the Dockerfile is checked for what a Lean run needs from it."""

from __future__ import annotations

import re
from pathlib import Path

from lean_env.leandojo import LEAN_DOJO_VERSION, MINIF2F_COMMIT, MINIF2F_TOOLCHAIN

DOCKERFILE = Path(__file__).resolve().parents[1] / "Dockerfile"


def instructions() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    return [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def args() -> dict[str, str]:
    found = {}
    for line in instructions():
        m = re.fullmatch(r"ARG (\w+)=(\S*)", line)
        if m:
            found[m.group(1)] = m.group(2).strip('"')
    return found


def test_installs_wget_for_leandojos_remote_cache() -> None:
    apt = [line for line in instructions() if "apt-get install" in line]
    assert apt and any(re.search(r"\bwget\b", line) for line in apt)


def test_python_311_packages_go_into_a_311_virtualenv() -> None:
    lines = instructions()
    assert not any(re.search(r"\bpython3-pip\b", line) for line in lines)
    assert any("python3.11 -m venv /opt/venv" in line for line in lines)
    env = " ".join(line for line in lines if line.startswith("ENV"))
    assert "PATH=/opt/venv/bin:" in env
    pip_lines = [line for line in lines if "pip install" in line]
    assert pip_lines and all("python -m pip" in line for line in pip_lines)
    assert not any(re.search(r"python3(\.\d+)? -m pip", line) for line in lines)


def test_pins_match_the_supported_lean_setup() -> None:
    pinned = args()
    assert pinned["LEAN_TOOLCHAIN"] == MINIF2F_TOOLCHAIN
    assert pinned["MINIF2F_COMMIT"] == MINIF2F_COMMIT
    assert pinned["LEAN_DOJO_VERSION"] == LEAN_DOJO_VERSION
    # LeanDojo 4.20 was made for Lean v4.20: the pinned toolchain is that one.
    assert MINIF2F_TOOLCHAIN.endswith(":v" + LEAN_DOJO_VERSION)
    elan = [line for line in instructions() if "elan-init.sh" in line]
    assert elan and '--default-toolchain "$LEAN_TOOLCHAIN"' in elan[0]
    readme = (DOCKERFILE.parent / "README.md").read_text(encoding="utf-8")
    assert MINIF2F_COMMIT in readme and MINIF2F_TOOLCHAIN in readme


def test_cache_dir_is_set() -> None:
    env = " ".join(line for line in instructions() if line.startswith("ENV"))
    assert "CACHE_DIR=" in env
