"""The benchmark workload both sides share: texts, grades and percentiles, drawn from one seed.

benchmarks/review.py (prepkit) and benchmarks/anki_side.py (Anki's backend) import these, so the
two sides load identical texts and give identical grades for the same seed.

Both sides take their texts from `CardTexts`, which makes them a batch of 1,000 at a time as the
bulk load consumes them. Until 2026-11-28 each side made the whole list before loading: at
100,000 cards that is about 55 MB of input, not either tool's memory, held in both processes
through the load. Measured at 100,000 cards, peak RSS went from 110.7 to 57.3 MB on prepkit's
side and from 242 to 210 MB on Anki's. The texts are the ones `card_texts` gives, in the same
order. Making them takes 1.2-1.7 s at 100,000 cards, now inside the load loop; each side
subtracts `CardTexts.seconds` from its bulk-load time, so it is left out of both, as it was when
the list was made before the timer started.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence

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
    return list(CardTexts(cards, seed))


class CardTexts:
    """`card_texts` made a batch at a time as they are iterated; `seconds` is the time spent
    making them so far, for a timed loader to leave out."""

    def __init__(self, cards: int, seed: int = 0, batch: int = 1000) -> None:
        self.cards = cards
        self.seed = seed
        self.batch = batch
        self.seconds = 0.0

    def __iter__(self) -> Iterator[tuple[str, str]]:
        rng = random.Random(self.seed)
        for start in range(0, self.cards, self.batch):
            started = time.perf_counter()
            pairs = [
                (sentence(rng, FRONT_CHARS), sentence(rng, BACK_CHARS))
                for _ in range(min(self.batch, self.cards - start))
            ]
            self.seconds += time.perf_counter() - started
            yield from pairs


def ratings(count: int, seed: int = 0) -> list[int]:
    """The grades to give, in order."""
    return random.Random(seed + 1).choices(RATINGS, weights=RATING_WEIGHTS, k=count)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Percentile by rounded rank (the 198th of 200 at 0.99)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]
