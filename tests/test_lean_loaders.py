"""Loaders of the Lean benchmarks, on small fixtures written in the published
layouts: LeanDojo Benchmark 4 (split JSON lists as exported by LeanDojo's
generate-benchmark-lean4 notebook) and miniF2F-lean4 (both of its layouts)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from benchmarks import lean
from benchmarks.format import read_benchmark, write_benchmark
from benchmarks.lean import iter_json_array, lean_theorems, load_leandojo, load_minif2f
from lean_env.errors import UserError
from lean_env.types import Backend

URL = "https://github.com/leanprover-community/mathlib4"
COMMIT = "3c307701fa7e9acbdc0680d7f3b9c9fed9081740"


def tactic(tac: str, before: str, after: str) -> dict[str, Any]:
    return {
        "tactic": tac,
        "annotated_tactic": [tac, []],
        "state_before": before,
        "state_after": after,
    }


def theorem(name: str, tactics: list[dict[str, Any]], line: int = 10) -> dict[str, Any]:
    return {
        "url": URL,
        "commit": COMMIT,
        "file_path": "Mathlib/Algebra/Group/Basic.lean",
        "full_name": name,
        "start": [line, 1],
        "end": [line + 3, 20],
        "traced_tactics": tactics,
    }


SPLIT_DATA = {
    "train": [
        theorem(
            "mul_left_comm'",
            [
                tactic(
                    "rw [← mul_assoc]",
                    "G : Type u_1\na b c : G\n⊢ a * (b * c) = b * (a * c)",
                    "G : Type u_1\na b c : G\n⊢ a * b * c = b * (a * c)",
                ),
                tactic(
                    "simp [mul_comm]",
                    "G : Type u_1\na b c : G\n⊢ a * b * c = b * (a * c)",
                    "no goals",
                ),
            ],
        ),
        theorem("one_mul'", [], line=40),  # a term-mode proof: no traced tactic
    ],
    "val": [theorem("Nat.add_zero'", [tactic("rfl", "n : ℕ\n⊢ n + 0 = n", "no goals")])],
    "test": [
        theorem("inv_inv'", [tactic("simp", "G : Type u_1\na : G\n⊢ a⁻¹⁻¹ = a", "no goals")]),
    ],
}


def write_leandojo(root: Path, kinds: tuple[str, ...] = ("random", "novel_premises")) -> Path:
    base = root / "leandojo_benchmark_4"
    for kind in kinds:
        (base / kind).mkdir(parents=True)
        for split, rows in SPLIT_DATA.items():
            data = rows if kind == "random" else list(reversed(rows))
            (base / kind / f"{split}.json").write_text(json.dumps(data), encoding="utf-8")
    (base / "metadata.json").write_text(
        json.dumps({"from_repo": {"url": URL, "commit": COMMIT}, "leandojo_version": "1.7.1"})
    )
    (base / "corpus.jsonl").write_text("")
    return base


def test_leandojo_round_trip(tmp_path: Path) -> None:
    base = write_leandojo(tmp_path)
    bench = load_leandojo(base)
    assert bench.name == "leandojo_benchmark_4/random"
    assert [t.split for t in bench.theorems()] == ["train", "train", "val", "test"]
    first = bench.by_name("mul_left_comm'")
    assert first.theorem.backend is Backend.LEAN
    assert (first.theorem.repo, first.theorem.commit) == (URL, COMMIT)
    assert first.theorem.file == "Mathlib/Algebra/Group/Basic.lean"
    assert first.theorem.line == 10
    assert first.tactics == ("rw [← mul_assoc]", "simp [mul_comm]")
    assert first.theorem.statement.endswith("⊢ a * (b * c) = b * (a * c)")
    assert (
        bench.by_name("one_mul'").tactics == ()
        and bench.by_name("one_mul'").theorem.statement == ""
    )
    steps = list(bench.steps("train"))
    assert [(s.theorem_id, s.index, s.tactic) for s in steps] == [
        (first.id, 0, "rw [← mul_assoc]"),
        (first.id, 1, "simp [mul_comm]"),
    ]
    assert steps[1].state == "G : Type u_1\na b c : G\n⊢ a * b * c = b * (a * c)"
    assert [s.split for s in bench.steps()] == ["train", "train", "val", "test"]
    assert bench.meta["splits"] == {"train": 2, "val": 1, "test": 1}
    assert bench.meta["counts"] == {"theorems": 4, "steps": 4, "theorems_without_steps": 1}
    assert bench.meta["from_repo"] == {"url": URL, "commit": COMMIT}
    # Into this project's own on-disk format and back, unchanged.
    write_benchmark(tmp_path / "out", bench)
    again = read_benchmark(tmp_path / "out")
    assert again.theorem_list == bench.theorem_list
    assert again.step_list == bench.step_list


def test_leandojo_split_kinds_and_paths(tmp_path: Path) -> None:
    base = write_leandojo(tmp_path)
    novel = load_leandojo(base, split_kind="novel_premises")
    assert novel.name == "leandojo_benchmark_4/novel_premises"
    assert [t.name for t in novel.theorems("train")] == ["one_mul'", "mul_left_comm'"]
    # The split directory itself is accepted and names its kind.
    direct = load_leandojo(base / "novel_premises")
    assert direct.name == novel.name and direct.theorem_list == novel.theorem_list
    assert direct.meta["from_repo"]["commit"] == COMMIT
    with pytest.raises(UserError, match="unknown LeanDojo split"):
        load_leandojo(base, split_kind="by_file")


def test_leandojo_errors_say_what_to_download(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"zenodo.*leandojo_benchmark_4\.tar\.gz"):
        load_leandojo(tmp_path / "nowhere")
    with pytest.raises(UserError, match="not LeanDojo Benchmark 4.*zenodo"):
        load_leandojo(tmp_path)
    base = write_leandojo(tmp_path, kinds=("random",))
    (base / "random" / "test.json").unlink()
    with pytest.raises(UserError, match=r"test\.json is missing"):
        load_leandojo(base)
    (base / "random" / "test.json").write_text('[{"url": "u"}]')
    with pytest.raises(UserError, match=r"test\.json: theorem #0: missing field 'commit'"):
        load_leandojo(base)
    (base / "random" / "test.json").write_text('[{"url": ')
    with pytest.raises(UserError, match=r"test\.json: malformed JSON"):
        load_leandojo(base)
    (base / "random" / "test.json").write_text('{"not": "a list"}')
    with pytest.raises(UserError, match="not a JSON list"):
        load_leandojo(base)


def test_iter_json_array_across_chunk_boundaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lean, "_CHUNK", 7)  # every element spans several reads
    rows = [{"k": i, "s": "x" * i, "u": "⊢ é"} for i in range(30)]
    path = tmp_path / "a.json"
    path.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    assert list(iter_json_array(path)) == rows
    path.write_text(" [ ] ")
    assert list(iter_json_array(path)) == []
    path.write_text("[1, 2 3]")
    with pytest.raises(UserError, match="expected ',' or ']'"):
        list(iter_json_array(path))


# -- miniF2F ---------------------------------------------------------------------------

HEADER = (
    "import Mathlib\n\nset_option maxHeartbeats 0\n\nopen BigOperators Real Nat Topology Rat\n\n"
)
VALID = (
    "/-\nCopyright (c) 2021 OpenAI. theorem not_a_theorem : False := by sorry\n-/\n"
    "import MiniF2F.Minif2fImport\nopen BigOperators Real Nat Topology\n\n"
    "theorem mathd_algebra_478\n  (b h v : ℝ)\n  (h₀ : 0 < b ∧ 0 < h ∧ 0 < v)\n"
    "  (h₁ : v = 1 / 3 * (b * h)) :\n  v = 65 := by sorry\n\n"
    "-- theorem commented_out : True := by sorry\n"
    "theorem mathd_numbertheory_3 :\n  (∑ x ∈ Finset.range 10, ((x + 1)^2)) % 10 = 5 :=\n  by sorry\n\n"
    "theorem imo_1981_p6\n  (f : ℕ → ℕ → ℕ)\n  (h₀ : ∀ y, f 0 y = y + 1) :\n  f 4 1981 = 3 := by\nsorry\n"
)
TEST_FILES = {
    "imo_1959_p1": "theorem imo_1959_p1\n  (n : ℕ)\n  (h₀ : 0 < n) :\n"
    "  Nat.gcd (21*n + 4) (14*n + 3) = 1 := by sorry",
    "aime_1983_p1": "theorem aime_1983_p1 (x y z w : ℕ) (ht : 1 < x ∧ 1 < y ∧ 1 < z) (hw : 0 ≤ w)\n"
    "    (h0 : Real.log w / Real.log x = 24) : Real.log w / Real.log z = 60 := by sorry",
}


def write_minif2f(root: Path) -> Path:
    (root / "MiniF2F" / "Test").mkdir(parents=True)
    (root / "MiniF2F" / "Valid.lean").write_text(VALID, encoding="utf-8")
    for name, body in TEST_FILES.items():
        (root / "MiniF2F" / "Test" / f"{name}.lean").write_text(HEADER + body, encoding="utf-8")
    return root


def test_minif2f_statements_and_splits(tmp_path: Path) -> None:
    root = write_minif2f(tmp_path / "miniF2F-lean4")
    bench = load_minif2f(root)
    assert bench.name == "minif2f-lean4"
    assert [t.name for t in bench.theorems("val")] == [
        "mathd_algebra_478",
        "mathd_numbertheory_3",
        "imo_1981_p6",
    ]
    assert sorted(t.name for t in bench.theorems("test")) == ["aime_1983_p1", "imo_1959_p1"]
    assert list(bench.steps()) == [] and all(t.tactics == () for t in bench.theorems())
    t = bench.by_name("mathd_algebra_478").theorem
    assert t.backend is Backend.LEAN
    assert t.repo == str(root.resolve()) and t.file == "MiniF2F/Valid.lean"
    assert t.statement.startswith("theorem mathd_algebra_478\n  (b h v : ℝ)")
    assert t.statement.endswith("v = 65")
    assert VALID.splitlines()[t.line - 1] == "theorem mathd_algebra_478"
    assert VALID[t.offset :].startswith("theorem mathd_algebra_478")
    assert bench.by_name("mathd_numbertheory_3").theorem.statement.endswith("% 10 = 5")
    test_t = bench.by_name("imo_1959_p1").theorem
    assert test_t.file == "MiniF2F/Test/imo_1959_p1.lean" and test_t.line == 7
    assert bench.meta["splits"] == {"train": 0, "val": 3, "test": 2}
    assert t.commit is None  # not a git checkout


def test_minif2f_git_checkout_records_its_commit(tmp_path: Path) -> None:
    root = write_minif2f(tmp_path / "repo")
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "miniF2F"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True)
    bench = load_minif2f(root)
    assert {t.theorem.commit for t in bench.theorems()} == {head.stdout.strip()}


def test_minif2f_errors_say_what_to_clone(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"git clone https://github.com/yangky11/miniF2F-lean4"):
        load_minif2f(tmp_path / "missing")
    with pytest.raises(UserError, match="not a miniF2F-lean4 checkout.*git clone"):
        load_minif2f(tmp_path)
    (tmp_path / "MiniF2F").mkdir()
    (tmp_path / "MiniF2F" / "Test.lean").write_text("import Mathlib\n")
    with pytest.raises(UserError, match="no theorem found"):
        load_minif2f(tmp_path)
    (tmp_path / "MiniF2F" / "Test.lean").write_text("theorem t : True := by\n  /- unterminated")
    with pytest.raises(UserError, match="unterminated block comment"):
        load_minif2f(tmp_path)


def test_lean_theorems_full_names_and_odd_forms() -> None:
    text = (
        "namespace Foo\n\n"
        "@[simp] theorem bar {α : Type} [Inhabited α] (x : α := default) : x = x := rfl\n\n"
        "section\nprivate lemma baz : (⟨1, 2⟩ : ℕ × ℕ).1 = 1 := by simp\nend\n\n"
        "theorem eqns : ℕ → ℕ\n  | 0 => 0\n  | n + 1 => n\n\n"
        "theorem _root_.top : True := trivial\n"
        "end Foo\n\n"
        'theorem quoted : "theorem x : y := z" = "theorem x : y := z" := rfl\n'
    )
    found = {d.name: d for d in lean_theorems(text)}
    assert list(found) == ["Foo.bar", "Foo.baz", "top", "quoted"]
    assert found["Foo.bar"].statement == (
        "theorem bar {α : Type} [Inhabited α] (x : α := default) : x = x"
    )
    assert found["Foo.baz"].statement.endswith(".1 = 1")
    assert found["quoted"].statement.endswith('= "theorem x : y := z"')
    assert found["top"].line == 13
