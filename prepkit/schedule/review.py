"""FSRS answers through the `fsrs` package, on prepkit's own immutable card state.

The `fsrs` package has no "new" state (a new card is Learning at step 0 with no memory) and keeps
no counts; prepkit stores both, because faces and stats need them. `Reviewer.preview` works out
all four outcomes when a card is shown, as Anki's v3 scheduler does, so a face can print the next
interval over each grade and the state that is saved is exactly the one that was shown, fuzz
included.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import IntEnum
from random import Random
from random import random as _random

from fsrs import Card as FsrsCard
from fsrs import Rating as FsrsRating
from fsrs import Scheduler
from fsrs import State as FsrsState
from fsrs import scheduler as fsrs_scheduler


class Rating(IntEnum):
    AGAIN = 1
    HARD = 2
    GOOD = 3
    EASY = 4


class State(IntEnum):
    """Card states as stored; NEW is prepkit's, the rest are FSRS's own numbers."""

    NEW = 0
    LEARNING = 1
    REVIEW = 2
    RELEARNING = 3


@dataclass(frozen=True, slots=True)
class CardState:
    """A learner's memory of one card: what FSRS needs, plus the counts faces show."""

    state: State = State.NEW
    step: int | None = None
    stability: float | None = None
    difficulty: float | None = None
    due: datetime | None = None
    last_review: datetime | None = None
    reps: int = 0
    lapses: int = 0


NEW = CardState()


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one grade would do to a card answered at `at`."""

    rating: Rating
    before: CardState
    after: CardState
    at: datetime

    @property
    def interval(self) -> timedelta:
        assert self.after.due is not None
        return self.after.due - self.at

    def shifted(self, at: datetime) -> Outcome:
        """The same outcome, answered at `at` instead: same interval, same memory state.

        A learner reads the card between preview and grade; the interval they were shown stays
        the interval they get, measured from the moment they answered.
        """
        assert self.after.due is not None
        delta = at - self.at
        after = replace(self.after, due=self.after.due + delta, last_review=at)
        return Outcome(self.rating, self.before, after, at)


DEFAULT_LEARNING_STEPS = (timedelta(minutes=1), timedelta(minutes=10))
DEFAULT_RELEARNING_STEPS = (timedelta(minutes=10),)


class Reviewer:
    """An FSRS-6 scheduler configured for one learner."""

    def __init__(
        self,
        desired_retention: float = 0.9,
        parameters: Sequence[float] | None = None,
        learning_steps: Sequence[timedelta] = DEFAULT_LEARNING_STEPS,
        relearning_steps: Sequence[timedelta] = DEFAULT_RELEARNING_STEPS,
        maximum_interval: int = 36500,
        fuzz: bool = True,
    ) -> None:
        if not 0.7 <= desired_retention <= 0.99:
            raise ValueError("desired retention must be between 0.70 and 0.99")
        kwargs: dict[str, object] = {}
        if parameters is not None:
            kwargs["parameters"] = tuple(parameters)
        self.scheduler = Scheduler(
            desired_retention=desired_retention,
            learning_steps=tuple(learning_steps),
            relearning_steps=tuple(relearning_steps),
            maximum_interval=maximum_interval,
            enable_fuzzing=fuzz,
            **kwargs,  # type: ignore[arg-type]
        )

    def review(
        self, state: CardState, rating: Rating, at: datetime, seed: int | None = None
    ) -> Outcome:
        """The outcome of grading a card in `state` with `rating` at instant `at` (aware UTC).

        With a `seed` the interval fuzz is drawn from it (see `fuzz_seed`), so the same card in
        the same state gets the same fuzz each time it is shown.
        """
        with _fuzz_from(seed, rating):
            return self._review(state, to_fsrs(state, at), rating, at)

    def _review(self, state: CardState, card: FsrsCard, rating: Rating, at: datetime) -> Outcome:
        # review_card copies `card`, so one fsrs card serves all four previews.
        reviewed, _log = self.scheduler.review_card(card, FsrsRating(int(rating)), at)
        lapse = state.state is State.REVIEW and rating is Rating.AGAIN
        after = CardState(
            state=State(int(reviewed.state)),
            step=reviewed.step,
            stability=reviewed.stability,
            difficulty=reviewed.difficulty,
            due=reviewed.due,
            last_review=reviewed.last_review,
            reps=state.reps + 1,
            lapses=state.lapses + (1 if lapse else 0),
        )
        return Outcome(rating, state, after, at)

    def preview(
        self, state: CardState, at: datetime, seed: int | None = None
    ) -> tuple[Outcome, Outcome, Outcome, Outcome]:
        """All four outcomes, Again to Easy, computed once when the card is shown."""
        card = to_fsrs(state, at)
        outcomes = []
        for rating in Rating:
            with _fuzz_from(seed, rating):
                outcomes.append(self._review(state, card, rating, at))
        again, hard, good, easy = outcomes
        return again, hard, good, easy

    def retrievability(self, state: CardState, at: datetime) -> float:
        """Probability of recall at `at`; 0 for a card never reviewed."""
        if state.state is State.NEW or state.last_review is None:
            return 0.0
        return float(self.scheduler.get_card_retrievability(to_fsrs(state, at), at))


def fuzz_seed(card_id: int, reps: int) -> int:
    """Anki seeds a card's interval fuzz with its id and review count: showing the same card
    twice in the same state (after an undo, in another session) offers the same intervals, and
    they still differ between cards so that reviews spread out."""
    return card_id * 1_000_003 + reps


class _FuzzStream(threading.local):
    """The seed fsrs's next fuzz draw comes from, per thread (None: the module's own random)."""

    seed: int | None = None


_FUZZ = _FuzzStream()


def _fuzz_draw() -> float:
    """What fsrs.scheduler calls as `random()` (it imports the name; there is no parameter for
    it). The draw is made only when fsrs fuzzes an interval (2.5 days and more), so a learning
    step costs no generator, and each thread has its own seed: a session previews its next card
    on a helper thread, which must never draw from a seed another thread has set."""
    seed = _FUZZ.seed
    if seed is None:
        return _random()
    return Random(seed).random()


fsrs_scheduler.random = _fuzz_draw  # type: ignore[attr-defined]


@contextmanager
def _fuzz_from(seed: int | None, rating: Rating) -> Iterator[None]:
    """Let fsrs draw the fuzz for grading with `rating` from `seed` for the duration. Each grade
    has its own stream, so a preview and a later `review` agree."""
    saved = _FUZZ.seed
    _FUZZ.seed = None if seed is None else seed * 5 + int(rating)
    try:
        yield
    finally:
        _FUZZ.seed = saved


def to_fsrs(state: CardState, at: datetime) -> FsrsCard:
    """The `fsrs` card for a state; the explicit id avoids `fsrs.Card()`'s 1 ms sleep."""
    if state.state is State.NEW:
        return FsrsCard(card_id=1, state=FsrsState.Learning, step=0, due=at)
    return FsrsCard(
        card_id=1,
        state=FsrsState(int(state.state)),
        step=state.step,
        stability=state.stability,
        difficulty=state.difficulty,
        due=state.due or at,
        last_review=state.last_review,
    )


def format_interval(interval: timedelta) -> str:
    """An interval as Anki labels its answer buttons: 1m, 10m, 3h, 4d, 2.5mo, 1.2y."""
    seconds = max(0.0, interval.total_seconds())
    if seconds < 60:
        return f"{round(seconds)}s"
    minutes = seconds / 60
    if minutes < 60:
        return f"{round(minutes)}m"
    hours = minutes / 60
    if hours < 24:
        return f"{round(hours)}h"
    days = hours / 24
    if days < 30:
        return f"{round(days)}d"
    if days < 365:
        return _trim(days / 30) + "mo"
    return _trim(days / 365) + "y"


def _trim(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")
