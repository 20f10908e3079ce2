"""The Lean 4 backend of :class:`~lean_env.environment.Environment`, over LeanDojo.

``lean_dojo`` (PyPI ``lean-dojo``, the ``[lean]`` extra) is imported lazily, so
the rest of the project runs without it. What LeanDojo gives us (4.x):
``Dojo(theorem, timeout=...)`` whose ``__enter__`` starts ``lake env lean`` on
the theorem's file with the proof replaced by a REPL and returns
``(dojo, initial TacticState)``; ``dojo.run_tac(state, tactic)`` returns a
``TacticState`` (``.pp``, ``.id``, ``.num_goals``), ``ProofFinished``,
``LeanError`` (``.error``) or ``ProofGivenUp`` (the tactic used ``sorry``), and
raises ``DojoTacticTimeoutError`` or ``DojoCrashError``; ``__enter__`` raises
``DojoInitError``. The theorem's repository must already be traced by LeanDojo
(its cache or remote cache), or entering traces it first, which takes hours.

Recovery. After ``DojoTacticTimeoutError`` LeanDojo's pexpect stream is out of
step with the REPL: the late answer is read as the answer to the next request
(a known LeanDojo bug). So a timed-out Dojo is killed and never used again; the
next call starts a new one and restores the state it needs by replaying the
tactic path from the root, exactly as the Coq backend does after killing
coqtop. A crash is handled the same way, with one retry, then
:class:`~lean_env.errors.EnvironmentCrashed`.

Timeouts. ``Dojo``'s ``timeout`` is pexpect's, used for start-up too, and
loading a Mathlib file takes far longer than one tactic may; so the Dojo is
created with ``startup_timeout`` and narrowed to ``tactic_timeout`` once entered.

Untrusted tactics (model output) are checked before they reach Lean; see
:func:`check_lean_tactic`. ``verify`` is the Lean boundary of this project:
there is no ``coqc``/``Print Assumptions`` equivalent here, so a proof counts
when (1) its tactics, replayed from scratch in a FRESH Dojo that shares nothing
with the search session, end in ``ProofFinished`` exactly at the last tactic,
and (2) ``lean_dojo.check_proof`` — which compiles the theorem's whole file
with the proof in place using ``lake env lean`` and fails on any error or a
``declaration uses 'sorry'`` warning inside the proof — accepts it. Axioms are
not listed (``Verification.axioms`` stays empty): the escape hatches that do not
show up as ``sorry`` (``sorryAx``, ``native_decide``/``ofReduceBool``,
metaprogramming that adds declarations, kernel-check options) are refused by
the tactic check instead.
"""

from __future__ import annotations

import contextlib
import math
import re
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from .environment import DEFAULT_TACTIC_TIMEOUT, Environment
from .errors import (
    EnvironmentCrashed,
    EnvironmentStartError,
    ProverNotInstalled,
    UnknownState,
    UserError,
)
from .types import (
    Backend,
    ProofFinished,
    ProofState,
    TacticError,
    TacticResult,
    TacticTimeout,
    Theorem,
    Verification,
)

# One restart-and-retry after a crash, then give up: a crash that repeats on
# the same step is that step killing Lean, not bad luck.
MAX_CRASH_RETRIES = 1
DEFAULT_STARTUP_TIMEOUT = 600.0
DEFAULT_VERIFY_TACTIC_TIMEOUT = 60.0

INSTALL_HINT = (
    "LeanDojo is not available: pip install 'dco-prover[lean]' "
    "(and install a Lean 4 toolchain with elan, plus git >= 2.25)"
)

# --------------------------------------------------------------------------
# The tactic check
# --------------------------------------------------------------------------

# Identifiers that close a goal without proving it, or trust something outside
# Lean's kernel: `sorry`/`admit` and the axiom behind them; `native_decide` and
# the compiler-trusting axioms it relies on.
FORBIDDEN_IDENTIFIERS = frozenset(
    {"sorry", "admit", "sorryAx", "native_decide", "ofReduceBool", "ofReduceNat",
     "reduceBool", "reduceNat", "trustCompiler"}
)
# Tactics that run arbitrary meta-code (which can add an axiom and use it).
FORBIDDEN_TACTICS = frozenset({"run_tac", "run_cmd", "run_elab", "run_meta", "by_elab"})
# Command keywords. In a file, a tactic block ends at the first token that is
# not a tactic and Lean goes on parsing commands, whatever the indentation: a
# tactic text containing one of these would smuggle a declaration (or change
# the file's scope) into the whole-file check. None of them is a tactic.
COMMAND_KEYWORDS = frozenset(
    {"theorem", "lemma", "def", "abbrev", "axiom", "example", "instance",
     "opaque", "structure", "class", "inductive", "mutual", "namespace", "section",
     "end", "variable", "universe", "import", "attribute", "macro", "macro_rules",
     "syntax", "elab", "elab_rules", "notation", "infix", "infixl", "infixr", "prefix",
     "postfix", "initialize", "builtin_initialize", "declare_syntax_cat", "noncomputable",
     "unsafe", "partial", "private", "protected", "export", "omit", "include", "deriving",
     "add_decl_doc", "register_option", "register_simp_attr"}
)
# `set_option NAME VALUE in TAC` is a legitimate tactic, but some options switch
# checks off (`debug.skipKernelTC`); only these are allowed.
ALLOWED_OPTIONS = frozenset(
    {"maxHeartbeats", "maxRecDepth", "synthInstance.maxHeartbeats", "synthInstance.maxSize"}
)
ALLOWED_OPTION_PREFIXES = ("pp.", "trace.", "linter.")

# Lean 4's identifier syntax (isIdFirst/isIdRest): letters (incl. Greek and
# letter-like symbols, which Python's \w covers), digits after the first
# character, _ ' ! ?, subscripts; «…» quotes anything. λ Π Σ are not letters
# to Lean, so they are blanked before scanning.
_ATOM = r"(?:«[^»\n]*»|[^\W\d][\w'!?]*)"
_IDENT = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
_NON_LETTERS = str.maketrans({c: " " for c in "λΠΣ"})
_HASH_COMMAND = re.compile(r"#[A-Za-z_]")
_SET_OPTION = re.compile(r"\bset_option\s+([\w.]+)")
# `decide +native` / `decide (config := {native := true})` are native_decide.
_NATIVE_CONFIG = re.compile(r"\+native\b|\bnative\s*:=\s*true\b")


class RejectedLeanTactic(ValueError):
    """The text is not an acceptable Lean tactic; the message says why."""


def blank_inert(text: str) -> str:
    """``text`` with comments and string/char literals replaced by spaces (their
    contents are inert); raises on an unterminated one, which in a file would
    swallow everything after the proof."""
    out = list(text)
    i, n = 0, len(text)

    def blank(a: int, b: int) -> None:
        for k in range(a, b):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        c = text[i]
        if text.startswith("--", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
        elif text.startswith("/-", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/-", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("-/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            if depth:
                raise RejectedLeanTactic("unterminated block comment")
            blank(i, j)
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                raise RejectedLeanTactic("unterminated string literal")
            blank(i, j + 1)
            i = j + 1
        elif c == "'" and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] in "_'!?")):
            # A char literal ('a', '\n'), not the prime of an identifier (h').
            m = re.match(r"'(?:\\.[^']*|[^'\\\n])'", text[i:])
            if m:
                blank(i, i + m.end())
                i += m.end()
            else:
                i += 1
        else:
            i += 1
    return "".join(out)


def _refers_to(ident: str, theorem_name: str) -> bool:
    """Whether ``ident`` (or a prefix of it, as in ``thm.mp``) can name the
    theorem: its full name, or any dotted suffix of it (namespaces are open
    inside the theorem's own namespace). This also refuses a homonym from
    another namespace — the price of never letting a self-reference through:
    the REPL does not run Lean's termination check on a recursive proof."""
    ident = ident.removeprefix("_root_.")
    parts = ident.split(".")
    for k in range(1, len(parts) + 1):
        candidate = ".".join(parts[:k])
        if candidate == theorem_name or theorem_name.endswith("." + candidate):
            return True
    return False


def check_lean_tactic(text: str, theorem_name: str = "") -> str:
    """The tactic text to send (surrounding blank space removed), or raise
    :class:`RejectedLeanTactic`. Refused, outside comments and strings:

    - :data:`FORBIDDEN_IDENTIFIERS` (``sorry``, ``admit``, ``sorryAx``,
      ``native_decide`` ...) and ``decide +native``;
    - :data:`FORBIDDEN_TACTICS` (``run_tac`` ... run arbitrary meta-code);
    - :data:`COMMAND_KEYWORDS` (``theorem``, ``axiom``, ``namespace``, ``end`` ...)
      and ``#``-commands (``#eval``, ``#exit`` ...): a second command smuggled
      after the tactic;
    - ``set_option`` of anything but :data:`ALLOWED_OPTIONS` / ``pp.*``,
      ``trace.*``, ``linter.*``;
    - the theorem's own name (see :func:`_refers_to`);
    - unterminated comments or strings.

    A multi-line tactic is fine: LeanDojo's traced tactics often are.
    """
    tactic = text.replace("\r\n", "\n").strip()
    if not tactic:
        raise RejectedLeanTactic("empty tactic")
    if "\x00" in tactic:
        raise RejectedLeanTactic("tactic contains a NUL character")
    code = blank_inert(tactic).translate(_NON_LETTERS)
    hash_command = _HASH_COMMAND.search(code)
    if hash_command:
        word = re.match(r"#\w+", code[hash_command.start():])
        raise RejectedLeanTactic(f"command {word.group(0) if word else '#'!r} is not a tactic")
    for option in _SET_OPTION.findall(code):
        if option not in ALLOWED_OPTIONS and not option.startswith(ALLOWED_OPTION_PREFIXES):
            raise RejectedLeanTactic(f"set_option {option} is not allowed inside a proof")
    if _NATIVE_CONFIG.search(code):
        raise RejectedLeanTactic("native evaluation is not allowed: it trusts the compiler")
    for ident in _IDENT.findall(code):
        if ident in COMMAND_KEYWORDS:
            raise RejectedLeanTactic(f"command keyword {ident!r} is not allowed in a tactic")
        if ident in FORBIDDEN_TACTICS:
            raise RejectedLeanTactic(f"{ident!r} runs arbitrary meta-code: not allowed")
        bad = [p for p in ident.split(".") if p in FORBIDDEN_IDENTIFIERS]
        if bad:
            raise RejectedLeanTactic(f"{bad[0]!r} is not allowed: it does not prove the goal")
        if theorem_name and _refers_to(ident, theorem_name):
            raise RejectedLeanTactic(f"tactic refers to the theorem being proved ({ident})")
    return tactic


def proof_script(tactics: Sequence[str]) -> str:
    """The proof term for ``theorem … :=``: ``by`` and the tactics, one after the
    other, each shifted right by two columns as a whole. The REPL parsed each
    tactic as if it started at column 0, so a uniform shift keeps the layout
    (``·`` blocks, ``| case =>`` alternatives) exactly as Lean saw it."""
    return "by\n" + "\n".join(textwrap.indent(t, "  ") for t in tactics)


# --------------------------------------------------------------------------
# The environment
# --------------------------------------------------------------------------


def import_lean_dojo() -> ModuleType:
    """``lean_dojo``, or :class:`ProverNotInstalled`. Importing it runs
    ``git --version`` (LeanDojo checks git at import) but touches no network."""
    try:
        import lean_dojo
    except ImportError as exc:
        raise ProverNotInstalled(f"{INSTALL_HINT} ({exc})") from exc
    except Exception as exc:  # e.g. its import-time git check failing
        raise ProverNotInstalled(f"{INSTALL_HINT}; importing lean_dojo failed: {exc}") from exc
    return lean_dojo


@dataclass
class _Node:
    state: ProofState
    parent: int | None
    tactic: str | None
    lean: Any  # lean_dojo.TacticState, valid only in the Dojo of `generation`
    generation: int


DojoFactory = Callable[[], Any]
ProofChecker = Callable[[str], bool]


class LeanDojoEnvironment(Environment):
    """One opened Lean theorem. ``dojo_factory`` returns a new, not yet
    entered ``Dojo``-like object (``__enter__`` -> ``(dojo, state)``,
    ``run_tac``, ``__exit__``); ``proof_checker`` checks a whole proof script.
    Both default to the real LeanDojo and exist so the adapter can be tested
    without Lean."""

    def __init__(
        self,
        theorem: Theorem,
        *,
        tactic_timeout: float = DEFAULT_TACTIC_TIMEOUT,
        startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
        verify_tactic_timeout: float = DEFAULT_VERIFY_TACTIC_TIMEOUT,
        dojo_factory: DojoFactory | None = None,
        proof_checker: ProofChecker | None = None,
    ) -> None:
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
        self._ld = import_lean_dojo()
        self._factory = dojo_factory or self._real_dojo
        self._checker = proof_checker or self._real_check
        self._lean_thm: Any = None
        self._dojo: Any = None  # the entered Dojo of the current generation
        self._cm: Any = None  # the object whose __exit__ kills it
        self._generation = 0
        self._next_id = 1
        self._nodes: dict[int, _Node] = {}
        self.restarts = 0
        self.tactic_calls = 0
        self.tactic_seconds = 0.0
        t0 = time.perf_counter()
        try:
            root_lean = self._start()
        except BaseException:
            self.close()
            raise
        self.start_seconds = time.perf_counter() - t0
        root = ProofState(0, root_lean.pp, root_lean.num_goals)
        self._nodes[0] = _Node(root, None, None, root_lean, self._generation)

    # -- protocol --------------------------------------------------------------
    @property
    def initial_state(self) -> ProofState:
        return self._nodes[0].state

    def run_tactic(self, state: ProofState, tactic: str) -> TacticResult:
        node = self._nodes.get(state.id)
        if node is None or node.state != state:
            raise UnknownState(f"state {state.id} does not belong to {self.theorem.name}")
        try:
            text = check_lean_tactic(tactic, self.theorem.name)
        except RejectedLeanTactic as exc:
            return TacticError(f"rejected: {exc}")
        t0 = time.perf_counter()
        try:
            return self._apply(node, text)
        finally:
            self.tactic_calls += 1
            self.tactic_seconds += time.perf_counter() - t0

    def verify(self, tactics: Sequence[str]) -> Verification:
        t0 = time.perf_counter()
        texts: list[str] = []
        for tactic in tactics:
            try:
                texts.append(check_lean_tactic(tactic, self.theorem.name))
            except RejectedLeanTactic as exc:
                return Verification(False, f"rejected tactic {tactic!r}: {exc}",
                                    seconds=time.perf_counter() - t0)
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

    def close(self) -> None:
        self._kill()

    # -- the Dojo process ------------------------------------------------------
    def _lean_theorem(self) -> Any:
        """LeanDojo's Theorem. Built on first use: ``LeanGitRepo`` clones or
        queries the repository (network for a GitHub URL)."""
        if self._lean_thm is None:
            ld, t = self._ld, self.theorem
            assert t.repo is not None
            repo = ld.LeanGitRepo(t.repo, t.commit) if t.commit else ld.LeanGitRepo.from_path(t.repo)
            self._lean_thm = ld.Theorem(repo, Path(t.file), t.name)
        return self._lean_thm

    def _real_dojo(self) -> Any:
        return self._ld.Dojo(self._lean_theorem(), timeout=math.ceil(self.startup_timeout))

    def _real_check(self, script: str) -> bool:
        return bool(self._ld.check_proof(self._lean_theorem(), script))

    def _enter(self, tactic_timeout: float) -> tuple[Any, Any, Any]:
        """A new entered Dojo: (context manager, dojo, initial state), or
        :class:`EnvironmentStartError`."""
        ld = self._ld
        cm = None
        try:
            cm = self._factory()
            dojo, init = cm.__enter__()
        except Exception as exc:
            if cm is not None:
                _exit_quietly(cm)  # entering may have spawned Lean before failing
            detail = str(exc) if isinstance(exc, ld.DojoInitError) else (
                f"{type(exc).__name__}: {exc} (LeanDojo needs a git repository, URL or "
                "local checkout, at a commit it has traced or can trace)"
            )
            raise EnvironmentStartError(
                f"LeanDojo could not open {self.theorem.name} in {self.theorem.file} "
                f"({self.theorem.repo}@{self.theorem.commit or 'HEAD'}): {detail}"
            ) from exc
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
        self._generation += 1
        return init

    def _kill(self) -> None:
        if self._cm is not None:
            _exit_quietly(self._cm)
        self._cm = self._dojo = None

    # -- stepping --------------------------------------------------------------
    def _apply(self, node: _Node, text: str) -> TacticResult:
        ld = self._ld
        for attempt in range(MAX_CRASH_RETRIES + 1):
            try:
                lean_state = self._restore(node)
                result = self._dojo.run_tac(lean_state, text)
            except ld.DojoTacticTimeoutError:
                # The Dojo now answers each request with the previous answer:
                # kill it; the next call starts a new one and replays.
                self._kill()
                return TacticTimeout(self.tactic_timeout)
            except ld.DojoCrashError as exc:
                self._kill()
                if attempt == MAX_CRASH_RETRIES:
                    raise EnvironmentCrashed(
                        f"Lean crashed on {text!r} in {self.theorem.name} "
                        f"{attempt + 1} times: {exc}"
                    ) from exc
                continue
            except AssertionError as exc:
                # LeanDojo asserts on goal text it cannot parse; the answer was
                # read, so the process is still in step: this tactic just fails.
                return TacticError(f"LeanDojo could not read Lean's answer: {exc}")
            return self._result(node, text, result)
        raise AssertionError("unreachable")

    def _result(self, node: _Node, text: str, result: Any) -> TacticResult:
        ld = self._ld
        if isinstance(result, ld.LeanError):
            return TacticError(result.error)
        if isinstance(result, ld.ProofGivenUp):
            return TacticError("proof given up (sorry): not a proof")
        new_id = self._next_id
        self._next_id += 1
        if isinstance(result, ld.ProofFinished):
            return ProofFinished(new_id, result.message or "")
        if isinstance(result, ld.TacticState):
            state = ProofState(new_id, result.pp, result.num_goals)
            self._nodes[new_id] = _Node(state, node.state.id, text, result, self._generation)
            return state
        raise EnvironmentCrashed(f"unexpected LeanDojo result {result!r}")

    def _restore(self, node: _Node) -> Any:
        """``node``'s LeanDojo state in the current Dojo, restarting it if it
        was killed and replaying the tactics from the deepest ancestor that is
        still valid."""
        if self._dojo is None:
            self.restarts += 1
            try:
                root_lean = self._start()
            except EnvironmentStartError as exc:
                raise EnvironmentCrashed(f"could not restart Lean: {exc}") from exc
            root = self._nodes[0]
            if root_lean.pp != root.state.goals:
                self._kill()
                raise EnvironmentCrashed(
                    f"restarted Lean shows a different initial state for {self.theorem.name}"
                )
            root.lean, root.generation = root_lean, self._generation
        path: list[_Node] = []
        current = node
        while current.generation != self._generation:
            path.append(current)
            assert current.parent is not None  # the root is always current
            current = self._nodes[current.parent]
        for step in reversed(path):
            assert step.parent is not None and step.tactic is not None
            parent = self._nodes[step.parent]
            try:
                result = self._dojo.run_tac(parent.lean, step.tactic)
            except self._ld.DojoTacticTimeoutError as exc:
                self._kill()
                raise EnvironmentCrashed(
                    f"replaying {step.tactic!r} to restore a state timed out"
                ) from exc
            if not isinstance(result, self._ld.TacticState) or result.pp != step.state.goals:
                self._kill()
                raise EnvironmentCrashed(
                    f"replaying {step.tactic!r} did not give back the same state: {result!r}"
                )
            step.lean, step.generation = result, self._generation
        return node.lean

    # -- verification ----------------------------------------------------------
    def _replay_fresh(self, texts: list[str]) -> str:
        """Replay ``texts`` from the root in a new Dojo; '' if they finish the
        proof exactly at the last tactic, else why not."""
        ld = self._ld
        for attempt in range(MAX_CRASH_RETRIES + 1):
            try:
                cm, dojo, state = self._enter(self.verify_tactic_timeout)
            except EnvironmentStartError as exc:
                raise EnvironmentCrashed(f"could not start Lean to verify: {exc}") from exc
            try:
                for i, text in enumerate(texts, 1):
                    result = dojo.run_tac(state, text)
                    if isinstance(result, ld.ProofFinished):
                        if i < len(texts):
                            return f"the proof is finished after tactic {i} of {len(texts)}"
                        if "declaration uses 'sorry'" in (result.message or ""):
                            return "Lean reports that the proof uses sorry"
                        return ""
                    if isinstance(result, ld.LeanError):
                        return f"tactic {i} ({text!r}) failed in a fresh Lean: {result.error}"
                    if isinstance(result, ld.ProofGivenUp):
                        return f"tactic {i} ({text!r}) gives up the proof (sorry)"
                    state = result
                return f"goals remain after the last tactic:\n{state.pp}"
            except ld.DojoTacticTimeoutError:
                return f"tactic {i} ({text!r}) ran past {self.verify_tactic_timeout:g} s"
            except ld.DojoCrashError as exc:
                if attempt == MAX_CRASH_RETRIES:
                    raise EnvironmentCrashed(f"Lean crashed verifying {self.theorem.name}: {exc}") from exc
            finally:
                _exit_quietly(cm)
        raise AssertionError("unreachable")


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
