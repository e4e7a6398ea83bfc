"""The deadline planner: the most recall on the interview morning for the minutes the learner has.

FSRS schedules for a fixed retention forever; an interview is one morning. The planner looks at
every card's memory state, the interview date and the minutes of each day, and simulates the
days ahead in expectation: each card is carried as a few weighted branches (recalled or forgotten
at each review, merged when they end up alike), so the recall it predicts is an expected value,
not one lucky path. It then picks the policy that scores best:

- New cards go in heaviest topic first (then in deck order, which puts basics before what builds
  on them), at a steady number a day; the number is searched, since too many new cards leave no
  time to keep the old ones, too few leave cards never seen (they count as 0 on the day).
- Reviews follow FSRS at the desired retention while the interview is far. A review that would
  land after the interview is pulled in: the card gets one last review as close to the morning as
  the days' budgets allow, spread over the last days so there is no pile-up on the eve.
- A day never plans more than its budget: what does not fit moves to the next day (and, in the
  last days, the reviews worth the least recall per minute are the ones left out).

The result is a day-by-day plan (which new cards, how many reviews, how many minutes) and the
predicted weighted recall on the morning. After the interview there is nothing to plan: the
faces go back to ordinary FSRS scheduling.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from prepkit.schedule.memory import Memory
from prepkit.schedule.review import CardState, State

MAX_BRANCHES = 4  # outcomes of a new card's first day kept apart
PLAN_BRANCHES = 6  # memories per card in the plan that is shown (the search uses 1)
TIE = 0.005  # predicted recall differences below this are noise, not a reason to wait
FINAL_SHARE = 0.8  # of a day's budget that last-review reservations may take, by default


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


@dataclass(frozen=True, slots=True)
class PlanDay:
    date: date
    new: tuple[int, ...]  # card ids to introduce, in order
    reviews: tuple[int, ...]  # card ids to review (today exactly; later days expected)
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
    new_per_day: int
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


# -- the simulation ----------------------------------------------------------------------------


class _Branch:
    """One possible memory of a card: with probability p, stability S, difficulty D, last
    reviewed on day `last`, next seen on day `due` (None: not before the interview)."""

    __slots__ = ("d", "due", "last", "p", "s")

    def __init__(self, p: float, s: float, d: float, last: int, due: int | None) -> None:
        self.p, self.s, self.d, self.last, self.due = p, s, d, last, due


@dataclass(slots=True)
class _Outcome:
    """End-of-day memory after introducing a card (the same for every new card)."""

    branches: list[tuple[float, float, float]]  # (p, S, D)
    seconds: float


class _Model:
    """What the plan needs from FSRS and the costs, precomputed once per plan."""

    def __init__(self, memory: Memory, costs: Costs, retention: float) -> None:
        self.memory = memory
        self.costs = costs
        self.retention = retention
        self.share = FINAL_SHARE  # set by each simulation: the policy being tried
        self.intro = self._introduction()
        q = costs.success_rating
        self.success_seconds = sum(q[i] * costs.review[i + 1] for i in range(3))
        # Relearning after a lapse: repeats until Good or Easy (Hard repeats the step).
        repeats = 1 / (1 - q[0])
        self.lapse_seconds = costs.review[0] + repeats * self.success_seconds

    def _introduction(self) -> _Outcome:
        """Enumerate a new card's first day: the first grade, then learning steps (1 m, 10 m)
        repeated the same day, where recall is certain (0 whole days) and the grade is Hard,
        Good or Easy; ends when the card graduates. Branches below 1e-4 are folded away."""
        memory, costs = self.memory, self.costs
        q = costs.success_rating
        done: list[tuple[float, float, float]] = []
        seconds = 0.0
        # (probability, step, S, D)
        frontier: list[tuple[float, int, float, float]] = []
        for grade in range(1, 5):
            p = costs.first_rating[grade - 1]
            seconds += p * costs.learn[grade - 1]
            s, d = memory.initial_stability(grade), memory.initial_difficulty(grade)
            if grade == 4:
                done.append((p, s, d))
            else:
                step = 1 if grade == 3 else 0
                frontier.append((p, step, s, d))
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
                    if graduates or pp < 1e-4:
                        done.append((pp, s2, d2))
                    else:
                        following.append((pp, step + (1 if grade == 3 else 0), s2, d2))
            frontier = following
        for p, _step, s, d in frontier:
            done.append((p, s, d))
        return _Outcome(_merge_triples(done, MAX_BRANCHES), seconds)

    def review_seconds(self, r: float) -> float:
        return r * self.success_seconds + (1 - r) * self.lapse_seconds

    def after_review(self, s: float, d: float, r: float) -> list[tuple[float, float, float]]:
        """(p, S, D) after a review on a later day with recall probability r: recalled (Hard,
        Good or Easy, averaged in log S) or forgotten and relearned the same day."""
        memory, q = self.memory, self.costs.success_rating
        log_s = dv = 0.0
        for share, grade in zip(q, (2, 3, 4), strict=True):
            log_s += share * math.log(memory.recall_stability(d, s, r, grade))
            dv += share * memory.next_difficulty(d, grade)
        out = [(r, math.exp(log_s), dv)]
        lapse = 1 - r
        if lapse > 1e-6:
            sf = memory.forget_stability(d, s, r)
            df = memory.next_difficulty(d, 1)
            # The relearning step ends Good (mostly) or Easy; Hard repeats it unchanged.
            good = q[1] / (q[1] + q[2])
            s2 = math.exp(
                good * math.log(memory.short_term_stability(sf, 3))
                + (1 - good) * math.log(memory.short_term_stability(sf, 4))
            )
            d2 = good * memory.next_difficulty(df, 3) + (1 - good) * memory.next_difficulty(df, 4)
            out.append((lapse, s2, d2))
        return out


def _merge_triples(
    items: list[tuple[float, float, float]], limit: int
) -> list[tuple[float, float, float]]:
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
        merged = (p, math.exp((p1 * math.log(s1) + p2 * math.log(s2)) / p), (p1 * d1 + p2 * d2) / p)
        items[best : best + 2] = [merged]
    return items


@dataclass(slots=True, eq=False)
class _Card:
    card_id: int
    weight: float
    branches: list[_Branch]
    introduced: bool


@dataclass(slots=True)
class _Run:
    recall: float
    days: list[PlanDay]
    introduced: int


class _Days:
    """Branches waiting for their review day: one list per day, plus dead-branch skipping."""

    def __init__(self, horizon: int) -> None:
        self.horizon = horizon
        self.lists: list[list[tuple[_Card, _Branch]]] = [[] for _ in range(horizon)]

    def put(self, card: _Card, branch: _Branch) -> None:
        if branch.due is not None and branch.due < self.horizon:
            self.lists[branch.due].append((card, branch))


def _simulate(
    model: _Model,
    start: list[_Card],
    queue: Sequence[int],
    horizon: int,
    budgets: Sequence[float],
    new_per_day: int,
    today: date,
    branches: int,
    keep_plan: bool,
    share: float = 0.8,
) -> _Run:
    """Run the policy day by day in expectation; returns the predicted recall on day `horizon`.

    Each card keeps at most `branches` memories (1: the average path, quick enough to compare
    many policies; 2-3: the plan that is shown, with its predicted recall)."""
    memory = model.memory
    model.share = share
    cards: list[_Card] = []
    waiting = _Days(horizon)
    reserved = [0.0] * horizon
    for c in start:
        card = _Card(c.card_id, c.weight, [], c.introduced)
        for b in c.branches:
            branch = _Branch(b.p, b.s, b.d, b.last, b.due)
            if branch.due is not None and branch.due >= horizon:
                _pull_in(model, branch, branch.last, horizon, budgets, reserved)
            card.branches.append(branch)
            waiting.put(card, branch)
        cards.append(card)
    by_id = {c.card_id: c for c in cards}
    pending = list(reversed(queue))  # popped from the end: introduction order
    days: list[PlanDay] = []
    for day in range(horizon):
        capacity = budgets[day] * 60.0
        spent = 0.0
        reviewed: list[int] = []
        expected = 0.0
        due = [(card, branch) for card, branch in waiting.lists[day] if branch.p > 0]
        waiting.lists[day] = []
        due.sort(key=lambda item: -item[0].weight)
        touched: list[_Card] = []
        for card, branch in due:
            r = memory.recall(day - branch.last, branch.s)
            cost = branch.p * model.review_seconds(r)
            if spent + cost > capacity + 1e-9:
                if day + 1 < horizon:
                    branch.due = day + 1
                    waiting.put(card, branch)
                else:
                    branch.due = None
                continue
            spent += cost
            expected += branch.p
            if keep_plan:
                reviewed.append(card.card_id)
            card.branches.remove(branch)
            weight, branch.p = branch.p, 0.0  # replaced by its outcomes; a stale entry skips
            for p, s_, d_ in model.after_review(branch.s, branch.d, r):
                card.branches.append(_Branch(weight * p, s_, d_, day, None))
            touched.append(card)
        new_ids: list[int] = []
        wanted = min(new_per_day, len(pending))
        while wanted > 0 and spent + model.intro.seconds <= capacity + 1e-9:
            card = by_id[pending.pop()]
            spent += model.intro.seconds
            new_ids.append(card.card_id)
            card.introduced = True
            card.branches = [_Branch(p, s_, d_, day, None) for p, s_, d_ in model.intro.branches]
            touched.append(card)
            wanted -= 1
        for card in dict.fromkeys(touched):
            fresh = [b for b in card.branches if b.last == day]
            old = [b for b in card.branches if b.last != day]
            if branches == 1 and not old and len(fresh) > 1:
                fresh = [_average(fresh)]  # the quick path used by the search
            elif len(fresh) + len(old) > branches:
                fresh = _merge_fresh(fresh, max(1, branches - len(old)))
            for branch in fresh:
                _schedule(model, branch, day, horizon, budgets, reserved)
                waiting.put(card, branch)
            card.branches = old + fresh
        days.append(
            PlanDay(
                date=today + timedelta(days=day),
                new=tuple(new_ids),
                reviews=tuple(dict.fromkeys(reviewed)),
                expected_reviews=expected,
                minutes=spent / 60.0,
                budget=budgets[day],
            )
        )
    total_weight = sum(card.weight for card in cards) or 1.0
    recall = 0.0
    for card in cards:
        # branch probabilities add up to 1 within float rounding: hence the min
        r = (
            min(
                1.0,
                sum(
                    b.p * memory.recall(_age_on_the_morning(horizon, b.last), b.s)
                    for b in card.branches
                ),
            )
            if card.introduced
            else 0.0
        )
        recall += card.weight * r
    introduced = sum(1 for card in cards if card.introduced)
    return _Run(recall / total_weight, days, introduced)


def _age_on_the_morning(horizon: int, last: int) -> int:
    """Days between a review on day `last` and the interview morning, counted in study days as
    Anki counts them for FSRS (whose parameters were fitted that way): a review the evening
    before is one day old on the morning."""
    return max(0, horizon - last)


def _average(branches: list[_Branch]) -> _Branch:
    """One memory for several: probabilities added, stability averaged in log, as in merging."""
    p = sum(b.p for b in branches)
    log_s = sum(b.p * math.log(b.s) for b in branches) / p
    d = sum(b.p * b.d for b in branches) / p
    return _Branch(p, math.exp(log_s), d, branches[0].last, None)


def _merge_fresh(branches: list[_Branch], limit: int) -> list[_Branch]:
    """Merge today's outcomes of one card, nearest in log stability, down to `limit`."""
    merged = _merge_triples([(b.p, b.s, b.d) for b in branches], limit)
    last = branches[0].last
    return [_Branch(p, s_, d_, last, None) for p, s_, d_ in merged]


def _schedule(
    model: _Model,
    branch: _Branch,
    day: int,
    horizon: int,
    budgets: Sequence[float],
    reserved: list[float],
) -> None:
    """The next review of a branch reviewed on `day`: FSRS's interval at the target retention,
    or, when that lands on or after the interview, one last review as late before it as the
    budgets' reservations allow (none when a review would add almost no recall)."""
    memory = model.memory
    due = day + memory.interval(branch.s, model.retention)
    if due < horizon:
        branch.due = due
        return
    _pull_in(model, branch, day, horizon, budgets, reserved)


def _pull_in(
    model: _Model,
    branch: _Branch,
    day: int,
    horizon: int,
    budgets: Sequence[float],
    reserved: list[float],
) -> None:
    """One last review before the interview for a branch FSRS would next show after it: on the
    latest day whose last-review reservations have room (none if it adds almost nothing)."""
    memory = model.memory
    branch.due = None
    if memory.recall(_age_on_the_morning(horizon, day), branch.s) > 0.97:
        return
    for when in range(horizon - 1, max(day, -1), -1):
        r = memory.recall(when - day, branch.s)
        cost = branch.p * model.review_seconds(r)
        if reserved[when] + cost <= model.share * budgets[when] * 60.0:
            reserved[when] += cost
            branch.due = when
            return


# -- the plan ----------------------------------------------------------------------------------


def _start(card: PlanCard, today_start: datetime) -> _Card:
    state = card.state
    if state is None or state.state is State.NEW or state.stability is None:
        return _Card(card.card_id, card.weight, [], False)
    last = state.last_review or today_start
    last_day = math.floor((last - today_start).total_seconds() / 86400)
    if state.state in (State.LEARNING, State.RELEARNING) or state.due is None:
        due = 0
    else:
        due = max(0, math.floor((state.due - today_start).total_seconds() / 86400))
    difficulty = state.difficulty if state.difficulty is not None else 5.0
    return _Card(
        card.card_id, card.weight, [_Branch(1.0, state.stability, difficulty, last_day, due)], True
    )


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
    midnight UTC. With `explain`, an infeasible plan also says what would make it feasible.
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
    model = _Model(memory, costs or Costs(), desired_retention)
    if today_start is None:
        from datetime import UTC, time

        today_start = datetime.combine(today, time(0), tzinfo=UTC)
    start = [_start(card, today_start) for card in cards]
    order = sorted(
        (card for card, state in zip(cards, start, strict=True) if not state.introduced),
        key=lambda c: (-c.weight, c.order, c.card_id),
    )
    queue = [card.card_id for card in order]
    best = _search(model, start, queue, horizon, budgets, today)
    run, rate = best
    total = len(cards)
    feasible = run.introduced == total
    plan_ = Plan(
        interview=interview,
        days=tuple(run.days),
        expected_recall=run.recall,
        introduced=run.introduced,
        total=total,
        new_per_day=rate,
        feasible=feasible,
    )
    if feasible or not explain or not queue:
        return plan_
    return _explain(plan_, model, start, queue, cards, horizon, budgets, today)


def _search(
    model: _Model,
    start: list[_Card],
    queue: list[int],
    horizon: int,
    budgets: Sequence[float],
    today: date,
) -> tuple[_Run, int]:
    """The new-cards-a-day rate with the best predicted recall (coarse grid, then refined)."""
    remaining = len(queue)
    if remaining == 0:
        return _simulate(model, start, queue, horizon, budgets, 0, today, PLAN_BRANCHES, True), 0
    mean_budget = sum(budgets) / len(budgets) * 60.0
    affordable = max(1, int(mean_budget / max(model.intro.seconds, 1.0)))
    even = math.ceil(remaining / horizon)
    grid = sorted(
        {min(remaining, n) for n in (1, 2, 4, 6, 8, 12, 16, 24, 32, 48, 64, even, affordable)}
    )
    scores: dict[int, float] = {}
    covered: dict[int, bool] = {}
    share = FINAL_SHARE

    def score(n: int) -> float:
        if n not in scores:
            run = _simulate(model, start, queue, horizon, budgets, n, today, 1, False, share)
            scores[n] = run.recall
            covered[n] = run.introduced == len(start)
        return scores[n]

    best = max(grid, key=score)
    if not any(covered.values()):
        # The budget cannot cover the deck: minutes are worth more on cards never seen than on
        # pulled-in last reviews (the simulated learner agrees: +1 to +1.5 points). A rule, not
        # a search, so that plans made on later days keep the same policy.
        share = 0.0
        scores.clear()
        best = max(grid, key=score)
    low = max(1, grid[max(0, grid.index(best) - 1)])
    high = grid[min(len(grid) - 1, grid.index(best) + 1)]
    for n in range(low, high + 1, max(1, (high - low) // 4)):
        score(n)
    # Among rates within half a point of the best, the fastest: cards met early have time to
    # be consolidated, and a missed day late in the plan costs less.
    top = max(scores.values())
    best = max(n for n, value in scores.items() if value >= top - TIE)
    run = _simulate(model, start, queue, horizon, budgets, best, today, PLAN_BRANCHES, True, share)
    return run, best


def _explain(
    plan_: Plan,
    model: _Model,
    start: list[_Card],
    queue: list[int],
    cards: Sequence[PlanCard],
    horizon: int,
    budgets: Sequence[float],
    today: date,
) -> Plan:
    """What would let every card in: more minutes, a later date, or fewer topics."""

    def covers(days: int, daily: Sequence[float], wanted: list[int]) -> bool:
        # As many new cards a day as the budget leaves after reviews: the fastest way in.
        run = _simulate(model, start, wanted, days, daily, len(wanted), today, 1, False)
        return run.introduced - (len(start) - len(queue)) >= len(wanted)

    # The same week shape (days off stay off), scaled; all days off: every day alike.
    top = max(budgets)
    shape = [b / top for b in budgets] if top > 0 else [1.0] * horizon
    low, high = 1.0, 1440.0
    if covers(horizon, [f * high for f in shape], queue):
        for _ in range(10):
            middle = (low + high) / 2
            if covers(horizon, [f * middle for f in shape], queue):
                high = middle
            else:
                low = middle
        minutes = math.ceil(high)
    else:
        minutes = None
    later = None
    mean_budget = sum(budgets) / len(budgets)
    for extra in [] if mean_budget <= 0 else [7, 14, 21, 30, 45, 60, 90, 120, 180, 270, 365]:
        days = horizon + extra
        if covers(days, [mean_budget] * days, queue):
            later = today + timedelta(days=days)
            break
    weights = {card.card_id: card.weight for card in cards}
    drop = None
    for cut in sorted({weights[i] for i in queue}):
        kept = [i for i in queue if weights[i] > cut]
        if not kept:
            break
        if covers(horizon, budgets, kept):
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
        minutes_to_cover_all=minutes if minutes is None else float(minutes),
        later_date=later,
        drop_topics_weight=drop,
    )
