"""The resumable unit stream and the threshold batch refill."""

from __future__ import annotations

import pytest
import torch

from training.data import Row, Unit
from training.refill import AllConfident, UnitStream, next_batch


def units(n: int) -> list[Unit]:
    # lengths vary so that length grouping has something to do
    return [Unit(i, (Row((1,) * (1 + i % 7), (2, 3)),), (f"s{i}",), (f"t{i}",)) for i in range(n)]


def test_each_epoch_is_a_permutation_and_batches_span_epochs() -> None:
    us = units(10)
    stream = UnitStream(us, seed=3, batch_size=4)
    seen = [u.id for u in stream.take(10)]
    assert sorted(seen) == list(range(10))
    nxt = stream.take(4)  # the next epoch, in another order
    assert stream.epoch == 1 and stream.pos == 4
    third = UnitStream(us, seed=3, batch_size=4)
    third.take(8)
    spanning = third.take(4)  # 2 leftovers of epoch 0 + 2 of epoch 1
    assert [u.id for u in spanning[:2]] == seen[8:] and spanning[2:] == nxt[:2]


def test_length_grouping_keeps_batches_homogeneous() -> None:
    us = units(64)
    grouped = UnitStream(us, seed=0, batch_size=8).take(64)
    spread = [
        max(b) - min(b)
        for b in ([u.num_tokens for u in grouped[i : i + 8]] for i in range(0, 64, 8))
    ]
    assert max(spread) <= 1  # 64 units, lengths 3..9: sorted inside the window
    plain = UnitStream(us, seed=0, batch_size=8, group_by_length=False).take(64)
    assert sorted(u.id for u in plain) == list(range(64))


def test_state_dict_resumes_exactly() -> None:
    us = units(13)
    a = UnitStream(us, seed=1, batch_size=5)
    a.take(17)
    state = a.state_dict()
    b = UnitStream(us, seed=1, batch_size=5)
    b.load_state_dict(state)
    assert [u.id for u in a.take(20)] == [u.id for u in b.take(20)]


def test_refill_drops_low_factor_units_and_fills_the_batch() -> None:
    us = units(20)
    factors = {u.id: (0.0 if u.id % 3 == 0 else 0.5) for u in us}
    probed: list[int] = []

    def probe(cands: list[Unit]) -> torch.Tensor:
        probed.append(len(cands))
        return torch.tensor([factors[u.id] for u in cands])

    stream = UnitStream(us, seed=0, batch_size=6, group_by_length=False)
    order = [u.id for u in UnitStream(us, seed=0, batch_size=6, group_by_length=False).take(40)]
    got = next_batch(stream, 6, probe, epsilon=1e-3)
    assert len(got.units) == 6 and all(u.id % 3 for u in got.units)
    assert got.factors is not None and got.factors.tolist() == [0.5] * 6
    consumed = order[: got.probed]
    assert [u.id for u in got.units] == [i for i in consumed if i % 3]  # stream order kept
    assert got.discarded == sum(1 for i in consumed if i % 3 == 0) > 0
    assert probed[0] == 6 and sum(probed) == got.probed  # refills ask only for what is missing
    # without a probe nothing is weighed or dropped
    plain = next_batch(UnitStream(us, seed=0, batch_size=6), 6, None, 1e-3)
    assert len(plain.units) == 6 and plain.discarded == 0 and plain.factors is None


def test_refill_gives_up_when_everything_is_confident() -> None:
    stream = UnitStream(units(5), seed=0, batch_size=4)
    with pytest.raises(AllConfident):
        next_batch(stream, 4, lambda c: torch.zeros(len(c)), epsilon=1e-3)
