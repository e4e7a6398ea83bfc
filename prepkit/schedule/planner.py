"""The deadline planner: the most recall on the interview morning for the minutes the learner has.

FSRS schedules for a fixed retention forever; an interview is one morning. The planner prices,
for every card, the ways it could be studied until then (`courses`: introduced on which day,
reviewed on fixed days or by FSRS with a last review pulled in before the interview), each in
expectation over the learner's answers: its expected recall on the morning and its expected
seconds on each day. It then chooses a course for every card so that the weighted recall on the
morning is as high as the days' budgets allow (`allocation`, a linear program, which for plans up
to a month also asks `policy` for each card's best review policy at its day prices), and rounds
today's part of that choice card by card.

What comes out is not written as rules, but it is what one would want: with minutes to spare,
every card is consolidated and refreshed in the last days, spread so there is no pile-up on the
eve; with few minutes, heavy topics are met early and refreshed, light ones once and late, and
the cards left out are the ones worth least per minute. New cards of a topic go in deck order,
which puts basics before what builds on them.

The plan is made afresh every day from the stored memory states, so what really happened (a
lapse, a day missed) is taken into account the next morning. After the interview there is
nothing to plan: the faces go back to ordinary FSRS scheduling.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from prepkit.schedule.allocation import Allotment, Group, Infeasible, allocate
from prepkit.schedule.courses import (
    Branch,
    Calendar,
    Costs,
    Course,
    Model,
    courses_from,
    intro_days,
    new_card_intros,
)
from prepkit.schedule.memory import Memory
from prepkit.schedule.review import CardState, State

__all__ = ["Costs", "Plan", "PlanCard", "PlanDay", "PlanError", "plan"]

TIME_PRICE = 0.0005  # recall a second must buy, for a card of average weight (3 points a minute)
LATER = (7, 14, 21, 30, 45, 60, 90, 120, 180, 270, 365)  # days a later interview is tried at


class PlanError(ValueError):
    """A plan that cannot be made (an interview in the past, no days, bad budget)."""


@dataclass(frozen=True, slots=True)
class PlanCard:
    """A card as the planner sees it: who it is, how much the posting wants it, its memory."""

    card_id: int
    weight: float
    state: CardState | None  # None (or State.NEW): never studied
    order: int = 0  # position in its deck: earlier cards are the basics


@dataclass(frozen=True, slots=True)
class PlanDay:
    date: date
    new: tuple[int, ...]  # card ids to introduce, in order
    reviews: tuple[int, ...]  # card ids to review (today exactly; later days likely)
    expected_reviews: float
    minutes: float
    budget: float


@dataclass(frozen=True, slots=True)
class Plan:
    interview: date
    days: tuple[PlanDay, ...]
    expected_recall: float  # weighted mean recall on the interview morning (new cards: 0)
    introduced: int  # cards studied by the interview (already or by this plan)
    total: int
    new_per_day: int  # the most new cards of any day
    feasible: bool  # every card is introduced within the budget
    minutes_to_cover_all: float | None = None  # daily minutes that introduce every card
    later_date: date | None = None  # a date at which today's budget introduces every card
    drop_topics_weight: float | None = None  # dropping topics up to this weight makes it fit

    @property
    def minutes_per_day(self) -> float:
        return sum(day.minutes for day in self.days) / len(self.days) if self.days else 0.0

    @property
    def max_minutes_day(self) -> float:
        return max((day.minutes for day in self.days), default=0.0)


# -- cards into groups ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Known:
    """A studied card's memory at the start of today: one branch, and its first review day if
    it is already due (0) or in learning steps; None lets each course's FSRS target decide."""

    branch: Branch
    due_now: bool
    learning: bool  # in (re)learning steps: seen again today, as Anki would


def _known(state: CardState, today_start: datetime) -> _Known:
    last = state.last_review or today_start
    last_day = math.floor((last - today_start).total_seconds() / 86400)
    stability = state.stability if state.stability is not None else 0.1
    difficulty = state.difficulty if state.difficulty is not None else 5.0
    learning = state.state in (State.LEARNING, State.RELEARNING) or state.due is None
    due_now = learning or (state.due is not None and state.due < today_start + timedelta(days=1))
    return _Known((1.0, stability, difficulty, min(last_day, 0)), due_now, learning)


def _is_new(card: PlanCard) -> bool:
    state = card.state
    return state is None or state.state is State.NEW or state.stability is None


@dataclass(slots=True)
class _Groups:
    """The LP's groups and, for each, its cards (new ones in deck order)."""

    groups: list[Group]
    members: list[list[PlanCard]]


# How finely studied cards' memories are told apart: (stability bins per unit of log S,
# difficulty bins per unit, days of last review merged), finest first. The finest that leaves
# at most MEMORY_GROUPS memories to price is used: a big library is priced more coarsely.
RESOLUTIONS = ((20, 4, 1), (10, 2, 1), (5, 1, 2), (3, 0.5, 4), (2, 0.25, 7))
MEMORY_GROUPS = 100


def _memory_key(
    k: _Known, resolution: tuple[float, float, int]
) -> tuple[int, bool, bool, int, int]:
    per_log_s, per_d, days = resolution
    _p, s, d, last = k.branch
    return (
        -((-last) // days) * days if days > 1 else last,
        k.due_now,
        k.learning,
        round(math.log(s) * per_log_s),
        round(d * per_d),
    )


def _group(
    model: Model, cards: Sequence[PlanCard], calendar: Calendar, today_start: datetime
) -> _Groups:
    """New cards grouped by weight (all share one list of courses); studied cards grouped by
    weight and a memory close enough to price once (same due-today and learning flags, last
    review, stability and difficulty within the bins of the finest of RESOLUTIONS that leaves
    at most MEMORY_GROUPS memories)."""
    new: dict[float, list[PlanCard]] = defaultdict(list)
    studied: list[tuple[PlanCard, _Known]] = []
    for card in cards:
        if _is_new(card):
            new[card.weight].append(card)
        else:
            assert card.state is not None
            studied.append((card, _known(card.state, today_start)))
    resolution = RESOLUTIONS[-1]
    for candidate in RESOLUTIONS:
        if len({_memory_key(k, candidate) for _, k in studied}) <= MEMORY_GROUPS:
            resolution = candidate
            break
    known: dict[tuple[float, int, bool, bool, int, int], list[tuple[PlanCard, _Known]]] = (
        defaultdict(list)
    )
    for card, k in studied:
        known[(card.weight, *_memory_key(k, resolution))].append((card, k))
    out = _Groups([], [])
    intros = new_card_intros(model, calendar) if new and calendar.open else []
    for weight in sorted(new, key=lambda w: -w):
        members = sorted(new[weight], key=lambda c: (c.order, c.card_id))
        out.groups.append(Group(weight, len(members), (), intros, studied=False))
        out.members.append(members)
    priced: dict[tuple[int, bool, int, int], list[Course]] = {}
    for key, entries in known.items():
        weight, last, due_now, learning, s_key, d_key = key
        memory_key = (last, due_now, s_key, d_key)
        if memory_key not in priced:
            first = entries[0][1]
            due: list[int | None] = [0 if first.due_now else None]
            priced[memory_key] = courses_from(
                model, [first.branch], due, 0, calendar, (model.retention,)
            )
        _p, s, d, last = entries[0][1].branch
        out.groups.append(
            Group(weight, len(entries), priced[memory_key], memory=(s, d, last), urgent=learning)
        )
        out.members.append(sorted((card for card, _ in entries), key=lambda c: c.card_id))
    return out


# -- from the LP's answer to one course per card ----------------------------------------------


def _counts(shares: Sequence[float], total: int) -> list[int]:
    """Whole numbers of cards per course, adding up to `total` (largest remainders first)."""
    counts = [math.floor(v + 1e-9) for v in shares]
    left = total - sum(counts)
    order = sorted(range(len(shares)), key=lambda i: -(shares[i] - counts[i]))
    for i in order[: max(0, left)]:
        counts[i] += 1
    return counts


Choice = tuple[PlanCard, Course | None, Course | None]  # (card, course, fallback)


def _assign(grouped: _Groups, allotments: list[Allotment]) -> list[Choice]:
    """A course for each card. New cards: the earliest introductions go to the first cards in
    deck order; a new card not placed is not introduced. Fallbacks are what a card takes if its
    day turns out over budget: nothing for a new card, no review for a studied one."""
    out: list[Choice] = []
    for group, members, allotment in zip(grouped.groups, grouped.members, allotments, strict=True):
        amounts = [amount for _course, amount in allotment]
        total = len(members) if group.studied else min(len(members), round(sum(amounts)))
        counts = _counts(amounts, total)
        chosen = [
            course for (course, _), n in zip(allotment, counts, strict=True) for _ in range(n)
        ]
        chosen.sort(key=lambda c: (c.intro if c.intro is not None else -1, -c.recall))
        fallback = group.courses[0] if group.studied else None
        for index, card in enumerate(members):
            course = chosen[index] if index < len(chosen) else fallback
            out.append((card, course, fallback))
    return out


def _within_budgets(choices: list[Choice], budgets: Sequence[float]) -> list[Choice]:
    """Rounding can put a day a few seconds over its budget: on such a day, the cards whose
    course is worth least per second of that day fall back, until the day fits."""
    load = [0.0] * len(budgets)
    for _card, course, _fallback in choices:
        for day, seconds in course.seconds if course else ():
            load[day] += seconds
    out = list(choices)
    for day, budget in enumerate(budgets):
        if load[day] <= budget + 1e-6:
            continue
        candidates = []
        for i, (card, course, fallback) in enumerate(out):
            if course is None or course is fallback:
                continue
            here = dict(course.seconds).get(day, 0.0)
            if here > 0:
                kept = fallback.recall if fallback else 0.0
                candidates.append((card.weight * (course.recall - kept) / here, i))
        candidates.sort()
        for _value, i in candidates:
            if load[day] <= budget + 1e-6:
                break
            card, course, fallback = out[i]
            for d, seconds in course.seconds if course else ():
                load[d] -= seconds
            for d, seconds in fallback.seconds if fallback else ():
                load[d] += seconds
            out[i] = (card, fallback, fallback)
    return out


def _days(
    choices: list[Choice], allotments: list[Allotment], budgets: Sequence[float], today: date
) -> list[PlanDay]:
    """The days of the plan: which cards (rounded per card), and the minutes and reviews in
    expectation, as the optimiser planned them. Today's figures are the cards' own: those are
    what the learner does; later days are planned again every morning."""
    horizon = len(budgets)
    new: list[list[PlanCard]] = [[] for _ in range(horizon)]
    reviews: list[list[int]] = [[] for _ in range(horizon)]
    expected = [0.0] * horizon
    seconds = [0.0] * horizon
    for allotment in allotments:
        for planned, amount in allotment:
            for day, p in planned.reviews:
                expected[day] += amount * p
            for day, s in planned.seconds:
                seconds[day] += amount * s
    expected[0] = seconds[0] = 0.0
    for card, course, _fallback in choices:
        if course is None:
            continue
        if course.intro is not None:
            new[course.intro].append(card)
        for day, p in course.reviews:
            if day == 0:
                expected[0] += p
            if p >= 0.5 or (day == 0 and p > 0):
                reviews[day].append(card.card_id)
        seconds[0] += dict(course.seconds).get(0, 0.0)
    return [
        PlanDay(
            date=today + timedelta(days=day),
            new=tuple(c.card_id for c in sorted(new[day], key=lambda c: (-c.weight, c.order))),
            reviews=tuple(reviews[day]),
            expected_reviews=expected[day],
            minutes=min(seconds[day] / 60.0, budgets[day]),  # LP tolerances: a few microseconds
            budget=budgets[day],
        )
        for day in range(horizon)
    ]


# -- the plan ----------------------------------------------------------------------------------


def _budgets(minutes: float | Sequence[float], horizon: int) -> list[float]:
    if isinstance(minutes, (int, float)):
        values = [float(minutes)] * horizon
    else:
        values = [float(m) for m in minutes][:horizon]
        if len(values) < horizon:
            values += [values[-1] if values else 0.0] * (horizon - len(values))
    if any(m < 0 or math.isnan(m) for m in values):
        raise PlanError("minutes per day must be zero or more")
    return values


def plan(
    cards: Sequence[PlanCard],
    today: date,
    interview: date,
    minutes: float | Sequence[float],
    desired_retention: float = 0.9,
    costs: Costs | None = None,
    parameters: Sequence[float] | None = None,
    today_start: datetime | None = None,
    explain: bool = True,
) -> Plan:
    """The best plan found for the days from `today` to the eve of `interview`.

    `minutes` is the daily budget, or one figure per day (0 for a day off). `today_start` is the
    instant the study day began (times in card states are measured from it); by default today's
    midnight UTC. `desired_retention` is FSRS's target where the plan follows FSRS. With
    `explain`, an infeasible plan also says what would make it feasible.
    """
    if not isinstance(today, date) or not isinstance(interview, date):
        raise PlanError("the interview date must be a date (YYYY-MM-DD)")
    horizon = (interview - today).days
    if horizon <= 0:
        raise PlanError(
            f"the interview date {interview.isoformat()} is not after today ({today.isoformat()})"
        )
    if not 0.7 <= desired_retention <= 0.99:
        raise PlanError("desired retention must be between 0.70 and 0.99")
    budgets = _budgets(minutes, horizon)
    memory = Memory(parameters) if parameters is not None else Memory()
    model = Model(memory, costs or Costs(), desired_retention)
    start = today_start or datetime.combine(today, time(0), tzinfo=UTC)
    calendar = Calendar.of(budgets)
    grouped = _group(model, cards, calendar, start)
    seconds = [60.0 * b for b in budgets]
    price = TIME_PRICE * sum(card.weight for card in cards) / max(1, len(cards))
    try:  # every card seen, if the minutes allow it; the most recall within that
        allotments = allocate(grouped.groups, seconds, price, True, (model, calendar))
    except Infeasible:  # else the most recall, which leaves out what is worth least a minute
        allotments = allocate(grouped.groups, seconds, price, False, (model, calendar))
    today_only = [seconds[0], *[math.inf] * (horizon - 1)]
    choices = _within_budgets(_assign(grouped, allotments), today_only)
    days = _days(choices, allotments, budgets, today)
    total_weight = sum(card.weight for card in cards) or 1.0
    recall = sum(
        group.weight * course.recall * amount
        for group, allotment in zip(grouped.groups, allotments, strict=True)
        for course, amount in allotment
    )
    introduced = sum(
        group.count if group.studied else round(sum(amount for _, amount in allotment))
        for group, allotment in zip(grouped.groups, allotments, strict=True)
    )
    plan_ = Plan(
        interview=interview,
        days=tuple(days),
        expected_recall=min(1.0, recall / total_weight),
        introduced=introduced,
        total=len(cards),
        new_per_day=max((len(day.new) for day in days), default=0),
        feasible=introduced == len(cards),
    )
    if plan_.feasible or not explain:
        return plan_
    return _explain(plan_, model, cards, budgets)


def _capacity(model: Model, budgets: Sequence[float]) -> float:
    """Seconds the days can give to introductions (on the days cards may be introduced)."""
    return sum(60.0 * budgets[day] for day in intro_days(Calendar.of(budgets)))


def _explain(plan_: Plan, model: Model, cards: Sequence[PlanCard], budgets: list[float]) -> Plan:
    """What would let every card in: more minutes, a later date, or fewer topics.

    Every card can be introduced exactly when the days have the seconds to introduce them all
    (a card may be introduced and left until the morning, at no further cost): so these are
    sums, not plans, and they agree with what `plan` finds feasible."""
    new = [card for card in cards if _is_new(card)]
    need = len(new) * model.intro_seconds
    horizon = len(budgets)
    top = max(budgets)
    # The same week shape (days off stay off), scaled; all days off: every day alike.
    shape = [b / top for b in budgets] if top > 0 else [1.0] * horizon
    unit = _capacity(model, shape)
    minutes = float(math.ceil(need / unit - 1e-9)) if unit > 0 and need / unit <= 1440 else None
    mean = sum(budgets) / horizon
    later = None
    for extra in LATER if mean > 0 else ():
        if _capacity(model, [mean] * (horizon + extra)) >= need:
            later = plan_.interview + timedelta(days=extra)
            break
    drop = None
    capacity = _capacity(model, budgets)
    for cut in sorted({card.weight for card in new})[:-1]:
        if sum(1 for card in new if card.weight > cut) * model.intro_seconds <= capacity:
            drop = cut
            break
    return Plan(
        interview=plan_.interview,
        days=plan_.days,
        expected_recall=plan_.expected_recall,
        introduced=plan_.introduced,
        total=plan_.total,
        new_per_day=plan_.new_per_day,
        feasible=False,
        minutes_to_cover_all=minutes,
        later_date=later,
        drop_topics_weight=drop,
    )
