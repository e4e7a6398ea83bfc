"""The planner applied to a learner: their cards, weights, date, minutes and answer times.

Reads the workspace in one snapshot and hands the pure planner plain values. Per-review costs
come from the learner's own answer durations once there are enough of them (the planner's
defaults are averages over Anki users). Weights are the posting weights of each card's topic;
a topic no posting names counts 1, as in the new-card order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from prepkit.config import Settings
from prepkit.errors import PrepkitError
from prepkit.schedule.days import day_start, to_ms
from prepkit.schedule.planner import Costs, Plan, PlanCard, PlanError, plan
from prepkit.store import models as m
from prepkit.store.queries import state_from_row
from prepkit.workspace import Workspace, topic_weights

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PLAN_LIMIT = 5000  # cards; beyond this a plan takes too long to make at every session start


@dataclass(frozen=True, slots=True)
class Budget:
    """Minutes a day, with exceptions by weekday ("sat": 120, "sun": 0)."""

    minutes: float
    weekdays: Mapping[str, float]

    def days(self, first: date, count: int) -> list[float]:
        return [
            float(self.weekdays.get(WEEKDAYS[(first + timedelta(days=i)).weekday()], self.minutes))
            for i in range(count)
        ]


def parse_weekdays(items: Sequence[str]) -> dict[str, float]:
    """`sat=120`, `sun=0` -> {"sat": 120.0, "sun": 0.0}; one clear error for anything else."""
    out: dict[str, float] = {}
    for item in items:
        name, _, value = item.partition("=")
        key = name.strip().lower()[:3]
        if key not in WEEKDAYS or not value.strip():
            raise PrepkitError(f"--day {item}: use a weekday and minutes, such as sat=120 or sun=0")
        try:
            minutes = float(value)
        except ValueError:
            raise PrepkitError(f"--day {item}: minutes must be a number") from None
        if not 0 <= minutes <= 1440:
            raise PrepkitError(f"--day {item}: minutes must be between 0 and 1440")
        out[key] = minutes
    return out


def interview_date(value: str | None) -> date:
    if not value:
        raise PrepkitError(
            "no interview date: give --interview YYYY-MM-DD, or set it with prepkit init "
            "--interview or in the app's settings"
        )
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PrepkitError(f"interview date: not a date (YYYY-MM-DD): {value}") from None


def make_plan(
    workspace: Workspace,
    now: datetime,
    interview: date | None = None,
    minutes: float | None = None,
    weekdays: Mapping[str, float] | None = None,
    settings: Settings | None = None,
    explain: bool = True,
) -> Plan:
    """The learner's plan from today's study day to the eve of the interview."""
    settings = settings or workspace.settings()
    when = interview or interview_date(settings.interview_date)
    start = day_start(now, settings.zone, settings.day_start_hour)
    today = start.astimezone(settings.zone).date()
    budget = Budget(
        float(settings.daily_minutes if minutes is None else minutes),
        dict(settings.day_minutes if weekdays is None else weekdays),
    )
    count = _active_count(workspace)
    if count > PLAN_LIMIT:  # counted first: reading 100,000 states only to refuse is slow
        raise PrepkitError(
            f"{count} cards to plan: the planner handles up to {PLAN_LIMIT} "
            "(suspend what you do not need for this interview)"
        )
    cards, costs, spent_ms = _read(workspace, to_ms(start))
    budgets = budget.days(today, max(0, (when - today).days))
    if budgets:  # what was studied earlier today comes out of today's minutes
        budgets[0] = max(0.0, budgets[0] - spent_ms / 60_000)
    try:
        return plan(
            cards,
            today,
            when,
            budgets,
            desired_retention=settings.desired_retention,
            costs=costs,
            parameters=settings.fsrs_parameters,
            today_start=start,
            explain=explain,
        )
    except PlanError as exc:
        raise PrepkitError(str(exc)) from None


def _active_count(workspace: Workspace) -> int:
    s, c = m.CardState, m.Card
    with workspace.read() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(s)
                .join(c, c.id == s.card_id)
                .where(
                    s.learner_id == workspace.learner_id,
                    c.retired_at.is_(None),
                    s.suspended.is_(False),
                )
            ).scalar_one()
        )


def _read(workspace: Workspace, since_ms: int) -> tuple[list[PlanCard], Costs, int]:
    weights = topic_weights(workspace)
    s, c, r = m.CardState, m.Card, m.Review
    with workspace.read() as conn:
        rows = conn.execute(
            select(
                c.id,
                c.deck_id,
                c.position,
                *m.MEMORY_COLUMNS,
            )
            .join(s, s.card_id == c.id)
            .where(
                s.learner_id == workspace.learner_id,
                c.retired_at.is_(None),
                s.suspended.is_(False),
            )
        ).all()
        answers = conn.execute(
            select(r.state_before, r.rating, r.duration_ms)
            .where(r.learner_id == workspace.learner_id, r.duration_ms.is_not(None))
            .order_by(r.id.desc())
            .limit(5000)
        ).all()
        spent = conn.execute(
            select(func.coalesce(func.sum(r.duration_ms), 0)).where(
                r.learner_id == workspace.learner_id, r.reviewed_at >= since_ms
            )
        ).scalar_one()
    cards = [
        PlanCard(
            card_id=int(row[0]),
            weight=weights.get(str(row[1]), 1.0),
            state=None if row[3] == 0 else state_from_row(row[3:]),
            order=int(row[2]),
        )
        for row in rows
    ]
    first = [(int(g), int(ms) / 1000) for before, g, ms in answers if before == 0 and ms]
    later = [(int(g), int(ms) / 1000) for before, g, ms in answers if before != 0 and ms]
    return cards, Costs.from_history(first, later), int(spent or 0)


def today_part(
    workspace: Workspace, now: datetime, settings: Settings
) -> tuple[list[int], list[int]] | None:
    """(reviews, new cards) the plan wants today, or None when there is nothing to plan for:
    no interview date, an interview today or past, or a library too big to plan."""
    if not settings.interview_date:
        return None
    try:
        when = date.fromisoformat(settings.interview_date)
    except ValueError:
        return None
    start = day_start(now, settings.zone, settings.day_start_hour)
    if when <= start.astimezone(settings.zone).date():
        return None
    try:
        result = make_plan(workspace, now, settings=settings, explain=False)
    except PrepkitError:
        return None
    first = result.days[0]
    return list(first.reviews), list(first.new)
