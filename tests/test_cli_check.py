"""`dco check` end to end, as a user runs it (a subprocess of the installed
console script)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "prover" / "examples" / "Basics.v"


def dco(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "prover.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_check_verifies_the_bundled_example() -> None:
    out = dco(
        "check",
        "--file",
        str(EXAMPLE),
        "--theorem",
        "add_zero_r",
        "--proof",
        "intros n. induction n; simpl; auto.",
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "n + 0 = n" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "VERIFIED"


def test_check_uses_the_files_own_proof_by_default() -> None:
    out = dco("check", "--file", str(EXAMPLE), "--theorem", "Basics.Pairs.swap_swap", "--quiet")
    assert out.returncode == 0 and out.stdout.strip() == "VERIFIED", out.stdout + out.stderr


@pytest.mark.parametrize(
    ("proof", "reason"),
    [
        ("intros n. Admitted.", "vernacular"),
        ("intros n.", "incomplete"),
        ("intros n. exact foo.", "not found"),
        ("admit.", "admit"),
    ],
)
def test_check_rejects(proof: str, reason: str) -> None:
    out = dco("check", "--file", str(EXAMPLE), "--theorem", "add_zero_r", "--proof", proof)
    assert out.returncode == 1
    last = out.stdout.strip().splitlines()[-1]
    assert last.startswith("REJECTED:") and reason in last


def one_line_error(out: subprocess.CompletedProcess[str]) -> str:
    assert out.returncode not in (0, 1), out
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    return lines[0]


def test_unknown_theorem_and_file(tmp_path: Path) -> None:
    assert "not found" in one_line_error(dco("check", "--file", str(EXAMPLE), "--theorem", "nope"))
    assert "no such Coq file" in one_line_error(
        dco("check", "--file", str(tmp_path / "x.v"), "--theorem", "t")
    )


def test_malformed_file(tmp_path: Path) -> None:
    bad = tmp_path / "Bad.v"
    bad.write_text("Lemma t : True.\nProof. exact I. Qed.\n(* unterminated comment\n")
    assert "malformed" in one_line_error(dco("check", "--file", str(bad), "--theorem", "t"))
    broken = tmp_path / "Broken.v"
    broken.write_text("Definition d := undefined_ref.\nLemma t : True.\nProof. exact I. Qed.\n")
    assert "undefined_ref" in one_line_error(dco("check", "--file", str(broken), "--theorem", "t"))


def test_coq_missing(tmp_path: Path) -> None:
    env = dict(os.environ, PATH=str(tmp_path))  # no coqtop on PATH
    message = one_line_error(
        dco("check", "--file", str(EXAMPLE), "--theorem", "add_zero_r", env=env)
    )
    assert "coqtop not found" in message


def test_bad_flag_and_unknown_command() -> None:
    out = dco("check", "--file", str(EXAMPLE), "--theorem", "t", "--tactic-timeout", "soon")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    out = dco("frobnicate")
    assert out.returncode == 2 and "unknown command" in out.stderr
