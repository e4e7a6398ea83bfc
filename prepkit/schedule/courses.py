"""Courses: the ways one card can be studied between now and the interview, and what each is worth.

A course is a rule for one card: when it is introduced (for a card never seen) and on which days
it is reviewed. Following a course in expectation gives two things the planner needs: the card's
expected recall on the interview morning and the expected seconds it costs on each day. Outcomes
are carried as weighted branches (recalled or forgotten at each review), so the figures are
expectations over the learner's answers, not one lucky path.

Two kinds of review rule are offered, because neither is best everywhere:

- fixed days: the card is seen on the given days whatever happened before (two reviews at most:
  one early to consolidate, one late to refresh). With few minutes and few days these are the
  courses that win: a light card met once, late, is worth more than a heavy card reviewed often.
- FSRS at a retention: each review is set where recall falls to the target, and a review that
  would fall on or after the interview is pulled in to a chosen final day. With time to spare
  these win: they follow each card's own memory, lapses included.

Which course each card takes is the planner's choice (see `allocation`); this module only prices
them. Days are study days, as Anki counts them for FSRS: a review on the eve of the interview is
one day old on the morning.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from prepkit.schedule.memory import Memory

MAX_BRANCHES = 4  # outcomes of a new card's first day kept apart
RETENTIONS = (0.8, 0.9, 0.95)  # targets offered to FSRS courses
FINAL_DAYS = 6  # the last open days offered as a final review day
EARLY_OFFSETS = (0, 1, 2, 3, 4, 5, 6, 8, 10, 13, 17, 22, 28, 35)  # single fixed reviews
PAIR_OFFSETS = (0, 1, 2, 3, 5, 8, 13)  # the first of two fixed reviews
PAIR_FINALS = 4  # the last open days offered as the second of two fixed reviews
LEFT_ALONE = (0.9, 0.95, 0.97)  # FSRS courses skip the final review above this morning recall
INTRO_DAYS = 40  # plans longer than this offer fewer introduction days (see intro_days)
PRUNE = 1e-4  # branches less likely than this are folded into their sibling


@dataclass(frozen=True, slots=True)
class Costs:
    """Seconds a learner spends. Defaults are FSRS's simulator averages over Anki users
    (fsrs-optimizer); `Costs.from_history` replaces them with the learner's own."""

    learn: tuple[float, float, float, float] = (33.79, 24.3, 13.68, 6.5)  # first answer, by grade
    review: tuple[float, float, float, float] = (23.0, 11.68, 7.33, 5.6)  # later answers, by grade
    first_rating: tuple[float, float, float, float] = (0.24, 0.094, 0.495, 0.171)
    success_rating: tuple[float, float, float] = (0.224, 0.631, 0.145)  # Hard, Good, Easy

    @classmethod
    def from_history(
        cls, first: Sequence[tuple[int, float]], later: Sequence[tuple[int, float]]
    ) -> Costs:
        """Costs from (grade, seconds) of the learner's first answers and later answers; a grade
        with fewer than 10 answers keeps the default (too few to trust)."""
        default = cls()

        def means(pairs: Sequence[tuple[int, float]], base: tuple[float, ...]) -> list[float]:
            out = list(base)
            for grade in range(1, 5):
                seconds = [s for g, s in pairs if g == grade and 0 < s <= 60]
                if len(seconds) >= 10:
                    out[grade - 1] = sum(seconds) / len(seconds)
            return out

        learn = means(first, default.learn)
        review = means(later, default.review)
        return cls(
            learn=(learn[0], learn[1], learn[2], learn[3]),
            review=(review[0], review[1], review[2], review[3]),
        )


Triple = tuple[float, float, float]  # (probability, stability, difficulty)
Branch = tuple[float, float, float, int]  # (probability, stability, difficulty, last day)


class Model:
    """What courses need from FSRS and the costs, computed once per plan."""

    def __init__(self, memory: Memory, costs: Costs, retention: float) -> None:
        self.memory = memory
        self.costs = costs
        self.retention = retention
        self.intro, self.intro_seconds = self._introduction()
        self.reviewed: dict[tuple[float, float, float], list[Triple]] = {}
        self.fixed: dict[
            tuple[tuple[Branch, ...], tuple[int, ...]],
            tuple[list[Branch], list[tuple[int, float]]],
        ] = {}
        q = costs.success_rating
        self.success_seconds = sum(q[i] * costs.review[i + 1] for i in range(3))
        # Relearning after a lapse: repeats until Good or Easy (Hard repeats the step).
        self.lapse_seconds = costs.review[0] + self.success_seconds / (1 - q[0])

    def _introduction(self) -> tuple[list[Triple], float]:
        """Enumerate a new card's first day: the first grade, then learning steps (1 m, 10 m)
        repeated the same day, where recall is certain (0 whole days) and the grade is Hard,
        Good or Easy; ends when the card graduates. Branches below 1e-4 are folded away."""
        memory, costs = self.memory, self.costs
        q = costs.success_rating
        done: list[Triple] = []
        seconds = 0.0
        frontier: list[tuple[float, int, float, float]] = []  # (probability, step, S, D)
        for grade in range(1, 5):
            p = costs.first_rating[grade - 1]
            seconds += p * costs.learn[grade - 1]
            s, d = memory.initial_stability(grade), memory.initial_difficulty(grade)
            if grade == 4:
                done.append((p, s, d))
            else:
                frontier.append((p, 1 if grade == 3 else 0, s, d))
        for _ in range(12):
            if not frontier:
                break
            following: list[tuple[float, int, float, float]] = []
            for p, step, s, d in frontier:
                for grade, share in ((2, q[0]), (3, q[1]), (4, q[2])):
                    pp = p * share
                    seconds += pp * costs.review[grade - 1]
                    s2 = memory.short_term_stability(s, grade)
                    d2 = memory.next_difficulty(d, grade)
                    graduates = grade == 4 or (grade == 3 and step == 1)
                    if graduates or pp < PRUNE:
                        done.append((pp, s2, d2))
                    else:
                        following.append((pp, step + (1 if grade == 3 else 0), s2, d2))
            frontier = following
        done.extend((p, s, d) for p, _step, s, d in frontier)
        return merge(done, MAX_BRANCHES), seconds

    def review_seconds(self, r: float) -> float:
        return r * self.success_seconds + (1 - r) * self.lapse_seconds

    def after_review(self, s: float, d: float, r: float) -> list[Triple]:
        """(p, S, D) after a review on a later day with recall probability r: recalled (Hard,
        Good or Easy, averaged in log S) or forgotten and relearned the same day.

        This is the planner's innermost step. The courses of cards introduced on different days
        repeat the same reviews shifted in time, so results are kept (`self.reviewed`)."""
        key = (s, d, r)
        known = self.reviewed.get(key)
        if known is None:
            known = self.reviewed[key] = self._after_review(s, d, r)
        return known

    def _after_review(self, s: float, d: float, r: float) -> list[Triple]:
        """FSRS-6's formulas (as in `Memory`) written out with the grade-independent parts
        taken out of the loops."""
        w, q = self.memory.w, self.costs.success_rating
        # Recalled: S' = S (1 + k h_g) with h_g the Hard penalty, 1, or the Easy bonus.
        k = math.exp(w[8]) * (11 - d) * s ** -w[9] * (math.exp((1 - r) * w[10]) - 1)
        log_s = math.log(s) + (
            q[0] * math.log1p(k * w[15]) + q[1] * math.log1p(k) + q[2] * math.log1p(k * w[16])
        )
        dv = q[0] * self._difficulty(d, 2) + q[1] * self._difficulty(d, 3)
        dv += q[2] * self._difficulty(d, 4)
        lapse = 1 - r
        if lapse <= PRUNE:
            return [(1.0, math.exp(log_s), dv)]
        sf = self.memory.forget_stability(d, s, r)
        df = self._difficulty(d, 1)
        # The relearning step ends Good (mostly) or Easy; Hard repeats it unchanged.
        good = q[1] / (q[1] + q[2])
        short = self.memory.short_term_stability
        s2 = math.exp(good * math.log(short(sf, 3)) + (1 - good) * math.log(short(sf, 4)))
        d2 = good * self._difficulty(df, 3) + (1 - good) * self._difficulty(df, 4)
        return [(r, math.exp(log_s), dv), (lapse, s2, d2)]

    def _difficulty(self, d: float, grade: int) -> float:
        """FSRS-6's next difficulty (linear damping, mean reversion, clamped to 1..10)."""
        w = self.memory.w
        damped = d + (10.0 - d) * (-w[6] * (grade - 3)) / 9.0
        return min(max(w[7] * self.memory.easy + (1 - w[7]) * damped, 1.0), 10.0)


def merge(items: list[Triple], limit: int) -> list[Triple]:
    """Merge (p, S, D) until at most `limit` remain, joining neighbours in log S."""
    items = sorted(items, key=lambda item: item[1])
    while len(items) > limit:
        best, gap = 0, math.inf
        for i in range(len(items) - 1):
            g = math.log(items[i + 1][1]) - math.log(items[i][1])
            if g < gap:
                best, gap = i, g
        (p1, s1, d1), (p2, s2, d2) = items[best], items[best + 1]
        p = p1 + p2
        joined = (p, math.exp((p1 * math.log(s1) + p2 * math.log(s2)) / p), (p1 * d1 + p2 * d2) / p)
        items[best : best + 2] = [joined]
    return items


@dataclass(frozen=True, slots=True)
class Course:
    """One way to study a card until the interview, priced in expectation."""

    intro: int | None  # the day a new card is introduced (None: already studied, or never)
    recall: float  # expected recall on the interview morning
    seconds: tuple[tuple[int, float], ...]  # (day, expected seconds), days with work only
    reviews: tuple[tuple[int, float], ...]  # (day, probability of a review that day)


@dataclass(frozen=True, slots=True)
class Calendar:
    """The days of a plan: day 0 is today, the interview is the morning of day `horizon`."""

    horizon: int
    open: tuple[int, ...]  # days with minutes to study, in order
    following: tuple[int | None, ...]  # for each day, the first open day on or after it

    @classmethod
    def of(cls, budgets: Sequence[float]) -> Calendar:
        open_days = tuple(day for day, minutes in enumerate(budgets) if minutes > 0)
        following: list[int | None] = []
        upcoming: int | None = None
        for day in reversed(range(len(budgets))):
            if budgets[day] > 0:
                upcoming = day
            following.append(upcoming)
        return cls(len(budgets), open_days, tuple(reversed(following)))

    def next_open(self, day: int) -> int | None:
        return self.following[max(0, day)] if day < self.horizon else None

    def finals(self, after: int) -> tuple[int, ...]:
        """The last open days (at most FINAL_DAYS) on or after `after`."""
        return tuple(day for day in self.open[-FINAL_DAYS:] if day >= after)


def morning_age(horizon: int, last: int) -> int:
    """Days between a review on day `last` and the interview morning, in study days."""
    return max(0, horizon - last)


def morning_recall(model: Model, branches: Sequence[Branch], horizon: int) -> float:
    memory = model.memory
    total = sum(p * memory.recall(morning_age(horizon, last), s) for p, s, _d, last in branches)
    return min(1.0, total)


def on_fixed_days(
    model: Model, branches: Sequence[Branch], days: Sequence[int], horizon: int
) -> tuple[float, dict[int, float], dict[int, float]]:
    """Review on each of `days` whatever the outcome before: (recall, seconds, reviews) by day.

    What happens depends only on the days counted from the last review, so outcomes are kept
    in `model.fixed` by those offsets: a new card's courses repeat them for every intro day."""
    memory = model.memory
    base = branches[0][3]
    relative = tuple((p, s, d, last - base) for p, s, d, last in branches)
    key = (relative, tuple(x - base for x in days))
    cached = model.fixed.get(key)
    if cached is None:
        spent_by: list[tuple[int, float]] = []
        current = list(key[0])
        for offset in key[1]:
            spent = 0.0
            following: list[Branch] = []
            for p, s, d, last in current:
                r = memory.recall(offset - last, s)
                spent += p * model.review_seconds(r)
                following.extend(
                    (p * q, s2, d2, offset) for q, s2, d2 in model.after_review(s, d, r)
                )
            spent_by.append((offset, spent))
            current = following
        cached = (current, spent_by)
        model.fixed[key] = cached
    ends, spent_by = cached
    seconds = {base + offset: spent for offset, spent in spent_by}
    reviews = {base + offset: 1.0 for offset, _ in spent_by}
    recall = sum(p * memory.recall(morning_age(horizon, base + last), s) for p, s, _d, last in ends)
    return min(1.0, recall), seconds, reviews


def by_fsrs(
    model: Model,
    branches: Sequence[Branch],
    first_due: Sequence[int | None],
    calendar: Calendar,
    retention: float,
    finals: Sequence[tuple[int | None, float]],
) -> list[tuple[float, dict[int, float], dict[int, float]]]:
    """Review each branch when FSRS at `retention` says (a branch with a `first_due` is first
    seen that day: a card already due is 0; None lets FSRS set it), except that a review FSRS
    would set on or after the interview is pulled in to a final day (or dropped, when the final
    day is None, or when the card would be at LEFT_ALONE recall on the morning anyway). One
    (recall, seconds, reviews) per final day: the reviews before the pull-in are the same for
    all of them, so they are followed once."""
    memory, horizon = model.memory, calendar.horizon
    seconds: dict[int, float] = {}
    reviews: dict[int, float] = {}
    pending: list[Branch] = []  # next review on or after the interview: final or none
    waiting: list[list[Branch]] = [[] for _ in range(horizon)]  # by review day

    def place(branch: Branch, due: int) -> None:
        when = calendar.next_open(due)
        if when is None:
            pending.append(branch)
        else:
            waiting[when].append(branch)

    for branch, due in zip(branches, first_due, strict=True):
        place(branch, due if due is not None else branch[3] + memory.interval(branch[1], retention))
    for day in range(horizon):
        today = waiting[day]
        if not today:
            continue
        spent = 0.0
        outcomes: list[Branch] = []
        for p, s, d, last in today:
            r = memory.recall(day - last, s)
            spent += p * model.review_seconds(r)
            reviews[day] = reviews.get(day, 0.0) + p
            outcomes.extend((p * q, s2, d2, day) for q, s2, d2 in model.after_review(s, d, r))
        seconds[day] = seconds.get(day, 0.0) + spent
        kept = outcomes if len(outcomes) <= 2 * MAX_BRANCHES else _fold(outcomes)
        for branch in kept:
            place(branch, day + memory.interval(branch[1], retention))
    out = []
    for final, enough in finals:
        spent_at = dict(seconds)
        seen_at = dict(reviews)
        recall = 0.0
        for p, s, d, last in pending:
            morning = memory.recall(morning_age(horizon, last), s)
            if final is None or final <= last or morning >= enough:
                recall += p * morning
                continue
            r = memory.recall(final - last, s)
            spent_at[final] = spent_at.get(final, 0.0) + p * model.review_seconds(r)
            seen_at[final] = seen_at.get(final, 0.0) + p
            for q, s2, _d2 in model.after_review(s, d, r):
                recall += p * q * memory.recall(morning_age(horizon, final), s2)
        out.append((min(1.0, recall), spent_at, seen_at))
    return out


def _fold(branches: list[Branch]) -> list[Branch]:
    """Fewer branches reviewed the same day: nearest in log stability merged."""
    day = branches[0][3]
    merged = merge([(p, s, d) for p, s, d, _ in branches], MAX_BRANCHES)
    return [(p, s, d, day) for p, s, d in merged]


def courses_from(
    model: Model,
    branches: Sequence[Branch],
    first_due: Sequence[int | None],
    start: int,
    calendar: Calendar,
    retentions: Sequence[float] = RETENTIONS,
) -> list[Course]:
    """Every course offered to a card whose memory is `branches`, reviewable from day `start`:
    no review, one review on any open day, an early and a late review, and FSRS at each of
    `retentions` with each final day (or none). Studied cards get one retention (the
    learner's): there can be hundreds of them, and the policies (`policy`) cover the rest."""
    horizon = calendar.horizon
    days = [day for day in calendar.open if day >= start]
    finals = calendar.finals(start)
    out: list[Course] = []

    def add(recall: float, seconds: dict[int, float], reviews: dict[int, float]) -> None:
        out.append(
            Course(
                intro=None,
                recall=recall,
                seconds=tuple(sorted(seconds.items())),
                reviews=tuple(sorted(reviews.items())),
            )
        )

    add(morning_recall(model, branches, horizon), {}, {})
    early = sorted({start + offset for offset in EARLY_OFFSETS} & set(days))
    singles = days if len(days) <= 2 * len(EARLY_OFFSETS) else sorted({*early, *finals})
    for day in singles:
        add(*on_fixed_days(model, branches, [day], horizon))
    for first in sorted({start + offset for offset in PAIR_OFFSETS} & set(days)):
        for last in finals[-PAIR_FINALS:]:
            if last > first:
                add(*on_fixed_days(model, branches, [first, last], horizon))
    for retention in retentions:
        ends = [(None, 1.0), *((final, enough) for final in finals for enough in LEFT_ALONE)]
        for priced in by_fsrs(model, branches, first_due, calendar, retention, ends):
            add(*priced)
    return out


def intro_days(calendar: Calendar) -> tuple[int, ...]:
    """The days a new card may be introduced: every open day of a plan up to INTRO_DAYS long;
    in a longer one the first and last INTRO_DAYS // 2 and evenly spaced days between (a week
    more or less matters little when the interview is months away)."""
    days = calendar.open
    if len(days) <= INTRO_DAYS:
        return days
    half = INTRO_DAYS // 2
    middle = days[half:-half]
    step = math.ceil(len(middle) / half)
    return (*days[:half], *middle[::step], *days[-half:])


@dataclass(frozen=True, slots=True)
class Intro:
    """Introducing a new card on `day`: what it costs, and the courses offered to each outcome
    of its first day (first grade Again, Hard, Good or Easy, merged to MAX_BRANCHES memories).

    A card first answered Again needs another look in a day or two; one first answered Easy may
    need nothing until the last week. Pricing the courses per outcome lets the plan choose for
    each (and the next morning's plan sees which one happened)."""

    day: int
    seconds: float
    outcomes: tuple[tuple[float, tuple[Course, ...]], ...]  # (probability, courses)
    memories: tuple[tuple[float, float], ...] = ()  # each outcome's (stability, difficulty)


def new_card_intros(model: Model, calendar: Calendar) -> list[Intro]:
    """Every way in for a card never seen: introduced on each of `intro_days`, then, for each
    first-day outcome, any course from the next day (the first course is "no review")."""
    out: list[Intro] = []
    for day in intro_days(calendar):
        outcomes = tuple(
            (p, tuple(courses_from(model, [(1.0, s, d, day)], [None], day + 1, calendar)))
            for p, s, d in model.intro
        )
        memories = tuple((s, d) for _p, s, d in model.intro)
        out.append(Intro(day, model.intro_seconds, outcomes, memories))
    return out


def blend(intro: Intro, chosen: Sequence[Sequence[tuple[Course, float]]]) -> Course:
    """One course for a card introduced by `intro` whose outcomes follow the chosen courses in
    the given shares (each outcome's shares add up to its probability): its expected recall,
    seconds and reviews."""
    recall = 0.0
    seconds: dict[int, float] = {intro.day: intro.seconds}
    reviews: dict[int, float] = {}
    for pairs in chosen:
        for course, share in pairs:
            if share <= 0:
                continue
            recall += share * course.recall
            for day, spent in course.seconds:
                seconds[day] = seconds.get(day, 0.0) + share * spent
            for day, odds in course.reviews:
                reviews[day] = reviews.get(day, 0.0) + share * odds
    return Course(
        intro.day, min(1.0, recall), tuple(sorted(seconds.items())), tuple(sorted(reviews.items()))
    )
