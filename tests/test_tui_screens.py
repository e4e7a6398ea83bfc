"""Settings, posting import and navigation, driven with Pilot and checked in the database."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, TextArea

from prepkit.tui.app import PrepkitApp
from prepkit.workspace import Workspace

from .conftest import LIBRARY, NOW
from .tui_helpers import rows, shown_text

EXAMPLE = LIBRARY / "postings" / "example-ml-systems.txt"


def make_app(workspace: Workspace, start: str) -> PrepkitApp:
    return PrepkitApp(workspace, lambda: NOW, start=start)


async def fill(pilot, selector: str, value: str) -> None:
    box = pilot.app.screen.query_one(selector, Input)
    box.value = value
    await pilot.pause()


async def test_settings_are_saved_when_every_field_is_valid(workspace: Workspace) -> None:
    async with make_app(workspace, "settings").run_test(size=(100, 30)) as pilot:
        await fill(pilot, "#set-interview_date", "2026-12-18")
        await fill(pilot, "#set-daily_minutes", "45")
        await fill(pilot, "#set-desired_retention", "0.92")
        await fill(pilot, "#set-new_per_day", "12")
        await pilot.press("ctrl+s")
    settings = workspace.settings()
    assert settings.interview_date == "2026-12-18"
    assert (settings.daily_minutes, settings.desired_retention, settings.new_per_day) == (
        45,
        0.92,
        12,
    )


async def test_a_bad_setting_is_named_and_nothing_is_saved(workspace: Workspace) -> None:
    before = workspace.settings()
    async with make_app(workspace, "settings").run_test(size=(100, 30)) as pilot:
        await fill(pilot, "#set-daily_minutes", "45")
        await fill(pilot, "#set-desired_retention", "1.5")
        await fill(pilot, "#set-interview_date", "next friday")
        await pilot.press("ctrl+s")
        retention_error = shown_text(pilot.app.screen.query_one("#err-desired_retention"))
        date_error = shown_text(pilot.app.screen.query_one("#err-interview_date"))
        assert "between 0.7 and 0.99" in retention_error
        assert "not a date" in date_error
    assert workspace.settings() == before


async def test_new_card_limit_from_settings_applies_to_the_next_session(
    workspace: Workspace,
) -> None:
    async with make_app(workspace, "settings").run_test(size=(100, 30)) as pilot:
        await fill(pilot, "#set-new_per_day", "2")
        await pilot.press("ctrl+s")
        await pilot.press("escape", "s")
        status = shown_text(pilot.app.screen.query_one("#study-status"))
        assert "new 1" in status  # two new cards today: one shown, one waiting


async def test_a_posting_file_is_previewed_then_added_on_confirmation(
    workspace: Workspace,
) -> None:
    async with make_app(workspace, "posting").run_test(size=(100, 40)) as pilot:
        await fill(pilot, "#posting-path", str(EXAMPLE))
        pilot.app.screen.query_one("#posting-path").focus()
        await pilot.press("enter")
        result = shown_text(pilot.app.screen.query_one("#posting-result"))
        assert "distributed-training" in result and "Ctrl+S adds them" in result
        assert rows(workspace, "SELECT COUNT(*) FROM posting") == [(0,)]  # a preview writes nothing
        await pilot.press("ctrl+s")
        await pilot.press("n")  # declined: still nothing
        assert rows(workspace, "SELECT COUNT(*) FROM posting") == [(0,)]
        await pilot.press("ctrl+s", "y")
        assert "Posting added" in shown_text(pilot.app.screen.query_one("#posting-result"))
    topics = dict(rows(workspace, "SELECT topic_id, weight FROM posting_topic"))
    assert topics["distributed-training"] > 0
    decks = {row[0] for row in rows(workspace, "SELECT id FROM deck")}
    assert "distributed-training" in decks


async def test_a_pasted_posting_and_a_missing_file(workspace: Workspace, tmp_path: Path) -> None:
    async with make_app(workspace, "posting").run_test(size=(100, 40)) as pilot:
        await fill(pilot, "#posting-path", str(tmp_path / "nope.txt"))
        pilot.app.screen.query_one("#posting-path").focus()
        await pilot.press("enter")
        assert "nope.txt: no such file" in shown_text(pilot.app.screen.query_one("#posting-result"))
        area = pilot.app.screen.query_one("#posting-text", TextArea)
        area.text = "Minimum qualifications:\n- Experience with PyTorch and CUDA kernels\n"
        await pilot.press("ctrl+r")
        result = shown_text(pilot.app.screen.query_one("#posting-result"))
        assert "pytorch" in result


async def test_the_dashboard_counts_and_leads_to_study(workspace: Workspace) -> None:
    async with make_app(workspace, "dashboard").run_test() as pilot:
        head = shown_text(pilot.app.screen.query_one("#dash-head"))
        assert "No interview date set" in head
        await pilot.press("enter")
        assert pilot.app.current_mode == "study"
