"""FSRS-6 memory arithmetic at day resolution, for planning thousands of futures quickly.

The planner asks "if this card is reviewed on day x, what is its recall on the interview
morning?" tens of thousands of times per plan. The `fsrs` package answers one review in ~25 us
of object copying; these are the same formulas (py-fsrs 6.3.2 `Scheduler`, written out in the
same order so the floats agree, which tests/test_planner.py checks against the package) on
plain floats. Elapsed time is whole days, as fsrs counts it: a review earlier the same day is 0
days old, and a same-day repeat uses the short-term stability formula.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from fsrs.scheduler import DEFAULT_PARAMETERS

MIN_DIFFICULTY = 1.0
MAX_DIFFICULTY = 10.0
STABILITY_MIN = 0.001


class Memory:
    """FSRS-6 with one parameter set: stability, difficulty, recall and intervals."""

    __slots__ = ("decay", "easy", "factor", "w")

    def __init__(self, parameters: Sequence[float] = DEFAULT_PARAMETERS) -> None:
        if len(parameters) != 21:
            raise ValueError("FSRS-6 takes 21 parameters")
        self.w = tuple(float(p) for p in parameters)
        self.decay = -self.w[20]
        self.factor = 0.9 ** (1 / self.decay) - 1
        self.easy = self.initial_difficulty(4, clamp=False)  # the mean-reversion target

    def recall(self, elapsed_days: float, stability: float) -> float:
        """Probability of recall `elapsed_days` whole days after the last review."""
        return float((1 + self.factor * max(0.0, elapsed_days) / stability) ** self.decay)

    def interval(self, stability: float, retention: float, maximum: int = 36500) -> int:
        """Days until recall falls to `retention` (at least 1), as fsrs rounds it."""
        days = float((stability / self.factor) * ((retention ** (1 / self.decay)) - 1))
        return min(max(round(days), 1), maximum)

    def initial_stability(self, rating: int) -> float:
        return max(self.w[rating - 1], STABILITY_MIN)

    def initial_difficulty(self, rating: int, clamp: bool = True) -> float:
        value = self.w[4] - (math.e ** (self.w[5] * (rating - 1))) + 1
        return _clamp(value) if clamp else value

    def next_difficulty(self, difficulty: float, rating: int) -> float:
        delta = -(self.w[6] * (rating - 3))
        damped = difficulty + (10.0 - difficulty) * delta / 9.0
        return _clamp(self.w[7] * self.easy + (1 - self.w[7]) * damped)

    def short_term_stability(self, stability: float, rating: int) -> float:
        """A repeat on the same day (a learning or relearning step)."""
        w = self.w
        increase = float((math.e ** (w[17] * (rating - 3 + w[18]))) * (stability ** -w[19]))
        if rating >= 2:
            increase = max(increase, 1.0)
        return max(stability * increase, STABILITY_MIN)

    def recall_stability(
        self, difficulty: float, stability: float, retrievability: float, rating: int
    ) -> float:
        """Stability after a successful review (Hard, Good or Easy) on a later day."""
        w = self.w
        hard_penalty = w[15] if rating == 2 else 1
        easy_bonus = w[16] if rating == 4 else 1
        value: float = stability * (
            1
            + (math.e ** (w[8]))
            * (11 - difficulty)
            * (stability ** -w[9])
            * ((math.e ** ((1 - retrievability) * w[10])) - 1)
            * hard_penalty
            * easy_bonus
        )
        return max(value, STABILITY_MIN)

    def forget_stability(self, difficulty: float, stability: float, retrievability: float) -> float:
        """Stability after a lapse (Again) on a later day."""
        w = self.w
        long_term: float = (
            w[11]
            * (difficulty ** -w[12])
            * (((stability + 1) ** (w[13])) - 1)
            * (math.e ** ((1 - retrievability) * w[14]))
        )
        short_term = float(stability / (math.e ** (w[17] * w[18])))
        return max(min(long_term, short_term), STABILITY_MIN)


def _clamp(difficulty: float) -> float:
    return min(max(difficulty, MIN_DIFFICULTY), MAX_DIFFICULTY)
