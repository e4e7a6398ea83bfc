"""The dashboard, driven with Pilot over a history made by answering cards at known times."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta

from prepkit.postings import generate_for
from prepkit.progress import qualifications
from prepkit.schedule.review import Rating, State
from prepkit.study import StudySession
from prepkit.tui.app import PrepkitApp
from prepkit.tui.widgets.heatmap import DAY_LABELS, EMPTY, LEVELS, render_heatmap
from prepkit.workspace import Workspace, add_posting, stats

from .conftest import LIBRARY, NOW
from .tui_helpers import shown_text

EXAMPLE = LIBRARY / "postings" / "example-ml-systems.txt"
TUESDAY = NOW - timedelta(days=3)  # NOW is Friday 27 November 2026


def make_app(workspace: Workspace) -> PrepkitApp:
    return PrepkitApp(workspace, lambda: NOW, start="dashboard")


def study(workspace: Workspace, at: datetime, grades: list[int]) -> list[tuple[str, State]]:
    """Answer today's cards in the session's order; (deck, state before) of each answered."""
    answered = []
    with StudySession(workspace, at) as session:
        for grade in grades:
            shown = session.next(at)
            assert shown is not None
            answered.append((shown.card.deck, shown.state.state))
            session.answer(Rating(grade), at)
    return answered


def with_interview(workspace: Workspace, day: str) -> None:
    workspace.save_settings(replace(workspace.settings(), interview_date=day))


async def loaded(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def text(pilot, selector: str) -> str:
    return shown_text(pilot.app.screen.query_one(selector))


def row(block: str, start: str) -> str:
    found = [line for line in block.splitlines() if line.strip().startswith(start)]
    assert found, f"no line starting {start!r} in:\n{block}"
    return found[0]


async def test_the_head_shows_days_left_and_todays_cards(workspace: Workspace) -> None:
    with_interview(workspace, "2026-12-18")
    study(workspace, TUESDAY, [3, 3])  # two new cards into learning, due again since Tuesday
    async with make_app(workspace).run_test() as pilot:
        await loaded(pilot)
        head = text(pilot, "#dash-head")
    assert "21 days to the interview" in head
    # with an interview ahead the head shows the plan: the two overdue learning cards and the
    # three cards never seen, all today (the plan introduces cards early), at the planner's
    # costs (no timed history yet): 2 reviews + 3 new is about 2 minutes
    assert "2 reviews + 3 new ≈ 2 min of 30 (planned)" in head
    assert "recall expected · all 5 cards in" in head
    assert "0 reviews today" in head
    assert "streak 0 days (best 1)" in head


async def test_the_head_counts_what_was_studied_after_a_session(workspace: Workspace) -> None:
    async with make_app(workspace).run_test() as pilot:
        await loaded(pilot)
        assert "5 new" in text(pilot, "#dash-head")
        await pilot.press("enter")
        assert pilot.app.current_mode == "study"
        await pilot.press("space", "4")  # the basic card, Easy: out of today's queue
        await pilot.press("escape", "escape")  # out of the next card's answer box, then back
        assert pilot.app.current_mode == "dashboard"
        await loaded(pilot)
        head = text(pilot, "#dash-head")
    assert "1 review today" in head
    assert "4 new" in head
    assert "streak 1 day" in head


async def test_r_reads_the_numbers_again(workspace: Workspace) -> None:
    async with make_app(workspace).run_test() as pilot:
        await loaded(pilot)
        assert "0 reviews today" in text(pilot, "#dash-head")
        study(workspace, NOW, [4, 4])  # elsewhere, e.g. `prepkit study --plain` in another shell
        await pilot.press("r")
        await loaded(pilot)
        head = text(pilot, "#dash-head")
    assert "2 reviews today" in head
    assert "3 new" in head


async def test_the_head_without_an_interview_date(workspace: Workspace) -> None:
    async with make_app(workspace).run_test() as pilot:
        assert "No interview date set" in text(pilot, "#dash-head")  # before anything loads
        await loaded(pilot)
        assert "No interview date set" in text(pilot, "#dash-head")


async def test_the_heatmap_marks_a_study_day_apart_from_an_empty_one(
    workspace: Workspace,
) -> None:
    study(workspace, TUESDAY, [3, 3, 3])
    async with make_app(workspace).run_test() as pilot:
        await loaded(pilot)
        heatmap = text(pilot, "#dash-heatmap")
        activity = text(pilot, "#dash-activity")
    # this week is the last column: Tuesday had the only reviews, so the darkest glyph;
    # Wednesday had none
    tuesday = row(heatmap, DAY_LABELS[1]).split()
    wednesday = row(heatmap, DAY_LABELS[2]).split()
    assert tuesday[-1] == LEVELS[-1]
    assert wednesday[-1] == EMPTY
    assert set(tuesday[1:-1]) == {EMPTY}  # nothing earlier
    assert f"{LEVELS[-1]} 3" in heatmap  # the legend names the count the glyph stands for
    assert "3 reviews" in activity


def add_example_posting(workspace: Workspace) -> None:
    text_ = EXAMPLE.read_text(encoding="utf-8")
    add_posting(workspace, generate_for(text_, str(EXAMPLE)), text_, str(EXAMPLE), NOW)


async def test_topics_are_ordered_by_posting_weight_with_readiness_bars(
    workspace: Workspace,
) -> None:
    add_example_posting(workspace)
    # answered just now, a studied card is surely recalled: a deck's readiness is the share of
    # its cards studied
    answered = study(workspace, NOW, [3] * 12)
    assert all(state == State.NEW for _, state in answered)
    deck, count = Counter(deck for deck, _ in answered).most_common(1)[0]
    topic = next(t for t in stats(workspace, NOW).topics if t.id == deck)
    async with make_app(workspace).run_test(size=(100, 40)) as pilot:
        await loaded(pilot)
        topics = text(pilot, "#dash-topics")
        title = str(pilot.app.screen.query_one("#dash-topics-panel").border_title)
    assert "heaviest in the posting first" in title
    lines = [line for line in topics.splitlines() if "/" in line]
    assert lines[0].startswith("Research practice")  # weight 6, the heaviest
    assert lines[0].split()[-1] == "6"
    assert lines[-1].split()[-1] == "-"  # the practice deck: no posting asks for it
    line = row(topics, topic.title)
    share = count / topic.cards
    assert f" {share:.0%} " in line
    assert f" {count}/{topic.cards} " in line
    assert line.count("█") == round(share * 20)  # the bar is 20 cells wide


async def test_qualifications_are_listed_with_their_readiness(workspace: Workspace) -> None:
    add_example_posting(workspace)
    study(workspace, NOW, [3] * 12)
    expected = qualifications(workspace, NOW).postings[0]
    assert any(item.readiness for item in expected.items)
    async with make_app(workspace).run_test(size=(100, 40)) as pilot:
        await loaded(pilot)
        shown = text(pilot, "#dash-quals")
    assert expected.title in shown
    listed = [line.split() for line in shown.splitlines()]
    listed = [words for words in listed if words and words[0] in ("min", "pref")]
    assert len(listed) == len(expected.items)
    for item, words in zip(expected.items, listed, strict=True):
        assert words[0] == ("min" if item.section == "minimum" else "pref")
        assert words[1] == ("-" if item.readiness is None else f"{item.readiness:.0%}")
        assert item.text.startswith(" ".join(words[2:5]))


async def test_at_80x24_the_day_fits_and_every_panel_scrolls_into_view(
    workspace: Workspace,
) -> None:
    with_interview(workspace, "2026-12-18")
    add_example_posting(workspace)
    study(workspace, TUESDAY, [3, 3, 1, 4])
    async with make_app(workspace).run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        screen = pilot.app.screen
        assert screen.query_one("#dash").max_scroll_x == 0  # nothing wider than the terminal
        head = screen.query_one("#dash-head")
        # the interview, then today's plan, the forecast, the next days, done: none wrapped
        assert head.region.y == 0 and head.outer_size.height == 7
        topics = screen.query_one("#dash-topics-panel")
        assert topics.region.y < 23  # the topics start on the first screen
        for panel in ("#dash-activity-panel", "#dash-quals-panel"):  # Page Down reaches them
            widget = screen.query_one(panel)
            for _ in range(5):
                if 0 <= widget.region.y < 23:
                    break
                await pilot.press("pagedown")
                await pilot.pause()
            assert 0 <= widget.region.y < 23, panel
        assert EMPTY in text(pilot, "#dash-heatmap")


def test_heatmap_levels_read_without_colour() -> None:
    today = NOW.date()
    counts = {today - timedelta(days=i): i for i in range(1, 31)}  # 30 reviews 30 days ago
    drawn = render_heatmap(counts, today).plain
    grid = "".join(line[3:] for line in drawn.splitlines()[1:8])
    assert set(grid.replace(" ", "")) == {EMPTY, *LEVELS}  # five distinct glyphs, no colour
    assert drawn.splitlines()[-1].split() == (
        [EMPTY, "0", "░", "1-7", "▒", "8-15", "▓", "16-22", "█", "23-30", "reviews", "a", "day"]
    )
