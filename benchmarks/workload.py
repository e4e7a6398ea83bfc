"""The benchmark workload both sides share: texts, grades and percentiles, drawn from one seed.

benchmarks/review.py (prepkit) and benchmarks/anki_side.py (Anki's backend) import these, so the
two sides load identical texts and give identical grades for the same seed.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

FRONT_CHARS = 80
BACK_CHARS = 300
WORDS = (
    "gradient tensor kernel shard bucket stream memory bandwidth latency cache warp register "
    "attention optimizer pipeline collective checkpoint throughput compiler fusion schedule "
    "activation precision quantize embedding parameter batch sequence allocator profiler graph"
).split()
# Grades (1 Again, 2 Hard, 3 Good, 4 Easy) and their weights: ~85% Good, ~10% Again, ~3% Hard,
# ~2% Easy.
RATINGS = (3, 1, 2, 4)
RATING_WEIGHTS = (85, 10, 3, 2)


def sentence(rng: random.Random, length: int) -> str:
    """Deterministic filler text of about `length` characters."""
    words: list[str] = []
    size = 0
    while size < length:
        word = rng.choice(WORDS)
        words.append(word)
        size += len(word) + 1
    return " ".join(words)[:length].rstrip() + "?"


def card_texts(cards: int, seed: int = 0) -> list[tuple[str, str]]:
    """(front, back) pairs of ~80 and ~300 characters, front then back, card by card."""
    rng = random.Random(seed)
    return [(sentence(rng, FRONT_CHARS), sentence(rng, BACK_CHARS)) for _ in range(cards)]


def ratings(count: int, seed: int = 0) -> list[int]:
    """The grades to give, in order."""
    return random.Random(seed + 1).choices(RATINGS, weights=RATING_WEIGHTS, k=count)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Percentile by rounded rank (the 198th of 200 at 0.99)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]
