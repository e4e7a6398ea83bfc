"""Exports as a service: read what the learner asked for, write it where they asked, safely.

A file is written next to its destination under a temporary name, flushed to disk and then
renamed over it, so a crash or a full disk leaves either the old file or the new one, never half
of one; an existing file is replaced only when the learner says so (`force`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import TextIO, TypeVar

from sqlalchemy import select

from prepkit.errors import PrepkitError
from prepkit.export.reviews_csv import ReviewRow
from prepkit.schedule.days import to_ms
from prepkit.store import models as m
from prepkit.workspace import Workspace

T = TypeVar("T")


def since_ms(workspace: Workspace, day: str | None) -> int | None:
    """The start of the study day `day` (YYYY-MM-DD) in the learner's time zone, in ms."""
    if day is None:
        return None
    try:
        when = date.fromisoformat(day)
    except ValueError:
        raise PrepkitError(f"--since {day}: not a date (YYYY-MM-DD)") from None
    settings = workspace.settings()
    start = datetime.combine(when, time(settings.day_start_hour), tzinfo=settings.zone)
    return to_ms(start)


def review_rows(
    workspace: Workspace, deck: str | None = None, since: int | None = None
) -> Iterator[ReviewRow]:
    """The learner's answers in the order they were given (oldest first). An unknown deck is
    refused here, before anything is written."""
    if deck is not None:
        with workspace.read() as conn:
            found = conn.execute(select(m.Deck.id).where(m.Deck.id == deck)).first()
        if found is None:
            raise PrepkitError(f"--deck {deck}: no such deck (see prepkit decks list)")
    return _rows(workspace, deck, since)


def _rows(workspace: Workspace, deck: str | None, since: int | None) -> Iterator[ReviewRow]:
    r, c = m.Review, m.Card
    query = (
        select(c.key, r.reviewed_at, r.rating, r.state_before, r.duration_ms)
        .join(c, c.id == r.card_id)
        .where(r.learner_id == workspace.learner_id)
        .order_by(r.reviewed_at, r.id)
    )
    if deck is not None:
        query = query.where(c.deck_id == deck)
    if since is not None:
        query = query.where(r.reviewed_at >= since)
    with workspace.read() as conn:
        for key, at, rating, state, duration in conn.execute(query):
            yield ReviewRow(key, at, rating, state, duration)


def write_file(path: Path, write: Callable[[TextIO], T], force: bool) -> T:
    """Write `path` atomically with `write`; refuse to replace a file without `force`."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise PrepkitError(f"{path}: the folder {folder} does not exist")
    if path.exists() and not force:
        raise PrepkitError(f"{path}: already exists (add --force to replace it)")
    if path.is_dir():
        raise PrepkitError(f"{path}: is a folder")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            result = write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return result
