"""The arithmetic behind progress screens: study-day calendars, streaks, intervals, recall.

Everything here is pure (numbers, dates and zones in; numbers out) so that the service that reads
the database (prepkit/progress.py) stays a thin layer of queries, and so that the definitions a
learner sees on a dashboard are tested on their own:

- A study day starts at a local hour (`day_start_hour`, 4 am by default) in the learner's zone,
  as in prepkit/schedule/days.py; it is named by the local date it starts on.
- The forgetting curve is FSRS-6's, computed exactly as the `fsrs` package computes it, so a
  readiness figure and the scheduler never disagree about the same card; it is written out here
  because calling `fsrs` once per card costs ~10 us of object building, too much for 100,000
  cards on every dashboard refresh.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from prepkit.schedule.days import day_start

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# -- study days --------------------------------------------------------------------------------


def study_date(instant: datetime, tz: ZoneInfo, hour: int) -> date:
    """The study day `instant` belongs to: 03:00 local with a 4 am day start is yesterday."""
    return day_start(instant, tz, hour).astimezone(tz).date()


def day_starts(first: date, last: date, tz: ZoneInfo, hour: int) -> list[int]:
    """Epoch ms of the start of each study day from `first` to `last`, plus the end of `last`.

    `len(result) == days + 1`, so day `i` is `[result[i], result[i + 1])`. Built from local dates
    (not by adding 24 hours), so a day that crosses a daylight-saving change is 23 or 25 hours.
    """
    starts: list[int] = []
    day = first
    while day <= last + timedelta(days=1):
        start = datetime.combine(day, time(hour), tzinfo=tz).astimezone(UTC)
        delta = start - _EPOCH
        starts.append((delta.days * 86_400 + delta.seconds) * 1000)
        day += timedelta(days=1)
    return starts


def bucket_ms(boundaries: Iterable[int]) -> int:
    """The widest bucket (at most an hour) that never straddles one of `boundaries`.

    The database groups instants by `ms // bucket` and Python sorts the few resulting buckets
    into study days: exact, because every boundary is a multiple of the bucket (an hour in most
    zones, 30 or 15 minutes in India or Nepal), and far cheaper than shipping every row.
    """
    return math.gcd(HOUR_MS, *boundaries)


def per_day(
    buckets: Iterable[tuple[int, Sequence[int | None]]],
    starts: Sequence[int],
    size: int,
    width: int,
    clamp_before: bool = False,
) -> list[list[int]]:
    """Sum the `width` counts of `(bucket, counts)` rows into the days that `starts` delimit.

    Buckets past the last day are dropped; buckets before the first day are dropped too, unless
    `clamp_before`, which adds them to the first day (overdue cards are due today).
    """
    days = len(starts) - 1
    totals = [[0] * width for _ in range(days)]
    for bucket, counts in buckets:
        index = bisect_right(starts, bucket * size) - 1
        if index < 0:
            if not clamp_before:
                continue
            index = 0
        if index >= days:
            continue
        into = totals[index]
        for i, count in enumerate(counts):
            into[i] += int(count or 0)
    return totals


def streaks(studied: Sequence[bool]) -> tuple[int, int]:
    """(current, longest) runs of study days, `studied` oldest first and ending today.

    The current streak ends today, or yesterday while today has no review yet: a learner who
    studies every evening has not broken their streak at breakfast.
    """
    end = len(studied) - 1
    if end >= 0 and not studied[end]:
        end -= 1
    current = 0
    while end >= 0 and studied[end]:
        current += 1
        end -= 1
    longest = run = 0
    for day in studied:
        run = run + 1 if day else 0
        longest = max(longest, run)
    return current, longest


# -- intervals ---------------------------------------------------------------------------------

# (label, smallest interval in days). Anki's interval graph groups by day, week and month; these
# buckets keep its landmarks at the scale an interview preparation spans: 1-2 days (cards just
# graduated or lapsed), the first week, the second, the rest of the first month, then months. A
# month is 30 days, as in `format_interval`. Each bucket runs up to the next one's lower bound.
INTERVAL_BUCKETS: tuple[tuple[str, int], ...] = (
    ("1d", 0),
    ("2d", 2),
    ("3-6d", 3),
    ("1-2w", 7),
    ("2-4w", 14),
    ("1-3mo", 30),
    ("3-6mo", 90),
    ("6mo+", 180),
)


def interval_bucket(days: float) -> int:
    """The index in INTERVAL_BUCKETS of an interval of `days` (fractions round down)."""
    lows = [low for _, low in INTERVAL_BUCKETS]
    return max(0, bisect_right(lows, days) - 1)


# -- recall ------------------------------------------------------------------------------------


def ratio(part: int, whole: int) -> float | None:
    """part / whole, or None when there is nothing to divide (no reviews is not 0% retention)."""
    return part / whole if whole else None


def weighted_mean(values: Iterable[tuple[float, float]]) -> float | None:
    """Sum of value * weight over the sum of weights, or None when the weights sum to nothing."""
    total = weight_sum = 0.0
    for value, weight in values:
        total += value * weight
        weight_sum += weight
    return total / weight_sum if weight_sum > 0 else None


class ForgettingCurve:
    """FSRS-6 probability of recall: R(t) = (1 + factor * t / S) ** -w20, t in whole days.

    The same operations in the same order as `fsrs.Scheduler.get_card_retrievability`, so the
    floats are identical (tests/test_progress.py checks hundreds of random states): elapsed time
    counts whole days since the last review (a review earlier today is 0 days old, so a card
    just answered is at R = 1), never negative.
    """

    __slots__ = ("decay", "factor")

    def __init__(self, parameters: Sequence[float]) -> None:
        self.decay = -parameters[20]
        self.factor = 0.9 ** (1 / self.decay) - 1

    def retrievability(
        self, stability: float | None, last_review_ms: int | None, at_ms: int
    ) -> float:
        """R at `at_ms` of a card last reviewed at `last_review_ms`; 0 without a memory state."""
        if stability is None or last_review_ms is None:
            return 0.0
        elapsed = max(0, (at_ms - last_review_ms) // DAY_MS)
        return float((1 + self.factor * elapsed / stability) ** self.decay)
