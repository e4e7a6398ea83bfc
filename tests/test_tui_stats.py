"""The stats screen, driven with Pilot over a history made by answering cards at known times."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual.widgets import TabbedContent
from textual_plotext import PlotextPlot

from prepkit.progress import forecast, interval_distribution
from prepkit.schedule.review import Rating
from prepkit.study import StudySession
from prepkit.tui.app import PrepkitApp
from prepkit.workspace import Workspace

from .conftest import NOW
from .tui_helpers import shown_text

OLD = NOW - timedelta(days=40)  # outside the 30-day window
RECENT = NOW - timedelta(days=7)


def make_app(workspace: Workspace) -> PrepkitApp:
    return PrepkitApp(workspace, lambda: NOW, start="stats")


def study(workspace: Workspace, at: datetime, grades: list[int]) -> None:
    with StudySession(workspace, at) as session:
        for grade in grades:
            assert session.next(at) is not None
            session.answer(Rating(grade), at)


@pytest.fixture
def history(workspace: Workspace) -> Workspace:
    """Five cards learnt 40 days ago (new, then the 10-minute step), reviewed a week ago with one
    lapse: 15 reviews, 5 of them in the last 30 days, 4 of those 5 review-state answers passed."""
    study(workspace, OLD, [3] * 5)
    study(workspace, OLD + timedelta(minutes=10), [3] * 5)
    study(workspace, RECENT, [3, 3, 3, 3, 1])
    return workspace


async def loaded(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def chart(pilot, name: str) -> Text:
    """What the chart draws at its current size."""
    plot = pilot.app.screen.query_one(f"#chart-{name}", PlotextPlot)
    assert plot.size.width > 20 and plot.size.height > 8, plot.size
    rendered = plot.render()
    assert isinstance(rendered, Text)
    return rendered


def flat(text: Text) -> str:
    return " ".join(text.plain.split())


def active(pilot) -> str:
    return pilot.app.screen.query_one(TabbedContent).active


async def test_the_summary_gives_totals_retention_interval_and_streak(history: Workspace) -> None:
    intervals = interval_distribution(history, NOW)
    assert intervals.mean_days is not None
    async with make_app(history).run_test() as pilot:
        await loaded(pilot)
        summary = " ".join(shown_text(pilot.app.screen.query_one("#stats-summary")).split())
    assert "Reviews 15 in all · 5 in 30 days" in summary
    assert "True retention (30 d) 80% (4/5), target 90%" in summary
    assert f"Mean interval {intervals.mean_days:.1f} days" in summary
    assert "Streak 0 days (best 1)" in summary


async def test_each_chart_draws_its_numbers(history: Workspace) -> None:
    coming = sum(day.due for day in forecast(history, NOW, 30).days)
    async with make_app(history).run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        assert active(pilot) == "tab-reviews"
        reviews = flat(chart(pilot, "reviews"))
        assert "Reviews per day, last 30 days: 5 reviews on 1 day" in reviews
        assert "today" in reviews

        await pilot.press("w")  # the longer window
        assert "last 90 days: 15 reviews on 2 days" in flat(chart(pilot, "reviews"))

        await pilot.press("2")
        await pilot.pause()
        assert active(pilot) == "tab-forecast"
        assert f"Cards coming due, next 30 days: {coming}" in flat(chart(pilot, "forecast"))

        await pilot.press("3")
        await pilot.pause()
        retention = flat(chart(pilot, "retention"))
        assert "True retention by topic, last 30 days (target 90%)" in retention
        assert "Small test deck 80%" in retention

        await pilot.press("4")
        await pilot.pause()
        intervals = flat(chart(pilot, "intervals"))
        assert "Intervals of 4 review cards" in intervals  # the lapsed card is relearning
        assert "1d 2d 3-6d 1-2w 2-4w 1-3mo 3-6mo 6mo+" in intervals


async def test_tab_cycles_the_charts_and_escape_leads_to_the_dashboard(
    history: Workspace,
) -> None:
    async with make_app(history).run_test() as pilot:
        await loaded(pilot)
        seen = [active(pilot)]
        for _ in range(4):
            await pilot.press("tab")
            await pilot.pause()
            seen.append(active(pilot))
        assert seen == [
            "tab-reviews",
            "tab-forecast",
            "tab-retention",
            "tab-intervals",
            "tab-reviews",
        ]
        await pilot.press("shift+tab")
        assert active(pilot) == "tab-intervals"
        await pilot.press("escape")
        assert pilot.app.current_mode == "dashboard"


async def test_an_empty_history_draws_without_error(workspace: Workspace) -> None:
    async with make_app(workspace).run_test() as pilot:
        await loaded(pilot)
        summary = " ".join(shown_text(pilot.app.screen.query_one("#stats-summary")).split())
        assert "Reviews 0 in all" in summary
        assert "True retention (30 d) - (no answers to review cards)" in summary
        for number, name in enumerate(("reviews", "forecast", "retention", "intervals"), 1):
            await pilot.press(str(number))
            await pilot.pause()
            drawn = flat(chart(pilot, name))
            assert drawn
            if name == "retention":
                assert "no answers to review cards yet" in drawn


def colours(text: Text, glyph: str) -> set[Style]:
    return {
        span.style
        for span in text.spans
        if isinstance(span.style, Style) and glyph in text.plain[span.start : span.end]
    }


async def test_charts_follow_the_theme_and_fit_80x24(history: Workspace) -> None:
    async with make_app(history).run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        app = pilot.app
        summary = app.screen.query_one("#stats-summary")
        assert summary.region.y == 0 and summary.outer_size.height == 2
        for number, name in enumerate(("reviews", "forecast", "retention", "intervals"), 1):
            await pilot.press(str(number))
            await pilot.pause()
            plot = app.screen.query_one(f"#chart-{name}", PlotextPlot)
            assert plot.region.bottom <= 23 and plot.size.height >= 15  # above the footer
            assert "█" in chart(pilot, name).plain  # every chart has a bar at this history
        dark = chart(pilot, "intervals")
        app.theme = "textual-light"
        await pilot.pause()
        light = chart(pilot, "intervals")
        primary = Color.parse(app.theme_variables["primary"]).rgb
        bars = colours(light, "█")
        assert bars and all(s.color and s.color.triplet == primary for s in bars)
        backgrounds = {s.bgcolor for s in colours(light, " ") if s.bgcolor}
        assert backgrounds and backgrounds != {s.bgcolor for s in colours(dark, " ") if s.bgcolor}


async def test_no_color_terminals_get_the_charts_too(
    history: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    async with make_app(history).run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        assert pilot.app.no_color
        for number, name in enumerate(("reviews", "forecast", "retention", "intervals"), 1):
            await pilot.press(str(number))
            await pilot.pause()
            assert "█" in chart(pilot, name).plain
        screen = pilot.app.export_screenshot()  # the whole screen, through the NO_COLOR filter
        assert "Intervals" in screen
