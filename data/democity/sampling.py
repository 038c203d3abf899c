"""Weighted draws shared by the demo city's generators."""

from __future__ import annotations

import random
from collections.abc import Sequence


def pick(rng: random.Random, table: Sequence[tuple[str, float]]) -> str:
    """One value of ``table`` ((value, probability) pairs) drawn with ``rng``; the first on rounding slack."""
    r = rng.random()
    for value, p in table:
        r -= p
        if r < 0:
            return value
    return table[0][0]
