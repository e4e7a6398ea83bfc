"""Stats: the review history and the schedule as terminal charts, one chart per tab.

Four charts, switched with 1-4 or Tab: reviews per day (the last 30 or 90 days, w toggles), the
cards coming due over the next 30 days, true retention by topic over the last 30 days, and how
far apart the scheduler has spread the review cards. A summary line above the tabs gives the
totals. Tabs rather than a 2x2 grid: at 80x24 a quarter of the screen is too small for a bar
chart to read.

Charts are drawn by textual-plotext, imported when the screen is built (it costs ~0.3 s, and the
app's cold start must stay under a second; this module is only imported when the learner opens
the screen). Plot backgrounds follow the app theme (textual-plotext's "auto" theme) and the bars
take the theme's primary colour, redrawn when the theme changes; bars are full blocks, so they
read the same without colour. The numbers are read in a thread worker.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.color import Color
from textual.screen import Screen
from textual.widgets import Footer, Static, TabbedContent, TabPane
from textual.worker import Worker, get_current_worker

from prepkit.progress import (
    Forecast,
    Intervals,
    Retention,
    ReviewDays,
    Streak,
    forecast,
    interval_distribution,
    retention_by_topic,
    review_days,
    streak,
)
from prepkit.tui.deliver import deliver
from prepkit.workspace import stats

if TYPE_CHECKING:
    from textual_plotext import PlotextPlot
    from textual_plotext.plot import Plot

    from prepkit.tui.app import PrepkitApp

CHARTS = ("reviews", "forecast", "retention", "intervals")
TITLES = {
    "reviews": "Reviews",
    "forecast": "Forecast",
    "retention": "Retention",
    "intervals": "Intervals",
}
WINDOWS = (30, 90)  # days of review history the reviews chart shows; w toggles
FORECAST_DAYS = 30
RETENTION_DAYS = 30
LABEL_WIDTH = 22  # topic titles on the retention chart
PLOT_CHROME_ROWS = 4  # a chart's title, frame top and bottom, and x labels
LOADING = "loading…"


@dataclass(frozen=True, slots=True)
class StatsData:
    """Everything the screen shows, read in one go by the worker."""

    total_reviews: int
    days: ReviewDays  # the longest window, ending today
    forecast: Forecast
    retention: Retention
    intervals: Intervals
    streak: Streak
    desired_retention: float


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def summary(data: StatsData) -> Text:
    """Two lines of totals above the charts (they fit 80 columns at 100,000 cards)."""
    recent = sum(day.reviews for day in data.days.days[-RETENTION_DAYS:])
    out = Text()
    out.append("Reviews ", style="bold")
    out.append(f"{data.total_reviews} in all · {recent} in {RETENTION_DAYS} days · ")
    out.append("Streak ", style="bold")
    out.append(f"{plural(data.streak.current, 'day')} (best {data.streak.longest})\n")
    out.append(f"True retention ({RETENTION_DAYS} d) ", style="bold")
    kept = data.retention
    if kept.retention is None:
        out.append("- (no answers to review cards)")
    else:
        out.append(f"{percent(kept.retention)} ({kept.passed}/{kept.reviews})")
    out.append(f", target {percent(data.desired_retention)} · ")
    out.append("Mean interval ", style="bold")
    mean = data.intervals.mean_days
    out.append("-" if mean is None else f"{mean:.1f} days")
    return out


def nice_ticks(top: int, count: int = 4) -> list[int]:
    """Whole-number axis ticks from 0 to at least `top`, about `count` steps of 1, 2 or 5 x 10^k."""
    if top <= 0:
        return [0, 1]
    raw = top / count
    magnitude = 1
    while magnitude * 10 <= raw:
        magnitude *= 10
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    last = -(-top // step) * step
    return list(range(0, last + 1, step))


def date_ticks(days: Sequence[date], today: int, count: int = 5) -> tuple[list[float], list[str]]:
    """About `count` evenly spaced x positions over `days`, labelled with short dates, the one
    at index `today` (0 or -1) as "today"."""
    last = len(days) - 1
    at = sorted({round(i * last / (count - 1)) for i in range(count)}) if last > 0 else [0]
    today_at = today % len(days)
    labels = ["today" if p == today_at else days[p].strftime("%b %d") for p in at]
    return [float(p) for p in at], labels


class StatsScreen(Screen[None]):
    """Charts of the history and the schedule, with a summary; see the module doc."""

    DEFAULT_CSS = """
    StatsScreen #stats-summary {
        height: auto;
        padding: 0 1;
        background: $panel;
    }
    StatsScreen #stats-tabs {
        height: 1fr;
    }
    StatsScreen TabPane {
        padding: 0;
    }
    StatsScreen .chart {
        height: 1fr;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(
                str(number), f"chart('{chart}')", TITLES[chart], show=False, id=f"stats.{chart}"
            )
            for number, chart in enumerate(CHARTS, 1)
        ),
        Binding("tab", "step(1)", "Next chart", tooltip="Show the next chart.", id="stats.next"),
        Binding("shift+tab", "step(-1)", "Previous chart", show=False, id="stats.previous"),
        Binding(
            "w",
            "toggle_window",
            "30/90 days",
            tooltip="Reviews per day over the last 30 or 90 days.",
            id="stats.window",
        ),
        Binding("r", "refresh", "Refresh", tooltip="Read the numbers again.", id="stats.refresh"),
        Binding(
            "escape", "app.switch_mode('dashboard')", "Dashboard", show=False, id="stats.leave"
        ),
    ]

    app: PrepkitApp

    def __init__(self) -> None:
        super().__init__(id="stats")
        self.window = WINDOWS[0]
        self.data: StatsData | None = None

    def compose(self) -> ComposeResult:
        from textual_plotext import PlotextPlot

        yield Static(LOADING, id="stats-summary")
        with TabbedContent(id="stats-tabs"):
            for number, chart in enumerate(CHARTS, 1):
                with TabPane(f"{number} {TITLES[chart]}", id=f"tab-{chart}"):
                    yield PlotextPlot(id=f"chart-{chart}", classes="chart")
        yield Footer()

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._draw_charts())
        for chart in CHARTS:
            plt = self.plot(chart).plt
            plt.title(LOADING)

    def on_screen_resume(self) -> None:
        """Shown, first or again (after studying): the numbers may have moved."""
        self.action_refresh()

    # -- actions ---------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.load(self.app.clock())

    def action_chart(self, chart: str) -> None:
        self.query_one(TabbedContent).active = f"tab-{chart}"

    def action_step(self, step: int) -> None:
        current = self.query_one(TabbedContent).active.removeprefix("tab-")
        index = CHARTS.index(current) if current in CHARTS else 0
        self.action_chart(CHARTS[(index + step) % len(CHARTS)])

    def action_toggle_window(self) -> None:
        self.window = self._other_window()
        self.action_chart("reviews")
        self._draw_reviews()

    # -- loading ---------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="stats")
    def load(self, now: datetime) -> None:
        """Read every number the screen shows, off the event loop."""
        worker = get_current_worker()
        workspace = self.app.workspace
        try:
            data = StatsData(
                total_reviews=stats(workspace, now).reviews,
                days=review_days(workspace, now, max(WINDOWS)),
                forecast=forecast(workspace, now, FORECAST_DAYS),
                retention=retention_by_topic(workspace, now, RETENTION_DAYS),
                intervals=interval_distribution(workspace, now),
                streak=streak(workspace, now),
                desired_retention=workspace.settings().desired_retention,
            )
        except Exception as exc:  # a read error is shown, not a reason to close the app
            self._deliver(worker, self._failed, f"Could not read progress: {exc}")
            return
        self._deliver(worker, self.show, data)

    def _deliver(self, worker: Worker[None], show: Callable[[Any], None], value: Any) -> None:
        deliver(self.app, worker, show, value)

    def _failed(self, message: str) -> None:
        self.query_one("#stats-summary", Static).update(Text(message, style="bold"))

    def show(self, data: StatsData) -> None:
        self.data = data
        self.query_one("#stats-summary", Static).update(summary(data))
        self._draw_charts()

    # -- charts ----------------------------------------------------------------------------

    def plot(self, chart: str) -> PlotextPlot:
        from textual_plotext import PlotextPlot

        return self.query_one(f"#chart-{chart}", PlotextPlot)

    def _bar_colour(self) -> tuple[int, int, int]:
        primary = self.app.theme_variables.get("primary", "#0178D4")
        r, g, b = Color.parse(primary).rgb
        return (r, g, b)

    def _draw_charts(self) -> None:
        if self.data is None or not self.is_mounted:
            return
        self._draw_reviews()
        self._draw_forecast()
        self._draw_retention()
        self._draw_intervals()

    def _start(self, chart: str) -> Plot:
        widget = self.plot(chart)
        plt = widget.plt
        plt.clear_figure()
        widget.refresh()
        return plt

    def _title(self, chart: str, labels: int, *candidates: str) -> None:
        """The longest of `candidates` that fits above the frame (plotext drops a title wider
        than the canvas beside the `labels`-wide axis labels), else the shortest, cut."""
        width = (self.plot(chart).size.width or self.size.width) - labels - 3
        fitting = [title for title in candidates if len(title) <= width]
        shortest = candidates[-1]
        title = fitting[0] if fitting else shortest[: max(0, width - 1)] + "…"
        self.plot(chart).plt.title(title)

    def on_resize(self) -> None:
        """Titles and the number of retention bars depend on the charts' size."""
        self.call_after_refresh(self._draw_charts)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """A chart shown for the first time has just been given its size."""
        chart = (event.pane.id or "").removeprefix("tab-")
        if chart in CHARTS:
            self.call_after_refresh(self._draw_chart, chart)

    def _draw_chart(self, chart: str) -> None:
        if self.data is None or not self.is_mounted:
            return
        {
            "reviews": self._draw_reviews,
            "forecast": self._draw_forecast,
            "retention": self._draw_retention,
            "intervals": self._draw_intervals,
        }[chart]()

    def _draw_reviews(self) -> None:
        if self.data is None:
            return
        plt = self._start("reviews")
        days = self.data.days.days[-self.window :]
        counts = [day.reviews for day in days]
        studied = sum(1 for c in counts if c)
        ticks = self._vertical_bars(plt, counts)
        head = f"Reviews per day, last {self.window} days: {sum(counts)}"
        self._title(
            "reviews",
            ticks,
            f"{head} reviews on {plural(studied, 'day')} (w: {self._other_window()} days)",
            f"{head} reviews on {plural(studied, 'day')}",
            head,
        )
        plt.xticks(*date_ticks([d.date for d in days], today=-1))

    def _other_window(self) -> int:
        return WINDOWS[(WINDOWS.index(self.window) + 1) % len(WINDOWS)]

    def _draw_forecast(self) -> None:
        if self.data is None:
            return
        plt = self._start("forecast")
        coming = self.data.forecast
        counts = [day.due for day in coming.days]
        ticks = self._vertical_bars(plt, counts)
        head = f"Cards coming due, next {FORECAST_DAYS} days: {sum(counts)}"
        overdue = coming.overdue
        self._title(
            "forecast",
            ticks,
            f"{head} (today's {counts[0]} include {overdue} overdue)" if overdue else head,
            f"{head} ({overdue} overdue today)" if overdue else head,
            head,
        )
        plt.xticks(*date_ticks([d.date for d in coming.days], today=0))

    def _retention_rows(self) -> int:
        """How many topic bars fit the retention chart: one row each, below the title and
        above the axis (the chart's own height once laid out, else the screen's less the
        summary, tabs and footer)."""
        height = self.plot("retention").size.height or max(0, self.size.height - 5)
        return max(3, height - PLOT_CHROME_ROWS)

    def _draw_retention(self) -> None:
        if self.data is None:
            return
        plt = self._start("retention")
        kept = self.data.retention
        target = percent(self.data.desired_retention)
        answered = [t for t in kept.topics if t.retention is not None]
        if not answered:
            self._title(
                "retention",
                0,
                f"True retention by topic, last {RETENTION_DAYS} days: no answers to review "
                "cards yet",
                "True retention: no answers to review cards yet",
            )
            return
        answered.sort(key=lambda t: (t.retention or 0.0, t.title))  # weakest on top
        rows = self._retention_rows()
        shown = answered[:rows]
        labels = [f"{_short(t.title)} {percent(t.retention)}" for t in shown]
        values = [round((t.retention or 0.0) * 100, 1) for t in shown]
        # plotext draws the first bar at the bottom: reverse, so the weakest is on top
        plt.bar(
            labels[::-1],
            values[::-1],
            orientation="horizontal",
            width=0.6,
            marker="█",
            color=self._bar_colour(),
        )
        plt.xlim(0, 100)
        plt.xticks([0.0, 25.0, 50.0, 75.0, 100.0], ["0%", "25%", "50%", "75%", "100%"])
        days, wanted = f"{RETENTION_DAYS} days", f"target {target}"
        silent = len(kept.topics) - len(answered)
        if len(answered) > len(shown):
            which = f"weakest {len(shown)} of {len(answered)} topics"
            candidates = [
                f"True retention, {which}, last {days} ({wanted})",
                f"True retention, {which}, {days} ({wanted})",
                f"Retention, {which} ({wanted})",
            ]
        else:
            candidates = [
                f"True retention by topic, last {days} ({wanted})"
                + (f"; {silent} without answers" if silent else ""),
                f"True retention by topic, last {days} ({wanted})",
                f"Retention by topic, {days} ({wanted})",
            ]
        self._title("retention", max(len(label) for label in labels), *candidates)

    def _draw_intervals(self) -> None:
        if self.data is None:
            return
        plt = self._start("intervals")
        spread = self.data.intervals
        mean = "-" if spread.mean_days is None else f"{spread.mean_days:.1f} days"
        counts = [bucket.cards for bucket in spread.buckets]
        ticks = self._vertical_bars(plt, counts)
        self._title(
            "intervals",
            ticks,
            f"Intervals of {plural(spread.cards, 'review card')}, mean {mean}",
            f"Intervals of {spread.cards} cards, mean {mean}",
        )
        plt.xticks([float(i) for i in range(len(counts))], [b.label for b in spread.buckets])

    def _vertical_bars(self, plt: Plot, counts: list[int]) -> int:
        """Bars over 0..n-1 on whole-number ticks; returns the width of the tick labels."""
        plt.bar(
            list(range(len(counts))),
            counts,
            width=0.8,
            marker="█",
            color=self._bar_colour(),
        )
        ticks = nice_ticks(max(counts, default=0))
        plt.ylim(0, ticks[-1])
        plt.yticks([float(t) for t in ticks], [str(t) for t in ticks])
        return len(str(ticks[-1]))


def _short(title: str) -> str:
    return title if len(title) <= LABEL_WIDTH else title[: LABEL_WIDTH - 1] + "…"
