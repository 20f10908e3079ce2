"""The Coq backend against the real coqtop: stepping, errors, backtracking,
timeouts, crash recovery and session reuse across a file's theorems."""

from __future__ import annotations

import os
import signal

import pytest

import lean_env.coq.environment as coq_environment
from lean_env.coq.environment import CoqEnvironment
from lean_env.coq.session import CoqSession
from lean_env.environment import open_environment
from lean_env.errors import EnvironmentStartError, UnknownState
from lean_env.types import ProofFinished, ProofState, TacticError, TacticTimeout

SOURCE = """\
Require Import Arith.

Lemma add_0_r : forall n : nat, n + 0 = n.
Proof.
  intros n. induction n as [| n IH].
  - reflexivity.
  - simpl. rewrite IH. reflexivity.
Qed.

Definition double (n : nat) := n + n.

Lemma double_2 : double 2 = 4.
Proof. reflexivity. Qed.

Lemma and_swap : forall A B : Prop, A /\\ B -> B /\\ A.
Proof.
  intros A B [HA HB]. split.
  { exact HB. }
  { exact HA. }
Qed.
"""


def step(env: CoqEnvironment, state: ProofState, tactic: str) -> ProofState:
    result = env.run_tactic(state, tactic)
    assert isinstance(result, ProofState), result
    return result


def test_step_by_step_proof_with_states(coq_file) -> None:
    decl = coq_file(SOURCE)["add_0_r"]
    with open_environment(decl.theorem, tactic_timeout=5) as env:
        root = env.initial_state
        assert "forall n : nat, n + 0 = n" in root.goals
        assert root.num_goals == 1
        s1 = step(env, root, "intros n")
        assert "n : nat" in s1.goals and s1.goals.rstrip().endswith("n + 0 = n")
        s2 = step(env, s1, "induction n as [| n IH]")
        assert s2.num_goals == 2 and "0 + 0 = 0" in s2.goals and "(ID" not in s2.goals
        s3 = step(env, s2, "-")
        s4 = step(env, s3, "reflexivity")
        s5 = step(env, s4, "-")
        assert "IH : n + 0 = n" in s5.goals
        s6 = step(env, s5, "simpl")
        s7 = step(env, s6, "rewrite IH")
        done = env.run_tactic(s7, "reflexivity")
        assert isinstance(done, ProofFinished)
        assert env.verify(decl.tactics).ok
        assert len({s.id for s in (root, s1, s2, s3, s4, s5, s6, s7)}) == 8


def test_wrong_tactic_gives_coqs_message(coq_file) -> None:
    decl = coq_file(SOURCE)["add_0_r"]
    with open_environment(decl.theorem) as env:
        result = env.run_tactic(env.initial_state, "apply frobnicate")
        assert isinstance(result, TacticError)
        assert "frobnicate" in result.message and "not found" in result.message
        err = env.run_tactic(env.initial_state, "reflexivity")
        assert isinstance(err, TacticError)
        # The failed tactics left the state usable.
        assert isinstance(env.run_tactic(env.initial_state, "intros"), ProofState)


def test_backtracking_to_any_earlier_state(coq_file) -> None:
    decl = coq_file(SOURCE)["add_0_r"]
    with open_environment(decl.theorem) as env:
        root = env.initial_state
        s1 = step(env, root, "intros n")
        step(env, s1, "induction n")
        # Back to the root and another branch, then back into the first one.
        other = step(env, root, "induction n")
        assert other.num_goals == 2 and "n : nat" not in other.goals.split("=====")[0]
        s1b = step(env, s1, "destruct n")
        assert s1b.num_goals == 2
        assert isinstance(env.run_tactic(root, "intros; lia"), TacticError)  # Lia not loaded
        assert isinstance(env.run_tactic(s1, "auto with arith"), ProofFinished)
        # Jumping between sibling branches replays from the deepest common
        # ancestor; it never needs a restart.
        assert env.session.restarts == 0
        with pytest.raises(UnknownState):
            env.run_tactic(ProofState(999, "x"), "auto")


def test_no_more_goals_inside_open_brace_is_not_finished(coq_file) -> None:
    decl = coq_file(SOURCE)["and_swap"]
    with open_environment(decl.theorem) as env:
        s = step(env, env.initial_state, "intros A B [HA HB]")
        s = step(env, s, "split")
        s = step(env, s, "{")
        s = step(env, s, "exact HB")
        s = step(env, s, "}")
        s = step(env, s, "{")
        inside = step(env, s, "exact HA")  # Coq prints "No more goals." here
        assert inside.num_goals == 0
        assert isinstance(env.run_tactic(inside, "}"), ProofFinished)


def test_timeout_then_environment_still_works(coq_file) -> None:
    decl = coq_file(SOURCE)["add_0_r"]
    with open_environment(decl.theorem, tactic_timeout=1) as env:
        root = env.initial_state
        s1 = step(env, root, "intros n")
        result = env.run_tactic(s1, "do 1000000000 (idtac; idtac)")
        assert isinstance(result, TacticTimeout) and result.seconds == 1
        # The state that timed out is not poisoned: same state, other tactics.
        s2 = step(env, s1, "induction n")
        assert s2.num_goals == 2
        assert isinstance(env.run_tactic(s1, "do 1000000000 (idtac; idtac)"), TacticTimeout)
        assert isinstance(env.run_tactic(s1, "auto with arith"), ProofFinished)


def test_hard_kill_on_timeout_restarts_and_restores(coq_file, monkeypatch) -> None:
    """A tactic past its timeout is interrupted (SIGINT); when coqtop does not
    answer within the grace, the process group is killed. Force that path with
    a zero grace: the next call must restart coqtop and replay to the state."""
    decl = coq_file(SOURCE)["add_0_r"]
    with open_environment(decl.theorem, tactic_timeout=2) as env:
        root = env.initial_state
        s1 = step(env, root, "intros n")
        s2 = step(env, s1, "induction n as [| n IH]")
        monkeypatch.setattr(coq_environment, "KILL_GRACE", 0.0)
        pid = env.session.coqtop.proc.pid
        assert isinstance(env.run_tactic(s2, "do 1000000000 (idtac; idtac)"), TacticTimeout)
        monkeypatch.setattr(coq_environment, "KILL_GRACE", 5.0)
        s3 = step(env, s2, "-")  # restored by replaying intros, induction
        assert env.session.coqtop.proc.pid != pid and env.session.restarts == 1
        assert "0 + 0 = 0" in s3.goals
        assert step(env, root, "intros m").goals.count("m : nat") == 1


def test_killed_coqtop_recovers_on_next_call(coq_file) -> None:
    decl = coq_file(SOURCE)["add_0_r"]
    with open_environment(decl.theorem) as env:
        s1 = step(env, env.initial_state, "intros n")
        s2 = step(env, s1, "induction n as [| n IH]")
        os.killpg(env.session.coqtop.proc.pid, signal.SIGKILL)
        s3 = step(env, s2, "-")
        assert "0 + 0 = 0" in s3.goals
        assert isinstance(env.run_tactic(s3, "reflexivity"), ProofState)


def test_one_session_serves_a_files_theorems_in_any_order(coq_file) -> None:
    decls = coq_file(SOURCE)
    names = ["add_0_r", "double_2", "and_swap", "double_2", "add_0_r"]
    session = CoqSession(decls["add_0_r"].theorem.file)
    try:
        for name in names:
            theorem = decls[name].theorem
            with CoqEnvironment(theorem, session=session) as env:
                with CoqEnvironment(theorem) as fresh:
                    assert env.initial_state.goals == fresh.initial_state.goals
                state = env.initial_state
                for tactic in decls[name].tactics:
                    result = env.run_tactic(state, tactic)
                    assert not isinstance(result, (TacticError, TacticTimeout)), (
                        name,
                        tactic,
                        result,
                    )
                    state = result
                assert isinstance(state, ProofFinished)
        assert session.restarts == 0 and session.coqtop is not None and session.coqtop.alive
    finally:
        session.close()


def test_context_excludes_the_theorem_and_what_follows(coq_file) -> None:
    decls = coq_file(SOURCE)
    with open_environment(decls["double_2"].theorem) as env:
        # Declared before: in scope. Declared after (and the theorem itself): not.
        assert isinstance(env.run_tactic(env.initial_state, "unfold double"), ProofState)
        later = env.run_tactic(env.initial_state, "pose proof and_swap")
        assert isinstance(later, TacticError)


def test_broken_context_is_a_start_error(coq_file) -> None:
    decls = coq_file(
        "Require Import Arith.\nDefinition broken := undefined_thing.\n"
        "Lemma x : True.\nProof. exact I. Qed.\n"
    )
    with pytest.raises(EnvironmentStartError, match="undefined_thing"):
        open_environment(decls["x"].theorem)


def test_coqtop_dies_with_a_killed_parent(coq_file, tmp_path) -> None:
    """kill -9 of the process that owns coqtop, while coqtop is busy in a long
    tactic (so it would not notice its closed stdin), leaves no orphan."""
    import subprocess
    import sys
    import time

    decl = coq_file(SOURCE)["add_0_r"]
    script = (
        "import sys, time\n"
        "from lean_env.coq.environment import CoqEnvironment\n"
        "from lean_env.coq.source import find_declaration\n"
        f"env = CoqEnvironment(find_declaration({decl.theorem.file!r}, 'add_0_r').theorem,"
        " tactic_timeout=120)\n"
        "print(env.session.coqtop.proc.pid, flush=True)\n"
        "env.run_tactic(env.initial_state, 'do 1000000000 (idtac; idtac)')\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    coqtop_pid = int(parent.stdout.readline())
    time.sleep(0.5)  # let the tactic start
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(coqtop_pid, 0)
        except ProcessLookupError:
            return
        # A zombie (reaped by init shortly) also counts as gone.
        with open(f"/proc/{coqtop_pid}/stat") as fh:
            if fh.read().split()[2] == "Z":
                return
        time.sleep(0.1)
    pytest.fail("coqtop outlived its killed parent")


def test_a_stalled_coqtop_fails_the_theorem_not_the_run(coq_file, monkeypatch) -> None:
    """A command no caller guards with its own timeout handling (here the
    ``Show.`` that fetches goals coqtop did not reprint) gets no answer: send
    kills coqtop and raises CoqTimeout. The search records that theorem as
    crashed, not proved, instead of raising (which ended a whole evaluation
    with a traceback); the next theorem of the file is searched in a
    restarted coqtop and proved. The stall is injected at ``Coqtop.send``: a
    real coqtop that stalls for a minute cannot be produced on demand."""
    from lean_env.coq.coqtop import CoqTimeout, Coqtop
    from lean_env.sessions import FileSessions
    from search.budget import Budget
    from search.config import SearchConfig
    from search.generator import FixedTacticGenerator
    from search.tree_search import CRASHED, TreeSearch

    decls = coq_file(SOURCE)
    real_send, stalls = Coqtop.send, []

    def send(self, command, timeout=None, kill_grace=None):
        if command == "Show." and not stalls:
            stalls.append(command)
            self.kill()
            raise CoqTimeout("no answer before the deadline")
        return real_send(self, command, timeout, kill_grace)

    monkeypatch.setattr(Coqtop, "send", send)
    sessions, search = FileSessions(), TreeSearch(SearchConfig())
    try:
        # idtac leaves the goal as it was, so coqtop prints no goals: Show.
        stalled = search.search(
            decls["add_0_r"].theorem,
            sessions,
            FixedTacticGenerator(("idtac",), ()),
            Budget(wall_clock=20),
        )
        assert stalls and not stalled.proved
        assert stalled.reason.startswith(CRASHED) and "no answer" in stalled.reason
        after = search.search(
            decls["double_2"].theorem,
            sessions,
            FixedTacticGenerator(("reflexivity",), ()),
            Budget(wall_clock=20),
        )
        assert after.proved and after.verification.ok
    finally:
        sessions.close()
