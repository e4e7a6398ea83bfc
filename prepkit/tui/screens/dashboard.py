"""The dashboard: how far the interview is, what today holds, and where the learner stands.

Top to bottom, most urgent first, so an 80x24 terminal shows the day's business without scrolling:

- the head: days to the interview, today's due and new cards with a time estimate beside the
  learner's daily minutes, reviews done and the streak, and the cards coming due on each of the
  next seven days (due counts from the scheduler; there is no day planner yet);
- topics, heaviest in the posting first, each with a readiness bar (the share of the deck the
  learner would recall now), cards studied of the deck's cards, and the posting weight;
- a heatmap of reviews over the last 26 weeks with the streak and totals beside it;
- the posting's minimum and preferred qualifications, each with how ready the learner is for it.

Only the interview line is drawn on the event loop; everything that reads the history runs in a
thread worker (at 100,000 cards `stats` takes ~0.3 s and readiness and qualifications ~0.3 s
each), so the first frame is immediate and the panels fill in as their numbers arrive.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Group, RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker, get_current_worker

from prepkit.config import Settings
from prepkit.schedule.metrics import study_date
from prepkit.study import StudySession
from prepkit.tui.deliver import deliver
from prepkit.tui.widgets.heatmap import Heatmap, days_needed
from prepkit.workspace import Stats, Workspace, stats

if TYPE_CHECKING:
    from prepkit.progress import (
        Forecast,
        Qualifications,
        Readiness,
        ReviewDays,
        Streak,
        StudyDay,
    )
    from prepkit.schedule.planner import Plan
    from prepkit.tui.app import PrepkitApp

HEATMAP_WEEKS = 26
FORECAST_DAYS = 7
BAR_WIDTH = 20
LOADING = "loading…"

# The time estimate, until a planner exists: seconds per answer from the learner's last 30 days
# (at least MIN_TIMED answers with a recorded duration), else a typical flashcard answer; a new
# card is answered about twice on its first day (first sight, then FSRS's 10-minute step).
DEFAULT_SECONDS_PER_ANSWER = 15.0
MIN_TIMED = 20
ANSWERS_PER_NEW_CARD = 2
RECENT_DAYS = 30


def days_left(interview: str | None, today: date) -> int | None:
    if not interview:
        return None
    try:
        return (date.fromisoformat(interview) - today).days
    except ValueError:
        return None


def interview_line(settings: Settings, today: date) -> str:
    left = days_left(settings.interview_date, today)
    if left is None or settings.interview_date is None:
        return "No interview date set (o: settings)."
    when = date.fromisoformat(settings.interview_date).strftime("%a %d %b %Y")
    if left > 1:
        return f"{left} days to the interview ({when})"
    if left == 1:
        return f"The interview is tomorrow ({when})"
    if left == 0:
        return f"The interview is today ({when})"
    return f"The interview was {-left} day{'s' if left < -1 else ''} ago ({when})"


def seconds_per_answer(recent: Sequence[StudyDay]) -> float:
    """The learner's own pace over recent days, or a typical one before there is enough of it."""
    timed = sum(day.reviews for day in recent if day.duration_ms)
    spent = sum(day.duration_ms for day in recent)
    if timed >= MIN_TIMED and spent > 0:
        return spent / 1000 / timed
    return DEFAULT_SECONDS_PER_ANSWER


def minutes_estimate(due: int, new: int, per_answer: float) -> int:
    """Minutes for today's due cards and new cards at `per_answer` seconds an answer."""
    answers = due + ANSWERS_PER_NEW_CARD * new
    return round(answers * per_answer / 60) if answers else 0


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def weight_text(weight: float) -> str:
    if weight <= 0:
        return "-"
    return f"{weight:.0f}" if weight == int(weight) else f"{weight:.1f}"


def bar(fraction: float | None, width: int, filled: Style, track: Style) -> Text:
    """A readiness bar: full blocks for the share done, light shade for the rest (readable
    without colour); a topic with any readiness shows at least a sliver."""
    share = min(1.0, max(0.0, fraction or 0.0))
    cells = round(share * width)
    if share > 0 and cells == 0:
        cells = 1
    return Text.assemble(("█" * cells, filled), ("░" * (width - cells), track))


@dataclass(frozen=True, slots=True)
class Today:
    """What the head needs, read in the worker."""

    stats: Stats
    new: int  # new cards today's session would still show (the daily limit applied)
    streak: Streak
    forecast: Forecast
    days: ReviewDays  # the heatmap's span, ending today
    plan: Plan | None = None  # the deadline plan, when there is an interview ahead


def _plan_or_none(workspace: Workspace, now: datetime, settings: Settings) -> Plan | None:
    """The deadline plan when an interview is ahead (and the library is small enough to plan);
    None sends the head back to plain due counts."""
    from prepkit.errors import PrepkitError
    from prepkit.planning import make_plan

    if not settings.interview_date:
        return None
    try:
        return make_plan(workspace, now, settings=settings, explain=True)
    except PrepkitError:
        return None


class DashboardScreen(Screen[None]):
    """Days to go, today's counts, topics by the posting's weight, the heatmap, qualifications."""

    DEFAULT_CSS = """
    DashboardScreen .dash-panel {
        height: auto;
        border: round $panel-lighten-2;
        border-title-color: $text;
        border-title-style: bold;
        padding: 0 1;
    }
    DashboardScreen #dash-activity-panel {
        height: auto;
    }
    DashboardScreen #dash-heatmap {
        margin: 0 2 0 0;
    }
    DashboardScreen #dash-activity {
        width: 1fr;
        height: auto;
    }
    DashboardScreen > .dash--bar {
        color: $accent;
    }
    DashboardScreen > .dash--track {
        color: $text-muted;
    }
    DashboardScreen > .dash--muted {
        color: $text-muted;
    }
    DashboardScreen > .dash--warn {
        color: $warning;
        text-style: bold;
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "dash--bar",
        "dash--track",
        "dash--muted",
        "dash--warn",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "app.switch_mode('study')",
            "Study now",
            tooltip="Start or resume today's session.",
            id="dashboard.study",
        ),
        Binding(
            "r",
            "refresh",
            "Refresh",
            tooltip="Read the numbers again.",
            id="dashboard.refresh",
        ),
    ]

    app: PrepkitApp

    def __init__(self) -> None:
        super().__init__(id="dashboard")
        self._today: Today | None = None
        self._readiness: Readiness | None = None
        self._qualifications: Qualifications | None = None
        self._error: str | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dash"):
            yield Static(id="dash-head", classes="dash-panel")
            with Vertical(id="dash-topics-panel", classes="dash-panel") as topics:
                topics.border_title = "Topics, heaviest in the posting first"
                yield Static(LOADING, id="dash-topics")
            with Horizontal(id="dash-activity-panel", classes="dash-panel") as activity:
                activity.border_title = f"Reviews, last {HEATMAP_WEEKS} weeks"
                yield Heatmap(HEATMAP_WEEKS, id="dash-heatmap")
                yield Static(id="dash-activity")
            with Vertical(id="dash-quals-panel", classes="dash-panel") as quals:
                quals.border_title = "Qualifications in the posting"
                yield Static(LOADING, id="dash-quals")
        yield Footer()

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._redraw())

    def on_screen_resume(self) -> None:
        """Shown, first or again (back from studying): the numbers may have moved."""
        self.action_refresh()

    def action_refresh(self) -> None:
        """Draw the interview line now; read everything else in a worker."""
        self._draw_head()
        self.load(self.app.clock())

    # -- loading ---------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="dashboard")
    def load(self, now: datetime) -> None:
        """Read the progress numbers off the event loop, the cheap ones first, and hand each
        panel its numbers as soon as they are read."""
        # progress pulls in the posting matcher (~50 ms): imported here, off the cold start
        from prepkit.progress import qualifications, readiness

        worker = get_current_worker()
        workspace = self.app.workspace
        steps: list[tuple[Callable[[], Any], Callable[[Any], None]]] = [
            (lambda: self._read_today(now), self._got_today),
            (lambda: readiness(workspace, now), self._got_readiness),
            (lambda: qualifications(workspace, now), self._got_qualifications),
        ]
        for read, show in steps:
            if worker.is_cancelled:
                return
            try:
                value = read()
            except Exception as exc:  # a read error is shown, not a reason to close the app
                self._deliver(worker, self._got_error, f"Could not read progress: {exc}")
                return
            self._deliver(worker, show, value)

    def _read_today(self, now: datetime) -> Today:
        from prepkit.progress import forecast, review_days, streak

        workspace = self.app.workspace
        settings = workspace.settings()
        today = study_date(now, settings.zone, settings.day_start_hour)
        plan = _plan_or_none(workspace, now, settings)
        if plan is not None and plan.days:
            new = len(plan.days[0].new)  # a session follows the plan: no need to open one
        else:
            # What a session opened now would hold: the daily limit less the new cards already
            # seen today. A session of its own, on this thread, so the app's session (perhaps
            # showing a card) is left as it is.
            with StudySession(workspace, now) as session:
                new = session.counts().new
        return Today(
            plan=plan,
            stats=stats(workspace, now),
            new=new,
            streak=streak(workspace, now),
            forecast=forecast(workspace, now, FORECAST_DAYS + 1),
            days=review_days(workspace, now, days_needed(today, HEATMAP_WEEKS)),
        )

    def _deliver(self, worker: Worker[None], show: Callable[[Any], None], value: Any) -> None:
        deliver(self.app, worker, show, value)

    def _got_today(self, today: Today) -> None:
        self._today = today
        self._error = None
        self._draw_head()
        self._draw_activity()

    def _got_readiness(self, ready: Readiness) -> None:
        self._readiness = ready
        self._draw_topics()

    def _got_qualifications(self, found: Qualifications) -> None:
        self._qualifications = found
        self._draw_qualifications()

    def _got_error(self, message: str) -> None:
        self._error = message
        self._draw_head()

    def _redraw(self) -> None:
        """The theme changed: draw again from what was read, in the new colours."""
        if not self.is_mounted:
            return
        self._draw_head()
        self._draw_topics()
        self._draw_activity()
        self._draw_qualifications()

    # -- drawing ---------------------------------------------------------------------------

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"dash--{name}", partial=True)

    def _draw_head(self) -> None:
        now = self.app.clock()
        settings = self.app.workspace.settings()
        line = Text(interview_line(settings, now.astimezone(settings.zone).date()), style="bold")
        parts: list[RenderableType] = [line]
        if self._error:
            parts.append(Text(self._error, style=self._style("warn")))
        if self._today is None:
            parts.append(Text(LOADING, style=self._style("muted")))
        else:
            parts.append(self._today_table(self._today, settings))
        self.query_one("#dash-head", Static).update(Group(*parts))

    def _plan_rows(self, table: Table, plan: Plan, settings: Settings) -> None:
        """Today's part of the deadline plan, the forecast for the morning, the next days."""
        muted, warn = self._style("muted"), self._style("warn")
        first = plan.days[0]
        line = Text(f"{len(first.reviews)} reviews + {len(first.new)} new")
        line.append(f" ≈ {round(first.minutes)} min", style="bold")
        line.append(f" of {round(first.budget)} (planned)")
        table.add_row("Today", line)
        morning = Text(f"{plan.expected_recall:.0%} recall expected", style="bold")
        if plan.feasible:
            morning.append(f" · all {plan.total} cards in")
        else:
            morning.append(f" · {plan.introduced} of {plan.total} cards fit", style=warn)
            if plan.minutes_to_cover_all:
                morning.append(f"; {plan.minutes_to_cover_all:g} min/day: all", style=warn)
        table.add_row("The day", morning)
        coming = plan.days[1 : FORECAST_DAYS + 1]
        minutes = Text("  ".join(f"{d.date.strftime('%a')[:2]} {round(d.minutes)}" for d in coming))
        minutes.append("  min planned", style=muted)
        table.add_row("Next days", minutes)

    def _today_table(self, today: Today, settings: Settings) -> Table:
        muted, warn = self._style("muted"), self._style("warn")
        table = Table.grid(padding=(0, 1))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        if today.plan is not None and today.plan.days:
            self._plan_rows(table, today.plan, settings)
            run = today.streak
            done = Text(f"{plural(today.stats.reviews_today, 'review')} today · ")
            done.append(f"streak {plural(run.current, 'day')} (best {run.longest})")
            table.add_row("Done", done)
            return table
        new, due = today.new, today.stats.due
        plan = Text()
        if due or new:
            plan.append(f"{due} due")
            if today.forecast.overdue:
                plan.append(f" ({today.forecast.overdue} overdue)")
            plan.append(f" + {new} new")
            recent = today.days.days[-RECENT_DAYS:]
            minutes = minutes_estimate(due, new, seconds_per_answer(recent))
            plan.append(f" ≈ {minutes} min", style="bold")
            plan.append(f" of your {settings.daily_minutes} min a day")
            if minutes > settings.daily_minutes:
                plan.append(" (over)", style=warn)
        else:
            plan.append("nothing left to study")
        table.add_row("Today", plan)
        run = today.streak
        done = Text(f"{plural(today.stats.reviews_today, 'review')} today · ")
        done.append(f"streak {plural(run.current, 'day')} (best {run.longest})")
        if run.current and not run.studied_today:
            done.append(" · study today to keep it", style=warn)
        table.add_row("Done", done)
        coming = today.forecast.days[1 : FORECAST_DAYS + 1]
        counts = Text("  ".join(f"{day.date.strftime('%a')[:2]} {day.due}" for day in coming))
        counts.append("  cards, not a plan", style=muted)
        table.add_row("Coming due", counts)
        return table

    def _draw_activity(self) -> None:
        today = self._today
        if today is None:
            return
        days = today.days
        counts = {day.date: day.reviews for day in days.days if day.reviews}
        self.query_one("#dash-heatmap", Heatmap).show(counts, days.days[-1].date)
        run = today.streak
        hours = days.minutes / 60
        lines = Text.assemble(
            ("Streak\n", "bold"),
            f" {plural(run.current, 'day')}\n",
            f" best {run.longest}\n",
            ("Studied\n", "bold"),
            f" {days.studied_days} of {len(days.days)} days\n",
            f" {plural(days.reviews, 'review')}",
        )
        if days.minutes >= 1:  # answers from `study --plain` carry no duration
            lines.append(f"\n {hours:.1f} h" if hours >= 1 else f"\n {round(days.minutes)} min")
        self.query_one("#dash-activity", Static).update(lines)

    def _draw_topics(self) -> None:
        ready = self._readiness
        if ready is None:
            return
        panel = self.query_one("#dash-topics-panel", Vertical)
        overall = percent(ready.overall)
        panel.border_title = (
            f"Topics, heaviest in the posting first · {overall} ready overall"
            if ready.weighted
            else f"Topics · {overall} ready overall (no posting weights)"
        )
        if not ready.topics:
            self.query_one("#dash-topics", Static).update("No decks yet (p: add a posting).")
            return
        muted = self._style("muted")
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column(ratio=1, no_wrap=True, overflow="ellipsis", min_width=10)
        table.add_column(width=BAR_WIDTH, no_wrap=True)
        table.add_column(justify="right", no_wrap=True)
        table.add_column(justify="right", no_wrap=True)
        table.add_column(justify="right", no_wrap=True)
        table.add_row(
            Text("topic", style=muted),
            Text("recall now", style=muted),
            Text("", style=muted),
            Text("studied", style=muted),
            Text("weight", style=muted),
        )
        filled, track = self._style("bar"), self._style("track")
        for topic in ready.topics:
            no_deck = topic.readiness is None
            table.add_row(
                Text(topic.title, style=muted if no_deck else ""),
                Text("no deck", style=muted)
                if no_deck
                else bar(topic.readiness, BAR_WIDTH, filled, track),
                percent(topic.readiness),
                f"{topic.introduced}/{topic.cards}",
                weight_text(topic.weight),
            )
        self.query_one("#dash-topics", Static).update(table)

    def _draw_qualifications(self) -> None:
        found = self._qualifications
        if found is None:
            return
        target = self.query_one("#dash-quals", Static)
        if not found.postings:
            target.update("No posting yet (p: add one).")
            return
        muted = self._style("muted")
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column(no_wrap=True)
        table.add_column(justify="right", no_wrap=True, width=4)
        table.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        for posting in found.postings:
            table.add_row(
                Text("", style=muted),
                Text(percent(posting.readiness), style="bold"),
                Text(posting.title, style="bold"),
            )
            for item in posting.items:
                uncovered = item.readiness is None
                table.add_row(
                    Text("min" if item.section == "minimum" else "pref", style=muted),
                    percent(item.readiness),
                    Text(item.text, style=muted if uncovered else ""),
                )
        legend = Text(
            "min/pref: minimum/preferred · %: recall of its topics now · -: no deck for it",
            style=muted,
        )
        target.update(Group(table, legend))
