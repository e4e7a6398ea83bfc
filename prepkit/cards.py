"""Card services for the reviewer and the browser: edits, card info, search and bulk actions.

An edit is the learner's, not the library's: it is kept as an override per learner (the text the
learner sees instead of the library's) plus a log row per change, never written into the `card`
row. That is what lets `prepkit sync` keep rewriting library rows in place without erasing an
edit, and what keeps the card's schedule and review history untouched, since they hang on the card
id, which an edit never changes. A revert drops the override and is logged like an edit.

Faces get frozen dataclasses holding `Card` values and plain numbers; every write is one
transaction, and a refused edit is refused before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, case, func, insert, or_, select
from sqlalchemy import delete as sql_delete
from sqlalchemy import update as sql_update

from prepkit.deck.load import cloze_problem
from prepkit.deck.model import Card, Kind
from prepkit.errors import PrepkitError
from prepkit.schedule.days import from_ms, next_day_start, to_ms
from prepkit.schedule.review import Rating, Reviewer, State
from prepkit.store import models as m
from prepkit.store.queries import CardRow, state_from_row
from prepkit.study import card_from_row
from prepkit.workspace import CHUNK, Workspace

# A card as the faces name it: its integer id (what `Shown.card_id` and browse rows carry) or its
# stable library key (what a user types).
CardRef = int | str

FRONT_PREVIEW = 80  # characters of a front's first line in a browse row
STATE_FILTERS = ("new", "learning", "review", "suspended", "buried", "flagged", "due")


def _state_name(code: int) -> str:
    return State(code).name.lower()


def _ms(value: int | None) -> datetime | None:
    return None if value is None else from_ms(int(value))


# -- finding a card ------------------------------------------------------------------------------


def _find(conn: Connection, learner_id: int, ref: CardRef) -> Any:
    """The card `ref` names, with the learner's override of it if any (NULLs when none).

    A missing card is the user's mistake, so it is a `PrepkitError`.
    """
    c, o = m.Card, m.CardOverride
    row = conn.execute(
        select(
            c.id,
            c.key,
            c.deck_id,
            c.kind,
            c.front,
            c.back,
            c.source,
            c.tags,
            c.payload,
            c.created_at,
            c.retired_at,
            o.card_id.label("override"),
            o.front.label("o_front"),
            o.back.label("o_back"),
            o.base_front,
            o.base_back,
        )
        .select_from(c)
        .outerjoin(o, and_(o.card_id == c.id, o.learner_id == learner_id))
        .where(c.id == ref if isinstance(ref, int) else c.key == ref)
    ).first()
    if row is None:
        raise PrepkitError(f"no card {ref!r}" if isinstance(ref, str) else f"no card #{ref}")
    return row


def _library_card(row: Any) -> Card:
    fields = (row.key, row.deck_id, row.kind, row.front, row.back, row.source, row.tags)
    return card_from_row(CardRow(*fields, row.payload))


def _shown_card(row: Any) -> Card:
    """The card as the learner sees it: the library card with their edit applied."""
    card = _library_card(row)
    if row.override is None:
        return card
    return replace(card, front=row.o_front, back=row.o_back)


# -- edits ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CardEdit:
    """One entry of a card's edit log: who changed what, when, from which text to which."""

    id: int
    card_id: int
    key: str
    learner: str
    at: datetime
    old_front: str
    old_back: str | None
    front: str
    back: str | None
    reverted: bool  # True when this entry put the library text back


def edit_problem(kind: Kind, front: str, back: str | None) -> str | None:
    """Why an edited front/back cannot stand for a card of `kind`, or None when it can.

    The same rules as the deck loader for the two fields an edit touches: a card needs a front, a
    basic card needs a back, and a cloze front must still hide something.
    """
    if not front:
        return "the front cannot be empty"
    if kind is Kind.BASIC and not back:
        return "a basic card needs a back"
    if kind is Kind.CLOZE:
        problem = cloze_problem(front)
        if problem is not None:
            return f"malformed cloze: {problem}"
    return None


def _clean(front: str, back: str | None) -> tuple[str, str | None]:
    """Text as typed into an editor, without the surrounding blank space; an empty back is none."""
    return front.strip(), (back or "").strip() or None


def edit_card(
    workspace: Workspace, card: CardRef, front: str, back: str | None, now: datetime
) -> Card:
    """Make `front`/`back` the learner's text for `card` and log the change; one transaction.

    Returns the card as the learner will now see it. Text equal to what they already see is not a
    change and logs nothing. A refused edit (empty front, a basic card without a back, a cloze
    front without a valid deletion) raises `PrepkitError` with one line and writes nothing.
    """
    front, back = _clean(front, back)
    stamp = to_ms(now)
    with workspace.engine.begin() as conn:
        row = _find(conn, workspace.learner_id, card)
        problem = edit_problem(Kind(row.kind), front, back)
        if problem is not None:
            raise PrepkitError(f"card '{row.key}' ({row.kind}): {problem}")
        library = _library_card(row)
        before = (row.o_front, row.o_back) if row.override is not None else (row.front, row.back)
        if (front, back) == before:
            return _shown_card(row)
        edit_id = _log(conn, workspace.learner_id, row.id, stamp, before, (front, back), False)
        values = {
            "front": front,
            "back": back,
            "base_front": row.front,
            "base_back": row.back,
            "edit_id": edit_id,
            "edited_at": stamp,
        }
        o = m.CardOverride
        if row.override is None:
            conn.execute(
                insert(o).values(learner_id=workspace.learner_id, card_id=row.id, **values)
            )
        else:
            conn.execute(
                sql_update(o)
                .where(o.learner_id == workspace.learner_id, o.card_id == row.id)
                .values(**values)
            )
    return replace(library, front=front, back=back)


def revert_card(workspace: Workspace, card: CardRef, now: datetime) -> Card:
    """Put the library text back in front of the learner, logging the revert; one transaction.

    Returns the library card. A card without an edit in force has nothing to revert: that is a
    `PrepkitError`, so a face can say so rather than log a change that changed nothing.
    """
    with workspace.engine.begin() as conn:
        row = _find(conn, workspace.learner_id, card)
        if row.override is None:
            raise PrepkitError(f"card '{row.key}' has no edit to revert")
        before = (row.o_front, row.o_back)
        _log(conn, workspace.learner_id, row.id, to_ms(now), before, (row.front, row.back), True)
        o = m.CardOverride
        conn.execute(sql_delete(o).where(o.learner_id == workspace.learner_id, o.card_id == row.id))
    return _library_card(row)


def _log(
    conn: Connection,
    learner_id: int,
    card_id: int,
    stamp: int,
    old: tuple[str, str | None],
    new: tuple[str, str | None],
    reverted: bool,
) -> int:
    edit_id = conn.execute(
        insert(m.CardEdit)
        .values(
            learner_id=learner_id,
            card_id=card_id,
            edited_at=stamp,
            old_front=old[0],
            old_back=old[1],
            front=new[0],
            back=new[1],
            reverted=reverted,
        )
        .returning(m.CardEdit.id)
    ).scalar_one()
    return int(edit_id)


def card_edits(workspace: Workspace, card: CardRef) -> list[CardEdit]:
    """The learner's edit log for `card`, oldest first (reverts included)."""
    e = m.CardEdit
    with workspace.read() as conn:
        row = _find(conn, workspace.learner_id, card)
        rows = conn.execute(
            select(
                e.id,
                e.edited_at,
                e.old_front,
                e.old_back,
                e.front,
                e.back,
                e.reverted,
                m.Learner.name,
            )
            .join(m.Learner, m.Learner.id == e.learner_id)
            .where(e.learner_id == workspace.learner_id, e.card_id == row.id)
            .order_by(e.edited_at, e.id)
        ).all()
    return [
        CardEdit(
            id=int(r.id),
            card_id=int(row.id),
            key=str(row.key),
            learner=str(r.name),
            at=from_ms(r.edited_at),
            old_front=r.old_front,
            old_back=r.old_back,
            front=r.front,
            back=r.back,
            reverted=bool(r.reverted),
        )
        for r in rows
    ]


# -- card info -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReviewEntry:
    """One answer in a card's history."""

    at: datetime
    rating: Rating
    state_before: str  # new | learning | review | relearning
    interval_days: float | None  # from the answer to the due date it set
    duration_ms: int | None


@dataclass(frozen=True, slots=True)
class CardInfo:
    """Everything the reviewer's card-info view shows about one card (like Anki's card info)."""

    card_id: int
    card: Card  # as the learner sees it: their edit applied
    edited: bool
    library_front: str
    library_back: str | None
    # The library text changed (by a sync) since the learner's edit was made: the edit still
    # wins, but the learner may want to compare or revert.
    library_changed: bool
    deck_title: str
    state: str  # new | learning | review | relearning
    due: datetime | None
    interval_days: float | None  # last review to due date
    stability: float | None
    difficulty: float | None
    retrievability: float  # probability of recall at `now`; 0 for a card never reviewed
    reps: int
    lapses: int
    suspended: bool
    buried: bool
    flag: int
    retired: bool
    source: str
    added: datetime
    reviews: tuple[ReviewEntry, ...]  # oldest first


def card_info(workspace: Workspace, card: CardRef, now: datetime) -> CardInfo:
    """The card, its memory state (retrievability at `now` with the learner's desired retention)
    and its review history; read in one snapshot."""
    s, r = m.CardState, m.Review
    with workspace.read() as conn:
        row = _find(conn, workspace.learner_id, card)
        memory_row = conn.execute(
            select(
                *m.MEMORY_COLUMNS,
                s.suspended,
                s.buried_until,
                s.flag,
            ).where(s.learner_id == workspace.learner_id, s.card_id == row.id)
        ).one()
        deck_title = conn.execute(select(m.Deck.title).where(m.Deck.id == row.deck_id)).scalar_one()
        history = conn.execute(
            select(r.reviewed_at, r.rating, r.state_before, r.due_after, r.duration_ms)
            .where(r.learner_id == workspace.learner_id, r.card_id == row.id)
            .order_by(r.reviewed_at, r.id)
        ).all()
    settings = workspace.settings()
    memory = state_from_row(memory_row[: len(m.MEMORY_COLUMNS)])
    reviewer = Reviewer(
        desired_retention=settings.desired_retention, parameters=settings.fsrs_parameters
    )
    interval = None
    if memory.due is not None and memory.last_review is not None:
        interval = (memory.due - memory.last_review).total_seconds() / 86_400
    edited = row.override is not None
    return CardInfo(
        card_id=int(row.id),
        card=_shown_card(row),
        edited=edited,
        library_front=row.front,
        library_back=row.back,
        library_changed=edited and (row.base_front, row.base_back) != (row.front, row.back),
        deck_title=str(deck_title),
        state=memory.state.name.lower(),
        due=memory.due,
        interval_days=interval,
        stability=memory.stability,
        difficulty=memory.difficulty,
        retrievability=reviewer.retrievability(memory, now),
        reps=memory.reps,
        lapses=memory.lapses,
        suspended=bool(memory_row.suspended),
        buried=memory_row.buried_until is not None and memory_row.buried_until > to_ms(now),
        flag=int(memory_row.flag),
        retired=row.retired_at is not None,
        source=row.source,
        added=from_ms(row.created_at),
        reviews=tuple(
            ReviewEntry(
                at=from_ms(h.reviewed_at),
                rating=Rating(h.rating),
                state_before=_state_name(h.state_before),
                interval_days=(
                    None if h.due_after is None else (h.due_after - h.reviewed_at) / 86_400_000
                ),
                duration_ms=h.duration_ms,
            )
            for h in history
        ),
    )


# -- browser -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BrowseFilter:
    """What the browser asks for; every field set narrows the match (they combine with AND).

    `state` is one of STATE_FILTERS: new, learning (relearning included) and review go by the
    card's state alone (suspended and buried cards included, as in Anki's browser); due means due
    before the study day ends and neither suspended nor buried, as the study queue counts it.
    `text` is a substring, case-insensitive (ASCII letters on SQLite), searched in the library
    front and back, the learner's edited text, the tags and the key; `%` and `_` in it are
    literal characters.
    """

    topic: str | None = None  # a deck id
    kind: str | None = None  # a Kind value
    state: str | None = None
    flag: int | None = None
    text: str | None = None
    include_retired: bool = False
    limit: int = 100
    offset: int = 0


@dataclass(frozen=True, slots=True)
class BrowseRow:
    """One card in the browser's table; light enough for thousands of rows."""

    card_id: int
    key: str
    deck: str
    kind: Kind
    front: str  # the first line of the front the learner sees, cut to FRONT_PREVIEW characters
    state: str  # new | learning | review | relearning
    due: datetime | None
    flag: int
    suspended: bool
    buried: bool
    edited: bool
    retired: bool


@dataclass(frozen=True, slots=True)
class BrowseResult:
    rows: tuple[BrowseRow, ...]
    total: int  # every card matching the filter, not only this page


LIKE_ESCAPE = "\\"


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its own `%`, `_` and `\\` taken literally."""
    escaped = (
        text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )
    return f"%{escaped}%"


def _preview(front: str) -> str:
    line = front.strip().split("\n", 1)[0].strip()
    return line if len(line) <= FRONT_PREVIEW else line[: FRONT_PREVIEW - 1] + "…"


def _conditions(
    workspace: Workspace, conn: Connection, wanted: BrowseFilter, now: datetime
) -> ColumnElement[bool]:
    """The filter as SQL conditions over card (c) and card_state (s)."""
    c, s, o = m.Card, m.CardState, m.CardOverride
    now_ms = to_ms(now)
    buried = s.buried_until.is_not(None) & (s.buried_until > now_ms)
    where: list[ColumnElement[bool]] = [s.learner_id == workspace.learner_id]
    if not wanted.include_retired:
        where.append(c.retired_at.is_(None))
    if wanted.topic is not None:
        where.append(c.deck_id == wanted.topic)
    if wanted.kind is not None:
        try:
            kind = Kind(wanted.kind)
        except ValueError:
            kinds = ", ".join(k.value for k in Kind)
            raise PrepkitError(f"unknown card kind '{wanted.kind}' (one of {kinds})") from None
        where.append(c.kind == kind.value)
    if wanted.state is not None:
        where.append(_state_condition(workspace, wanted.state, now, buried))
    if wanted.flag is not None:
        if not 0 <= wanted.flag <= 7:
            raise PrepkitError(f"flags are 1-7 (0 for none), not {wanted.flag}")
        where.append(s.flag == wanted.flag)
    if wanted.text:
        pattern = like_pattern(wanted.text)
        sqlite = conn.dialect.name == "sqlite"

        def matches(column: Any) -> ColumnElement[bool]:
            # SQLite's LIKE already ignores ASCII case; lower() on every row would only cost.
            if sqlite:
                return column.like(pattern, escape=LIKE_ESCAPE)  # type: ignore[no-any-return]
            return column.ilike(pattern, escape=LIKE_ESCAPE)  # type: ignore[no-any-return]

        # The learner's edits are few: matched once as a set, not joined to every card. The
        # short columns go first, so a hit there skips the long back.
        edited = select(o.card_id).where(
            o.learner_id == workspace.learner_id, or_(matches(o.front), matches(o.back))
        )
        columns = (c.front, c.key, c.tags, c.back)
        where.append(or_(*(matches(col) for col in columns), c.id.in_(edited)))
    return and_(*where)


def _state_condition(
    workspace: Workspace, state: str, now: datetime, buried: ColumnElement[bool]
) -> ColumnElement[bool]:
    s = m.CardState
    if state == "new":
        return s.state == int(State.NEW)
    if state == "learning":
        return s.state.in_((int(State.LEARNING), int(State.RELEARNING)))
    if state == "review":
        return s.state == int(State.REVIEW)
    if state == "suspended":
        return s.suspended.is_(True)
    if state == "buried":
        return buried
    if state == "flagged":
        return s.flag != 0
    if state == "due":
        settings = workspace.settings()
        cutoff = to_ms(next_day_start(now, settings.zone, settings.day_start_hour))
        return (s.state != int(State.NEW)) & (s.due < cutoff) & s.suspended.is_(False) & ~buried
    raise PrepkitError(f"unknown state filter '{state}' (one of {', '.join(STATE_FILTERS)})")


def browse(workspace: Workspace, now: datetime, wanted: BrowseFilter | None = None) -> BrowseResult:
    """One page of the cards matching `wanted`, in library order, and how many match in all.

    One query does both: the matches are filtered and sorted as bare ids with their count
    alongside (a window count costs next to nothing over the scan the filter makes anyway), and
    only the page's rows are then joined to their text and the learner's edits. At 100,000 cards
    a text search is one pass over the cards.
    """
    wanted = wanted or BrowseFilter()
    if wanted.limit < 0 or wanted.offset < 0:
        raise PrepkitError("limit and offset must not be negative")
    c, s, o = m.Card, m.CardState, m.CardOverride
    now_ms = to_ms(now)
    with workspace.read() as conn:
        where = _conditions(workspace, conn, wanted, now)
        matching = select(s.card_id).select_from(s).join(c, c.id == s.card_id).where(where)
        page = (
            matching.add_columns(
                c.deck_id.label("deck"), c.position, func.count().over().label("total")
            )
            .order_by(c.deck_id, c.position, c.id)
            .limit(wanted.limit)
            .offset(wanted.offset)
            .subquery("page")
        )
        rows = conn.execute(
            select(
                page.c.total,
                c.id,
                c.key,
                c.deck_id,
                c.kind,
                func.coalesce(o.front, c.front),
                s.state,
                s.due,
                s.flag,
                s.suspended,
                case((s.buried_until > now_ms, True), else_=False),
                o.card_id.is_not(None),
                c.retired_at.is_not(None),
            )
            .select_from(page)
            .join(c, c.id == page.c.card_id)
            .join(s, and_(s.learner_id == workspace.learner_id, s.card_id == page.c.card_id))
            .outerjoin(o, and_(o.learner_id == workspace.learner_id, o.card_id == c.id))
            .order_by(page.c.deck, page.c.position, page.c.card_id)
        ).all()
        if rows:
            total = int(rows[0][0])
        elif wanted.offset == 0 and wanted.limit > 0:
            total = 0
        else:  # a page past the end (or an empty one) still tells how many there are
            total = int(conn.execute(matching.with_only_columns(func.count())).scalar_one())
    return BrowseResult(
        rows=tuple(
            BrowseRow(
                card_id=int(r[1]),
                key=r[2],
                deck=r[3],
                kind=Kind(r[4]),
                front=_preview(r[5]),
                state=_state_name(r[6]),
                due=_ms(r[7]),
                flag=int(r[8]),
                suspended=bool(r[9]),
                buried=bool(r[10]),
                edited=bool(r[11]),
                retired=bool(r[12]),
            )
            for r in rows
        ),
        total=total,
    )


# -- bulk actions --------------------------------------------------------------------------------


def _chunks(ids: Iterable[int]) -> list[list[int]]:
    unique = sorted(set(ids))
    return [unique[i : i + CHUNK] for i in range(0, len(unique), CHUNK)]


def _bulk_set(workspace: Workspace, card_ids: Sequence[int], column: str, value: Any) -> int:
    """Set one card_state column on many cards in ONE transaction; count the cards it changed.

    Cards already holding the value are not rewritten, so the count is what a user would call
    "changed", and a repeated click writes nothing.
    """
    s = m.CardState
    target = getattr(s, column)
    changed = 0
    with workspace.engine.begin() as conn:
        for chunk in _chunks(card_ids):
            result = conn.execute(
                sql_update(s)
                .where(s.learner_id == workspace.learner_id, s.card_id.in_(chunk), target != value)
                .values({column: value})
            )
            changed += result.rowcount
    return changed


def set_suspended(workspace: Workspace, card_ids: Sequence[int], suspended: bool) -> int:
    """Suspend (or unsuspend) the cards `card_ids` at once; returns how many changed."""
    return _bulk_set(workspace, card_ids, "suspended", bool(suspended))


def set_flag(workspace: Workspace, card_ids: Sequence[int], flag: int) -> int:
    """Set flag 1-7 (0 clears) on the cards `card_ids` at once; returns how many changed."""
    if not 0 <= flag <= 7:
        raise PrepkitError(f"flags are 1-7 (0 for none), not {flag}")
    return _bulk_set(workspace, card_ids, "flag", flag)
