"""What one theorem's search may spend.

``wall_clock`` bounds the search itself: it starts once the environment has
started (start-up is timed separately) and it stops while a found proof is
re-checked from scratch (the re-check is not search, and a proof found on the
last step must not lose its re-check to the clock). It is checked
before every generator call and every tactic, never by cutting a tactic
short: each tactic gets ``tactic_timeout`` of its own (ReProver gave the last
tactic whatever was left of the whole budget, and a tactic that proves the
theorem right at the end was lost). A search may therefore overrun its wall
clock by at most one tactic timeout (plus generator calls' and re-checks' time).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from lean_env.errors import UserError

DEFAULT_MAX_DEPTH = 50


@dataclass(frozen=True)
class Budget:
    wall_clock: float = 60.0  # seconds of search per theorem
    max_passes: int | None = None  # rollouts (pass@N): N
    max_expansions: int | None = None  # best-first: states expanded
    max_depth: int = DEFAULT_MAX_DEPTH  # tactics in a proof, at most
    tactic_timeout: float = 5.0  # seconds per tactic, independent of wall_clock

    def __post_init__(self) -> None:
        if not self.wall_clock > 0:
            raise UserError(f"wall-clock budget must be > 0 s, got {self.wall_clock}")
        if not self.tactic_timeout > 0:
            raise UserError(f"tactic timeout must be > 0 s, got {self.tactic_timeout}")
        if self.max_depth < 1:
            raise UserError(f"max depth must be >= 1, got {self.max_depth}")
        for name in ("max_passes", "max_expansions"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise UserError(f"{name.replace('_', ' ')} must be >= 1, got {value}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Clock:
    """The running wall clock of one search. ``now`` is injectable so that a
    test can make the budget expire at an exact point."""

    def __init__(self, budget: Budget, now: Callable[[], float] = time.monotonic) -> None:
        self.budget = budget
        self.now = now
        self.start = now()
        self.excluded = 0.0

    @property
    def elapsed(self) -> float:
        return self.now() - self.start - self.excluded

    def exclude(self, since: float) -> None:
        """Stop counting the time from ``since`` (a reading of ``now``) until now."""
        self.excluded += self.now() - since

    def expired(self) -> bool:
        return self.elapsed >= self.budget.wall_clock
