"""The ``dco`` and ``prove`` console scripts.

Subcommands live one per module in :mod:`prover.commands` and are imported only
when used, so ``dco check`` never pays for torch. Every expected failure (bad
input, a missing proof assistant) becomes one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
import tomllib
from collections.abc import Sequence
from typing import NoReturn

from lean_env.errors import EnvironmentError_, UserError
from prover.options import check_values, harden

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("prover.commands.check", "replay a proof step by step and re-check it"),
    "trace": ("prover.commands.trace", "trace a Coq library into a benchmark directory"),
    "trace-lean": (
        "prover.commands.trace_lean",
        "have LeanDojo trace a Lean benchmark's repositories",
    ),
    "stats": ("prover.commands.stats", "statistics of a benchmark"),
    "search": ("prover.commands.search", "run proof search over a benchmark split"),
    "train": ("prover.commands.train", "train a tactic generator (CE, DCO, DCOstep, DCOa)"),
    "confidence": ("prover.commands.confidence", "max-confidence distribution of a model"),
    "prove": ("prover.commands.prove", "prove one theorem, optionally with an ensemble"),
    "evaluate": ("prover.commands.evaluate", "evaluate a prover on a benchmark split"),
    "expert-iterate": ("prover.commands.expert_iterate", "expert-iteration rounds"),
    "report": ("prover.commands.report", "regenerate benchmarks/REPORT.md"),
    "demo": ("prover.commands.demo", "the README's main job"),
    "view": ("prover.commands.view", "a browsable site of a search run (proof trees)"),
}


class _Parser(argparse.ArgumentParser):
    """Bad flags are one line and exit 2 like every other bad input, not
    argparse's usage block."""

    def error(self, message: str) -> NoReturn:
        raise UserError(f"{message} (see {self.prog} --help)")


def _available() -> dict[str, tuple[str, str]]:
    return {
        name: spec
        for name, spec in COMMANDS.items()
        if importlib.util.find_spec(spec[0]) is not None
    }


def apply_config(parser: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.Namespace:
    """Parse ``argv`` with the keys of ``--config FILE.toml`` as defaults: the
    file uses the flags' names (``tactic-timeout`` or ``tactic_timeout``) and
    flags given on the command line override it. Unknown keys are an error."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config")
    known, _ = pre.parse_known_args(argv)
    if known.config:
        try:
            with open(known.config, "rb") as fh:
                values = tomllib.load(fh)
        except OSError as exc:
            raise UserError(f"cannot read config {known.config}: {exc.strerror}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise UserError(f"{known.config}: malformed TOML ({exc})") from None
        actions = {a.dest: a for a in parser._actions}
        defaults = {}
        for key, value in values.items():
            dest = key.replace("-", "_")
            if dest not in actions or dest in ("help", "config"):
                raise UserError(f"{known.config}: unknown key {key!r} for {parser.prog}")
            actions[dest].required = False
            defaults[dest] = value
        parser.set_defaults(**defaults)
    return parser.parse_args(argv)


def _run(name: str, argv: Sequence[str], prog: str) -> int:
    module = importlib.import_module(COMMANDS[name][0])
    parser = _Parser(prog=prog, description=COMMANDS[name][1])
    parser.add_argument(
        "--config", metavar="FILE.toml", help="defaults for these flags from a TOML file"
    )
    module.add_arguments(parser)
    harden(parser)
    try:
        args = apply_config(parser, argv)
        check_values(parser, args)
        return int(module.run(args) or 0)
    except (UserError, EnvironmentError_) as exc:
        # A path from the command line may hold bytes that are not UTF-8:
        # escape them rather than fail while reporting the error.
        line = f"error: {exc}".encode("utf-8", "backslashreplace").decode("utf-8")
        print(line, file=sys.stderr)
        return 2
    except BrokenPipeError:
        # Output piped into `head` and closed: not an error. Point stdout at
        # /dev/null so the interpreter's final flush does not complain.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("interrupted: results written so far are kept; re-run to resume", file=sys.stderr)
        return 130


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = _available()
    if not argv or argv[0] in {"-h", "--help"} or argv[0] not in commands:
        lines = [f"  {name:<16}{help_}" for name, (_, help_) in commands.items()]
        usage = "usage: dco COMMAND [options]\n\ncommands:\n" + "\n".join(lines)
        if argv and argv[0] not in {"-h", "--help"}:
            print(f"error: unknown command {argv[0]!r}\n\n{usage}", file=sys.stderr)
            return 2
        print(usage)
        return 0
    return _run(argv[0], argv[1:], f"dco {argv[0]}")


def prove_main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    return _run("prove", argv, "prove")


if __name__ == "__main__":
    sys.exit(main())
