"""A simulated learner for judging study plans, whose memory is computed by the `fsrs` package.

The learner's true memory is FSRS-6 with the package's default parameters: one `fsrs.Card` per
card, updated by `fsrs.Scheduler.review_card` (no fuzz). At every answer the learner recalls with
the card's true retrievability (`Scheduler.get_card_retrievability`), drawn from a seeded
`random.Random`; the planner's own arithmetic is never used here. Ratings and time costs are
fsrs-optimizer's simulator defaults (reference srs.md 4.1): a new card's first rating is drawn
from `FIRST_RATING_PROB` and costs `LEARN_COSTS[rating]` seconds; a review fails with Again or
succeeds with Hard/Good/Easy drawn from `REVIEW_RATING_PROB`, and costs `REVIEW_COSTS[rating]`.

Days. Day 0 is `start`; the learner studies once a day from 09:00 UTC: first the reviews the
policy asked for, in its order, then its new cards, then the learning and relearning steps that
fall due the same day (1m/10m and 10m, the scheduler's defaults), each step costing the review
cost of its rating. Steps that fall due while the main queue is still running are answered first,
as Anki does. A day's study stops when its minutes are used up: the answer under way finishes, so
a day can run over by at most one answer (`DayLog.seconds` reports what was really spent).

Elapsed days are counted as Anki counts them, by study day: a card answered at any time on day d
is one day old on day d + 1, at whatever hour. The `fsrs` package counts whole 24-hour periods
(`timedelta.days`), so a card that graduated at 09:40 would be 0 days old at 09:05 the next
morning; to keep the package's arithmetic and Anki's day count in agreement, the true card's
`last_review` is set to 09:00 of the day it was answered. Due times stay the real instants. The
interview is the morning of day T: recall is measured at day T 09:00, as the weighted mean over
all cards of the true retrievability (0 for a card never introduced).

Policies see what prepkit would store: a `CardState` per card (None for a card never
introduced) whose `last_review` is the real instant of the last answer.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from random import Random
from typing import Protocol

from fsrs import Card as FsrsCard
from fsrs import Rating as FsrsRating
from fsrs import Scheduler
from fsrs import State as FsrsState

from prepkit.schedule.review import CardState, State

# fsrs-optimizer's simulator defaults (fsrs_simulator.py, srs.md 4.1).
FIRST_RATING_PROB = (0.24, 0.094, 0.495, 0.171)  # Again, Hard, Good, Easy
REVIEW_RATING_PROB = (0.224, 0.631, 0.145)  # Hard, Good, Easy, given recall
LEARN_COSTS = (33.79, 24.3, 13.68, 6.5)  # seconds, by first rating
REVIEW_COSTS = (23.0, 11.68, 7.33, 5.6)  # seconds, by rating

STUDY_TIME = time(9, tzinfo=UTC)
SAME_DAY_REPEATS = 10  # at most this many learning-step answers per card and day
START = date(2026, 3, 2)

# A realistic posting's topics, in the order a deck file lists them (alphabetical, not by
# weight), with the posting's weights: the role's core topic 6, nine named qualifications 3,
# three preferred ones 2, seven mentioned in passing 1.
POSTING_TOPICS: tuple[tuple[str, float], ...] = (
    ("algorithms", 3),
    ("c++", 1),
    ("compilers", 1),
    ("cuda-kernels", 3),
    ("data-pipelines", 2),
    ("distributed-training", 6),
    ("gpu-architecture", 3),
    ("inference-serving", 3),
    ("linear-algebra", 1),
    ("ml-fundamentals", 3),
    ("mixed-precision", 2),
    ("networking", 1),
    ("numerics", 1),
    ("operating-systems", 1),
    ("profiling", 3),
    ("python", 2),
    ("pytorch-internals", 3),
    ("research-practice", 1),
    ("system-design", 3),
    ("transformers", 3),
)


@dataclass(frozen=True, slots=True)
class SimCard:
    """One card of a simulated deck; deck order is the order of the tuple the cards come in."""

    card_id: int
    weight: float
    topic: int
    order: int  # position within its topic


def topic_deck(weights: Sequence[float], per_topic: int) -> tuple[SimCard, ...]:
    """A deck of `per_topic` cards for each topic weight, topic by topic; ids from 1."""
    cards: list[SimCard] = []
    for topic, weight in enumerate(weights):
        for order in range(per_topic):
            cards.append(SimCard(len(cards) + 1, float(weight), topic, order))
    return tuple(cards)


def posting_deck(per_topic: int = 30) -> tuple[SimCard, ...]:
    """The benchmark deck: `POSTING_TOPICS`, `per_topic` cards each (600 at the default)."""
    return topic_deck([weight for _, weight in POSTING_TOPICS], per_topic)


def study_start(day: date) -> datetime:
    """The instant the learner sits down on `day`."""
    return datetime.combine(day, STUDY_TIME)


@dataclass(frozen=True, slots=True)
class LearnerView:
    """What a policy sees on the morning of day `day`: prepkit's stored state of every card."""

    day: int
    today: date
    now: datetime
    interview: date
    cards: tuple[SimCard, ...]
    states: Mapping[int, CardState | None]


class Policy(Protocol):
    def day(self, d: int, view: LearnerView) -> tuple[Sequence[int], Sequence[int]]:
        """The reviews (in order) and the new cards (in order) to study on day `d`."""
        ...


@dataclass(frozen=True, slots=True)
class DayLog:
    """What the learner did on one day."""

    day: int
    seconds: float
    new: int  # new cards introduced
    reviews: int  # reviews from the policy's list answered
    recalled: int  # of those, the ones the learner recalled (rated Hard, Good or Easy)
    steps: int  # same-day learning and relearning steps answered
    cut: int  # cards the policy listed that the day's minutes did not reach
    skipped: int  # listed cards that were not valid (unknown, repeated, new as review, ...)

    @property
    def minutes(self) -> float:
        return self.seconds / 60


@dataclass(frozen=True, slots=True)
class SimResult:
    """One simulated run: recall on the interview morning and the days that led to it."""

    recall: float
    days: tuple[DayLog, ...]
    introduced: int
    total: int

    @property
    def minutes_per_day(self) -> float:
        return sum(d.minutes for d in self.days) / len(self.days) if self.days else 0.0

    @property
    def max_minutes_day(self) -> float:
        return max((d.minutes for d in self.days), default=0.0)


def _cumulative(probabilities: Sequence[float]) -> tuple[float, ...]:
    total = sum(probabilities)
    running = 0.0
    out = []
    for p in probabilities:
        running += p
        out.append(running / total)
    return tuple(out)


def _draw(u: float, cumulative: Sequence[float]) -> int:
    """Index of the outcome a uniform `u` falls on."""
    for index, bound in enumerate(cumulative):
        if u < bound:
            return index
    return len(cumulative) - 1


_FIRST = _cumulative(FIRST_RATING_PROB)
_SUCCESS = _cumulative(REVIEW_RATING_PROB)
_IN_STEPS = (FsrsState.Learning, FsrsState.Relearning)


@dataclass(slots=True)
class _Memory:
    card: FsrsCard
    answered: datetime  # the real instant of the last answer
    reps: int = 0
    lapses: int = 0


class Learner:
    """A learner with FSRS-6 memory (the `fsrs` package, default parameters) and a seed.

    Each card draws from its own random stream (seeded by `seed` and the card id), so the k-th
    answer to a card sees the same random numbers whatever policy led to it: policies compared
    on the same seed face the same learner.
    """

    def __init__(
        self,
        cards: Sequence[SimCard],
        seed: int,
        start: date = START,
        desired_retention: float = 0.9,
        parameters: Sequence[float] | None = None,
    ) -> None:
        self.cards = tuple(cards)
        self.by_id = {card.card_id: card for card in self.cards}
        if len(self.by_id) != len(self.cards):
            raise ValueError("card ids must be unique")
        self.start = start
        kwargs: dict[str, object] = {}
        if parameters is not None:
            kwargs["parameters"] = tuple(parameters)
        self.scheduler = Scheduler(
            desired_retention=desired_retention,
            enable_fuzzing=False,
            **kwargs,  # type: ignore[arg-type]
        )
        self._memory: dict[int, _Memory] = {}
        self._rngs = {card.card_id: Random(seed * 1_000_003 + card.card_id) for card in self.cards}

    @property
    def introduced(self) -> int:
        return len(self._memory)

    def date(self, day: int) -> date:
        return self.start + timedelta(days=day)

    def state(self, card_id: int) -> CardState | None:
        """The card's state as prepkit would store it; None if never introduced."""
        memory = self._memory.get(card_id)
        if memory is None:
            return None
        card = memory.card
        return CardState(
            state=State(int(card.state)),
            step=card.step,
            stability=card.stability,
            difficulty=card.difficulty,
            due=card.due,
            last_review=memory.answered,
            reps=memory.reps,
            lapses=memory.lapses,
        )

    def fsrs_card(self, card_id: int) -> FsrsCard | None:
        """The true memory of a card (last_review at 09:00 of its day, see the module doc)."""
        memory = self._memory.get(card_id)
        return None if memory is None else memory.card

    def view(self, day: int, interview: int) -> LearnerView:
        today = self.date(day)
        return LearnerView(
            day=day,
            today=today,
            now=study_start(today),
            interview=self.date(interview),
            cards=self.cards,
            states={card.card_id: self.state(card.card_id) for card in self.cards},
        )

    def retrievability(self, card_id: int, day: int) -> float:
        """True probability of recall at 09:00 on `day`; 0 for a card never introduced."""
        memory = self._memory.get(card_id)
        if memory is None:
            return 0.0
        at = study_start(self.date(day))
        return float(self.scheduler.get_card_retrievability(memory.card, at))

    def recall(self, day: int) -> float:
        """Weighted mean true recall over all cards at 09:00 on `day`."""
        total = sum(card.weight for card in self.cards)
        if total <= 0:
            return 0.0
        recalled = sum(card.weight * self.retrievability(card.card_id, day) for card in self.cards)
        return recalled / total

    def _answer(
        self, card_id: int, at: datetime, day_start: datetime
    ) -> tuple[float, int, FsrsCard]:
        """Answer one card at `at`: the seconds it took, the rating and the card's memory."""
        rng = self._rngs[card_id]
        memory = self._memory.get(card_id)
        if memory is None:
            rating = 1 + _draw(rng.random(), _FIRST)
            cost = LEARN_COSTS[rating - 1]
            card = FsrsCard(card_id=card_id, state=FsrsState.Learning, step=0, due=at)
            memory = _Memory(card, at)
            self._memory[card_id] = memory
        else:
            card = memory.card
            recall = self.scheduler.get_card_retrievability(card, at)
            success, grade = rng.random(), rng.random()
            rating = 2 + _draw(grade, _SUCCESS) if success < recall else 1
            cost = REVIEW_COSTS[rating - 1]
            if rating == 1 and card.state is FsrsState.Review:
                memory.lapses += 1
        after, _log = self.scheduler.review_card(card, FsrsRating(rating), at)
        after.last_review = day_start  # Anki's day count; see the module doc
        memory.card = after
        memory.answered = at
        memory.reps += 1
        return cost, rating, after

    def study_day(
        self, day: int, reviews: Iterable[int], new: Iterable[int], minutes: float
    ) -> DayLog:
        """Study the listed reviews, then the new cards, then same-day steps, within `minutes`."""
        start = study_start(self.date(day))
        day_end = datetime.combine(self.date(day + 1), time(0, tzinfo=UTC))
        cap = minutes * 60
        clock = start
        used = 0.0
        counts = dict.fromkeys(("new", "reviews", "recalled", "steps", "cut", "skipped"), 0)
        steps: list[tuple[datetime, int, int]] = []  # (due, sequence, card id)
        repeats: dict[int, int] = {}
        sequence = 0

        def answer(card_id: int, kind: str) -> None:
            nonlocal clock, used, sequence
            cost, rating, after = self._answer(card_id, clock, start)
            counts[kind] += 1
            if kind == "reviews" and rating > 1:
                counts["recalled"] += 1
            clock += timedelta(seconds=cost)
            used += cost
            if after.state in _IN_STEPS and after.due < day_end:
                if repeats.get(card_id, 0) < SAME_DAY_REPEATS:
                    repeats[card_id] = repeats.get(card_id, 0) + 1
                    sequence += 1
                    heapq.heappush(steps, (after.due, sequence, card_id))

        queue = [(card_id, False) for card_id in reviews] + [(card_id, True) for card_id in new]
        listed: set[int] = set()
        for index, (card_id, is_new) in enumerate(queue):
            while steps and steps[0][0] <= clock and used < cap:
                answer(heapq.heappop(steps)[2], "steps")
            if used >= cap:
                counts["cut"] += len(queue) - index
                break
            known = card_id in self.by_id
            introduced = card_id in self._memory
            if not known or card_id in listed or introduced == is_new:
                counts["skipped"] += 1
                continue
            listed.add(card_id)
            answer(card_id, "new" if is_new else "reviews")
        while steps and used < cap:
            due, _, card_id = heapq.heappop(steps)
            clock = max(clock, due)
            answer(card_id, "steps")
        return DayLog(day=day, seconds=used, **counts)


def simulate(
    cards: Sequence[SimCard],
    policy: Policy,
    days: int,
    minutes: float,
    seed: int,
    start: date = START,
    desired_retention: float = 0.9,
) -> SimResult:
    """Run `policy` for `days` days of at most `minutes` each; recall on the morning of day
    `days` (the interview)."""
    learner = Learner(cards, seed, start, desired_retention)
    logs = []
    for day in range(days):
        reviews, new = policy.day(day, learner.view(day, days))
        logs.append(learner.study_day(day, reviews, new, minutes))
    return SimResult(
        recall=learner.recall(days),
        days=tuple(logs),
        introduced=learner.introduced,
        total=len(learner.cards),
    )


def due_reviews(view: LearnerView) -> list[int]:
    """Introduced cards due by the end of the view's day, earliest due first."""
    day_end = datetime.combine(view.today + timedelta(days=1), time(0, tzinfo=UTC))
    due = [
        (state.due, card_id)
        for card_id, state in view.states.items()
        if state is not None and state.due is not None and state.due < day_end
    ]
    return [card_id for _, card_id in sorted(due)]


@dataclass(frozen=True, slots=True)
class DailyLimits:
    """Anki's queue: due reviews in due order up to `review_limit`, then `new_per_day` new cards
    in deck order; intervals from the learner's scheduler (FSRS, desired retention 0.9)."""

    new_per_day: int
    review_limit: int | None = None

    def day(self, d: int, view: LearnerView) -> tuple[Sequence[int], Sequence[int]]:
        reviews = due_reviews(view)
        if self.review_limit is not None:
            reviews = reviews[: self.review_limit]
        new = [card.card_id for card in view.cards if view.states[card.card_id] is None]
        return reviews, new[: self.new_per_day]


ANKI_DEFAULTS = DailyLimits(new_per_day=20, review_limit=200)


@dataclass
class PlannerPolicy:
    """prepkit's planner, re-planned every morning; the learner follows the plan's first day.

    `predicted` is the recall the day-0 plan expected on the interview morning.
    """

    minutes: float
    desired_retention: float = 0.9
    predicted: float | None = None
    planned_minutes: list[float] = field(default_factory=list)
    infeasible_days: int = 0

    def day(self, d: int, view: LearnerView) -> tuple[Sequence[int], Sequence[int]]:
        from prepkit.schedule.planner import Costs, PlanCard, plan

        left = (view.interview - view.today).days
        result = plan(
            cards=[
                PlanCard(card.card_id, card.weight, view.states[card.card_id], card.order)
                for card in view.cards
            ],
            today=view.today,
            interview=view.interview,
            minutes=[self.minutes] * left,
            desired_retention=self.desired_retention,
            costs=Costs(),
            explain=False,  # as the study queue plans: what to do today, not what-ifs
        )
        if d == 0:
            self.predicted = result.expected_recall
        if not result.feasible:
            self.infeasible_days += 1
        first = result.days[0]
        self.planned_minutes.append(first.minutes)
        return list(first.reviews), list(first.new)
