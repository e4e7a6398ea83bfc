"""Importing cards from other tools: Anki packages, Anki text exports, Quizlet files.

The file is read and checked completely before the database is touched; then, after a backup,
everything goes in one transaction, so a bad row or a crash leaves the database as it was. What
an import does to each note is counted as Anki counts it:

- **new**: no card has the note's key; it is added to an `imported-…` deck.
- **updated**: an imported card with that key exists and the note's text differs. For a package,
  only when the note was changed after the card's version (Anki's "update if newer"); a text file
  carries no times, so its text wins, as in Anki's default.
- **duplicate**: the card exists with the same text, an older package version, a card from the
  prepkit library (an import never rewrites library text: a learner edits cards instead), or the
  key appeared earlier in the same file.
- **skipped**: what the reader passed over (empty front, a note type without cards …).

A package's review history comes with its new cards: the answers are replayed through the
learner's FSRS scheduler, so each card's state is exactly the replay of its review log (the
invariant `prepkit doctor` checks) and the planner sees the memory the learner built in Anki.
History is not merged into a card that already has its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import DBAPIError

from prepkit.deck.model import Card, Kind
from prepkit.errors import PrepkitError
from prepkit.export.anki_text import read_text
from prepkit.export.apkg_read import SQLITE_MAGIC, read_package
from prepkit.export.foreign import ForeignFile, ForeignNote, ImportFileError, deck_id
from prepkit.schedule.days import from_ms, to_ms
from prepkit.schedule.review import NEW, CardState, Rating, Reviewer, fuzz_seed
from prepkit.store import models as m
from prepkit.store import queries
from prepkit.workspace import Workspace, add_missing_states, card_values, lock_library

ZIP_MAGIC = b"PK\x03\x04"
PACKAGE_SUFFIXES = (".apkg", ".colpkg")
TEXT_SUFFIXES = (".txt", ".csv", ".tsv")
Progress = Callable[[int, int], None]  # (done, total)


@dataclass(slots=True)
class ImportResult:
    file: str
    kind: str
    new: int = 0
    updated: int = 0
    duplicate: int = 0
    skipped: int = 0
    reviews: int = 0
    dry_run: bool = False
    backup: str | None = None
    skipped_why: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "format": self.kind,
            "new": self.new,
            "updated": self.updated,
            "duplicate": self.duplicate,
            "skipped": self.skipped,
            "reviews": self.reviews,
            "dry_run": self.dry_run,
            "backup": self.backup,
            "skipped_why": self.skipped_why[:20],
        }


def file_kind(path: Path, data: bytes) -> str:
    """What the file is: `apkg`, `json` (a prepkit progress file) or `text`. The name's
    extension says what the learner thinks it is; the bytes must agree, or the import stops."""
    suffix = path.suffix.lower()
    is_zip = data.startswith(ZIP_MAGIC)
    if suffix in PACKAGE_SUFFIXES:
        if not is_zip:
            raise ImportFileError(f"{path}: not an Anki package, though named {suffix} (not a zip)")
        return "apkg"
    if is_zip:
        if suffix in (*TEXT_SUFFIXES, ".json"):
            raise ImportFileError(f"{path}: a zip archive, not the text its name ({suffix}) says")
        return "apkg"
    if data.startswith(SQLITE_MAGIC):
        raise ImportFileError(
            f"{path}: an SQLite database, not an import file (a prepkit database is opened "
            "with --db; an Anki collection is exported from Anki as .apkg)"
        )
    if suffix == ".json" or (suffix not in TEXT_SUFFIXES and data.lstrip()[:1] == b"{"):
        return "json"
    return "text"


def read_input(path: Path) -> bytes:
    """The bytes of a file to import, or one line saying why it cannot be read."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise PrepkitError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise PrepkitError(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise PrepkitError(f"{path}: cannot read ({exc.strerror})") from None


def read_foreign(
    path: Path, data: bytes, term_separator: str | None, row_separator: str | None
) -> ForeignFile:
    if file_kind(path, data) == "apkg":
        if term_separator or row_separator:
            raise PrepkitError(f"{path}: --term-sep/--row-sep are for text files")
        return read_package(data, str(path))
    return read_text(data, str(path), path.stem, term_separator, row_separator)


@dataclass(frozen=True, slots=True)
class _Existing:
    id: int
    deck_id: str
    content: tuple[Any, ...]
    updated_at: int


@dataclass(slots=True)
class _Changes:
    decks: dict[str, str] = field(default_factory=dict)  # new deck id -> title
    new: list[ForeignNote] = field(default_factory=list)
    updated: list[tuple[int, ForeignNote]] = field(default_factory=list)
    duplicate: int = 0


def import_cards(
    workspace: Workspace,
    path: Path,
    now: datetime,
    *,
    dry_run: bool = False,
    term_separator: str | None = None,
    row_separator: str | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    found = read_foreign(path, read_input(path), term_separator, row_separator)
    result = ImportResult(str(path), found.kind, skipped=found.skipped, dry_run=dry_run)
    result.skipped_why = list(found.skipped_why)
    stamp = to_ms(now)
    with workspace.read() as conn:
        changes = _plan(conn, found.notes)
    result.new, result.updated = len(changes.new), len(changes.updated)
    result.duplicate = changes.duplicate
    if not changes.new and not changes.updated:
        return result
    if not dry_run:
        from prepkit.backups import backup

        saved = backup(workspace, now, "import")
        result.backup = str(saved) if saved else None
    try:
        with workspace.engine.begin() as conn:
            lock_library(conn)  # then plan again: another learner may have added cards since
            changes = _plan(conn, found.notes)
            result.new, result.updated = len(changes.new), len(changes.updated)
            result.duplicate = changes.duplicate
            result.reviews = _write(workspace, conn, path, changes, stamp, progress)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    except DBAPIError as exc:
        reason = str(exc.orig).splitlines()[0] if exc.orig else "rejected"
        raise PrepkitError(f"{path}: the database refused the import ({reason})") from None
    return result


class _DryRun(Exception):
    """Raised inside the import's transaction to roll it back after every write was tried."""


def _content(kind: str, front: str, back: str | None, tags: Iterable[str]) -> tuple[Any, ...]:
    return (kind, front, back or None, tuple(tags))


def _kind(note: ForeignNote) -> Kind:
    return Kind.CLOZE if note.cloze else Kind.BASIC


def _plan(conn: Connection, notes: Iterable[ForeignNote]) -> _Changes:
    notes = list(notes)
    keys = {note.key for note in notes}
    existing: dict[str, _Existing] = {}
    c = m.Card
    query = select(c.id, c.key, c.deck_id, c.kind, c.front, c.back, c.tags, c.updated_at)
    for chunk in _chunks(sorted(keys), 500):
        for row in conn.execute(query.where(c.key.in_(chunk))):
            content = _content(row.kind, row.front, row.back, json.loads(row.tags))
            existing[row.key] = _Existing(row.id, row.deck_id, content, row.updated_at)
    decks = {row[0] for row in conn.execute(select(m.Deck.id))}
    changes = _Changes()
    seen: set[str] = set()
    for note in notes:
        if note.key in seen:
            changes.duplicate += 1
            continue
        seen.add(note.key)
        old = existing.get(note.key)
        target = deck_id(note.deck)
        if old is None:
            changes.new.append(note)
            if target not in decks:
                changes.decks.setdefault(target, note.deck)
            continue
        same = old.content == _content(_kind(note), note.front, note.back, note.tags)
        older = note.modified_ms is not None and note.modified_ms <= old.updated_at
        if not old.deck_id.startswith("imported-") or same or older:
            changes.duplicate += 1
        else:
            changes.updated.append((old.id, note))
    return changes


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _card(note: ForeignNote, source: str) -> Card:
    return Card(
        id=note.key,
        deck=deck_id(note.deck),
        kind=_kind(note),
        front=note.front,
        back=note.back,
        source=source,
        tags=note.tags,
    )


def _write(
    workspace: Workspace,
    conn: Connection,
    path: Path,
    changes: _Changes,
    stamp: int,
    progress: Progress | None,
) -> int:
    source = f"Imported by the learner from {path.name}"
    for deck, title in changes.decks.items():
        conn.execute(
            insert(m.Deck).values(
                id=deck,
                title=title,
                description=f"Imported from {path.name}",
                source_file=str(path),
                updated_at=stamp,
            )
        )
    last = select(m.Card.deck_id, func.max(m.Card.position)).group_by(m.Card.deck_id)
    positions: dict[str, int] = {deck: int(at) for deck, at in conn.execute(last)}
    rows = []
    for note in changes.new:
        card = _card(note, source)
        position = positions.get(card.deck, -1) + 1
        positions[card.deck] = position
        rows.append((*card_values(card, position), stamp, note.modified_ms or stamp))
    queries.insert_cards(conn, rows)
    for card_id, note in changes.updated:
        card = _card(note, source)
        stored = card.stored()
        conn.execute(
            update(m.Card)
            .where(m.Card.id == card_id)
            .values(
                kind=str(card.kind),
                front=card.front,
                back=card.back,
                source=card.source,
                tags=stored.tags,
                payload=stored.payload,
                content_hash=stored.digest,
                updated_at=note.modified_ms or stamp,
                retired_at=None,
            )
        )
    add_missing_states(conn)
    return _replay(workspace, conn, changes.new, progress)


def _replay(
    workspace: Workspace, conn: Connection, notes: list[ForeignNote], progress: Progress | None
) -> int:
    """New cards' Anki answers as prepkit reviews, replayed through the learner's scheduler
    (each answer with the fuzz a study session would have drawn for it)."""
    with_history = [note for note in notes if note.history]
    if not with_history:
        return 0
    settings = workspace.settings()
    reviewer = Reviewer(
        desired_retention=settings.desired_retention, parameters=settings.fsrs_parameters
    )
    me = workspace.learner_id
    ids: dict[str, int] = {}
    keys = [note.key for note in with_history]
    for chunk in _chunks(keys, 500):
        ids.update(conn.execute(select(m.Card.key, m.Card.id).where(m.Card.key.in_(chunk))).all())
    total = sum(len(note.history) for note in with_history)
    done = 0
    reviews: list[tuple[Any, ...]] = []
    states: list[tuple[Any, ...]] = []
    for note in with_history:
        card_id = int(ids[note.key])
        state: CardState = NEW
        for answer in note.history:
            seed = fuzz_seed(card_id, state.reps)
            outcome = reviewer.review(state, Rating(answer.rating), from_ms(answer.at_ms), seed)
            reviews.append(queries.review_values(me, card_id, outcome, answer.duration_ms))
            state = outcome.after
        states.append(queries.state_values(me, card_id, state))
        done += len(note.history)
        if len(reviews) >= 5000:
            queries.insert_reviews(conn, reviews)
            queries.update_states(conn, states)
            reviews, states = [], []
            if progress is not None:
                progress(done, total)
    queries.insert_reviews(conn, reviews)
    queries.update_states(conn, states)
    if progress is not None:
        progress(total, total)
    return total
