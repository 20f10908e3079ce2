"""The synthetic multiplication task: exact verifier, seeded splits."""

from __future__ import annotations

import itertools

from benchmarks.direct_answer.task import Problem, Task, TaskConfig, final_answer, verify


def test_verifier_accepts_only_the_canonical_product() -> None:
    p = Problem(347, 86)
    assert verify(p, "29842")
    for wrong in ("29841", "029842", "2984", "298420", "", "29842=", "+29842"):
        assert not verify(p, wrong), wrong


def test_chain_of_thought_target_is_correct_and_verified_by_its_final_answer() -> None:
    p = Problem(347, 86)
    trace = p.target(cot=True)
    assert trace == "2082+27760=29842"
    partials, answer = trace.split("=")
    assert sum(int(x) for x in partials.split("+")) == p.a * p.b == int(answer)
    assert verify(p, trace, cot=True)
    # Only the final answer counts: a wrong trace with the right answer passes,
    # a right trace with a wrong answer fails.
    assert verify(p, "1+2=29842", cot=True)
    assert not verify(p, "2082+27760=29843", cot=True)
    assert final_answer("1+2=3=4", cot=True) == "4"
    # One-digit b: one partial product.
    assert Problem(12, 7).target(cot=True) == "84=84"


def test_a_seed_fixes_the_splits_and_the_stream() -> None:
    a, b = Task(TaskConfig(seed=3, n_train=200, n_test=50)), Task(TaskConfig(seed=3, n_train=200, n_test=50))
    assert a.test == b.test and a.train == b.train
    assert list(itertools.islice(a.stream(1), 100)) == list(itertools.islice(b.stream(1), 100))
    c = Task(TaskConfig(seed=4, n_train=200, n_test=50))
    assert c.test != a.test and c.train != a.train
    assert list(itertools.islice(a.stream(1), 100)) != list(itertools.islice(a.stream(2), 100))


def test_test_problems_are_unseen_distinct_and_harder() -> None:
    task = Task(TaskConfig(seed=0, n_train=3000, n_test=300))
    test = set(task.test)
    assert len(test) == 300
    assert not test & set(task.train)
    assert not test & set(itertools.islice(task.stream(0), 5000))
    # Test: both operands have two or more digits; training holds easy sizes too.
    assert all(p.a >= 10 and p.b >= 10 for p in task.test)
    assert {"1x1", "2x1", "3x1"} <= {p.size for p in task.train}
