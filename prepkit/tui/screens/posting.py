"""Add a posting: paste it or load a file, see what it asks for, then add its decks.

Nothing is written until the learner confirms: the preview runs the same matcher as
`prepkit generate`, and adding is one transaction (posting, weights and decks together).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Static, TextArea

from prepkit.errors import PrepkitError
from prepkit.posting.generate import Generation
from prepkit.postings import generate_for, read_posting_file
from prepkit.tui.saving import saving
from prepkit.workspace import add_posting

if TYPE_CHECKING:
    from prepkit.tui.app import PrepkitApp


def preview(generation: Generation) -> Table:
    """The topics a posting asks for, heaviest first, with the words that asked for them."""
    cards = {deck.id: len(deck.cards) for deck in generation.decks}
    table = Table(box=None, padding=(0, 1), expand=True, title_justify="left")
    table.add_column("weight", justify="right", no_wrap=True)
    table.add_column("topic", no_wrap=True)
    table.add_column("cards", justify="right", no_wrap=True)
    table.add_column("because the posting says", ratio=1)
    for topic in generation.match.topics:
        have = str(cards[topic.id]) if topic.id in cards else "-"
        evidence = "; ".join(f'"{e}"' for e in topic.evidence[:3])
        table.add_row(f"{topic.weight:g}", topic.id, have, evidence)
    return table


class PostingScreen(Screen[None]):
    """Paste or load a posting, preview the match, confirm to add its decks."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "preview", "Preview", id="posting.preview", priority=True),
        Binding("ctrl+s", "add", "Add decks", id="posting.add", priority=True),
        Binding("escape", "app.switch_mode('dashboard')", "Dashboard", id="posting.leave"),
    ]

    app: PrepkitApp

    def __init__(self) -> None:
        super().__init__(id="posting")
        self.generation: Generation | None = None
        self.text = ""
        self.source = "pasted"

    def compose(self) -> ComposeResult:
        with Horizontal(id="posting-file"):
            yield Label("File: ")
            yield Input(id="posting-path", placeholder="path to a posting (.txt .md .html), Enter")
        yield TextArea(id="posting-text", soft_wrap=True)
        with VerticalScroll(id="posting-preview"):
            yield Static(
                "Paste a posting above (or load a file), then Ctrl+R to preview, Ctrl+S to add.",
                id="posting-result",
            )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#posting-text", TextArea).border_title = "posting text"

    @on(Input.Submitted, "#posting-path")
    def _load(self, event: Input.Submitted) -> None:
        path = Path(event.value.strip()).expanduser()
        try:
            text = read_posting_file(path)
        except PrepkitError as exc:
            self._say(Text(str(exc), style="bold red"))
            return
        self.query_one("#posting-text", TextArea).text = text
        self.source = path.name
        self.action_preview()

    @on(TextArea.Changed, "#posting-text")
    def _edited(self) -> None:
        self.generation = None

    def _say(self, message: Text | Table) -> None:
        self.query_one("#posting-result", Static).update(message)

    def action_preview(self) -> None:
        text = self.query_one("#posting-text", TextArea).text
        if not text.strip():
            self._say(Text("The posting is empty: paste it or load a file first.", style="red"))
            return
        try:
            generation = generate_for(text, self.source)
        except PrepkitError as exc:
            self._say(Text(str(exc), style="bold red"))
            return
        self.generation = generation
        self.text = text
        if not generation.match.topics:
            self._say(Text("No qualification in this posting matched a topic.", style="yellow"))
            return
        table = preview(generation)
        cards = sum(len(d.cards) for d in generation.decks)
        practice = len(generation.practice.cards) if generation.practice else 0
        table.title = (
            f"{generation.title or '(untitled)'}: {len(generation.match.topics)} topics, "
            f"{cards} cards + {practice} practice questions. Ctrl+S adds them."
        )
        self._say(table)

    def action_add(self) -> None:
        generation = self.generation
        if generation is None:
            self.action_preview()
            generation = self.generation
            if generation is None:
                return
        if not generation.match.topics:
            self.notify("Nothing to add: no topic matched.", severity="warning")
            return
        from prepkit.tui.screens.modals import ConfirmScreen

        def confirmed(yes: bool | None) -> None:
            if yes and generation is not None:
                self._add(generation)

        self.app.push_screen(
            ConfirmScreen(f"Add the decks of “{generation.title or 'this posting'}”?"), confirmed
        )

    @saving
    def _add(self, generation: Generation) -> None:
        report = add_posting(
            self.app.workspace, generation, self.text, self.source, self.app.clock()
        )
        self.app.reset_session()
        state = "added" if report.new else "already known: weights refreshed"
        self._say(Text(f"Posting {state}. {report.sync.line()}", style="bold green"))
        self.notify(f"Posting {state}.", timeout=3)
