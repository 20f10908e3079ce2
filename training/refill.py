"""An endless, resumable stream of training units and the threshold refill.

:class:`UnitStream` walks the units epoch after epoch, each epoch in its own
seeded order, so its whole state is two integers (epoch, position) and a
resumed run continues with exactly the units it would have seen. Units of
similar length are grouped into nearby positions (sorted inside windows of a
few batches, then the batch-sized blocks shuffled) so that a batch carries
little padding.

:func:`next_batch` is the refill: candidates are weighed with the current
model (the loss's no-grad probe), those whose factor F is below epsilon are
discarded and replaced by the next units of the stream until the batch is
full, so every optimizer step sees ``batch_size`` units that matter. A batch
may span the end of an epoch (leftovers carry over). Discards are counted.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from lean_env.errors import UserError

from .data import Unit

WINDOW_BATCHES = 32  # length grouping works inside windows of this many batches


class UnitStream:
    def __init__(
        self, units: Sequence[Unit], seed: int, batch_size: int, group_by_length: bool = True
    ) -> None:
        if not units:
            raise UserError("no training examples: the benchmark's train split has no steps")
        self.units = list(units)
        self.seed, self.batch_size, self.group = seed, batch_size, group_by_length
        self.epoch, self.pos = 0, 0
        self._order = self._epoch_order(0)

    def _epoch_order(self, epoch: int) -> list[int]:
        rng = random.Random(f"{self.seed}:{epoch}")
        order = list(range(len(self.units)))
        rng.shuffle(order)
        if not self.group:
            return order
        window = self.batch_size * WINDOW_BATCHES
        out: list[int] = []
        for start in range(0, len(order), window):
            chunk = sorted(order[start : start + window], key=lambda i: self.units[i].num_tokens)
            blocks = [chunk[i : i + self.batch_size] for i in range(0, len(chunk), self.batch_size)]
            rng.shuffle(blocks)
            out.extend(i for block in blocks for i in block)
        return out

    def take(self, k: int) -> list[Unit]:
        out = []
        for _ in range(k):
            if self.pos == len(self._order):
                self.epoch, self.pos = self.epoch + 1, 0
                self._order = self._epoch_order(self.epoch)
            out.append(self.units[self._order[self.pos]])
            self.pos += 1
        return out

    @property
    def epochs_done(self) -> float:
        return self.epoch + self.pos / len(self.units)

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "pos": self.pos}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.epoch, self.pos = int(state["epoch"]), int(state["pos"])
        if not 0 <= self.pos <= len(self.units):
            raise UserError(
                f"data position {self.pos} is outside the {len(self.units)} training units"
            )
        self._order = self._epoch_order(self.epoch)


class AllConfident(Exception):
    """Every unit of a whole pass over the data was below epsilon: nothing is
    left to train on (the model is confident on all of it)."""


@dataclass
class Refilled:
    units: list[Unit]
    factors: torch.Tensor | None  # the probe's factors of the accepted units
    discarded: int
    probed: int


def next_batch(
    stream: UnitStream,
    batch_size: int,
    probe: Callable[[list[Unit]], torch.Tensor] | None,
    epsilon: float,
) -> Refilled:
    """A full batch; ``probe`` maps candidate units to their factors (None:
    no weighing, take the next ``batch_size`` units)."""
    if probe is None:
        return Refilled(stream.take(batch_size), None, 0, 0)
    accepted: list[Unit] = []
    kept: list[torch.Tensor] = []
    discarded = probed = 0
    while len(accepted) < batch_size:
        candidates = stream.take(batch_size - len(accepted))
        f = probe(candidates).detach().float().cpu()
        probed += len(candidates)
        keep = f >= epsilon
        accepted.extend(u for u, k in zip(candidates, keep.tolist(), strict=True) if k)
        kept.append(f[keep])
        discarded += int((~keep).sum())
        if discarded >= len(stream.units) and len(accepted) < batch_size:
            raise AllConfident(
                f"{discarded} candidates discarded while filling one batch, as many as "
                f"the {len(stream.units)} training units: the model is confident on all "
                f"of them (factor < {epsilon})"
            )
    return Refilled(accepted, torch.cat(kept), discarded, probed)
