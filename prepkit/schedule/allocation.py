"""Allocation: how many cards of each kind take each course, for the most recall within budget.

Cards are independent except for the minutes they share, so the best plan is a linear program:
choose, for each group of alike cards (same weight, same memory), how many follow each priced
course (see `courses`), maximising the weighted expected recall on the interview morning while
every day's expected seconds stay within its budget. The LP is solved by HiGHS (highspy), a
well-kept open solver, in tens of milliseconds for a few thousand cards; it gives a fractional
answer, which the planner rounds card by card.

Solving it exactly is also why the planner's choices hold up: light topics met once, late; heavy
ones consolidated early and refreshed on the last days; the minutes of the last days going to
the cards whose recall they raise most per minute. None of that is a rule written down here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from prepkit.schedule.courses import Course

MIP_SECONDS = 0.3  # the whole-number pass gives up after this and keeps the LP's fractions


class AllocationError(RuntimeError):
    """The solver failed (it should not: doing nothing is always within budget)."""


class Infeasible(AllocationError):
    """No allocation meets the constraints (with `cover`: the budgets cannot see every card)."""


@dataclass(frozen=True, slots=True)
class Group:
    """Alike cards: `count` of them, each worth `weight`, offered the same `courses`.
    Cards already studied must take one course (one of them is "no review"); new cards may
    take none (never introduced)."""

    weight: float
    count: int
    courses: Sequence[Course]
    studied: bool


def allocate(
    groups: Sequence[Group], budgets: Sequence[float], price: float = 0.0, cover: bool = False
) -> list[list[float]]:
    """How many cards of each group follow each of its courses, given each day's budget in
    seconds: whole numbers where the solver finds them in time, else the LP's fractions.

    `price` is what a second of study must buy, in weighted recall: with minutes to spare the
    best plan would otherwise add reviews that gain a tenth of a point, and a budget is a
    ceiling, not a target. With `cover`, every new card must be introduced (Infeasible when
    the budgets cannot do that).

    The LP's answer uses at most one course per group and day with a fraction; rounding those
    by hand can put a day over budget and then drop a heavy card where a light one should go.
    So the courses the LP used are solved again as an integer program (small: a basic solution
    has no more courses in use than groups plus days), which picks the best whole numbers; new
    cards may also be introduced without review on any day, for the seconds left over."""
    shares = _solve(groups, budgets, price, whole=False, cover=cover)
    support = [
        [
            i
            for i, (course, x) in enumerate(zip(group.courses, share, strict=True))
            if x > 1e-7 or (group.studied and i == 0) or (not group.studied and not course.reviews)
        ]
        for group, share in zip(groups, shares, strict=True)
    ]
    narrowed = [
        Group(group.weight, group.count, [group.courses[i] for i in keep], group.studied)
        for group, keep in zip(groups, support, strict=True)
    ]
    try:
        whole = _solve(narrowed, budgets, price, whole=True, cover=cover)
    except AllocationError:
        try:  # no whole numbers introduce every card on these courses: the planner fills in
            whole = _solve(narrowed, budgets, price, whole=True, cover=False)
        except AllocationError:
            return shares
    out: list[list[float]] = []
    for group, keep, counts in zip(groups, support, whole, strict=True):
        row = [0.0] * len(group.courses)
        for i, count in zip(keep, counts, strict=True):
            row[i] = float(round(count))
        out.append(row)
    return out


def _solve(
    groups: Sequence[Group], budgets: Sequence[float], price: float, whole: bool, cover: bool
) -> list[list[float]]:
    import highspy
    import numpy as np
    from highspy._core import _Highs  # the public wrapper prints a banner on stdout when made

    days = len(budgets)
    cost: list[float] = []
    starts: list[int] = [0]
    index: list[int] = []
    value: list[float] = []
    for g, group in enumerate(groups):
        for course in group.courses:
            spent = sum(seconds for _day, seconds in course.seconds)
            cost.append(group.weight * course.recall - price * spent)
            index.append(days + g)
            value.append(1.0)
            for day, seconds in course.seconds:
                if seconds > 0:
                    index.append(day)
                    value.append(seconds)
            starts.append(len(index))
    columns = len(cost)
    if columns == 0:
        return [[] for _ in groups]
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_ = columns
    lp.num_row_ = days + len(groups)
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = np.array(cost)
    lp.col_lower_ = np.zeros(columns)
    lp.col_upper_ = np.full(columns, inf)
    lp.row_lower_ = np.array(
        [-inf] * days + [float(g.count) if g.studied or cover else 0.0 for g in groups]
    )
    lp.row_upper_ = np.array([float(b) for b in budgets] + [float(g.count) for g in groups])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(value)
    if whole:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * columns
    solver = _Highs()
    solver.setOptionValue("output_flag", False)
    if whole:
        solver.setOptionValue("time_limit", MIP_SECONDS)
        solver.setOptionValue("mip_rel_gap", 1e-4)
    solver.passModel(lp)
    solver.run()
    status = solver.getModelStatus()
    found = status == highspy.HighsModelStatus.kOptimal or (
        whole and solver.getInfo().primal_solution_status == 2  # feasible, out of time
    )
    if status == highspy.HighsModelStatus.kInfeasible:
        raise Infeasible("the budgets cannot introduce every card")
    if not found:
        raise AllocationError(f"the planner's solver stopped: {status}")
    x = list(solver.getSolution().col_value)
    out: list[list[float]] = []
    at = 0
    for group in groups:
        out.append([max(0.0, v) for v in x[at : at + len(group.courses)]])
        at += len(group.courses)
    return out
