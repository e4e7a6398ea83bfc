"""Settings: the interview date, the daily minutes, retention, new cards a day, theme.

Typed values are checked all at once; a bad field is named under itself and nothing is saved
until every field is valid. Saving is one transaction, and the study session restarts with the
new limits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Select, Static

from prepkit.config import EDITABLE, Settings, edited
from prepkit.tui.saving import saving

if TYPE_CHECKING:
    from prepkit.tui.app import PrepkitApp

LABELS = {
    "interview_date": "Interview date (YYYY-MM-DD)",
    "daily_minutes": "Study minutes per day",
    "desired_retention": "Desired retention (0.70-0.99)",
    "new_per_day": "New cards per day",
    "timezone": "Time zone (IANA name)",
}


class SettingsScreen(Screen[None]):
    """Edit and save the learner's settings."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="settings.save", priority=True),
        Binding("escape", "app.switch_mode('dashboard')", "Dashboard", id="settings.leave"),
    ]

    app: PrepkitApp

    def __init__(self) -> None:
        super().__init__(id="settings")

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="settings-form"):
            for key in EDITABLE:
                with Horizontal(classes="field"):
                    yield Label(LABELS[key], classes="field-label")
                    yield Input(id=f"set-{key}", classes="field-input")
                yield Static("", id=f"err-{key}", classes="field-error")
            with Horizontal(classes="field"):
                yield Label("Theme", classes="field-label")
                themes = sorted(self.app.available_themes)
                yield Select([(name, name) for name in themes], id="set-theme", allow_blank=False)
            yield Static(id="settings-note", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        self.load(self.app.workspace.settings())

    def load(self, settings: Settings) -> None:
        for key in EDITABLE:
            value = getattr(settings, key)
            self.query_one(f"#set-{key}", Input).value = "" if value is None else str(value)
            self.query_one(f"#err-{key}", Static).update("")
        select = self.query_one("#set-theme", Select)
        if settings.theme in self.app.available_themes:
            select.value = settings.theme
        from prepkit.tui.app import keymap_path

        self.query_one("#settings-note", Static).update(
            f"Ctrl+S saves. Keys can be remapped in {keymap_path()} ([keys] table; "
            "? shows each screen's keys)."
        )

    def form(self) -> dict[str, str]:
        values = {key: self.query_one(f"#set-{key}", Input).value for key in EDITABLE}
        theme = self.query_one("#set-theme", Select).value
        if isinstance(theme, str):
            values["theme"] = theme
        return values

    @saving
    def action_save(self) -> None:
        current = self.app.workspace.settings()
        settings, errors = edited(current, self.form())
        for key in EDITABLE:
            message = errors.get(key, "")
            self.query_one(f"#err-{key}", Static).update(Text(message, style="bold red"))
        if errors:
            self.notify("Not saved: fix the fields marked in red.", severity="error")
            return
        self.app.workspace.save_settings(settings)
        self.app.theme = settings.theme
        self.app.reset_session()
        self.notify("Settings saved.", timeout=2)
