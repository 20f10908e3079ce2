"""The synthetic task: multiply two 2-digit numbers, answer directly or after
a short chain of thought; an exact verifier.

A dense problem family. Every problem ``a*b`` with ``10 <= a, b <= 99`` (8,100
of them) has one answer, the product, written as a fixed-width digit string
(``0120`` for 12*10), so a model's answer distribution covers 10^4 strings
and a model that knows nothing gives the right one probability 1e-4. The
family is shuffled once per seed and cut into a training set and a disjoint
test set: both come from the same distribution, neither repeats a problem.

Why memorising makes a small model confidently wrong on near neighbours. A
model that writes the product digit by digit learns the parts with simple
rules (the number of digits, the leading digit, the last digit ``a*b mod 10``),
but the middle digits need carries it does not compute; trained on a fixed
set far past fitting it, it answers those digits from the training problems
that share operand digits with the test problem, with the confidence it
learnt on them: a wrong answer held with high probability, so even 256 or
4,096 samples miss the right one.

The chain-of-thought target writes the two partial products ``a*b_0`` and
``a*b_1`` (3 digits each, ``b_0`` the units digit of ``b``) before the
answer: ``47*86 -> 282 376 4042``. Only the final answer is verified, so any
trace that ends in the product counts (``a_0*b, a_1*b`` would too).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import torch

LOW, HIGH = 10, 99  # operand range, both ends included
OPERAND_DIGITS = 2
ANSWER_DIGITS = 4  # 99 * 99 = 9801
PARTIAL_DIGITS = 3  # 99 * 9 = 891
FAMILY_SIZE = (HIGH - LOW + 1) ** 2


@dataclass(frozen=True, order=True)
class Problem:
    a: int
    b: int

    @property
    def prompt(self) -> str:
        return f"{self.a}*{self.b}="

    @property
    def answer(self) -> str:
        return str(self.a * self.b).zfill(ANSWER_DIGITS)

    def target(self, cot: bool = False) -> str:
        """The golden completion: the answer's digits, after the two partial
        products for a chain of thought."""
        if not cot:
            return self.answer
        units, tens = self.b % 10, self.b // 10
        return (
            str(self.a * units).zfill(PARTIAL_DIGITS)
            + str(self.a * tens).zfill(PARTIAL_DIGITS)
            + self.answer
        )

    @property
    def input_digits(self) -> list[int]:
        return [int(c) for c in f"{self.a:02d}{self.b:02d}"]


def target_length(cot: bool) -> int:
    return 2 * PARTIAL_DIGITS + ANSWER_DIGITS if cot else ANSWER_DIGITS


def final_answer(completion: str) -> str:
    """The answer a completion commits to: its last ANSWER_DIGITS digits."""
    return completion[-ANSWER_DIGITS:]


def verify(problem: Problem, completion: str) -> bool:
    """Exact check of the final answer (the trace before it is not checked)."""
    return final_answer(completion) == problem.answer


def answer_values(tokens: torch.Tensor) -> torch.Tensor:
    """The integer a batch of digit rows (..., L) answers: its last digits."""
    place = 10 ** torch.arange(ANSWER_DIGITS - 1, -1, -1)
    return (tokens[..., -ANSWER_DIGITS:] * place).sum(-1)


@dataclass(frozen=True)
class TaskConfig:
    seed: int = 0
    n_train: int = 4000
    n_test: int = 4000


@dataclass
class Task:
    """The family shuffled by the seed: the first ``n_train`` problems train,
    the next ``n_test`` test; disjoint and without duplicates by construction."""

    config: TaskConfig = field(default_factory=TaskConfig)

    def __post_init__(self) -> None:
        c = self.config
        if c.n_train < 1 or c.n_test < 1 or c.n_train + c.n_test > FAMILY_SIZE:
            raise ValueError(f"need 1 <= n_train, n_test and n_train + n_test <= {FAMILY_SIZE}")
        family = [Problem(a, b) for a in range(LOW, HIGH + 1) for b in range(LOW, HIGH + 1)]
        random.Random(f"direct-answer-{c.seed}").shuffle(family)
        self.train: list[Problem] = family[: c.n_train]
        self.test: list[Problem] = family[c.n_train : c.n_train + c.n_test]


def encode(problems: list[Problem], cot: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs (B, 4) operand digits, targets (B, L) golden digits)."""
    x = torch.tensor([p.input_digits for p in problems], dtype=torch.long)
    y = torch.tensor([[int(c) for c in p.target(cot)] for p in problems], dtype=torch.long)
    return x, y
