"""The prepkit app: one mode per screen, Anki-like keys, remappable, all in the command palette.

Modes keep each screen's state while the learner moves around: leaving the reviewer for the
browser and coming back resumes the same session (the queue is rebuilt, since a card may have
been suspended meanwhile). The study session is opened on first use and closed when the app
exits; every answer is already on disk by then.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from prepkit.study import StudySession
from prepkit.tui.card_text import Look
from prepkit.workspace import Workspace


def _dashboard() -> Screen[None]:
    from prepkit.tui.screens.dashboard import DashboardScreen

    return DashboardScreen()


def _study() -> Screen[None]:
    from prepkit.tui.screens.study import StudyScreen

    return StudyScreen()


def _browse() -> Screen[None]:
    from prepkit.tui.screens.browser import BrowserScreen

    return BrowserScreen()


def _stats() -> Screen[None]:
    from prepkit.tui.screens.stats import StatsScreen

    return StatsScreen()


def _posting() -> Screen[None]:
    from prepkit.tui.screens.posting import PostingScreen

    return PostingScreen()


def _settings() -> Screen[None]:
    from prepkit.tui.screens.settings import SettingsScreen

    return SettingsScreen()


SCREENS: dict[str, tuple[str, str, Callable[[], Screen[None]]]] = {
    # mode: (key, title, factory)
    "dashboard": ("d", "Dashboard", _dashboard),
    "study": ("s", "Study", _study),
    "browse": ("b", "Browse", _browse),
    "stats": ("t", "Stats", _stats),
    "posting": ("p", "Posting", _posting),
    "settings": ("o", "Settings", _settings),
}


class PrepkitApp(App[None]):
    """Interview prep in the terminal."""

    TITLE = "prepkit"
    CSS_PATH = "prepkit.tcss"
    MODES: ClassVar[dict[str, str | Callable[[], Screen[None]]]] = {
        mode: factory for mode, (_key, _title, factory) in SCREENS.items()
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(key, f"switch_mode('{mode}')", title, id=f"app.{mode}")
            for mode, (key, title, _factory) in SCREENS.items()
        ),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(
        self,
        workspace: Workspace,
        clock: Callable[[], datetime],
        start: str = "dashboard",
        keymap: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.workspace = workspace
        self.clock = clock
        self.start = start
        self._keymap_file = keymap or {}
        self._session: StudySession | None = None
        self.session_generation = 0

    @property
    def session(self) -> StudySession:
        """Today's study session, opened on first use."""
        if self._session is None:
            self._session = StudySession(self.workspace, self.clock())
        return self._session

    def reset_session(self) -> None:
        """Settings or the library changed: the next study screen starts a fresh session."""
        if self._session is not None:
            self._session.close()
            self._session = None
        self.session_generation += 1

    @property
    def look(self) -> Look:
        return Look(dark=self.current_theme.dark)

    def on_mount(self) -> None:
        if self._keymap_file:
            self.set_keymap(self._keymap_file)
        theme = self.workspace.settings().theme
        if theme in self.available_themes:
            self.theme = theme
        self.switch_mode(self.start)

    def on_unmount(self) -> None:
        if self._session is not None:
            self._session.close()

    def action_help(self) -> None:
        from prepkit.tui.screens.modals import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Every action the learner can take here, under its name and keys."""
        yield from super().get_system_commands(screen)
        seen: set[str] = set()
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if not binding.description or binding.action in seen:
                continue
            seen.add(binding.action)
            node = active.node
            action = binding.action

            def run(node: object = node, action: str = action) -> object:
                return self.run_action(action, node)  # type: ignore[arg-type]

            keys = self.get_key_display(binding)
            yield SystemCommand(binding.description, f"key: {keys or key}", run)


def known_binding_ids() -> list[str]:
    """Every binding id a keymap file may name."""
    from prepkit.tui.screens.browser import BrowserScreen
    from prepkit.tui.screens.dashboard import DashboardScreen
    from prepkit.tui.screens.posting import PostingScreen
    from prepkit.tui.screens.settings import SettingsScreen
    from prepkit.tui.screens.stats import StatsScreen
    from prepkit.tui.screens.study import StudyScreen

    ids: list[str] = []
    owners = (
        PrepkitApp,
        StudyScreen,
        DashboardScreen,
        BrowserScreen,
        StatsScreen,
        PostingScreen,
        SettingsScreen,
    )
    for owner in owners:
        for binding in owner.BINDINGS:
            if isinstance(binding, Binding) and binding.id:
                ids.append(binding.id)
    return ids


def keymap_path(environ: dict[str, str] | None = None) -> Path:
    """Where the learner's key remapping lives: PREPKIT_KEYMAP, else the user config folder."""
    import os

    from platformdirs import user_config_path

    env = os.environ if environ is None else environ
    if env.get("PREPKIT_KEYMAP"):
        return Path(env["PREPKIT_KEYMAP"])
    return user_config_path("prepkit", appauthor=False) / "keys.toml"
