"""What the screens look like at 80x24, with the clock fixed: SVG snapshots.

Update them with `pytest --snapshot-update tests/test_tui_snapshots.py` only after looking at
the report of what changed.
"""

from __future__ import annotations

import pytest

from prepkit.config import Settings
from prepkit.tui.app import PrepkitApp
from prepkit.workspace import Workspace

from .conftest import NOW

pytest.importorskip("pytest_textual_snapshot")


def app_for(workspace: Workspace, start: str) -> PrepkitApp:
    return PrepkitApp(workspace, lambda: NOW, start=start)


def test_study_front(snap_compare, workspace: Workspace) -> None:
    assert snap_compare(app_for(workspace, "study"), terminal_size=(80, 24))


def test_study_revealed(snap_compare, workspace: Workspace) -> None:
    assert snap_compare(app_for(workspace, "study"), press=["space"], terminal_size=(80, 24))


def test_study_typed_answer_checked(snap_compare, workspace: Workspace) -> None:
    keys = ["space", "3", "1", "2", "enter"]  # a wrong answer to the numeric card
    assert snap_compare(app_for(workspace, "study"), press=keys, terminal_size=(80, 24))


def test_study_light_theme(snap_compare, workspace: Workspace) -> None:
    workspace.save_settings(Settings(theme="textual-light"))
    assert snap_compare(app_for(workspace, "study"), press=["space"], terminal_size=(80, 24))


async def _loaded(pilot) -> None:
    """Let the dashboard's and stats' background readers finish, then draw."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _history(workspace: Workspace) -> None:
    """A few days of answers, so the heatmap and charts have something to show."""
    from datetime import timedelta

    from prepkit.schedule.review import Rating
    from prepkit.study import StudySession

    for days_ago, grade in ((6, Rating.GOOD), (3, Rating.AGAIN), (1, Rating.EASY)):
        when = NOW - timedelta(days=days_ago)
        with StudySession(workspace, when) as session:
            shown = session.next(when)
            assert shown is not None
            session.answer(grade, when, 8000)


def test_dashboard(snap_compare, workspace: Workspace) -> None:
    workspace.save_settings(Settings(interview_date="2026-12-18"))
    _history(workspace)
    assert snap_compare(app_for(workspace, "dashboard"), run_before=_loaded, terminal_size=(80, 24))


def test_stats(snap_compare, workspace: Workspace) -> None:
    _history(workspace)
    assert snap_compare(app_for(workspace, "stats"), run_before=_loaded, terminal_size=(80, 24))


def test_study_without_colour(snap_compare, workspace: Workspace, monkeypatch) -> None:
    """NO_COLOR: the grades, the proposed one and the cloze gaps still read (bold, borders)."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = app_for(workspace, "study")
    assert app.no_color
    assert snap_compare(app, press=["space"], terminal_size=(80, 24))
