"""The card browser: filters narrow the table, bulk actions reach the database and the queue."""

from __future__ import annotations

from textual.widgets import DataTable, Input, Select

from prepkit.tui.app import PrepkitApp
from prepkit.workspace import Workspace

from .conftest import NOW, refuse_quickly, writes_held
from .tui_helpers import card_state, shown_text


def keys_shown(app: PrepkitApp) -> list[str]:
    table = app.screen.query_one("#browse-table", DataTable)
    return [str(table.get_row_at(i)[1]) for i in range(table.row_count)]


async def test_filters_and_search_narrow_the_table(workspace: Workspace) -> None:
    app = PrepkitApp(workspace, lambda: NOW, start="browse")
    async with app.run_test(size=(100, 30)) as pilot:
        assert sorted(keys_shown(pilot.app)) == [
            "s-basic",
            "s-choice",
            "s-cloze",
            "s-numeric",
            "s-prompt",
        ]
        assert "5 cards match" in shown_text(pilot.app.screen.query_one("#browse-status"))
        pilot.app.screen.query_one("#browse-kind", Select).value = "cloze"
        await pilot.pause()
        assert keys_shown(pilot.app) == ["s-cloze"]
        pilot.app.screen.query_one("#browse-kind", Select).clear()
        await pilot.press("slash", *"WARP", "enter")  # case does not matter
        assert keys_shown(pilot.app) == ["s-basic"]
        box = pilot.app.screen.query_one("#browse-text", Input)
        await pilot.press("slash")
        box.value = "ddp"  # tags are searched too
        await pilot.press("enter")
        assert sorted(keys_shown(pilot.app)) == ["s-choice", "s-cloze"]
        await pilot.press("slash")
        box.value = "100%"  # % is a literal character, not a wildcard
        await pilot.press("enter")
        assert keys_shown(pilot.app) == []
        assert "0 cards match" in shown_text(pilot.app.screen.query_one("#browse-status"))


async def test_bulk_suspend_marks_and_unsuspend(workspace: Workspace) -> None:
    app = PrepkitApp(workspace, lambda: NOW, start="browse")
    async with app.run_test(size=(100, 30)) as pilot:
        order = keys_shown(pilot.app)
        await pilot.press("space", "space")  # mark the first two rows
        assert "2 marked" in shown_text(pilot.app.screen.query_one("#browse-status"))
        await pilot.press("exclamation_mark")
        suspended = {key for key in order if card_state(workspace, key)["suspended"]}
        assert suspended == set(order[:2])
        pilot.app.screen.query_one("#browse-state", Select).value = "suspended"
        await pilot.pause()
        assert sorted(keys_shown(pilot.app)) == sorted(order[:2])
        await pilot.press("exclamation_mark")  # all marked are suspended: unsuspend them
        assert not any(card_state(workspace, key)["suspended"] for key in order)
        # A study session started after a suspension leaves the card out.
        pilot.app.screen.query_one("#browse-state", Select).clear()
        await pilot.pause()
        await pilot.press("ctrl+a", "ctrl+a")  # mark all, then (all marked) unmark all
        await pilot.press("exclamation_mark")  # nothing marked: the cursor row only
        first = keys_shown(pilot.app)[0]
        assert card_state(workspace, first)["suspended"]
        await pilot.press("s")
        status = shown_text(pilot.app.screen.query_one("#study-status"))
        assert "new 3" in status  # five cards, one suspended, one shown


async def test_info_from_the_browser(workspace: Workspace) -> None:
    app = PrepkitApp(workspace, lambda: NOW, start="browse")
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("enter")
        assert "Card info" in shown_text(pilot.app.screen.query_one("#title"))
        await pilot.press("escape", "f")
        flagged = [k for k in keys_shown(pilot.app) if card_state(workspace, k)["flag"] == 1]
        assert len(flagged) == 1


async def test_a_suspend_the_database_refuses_is_said_and_changes_nothing(
    workspace: Workspace, backend, monkeypatch
) -> None:
    """Suspending from the browser while another program holds a lock the write needs: a
    notification says nothing was saved, the app stays up, and the suspend works after."""
    db = backend.db("prepkit.db")
    refuse_quickly(db, monkeypatch)
    workspace.engine.dispose()
    app = PrepkitApp(workspace, lambda: NOW, start="browse")
    async with app.run_test(size=(100, 30)) as pilot:
        first = keys_shown(pilot.app)[0]
        with writes_held(db) as refusal:
            await pilot.press("exclamation_mark")
            await pilot.pause()
            said = [n.message for n in pilot.app._notifications]
            assert any("Not saved" in m and refusal in m for m in said), said
        assert not card_state(workspace, first)["suspended"]
        await pilot.press("exclamation_mark")
        assert card_state(workspace, first)["suspended"]
