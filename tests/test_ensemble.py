"""Ensemble model lookup (N' from each checkpoint's training_meta.json, the
exact `dco train` command for a missing one) and the split / each budget
arithmetic of prover.ensemble."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lean_env.errors import UserError
from prover.ensemble import (
    Member,
    ensemble_label,
    find_models,
    member_budgets,
    parse_n_primes,
    resolve_members,
)
from search.budget import Budget


def checkpoint(path: Path, meta: dict | None) -> Path:
    """A model directory as `dco train` leaves it (metadata written last)."""
    path.mkdir(parents=True)
    (path / "config.json").write_text("{}", encoding="utf-8")
    if meta is not None:
        (path / "training_meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return path


@pytest.fixture
def models(tmp_path: Path) -> Path:
    root = tmp_path / "models"
    checkpoint(root / "ce", {"loss": "ce", "n": 1.0, "n_prime": 1})
    checkpoint(root / "n8", {"loss": "dcostep", "n": 8.0, "n_prime": 8.0})
    checkpoint(root / "old-ce", {"loss": "ce"})  # older metadata: no n_prime, CE means 1
    checkpoint(root / "n16", None)  # training not finished: no metadata yet
    (root / "notes").mkdir()
    return root


def resolve(models: Path, ensemble: str) -> list[Member]:
    return resolve_members(
        ensemble=ensemble, models=str(models), model=None, generator=None, benchmark="coq-stdlib"
    )


def test_models_are_found_by_their_n_prime(models: Path) -> None:
    (models / "old-ce" / "training_meta.json").unlink()
    found = resolve(models, "8,1")
    assert [(m.label, m.n_prime, Path(m.model).name) for m in found] == [
        ("N'=8", 8.0, "n8"),
        ("N'=1", 1.0, "ce"),
    ]
    assert found[0].generator == f"model:{models / 'n8'}"
    assert ensemble_label(found) == "ensemble(8,1)"


def test_two_models_with_one_n_prime_are_refused(models: Path) -> None:
    with pytest.raises(UserError, match=r"two models with N'=1: .*ce and .*old-ce"):
        find_models(models, (1.0,))


@pytest.mark.parametrize(
    ("n_primes", "command"),
    [
        ("8,16", "`dco train --benchmark coq-stdlib --loss dcostep --n 16 --out {m}/n16`"),
        ("1,32", "`dco train --benchmark coq-stdlib --loss dcostep --n 32 --out {m}/n32`"),
    ],
)
def test_a_missing_model_names_the_command_that_makes_it(models, n_primes, command) -> None:
    (models / "old-ce").rename(models.parent / "elsewhere")
    with pytest.raises(UserError) as info:
        resolve(models, n_primes)
    message = str(info.value)
    assert "\n" not in message and command.format(m=models) in message


def test_a_missing_ce_model_names_the_ce_command(tmp_path: Path) -> None:
    root = tmp_path / "models"
    checkpoint(root / "n4", {"loss": "dcostep", "n_prime": 4})
    with pytest.raises(
        UserError, match=rf"`dco train --benchmark coq-stdlib --loss ce --out {root}/ce`"
    ):
        resolve(root, "1,4")


@pytest.mark.parametrize(
    ("value", "message"),
    [("1,x", "expected N' values"), ("", "at least one"), ("0.5", ">= 1"), ("4,4", "repeats")],
)
def test_bad_n_prime_lists(value: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        parse_n_primes(value)


def test_one_prover_flag_at_most(models: Path) -> None:
    with pytest.raises(UserError, match="give one of"):
        resolve_members(
            ensemble="1",
            models=str(models),
            model=str(models / "ce"),
            generator=None,
            benchmark="b",
        )
    with pytest.raises(UserError, match="no such directory"):
        resolve(models / "absent", "1")
    assert resolve_members(
        ensemble=None, models="models", model=None, generator=None, benchmark="b"
    ) == [Member("symbolic", "symbolic")]


def test_a_lone_model_is_named_by_its_search(models: Path) -> None:
    """``--model DIR`` and ``--generator model:DIR`` label the member
    ``lm-<strategy>`` (its N' kept apart); ensembles keep their N' labels,
    and without a strategy the N' label stays."""
    (models / "old-ce" / "training_meta.json").unlink()  # one model with N'=1
    for flags in ({"model": str(models / "n8")}, {"generator": f"model:{models / 'n8'}"}):
        args = {"ensemble": None, "models": str(models), "model": None, "generator": None, **flags}
        (best,) = resolve_members(**args, benchmark="b", strategy="best-first")
        (rollouts,) = resolve_members(**args, benchmark="b", strategy="rollouts")
        (bare,) = resolve_members(**args, benchmark="b")
        assert (best.label, rollouts.label, bare.label) == ("lm-best-first", "lm-rollouts", "N'=8")
        assert best.n_prime == 8.0 and best.generator == f"model:{models / 'n8'}"
    pair = resolve_members(
        ensemble="1,8",
        models=str(models),
        model=None,
        generator=None,
        benchmark="b",
        strategy="rollouts",
    )
    assert [m.label for m in pair] == ["N'=1", "N'=8"]
    (symbolic,) = resolve_members(
        ensemble=None, models="", model=None, generator=None, benchmark="b", strategy="best-first"
    )
    assert symbolic.label == "symbolic"


def test_split_shares_passes_and_wall_clock_evenly() -> None:
    budget = Budget(wall_clock=100.0, max_passes=64, max_expansions=10, tactic_timeout=3.0)
    shares = member_budgets(budget, 5, "split")
    assert [b.max_passes for b in shares] == [13, 13, 13, 13, 12]  # remainder to the first
    assert sum(b.max_passes for b in shares) == 64
    assert [b.max_expansions for b in shares] == [2] * 5
    assert all(b.wall_clock == pytest.approx(20.0) for b in shares)
    assert all(b.tactic_timeout == 3.0 and b.max_depth == budget.max_depth for b in shares)
    assert member_budgets(Budget(wall_clock=9.0), 3, "split") == [Budget(wall_clock=3.0)] * 3


def test_each_gives_every_model_the_full_budget() -> None:
    budget = Budget(wall_clock=100.0, max_passes=64)
    assert member_budgets(budget, 5, "each") == [budget] * 5
    assert member_budgets(budget, 1, "split") == [budget]


def test_split_refuses_fewer_passes_than_models() -> None:
    with pytest.raises(UserError, match="4 passes cannot be shared by 5 models"):
        member_budgets(Budget(max_passes=4), 5, "split")
