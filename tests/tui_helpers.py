"""Reading what the TUI shows and what the database recorded, for the Pilot tests."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy import create_engine, text
from textual.widget import Widget
from textual.widgets import Static

from prepkit.workspace import Workspace


def shown_text(widget: Widget, width: int = 200) -> str:
    """The text a Static shows, as a person would read it (styles dropped)."""
    assert isinstance(widget, Static)
    console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    console.print(widget.content)
    return console.export_text()


def rows(workspace: Workspace, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Rows read on a separate connection: what is on disk, not what a session holds."""
    engine = create_engine(workspace.url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def reviews(workspace: Workspace) -> list[tuple[str, int]]:
    """(card key, rating) of every review, oldest first."""
    return [
        (str(key), int(rating))
        for key, rating in rows(
            workspace,
            "SELECT c.key, r.rating FROM review r JOIN card c ON c.id = r.card_id ORDER BY r.id",
        )
    ]


def card_state(workspace: Workspace, key: str) -> dict[str, Any]:
    found = rows(
        workspace,
        "SELECT s.state, s.suspended, s.buried_until, s.flag, s.due, s.last_review "
        "FROM card_state s JOIN card c ON c.id = s.card_id WHERE c.key = :key",
        key=key,
    )
    state, suspended, buried, flag, due, last = found[0]
    return {
        "state": state,
        "suspended": bool(suspended),
        "buried_until": buried,
        "flag": flag,
        "due": due,
        "last_review": last,
    }


def write_keymap(path: Path, body: str) -> Path:
    path.write_text(body, encoding="utf-8")
    return path
