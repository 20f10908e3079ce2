"""The LeanDojo adapter, tested at the boundary where Lean itself would start.

Lean cannot be installed on these machines, so the Lean process is a scripted
stand-in (:class:`ScriptedDojo`) that answers with LeanDojo's REAL result types
(``TacticState`` — whose goal parsing is LeanDojo's own —, ``ProofFinished``,
``LeanError``, ``ProofGivenUp``) and raises LeanDojo's REAL exceptions
(``DojoInitError``, ``DojoCrashError``, ``DojoTacticTimeoutError``), imported
from the installed ``lean-dojo`` package. Like the real REPL, each stand-in
process numbers its states from 0, so a state kept from a killed process would
be silently wrong in a new one: the stand-in records any such misuse, and
after a timeout it answers with stale replies, as LeanDojo's out-of-step
pexpect stream does. The path through the real ``lean_dojo.Dojo`` is in
``test_leandojo_dojo.py``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from lean_env.errors import (
    EnvironmentCrashed,
    EnvironmentStartError,
    ProverNotInstalled,
    UnknownState,
    UserError,
)
from lean_env.leandojo import (
    LeanDojoEnvironment,
    RejectedLeanTactic,
    check_lean_tactic,
    proof_script,
)
from lean_env.types import (
    Backend,
    ProofFinished,
    ProofState,
    TacticError,
    TacticTimeout,
    Theorem,
)

ld = pytest.importorskip(
    "lean_dojo", reason="lean-dojo is not installed (pip install 'dco-prover[lean]')"
)

ROOT = "n : ℕ\n⊢ n + 0 = n"
CASES = "case zero\n⊢ 0 + 0 = 0\n\ncase succ\nn : ℕ\nih : n + 0 = n\n⊢ n + 1 + 0 = n + 1"
SUCC = "case succ\nn : ℕ\nih : n + 0 = n\n⊢ n + 1 + 0 = n + 1"

FINISH = "<finish>"
TIMEOUT = "<timeout>"
CRASH = "<crash>"
GIVE_UP = "<give up>"


@dataclass
class CrashOnce:
    """Crash the first time this step is asked, then answer ``then``."""

    then: str
    done: bool = False


@dataclass
class LeanWorld:
    """What the stand-in Lean knows: (goals, tactic) -> outcome, plus a log
    shared by every process started for one theorem."""

    rules: dict[tuple[str, str], Any]
    root: str = ROOT
    init_error: str | None = None
    check_result: bool = True
    dojos: list[ScriptedDojo] = field(default_factory=list)
    requests: list[tuple[int, str, str]] = field(default_factory=list)
    misuse: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def factory(self) -> ScriptedDojo:
        dojo = ScriptedDojo(self, len(self.dojos) + 1)
        self.dojos.append(dojo)
        return dojo

    def check(self, script: str) -> bool:
        self.checked.append(script)
        return self.check_result

    @property
    def starts(self) -> int:
        return len(self.dojos)

    def asked(self, process: int) -> list[tuple[str, str]]:
        return [(pp, tac) for p, pp, tac in self.requests if p == process]


class ScriptedDojo:
    """A stand-in for ``lean_dojo.Dojo`` over one Lean process."""

    def __init__(self, world: LeanWorld, number: int) -> None:
        self.world = world
        self.number = number
        self.timeout: float | None = None
        self.proc = SimpleNamespace(timeout=None)  # where pexpect reads its timeout
        self.alive = False
        self.exited = False
        self.stale = False
        self.issued: dict[int, str] = {}

    def __enter__(self) -> tuple[ScriptedDojo, Any]:
        if self.world.init_error:
            raise ld.DojoInitError(self.world.init_error)
        self.alive = True
        return self, self._state(self.world.root)

    def __exit__(self, *exc: object) -> None:
        self.alive, self.exited = False, True

    def _state(self, pp: str) -> Any:
        sid = len(self.issued)  # per process, from 0, like the REPL
        self.issued[sid] = pp
        return ld.TacticState(pp, sid)

    def run_tac(self, state: Any, tactic: str) -> Any:
        world = self.world
        if not self.alive:
            raise ld.DojoCrashError("Unexpected EOF")
        if self.issued.get(state.id) != state.pp:
            world.misuse.append(f"process {self.number} got foreign state {state.id}")
            return ld.LeanError(f"unknown proof state {state.id}")
        world.requests.append((self.number, state.pp, tactic))
        if self.stale:
            return ld.LeanError("(answer to an earlier request)")
        outcome = world.rules.get((state.pp, tactic))
        if isinstance(outcome, CrashOnce):
            if not outcome.done:
                outcome.done = True
                self.alive = False
                raise ld.DojoCrashError("Unexpected EOF")
            outcome = outcome.then
        if outcome is None:
            return ld.LeanError(f"unknown tactic '{tactic}'")
        if outcome == TIMEOUT:
            self.stale = True
            raise ld.DojoTacticTimeoutError()
        if outcome == CRASH:
            self.alive = False
            raise ld.DojoCrashError("Unexpected exit code: 139")
        if outcome == GIVE_UP:
            return ld.ProofGivenUp()
        if outcome == FINISH:
            return ld.ProofFinished(len(self.issued) + 100, "")
        if isinstance(outcome, tuple):
            return ld.LeanError(outcome[1])
        return self._state(outcome)


def rules() -> dict[tuple[str, str], Any]:
    return {
        (ROOT, "induction n"): CASES,
        (CASES, "all_goals simp"): FINISH,
        (CASES, "· simp"): SUCC,
        (SUCC, "simp"): FINISH,
        (ROOT, "simp"): FINISH,
        (ROOT, "rfl"): ("error", "The rfl tactic failed. Possible reasons: ..."),
        (ROOT, "loop"): TIMEOUT,
        (ROOT, "decide"): GIVE_UP,
        (CASES, "boom"): CrashOnce(FINISH),
        (CASES, "always_crash"): CRASH,
    }


THEOREM = Theorem(
    name="Demo.add_zero'",
    statement="theorem add_zero' (n : ℕ) : n + 0 = n",
    backend=Backend.LEAN,
    file="Demo/Basic.lean",
    repo="https://github.com/example/demo",
    commit="0123456789abcdef0123456789abcdef01234567",
)


def open_env(world: LeanWorld, **kwargs: Any) -> LeanDojoEnvironment:
    return LeanDojoEnvironment(
        THEOREM, dojo_factory=world.factory, proof_checker=world.check, **kwargs
    )


# -- stepping ---------------------------------------------------------------------


def test_step_by_step_proof_uses_lean_states() -> None:
    world = LeanWorld(rules())
    with open_env(world, tactic_timeout=2.5) as env:
        root = env.initial_state
        assert root == ProofState(0, ROOT, 1)
        cases = env.run_tactic(root, "induction n")
        assert isinstance(cases, ProofState)
        assert cases.goals == CASES and cases.num_goals == 2  # counted by LeanDojo's parser
        succ = env.run_tactic(cases, "  · simp\n")  # surrounding blank space is dropped
        assert isinstance(succ, ProofState) and succ.num_goals == 1
        done = env.run_tactic(succ, "simp")
        assert isinstance(done, ProofFinished)
        assert len({root.id, cases.id, succ.id, done.state_id}) == 4
        # Backtracking to any earlier state of the same Dojo: no restart needed.
        assert isinstance(env.run_tactic(root, "simp"), ProofFinished)
    assert world.starts == 1 and world.dojos[0].exited
    assert world.dojos[0].timeout == 2.5 and world.dojos[0].proc.timeout == 2.5
    assert world.asked(1)[1] == (CASES, "· simp")
    assert not world.misuse


def test_errors_are_mapped_and_give_up_never_proves() -> None:
    world = LeanWorld(rules())
    with open_env(world) as env:
        root = env.initial_state
        error = env.run_tactic(root, "rfl")
        assert isinstance(error, TacticError) and "rfl tactic failed" in error.message
        gave_up = env.run_tactic(root, "decide")
        assert isinstance(gave_up, TacticError) and "sorry" in gave_up.message
        unknown = env.run_tactic(root, "omega")
        assert isinstance(unknown, TacticError)
        with pytest.raises(UnknownState):
            env.run_tactic(ProofState(42, ROOT, 1), "simp")
        with pytest.raises(UnknownState):
            env.run_tactic(ProofState(0, "other goals", 1), "simp")


def test_timeout_kills_the_dojo_and_earlier_states_still_work() -> None:
    world = LeanWorld(rules())
    with open_env(world, tactic_timeout=1.0) as env:
        root = env.initial_state
        cases = env.run_tactic(root, "induction n")
        assert isinstance(cases, ProofState)
        assert env.run_tactic(root, "loop") == TacticTimeout(1.0)
        assert world.dojos[0].exited  # the out-of-step process is never asked again
        # A state from before the timeout: a new Dojo replays its path first.
        finished = env.run_tactic(cases, "all_goals simp")
        assert isinstance(finished, ProofFinished)
        assert world.starts == 2 and env.restarts == 1
        assert world.asked(2) == [(ROOT, "induction n"), (CASES, "all_goals simp")]
        # The restored path is valid in the new process: no further replay.
        assert isinstance(env.run_tactic(cases, "· simp"), ProofState)
        assert world.starts == 2
    assert not world.misuse


def test_crash_mid_proof_restarts_replays_and_retries_once() -> None:
    world = LeanWorld(rules())
    with open_env(world) as env:
        cases = env.run_tactic(env.initial_state, "induction n")
        assert isinstance(cases, ProofState)
        assert isinstance(env.run_tactic(cases, "boom"), ProofFinished)
    assert world.starts == 2 and world.dojos[0].exited
    assert world.asked(2) == [(ROOT, "induction n"), (CASES, "boom")]
    assert not world.misuse


def test_repeated_crash_raises_environment_crashed() -> None:
    world = LeanWorld(rules())
    with open_env(world) as env:
        cases = env.run_tactic(env.initial_state, "induction n")
        assert isinstance(cases, ProofState)
        with pytest.raises(EnvironmentCrashed, match="2 times"):
            env.run_tactic(cases, "always_crash")
    assert world.starts == 2
    assert all(d.exited for d in world.dojos)


def test_restart_that_cannot_start_is_a_crash() -> None:
    world = LeanWorld(rules())
    with open_env(world) as env:
        assert isinstance(env.run_tactic(env.initial_state, "loop"), TacticTimeout)
        world.init_error = "Unexpected EOF"
        with pytest.raises(EnvironmentCrashed, match="could not restart"):
            env.run_tactic(env.initial_state, "simp")


def test_init_error_is_a_start_error() -> None:
    world = LeanWorld(rules(), init_error="Cannot find the *.ast.json file for the theorem")
    with pytest.raises(EnvironmentStartError, match=r"Demo\.add_zero'.*ast\.json"):
        open_env(world)
    assert world.dojos[0].exited  # whatever half-started is killed


def test_any_failure_to_enter_is_a_start_error() -> None:
    def broken() -> Any:
        raise ValueError("https://nowhere is not a valid URL")

    with pytest.raises(EnvironmentStartError, match="not a valid URL"):
        LeanDojoEnvironment(THEOREM, dojo_factory=broken)


def test_not_installed_and_not_lean(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UserError):
        LeanDojoEnvironment(Theorem("t", "Lemma t : True.", backend=Backend.COQ, file="a.v"))
    with pytest.raises(UserError, match="repo, file and name"):
        LeanDojoEnvironment(Theorem("t", "theorem t : True", backend=Backend.LEAN))
    monkeypatch.setitem(sys.modules, "lean_dojo", None)  # makes `import lean_dojo` fail
    with pytest.raises(ProverNotInstalled, match=r"pip install 'dco-prover\[lean\]'"):
        LeanDojoEnvironment(THEOREM, dojo_factory=LeanWorld(rules()).factory)


# -- untrusted tactic text -----------------------------------------------------------


@pytest.mark.parametrize(
    ("tactic", "why"),
    [
        ("sorry", "sorry"),
        ("admit", "admit"),
        ("exact sorryAx _ false", "sorryAx"),
        ("exact (by simp; sorry)", "sorry"),
        ("native_decide", "native_decide"),
        ("decide +native", "native"),
        ("exact Lean.ofReduceBool _ _ rfl", "ofReduceBool"),
        ("simp\ntheorem cheat : False := by simp", "theorem"),
        ("simp\naxiom cheat : False", "axiom"),
        ("simp\nend Demo", "end"),
        ("simp\n#exit", "#exit"),
        ("#eval 1", "#eval"),
        ("set_option debug.skipKernelTC true in exact h", "debug.skipKernelTC"),
        ("run_tac Lean.Elab.Tactic.evalTactic (← `(tactic| simp))", "run_tac"),
        ("exact add_zero' n", "theorem being proved"),
        ("exact Demo.add_zero' n", "theorem being proved"),
        ("exact (add_zero' n).symm", "theorem being proved"),
        ("rw [@_root_.Demo.add_zero']", "theorem being proved"),
        ("simp /- open comment", "unterminated"),
        ('trace "open string', "unterminated"),
        ("   ", "empty"),
    ],
)
def test_rejected_tactics(tactic: str, why: str) -> None:
    with pytest.raises(RejectedLeanTactic, match=why.replace("+", r"\+")):
        check_lean_tactic(tactic, THEOREM.name)


@pytest.mark.parametrize(
    "tactic",
    [
        "simp [Nat.add_zero]",
        "exact h₀.trans h'",
        "simp -- sorry is only in a comment",
        'trace "admit, sorry and theorem are inert in a string"',
        "/- sorry /- nested -/ -/ rfl",
        "set_option maxRecDepth 2000 in simp",
        "open Nat in exact add_zero n",
        "exact sorry_free_lemma n",  # an identifier that merely contains the word
        "induction n with\n| zero => rfl\n| succ n ih => simp [ih]",
        "exact add_zero'' n",  # a different name
        "rcases h with ⟨x, hx⟩ <;> exact #[x].size_pos",
    ],
)
def test_accepted_tactics(tactic: str) -> None:
    assert check_lean_tactic(tactic, THEOREM.name) == tactic.strip()


# A one-part identifier standing where a tactic starts is the tactic's keyword,
# even when the theorem's last name part is spelled the same.
@pytest.mark.parametrize(
    ("tactic", "theorem"),
    [
        ("ext x", "Finset.ext"),
        ("ext ⟨a, b⟩", "Finset.ext"),
        ("constructor <;> ext x", "Finset.ext"),
        ("· ext x\n  simp", "Finset.ext"),
        ("all_goals ext x", "Finset.ext"),
        ("rfl", "Iff.rfl"),
        ("try rfl", "Iff.rfl"),
        ("simp; rfl", "Iff.rfl"),
        ("exact (by rfl)", "Iff.rfl"),
        ("symm", "Eq.symm"),
        ("symm at h", "Eq.symm"),
        ("congr 1", "congr"),
        ("congr 1", "Finset.sum_congr.congr"),
        ("intro x", "Exists.intro"),
        ("induction n with\n| zero => simp\n| succ n ih => simp [ih]", "Nat.induction"),
        ("cases h", "Or.cases"),
    ],
)
def test_tactic_words_equal_to_the_theorems_name_are_accepted(tactic: str, theorem: str) -> None:
    assert check_lean_tactic(tactic, theorem) == tactic


@pytest.mark.parametrize(
    ("tactic", "theorem"),
    [
        ("exact Finset.ext", "Finset.ext"),
        ("exact ext", "Finset.ext"),
        ("apply ext", "Finset.ext"),
        ("exact (ext h).symm", "Finset.ext"),
        ("rw [ext]", "Finset.ext"),
        ("simp [Finset.ext]", "Finset.ext"),
        ("exact rfl", "Iff.rfl"),
        ("exact @rfl", "Iff.rfl"),
        ("exact fun _ => rfl", "Iff.rfl"),
        ("exact\n  rfl", "Iff.rfl"),
        ("exact Iff.rfl", "Iff.rfl"),
        ("exact h.trans (symm h')", "Eq.symm"),
        ("exact .ext", "Finset.ext"),
        ("refine congr ?_ ?_", "congr"),
    ],
)
def test_the_theorem_used_as_a_term_is_still_refused(tactic: str, theorem: str) -> None:
    with pytest.raises(RejectedLeanTactic, match="theorem being proved"):
        check_lean_tactic(tactic, theorem)


def test_rejected_tactics_never_reach_lean() -> None:
    world = LeanWorld(rules())
    with open_env(world) as env:
        for tactic in ("sorry", "admit", "exact add_zero' n", "simp\naxiom x : False"):
            result = env.run_tactic(env.initial_state, tactic)
            assert isinstance(result, TacticError) and result.message.startswith("rejected")
    assert world.requests == []


# -- verification --------------------------------------------------------------------


def test_verify_replays_in_a_fresh_dojo_and_checks_the_file() -> None:
    world = LeanWorld(rules())
    with open_env(world, verify_tactic_timeout=30.0) as env:
        cases = env.run_tactic(env.initial_state, "induction n")
        verification = env.verify(["induction n", "all_goals simp"])
        assert verification.ok, verification.reason
        assert world.starts == 2 and world.dojos[1].exited and not world.dojos[0].exited
        assert world.dojos[1].timeout == 30.0
        assert world.asked(2) == [(ROOT, "induction n"), (CASES, "all_goals simp")]
        assert verification.script == "by\n  induction n\n  all_goals simp"
        assert world.checked == [verification.script]
        # The search session's Dojo was not touched by verify and still works.
        assert isinstance(cases, ProofState)
        assert isinstance(env.run_tactic(cases, "all_goals simp"), ProofFinished)
        assert world.starts == 2
    assert not world.misuse


def test_verify_failures() -> None:
    world = LeanWorld(rules())
    with open_env(world) as env:
        open_goals = env.verify(["induction n"])
        assert not open_goals.ok and "goals remain" in open_goals.reason
        too_long = env.verify(["simp", "simp"])
        assert not too_long.ok and "finished after tactic 1 of 2" in too_long.reason
        failing = env.verify(["rfl"])
        assert not failing.ok and "rfl tactic failed" in failing.reason
        gave_up = env.verify(["decide"])
        assert not gave_up.ok and "sorry" in gave_up.reason
        timed_out = env.verify(["loop"])
        assert not timed_out.ok and "ran past" in timed_out.reason
        assert not env.verify([]).ok
        starts = world.starts
        rejected = env.verify(["induction n", "sorry"])
        assert not rejected.ok and "rejected tactic 'sorry'" in rejected.reason
        assert world.starts == starts  # refused before any Lean runs
        world.check_result = False
        refused = env.verify(["simp"])
        assert not refused.ok and "check_proof" in refused.reason
    assert len(world.checked) == 1  # only proofs that replayed reach the file check


def test_verify_survives_one_crash_and_never_raises() -> None:
    world = LeanWorld(rules())
    with open_env(world) as env:
        assert env.verify(["induction n", "boom"]).ok  # crashed once, re-run in a new Dojo
        assert world.starts == 3 and all(d.exited for d in world.dojos[1:])
        crashed = env.verify(["induction n", "always_crash"])
        assert not crashed.ok and "crashed verifying" in crashed.reason
        assert "2 times" in crashed.reason
        world.init_error = "Unexpected EOF"
        no_lean = env.verify(["simp"])
        assert not no_lean.ok and "could not start Lean to verify" in no_lean.reason

    def timed_out_check(script: str) -> bool:  # as the bounded whole-file check raises
        raise TimeoutError("lean_dojo.check_proof ran past 900 s")

    world = LeanWorld(rules())
    with LeanDojoEnvironment(
        THEOREM, dojo_factory=world.factory, proof_checker=timed_out_check
    ) as env:
        timed_out = env.verify(["simp"])
        assert not timed_out.ok and "ran past 900 s" in timed_out.reason


def test_proof_script_keeps_each_tactics_layout() -> None:
    tactic = "induction n with\n| zero => rfl\n| succ n ih => simp [ih]"
    assert proof_script(["intro h", tactic]) == (
        "by\n  intro h\n  induction n with\n  | zero => rfl\n  | succ n ih => simp [ih]"
    )
