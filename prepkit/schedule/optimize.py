"""Personal FSRS-6 parameters: fit them to a learner's reviews, and adopt them only if they predict
that learner's later reviews better than the defaults do.

What is measured (`evaluate`) and why:

- The reviews are put in time order and split in two halves by count: the first half is the past a
  fit may learn from, the second half is the future it is judged on. A split by time, not a
  shuffle, because a fit that has seen a card's later answers would be judged on its own memory.
- A review is *scored* when it lies in the later half and comes at least one whole day (24 hours)
  after the same card's previous review. Same-day repeats are learning steps: FSRS predicts them
  poorly by design (recall is 1.0 within the day) and the benchmark leaves them out too.
- Each scored review's recall is predicted from the card's FULL preceding history, first half
  included, replayed with the parameters under test. Elapsed time is whole 24-hour periods,
  as `fsrs.Scheduler` (and so prepkit's scheduler) counts it, and the replay is py-fsrs 6.3.2's
  arithmetic in float64 (`prepkit.schedule.memory.Memory`): the figure is what prepkit itself
  would have predicted with these parameters. On the public log in shared/data/review-logs this
  reproduces the planning notes' defaults figure, 0.4399, to four places.
- Log loss is the mean binary cross-entropy of those predictions (recalled = any grade but
  Again). RMSE(bins) is the FSRS benchmark's calibration figure: the scored reviews are grouped
  by elapsed days, review count and lapse count (log-spaced bins, as srs-benchmark's
  `rmse_matrix`), and it is the root of the count-weighted mean squared gap between mean
  predicted and observed recall per group.

The fit itself is fsrs-rs's (`fsrs_rs_python.FSRS.compute_parameters`, no torch), on items built
the fsrs-rs way: one item per review that has a predecessor, holding the card's history up to
and including it, with day-level `delta_t` (0 for the first review and same-day repeats); only
items that end on a review at least a day after the previous one are trained on, as Anki does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import fsrs_rs_python as rs
from fsrs.scheduler import DEFAULT_PARAMETERS, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS

from prepkit.schedule.memory import Memory

DAY_MS = 86_400_000
PARAMETER_COUNT = 21
MIN_REVIEWS = 100  # fewer and a fit is noise; Anki's manual asks for "a few hundred"
MIN_SCORED = 50  # long-term reviews needed in each half: to learn from, and to judge on
RMSE_MARGIN = 0.005  # how much worse calibration may get while log loss improves (see `decide`)
_CLIP = 1e-4  # predictions are kept inside (0, 1) so one confident miss cannot cost infinity

Elapsed = Callable[[int, int], int]  # (previous review ms, this review ms) -> whole days


@dataclass(frozen=True, slots=True)
class Answer:
    """One review as the optimizer needs it: which card, when (epoch ms, UTC), which grade."""

    card: str
    at_ms: int
    rating: int  # 1 Again .. 4 Easy


@dataclass(frozen=True, slots=True)
class Case:
    """A review with a predecessor, and the card's history up to and including it.

    `history` holds (rating, days since the previous review) pairs, the first with 0 days."""

    at_ms: int
    history: tuple[tuple[int, int], ...]

    @property
    def days(self) -> int:
        return self.history[-1][1]

    @property
    def recalled(self) -> bool:
        return self.history[-1][0] > 1


@dataclass(frozen=True, slots=True)
class Metrics:
    log_loss: float
    rmse_bins: float
    reviews: int  # how many reviews were scored


@dataclass(frozen=True, slots=True)
class Result:
    """What `optimize` found: the held-out figures of both parameter sets and the verdict."""

    reviews: int
    cards: int
    split_ms: int  # the first instant of the later half
    default: Metrics
    fitted: Metrics
    fitted_parameters: tuple[float, ...]  # fitted on the first half: the set that was judged
    adopted: bool
    parameters: tuple[float, ...] | None  # fitted on every review, when adopted


class NotEnoughReviews(ValueError):
    """Too little history for a fit to mean anything; the message says what is missing."""


def whole_days(previous_ms: int, at_ms: int) -> int:
    """Elapsed 24-hour periods, as `fsrs.Scheduler` counts them (a review 23 hours later is 0)."""
    return max(0, (at_ms - previous_ms) // DAY_MS)


def study_days(zone: ZoneInfo, day_start_hour: int) -> Elapsed:
    """Elapsed study days, as Anki and fsrs-rs count them: calendar days in the learner's zone,
    each starting at `day_start_hour` (an answer at 23:00 and one at 05:00 are a day apart).

    prepkit's scheduler counts whole 24-hour periods instead (`whole_days`), so that is what the
    command fits and judges with; this is here so a benchmark can report the other convention."""

    def day(ms: int) -> int:
        local = datetime.fromtimestamp(ms / 1000, UTC).astimezone(zone)
        return (local - timedelta(hours=day_start_hour)).date().toordinal()

    def elapsed(previous_ms: int, at_ms: int) -> int:
        return max(0, day(at_ms) - day(previous_ms))

    return elapsed


def in_order(answers: Iterable[Answer]) -> list[Answer]:
    """Answers by time; a stable sort keeps the given order of answers at the same instant."""
    return sorted(answers, key=lambda a: a.at_ms)


def cases(answers: Sequence[Answer], elapsed: Elapsed = whole_days) -> list[Case]:
    """One case per answer that has an earlier answer on the same card, in time order."""
    histories: dict[str, list[tuple[int, int]]] = {}
    last_ms: dict[str, int] = {}
    out: list[Case] = []
    for answer in in_order(answers):
        history = histories.setdefault(answer.card, [])
        days = elapsed(last_ms[answer.card], answer.at_ms) if history else 0
        history.append((answer.rating, days))
        last_ms[answer.card] = answer.at_ms
        if len(history) >= 2:
            out.append(Case(answer.at_ms, tuple(history)))
    return out


def split_ms(answers: Sequence[Answer]) -> int:
    """The instant of the first answer of the later half (half the answers, by count, in time)."""
    ordered = in_order(answers)
    return ordered[len(ordered) // 2].at_ms


def check_enough(answers: Sequence[Answer], elapsed: Elapsed = whole_days) -> None:
    """Raise `NotEnoughReviews` unless each half holds enough long-term reviews to mean anything."""
    if len(answers) < MIN_REVIEWS:
        raise NotEnoughReviews(
            f"{len(answers)} reviews: personal parameters need at least {MIN_REVIEWS} "
            "(keep studying with the defaults and try again later)"
        )
    cut = split_ms(answers)
    scored = [c for c in cases(answers, elapsed) if c.days > 0]
    early = sum(1 for c in scored if c.at_ms < cut)
    late = len(scored) - early
    if min(early, late) < MIN_SCORED:
        raise NotEnoughReviews(
            f"{len(scored)} reviews came a day or more after the card's previous one "
            f"({early} in the earlier half, {late} in the later): personal parameters need "
            f"at least {MIN_SCORED} in each half (keep studying and try again later)"
        )


def fit(
    answers: Sequence[Answer], elapsed: Elapsed = whole_days, before_ms: int | None = None
) -> tuple[float, ...]:
    """FSRS-6 parameters fitted by fsrs-rs to the answers given before `before_ms` (all of them
    by default), kept inside py-fsrs's bounds so that `fsrs.Scheduler` accepts them."""
    items = [
        rs.FSRSItem([rs.FSRSReview(rating, days) for rating, days in case.history])
        for case in cases(answers, elapsed)
        if case.days > 0 and (before_ms is None or case.at_ms < before_ms)
    ]
    if not items:  # fsrs-rs panics (a BaseException) on an empty or same-day-only set
        raise NotEnoughReviews("no review came a day or more after the card's previous one")
    fitted = rs.FSRS(list(DEFAULT_PARAMETERS)).compute_parameters(items)
    return bounded(fitted)


def bounded(parameters: Sequence[float]) -> tuple[float, ...]:
    """Parameters clamped to py-fsrs's bounds and rounded to 6 places (fsrs-rs works in float32,
    so the places beyond carry nothing); refuses anything but 21 finite numbers."""
    values = tuple(float(p) for p in parameters)
    if len(values) != PARAMETER_COUNT or not all(math.isfinite(v) for v in values):
        raise ValueError(f"FSRS-6 takes {PARAMETER_COUNT} finite parameters")
    bounds = zip(values, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS, strict=True)
    return tuple(round(min(max(v, low), high), 6) for v, low, high in bounds)


def predict(memory: Memory, history: Sequence[tuple[int, int]]) -> float:
    """Recall of the last review of `history` predicted from the ones before it, as py-fsrs would
    update the card: the first sets the initial state, same-day repeats use the short-term
    formula, later ones the recall or forget formula at the recall they came at."""
    stability = difficulty = 0.0
    for index, (rating, days) in enumerate(history[:-1]):
        if index == 0:
            stability = memory.initial_stability(rating)
            difficulty = memory.initial_difficulty(rating)
            continue
        if days < 1:
            stability = memory.short_term_stability(stability, rating)
        else:
            recall = memory.recall(days, stability)
            stability = (
                memory.recall_stability(difficulty, stability, recall, rating)
                if rating > 1
                else memory.forget_stability(difficulty, stability, recall)
            )
        difficulty = memory.next_difficulty(difficulty, rating)
    return memory.recall(history[-1][1], stability)


def measure(parameters: Sequence[float], scored: Sequence[Case]) -> Metrics:
    """Log loss and RMSE(bins) of the parameters' predictions for `scored` (see the module)."""
    memory = Memory(parameters)
    total = 0.0
    bins: dict[tuple[float, float, float], list[float]] = {}
    for case in scored:
        p = min(max(predict(memory, case.history), _CLIP), 1 - _CLIP)
        y = 1.0 if case.recalled else 0.0
        total -= math.log(p if case.recalled else 1 - p)
        into = bins.setdefault(_bin(case.history), [0.0, 0.0, 0.0])
        into[0] += p
        into[1] += y
        into[2] += 1
    n = len(scored)
    if not n:
        return Metrics(math.nan, math.nan, 0)
    squared = sum((p - y) ** 2 / count for p, y, count in bins.values())  # count * (gap/count)^2
    return Metrics(total / n, math.sqrt(squared / n), n)


def _bin(history: Sequence[tuple[int, int]]) -> tuple[float, float, float]:
    """srs-benchmark's `rmse_matrix` groups: log-spaced elapsed days, review count and lapses
    (counting the reviews a day or more apart, the current one included in the count)."""
    days = history[-1][1]
    earlier = history[:-1]
    count = 1 + sum(1 for _, d in earlier if d > 0) + 1  # the first review, earlier ones, this one
    lapses = sum(1 for rating, d in earlier if d > 0 and rating == 1)
    return (
        round(2.48 * 3.62 ** math.floor(math.log(days) / math.log(3.62)), 2),
        round(1.99 * 1.89 ** math.floor(math.log(count) / math.log(1.89))),
        round(1.65 * 1.73 ** math.floor(math.log(lapses) / math.log(1.73))) if lapses else 0,
    )


def held_out(answers: Sequence[Answer], elapsed: Elapsed = whole_days) -> list[Case]:
    """The scored reviews: in the later half, and a day or more after the card's previous one."""
    cut = split_ms(answers)
    return [c for c in cases(answers, elapsed) if c.days > 0 and c.at_ms >= cut]


def evaluate(
    parameters: Sequence[float], answers: Sequence[Answer], elapsed: Elapsed = whole_days
) -> Metrics:
    """The parameters' log loss and RMSE(bins) on the later half of `answers` (see the module)."""
    return measure(parameters, held_out(answers, elapsed))


def decide(default: Metrics, fitted: Metrics) -> bool:
    """Adopt the fitted parameters only when they predict the held-out reviews better.

    Log loss decides, because it is a proper scoring rule: it rewards predictions that are both
    sharp and honest. RMSE(bins) is a coarse calibration check over a few dozen groups that
    wobbles on a few thousand reviews, so it only vetoes: fitted parameters whose RMSE(bins) is
    more than RMSE_MARGIN (half a point of recall) worse are not adopted even with a lower log
    loss. A tie keeps the defaults: a change must earn its place."""
    if not (math.isfinite(fitted.log_loss) and math.isfinite(default.log_loss)):
        return False
    return (
        fitted.log_loss < default.log_loss and fitted.rmse_bins <= default.rmse_bins + RMSE_MARGIN
    )


def optimize(
    answers: Sequence[Answer],
    elapsed: Elapsed = whole_days,
    default_parameters: Sequence[float] = DEFAULT_PARAMETERS,
) -> Result:
    """Fit on the earlier half, judge both parameter sets on the later half, and when the fit
    wins, refit on every review: the verdict is on the procedure (this learner's history beats
    the population's medians), and the parameters adopted should use all of that history."""
    check_enough(answers, elapsed)
    cut = split_ms(answers)
    scored = held_out(answers, elapsed)
    judged = fit(answers, elapsed, before_ms=cut)
    default = measure(default_parameters, scored)
    fitted = measure(judged, scored)
    adopted = decide(default, fitted)
    return Result(
        reviews=len(answers),
        cards=len({a.card for a in answers}),
        split_ms=cut,
        default=default,
        fitted=fitted,
        fitted_parameters=judged,
        adopted=adopted,
        parameters=fit(answers, elapsed) if adopted else None,
    )


def relative_change(before: float, after: float) -> float:
    """(after - before) / before: -0.012 is 1.2% lower."""
    return (after - before) / before if before else math.nan
