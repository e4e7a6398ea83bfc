"""Dialogs over the current screen: help, card edit, card info, confirmations."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static, TextArea

from prepkit.cards import CardInfo, card_info
from prepkit.deck.model import Card, Kind
from prepkit.schedule.review import format_interval

if TYPE_CHECKING:
    from prepkit.tui.app import PrepkitApp


class HelpScreen(ModalScreen[None]):
    """The keys of the screen below, as they are bound now (remapped keys included)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "dismiss", "Close"),
    ]

    def __init__(self, below: Screen[object]) -> None:
        super().__init__(classes="dialog")
        self.below = below

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        seen: set[tuple[str, str]] = set()
        rows: dict[str, list[str]] = {}
        for key, active in self.below.active_bindings.items():
            binding = active.binding
            if not binding.description:
                continue
            display = self.app.get_key_display(binding) or key
            if (binding.action, display) in seen:
                continue
            seen.add((binding.action, display))
            rows.setdefault(binding.description, []).append(display)
        for description, keys in rows.items():
            table.add_row(" / ".join(keys), description)
        with Vertical(id="dialog"):
            yield Label("Keys (remap them in keys.toml; Ctrl+P lists every action)", id="title")
            with VerticalScroll():
                yield Static(table, id="help-keys")
            yield Label("Escape closes", classes="hint")


REVERT = "revert"


class EditScreen(ModalScreen[tuple[str, str] | str | None]):
    """Edit a card's front and back: Ctrl+S saves (as the learner's own version; the library
    text is kept), Ctrl+R goes back to the library text, Escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("ctrl+r", "revert", "Revert to library text", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, card: Card, edited: bool = False) -> None:
        super().__init__(classes="dialog")
        self.card = card
        self.edited = edited

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            revert = ", Ctrl+R reverts to the library text" if self.edited else ""
            yield Label(f"Edit {self.card.id} (Ctrl+S saves{revert}, Esc cancels)", id="title")
            hint = " (keep the {{c1::...}} deletions)" if self.card.kind is Kind.CLOZE else ""
            yield Label(f"Front{hint}")
            yield TextArea(self.card.front, id="edit-front", soft_wrap=True)
            if self.card.kind is not Kind.CLOZE:
                yield Label("Back")
                yield TextArea(self.card.back or "", id="edit-back", soft_wrap=True)

    def on_mount(self) -> None:
        self.query_one("#edit-front", TextArea).focus()

    def action_save(self) -> None:
        front = self.query_one("#edit-front", TextArea).text
        backs = self.query("#edit-back")
        back = backs.first(TextArea).text if backs else (self.card.back or "")
        self.dismiss((front, back))

    def action_revert(self) -> None:
        if self.edited:
            self.dismiss(REVERT)
        else:
            self.notify("This card shows the library text already.", timeout=2)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question; y or Enter confirms."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,enter", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__(classes="dialog")
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.question, id="title")
            yield Label("y / Enter: yes    n / Escape: no", classes="hint")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


def info_table(info: CardInfo) -> Table:
    """Anki's card info, for one card: state, memory, history, source."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    card = info.card
    table.add_row("Card", f"{card.id} ({card.kind}) in {info.deck_title}")
    if info.edited:
        note = " (the library text changed since)" if info.library_changed else ""
        table.add_row("Edited", f"yes: your text is shown{note}; Ctrl+R in the editor reverts")
    table.add_row("Added", info.added.strftime("%Y-%m-%d"))
    flags = [name for name, on in (("suspended", info.suspended), ("buried", info.buried)) if on]
    if info.flag:
        flags.append(f"flag {info.flag}")
    if info.retired:
        flags.append("retired from the library")
    table.add_row("State", ", ".join([info.state, *flags]))
    if info.due is not None:
        table.add_row("Due", info.due.strftime("%Y-%m-%d %H:%M UTC"))
    if info.interval_days is not None:
        table.add_row("Interval", format_interval(timedelta(days=info.interval_days)))
    if info.stability is not None:
        table.add_row("Stability", f"{info.stability:.2f} days")
    if info.difficulty is not None:
        table.add_row("Difficulty", f"{info.difficulty:.2f} (1-10)")
    table.add_row("Recall now", f"{info.retrievability:.0%}")
    table.add_row("Reviews", f"{info.reps} ({info.lapses} lapses)")
    table.add_row("Source", info.source)
    return table


def history_table(info: CardInfo) -> Table:
    table = Table(box=None, padding=(0, 1), title="History", title_justify="left")
    for column in ("when (UTC)", "grade", "was", "interval", "time"):
        table.add_column(column, no_wrap=True)
    names = {1: "Again", 2: "Hard", 3: "Good", 4: "Easy"}
    for entry in info.reviews:
        interval = (
            format_interval(timedelta(days=entry.interval_days))
            if entry.interval_days is not None
            else "-"
        )
        seconds = f"{entry.duration_ms / 1000:.0f}s" if entry.duration_ms is not None else "-"
        table.add_row(
            entry.at.strftime("%Y-%m-%d %H:%M"),
            names[int(entry.rating)],
            entry.state_before,
            interval,
            seconds,
        )
    return table


class InfoScreen(ModalScreen[None]):
    """Card info (i): state, stability, retrievability, source and every review."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,i,q", "dismiss", "Close"),
    ]

    app: PrepkitApp

    def __init__(self, card_id: int) -> None:
        super().__init__(classes="dialog")
        self.card_id = card_id

    def compose(self) -> ComposeResult:
        info = card_info(self.app.workspace, self.card_id, self.app.clock())
        with Vertical(id="dialog"):
            yield Label(f"Card info: {info.card.id}", id="title")
            with VerticalScroll():
                yield Static(info_table(info), id="info-card")
                if info.reviews:
                    yield Static(history_table(info), id="info-history")
                else:
                    yield Static(Text("Never reviewed.", style="italic"), id="info-history")
            yield Label("Escape closes", classes="hint")
