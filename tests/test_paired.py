"""benchmarks.paired: the exact McNemar test against values computed by
hand and by brute-force enumeration, paired comparisons, proved-within-t."""

from __future__ import annotations

import itertools
import math

import pytest

from benchmarks.paired import mcnemar_exact, paired, proved_within, time_grid, within_counts


def brute_force_p(b: int, c: int) -> float:
    """Two-sided exact p by enumerating every assignment of the b + c
    discordant theorems to the two provers: the share of assignments at
    least as unbalanced as the observed one."""
    n = b + c
    if n == 0:
        return 1.0
    observed = abs(b - c)
    extreme = sum(
        1 for bits in itertools.product((0, 1), repeat=n) if abs(2 * sum(bits) - n) >= observed
    )
    return extreme / 2**n


@pytest.mark.parametrize("b,c", [(0, 0), (0, 1), (1, 1), (0, 5), (5, 0), (2, 9), (7, 7), (3, 11)])
def test_mcnemar_exact_matches_enumeration(b, c) -> None:
    assert mcnemar_exact(b, c) == pytest.approx(brute_force_p(b, c), rel=1e-12)


def test_mcnemar_known_values_and_symmetry() -> None:
    # 0 vs 6 discordant: 2 * (1/2)^6
    assert mcnemar_exact(0, 6) == pytest.approx(2 / 64)
    # 1 vs 9: 2 * (1 + 10) / 1024
    assert mcnemar_exact(1, 9) == pytest.approx(22 / 1024)
    assert mcnemar_exact(9, 1) == mcnemar_exact(1, 9)
    assert mcnemar_exact(4, 4) == 1.0
    # large counts stay finite and tiny
    assert 0 < mcnemar_exact(10, 100) < 1e-15
    assert math.isclose(mcnemar_exact(150, 150), 1.0)
    with pytest.raises(ValueError):
        mcnemar_exact(-1, 2)


def test_paired_lists_the_theorems_each_proves_alone() -> None:
    theorems = {"t1", "t2", "t3", "t4", "t5"}
    p = paired("sym", {"t1", "t2", "x"}, "lm", {"t2", "t3", "t4"}, theorems)
    assert (p.both, p.only_a, p.only_b) == (1, ("t1",), ("t3", "t4"))
    assert (p.proved_a, p.proved_b, p.theorems) == (2, 3, 5)  # "x" is out of scope
    assert p.p_value == pytest.approx(mcnemar_exact(1, 2)) == 1.0
    d = p.to_dict()
    assert d["only_b"] == ["t3", "t4"] and d["mcnemar_p"] == 1.0


def test_proved_within_t_and_the_grid() -> None:
    at = {"a": 0.5, "b": 4.0, "c": 12.0, "d": 29.9}
    assert proved_within(at, 5) == {"a", "b"}
    assert proved_within(at, 0.1) == set()
    assert time_grid([30.0, 20.0]) == [1, 2, 5, 10, 15, 20.0]
    assert time_grid([7.5]) == [1, 2, 5, 7.5]
    assert within_counts(at, [1, 10, 30]) == {"1": 1, "10": 2, "30": 4}
