"""The LeanDojo adapter over LeanDojo's REAL ``Dojo``, as far as a machine
without Lean allows.

Lean cannot be installed here, so ``lake`` on ``PATH`` is a stand-in
(``tests/fixtures/fake_lake.py``) that speaks the JSON line protocol of
LeanDojo's REPL. Everything else is LeanDojo's own code: ``LeanGitRepo`` on a
real local git repository, its cache lookups, ``Dojo.__enter__`` writing the
modified file and spawning ``lake env lean`` through pexpect, ``run_tac``,
``_check_alive``, pexpect timeouts and ``Dojo.__exit__``. The one lookup
replaced is ``Dojo._locate_traced_file``, which parses the ``*.ast.json``
files that only a real trace (Lean) produces; the stand-in gives the same
positions of the theorem and its proof in the file. LeanDojo's cache is
pointed at a temporary directory holding the "traced" repository.
The signatures of the LeanDojo API the adapter relies on are checked too, so
that an upgrade that changes them fails here rather than for a user.
"""

from __future__ import annotations

import inspect
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lean_env.errors import EnvironmentCrashed, EnvironmentStartError, ProverNotInstalled
from lean_env.leandojo import (
    LEAN_DOJO_VERSION,
    LeanDojoEnvironment,
    check_proof_bounded,
    lean_setup_problems,
    run_in_group,
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
psutil = pytest.importorskip("psutil")

REPO_ROOT = Path(__file__).resolve().parents[1]
FAKE_LAKE = Path(__file__).parent / "fixtures" / "fake_lake.py"

SOURCE = """theorem add_zero' (n : Nat) : n + 0 = n := by
  simp
"""
ROOT = "n : ℕ\n⊢ n + 0 = n"
CASES = "case zero\n⊢ 0 + 0 = 0\n\ncase succ\nn : ℕ\nih : n + 0 = n\n⊢ n + 1 + 0 = n + 1"
RULES: list[list[Any]] = [
    [ROOT, "induction n", {"goals": CASES}],
    [CASES, "all_goals simp", {"finish": True}],
    [ROOT, "simp", {"finish": True, "message": "simp made no progress on a side goal"}],
    [ROOT, "slow", {"sleep": 4.0, "goals": ROOT}],
    [ROOT, "rfl", {"error": "The rfl tactic failed."}],
    [ROOT, "weird", {"goals": "⊢ a ⊢ b"}],  # two ⊢ in one goal: LeanDojo's parser asserts
    [ROOT, "segfault", {"exit": 139}],
    [ROOT, "sorry_free", {"sorry": True}],
]


def make_bin(directory: Path) -> Path:
    """A directory with the stand-in ``lake`` (and nothing else)."""
    directory.mkdir(parents=True, exist_ok=True)
    lake = directory / "lake"
    lake.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_LAKE}" "$@"\n')
    lake.chmod(0o755)
    return directory


def git_repo(path: Path) -> str:
    """A Lean project as a local git repository; its commit."""
    (path / "Demo").mkdir(parents=True)
    (path / "Demo" / "Basic.lean").write_text(SOURCE)
    (path / "lean-toolchain").write_text("leanprover/lean4:v4.20.0\n")
    (path / "lakefile.lean").write_text(
        "import Lake\nopen Lake DSL\n\npackage demo\n\nlean_lib Demo\n"
    )
    git = ["git", "-C", str(path), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "demo"], check=True)
    out = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True)
    return out.stdout.strip()


@dataclass
class TracedTheoremStub:
    """Where the theorem and its proof are (a real trace reads them from the AST)."""

    start: Any
    proof: tuple[Any, Any]

    def locate_proof(self) -> tuple[Any, Any]:
        return self.proof


class TracedFileStub:
    """The part of ``lean_dojo.TracedFile`` that ``Dojo.__enter__`` reads."""

    def __init__(self, root: Path, relative: Path, full_name: str) -> None:
        self.lean_file = ld.LeanFile(root, relative)
        self.abs_path = root / relative
        self.has_prelude = False
        self.comments: list[Any] = []
        self.full_name = full_name

    def get_traced_theorem(self, theorem: Any) -> TracedTheoremStub | None:
        if theorem.full_name != self.full_name:
            return None
        by = self.lean_file.get_line(1).index(":= by") + 4  # the proof starts at `by`
        return TracedTheoremStub(ld.Pos(1, 1), (ld.Pos(1, by), self.lean_file.end_pos))


@dataclass
class World:
    theorem: Theorem
    log: Path
    world: Path

    def events(self, kind: str) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        lines = self.log.read_text(encoding="utf-8").splitlines()
        return [e for e in map(json.loads, lines) if e["event"] == kind]

    def asked(self, pid: int) -> list[str]:
        return [e["cmd"] for e in self.events("request") if e["pid"] == pid]

    @property
    def pids(self) -> list[int]:
        return [e["pid"] for e in self.events("start")]

    def set(self, **settings: Any) -> None:
        data = json.loads(self.world.read_text(encoding="utf-8"))
        data.update(settings)
        self.world.write_text(json.dumps(data), encoding="utf-8")


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    repo = tmp_path / "demo"
    commit = git_repo(repo)
    monkeypatch.setenv("PATH", f"{make_bin(tmp_path / 'bin')}{os.pathsep}{os.environ['PATH']}")
    log, world_file = tmp_path / "lean.log", tmp_path / "world.json"
    world_file.write_text(json.dumps({"root": ROOT, "rules": RULES}), encoding="utf-8")
    monkeypatch.setenv("FAKE_LEAN_LOG", str(log))
    monkeypatch.setenv("FAKE_LEAN_WORLD", str(world_file))
    # LeanDojo's cache, in a temporary directory, remote cache off (no network).
    cache_module = sys.modules["lean_dojo.data_extraction.cache"]
    cache = cache_module.Cache(tmp_path / "cache")
    monkeypatch.setattr(cache_module, "DISABLE_REMOTE_CACHE", True)
    monkeypatch.setattr(sys.modules["lean_dojo.data_extraction.trace"], "cache", cache)
    monkeypatch.setattr(sys.modules["lean_dojo.data_extraction.lean"], "repo_cache", cache)
    # The repository "traced": where LeanDojo's cache keeps it, with the REPL.
    traced = tmp_path / "cache" / f"gitpython-demo-{commit}" / "demo"
    shutil.copytree(repo, traced, ignore=shutil.ignore_patterns(".git"))
    (traced / "Lean4Repl.lean").write_text("-- LeanDojo's REPL, built by the trace\n")
    monkeypatch.setattr(
        ld.Dojo,
        "_locate_traced_file",
        lambda self, root: TracedFileStub(root, self.file_path, self.entry.full_name),
    )
    theorem = Theorem(
        name="add_zero'",
        statement="theorem add_zero' (n : Nat) : n + 0 = n",
        backend=Backend.LEAN,
        file="Demo/Basic.lean",
        repo=str(repo),
        commit=commit,
    )
    yield World(theorem, log, world_file)


def checker(script: str) -> bool:
    # The whole-file check needs the trace's AST files too; its bounded runner
    # is tested on its own below.
    return True


def open_env(world: World, **kwargs: Any) -> LeanDojoEnvironment:
    return LeanDojoEnvironment(world.theorem, proof_checker=checker, **kwargs)


def wait_dead(pid: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} did not die")


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


# -- through the real Dojo ------------------------------------------------------------


def test_a_proof_through_the_real_dojo(world: World) -> None:
    with open_env(world, tactic_timeout=5.0) as env:
        root = env.initial_state
        assert root == ProofState(0, ROOT, 1)
        cases = env.run_tactic(root, "induction n")
        assert isinstance(cases, ProofState) and cases.goals == CASES and cases.num_goals == 2
        failed = env.run_tactic(root, "rfl")
        assert isinstance(failed, TacticError) and "rfl tactic failed" in failed.message
        gave_up = env.run_tactic(root, "sorry_free")
        assert isinstance(gave_up, TacticError) and "sorry" in gave_up.message
        done = env.run_tactic(cases, "all_goals simp")
        assert isinstance(done, ProofFinished)
        finished = env.run_tactic(root, "simp")  # a message line before the answer
        assert isinstance(finished, ProofFinished) and "no progress" in finished.message
        (pid,) = world.pids
        assert world.asked(pid) == ["induction n", "rfl", "sorry_free", "all_goals simp", "simp"]
        modified = world.events("start")[0]["file"]
        assert alive(pid)
    # __exit__ killed Lean and removed the file LeanDojo wrote.
    wait_dead(pid)
    assert not (Path(world.events("start")[0]["cwd"]) / modified).exists()


def test_an_unreadable_goal_fails_the_tactic_not_the_process(world: World) -> None:
    with open_env(world) as env:
        weird = env.run_tactic(env.initial_state, "weird")
        assert isinstance(weird, TacticError) and "could not read" in weird.message
        assert isinstance(env.run_tactic(env.initial_state, "simp"), ProofFinished)
        assert len(world.pids) == 1 and env.restarts == 0


def test_narrowed_timeout_after_a_slow_start_then_restart_and_replay(world: World) -> None:
    world.set(startup_sleep=1.5)  # longer than a tactic may take, shorter than start-up
    with open_env(world, tactic_timeout=1.0, startup_timeout=30.0) as env:
        root = env.initial_state
        cases = env.run_tactic(root, "induction n")
        assert isinstance(cases, ProofState)
        t0 = time.monotonic()
        assert env.run_tactic(root, "slow") == TacticTimeout(1.0)
        assert time.monotonic() - t0 < 3.5  # pexpect gave up at the narrowed 1 s, not at 4 s
        first = world.pids[0]
        wait_dead(first)  # the out-of-step process was killed, never asked again
        done = env.run_tactic(cases, "all_goals simp")  # a new Dojo replays `induction n`
        assert isinstance(done, ProofFinished)
        second = world.pids[1]
        assert world.asked(first) == ["induction n", "slow"]
        assert world.asked(second) == ["induction n", "all_goals simp"]
        assert env.restarts == 1


def test_the_stale_reply_after_a_timeout_is_why_the_dojo_is_killed(world: World) -> None:
    # LeanDojo itself, without the adapter: after a timeout the late answer is
    # read as the answer to the next request.
    theorem = ld.Theorem(
        ld.LeanGitRepo(world.theorem.repo, world.theorem.commit),
        Path("Demo/Basic.lean"),
        "add_zero'",
    )
    with ld.Dojo(theorem, timeout=1) as (dojo, root):
        with pytest.raises(ld.DojoTacticTimeoutError):
            dojo.run_tac(root, "slow")
        time.sleep(3.5)
        answer = dojo.run_tac(root, "rfl")  # gets the goals `slow` produced
        assert isinstance(answer, ld.TacticState) and answer.pp == ROOT


def test_a_lean_killed_by_a_signal_is_restarted_and_replayed(world: World) -> None:
    with open_env(world) as env:
        cases = env.run_tactic(env.initial_state, "induction n")
        assert isinstance(cases, ProofState)
        (first,) = world.pids
        os.kill(first, signal.SIGKILL)  # the OOM killer, say
        wait_dead(first)
        # LeanDojo's liveness check now fails with an AssertionError (no exit
        # status after a signal): the adapter must see a dead process.
        done = env.run_tactic(cases, "all_goals simp")
        assert isinstance(done, ProofFinished)
        assert env.restarts == 1 and len(world.pids) == 2
        assert world.asked(world.pids[1]) == ["induction n", "all_goals simp"]
        # And later tactics keep working in the new process.
        assert isinstance(env.run_tactic(env.initial_state, "simp"), ProofFinished)
        assert len(world.pids) == 2


def test_a_lean_that_exits_is_restarted_once_then_a_crash(world: World) -> None:
    with open_env(world) as env:
        with pytest.raises(EnvironmentCrashed, match="2 times"):
            env.run_tactic(env.initial_state, "segfault")
        assert len(world.pids) == 2
        assert isinstance(env.run_tactic(env.initial_state, "simp"), ProofFinished)


def test_verify_in_a_fresh_dojo_never_raises(world: World) -> None:
    with open_env(world, verify_tactic_timeout=1.0) as env:
        search = world.pids[0]
        ok = env.verify(["induction n", "all_goals simp"])
        assert ok.ok, ok.reason
        fresh = world.pids[1]
        assert world.asked(fresh) == ["induction n", "all_goals simp"] and world.asked(search) == []
        weird = env.verify(["weird"])
        assert not weird.ok and "could not read" in weird.reason
        slow = env.verify(["slow"])
        assert not slow.ok and "ran past 1 s" in slow.reason
        crashed = env.verify(["segfault"])
        assert not crashed.ok and "crashed" in crashed.reason
        world.set(root="⊢ something else ⊢ entirely")  # fresh Dojos cannot even start
        broken = env.verify(["simp"])
        assert not broken.ok and broken.reason
        assert alive(search)  # the search session's Lean was never touched


def test_one_leangitrepo_per_repository_and_process(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Building one queries GitHub for a GitHub URL and reads lean-toolchain.
    built: list[tuple[str, str]] = []
    real = ld.LeanGitRepo

    def counting(url: str, commit: str) -> Any:
        built.append((url, commit))
        return real(url, commit)

    monkeypatch.setattr(ld, "LeanGitRepo", counting)
    for _ in range(2):
        with open_env(world) as env:
            assert env.verify(["simp"]).ok
    assert built == [(world.theorem.repo, world.theorem.commit)]


def test_an_untraced_repository_fails_at_start_and_is_never_traced(
    world: World, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    commit = git_repo(other)
    theorem = Theorem(
        name="add_zero'",
        statement="",
        backend=Backend.LEAN,
        file="Demo/Basic.lean",
        repo=str(other),
        commit=commit,
    )
    with pytest.raises(EnvironmentStartError, match="not traced.*dco trace-lean"):
        LeanDojoEnvironment(theorem)
    assert world.events("command") == [] and world.pids == []  # no `lake build`, no Lean


def test_missing_lake_is_reported_before_anything_runs(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ProverNotInstalled, match="lake"):
        LeanDojoEnvironment(world.theorem)


def test_setup_problems() -> None:
    errors, warnings = lean_setup_problems({"PATH": "/nonexistent"})
    assert any("lake" in e for e in errors) and any("wget" in e for e in errors)
    assert any("GITHUB_ACCESS_TOKEN" in w for w in warnings)
    assert any("CACHE_DIR" in w for w in warnings)
    errors, warnings = lean_setup_problems(
        {
            "PATH": "/nonexistent",
            "DISABLE_REMOTE_CACHE": "1",
            "CACHE_DIR": "/c",
            "GITHUB_ACCESS_TOKEN": "x",
        }
    )
    assert not any("wget" in e for e in errors) and warnings == []


# -- the whole-file check's time limit ----------------------------------------------


def test_run_in_group_kills_the_whole_group_past_its_limit(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild"
    script = (
        "import subprocess, sys, time\n"
        f"p = subprocess.Popen(['sleep', '60'])\n"
        f"open({str(pidfile)!r}, 'w').write(str(p.pid))\n"
        "print(sys.stdin.read(), flush=True)\n"
        "time.sleep(60)\n"
    )
    t0 = time.monotonic()
    code, out, _ = run_in_group([sys.executable, "-c", script], "hello", timeout=2.0)
    assert code is None and "hello" in out
    assert time.monotonic() - t0 < 20
    wait_dead(int(pidfile.read_text()))  # `lake`'s `lean` would be the grandchild
    code, out, _ = run_in_group([sys.executable, "-c", "print(input())"], "back", timeout=60)
    assert code == 0 and out.strip() == "back"


def test_the_bounded_check_runs_leandojo_in_a_child_that_never_traces(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The child reads LeanDojo's settings from the environment, as a user's would.
    monkeypatch.setenv("CACHE_DIR", str(tmp_path / "child-cache"))
    monkeypatch.setenv("DISABLE_REMOTE_CACHE", "1")
    monkeypatch.setenv("TMP_DIR", str(tmp_path))
    with pytest.raises(RuntimeError, match="not traced"):
        check_proof_bounded(world.theorem, "by\n  simp", timeout=300)
    assert world.events("command") == [] and world.pids == []


# -- the real constructor path, with LeanDojo's own environment variables -------------


def test_real_constructor_and_trace_path_with_leandojo_settings(tmp_path: Path) -> None:
    """In a fresh process, so that LeanDojo reads CACHE_DIR, DISABLE_REMOTE_CACHE
    and TMP_DIR at import as it does for a user: opening a theorem of an
    untraced repository is a start error naming ``dco trace-lean``, and
    ``dco trace-lean`` traces it with LeanDojo up to ``lake build``, which the
    stand-in fails: one clear line, exit 2."""
    checkout = tmp_path / "miniF2F"
    commit = git_repo(checkout)
    (checkout / "MiniF2F").mkdir()
    (checkout / "MiniF2F" / "Test.lean").write_text("theorem t1 : 1 + 1 = 2 := by\n  sorry\n")
    git = ["git", "-C", str(checkout), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "minif2f"], check=True)
    cache, tmp = tmp_path / "cache", tmp_path / "tmp"
    tmp.mkdir()
    log = tmp_path / "lean.log"
    env = {
        **os.environ,
        "PATH": f"{make_bin(tmp_path / 'bin')}{os.pathsep}{os.environ['PATH']}",
        "CACHE_DIR": str(cache),
        "DISABLE_REMOTE_CACHE": "1",
        "TMP_DIR": str(tmp),
        "FAKE_LEAN_LOG": str(log),
        "PYTHONPATH": str(REPO_ROOT),
    }
    program = (
        "import json, sys\n"
        "from benchmarks.lean import load_minif2f\n"
        "from lean_env.environment import open_environment\n"
        "from lean_env.errors import EnvironmentStartError\n"
        "from prover.cli import main\n"
        "theorem = load_minif2f(sys.argv[1]).theorem_list[0].theorem\n"
        "try:\n"
        "    open_environment(theorem)\n"
        "    opened = 'opened'\n"
        "except EnvironmentStartError as exc:\n"
        "    opened = str(exc)\n"
        "code = main(['trace-lean', '--benchmark', 'minif2f:' + sys.argv[1]])\n"
        "print(json.dumps({'open': opened, 'code': code}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", program, str(checkout)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "not traced" in result["open"] and "dco trace-lean" in result["open"]
    assert str(cache) in result["open"]
    assert result["code"] == 2
    error_lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1 and "`lake build`" in error_lines[0], proc.stderr[-2000:]
    (build,) = [json.loads(x) for x in log.read_text().splitlines()]
    assert build["argv"] == ["build"]
    assert Path(build["cwd"]).is_relative_to(tmp)  # LeanDojo cloned the repository under TMP_DIR
    assert (cache / "repos").is_dir()  # and copied the checkout into CACHE_DIR
    assert not any(
        p.name.startswith("gitpython-miniF2F") for p in cache.iterdir()
    )  # nothing traced
    assert commit


# -- the LeanDojo API the adapter relies on -------------------------------------------


def test_leandojo_api_signatures() -> None:
    params = inspect.signature(ld.Dojo.__init__).parameters
    assert list(params)[:3] == ["self", "entry", "timeout"]
    assert params["timeout"].default == 600
    assert list(inspect.signature(ld.Dojo.run_tac).parameters) == ["self", "state", "tactic"]
    assert list(inspect.signature(ld.check_proof).parameters) == ["thm", "proof"]
    assert list(inspect.signature(ld.Theorem).parameters) == ["repo", "file_path", "full_name"]
    assert list(inspect.signature(ld.LeanGitRepo).parameters) == ["url", "commit"]
    assert callable(ld.LeanGitRepo.from_path)
    assert list(inspect.signature(ld.is_available_in_cache).parameters) == ["repo"]
    assert list(inspect.signature(ld.get_traced_repo_path).parameters)[0] == "repo"
    for error in (ld.DojoCrashError, ld.DojoTacticTimeoutError, ld.DojoInitError):
        assert issubclass(error, Exception) and not issubclass(error, AssertionError)
    assert list(inspect.signature(ld.TacticState).parameters) == ["pp", "id", "message"]
    assert list(inspect.signature(ld.ProofFinished).parameters) == ["tactic_state_id", "message"]
    assert list(inspect.signature(ld.LeanError).parameters) == ["error"]
    assert list(inspect.signature(ld.ProofGivenUp).parameters) == []
    # The per-interaction timeout is pexpect's, read from the spawned process.
    source = inspect.getsource(ld.Dojo.__enter__)
    assert "pexpect.spawn" in source and "timeout=self.timeout" in source
    assert "lake env lean" in source
    assert ld.__version__ == LEAN_DOJO_VERSION  # the version this adapter was checked against
