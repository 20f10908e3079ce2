"""The Lean 4 backend of :class:`~lean_env.environment.Environment`, over LeanDojo.

``lean_dojo`` (PyPI ``lean-dojo``, the ``[lean]`` extra, 4.20) is imported
lazily, so the rest of the project runs without it. What LeanDojo gives us:
``Dojo(theorem, timeout=...)`` whose ``__enter__`` starts ``lake env lean`` on
the theorem's file with the proof replaced by a REPL and returns
``(dojo, initial TacticState)``; ``dojo.run_tac(state, tactic)`` returns a
``TacticState`` (``.pp``, ``.id``, ``.num_goals``), ``ProofFinished``,
``LeanError`` (``.error``) or ``ProofGivenUp`` (the tactic used ``sorry``), and
raises ``DojoTacticTimeoutError`` or ``DojoCrashError``; ``__enter__`` raises
``DojoInitError``.

Tracing. The theorem's repository must already be traced in LeanDojo's cache
(``CACHE_DIR``, or its remote cache): entering a ``Dojo`` on an untraced
repository would trace it first, which takes hours for Mathlib, is not bounded
by any timeout and, with several workers, happens in every worker at once. So
the environment checks ``lean_dojo.is_available_in_cache`` first and refuses
to start (:class:`~lean_env.errors.EnvironmentStartError`, counted as a failed
theorem) with the command that traces it once, up front (``dco trace-lean``).

Recovery. States are restored by replay (:mod:`lean_env.replay`). After
``DojoTacticTimeoutError`` LeanDojo's pexpect stream is out of step with the
REPL: the late answer is read as the answer to the next request. So a
timed-out Dojo is killed and never used again; the next call starts a new one
and replays the tactic path from the root. A crash is handled the same way,
with one retry, then :class:`~lean_env.errors.EnvironmentCrashed`. A process
killed by a signal (the OOM killer, an operator) is a crash too: LeanDojo's
liveness check then fails with an ``AssertionError`` (no exit status), which
the adapter tells apart from a goal it cannot parse by asking the process.

Timeouts. ``Dojo``'s ``timeout`` is pexpect's, used for start-up too, and
loading a Mathlib file takes far longer than one tactic may; so the Dojo is
created with ``startup_timeout`` and narrowed to ``tactic_timeout`` once entered.

Untrusted tactics (model output) are checked before they reach Lean; see
:func:`~lean_env.lean_tactics.check_lean_tactic`. ``verify`` is the Lean
boundary of this project: there is no ``coqc``/``Print Assumptions``
equivalent here, so a proof counts when (1) its tactics, replayed from scratch
in a FRESH Dojo that shares nothing with the search session, end in
``ProofFinished`` exactly at the last tactic, and (2) ``lean_dojo.check_proof``
— which compiles the theorem's whole file with the proof in place using
``lake env lean`` and fails on any error or a ``declaration uses 'sorry'``
warning inside the proof — accepts it, within ``check_timeout`` (it runs in a
child process group that is killed past the limit: LeanDojo sets no limit and
the file has ``maxHeartbeats 0``). Axioms are not listed
(``Verification.axioms`` stays empty): the escape hatches that do not show up
as ``sorry`` are refused by the tactic check instead. ``verify`` never raises.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

from .environment import DEFAULT_TACTIC_TIMEOUT
from .errors import (
    EnvironmentCrashed,
    EnvironmentStartError,
    ProverNotInstalled,
    UserError,
)
from .lean_tactics import (
    RejectedLeanTactic,
    blank_inert,
    check_lean_tactic,
    proof_script,
)
from .replay import Node, ReplayingEnvironment
from .types import (
    Backend,
    ProofFinished,
    ProofState,
    TacticError,
    TacticResult,
    Theorem,
    Verification,
)

__all__ = [
    "LeanDojoEnvironment",
    "LeanProcessLost",
    "RejectedLeanTactic",
    "blank_inert",
    "check_lean_tactic",
    "import_lean_dojo",
    "lean_setup_problems",
    "proof_script",
    "trace_repository",
    "Traced",
]

# One restart-and-retry after a crash, then give up: a crash that repeats on
# the same step is that step killing Lean, not bad luck.
MAX_CRASH_RETRIES = 1
DEFAULT_STARTUP_TIMEOUT = 600.0
DEFAULT_VERIFY_TACTIC_TIMEOUT = 60.0
# The whole-file check compiles the theorem's file (a Mathlib file: minutes).
DEFAULT_CHECK_TIMEOUT = 900.0

INSTALL_HINT = (
    "LeanDojo is not available: pip install 'dco-prover[lean]' "
    "(and install a Lean 4 toolchain with elan, plus git >= 2.25)"
)
TRACE_HINT = "trace it once, before any search: dco trace-lean --benchmark SPEC"

# What the project supports and its image pins (README, "Lean 4 through
# LeanDojo"): LeanDojo 4.20, made for Lean v4.20.0, and the miniF2F-lean4
# commit whose Mathlib (tag v4.20.0) is on that toolchain. LeanDojo Benchmark 4
# comes with its own mathlib4 commit and toolchain (its metadata.json).
LEAN_DOJO_VERSION = "4.20.0"
MINIF2F_COMMIT = "be1732497464bab50cffd486114c4b9ad437182f"
MINIF2F_TOOLCHAIN = "leanprover/lean4:v4.20.0"

# --------------------------------------------------------------------------
# LeanDojo itself: import, requirements, repositories
# --------------------------------------------------------------------------


def import_lean_dojo() -> ModuleType:
    """``lean_dojo``, or :class:`ProverNotInstalled`. Importing it runs
    ``git --version`` (LeanDojo checks git at import); with
    ``GITHUB_ACCESS_TOKEN`` set it also makes one GitHub API call."""
    try:
        import lean_dojo
    except ImportError as exc:
        raise ProverNotInstalled(f"{INSTALL_HINT} ({exc})") from exc
    except Exception as exc:  # e.g. its import-time git check failing
        raise ProverNotInstalled(f"{INSTALL_HINT}; importing lean_dojo failed: {exc}") from exc
    return lean_dojo


def lean_setup_problems(environ: Mapping[str, str] | None = None) -> tuple[list[str], list[str]]:
    """What a Lean run needs from the machine: ``(errors, warnings)``.

    Errors: no ``lake`` on ``PATH`` (elan's toolchain), no ``wget`` while
    LeanDojo's remote cache is on (LeanDojo downloads traced repositories
    with ``wget``). Warnings: no ``GITHUB_ACCESS_TOKEN`` (LeanDojo makes
    GitHub API calls per repository, 60 an hour without one), ``CACHE_DIR``
    unset (traced repositories go to ``~/.cache/lean_dojo``)."""
    env = os.environ if environ is None else environ
    path = env.get("PATH")
    errors: list[str] = []
    warnings: list[str] = []
    if shutil.which("lake", path=path) is None:
        errors.append("no `lake` on PATH: install a Lean 4 toolchain with elan")
    if "DISABLE_REMOTE_CACHE" not in env and shutil.which("wget", path=path) is None:
        errors.append(
            "no `wget` on PATH: LeanDojo downloads its remote cache with wget "
            "(install it, or set DISABLE_REMOTE_CACHE=1 and trace locally)"
        )
    if not env.get("GITHUB_ACCESS_TOKEN"):
        warnings.append(
            "GITHUB_ACCESS_TOKEN is not set: LeanDojo's GitHub API calls are limited to 60 an hour"
        )
    if "CACHE_DIR" not in env:
        warnings.append(
            "CACHE_DIR is not set: LeanDojo's traced repositories go to ~/.cache/lean_dojo"
        )
    return errors, warnings


@lru_cache(maxsize=64)
def lean_repository(repo: str, commit: str | None) -> Any:
    """LeanDojo's ``LeanGitRepo``, built once per process: building one queries
    GitHub (a GitHub URL) or copies the checkout into LeanDojo's cache (a
    local path), and reads the repository's ``lean-toolchain``."""
    ld = import_lean_dojo()
    return ld.LeanGitRepo(repo, commit) if commit else ld.LeanGitRepo.from_path(repo)


def lean_theorem(theorem: Theorem) -> Any:
    """LeanDojo's ``Theorem`` for one of ours."""
    assert theorem.repo is not None and theorem.file is not None
    ld = import_lean_dojo()
    return ld.Theorem(
        lean_repository(theorem.repo, theorem.commit), Path(theorem.file), theorem.name
    )


def is_traced(theorem: Theorem) -> bool:
    """Whether LeanDojo has the theorem's repository traced (locally, or in
    its remote cache, which this downloads)."""
    ld = import_lean_dojo()
    return bool(ld.is_available_in_cache(lean_theorem(theorem).repo))


@dataclass(frozen=True)
class Traced:
    path: Path  # the traced repository in LeanDojo's cache
    cached: bool  # it was there already (or in the remote cache)
    lean_version: str  # the toolchain its lean-toolchain names


def trace_repository(repo: str, commit: str | None) -> Traced:
    """Have LeanDojo trace ``repo`` at ``commit`` into its cache, unless it is
    there already (locally, or in the remote cache, which this downloads).
    Tracing builds the whole project with ``lake build`` (hours for Mathlib):
    run it once, before any search, never inside a worker. Raises
    :class:`EnvironmentStartError` naming the command that failed."""
    ld = import_lean_dojo()
    where = f"{repo}@{commit or 'HEAD'}"
    try:
        lean_repo = lean_repository(repo, commit)
        cached = bool(ld.is_available_in_cache(lean_repo))
        path = Path(ld.get_traced_repo_path(lean_repo))
        return Traced(path, cached, str(lean_repo.lean_version))
    except subprocess.CalledProcessError as exc:
        command = exc.cmd if isinstance(exc.cmd, str) else " ".join(map(str, exc.cmd))
        raise EnvironmentStartError(
            f"tracing {where} failed: `{command}` exited with status {exc.returncode} "
            "(is the repository's Lean toolchain installed? elan installs the one "
            "its lean-toolchain names)"
        ) from exc
    except Exception as exc:  # LeanDojo asserts and raises ValueError on bad repositories
        raise EnvironmentStartError(f"tracing {where} failed: {type(exc).__name__}: {exc}") from exc


class LeanProcessLost(EnvironmentCrashed):
    """The Lean process died or its stream broke: a new one may work."""


DojoFactory = Callable[[], Any]
ProofChecker = Callable[[str], bool]
LeanNode = Node[str, Any]  # handle: a lean_dojo.TacticState of one Dojo


# --------------------------------------------------------------------------
# The environment
# --------------------------------------------------------------------------


class LeanDojoEnvironment(ReplayingEnvironment[LeanNode, str]):
    """One opened Lean theorem. ``dojo_factory`` returns a new, not yet
    entered ``Dojo``-like object (``__enter__`` -> ``(dojo, state)``,
    ``run_tac``, ``__exit__``); ``proof_checker`` checks a whole proof script.
    Both default to the real LeanDojo (the factory refusing an untraced
    repository) and exist so that the adapter can be tested without Lean."""

    max_recoveries = MAX_CRASH_RETRIES
    recoverable = (LeanProcessLost,)

    def __init__(
        self,
        theorem: Theorem,
        *,
        tactic_timeout: float = DEFAULT_TACTIC_TIMEOUT,
        startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
        verify_tactic_timeout: float = DEFAULT_VERIFY_TACTIC_TIMEOUT,
        check_timeout: float = DEFAULT_CHECK_TIMEOUT,
        dojo_factory: DojoFactory | None = None,
        proof_checker: ProofChecker | None = None,
    ) -> None:
        super().__init__()
        if theorem.backend is not Backend.LEAN:
            raise UserError(f"{theorem.name} is not a Lean theorem")
        if not theorem.repo or not theorem.file or not theorem.name:
            raise UserError(
                f"{theorem.name or '<unnamed>'}: a Lean theorem needs repo, file and name"
            )
        self.theorem = theorem
        self.tactic_timeout = tactic_timeout
        self.startup_timeout = startup_timeout
        self.verify_tactic_timeout = verify_tactic_timeout
        self.check_timeout = check_timeout
        self._ld = import_lean_dojo()
        self.timeouts = (self._ld.DojoTacticTimeoutError,)
        if dojo_factory is None:
            errors, _ = lean_setup_problems()
            if errors:
                raise ProverNotInstalled("; ".join(errors))
        self._factory = dojo_factory or self._real_dojo
        self._checker = proof_checker or self._bounded_check
        self._dojo: Any = None  # the entered Dojo of the current process
        self._cm: Any = None  # the object whose __exit__ kills it
        self._process = 0
        self.restarts = 0
        t0 = time.perf_counter()
        try:
            root_lean = self._start()
        except BaseException:
            self.close()
            raise
        self.start_seconds = time.perf_counter() - t0
        root = ProofState(0, root_lean.pp, root_lean.num_goals)
        self._add_root(LeanNode(root, None, None, root_lean, self._process))

    # -- protocol --------------------------------------------------------------
    def verify(self, tactics: Sequence[str]) -> Verification:
        t0 = time.perf_counter()
        try:
            return self._verify(tactics, t0)
        except Exception as exc:  # verify reports, it never raises
            return Verification(
                False,
                f"verification could not run: {type(exc).__name__}: {exc}",
                seconds=time.perf_counter() - t0,
            )

    def close(self) -> None:
        self._kill()

    # -- the Dojo process ------------------------------------------------------
    def _real_dojo(self) -> Any:
        if not is_traced(self.theorem):
            raise EnvironmentStartError(
                f"{self.theorem.repo}@{self.theorem.commit or 'HEAD'} is not traced in "
                f"LeanDojo's cache ({self._ld.constants.CACHE_DIR}); {TRACE_HINT}"
            )
        return self._ld.Dojo(lean_theorem(self.theorem), timeout=math.ceil(self.startup_timeout))

    def _bounded_check(self, script: str) -> bool:
        return check_proof_bounded(self.theorem, script, self.check_timeout)

    def _enter(self, tactic_timeout: float) -> tuple[Any, Any, Any]:
        """A new entered Dojo: (context manager, dojo, initial state), or
        :class:`EnvironmentStartError`."""
        ld = self._ld
        cm = None
        where = (
            f"{self.theorem.name} in {self.theorem.file} "
            f"({self.theorem.repo}@{self.theorem.commit or 'HEAD'})"
        )
        try:
            cm = self._factory()
            dojo, init = cm.__enter__()
        except EnvironmentStartError as exc:
            raise EnvironmentStartError(f"LeanDojo could not open {where}: {exc}") from exc
        except Exception as exc:
            if cm is not None:
                _exit_quietly(cm)  # entering may have spawned Lean before failing
            detail = (
                str(exc)
                if isinstance(exc, ld.DojoInitError)
                else (
                    f"{type(exc).__name__}: {exc} (LeanDojo needs a git repository, URL or "
                    "local checkout, at a commit it has traced)"
                )
            )
            raise EnvironmentStartError(f"LeanDojo could not open {where}: {detail}") from exc
        if not isinstance(init, ld.TacticState):
            _exit_quietly(cm)
            raise EnvironmentStartError(
                f"LeanDojo gave no proof state for {self.theorem.name}: {init!r}"
            )
        _narrow_timeout(dojo, tactic_timeout)
        return cm, dojo, init

    def _start(self) -> Any:
        """Start a new Dojo for the search session; returns its root state."""
        self._kill()
        self._cm, self._dojo, init = self._enter(self.tactic_timeout)
        self._process += 1
        return init

    def _kill(self) -> None:
        if self._cm is not None:
            _exit_quietly(self._cm)
        self._cm = self._dojo = None

    def _run_tac(self, state: Any, text: str) -> Any:
        """``run_tac`` on the session's Dojo; a dead process becomes
        :class:`LeanProcessLost` (the Dojo killed). Raises LeanDojo's timeout,
        and ``AssertionError`` for an answer LeanDojo could not parse."""
        try:
            return self._dojo.run_tac(state, text)
        except self._ld.DojoCrashError as exc:
            self._kill()
            raise LeanProcessLost(f"Lean crashed: {exc}") from exc
        except AssertionError as exc:
            death = _death(self._dojo)
            if death:
                self._kill()
                raise LeanProcessLost(f"the Lean process is gone ({death})") from exc
            raise

    # -- stepping (see ReplayingEnvironment) -------------------------------------
    def _check(self, tactic: str, state: ProofState) -> str | TacticError:
        try:
            return check_lean_tactic(tactic, self.theorem.name)
        except RejectedLeanTactic as exc:
            return TacticError(f"rejected: {exc}")

    def _send(self, node: LeanNode, text: str) -> Any:
        try:
            return self._run_tac(node.handle, text)
        except AssertionError as exc:
            # LeanDojo asserts on goal text it cannot parse; the answer was
            # read and the process lives, so it is still in step.
            return TacticError(f"LeanDojo could not read Lean's answer: {exc}")

    def _after_timeout(self) -> None:
        # The Dojo now answers each request with the previous answer: kill
        # it; the next call starts a new one and replays.
        self._kill()

    def _gave_up(self, text: str, attempts: int, error: BaseException) -> BaseException:
        return EnvironmentCrashed(
            f"Lean crashed on {text!r} in {self.theorem.name} {attempts} times: {error}"
        )

    def _result(self, node: LeanNode, text: str, result: Any) -> TacticResult:
        ld = self._ld
        if isinstance(result, TacticError):
            return result
        if isinstance(result, ld.LeanError):
            return TacticError(result.error)
        if isinstance(result, ld.ProofGivenUp):
            return TacticError("proof given up (sorry): not a proof")
        new_id = self._new_id()
        if isinstance(result, ld.ProofFinished):
            return ProofFinished(new_id, result.message or "")
        if isinstance(result, ld.TacticState):
            state = ProofState(new_id, result.pp, result.num_goals)
            self._add(LeanNode(state, node.state.id, text, result, self._process))
            return state
        raise EnvironmentCrashed(f"unexpected LeanDojo result {result!r}")

    # -- restoring a state (see ReplayingEnvironment._restore) -------------------
    def _generation(self) -> int:
        return self._process

    def _is_live(self, node: LeanNode) -> bool:
        return self._dojo is not None and node.generation == self._process

    def _restate_root(self, root: LeanNode) -> Any:
        self.restarts += 1
        try:
            root_lean = self._start()
        except EnvironmentStartError as exc:
            raise EnvironmentCrashed(f"could not restart Lean: {exc}") from exc
        if root_lean.pp != root.state.goals:
            self._kill()
            raise EnvironmentCrashed(
                f"restarted Lean shows a different initial state for {self.theorem.name}"
            )
        return root_lean

    def _replay(self, parent: LeanNode, step: LeanNode) -> Any:
        assert step.tactic is not None
        try:
            result = self._run_tac(parent.handle, step.tactic)
        except (self._ld.DojoTacticTimeoutError, AssertionError) as exc:
            self._kill()
            raise EnvironmentCrashed(
                f"replaying {step.tactic!r} to restore a state failed: {type(exc).__name__} {exc}"
            ) from exc
        if not isinstance(result, self._ld.TacticState) or result.pp != step.state.goals:
            self._kill()
            raise EnvironmentCrashed(
                f"replaying {step.tactic!r} did not give back the same state: {result!r}"
            )
        return result

    # -- verification ----------------------------------------------------------
    def _verify(self, tactics: Sequence[str], t0: float) -> Verification:
        texts: list[str] = []
        for tactic in tactics:
            try:
                texts.append(check_lean_tactic(tactic, self.theorem.name))
            except RejectedLeanTactic as exc:
                return Verification(
                    False, f"rejected tactic {tactic!r}: {exc}", seconds=time.perf_counter() - t0
                )
        script = proof_script(texts)

        def fail(reason: str) -> Verification:
            return Verification(False, reason, seconds=time.perf_counter() - t0, script=script)

        if not texts:
            return fail("empty proof")
        problem = self._replay_fresh(texts)
        if problem:
            return fail(problem)
        try:
            accepted = self._checker(script)
        except Exception as exc:  # LeanDojo raises DojoInitError, AssertionError ...
            return fail(f"the whole-file check could not run: {type(exc).__name__}: {exc}")
        if not accepted:
            return fail("Lean rejected the proof in the theorem's file (lean_dojo.check_proof)")
        return Verification(True, "", (), time.perf_counter() - t0, script)

    def _replay_fresh(self, texts: list[str]) -> str:
        """Replay ``texts`` from the root in a new Dojo; '' if they finish the
        proof exactly at the last tactic, else why not."""
        for attempt in range(MAX_CRASH_RETRIES + 1):
            try:
                cm, dojo, state = self._enter(self.verify_tactic_timeout)
            except EnvironmentStartError as exc:
                return f"could not start Lean to verify: {exc}"
            try:
                return self._replay_in(dojo, state, texts)
            except LeanProcessLost as exc:
                if attempt == MAX_CRASH_RETRIES:
                    return f"Lean crashed verifying {self.theorem.name} {attempt + 1} times: {exc}"
            finally:
                _exit_quietly(cm)
        raise AssertionError("unreachable")

    def _replay_in(self, dojo: Any, state: Any, texts: list[str]) -> str:
        ld = self._ld
        for i, text in enumerate(texts, 1):
            where = f"tactic {i} ({text!r})"
            try:
                result = dojo.run_tac(state, text)
            except ld.DojoTacticTimeoutError:
                return f"{where} ran past {self.verify_tactic_timeout:g} s"
            except ld.DojoCrashError as exc:
                raise LeanProcessLost(str(exc)) from exc
            except AssertionError as exc:
                death = _death(dojo)
                if death:
                    raise LeanProcessLost(death) from exc
                return f"{where}: LeanDojo could not read Lean's answer: {exc}"
            if isinstance(result, ld.ProofFinished):
                if i < len(texts):
                    return f"the proof is finished after tactic {i} of {len(texts)}"
                if "declaration uses 'sorry'" in (result.message or ""):
                    return "Lean reports that the proof uses sorry"
                return ""
            if isinstance(result, ld.LeanError):
                return f"{where} failed in a fresh Lean: {result.error}"
            if isinstance(result, ld.ProofGivenUp):
                return f"{where} gives up the proof (sorry)"
            state = result
        return f"goals remain after the last tactic:\n{state.pp}"


# --------------------------------------------------------------------------
# The whole-file check, in a process group with a time limit
# --------------------------------------------------------------------------


def check_proof_bounded(theorem: Theorem, script: str, timeout: float) -> bool:
    """``lean_dojo.check_proof(theorem, script)`` run by
    ``python -m lean_env.lean_check`` in a new process group, which is killed
    (``lake`` and ``lean`` with it) if it runs past ``timeout`` seconds.
    Raises ``TimeoutError`` then, ``RuntimeError`` if the check could not
    run (the child's one-line reason)."""
    request = json.dumps(
        {
            "repo": theorem.repo,
            "commit": theorem.commit,
            "file": theorem.file,
            "name": theorem.name,
            "script": script,
        }
    )
    command = [sys.executable, "-m", "lean_env.lean_check"]
    code, out, err = run_in_group(command, request, timeout)
    if code is None:
        raise TimeoutError(f"lean_dojo.check_proof ran past {timeout:g} s")
    lines = out.strip().splitlines()
    try:
        answer = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        tail = " ".join(err.strip().splitlines()[-1:])
        raise RuntimeError(f"the check exited with {code}: {tail or 'no answer'}") from None
    if answer.get("error"):
        raise RuntimeError(answer["error"])
    return bool(answer.get("ok"))


def run_in_group(command: Sequence[str], stdin: str, timeout: float) -> tuple[int | None, str, str]:
    """Run ``command`` in a new session with ``stdin``; ``(exit code, stdout,
    stderr)``, the code None when it ran past ``timeout`` and its whole
    process group was killed."""
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
    proc = subprocess.Popen(
        list(command),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env=env,
    )
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return None, out, err
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # what the check left behind
    return proc.returncode, out, err


def _death(dojo: Any) -> str:
    """Why the Dojo's process is dead ('' while it lives, or when the object
    has no process to ask)."""
    proc = getattr(dojo, "proc", None)
    isalive = getattr(proc, "isalive", None)
    if not callable(isalive):
        return ""
    try:
        if isalive():
            return ""
    except Exception as exc:  # its pty already closed: as good as dead
        return f"unreachable: {exc}"
    signum = getattr(proc, "signalstatus", None)
    if signum is not None:
        return f"killed by signal {signum}"
    return f"exited with status {getattr(proc, 'exitstatus', None)}"


def _narrow_timeout(dojo: Any, seconds: float) -> None:
    """Set the per-interaction timeout of an entered Dojo. LeanDojo has no API
    for it: its ``timeout`` is read by pexpect's ``expect`` from ``proc.timeout``."""
    dojo.timeout = seconds
    proc = getattr(dojo, "proc", None)
    if proc is not None:
        proc.timeout = seconds


def _exit_quietly(cm: Any) -> None:
    """Kill a Dojo. Failures are ignored: it may be dead already, or have
    failed half-way through ``__enter__`` (then ``__exit__`` may find no process)."""
    with contextlib.suppress(Exception):
        cm.__exit__(None, None, None)
