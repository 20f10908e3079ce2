"""The settings of an expert-iteration run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lean_env.errors import UserError
from prover.ensemble import label  # noqa: F401  (the one name of an N' model, re-exported)
from search.budget import Budget
from search.config import SearchConfig

# Settings that may change between invocations of the same run: more rounds,
# more workers, a progress bar. Everything else defines what a round does, so
# a resumed run must keep it.
OPERATIONAL = ("rounds", "workers", "progress")


def model_dir_name(n_prime: float) -> str:
    return f"n{n_prime:g}"


@dataclass(frozen=True)
class Selection:
    """Which theorems of a split: a seeded random sample, then the first K."""

    split: str
    sample: int | None = None
    limit: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("sample", "limit"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise UserError(f"{name} of the {self.split} split must be >= 1, got {value}")

    def to_dict(self) -> dict[str, Any]:
        return {"split": self.split, "sample": self.sample, "limit": self.limit, "seed": self.seed}


@dataclass(frozen=True)
class ExpertConfig:
    out: Path
    rounds: int
    benchmark: str = "coq-stdlib"
    n_primes: tuple[float, ...] = (1.0,)
    models: Path | None = None  # one sub-directory per N' (read from training_meta.json)
    train_missing: bool = False  # train round-0 models that --models lacks
    db: Path | None = None  # default OUT/expert.sqlite
    train: Selection = field(default_factory=lambda: Selection("train"))
    test: Selection = field(default_factory=lambda: Selection("test"))
    search: SearchConfig = field(default_factory=SearchConfig)  # proving train theorems
    budget: Budget = field(default_factory=Budget)
    test_search: SearchConfig = field(default_factory=SearchConfig)  # evaluation
    test_budget: Budget = field(default_factory=Budget)
    proofs_per_theorem: int = 1  # 0: every distinct verified proof
    continue_training: bool = True  # False: each round trains from scratch
    epochs: float | None = None  # None: 1 when continuing, the start model's epochs from scratch
    max_steps: int | None = None
    lr: float | None = None  # None: the start model's learning rate
    seed: int = 0
    workers: int = 1
    progress: bool = True

    def __post_init__(self) -> None:
        if self.rounds < 1:
            raise UserError(f"--rounds must be >= 1, got {self.rounds}")
        if not self.n_primes:
            raise UserError("--n-primes needs at least one N' value")
        if len(set(self.n_primes)) != len(self.n_primes):
            raise UserError(f"--n-primes repeats a value: {self.n_primes}")
        if any(not n >= 1 for n in self.n_primes):
            raise UserError(f"N' values must be >= 1, got {self.n_primes}")
        if self.proofs_per_theorem < 0:
            raise UserError("--proofs-per-theorem must be >= 0 (0 keeps every distinct proof)")
        if self.workers < 1:
            raise UserError(f"--workers must be >= 1, got {self.workers}")
        if self.epochs is not None and not self.epochs > 0:
            raise UserError("--epochs must be positive")
        if self.max_steps is not None and self.max_steps < 1:
            raise UserError("--max-steps must be >= 1")
        if self.lr is not None and not self.lr > 0:
            raise UserError("--lr must be positive")
        if self.models is None and not self.train_missing:
            raise UserError("give --models DIR (one model per N') or --train-missing")
        if self.models is not None and not self.models.is_dir():
            raise UserError(f"--models {self.models}: no such directory")

    @property
    def db_path(self) -> Path:
        return self.db if self.db is not None else self.out / "expert.sqlite"

    def round_dir(self, r: int) -> Path:
        return self.out / f"round-{r}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "rounds": self.rounds,
            "benchmark": self.benchmark,
            "n_primes": list(self.n_primes),
            "models": str(self.models) if self.models else None,
            "train_missing": self.train_missing,
            "db": str(self.db_path),
            "train": self.train.to_dict(),
            "test": self.test.to_dict(),
            "search": self.search.to_dict(),
            "budget": self.budget.to_dict(),
            "test_search": self.test_search.to_dict(),
            "test_budget": self.test_budget.to_dict(),
            "proofs_per_theorem": self.proofs_per_theorem,
            "continue_training": self.continue_training,
            "epochs": self.epochs,
            "max_steps": self.max_steps,
            "lr": self.lr,
            "seed": self.seed,
            "workers": self.workers,
            "progress": self.progress,
        }

    def identity(self) -> dict[str, Any]:
        """What a resumed run must share with the run it continues."""
        return {k: v for k, v in self.to_dict().items() if k not in OPERATIONAL}
