"""Fuzz the flags of every `dco` command: bad numbers (nan, inf, negative,
zero, huge) and bad paths (missing, a directory, a file where a directory
belongs, read-only, non-UTF-8 names) must each end in one `error:` line on
stderr and exit 2, never a traceback.

The cases run in-process through ``prover.cli.main`` (each fails while the
flags are parsed, so no command does real work); a few run as real
subprocesses with raw bytes in argv, as a shell passes them.
"""

from __future__ import annotations

import argparse
import importlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from prover import cli, options

# A name with a byte that is not UTF-8, as Python decodes argv (surrogateescape).
NON_UTF8 = os.fsdecode(b"bad-\xff-name")

BAD_NUMBERS = {
    options.seconds: ["nan", "inf", "0", "-100", "1e400", "ten"],
    options.positive_int: ["nan", "0", "-1", str(10**30), "1.5"],
    options.count: ["nan", "-1", str(10**30), "x"],
    options.seed: ["-1", str(2**40), "nan"],
    options.nonnegative_float: ["nan", "inf", "-1", "1e30"],
    options.positive_float: ["nan", "inf", "-inf", "0", "-1"],
    options.any_int: ["nan", str(10**30)],
    options.any_float: ["nan", "inf", "1e400"],
}


def command_parser(name: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"dco {name}")
    importlib.import_module(cli.COMMANDS[name][0]).add_arguments(parser)
    options.harden(parser)
    return parser


def flags(name: str, kinds: set, *, choices: bool = True) -> list[tuple[str, object]]:
    """(flag, its checked type); the flag as argparse names it in errors
    (all its spellings, joined by '/')."""
    return [
        ("/".join(action.option_strings), action.type)
        for action in command_parser(name)._actions
        if action.option_strings and action.type in kinds and (choices or not action.choices)
    ]


def run_main(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str]:
    """``dco ARGV`` in this process: its exit code and its one stderr line.
    Any exception escaping ``main`` (a traceback for the user) fails the test."""
    code = cli.main(argv)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return code, lines[0]


NUMBER_CASES = [
    (name, flag, value)
    for name in cli.COMMANDS
    for flag, kind in flags(name, set(BAD_NUMBERS))
    for value in BAD_NUMBERS[kind]  # type: ignore[index]
]


def test_every_command_has_checked_numbers() -> None:
    """The matrix is not empty by accident: every command with a numeric
    flag contributes, and no float or int flag escaped the checked types."""
    assert len(NUMBER_CASES) > 250
    for name in cli.COMMANDS:
        for action in command_parser(name)._actions:
            assert action.type not in (float, int), (name, action.dest)


@pytest.mark.parametrize("name", sorted(cli.COMMANDS))
def test_every_default_passes_the_checks(name: str) -> None:
    """The checked types must not refuse a command's own defaults."""
    parser = command_parser(name)
    args = argparse.Namespace(**{a.dest: a.default for a in parser._actions if a.dest != "help"})
    options.check_values(parser, args)


@pytest.mark.parametrize(("name", "flag", "value"), NUMBER_CASES)
def test_bad_numbers_exit_2(capsys, name: str, flag: str, value: str) -> None:
    code, line = run_main(capsys, [name, f"{flag.split('/')[-1]}={value}"])
    assert code == 2
    assert line.startswith(f"error: argument {flag}"), line


@pytest.fixture(scope="module")
def paths(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("fuzz")
    (root / "a_file").write_text("x")
    (root / "ro_dir").mkdir()
    (root / "ro_dir").chmod(stat.S_IRUSR | stat.S_IXUSR)
    (root / "a_dir").mkdir()
    yield {
        "missing": str(root / "missing" / "nothing.v"),
        "directory": str(root / "a_dir"),
        "file": str(root / "a_file"),
        "under_file": str(root / "a_file" / "sub"),
        "read_only_dir": str(root / "ro_dir" / "new"),
        "read_only_dir_file": str(root / "ro_dir" / "out.json"),
        "non_utf8": str(root / NON_UTF8),
    }
    (root / "ro_dir").chmod(stat.S_IRWXU)


# What each kind of path flag must refuse (the kinds that are valid input,
# e.g. a missing output directory, are left out: the command would run).
BAD_PATHS = {
    options.coq_file: ["missing", "directory", "under_file", "non_utf8"],
    options.input_dir: ["file", "under_file", "non_utf8"],
    options.output_dir: ["file", "under_file", "read_only_dir", "non_utf8"],
    options.output_file: ["directory", "under_file", "read_only_dir_file", "non_utf8"],
    options.database_file: ["directory", "non_utf8"],
}
PATH_CASES = [
    (name, flag, case)
    for name in cli.COMMANDS
    for flag, kind in flags(name, set(BAD_PATHS))
    for case in BAD_PATHS[kind]  # type: ignore[index]
]


@pytest.mark.parametrize(("name", "flag", "case"), PATH_CASES)
def test_bad_paths_exit_2(capsys, paths, name: str, flag: str, case: str) -> None:
    code, line = run_main(capsys, [name, flag.split("/")[-1], paths[case]])
    assert code == 2
    assert line.startswith(f"error: argument {flag}"), line


TEXT_CASES = [
    (name, flag) for name in cli.COMMANDS for flag, _ in flags(name, {options.text}, choices=False)
]


@pytest.mark.parametrize(("name", "flag"), TEXT_CASES)
def test_non_utf8_text_exits_2(capsys, name: str, flag: str) -> None:
    code, line = run_main(capsys, [name, flag.split("/")[-1], NON_UTF8])
    assert code == 2
    assert line == f"error: argument {flag}: not valid UTF-8 text (see dco {name} --help)"


@pytest.mark.parametrize("value", ["nan", "inf", "-3", "0"])
def test_config_file_numbers_are_checked_too(capsys, tmp_path: Path, value: str) -> None:
    """TOML has nan and inf literals; they bypass argparse's conversion."""
    config = tmp_path / "c.toml"
    number = {"nan": "nan", "inf": "inf"}.get(value, value)
    config.write_text(f"tactic-timeout = {number}\n")
    (tmp_path / "x.v").write_text("Theorem t : True.\nProof. exact I. Qed.\n")
    code, line = run_main(
        capsys,
        ["check", "--config", str(config), "--file", str(tmp_path / "x.v"), "--theorem", "t"],
    )
    assert code == 2
    assert line.startswith("error: argument --tactic-timeout"), line


def test_raw_bytes_in_argv_end_in_one_line(tmp_path: Path) -> None:
    """Real processes: bytes that are not UTF-8 in --proof and --coq-args."""
    source = tmp_path / "T.v"
    source.write_text("Theorem t : True.\nProof. exact I. Qed.\n")
    for flag in (b"--proof", b"--coq-args"):
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "prover.cli",
                "check",
                "--file",
                str(source),
                "--theorem",
                "t",
                flag,
                b"exact I\xff.",
            ],
            capture_output=True,
            timeout=120,
        )
        err = out.stderr.decode("utf-8", "replace")
        assert out.returncode == 2 and "Traceback" not in err, err
        assert err.strip().splitlines() == [
            f"error: argument {flag.decode()}: not valid UTF-8 text (see dco check --help)"
        ]


@pytest.mark.parametrize("case", ["missing", "directory", "bytes", "non_utf8_name"])
def test_bad_config_paths_exit_2(capsys, tmp_path: Path, case: str) -> None:
    config = {
        "missing": tmp_path / "none.toml",
        "directory": tmp_path,
        "bytes": tmp_path / "bytes.toml",
        "non_utf8_name": tmp_path / NON_UTF8,
    }[case]
    if case == "bytes":
        config.write_bytes(b'budget = "\xff"\n')
    code, line = run_main(capsys, ["prove", "--config", str(config), "--theorem", "t"])
    assert code == 2 and line.startswith("error: "), line
