"""The pass@k estimator against brute-force enumeration, its numerical
stability at n = 10^5, the disjoint-chunks cross-check, and the command line."""

from __future__ import annotations

import itertools
import math
import random
from fractions import Fraction

import pytest

from benchmarks.passk import chunked_pass_at_k, main, pass_at_k, pass_at_k_curve


def brute_force(n: int, c: int, k: int) -> Fraction:
    """Fraction of the k-subsets of n attempts (c of them successes) that hold a success."""
    attempts = [True] * c + [False] * (n - c)
    subsets = list(itertools.combinations(range(n), k))
    hits = sum(any(attempts[i] for i in s) for s in subsets)
    return Fraction(hits, len(subsets))


def test_matches_enumeration_for_every_small_case() -> None:
    for n in range(1, 10):
        for c in range(n + 1):
            for k in range(1, n + 1):
                assert pass_at_k(n, c, k) == pytest.approx(
                    float(brute_force(n, c, k)), abs=1e-12
                ), (n, c, k)


def test_k_one_is_the_success_rate() -> None:
    assert pass_at_k(1000, 37, 1) == pytest.approx(37 / 1000, rel=1e-12)


@pytest.mark.parametrize(
    ("n", "c", "k"),
    [
        (100_000, 1, 1),
        (100_000, 3, 10),
        (100_000, 50_000, 1000),
        (100_000, 7, 99_990),
        (100_000, 99_999, 2),
    ],
)
def test_stable_against_exact_rationals_at_n_1e5(n: int, c: int, k: int) -> None:
    exact = 1 - Fraction(math.comb(n - c, k), math.comb(n, k))
    got = pass_at_k(n, c, k)
    assert 0.0 <= got <= 1.0
    assert got == pytest.approx(float(exact), rel=1e-9, abs=1e-15)


def test_rejects_impossible_counts() -> None:
    for n, c, k in [(5, 6, 1), (5, 2, 0), (5, 2, 6), (5, -1, 1)]:
        with pytest.raises(ValueError):
            pass_at_k(n, c, k)


def test_chunks_count_chunks_with_a_success() -> None:
    seq = [False, True, False, False, False, False, True, True, False]
    assert chunked_pass_at_k(seq, 1) == pytest.approx(3 / 9)
    assert chunked_pass_at_k(seq, 2) == pytest.approx(2 / 4)  # the 9th attempt is left over
    assert chunked_pass_at_k(seq, 3) == pytest.approx(2 / 3)
    with pytest.raises(ValueError):
        chunked_pass_at_k(seq, 10)


def test_both_estimates_agree_with_the_truth_on_bernoulli_attempts() -> None:
    rng = random.Random(1)
    probs = [rng.random() ** 3 for _ in range(300)]
    attempts = {f"t{i}": [rng.random() < p for _ in range(64)] for i, p in enumerate(probs)}
    for point in pass_at_k_curve(attempts, [1, 4, 16]):
        truth = sum(1 - (1 - p) ** point.k for p in probs) / len(probs)
        assert point.estimate == pytest.approx(truth, abs=0.03)
        assert point.chunked == pytest.approx(truth, abs=0.05)


def test_curve_counts_theorems_without_attempts_and_checks_n() -> None:
    attempts = {"a": [True, False, False, False], "b": [False] * 4, "never_started": []}
    (p1, p4) = pass_at_k_curve(attempts, [1, 4])
    assert p1.estimate == pytest.approx((1 / 4 + 0 + 0) / 3)
    assert p4.estimate == pytest.approx(1 / 3) and p4.theorems == 3
    with pytest.raises(ValueError, match="fewer than k=8"):
        pass_at_k_curve(attempts, [8])
    (p8,) = pass_at_k_curve(attempts, [8], strict=False)
    assert p8.short == 2 and p8.estimate == pytest.approx(1 / 3) and p8.chunked is None


def test_command_line_bad_input_is_one_line(tmp_path, capsys) -> None:
    assert main([str(tmp_path / "missing.sqlite")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no such database") and err.count("\n") == 1
