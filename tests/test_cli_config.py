"""`--config FILE.toml` gives defaults for any command's flags; flags override."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from lean_env.errors import UserError
from prover.cli import apply_config


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dco test")
    p.add_argument("--config")
    p.add_argument("--theorem", required=True)
    p.add_argument("--tactic-timeout", type=float, default=10.0)
    return p


def test_config_supplies_defaults_and_flags_override(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('theorem = "foo"\ntactic-timeout = 3.0\n')
    args = apply_config(parser(), ["--config", str(cfg)])
    assert (args.theorem, args.tactic_timeout) == ("foo", 3.0)
    args = apply_config(parser(), ["--config", str(cfg), "--tactic-timeout", "7"])
    assert (args.theorem, args.tactic_timeout) == ("foo", 7.0)


@pytest.mark.parametrize(
    ("text", "message"),
    [("bogus = 1\n", "unknown key 'bogus'"), ("theorem = \n", "malformed TOML")],
)
def test_bad_config_is_a_user_error(tmp_path: Path, text: str, message: str) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(text)
    with pytest.raises(UserError, match=message):
        apply_config(parser(), ["--config", str(cfg)])


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="cannot read config"):
        apply_config(parser(), ["--config", str(tmp_path / "none.toml"), "--theorem", "x"])
