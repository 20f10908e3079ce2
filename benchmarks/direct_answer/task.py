"""The synthetic task: multiply two integers, answer directly or after a short
chain of thought; an exact verifier.

Why a small model can be overconfident here. A problem is ``a*b=`` with
operands of 1 to 3 digits; the answer is the decimal product. A two-layer
transformer that writes the product left to right cannot do the carries of a
multi-digit multiplication in one pass, but it can learn the parts that need no
carries: the number of digits, roughly the leading digit and exactly the last
one (``a*b mod 10``). Between them sit two to four digits it can only guess, so
a test answer has ~100 (2x2 digits) to ~10^4 (3x3) *plausible* values: a model
that knows the structure spreads its mass over them (low pass@1, pass@k growing
with k), and a model made confident by memorising its training products puts
its mass on one of them, usually a wrong one. Test problems are unseen and
harder than the training mix (both operands have at least two digits, while
training also holds the easy 1-digit cases), as MATH test problems are unseen
by a model fine-tuned on MATH train.

The chain-of-thought target writes the partial products ``a * d_i * 10^i``
(one per digit ``d_i`` of ``b``, least significant first), then their sum:
``347*86=2082+27760=29842``. Each partial product is a 1-digit multiplication
and the sum an addition, which the same model learns far better, but it still
makes mistakes; only the final answer (after the last ``=``) is verified.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

# Operand digit counts (digits of a, digits of b), a at least as long as b.
ALL_CLASSES: tuple[tuple[int, int], ...] = ((1, 1), (2, 1), (2, 2), (3, 1), (3, 2), (3, 3))
# Test problems: both operands have two or more digits (no easy cases).
HARD_CLASSES: tuple[tuple[int, int], ...] = ((2, 2), (3, 2), (3, 3))


@dataclass(frozen=True, order=True)
class Problem:
    a: int
    b: int

    @property
    def prompt(self) -> str:
        return f"{self.a}*{self.b}="

    @property
    def answer(self) -> str:
        return str(self.a * self.b)

    @property
    def size(self) -> str:
        """Digit counts of the operands, e.g. ``"3x2"``."""
        return f"{len(str(self.a))}x{len(str(self.b))}"

    def target(self, cot: bool = False) -> str:
        """The golden completion after the prompt."""
        if not cot:
            return self.answer
        partials = [self.a * int(d) * 10**i for i, d in enumerate(reversed(str(self.b)))]
        return "+".join(str(p) for p in partials) + "=" + self.answer


def parse_prompt(prompt: str) -> Problem:
    """The problem of a prompt ``a*b=`` (the DCOa verifier sees prompts)."""
    a, b = prompt.removesuffix("=").split("*")
    return Problem(int(a), int(b))


def final_answer(completion: str | None, cot: bool = False) -> str | None:
    """The answer a completion commits to: all of it for a direct answer, the
    text after the last ``=`` for a chain of thought; None for a completion
    cut at the length limit."""
    if completion is None:
        return None
    return completion.rsplit("=", 1)[-1] if cot else completion


def verify(problem: Problem, completion: str | None, cot: bool = False) -> bool:
    """Exact check: the final answer is the canonical decimal product (no
    leading zeros, no sign, no spaces). A cut completion (None) is wrong."""
    return final_answer(completion, cot) == problem.answer


@dataclass(frozen=True)
class TaskConfig:
    seed: int = 0
    n_train: int = 2000  # fine-tuning set (fixed, seen every epoch)
    n_test: int = 400
    train_classes: tuple[tuple[int, int], ...] = ALL_CLASSES
    test_classes: tuple[tuple[int, int], ...] = HARD_CLASSES


def _sample(rng: random.Random, classes: Sequence[tuple[int, int]]) -> Problem:
    la, lb = classes[rng.randrange(len(classes))]
    lo_a, lo_b = (1 if la == 1 else 10 ** (la - 1)), (1 if lb == 1 else 10 ** (lb - 1))
    return Problem(rng.randint(lo_a, 10**la - 1), rng.randint(lo_b, 10**lb - 1))


@dataclass
class Task:
    """Seeded test set, fine-tuning set (disjoint from test) and an endless
    pre-training stream that never yields a test problem."""

    config: TaskConfig = field(default_factory=TaskConfig)

    def __post_init__(self) -> None:
        rng = random.Random(f"test-{self.config.seed}")
        test: dict[Problem, None] = {}  # ordered set: the order is part of the seed
        while len(test) < self.config.n_test:
            test[_sample(rng, self.config.test_classes)] = None
        self.test: list[Problem] = list(test)
        self._test_set = set(test)
        rng = random.Random(f"train-{self.config.seed}")
        self.train: list[Problem] = [
            self._sample_unseen(rng) for _ in range(self.config.n_train)
        ]

    def _sample_unseen(self, rng: random.Random) -> Problem:
        while True:
            p = _sample(rng, self.config.train_classes)
            if p not in self._test_set:
                return p

    def stream(self, seed: int) -> Iterator[Problem]:
        """Fresh problems from the training distribution, test problems excluded."""
        rng = random.Random(f"stream-{self.config.seed}-{seed}")
        while True:
            yield self._sample_unseen(rng)
