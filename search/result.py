"""What a search returns: status, the verified proof, statistics, attempts."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from lean_env.types import Theorem, Verification

from .tree import ProofTree, Status


class Outcome(StrEnum):
    """How one attempt ended (stored as its value in the ``attempts`` table)."""

    PROVED = "proved"
    VERIFY_FAILED = "verify_failed"  # finished, but the re-check rejected the proof
    ERROR = "error"
    TIMEOUT = "timeout"
    DEPTH = "depth"  # the depth cap
    NO_CANDIDATES = "no_candidates"  # the generator proposed nothing
    BUDGET = "budget"  # cut by the wall clock
    # Cut because another rollout proved the theorem and the search stops at
    # the first proof.
    STOPPED = "stopped"
    # A best-first search that ended without a proof: the tree's status.
    FAILED = "failed"
    OPEN = "open"


# The outcomes of attempts that were cut short rather than run to their end.
CUT = frozenset({Outcome.BUDGET, Outcome.STOPPED})


@dataclass(frozen=True)
class Attempt:
    """One pass: a rollout from the root (pass@N), or a whole best-first search."""

    index: int
    success: bool
    outcome: Outcome
    tactics: tuple[str, ...]
    logprob: float
    seconds: float

    @property
    def steps(self) -> int:
        return len(self.tactics)


@dataclass
class SearchStats:
    expansions: int = 0  # best-first: states expanded
    passes: int = 0  # rollouts finished (any outcome)
    tactic_calls: int = 0  # proof-assistant calls made
    memo_hits: int = 0  # tactics answered by the memo table instead
    verify_calls: int = 0
    generator_calls: int = 0
    nodes: int = 0
    edges: int = 0
    seconds_start: float = 0.0  # opening the environment (outside the budget)
    seconds_total: float = 0.0  # the search itself
    seconds_generator: float = 0.0
    seconds_tactics: float = 0.0
    seconds_verify: float = 0.0
    # Search seconds (the budget's clock) when the first verified proof was
    # found; None while unproved. One run then answers "proved within t" for
    # every t up to its budget.
    seconds_to_proof: float | None = None

    @property
    def seconds_search(self) -> float:
        """Time in the search code itself: neither generator nor proof assistant."""
        return max(
            0.0,
            self.seconds_total
            - self.seconds_generator
            - self.seconds_tactics
            - self.seconds_verify,
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["seconds_search"] = self.seconds_search
        return d


@dataclass
class SearchResult:
    theorem: Theorem
    status: Status
    reason: str  # why the search ended, in words
    proof: list[str] | None  # the verified proof, when PROVED
    tree: ProofTree | None  # None when the environment never started
    stats: SearchStats
    attempts: list[Attempt] = field(default_factory=list)
    verification: Verification | None = None  # of ``proof``
    # Every proof that was re-checked (passed or not), by its tactics.
    verifications: dict[tuple[str, ...], Verification] = field(default_factory=dict)
    start_failed: bool = False  # the environment could not be opened

    @property
    def proved(self) -> bool:
        return self.status is Status.PROVED
