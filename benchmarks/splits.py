"""A seeded random split like LeanDojo's: fixed-size test and validation sets,
the rest for training.

LeanDojo's random split holds out a fixed number of theorems (2,000 each of
~98k); here the defaults are 1,000 test and 500 validation theorems, scaled
down for small corpora so that at least ``1 - MAX_HELD_OUT`` of the theorems
stay in train. The split depends only on the seed and the theorems' keys
(not on their order), so re-tracing a library reproduces it.
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

TEST, VAL, TRAIN = "test", "val", "train"
SPLITS = (TRAIN, VAL, TEST)
# miniF2F (Lean and Coq) calls its validation half "valid".
SPLIT_ALIASES = {"valid": VAL}


def split_arg(text: str) -> str | None:
    """A ``--split`` value: ``all`` is every split (None), ``valid`` is val."""
    return None if text == "all" else SPLIT_ALIASES.get(text, text)


def split_name(split: str | None) -> str | None:
    """The canonical name of a split (``None``: every split). An unknown name
    is an error rather than an empty selection."""
    if split is None:
        return None
    name = SPLIT_ALIASES.get(split, split)
    if name not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
    return name


MAX_HELD_OUT = 0.3  # the largest fraction of a corpus that test + val may take


@dataclass(frozen=True)
class SplitConfig:
    seed: int = 0
    test_size: int = 1000
    val_size: int = 500


def split_sizes(n: int, config: SplitConfig) -> tuple[int, int]:
    """(test, val) sizes for a corpus of ``n`` theorems."""
    wanted = config.test_size + config.val_size
    if wanted <= MAX_HELD_OUT * n:
        return config.test_size, config.val_size
    held_out = int(MAX_HELD_OUT * n)
    test = min(config.test_size, round(held_out * config.test_size / max(wanted, 1)))
    if n >= 2 and config.test_size > 0:
        test = max(test, 1)  # a benchmark with theorems always has something to test on
    val = min(config.val_size, max(held_out - test, 0))
    return test, val


def assign_splits(keys: Sequence[Hashable], config: SplitConfig) -> list[str]:
    """The split of each key, in the order given. Keys must be distinct and
    sortable (e.g. ``(name, file, offset)`` tuples)."""
    ordered = sorted(range(len(keys)), key=lambda i: keys[i])  # type: ignore[arg-type,return-value]
    random.Random(config.seed).shuffle(ordered)
    test, val = split_sizes(len(keys), config)
    splits = [TRAIN] * len(keys)
    for rank, i in enumerate(ordered):
        if rank < test:
            splits[i] = TEST
        elif rank < test + val:
            splits[i] = VAL
    return splits
