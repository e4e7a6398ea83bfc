"""Allocation: how many cards of each kind take each course, for the most recall within budget.

Cards are independent except for the minutes they share, so the best plan is a linear program:
choose, for each group of alike cards (same weight, same memory), how many follow each priced
course (see `courses`), maximising the weighted expected recall on the interview morning while
every day's expected seconds stay within its budget. New cards are chosen in two steps: the day
each is introduced, then a course for each outcome of that first day (in the LP, each outcome's
share of the introduced cards is split among its courses). The LP is solved by HiGHS (highspy),
a well-kept open solver, in a fraction of a second for a few thousand cards.

Solving it exactly is why the planner's choices hold up without rules written down here: light
topics met once, late; heavy ones consolidated early and refreshed on the last days; a card
first answered Again seen again soon, one answered Easy left for the last week; the minutes of
the last days going to the cards whose recall they raise most per minute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from prepkit.schedule.courses import Calendar, Course, Intro, Model, blend


class AllocationError(RuntimeError):
    """The solver failed (it should not: doing nothing is always within budget)."""


class Infeasible(AllocationError):
    """No allocation meets the constraints (with `cover`: the budgets cannot see every card)."""


@dataclass(frozen=True, slots=True)
class Group:
    """Alike cards: `count` of them, each worth `weight`. Studied cards must take one of
    `courses` (the first is "no review"); new cards may be introduced by one of `intros`, or
    not at all."""

    weight: float
    count: int
    courses: Sequence[Course] = ()
    intros: Sequence[Intro] = ()
    studied: bool = True
    memory: tuple[float, float, int] | None = None  # studied: (stability, difficulty, last day)
    urgent: bool = False  # studied, in learning steps: reviewed on the first open day


Allotment = list[tuple[Course, float]]  # (course, how many cards of the group take it)
Key = tuple[int, ...]  # (group, course) | (group, intro) | (group, intro, outcome, course)

MIP_SECONDS = 1.0  # a safety net: the whole-number pass is small and usually takes milliseconds
ROUNDS = 40  # column-generation rounds at most (each adds the best course of every choice)
POLICY_ROUNDS = 2  # rounds of policies found by dynamic programming, after the menus
POLICY_HORIZON = 30  # days: beyond this the menus are kept (the policies take too long)
URGENT = 1.0  # a card in learning steps not seen today costs as much as forgetting it
WAIT = 0.001  # recall a day of waiting to introduce a card must buy (0.1 point of its weight)
EXTRA = 100_000  # course numbers from here on are policies, not menu courses


class _Menu:
    """Courses offered to one choice, as arrays: the LP prices them all at once."""

    def __init__(
        self, courses: Sequence[Course], days: int, price: float, first: int | None
    ) -> None:
        import numpy as np

        self.courses = courses
        self.first_review = np.array(
            [any(day == first and p > 0 for day, p in c.reviews) for c in courses], dtype=float
        )
        self.recall = np.array([c.recall for c in courses])
        self.cost = np.zeros((len(courses), days))
        for i, course in enumerate(courses):
            for day, seconds in course.seconds:
                self.cost[i, day] += seconds
        self.penalty = price * self.cost.sum(axis=1)


@dataclass(slots=True)
class _Choice:
    """One place in the LP where a course is chosen: a studied group's cards, or one outcome
    of one intro of a new group; `row` is the row its courses' columns count in."""

    key: Key  # without the course index
    weight: float
    menu: _Menu
    row: int
    memory: tuple[float, float, int, int] | None = None  # (S, D, last day, first review day)
    urgent: int | None = None  # the day a review must come (learning steps), if any


class _Program:
    """The LP, grown by column generation: rows are fixed; it starts with the "no review"
    course of every choice and each new group's intros, and each round adds, for every
    choice, the course whose reduced value (its worth less what its seconds cost at the day
    prices of the last solution) is highest, until none would improve the plan. A few hundred
    columns end up in the LP instead of tens of thousands."""

    def __init__(
        self, groups: Sequence[Group], budgets: Sequence[float], price: float, cover: bool
    ) -> None:
        self.seen: set[Key] = set()
        self.intros: set[Key] = set()  # new cards' intro columns
        self.today: set[Key] = set()  # ... of those, the ones that introduce today
        self.days = len(budgets)
        self.first = next((day for day, b in enumerate(budgets) if b > 0), None)
        self.lower: list[float] = [-_INF] * self.days
        self.upper: list[float] = [float(b) for b in budgets]
        self.choices: list[_Choice] = []
        self.keys: list[Key] = []
        self.columns: list[Column] = []
        self.extra: dict[Key, Course] = {}  # courses found by `policy`, beyond the menus
        self.found: dict[Key, int] = {}  # how many of those each choice has
        self.price = price
        menus: dict[int, _Menu] = {}

        def menu(courses: Sequence[Course]) -> _Menu:
            if id(courses) not in menus:
                menus[id(courses)] = _Menu(courses, self.days, price, self.first)
            return menus[id(courses)]

        for g, group in enumerate(groups):
            if group.studied:
                row = self.row(float(group.count), float(group.count))
                memory = (*group.memory, 0) if group.memory else None
                urgent = self.first if group.urgent else None
                choice = _Choice((g,), group.weight, menu(group.courses), row, memory, urgent)
                self.choices.append(choice)
                continue
            cards = self.row(float(group.count) if cover else 0.0, float(group.count))
            for k, intro in enumerate(group.intros):
                links = [self.row(0.0, 0.0) for _ in intro.outcomes]
                rows = [cards, intro.day, *links]
                values = [1.0, intro.seconds, *(-p for p, _ in intro.outcomes)]
                # Waiting must buy something: a day missed later, or a new card that turns out
                # harder than it looked, costs less when cards are met early.
                objective = -price * intro.seconds - WAIT * group.weight * intro.day
                self.add((g, k), objective, rows, values)
                self.intros.add((g, k))
                if intro.day == 0:
                    self.today.add((g, k))
                for o, (link, (_p, courses)) in enumerate(zip(links, intro.outcomes, strict=True)):
                    memory = (
                        (*intro.memories[o], intro.day, intro.day + 1) if intro.memories else None
                    )
                    self.choices.append(
                        _Choice((g, k, o), group.weight, menu(courses), link, memory)
                    )
        for choice in self.choices:
            self.offer(choice, 0)

    def row(self, lower: float, upper: float) -> int:
        self.lower.append(lower)
        self.upper.append(upper)
        return len(self.lower) - 1

    def add(self, key: Key, objective: float, rows: list[int], values: list[float]) -> None:
        self.keys.append(key)
        self.seen.add(key)
        self.columns.append((objective, rows, values))

    def worth(self, choice: _Choice, course: Course) -> float:
        """A course's value in the LP's objective: weighted recall, less what its seconds must
        buy, plus the bonus for seeing a card in learning steps on the day it is due."""
        spent = sum(seconds for _day, seconds in course.seconds)
        value = choice.weight * course.recall - self.price * spent
        if choice.urgent is not None and any(
            d == choice.urgent and p > 0 for d, p in course.reviews
        ):
            value += URGENT * choice.weight
        return value

    def _column(self, choice: _Choice, key: Key, course: Course) -> None:
        rows, values = [choice.row], [1.0]
        for day, seconds in course.seconds:
            if seconds > 0:
                rows.append(day)
                values.append(seconds)
        self.add(key, self.worth(choice, course), rows, values)

    def offer(self, choice: _Choice, i: int) -> bool:
        """Add course i of a choice's menu as a column (False if it is already there)."""
        key = (*choice.key, i)
        if key in self.seen:
            return False
        self._column(choice, key, choice.menu.courses[i])
        return True

    def add_course(self, choice: _Choice, course: Course) -> None:
        """Add a course found by `policy` (beyond the menu) as a column of this choice."""
        found = self.found.get(choice.key, 0)
        self.found[choice.key] = found + 1
        key = (*choice.key, EXTRA + found)
        self._column(choice, key, course)
        self.extra[key] = course

    def policies(self, duals: Sequence[float], model: Model, calendar: Calendar) -> int:
        """Offer every choice the best policy at the day prices of `duals` (see `policy`),
        where it is worth more than its row's price; how many were offered."""
        from prepkit.schedule.policy import Policies

        prices = [duals[day] + self.price for day in range(self.days)]
        by_weight: dict[float, Policies] = {}
        offered = 0
        for choice in self.choices:
            if choice.memory is None:
                continue
            if choice.weight not in by_weight:
                by_weight[choice.weight] = Policies(model, calendar, prices, choice.weight)
            s, d, last, start = choice.memory
            course = by_weight[choice.weight].course(s, d, last, start, choice.urgent)
            cost = sum(duals[day] * seconds for day, seconds in course.seconds)
            if self.worth(choice, course) - cost - duals[choice.row] > 1e-6:
                self.add_course(choice, course)
                offered += 1
        return offered

    def improving(self, duals: Sequence[float]) -> list[tuple[_Choice, int]]:
        """The best course of every choice, where it is worth more than the row's price."""
        import numpy as np

        prices = np.array(duals[: self.days])
        out: list[tuple[_Choice, int]] = []
        priced: dict[int, object] = {}
        for choice in self.choices:
            menu = choice.menu
            if id(menu) not in priced:
                priced[id(menu)] = menu.cost @ prices + menu.penalty
            base = priced[id(menu)]
            values = choice.weight * menu.recall - base  # type: ignore[operator]
            if choice.urgent is not None:
                values = values + URGENT * choice.weight * menu.first_review
            i = int(np.argmax(values))
            if float(values[i]) - duals[choice.row] > 1e-7 and (*choice.key, i) not in self.seen:
                out.append((choice, i))
        return out


_INF = float("inf")


Column = tuple[float, list[int], list[float]]  # (objective, rows, coefficients)


def _model(
    columns: Sequence[Column],
) -> tuple[int, list[float], list[int], list[int], list[float]]:
    """Columns in HiGHS's column-wise form: count, costs, starts, row indices, values."""
    costs: list[float] = []
    starts: list[int] = []
    index: list[int] = []
    value: list[float] = []
    for objective, rows, values in columns:
        costs.append(objective)
        starts.append(len(index))
        index.extend(rows)
        value.extend(values)
    return len(costs), costs, starts, index, value


def allocate(
    groups: Sequence[Group],
    budgets: Sequence[float],
    price: float = 0.0,
    cover: bool = False,
    pricing: tuple[Model, Calendar] | None = None,
) -> list[Allotment]:
    """Which courses each group's cards take, and how many (fractions: the planner rounds
    them), given each day's budget in seconds. A new card's course is its intro's blend of the
    courses its first-day outcomes take.

    `price` is what a second of study must buy, in weighted recall: with minutes to spare the
    best plan would otherwise add reviews that gain a tenth of a point, and a budget is a
    ceiling, not a target. With `cover`, every new card must be introduced (Infeasible when
    the budgets cannot do that). With `pricing`, once the menus have nothing more to offer,
    every choice is also offered its best review policy at the LP's day prices (`policy`)."""
    import highspy
    import numpy as np
    from highspy._core import _Highs  # the public wrapper prints a banner on stdout when made

    program = _Program(groups, budgets, price, cover)
    if not program.columns:
        return [[] for _ in groups]
    solver = _Highs()
    solver.setOptionValue("output_flag", False)
    solver.setOptionValue("simplex_strategy", 4)  # primal: added columns keep the basis feasible
    rows = len(program.lower)
    solver.addRows(
        rows,
        np.array(program.lower),
        np.array(program.upper),
        0,
        np.zeros(rows, np.int32),
        np.zeros(0, np.int32),
        np.zeros(0),
    )
    solver.changeObjectiveSense(highspy.ObjSense.kMaximize)
    done = 0
    policy_rounds = POLICY_ROUNDS if pricing and len(budgets) <= POLICY_HORIZON else 0
    for _round in range(ROUNDS + policy_rounds):
        count, costs, starts, index, value = _model(program.columns[done:])
        solver.addCols(
            count,
            np.array(costs),
            np.zeros(count),
            np.full(count, highspy.kHighsInf),
            len(index),
            np.array(starts, np.int32),
            np.array(index, np.int32),
            np.array(value),
        )
        done = len(program.columns)
        solver.run()
        status = solver.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            raise Infeasible("the budgets cannot introduce every card")
        if status != highspy.HighsModelStatus.kOptimal:
            raise AllocationError(f"the planner's solver stopped: {status}")
        duals = list(solver.getSolution().row_dual)
        better = program.improving(duals)
        for choice, i in better:
            program.offer(choice, i)
        if better:
            continue
        if policy_rounds == 0 or pricing is None or not program.policies(duals, *pricing):
            break
        policy_rounds -= 1
    x = _today_whole(solver, program) or list(solver.getSolution().col_value)
    solution = {key: max(0.0, v) for key, v in zip(program.keys, x, strict=True) if v > 1e-9}
    return [_allotment(g, group, solution, program.extra) for g, group in enumerate(groups)]


def _today_whole(solver: Any, program: _Program) -> list[float] | None:
    """The solution again with whole numbers where today depends on them: how many new cards
    of each group are introduced today, and which course each studied card takes (it may have
    a review today). Later introductions stay fractions: tomorrow's plan decides them afresh.
    Solved on the columns the LP uses plus every "no review" course and intro (a small
    program); None when the solver finds nothing in MIP_SECONDS (the planner then rounds)."""
    import highspy
    import numpy as np
    from highspy._core import _Highs

    fractions = list(solver.getSolution().col_value)
    keep = [
        i
        for i, (key, v) in enumerate(zip(program.keys, fractions, strict=True))
        if v > 1e-9 or key[-1] == 0 or key in program.intros
    ]
    whole = [
        len(key) == 2 and (key in program.today or key not in program.intros)
        for key in (program.keys[i] for i in keep)
    ]
    if not any(whole):
        return None
    count, costs, starts, index, value = _model([program.columns[i] for i in keep])
    kinds = highspy.HighsVarType
    lp = highspy.HighsLp()
    lp.num_col_ = count
    lp.num_row_ = len(program.lower)
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = np.array(costs)
    lp.col_lower_ = np.zeros(count)
    lp.col_upper_ = np.full(count, highspy.kHighsInf)
    lp.row_lower_ = np.array(program.lower)
    lp.row_upper_ = np.array(program.upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.array([*starts, len(index)], dtype=np.int32)
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(value)
    lp.integrality_ = [kinds.kInteger if w else kinds.kContinuous for w in whole]
    mip = _Highs()
    mip.setOptionValue("output_flag", False)
    mip.setOptionValue("time_limit", MIP_SECONDS)
    mip.setOptionValue("mip_rel_gap", 1e-4)
    mip.passModel(lp)
    mip.run()
    found = mip.getModelStatus() == highspy.HighsModelStatus.kOptimal or (
        mip.getInfo().primal_solution_status == 2  # feasible, out of time
    )
    if not found:
        return None
    x = [0.0] * len(fractions)
    for i, v in zip(keep, mip.getSolution().col_value, strict=True):
        x[i] = float(v)
    return x


def _allotment(
    g: int, group: Group, solution: dict[Key, float], extra: dict[Key, Course]
) -> Allotment:
    def course(key: Key, courses: Sequence[Course]) -> Course:
        return extra[key] if key[-1] >= EXTRA else courses[key[-1]]

    if group.studied:
        return [
            (course(key, group.courses), amount)
            for key, amount in solution.items()
            if len(key) == 2 and key[0] == g
        ]
    out: Allotment = []
    for k, intro in enumerate(group.intros):
        cards = solution.get((g, k), 0.0)
        if cards <= 1e-9:
            continue
        chosen: list[list[tuple[Course, float]]] = [[] for _ in intro.outcomes]
        for key, amount in solution.items():
            if len(key) == 4 and key[:2] == (g, k):
                courses = intro.outcomes[key[2]][1]
                chosen[key[2]].append((course(key, courses), amount / cards))
        out.append((blend(intro, chosen), cards))
    return out
