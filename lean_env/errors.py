"""Errors of the environment itself, distinct from a tactic the assistant refused
(that is a :class:`~lean_env.types.TacticError` result, not an exception)."""

from __future__ import annotations


class EnvironmentError_(Exception):
    """Base class: something went wrong with the proof assistant, not the tactic."""


class ProverNotInstalled(EnvironmentError_):
    """The proof assistant's executable (``coqtop``, Lean's toolchain) is missing."""


class EnvironmentStartError(EnvironmentError_):
    """The theorem's context could not be set up: the process failed to start,
    the file is malformed, the theorem is unknown. Evaluation counts the theorem
    as FAILED with this message; it is never dropped from the denominator."""


class EnvironmentCrashed(EnvironmentError_):
    """The process died and could not be restored after retries."""


class UnknownState(EnvironmentError_):
    """A state id that does not belong to the currently opened theorem."""


class UserError(Exception):
    """Bad input from the user (unknown theorem, malformed file, corrupt
    checkpoint, bad flag). Any layer may raise it; the command line prints its
    message as one line and exits non-zero, without a traceback."""
