"""The card browser: search and filter, look at a card, suspend or flag many at once.

Filtering runs in the database (one query per change, a page of rows at a time), so it stays
quick at 100,000 cards. Marks are card ids kept across filter changes, as in Anki's browser
selection; bulk actions apply to the marked cards, or to the card under the cursor when none
is marked, in one transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, Select, Static

from prepkit.cards import STATE_FILTERS, BrowseFilter, BrowseResult, browse, set_flag, set_suspended
from prepkit.deck.model import Kind
from prepkit.tui.saving import saving

if TYPE_CHECKING:
    from prepkit.tui.app import PrepkitApp

PAGE = 500  # rows drawn at once; the count says how many match in all


class BrowserScreen(Screen[None]):
    """Search, filter, inspect and bulk-edit cards."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search", id="browse.search"),
        Binding("space", "mark", "Mark", id="browse.mark"),
        Binding("ctrl+a", "mark_all", "Mark all", id="browse.mark_all", priority=True),
        Binding(
            "exclamation_mark,ctrl+j", "toggle_suspend", "Suspend/unsuspend", id="browse.suspend"
        ),
        Binding("f", "flag", "Flag/unflag", id="browse.flag"),
        Binding("i", "info", "Info", id="browse.info"),
        Binding("escape", "leave", "Dashboard", id="browse.leave"),
    ]

    app: PrepkitApp

    def __init__(self) -> None:
        super().__init__(id="browse")
        self.marked: set[int] = set()
        self.result = BrowseResult(rows=(), total=0)
        self._debounce: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Input(id="browse-text", placeholder="search text, tags, ids (/ to come back here)")
        with Horizontal(id="browse-filters"):
            yield Select[str]([], id="browse-topic", prompt="any topic")
            yield Select[str](
                [(k.value, k.value) for k in Kind], id="browse-kind", prompt="any kind"
            )
            yield Select[str](
                [(s, s) for s in STATE_FILTERS], id="browse-state", prompt="any state"
            )
        yield DataTable(id="browse-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="browse-status")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#browse-table", DataTable)
        for label, key in (
            ("", "mark"),
            ("card", "key"),
            ("topic", "deck"),
            ("kind", "kind"),
            ("state", "state"),
            ("due", "due"),
            ("front", "front"),
        ):
            table.add_column(label, key=key)
        self._fill_topics()
        self.refresh_rows()
        table.focus()

    def on_screen_resume(self) -> None:
        self._fill_topics()
        self.refresh_rows()

    def _fill_topics(self) -> None:
        from prepkit.workspace import stats

        topics = stats(self.app.workspace, self.app.clock()).topics
        select = self.query_one("#browse-topic", Select)
        current = select.value
        select.set_options([(t.id, t.id) for t in topics])
        if isinstance(current, str) and any(t.id == current for t in topics):
            select.value = current

    # -- querying ------------------------------------------------------------------------------

    def wanted(self) -> BrowseFilter:
        def chosen(selector: str) -> str | None:
            value = self.query_one(selector, Select).value
            return value if isinstance(value, str) else None

        text = self.query_one("#browse-text", Input).value.strip()
        return BrowseFilter(
            topic=chosen("#browse-topic"),
            kind=chosen("#browse-kind"),
            state=chosen("#browse-state"),
            text=text or None,
            limit=PAGE,
        )

    def refresh_rows(self) -> None:
        self.result = browse(self.app.workspace, self.app.clock(), self.wanted())
        table = self.query_one("#browse-table", DataTable)
        cursor = table.cursor_row
        table.clear()
        for row in self.result.rows:
            state = row.state
            if row.suspended:
                state = "suspended"
            elif row.buried:
                state = "buried"
            due = row.due.strftime("%m-%d") if row.due is not None else ""
            front = Text(row.front)
            if row.flag:
                front = Text.assemble((f"⚑{row.flag} ", "bold red"), front)
            if row.edited:
                front.append(" (edited)", style="italic")
            table.add_row(
                "●" if row.card_id in self.marked else "",
                row.key,
                row.deck,
                row.kind.value,
                state,
                due,
                front,
                key=str(row.card_id),
            )
        if self.result.rows:
            table.move_cursor(row=min(cursor, len(self.result.rows) - 1))
        self._status()

    def _status(self) -> None:
        shown, total = len(self.result.rows), self.result.total
        more = f" (first {shown} shown)" if total > shown else ""
        marked = f" · {len(self.marked)} marked" if self.marked else ""
        text = f"{total} cards match{more}{marked} · space marks · ! suspends · f flags · i info"
        self.query_one("#browse-status", Static).update(text)

    @on(Input.Changed, "#browse-text")
    def _typed(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(0.15, self.refresh_rows)

    @on(Input.Submitted, "#browse-text")
    def _submitted(self) -> None:
        self.refresh_rows()
        self.query_one("#browse-table", DataTable).focus()

    @on(DataTable.RowSelected, "#browse-table")
    def _chosen(self) -> None:
        self.action_info()

    @on(Select.Changed)
    def _filtered(self) -> None:
        self.refresh_rows()

    # -- actions -------------------------------------------------------------------------------

    def _cursor_id(self) -> int | None:
        table = self.query_one("#browse-table", DataTable)
        if not self.result.rows or table.cursor_row < 0:
            return None
        return self.result.rows[min(table.cursor_row, len(self.result.rows) - 1)].card_id

    def targets(self) -> list[int]:
        """The marked cards, or the one under the cursor when none is marked."""
        if self.marked:
            return sorted(self.marked)
        current = self._cursor_id()
        return [] if current is None else [current]

    def action_search(self) -> None:
        self.query_one("#browse-text", Input).focus()

    def action_mark(self) -> None:
        current = self._cursor_id()
        if current is None:
            return
        self.marked ^= {current}
        table = self.query_one("#browse-table", DataTable)
        table.update_cell(str(current), "mark", "●" if current in self.marked else "")
        if table.cursor_row < len(self.result.rows) - 1:
            table.move_cursor(row=table.cursor_row + 1)
        self._status()

    def action_mark_all(self) -> None:
        ids = {row.card_id for row in self.result.rows}
        self.marked = set() if ids <= self.marked else self.marked | ids
        self.refresh_rows()

    @saving
    def action_toggle_suspend(self) -> None:
        ids = self.targets()
        if not ids:
            return
        rows = {row.card_id: row for row in self.result.rows}
        suspend = not all(rows[i].suspended for i in ids if i in rows)
        changed = set_suspended(self.app.workspace, ids, suspend)
        self.app.reset_session()
        verb = "suspended" if suspend else "unsuspended"
        self.notify(f"{changed} card{'s' if changed != 1 else ''} {verb}.", timeout=2)
        self.refresh_rows()

    @saving
    def action_flag(self) -> None:
        ids = self.targets()
        if not ids:
            return
        rows = {row.card_id: row for row in self.result.rows}
        flag = 0 if all(rows[i].flag == 1 for i in ids if i in rows) else 1
        changed = set_flag(self.app.workspace, ids, flag)
        said = "flagged" if flag else "unflagged"
        self.notify(f"{changed} card{'s' if changed != 1 else ''} {said}.", timeout=2)
        self.refresh_rows()

    def action_info(self) -> None:
        current = self._cursor_id()
        if current is None:
            return
        from prepkit.tui.screens.modals import InfoScreen

        self.app.push_screen(InfoScreen(current))

    def action_leave(self) -> None:
        if self.query_one("#browse-text", Input).has_focus:
            self.query_one("#browse-table", DataTable).focus()
            return
        self.app.switch_mode("dashboard")
