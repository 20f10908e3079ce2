"""The synthetic multiplication task: exact verifier, seeded disjoint splits."""

from __future__ import annotations

import pytest
import torch

from benchmarks.direct_answer.task import (
    FAMILY_SIZE,
    Problem,
    Task,
    TaskConfig,
    answer_values,
    encode,
    target_length,
    verify,
)


def test_verifier_accepts_only_the_product() -> None:
    p = Problem(47, 86)
    assert p.answer == "4042" and verify(p, "4042")
    for wrong in ("4041", "0404", "404", "40420", ""):
        assert not verify(p, wrong), wrong
    assert Problem(10, 12).answer == "0120"


def test_chain_of_thought_target_is_correct_and_verified_by_its_final_answer() -> None:
    p = Problem(47, 86)
    trace = p.target(cot=True)
    assert trace == "282376" + "4042" and len(trace) == target_length(True)
    assert int(trace[:3]) + 10 * int(trace[3:6]) == p.a * p.b
    # Only the final answer counts: any trace before the right product passes.
    assert verify(p, "000000" + "4042") and not verify(p, "282376" + "4043")


def test_a_seed_fixes_the_splits() -> None:
    a, b = Task(TaskConfig(seed=3)), Task(TaskConfig(seed=3))
    assert a.test == b.test and a.train == b.train
    c = Task(TaskConfig(seed=4))
    assert c.test != a.test and c.train != a.train


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_train_and_test_are_disjoint_without_duplicates_from_one_family(seed: int) -> None:
    task = Task(TaskConfig(seed=seed, n_train=4000, n_test=4000))
    train, test = set(task.train), set(task.test)
    assert len(train) == 4000 and len(test) == 4000  # no duplicates
    assert not train & test
    for p in (*task.train, *task.test):
        assert 10 <= p.a <= 99 and 10 <= p.b <= 99
    # One distribution: both halves cover the operand range alike.
    mean = lambda ps: sum(p.a * p.b for p in ps) / len(ps)  # noqa: E731
    assert abs(mean(task.train) - mean(task.test)) < 0.05 * mean(task.test)
    with pytest.raises(ValueError):
        Task(TaskConfig(n_train=FAMILY_SIZE, n_test=1))


def test_encoding_round_trips_the_answer() -> None:
    problems = [Problem(47, 86), Problem(10, 10), Problem(99, 99)]
    x, y = encode(problems, cot=False)
    assert x.tolist()[0] == [4, 7, 8, 6]
    assert answer_values(y).tolist() == [4042, 100, 9801]
    _, yc = encode(problems, cot=True)
    assert torch.equal(answer_values(yc), answer_values(y))
