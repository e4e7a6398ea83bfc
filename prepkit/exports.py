"""Exports as a service: read what the learner asked for, write it where they asked, safely.

A file is written next to its destination under a temporary name, flushed to disk and then
renamed over it, so a crash or a full disk leaves either the old file or the new one, never half
of one; an existing file is replaced only when the learner says so (`force`).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.exc import DBAPIError

from prepkit.errors import PrepkitError
from prepkit.export import progress_json
from prepkit.export.apkg import PackageCard, PackageReview, card_texts
from prepkit.export.reviews_csv import ReviewRow
from prepkit.schedule.days import to_ms
from prepkit.store import models as m
from prepkit.store.db import advance_sequences
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


def write_file(path: Path, write: Callable[[Any], T], force: bool, binary: bool = False) -> T:
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
        stream = os.fdopen(handle, "wb") if binary else os.fdopen(handle, "w", newline="")
        with stream as out:
            result = write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return result


# -- the progress file -------------------------------------------------------------------------

# In the order rows must go in (foreign keys point backwards); learner-scoped tables lose their
# learner column in the file and get the importing profile's.
PROGRESS_TABLES = (
    "deck",
    "card",
    "card_state",
    "review",
    "setting",
    "posting",
    "posting_topic",
    "card_edit",
    "card_override",
)


def _table(name: str) -> Table:
    return m.Base.metadata.tables[name]


def _columns(name: str) -> list[str]:
    return [c.name for c in _table(name).columns if c.name != "learner_id"]


def _kinds(name: str) -> list[tuple[str, str, bool]]:
    """(column, kind, nullable) of a table, for checking a progress file's rows."""
    kinds = {int: "int", float: "float", str: "str", bool: "bool"}
    out = []
    for column in _table(name).columns:
        if column.name != "learner_id":
            kind = kinds[column.type.python_type]
            out.append((column.name, kind, bool(column.nullable) and not column.primary_key))
    return out


def progress_tables(workspace: Workspace) -> dict[str, list[dict[str, object]]]:
    """Every row of the learner's progress, by table, in primary-key order."""
    out: dict[str, list[dict[str, object]]] = {}
    with workspace.read() as conn:
        for name in PROGRESS_TABLES:
            table = _table(name)
            query = select(*(table.c[c] for c in _columns(name)))
            if "learner_id" in table.c:
                query = query.where(table.c.learner_id == workspace.learner_id)
            elif name == "posting_topic":
                mine = select(m.Posting.id).where(m.Posting.learner_id == workspace.learner_id)
                query = query.where(table.c.posting_id.in_(mine))
            query = query.order_by(*table.primary_key.columns)
            out[name] = [dict(row._mapping) for row in conn.execute(query)]
    return out


def progress_document(workspace: Workspace, now: datetime) -> dict[str, object]:
    from prepkit.store.db import HEAD

    return progress_json.document(progress_tables(workspace), now.isoformat(), HEAD)


def import_progress(
    workspace: Workspace, path: Path, now: datetime, dry_run: bool = False
) -> dict[str, int]:
    """Restore a progress file into this (empty) database, in one transaction: rows by table.

    The file's ids are kept (reviews, edits and postings point at them), which is why the
    database must have no cards yet: a merge into an existing library is another feature."""
    from prepkit.importing import read_input

    raw = read_input(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PrepkitError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        tables = progress_json.read(text, {name: _kinds(name) for name in PROGRESS_TABLES})
    except progress_json.ProgressFileError as exc:
        raise PrepkitError(f"{path}: {exc}") from None
    if not dry_run:
        from prepkit.backups import backup

        backup(workspace, now, "import")
    try:
        _restore(workspace, path, tables, dry_run)
    except _DryRun:
        pass  # everything checked, the database included; the transaction is rolled back
    return {name: len(tables[name]) for name in PROGRESS_TABLES}


class _DryRun(Exception):
    """Raised inside the import's transaction to roll it back after a full check."""


def _restore(
    workspace: Workspace, path: Path, tables: dict[str, list[dict[str, object]]], dry_run: bool
) -> None:
    with workspace.engine.begin() as conn:
        cards = conn.execute(select(func.count()).select_from(m.Card)).scalar_one()
        if cards:
            raise PrepkitError(
                f"{path}: this database already has {cards} cards; a progress file is restored "
                "into a new one (for example: prepkit --db NEW.db import FILE)"
            )
        # The file's settings replace this profile's (a new database may have written defaults).
        conn.execute(delete(m.Setting).where(m.Setting.learner_id == workspace.learner_id))
        try:
            for name in PROGRESS_TABLES:
                rows = tables[name]
                if not rows:
                    continue
                table = _table(name)
                if "learner_id" in table.c:
                    rows = [{**row, "learner_id": workspace.learner_id} for row in rows]
                conn.execute(insert(table), rows)
            advance_sequences(conn, (_table(name) for name in PROGRESS_TABLES))
        except DBAPIError as exc:
            reason = str(exc.orig).splitlines()[0] if exc.orig else "rejected"
            raise PrepkitError(f"{path}: does not fit the database ({reason})") from None
        if dry_run:
            raise _DryRun


# -- Anki packages ------------------------------------------------------------------------------


def package_cards(workspace: Workspace, deck: str | None, with_history: bool) -> list[PackageCard]:
    """The learner's cards as they see them (their edits included), under `prepkit::` decks,
    each stamped with its last change: the library's or the learner's edit, whichever is later."""
    if deck is not None:
        review_rows(workspace, deck)  # refuses an unknown deck
    c, d, s, o, e = m.Card, m.Deck, m.CardState, m.CardOverride, m.CardEdit
    me = workspace.learner_id
    last_edit = (
        select(e.card_id, func.max(e.edited_at).label("at"))
        .where(e.learner_id == me)
        .group_by(e.card_id)
        .subquery()
    )
    query = (
        select(
            c.id,
            c.key,
            c.kind,
            c.front,
            c.back,
            c.payload,
            c.source,
            c.tags,
            c.updated_at,
            d.title,
            o.front.label("o_front"),
            o.back.label("o_back"),
            o.card_id.label("edited"),
            last_edit.c.at,
            *m.MEMORY_COLUMNS,
            s.suspended,
        )
        .join(d, d.id == c.deck_id)
        .join(s, (s.card_id == c.id) & (s.learner_id == me))
        .outerjoin(o, (o.card_id == c.id) & (o.learner_id == me))
        .outerjoin(last_edit, last_edit.c.card_id == c.id)
        .where(c.retired_at.is_(None))
        .order_by(c.deck_id, c.position)
    )
    if deck is not None:
        query = query.where(c.deck_id == deck)
    with workspace.read() as conn:
        rows = conn.execute(query).all()
        history = _package_reviews(conn, me, deck) if with_history else {}
    cards = []
    for row in rows:
        front, back = (row.o_front, row.o_back) if row.edited is not None else (row.front, row.back)
        front, back = card_texts(row.kind, front, back, json.loads(row.payload))
        cards.append(
            PackageCard(
                key=row.key,
                deck=f"prepkit::{row.title}",
                front=front,
                back=back,
                source=row.source,
                tags=tuple(json.loads(row.tags)),
                cloze=row.kind == "cloze",
                modified_ms=max(row.updated_at, row.at or 0),
                state=row.state,
                stability=row.stability,
                difficulty=row.difficulty,
                due_ms=row.due,
                last_review_ms=row.last_review,
                reps=row.reps,
                lapses=row.lapses,
                suspended=bool(row.suspended),
                reviews=tuple(history.get(row.id, ())),
            )
        )
    return cards


def _package_reviews(
    conn: Any, learner_id: int, deck: str | None
) -> dict[int, list[PackageReview]]:
    r = m.Review
    query = (
        select(
            r.card_id,
            r.reviewed_at,
            r.rating,
            r.duration_ms,
            r.state_before,
            r.due_after,
            r.due_before,
            r.last_review_before,
            r.difficulty_after,
        )
        .where(r.learner_id == learner_id)
        .order_by(r.card_id, r.reviewed_at, r.id)
    )
    if deck is not None:
        query = query.where(r.card_id.in_(select(m.Card.id).where(m.Card.deck_id == deck)))
    out: dict[int, list[PackageReview]] = {}
    for row in conn.execute(query):
        last = (
            row.due_before - row.last_review_before
            if row.due_before is not None and row.last_review_before is not None
            else None
        )
        out.setdefault(row.card_id, []).append(
            PackageReview(
                at_ms=row.reviewed_at,
                rating=row.rating,
                duration_ms=row.duration_ms,
                state_before=row.state_before,
                interval_ms=None if row.due_after is None else row.due_after - row.reviewed_at,
                last_interval_ms=last,
                difficulty=row.difficulty_after,
            )
        )
    return out
