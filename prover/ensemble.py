"""Which models a run uses: one ``--model``, the ``--generator symbolic``
baseline, or an ``--ensemble`` of N' values looked up under ``--models``;
and how an ensemble shares the per-theorem budget.

``--models DIR`` holds one sub-directory per checkpoint (``DIR`` itself may
be one model's directory); the N' of each is read from its
``training_meta.json`` (a CE model is N'=1). A missing N' is a one-line
error naming the ``dco train`` command that makes it.

Budget policy (``--ensemble-budget``): ``split`` divides the passes and the
wall clock evenly across the M models, so the ensemble spends what one
model would (the fair comparison with CE at the same total compute; passes
that do not divide evenly go one each to the first models); ``each`` gives
every model the full budget (the paper's M-times-the-compute ensemble).

Scoring: an ensemble proves a theorem if any of its models does
(:func:`credit` says which model found what), and its pass@k is
:func:`ensemble_pass_at_k`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from benchmarks.passk import pass_at_k
from lean_env.errors import UserError
from prover.hybrid import hybrid_label, is_hybrid
from search.budget import Budget

SPLIT, EACH = "split", "each"
BUDGET_POLICIES = (SPLIT, EACH)


@dataclass(frozen=True)
class Member:
    """One prover of a run: its label in tables and JSON, the ``--generator``
    spec that builds it, its model directory and N' (None for symbolic)."""

    label: str
    generator: str
    model: str | None = None
    n_prime: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "generator": self.generator,
            "model": self.model,
            "n_prime": self.n_prime,
        }


def label(n_prime: float) -> str:
    return f"N'={n_prime:g}"


def ensemble_label(members: list[Member]) -> str:
    return (
        "ensemble("
        + ",".join(f"{m.n_prime:g}" if m.n_prime is not None else m.label for m in members)
        + ")"
    )


def model_dir_name(n_prime: float) -> str:
    return "ce" if n_prime == 1 else f"n{n_prime:g}"


def train_command(benchmark: str, n_prime: float, out: Path) -> str:
    loss = "--loss ce" if n_prime == 1 else f"--loss dcostep --n {n_prime:g}"
    return f"dco train --benchmark {benchmark} {loss} --out {out}"


def parse_n_primes(text: str) -> tuple[float, ...]:
    """``"1,4,8"`` -> (1.0, 4.0, 8.0); each N' >= 1, no repeats."""
    try:
        values = tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise UserError(f"--ensemble: expected N' values like 1,4,8,16,32, got {text!r}") from None
    if not values:
        raise UserError("--ensemble needs at least one N' value")
    if any(not (v >= 1 and math.isfinite(v)) for v in values):
        raise UserError(f"--ensemble: N' values must be >= 1, got {text!r}")
    if len(set(values)) != len(values):
        raise UserError(f"--ensemble repeats a value: {text!r}")
    return values


def read_n_prime(model: Path) -> float | None:
    """The N' a model was trained with (CE: 1), None if it was not trained
    here or its metadata does not say."""
    from training.generator import read_meta

    meta = read_meta(model)
    if meta.get("n_prime") is not None:
        return float(meta["n_prime"])
    return 1.0 if meta.get("loss") == "ce" else None


def find_models(models: Path, n_primes: tuple[float, ...]) -> dict[float, Path]:
    """N' -> the model directory under ``models`` trained with it; N' values
    with no model are absent. Two models with one N' are an error."""
    from training.generator import META_FILE

    if not models.is_dir():
        raise UserError(f"--models {models}: no such directory")
    found: dict[float, Path] = {}
    candidates = [models, *sorted(p for p in models.iterdir() if p.is_dir())]
    for sub in (p for p in candidates if (p / META_FILE).is_file()):
        n_prime = read_n_prime(sub)
        if n_prime is None or n_prime not in n_primes:
            continue
        if n_prime in found:
            raise UserError(
                f"{models}: two models with {label(n_prime)}: {found[n_prime]} and {sub}; keep one"
            )
        found[n_prime] = sub
    return found


def ensemble_members(n_primes: tuple[float, ...], models: Path, benchmark: str) -> list[Member]:
    found = find_models(models, n_primes)
    missing = [n for n in n_primes if n not in found]
    if missing:
        commands = "; ".join(
            f"`{train_command(benchmark, n, models / model_dir_name(n))}`" for n in missing
        )
        raise UserError(
            f"no model with {', '.join(label(n) for n in missing)} in {models}: "
            f"train it with {commands}"
        )
    return [Member(label(n), f"model:{found[n]}", str(found[n]), n) for n in n_primes]


def model_member(path: Path) -> Member:
    if not path.is_dir():
        raise UserError(f"--model {path}: no such directory")
    if not (path / "config.json").is_file():
        raise UserError(
            f"--model {path}: not a model directory (no config.json); train one with `dco train`"
        )
    n_prime = read_n_prime(path)
    name = label(n_prime) if n_prime is not None else str(path)
    return Member(name, f"model:{path}", str(path), n_prime)


def resolve_members(
    *,
    ensemble: str | None,
    models: str,
    model: str | None,
    generator: str | None,
    benchmark: str,
    strategy: str | None = None,
) -> list[Member]:
    """The provers that ``--ensemble`` / ``--model`` / ``--generator`` name
    (at most one of them; none means the symbolic baseline). A lone model
    (``--model DIR`` or ``--generator model:DIR``) searching with
    ``strategy`` is labelled ``lm-<strategy>`` (``lm-best-first``,
    ``lm-rollouts``), so that a table names the generator and the search;
    its N' stays in :attr:`Member.n_prime`. Ensemble members keep their N'
    labels, which tell them apart."""
    members = _resolve(
        ensemble=ensemble, models=models, model=model, generator=generator, benchmark=benchmark
    )
    if strategy and not ensemble and members[0].generator.startswith("model:"):
        return [replace(members[0], label=f"lm-{strategy}")]
    return members


def _resolve(
    *,
    ensemble: str | None,
    models: str,
    model: str | None,
    generator: str | None,
    benchmark: str,
) -> list[Member]:
    given = [
        flag
        for flag, value in (
            ("--ensemble", ensemble),
            ("--model", model),
            ("--generator", generator),
        )
        if value
    ]
    if len(given) > 1:
        raise UserError(f"give one of --ensemble, --model, --generator (got {' and '.join(given)})")
    if ensemble:
        return ensemble_members(parse_n_primes(ensemble), Path(models), benchmark)
    if model:
        return [model_member(Path(model))]
    spec = generator or "symbolic"
    from prover.generators import portfolio_stages

    parts = portfolio_stages(spec)
    if len(parts) == 1:
        return [generator_member(spec, benchmark)]
    stages = [(generator_member(part, benchmark), share) for part, share in parts]

    def weighted(text: str, share: float | None) -> str:
        return text if share is None else f"{text}@{share:g}"

    # A portfolio is one prover, labelled by its stages (and their weights);
    # two names of one generator (knn, knn:coq-stdlib) are refused like two
    # equal names.
    resolved = ",".join(weighted(m.generator, share) for m, share in stages)
    portfolio_stages(resolved)
    return [Member(",".join(weighted(m.label, share) for m, share in stages), resolved)]


def generator_member(spec: str, benchmark: str) -> Member:
    """The member one ``--generator`` value (not a portfolio) names."""
    from prover.generators import (
        GENERATORS,
        NAMED_GENERATORS,
        check_available,
        knn_without_train_steps,
    )

    if spec in NAMED_GENERATORS:
        check_available(spec)  # a missing plugin is one line before any work
        return Member(spec, spec)
    if spec.startswith("model:"):
        return model_member(Path(spec.removeprefix("model:")))
    if is_hybrid(spec):
        return Member(hybrid_label(spec), spec)
    if spec == "knn" or spec.startswith("knn:"):  # k-NN over the train split's states
        source = spec.removeprefix("knn").removeprefix(":") or benchmark
        if not has_train_steps(source):
            raise UserError(knn_without_train_steps(source))
        return Member("knn", f"knn:{source}")
    raise UserError(f"unknown generator {spec!r}; available: {', '.join(GENERATORS)}")


def has_train_steps(benchmark: str) -> bool:
    """Whether ``benchmark`` has train steps for a k-NN index (checked before
    any work; the benchmark is loaded, which also reports a missing one)."""
    from benchmarks.loader import load_benchmark

    return next(iter(load_benchmark(benchmark).steps("train")), None) is not None


def member_budgets(budget: Budget, count: int, policy: str) -> list[Budget]:
    """Each of ``count`` models' per-theorem budget under ``policy``."""
    if policy not in BUDGET_POLICIES:
        raise UserError(f"--ensemble-budget must be one of {', '.join(BUDGET_POLICIES)}")
    if count == 1 or policy == EACH:
        return [budget] * count

    def shares(total: int | None, what: str) -> list[int | None]:
        if total is None:
            return [None] * count
        if total < count:
            raise UserError(
                f"--ensemble-budget split: {total} {what} cannot be shared "
                f"by {count} models (give at least {count})"
            )
        base, extra = divmod(total, count)
        return [base + (i < extra) for i in range(count)]

    passes = shares(budget.max_passes, "passes")
    expansions = shares(budget.max_expansions, "expansions")
    return [
        replace(budget, wall_clock=budget.wall_clock / count, max_passes=p, max_expansions=e)
        for p, e in zip(passes, expansions, strict=True)
    ]


def credit(
    labels: Sequence[str], provers: Iterable[Collection[str]]
) -> tuple[dict[str, int], dict[str, int]]:
    """Given, for each theorem proved, the labels of the models that proved
    it: theorems found by each model (a theorem proved by several counts for
    each), and those found by it alone."""
    found_by = dict.fromkeys(labels, 0)
    only_by = dict.fromkeys(labels, 0)
    for by in provers:
        for name in by:
            found_by[name] += 1
        if len(by) == 1:
            only_by[next(iter(by))] += 1
    return found_by, only_by


def ensemble_pass_at_k(
    per_model: Sequence[dict[str, list[bool]]], total: int, ks: Callable[[int], list[int]]
) -> dict[int, float]:
    """The ensemble's pass@k, keyed by the total number of passes ``k * M``:
    the chance that some model succeeds within k passes of its own, from the
    per-model unbiased estimates (independent models, so 1 - prod(1 - p_m)),
    averaged over ``total`` theorems (a theorem no model attempted counts 0).
    ``per_model``: each model's theorem -> success of each attempt;
    ``ks(n)``: the k values for n attempts per theorem. Empty if no model
    attempted anything."""
    lengths = [len(seq) for attempts in per_model for seq in attempts.values() if seq]
    if not lengths or not total:
        return {}
    theorems = set().union(*per_model)
    curve: dict[int, float] = {}
    for k in ks(min(lengths)):
        values = []
        for name in theorems:
            miss = 1.0
            for attempts in per_model:
                miss *= 1.0 - _pass(attempts.get(name, []), k)
            values.append(1.0 - miss)
        values += [0.0] * max(0, total - len(theorems))
        curve[k * len(per_model)] = math.fsum(values) / total
    return curve


def _pass(seq: Sequence[bool], k: int) -> float:
    n, c = len(seq), sum(seq)
    if n == 0:
        return 0.0
    if n < k:  # as pass_at_k_curve(strict=False): a lower bound in expectation
        return 1.0 if c else 0.0
    return pass_at_k(n, c, k)
