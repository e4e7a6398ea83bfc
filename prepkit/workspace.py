"""A learner's workspace: the database, the profile, settings, library sync and stats.

Services own their transactions and hand faces plain dataclasses. Sync is one transaction over the
whole library: a deck that fails to load stops it before anything is written, and a card whose
text changed is updated in place under the same key, so its review history stays attached.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, case, delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from prepkit.config import Settings, default_timezone
from prepkit.deck.model import Card, Deck
from prepkit.errors import PrepkitError
from prepkit.schedule.days import day_start, next_day_start, to_ms
from prepkit.store import models as m
from prepkit.store import queries
from prepkit.store.db import open_engine, url_for

if TYPE_CHECKING:  # the posting matcher (rapidfuzz, YAML) is not needed to open a workspace
    from prepkit.posting.generate import Generation

CHUNK = 2000


@dataclass(slots=True)
class Workspace:
    """An open database and the learner (profile) working in it."""

    engine: Engine
    learner_id: int
    profile: str
    url: str

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def read(self) -> Connection:
        """A connection for reads (a deferred transaction: it takes no write lock)."""
        return self.engine.connect().execution_options(readonly=True)

    def settings(self) -> Settings:
        with self.read() as conn:
            rows = conn.execute(
                select(m.Setting.key, m.Setting.value).where(
                    m.Setting.learner_id == self.learner_id
                )
            ).all()
        return Settings().with_values({key: json.loads(value) for key, value in rows})

    def save_settings(self, settings: Settings) -> None:
        with self.engine.begin() as conn:
            _write_settings(conn, self.learner_id, settings)


def _write_settings(conn: Connection, learner_id: int, settings: Settings) -> None:
    conn.execute(delete(m.Setting).where(m.Setting.learner_id == learner_id))
    conn.execute(
        insert(m.Setting),
        [
            {"learner_id": learner_id, "key": key, "value": json.dumps(value)}
            for key, value in asdict(settings).items()
        ],
    )


def open_workspace(db: str, now: datetime, profile: str = "default") -> Workspace:
    """Open the database `db` (a path or URL) for `profile`, creating both when missing."""
    url = url_for(db)
    engine = open_engine(url, now)
    learner_id = _ensure_learner(engine, profile, now)
    return Workspace(engine=engine, learner_id=learner_id, profile=profile, url=url)


def _ensure_learner(engine: Engine, profile: str, now: datetime) -> int:
    """The profile's learner id, creating the learner (with default settings) on first use.

    Two sessions may create the same new profile at once (a learner's first start on a shared
    server, in two terminals): the loser of the race hits the unique name and looks again.
    """
    if not profile or len(profile) > 100:
        raise PrepkitError(f"profile name must be 1-100 characters: {profile!r}")
    try:
        return _find_or_create_learner(engine, profile, now)
    except IntegrityError:
        return _find_or_create_learner(engine, profile, now)


def _find_or_create_learner(engine: Engine, profile: str, now: datetime) -> int:
    # Found with a read: opening a workspace must not wait on the write lock (a long import in
    # another terminal), since a reader in WAL mode never does. Only a new profile writes.
    named = select(m.Learner.id).where(m.Learner.name == profile)
    with engine.connect().execution_options(readonly=True) as conn, conn.begin():
        found = conn.execute(named).scalar()
    if found is not None:
        return int(found)
    with engine.begin() as conn:
        found = conn.execute(named).scalar()
        if found is not None:
            return int(found)  # made meanwhile by another session
        learner_id = conn.execute(
            insert(m.Learner).values(name=profile, created_at=to_ms(now)).returning(m.Learner.id)
        ).scalar_one()
        _write_settings(conn, learner_id, Settings(timezone=default_timezone()))
        add_missing_states(conn)
        return int(learner_id)


def database_failure(exc: BaseException) -> str | None:
    """One line for a failure of the database itself (a full disk, a server gone away, a lock
    held past the timeout), or None when `exc` is something else (a bug, shown as such).

    Every write is one transaction, so what failed was rolled back: the line says so, and
    where to look next."""
    reason = database_reason(exc)
    if reason is None:
        return None
    return f"database error: {reason}; the step that failed was not saved (see prepkit doctor)"


def database_reason(exc: BaseException) -> str | None:
    """What the database said when it refused a step (its driver's first line: "database is
    locked", "database or disk is full"), or None when `exc` is not the database's failure.

    A study session keeps going after one: the step was rolled back whole, and the learner can
    give it again once the lock is free, the disk has room or the server is back."""
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError):
        cause: BaseException = exc.orig if exc.orig is not None else exc
    elif isinstance(exc, sqlite3.Error):
        cause = exc
    else:
        psycopg = sys.modules.get("psycopg")
        if psycopg is None or not isinstance(exc, psycopg.Error):
            return None
        cause = exc
    text_ = str(cause).strip()
    return text_.splitlines()[0] if text_ else type(cause).__name__


# -- sync ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SyncReport:
    decks: int
    added: int
    updated: int
    unchanged: int
    retired: int
    restored: int

    def line(self) -> str:
        return (
            f"{self.decks} decks: {self.added} added, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.retired} retired, {self.restored} restored"
        )


def card_values(card: Card, position: int) -> tuple[Any, ...]:
    """A card's columns in `queries.CARD_COLUMNS` order."""
    stored = card.stored()
    return (
        card.id,
        card.deck,
        position,
        str(card.kind),
        card.front,
        card.back,
        card.source,
        stored.tags,
        stored.payload,
        stored.digest,
    )


def _chunks(items: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def sync_library(workspace: Workspace, decks: Iterable[Deck], now: datetime) -> SyncReport:
    """Load decks (a Library, or any iterable: a stream keeps memory flat) in one transaction.

    New cards are added, changed ones updated in place (same key, history kept), cards that left
    a synced deck are retired (kept with their history, no longer studied), and retired cards that
    come back are restored. Rows go in through the driver's executemany in chunks: loading a
    100,000-card library is a few seconds and a bounded amount of memory.
    """
    with workspace.engine.begin() as conn:
        return _sync(conn, decks, to_ms(now))


# pg_advisory_xact_lock key for writes to the shared library ("preplib" in ASCII).
LIBRARY_LOCK = 0x7072_6570_6C69_62


def lock_library(conn: Connection) -> None:
    """Serialize writers of the shared library (decks, cards, every learner's new states) until
    the transaction ends. On PostgreSQL two learners syncing a new library at once would both
    insert its decks and fail on the keys (READ COMMITTED does not see the other's uncommitted
    rows); the lock makes the second one read what the first committed. SQLite's BEGIN IMMEDIATE
    already serializes every writer."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({LIBRARY_LOCK:d})")


def _sync(conn: Connection, decks: Iterable[Deck], stamp: int) -> SyncReport:
    """sync_library inside a caller's transaction.

    Memory stays flat however large the library: cards are matched against the stored ones
    CHUNK at a time (one keyed lookup per chunk), and what is kept across the whole sync is the
    deck ids and the integer ids of stored cards met again, which is all that retiring needs.
    Holding every stored row and every key instead took about 60 MB at 100,000 cards.
    """
    lock_library(conn)
    known_decks = {
        row.id: row
        for row in conn.execute(
            select(m.Deck.id, m.Deck.title, m.Deck.description, m.Deck.source_file)
        )
    }
    # Rows this sync inserts get larger ids. Leaving them out of every lookup makes "stored"
    # mean stored before the sync began: a card id given twice fails on the unique key.
    newest = conn.execute(select(func.max(m.Card.id))).scalar()
    counts = _SyncCounts()
    synced: set[str] = set()
    met: set[int] = set()  # stored cards that are still in a synced deck

    def rows() -> Iterator[tuple[Any, ...]]:
        # each deck's row is written before its first card is handed on, so cards never
        # reference a deck that is not there yet
        for deck in decks:
            synced.add(deck.id)
            _sync_deck(conn, deck, known_decks.get(deck.id), stamp)
            for position, card in enumerate(deck.cards):
                yield card_values(card, position)

    for chunk in _chunks(rows()):
        written = _sync_cards(conn, chunk, newest, stamp)
        counts += written.counts
        met.update(written.met)
    leaving = _leaving(conn, synced, newest, met)
    for chunk in _chunks(leaving):
        conn.execute(update(m.Card).where(m.Card.id.in_(chunk)).values(retired_at=stamp))
    add_missing_states(conn)
    return SyncReport(
        decks=len(synced),
        added=counts.added,
        updated=counts.changed,
        unchanged=counts.unchanged,
        retired=len(leaving),
        restored=counts.restored,
    )


@dataclass(frozen=True, slots=True)
class _SyncCounts:
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    restored: int = 0

    def __add__(self, other: _SyncCounts) -> _SyncCounts:
        return _SyncCounts(
            self.added + other.added,
            self.changed + other.changed,
            self.unchanged + other.unchanged,
            self.restored + other.restored,
        )


@dataclass(frozen=True, slots=True)
class _Written:
    """What writing one chunk did: its counts, and the stored cards it met again (the ones
    retiring must leave alone)."""

    counts: _SyncCounts
    met: list[int]


def _sync_cards(
    conn: Connection, rows: list[tuple[Any, ...]], newest: int | None, stamp: int
) -> _Written:
    """Write one chunk of `card_values` rows: new ones inserted, changed or returning ones
    updated in place, each compared with the card as stored before the sync."""
    stored: dict[str, Any] = {}
    if newest is not None:
        found = queries.stored_cards(conn, [values[0] for values in rows], newest)
        stored = {row.key: row for row in found}
    new_rows: list[tuple[Any, ...]] = []
    changed_rows: list[tuple[Any, ...]] = []
    met: list[int] = []
    changed = restored = 0
    for values in rows:
        old = stored.get(values[0])
        if old is None:
            new_rows.append((*values, stamp, stamp))
            continue
        met.append(old.id)
        if old.retired_at is not None:
            changed_rows.append((*values, stamp, old.id))
            restored += 1
        elif values[9] != old.content_hash or (old.deck_id, old.position) != values[1:3]:
            changed_rows.append((*values, stamp, old.id))
            changed += 1
    queries.insert_cards(conn, new_rows)
    queries.update_cards(conn, changed_rows)
    unchanged = len(met) - changed - restored
    return _Written(_SyncCounts(len(new_rows), changed, unchanged, restored), met)


def _leaving(conn: Connection, synced: set[str], newest: int | None, met: set[int]) -> list[int]:
    """Stored cards of the synced decks that the decks no longer hold (to retire)."""
    if newest is None:
        return []
    c = m.Card
    leaving: list[int] = []
    for chunk in _chunks(sorted(synced)):
        query = select(c.id).where(c.deck_id.in_(chunk), c.retired_at.is_(None), c.id <= newest)
        for part in conn.execute(query).scalars().partitions(CHUNK):
            leaving.extend(card_id for card_id in part if card_id not in met)
    return leaving


def _sync_deck(conn: Connection, deck: Deck, old: Any, stamp: int) -> None:
    values = {"title": deck.title, "description": deck.description, "source_file": deck.file}
    if old is None:
        conn.execute(insert(m.Deck).values(id=deck.id, updated_at=stamp, **values))
    elif (old.title, old.description, old.source_file) != tuple(values.values()):
        conn.execute(update(m.Deck).where(m.Deck.id == deck.id).values(updated_at=stamp, **values))


def add_missing_states(conn: Connection) -> None:
    """Give every learner a (new) state row for every card that lacks one: one statement."""
    lock_library(conn)  # another learner's sync may be adding the same rows
    conn.execute(
        text(
            "INSERT INTO card_state (learner_id, card_id, state, reps, lapses, suspended, flag) "
            "SELECT l.id, c.id, 0, 0, 0, :false, 0 FROM learner l CROSS JOIN card c "
            "WHERE NOT EXISTS (SELECT 1 FROM card_state s "
            "WHERE s.learner_id = l.id AND s.card_id = c.id)"
        ),
        {"false": False},
    )


# -- stats ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TopicStats:
    id: str
    title: str
    cards: int
    reviewed: int
    due: int


@dataclass(frozen=True, slots=True)
class Stats:
    cards: int
    new: int
    learning: int
    review: int
    due: int
    suspended: int
    buried: int
    reviews: int
    reviews_today: int
    topics: tuple[TopicStats, ...]

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"topics": [asdict(t) for t in self.topics]}


def stats(workspace: Workspace, now: datetime) -> Stats:
    """Counts over the learner's active (not retired) cards; due = due before the day ends."""
    settings = workspace.settings()
    now_ms = to_ms(now)
    cutoff = to_ms(next_day_start(now, settings.zone, settings.day_start_hour))
    day_begin = to_ms(day_start(now, settings.zone, settings.day_start_hour))
    s, c = m.CardState, m.Card
    active = (s.learner_id == workspace.learner_id) & c.retired_at.is_(None)
    hidden = s.suspended | (s.buried_until.is_not(None) & (s.buried_until > now_ms))
    is_due = (s.state != 0) & (s.due < cutoff) & ~hidden

    def count(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    with workspace.read() as conn:
        per_deck = conn.execute(
            select(
                m.Deck.id,
                m.Deck.title,
                func.count(),
                count(s.state != 0),
                count(is_due),
                count(s.state == 0),
                count(s.state.in_((1, 3))),
                count(s.state == 2),
                count(s.suspended),
                count(s.buried_until.is_not(None) & (s.buried_until > now_ms)),
            )
            .select_from(s)
            .join(c, c.id == s.card_id)
            .join(m.Deck, m.Deck.id == c.deck_id)
            .where(active)
            .group_by(m.Deck.id, m.Deck.title)
            .order_by(m.Deck.id)
        ).all()
        reviews = conn.execute(
            select(func.count(), count(m.Review.reviewed_at >= day_begin)).where(
                m.Review.learner_id == workspace.learner_id
            )
        ).one()
    topics = tuple(TopicStats(row[0], row[1], row[2], row[3], row[4]) for row in per_deck)
    totals = [sum(int(row[i]) for row in per_deck) for i in range(2, 10)]
    return Stats(
        cards=totals[0],
        new=totals[3],
        learning=totals[4],
        review=totals[5],
        due=totals[2],
        suspended=totals[6],
        buried=totals[7],
        reviews=int(reviews[0]),
        reviews_today=int(reviews[1]),
        topics=topics,
    )


# -- postings ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PostingReport:
    posting_id: int
    title: str
    new: bool  # False when the same posting text was added before (its weights are refreshed)
    topics: tuple[tuple[str, float], ...]
    sync: SyncReport


def add_posting(
    workspace: Workspace,
    generation: Generation,
    text_: str,
    source: str,
    now: datetime,
    settings: Settings | None = None,
) -> PostingReport:
    """Record a posting, its topic weights and its decks, and sync the decks: one transaction.

    Adding the same posting again refreshes its weights instead of counting it twice; several
    different postings add their weights up.
    """
    digest = hashlib.sha256(" ".join(text_.split()).encode()).hexdigest()
    stamp = to_ms(now)
    decks = [*generation.decks, *([generation.practice] if generation.practice else [])]
    with workspace.engine.begin() as conn:
        found = conn.execute(
            select(m.Posting.id).where(
                m.Posting.learner_id == workspace.learner_id, m.Posting.digest == digest
            )
        ).scalar()
        if found is None:
            posting_id = conn.execute(
                insert(m.Posting)
                .values(
                    learner_id=workspace.learner_id,
                    title=generation.title,
                    source=source,
                    text=text_,
                    digest=digest,
                    created_at=stamp,
                )
                .returning(m.Posting.id)
            ).scalar_one()
        else:
            posting_id = found
            conn.execute(delete(m.PostingTopic).where(m.PostingTopic.posting_id == posting_id))
        topics = [(t.id, t.weight, t.evidence) for t in generation.match.topics]
        if topics:
            conn.execute(
                insert(m.PostingTopic),
                [
                    {
                        "posting_id": posting_id,
                        "topic_id": topic_id,
                        "weight": weight,
                        "evidence": json.dumps(list(evidence), ensure_ascii=False),
                    }
                    for topic_id, weight, evidence in topics
                ],
            )
        report = _sync(conn, decks, stamp)
        if settings is not None:
            _write_settings(conn, workspace.learner_id, settings)
    return PostingReport(
        posting_id=int(posting_id),
        title=generation.title,
        new=found is None,
        topics=tuple((topic_id, weight) for topic_id, weight, _ in topics),
        sync=report,
    )


def topic_weights(workspace: Workspace) -> dict[str, float]:
    """Each topic's weight summed over the learner's postings."""
    with workspace.read() as conn:
        rows = conn.execute(
            select(m.PostingTopic.topic_id, func.sum(m.PostingTopic.weight))
            .join(m.Posting, m.Posting.id == m.PostingTopic.posting_id)
            .where(m.Posting.learner_id == workspace.learner_id)
            .group_by(m.PostingTopic.topic_id)
        ).all()
    return {str(topic): float(weight) for topic, weight in rows}
