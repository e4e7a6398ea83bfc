"""Writing an Anki package (.apkg) of the learner's cards, optionally with their history.

Built with genanki (the `anki` extra), then finished by hand where genanki falls short (see
../shared/reference/interop-and-reliability.md):

- A note's GUID comes from the prepkit card id, not from its text (genanki's default), so an
  edited card updates its Anki note instead of arriving as a new one.
- A note's modification time is the card's last edit. Anki replaces an existing note only when
  the package's note is newer, so a constant time would make edits never arrive, and a build
  time would make an unchanged export look like an update.
- The collection says `schedVer` 2. genanki leaves it unset, and Anki then "upgrades" the
  package's review log from the V1 scheduler, turning every learning Good into an Easy.
- With history, each card's answers go into `revlog` and its current state into the card row
  (queue, interval, due day, FSRS memory), so Anki continues where prepkit left off.

The package is built in memory (sqlite3 serialize) and returned as bytes; the caller writes it.
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count
from typing import Any

from prepkit.errors import PrepkitError
from prepkit.export.apkg_read import PREPKIT_ID_FIELD
from prepkit.export.foreign import text_to_html

DAY_S = 86_400
# Stable ids (Anki wants them in [2**30, 2**31)): the same note types on every export.
BASIC_MODEL_ID = 1_739_260_001
CLOZE_MODEL_ID = 1_739_260_002
ANSWER_CAP_MS = 60_000  # Anki's default "maximum answer seconds"
CSS = ".card { font-family: sans-serif; font-size: 20px; text-align: left; }\n"
CSS += ".source { font-size: 14px; color: #777; margin-top: 1em; }\n"


@dataclass(frozen=True, slots=True)
class PackageReview:
    at_ms: int
    rating: int
    duration_ms: int | None
    state_before: int  # prepkit's: 0 new, 1 learning, 2 review, 3 relearning
    interval_ms: int | None  # due_after - reviewed_at
    last_interval_ms: int | None
    difficulty: float | None


@dataclass(frozen=True, slots=True)
class PackageCard:
    key: str
    deck: str  # the Anki deck name
    front: str  # plain text
    back: str  # plain text
    source: str
    tags: tuple[str, ...]
    cloze: bool
    modified_ms: int
    # The learner's state, used with history: prepkit's state numbers and FSRS memory.
    state: int = 0
    stability: float | None = None
    difficulty: float | None = None
    due_ms: int | None = None
    last_review_ms: int | None = None
    reps: int = 0
    lapses: int = 0
    suspended: bool = False
    reviews: tuple[PackageReview, ...] = ()


def guid(key: str) -> str:
    import genanki

    return str(genanki.guid_for("prepkit", key))


def deck_number(name: str) -> int:
    return int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) % 2**30 + 2**30


def build_package(
    cards: Sequence[PackageCard], built_ms: int, with_history: bool, retention: float
) -> bytes:
    """The .apkg's bytes (Legacy 1 container, which every Anki since 2.1 imports)."""
    try:
        import genanki
    except ImportError:
        raise PrepkitError("--format apkg needs genanki: pip install 'prepkit[anki]'") from None
    basic, cloze = _models(genanki)
    decks: dict[str, genanki.Deck] = {}
    for card in cards:
        deck = decks.setdefault(card.deck, genanki.Deck(deck_number(card.deck), card.deck))
        model = cloze if card.cloze else basic
        fields = [
            text_to_html(card.front),
            text_to_html(card.back),
            text_to_html(card.source),
            text_to_html(card.key),
        ]
        deck.add_note(
            genanki.Note(model=model, fields=fields, tags=_tags(card.tags), guid=guid(card.key))
        )
    conn = sqlite3.connect(":memory:")
    try:
        cursor = conn.cursor()
        package = genanki.Package(list(decks.values()))
        package.write_to_db(cursor, built_ms / 1000, count(built_ms))
        _finish(cursor, cards, with_history, retention)
        conn.commit()
        database = conn.serialize()
    finally:
        conn.close()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("collection.anki2", database)
        archive.writestr("media", "{}")
    return out.getvalue()


def _tags(tags: Sequence[str]) -> list[str]:
    """Anki tags cannot hold spaces."""
    return [tag.replace(" ", "_") for tag in tags if tag.strip()]


def _models(genanki: object) -> tuple[object, object]:
    g = genanki
    fields = [{"name": "Front"}, {"name": "Back"}, {"name": "Source"}, {"name": PREPKIT_ID_FIELD}]
    basic = g.Model(  # type: ignore[attr-defined]
        BASIC_MODEL_ID,
        "prepkit Basic",
        fields=fields,
        templates=[
            {
                "name": "Card 1",
                "qfmt": "{{Front}}",
                "afmt": '{{FrontSide}}<hr id="answer">{{Back}}<div class="source">{{Source}}</div>',
            }
        ],
        css=CSS,
    )
    cloze = g.Model(  # type: ignore[attr-defined]
        CLOZE_MODEL_ID,
        "prepkit Cloze",
        fields=[{"name": "Text"}, {"name": "Back Extra"}, *fields[2:]],
        templates=[
            {
                "name": "Cloze",
                "qfmt": "{{cloze:Text}}",
                "afmt": '{{cloze:Text}}<br>{{Back Extra}}<div class="source">{{Source}}</div>',
            }
        ],
        css=CSS,
        model_type=g.Model.CLOZE,  # type: ignore[attr-defined]
    )
    return basic, cloze


def _finish(
    cursor: sqlite3.Cursor, cards: Sequence[PackageCard], with_history: bool, retention: float
) -> None:
    (conf_json, crt) = cursor.execute("SELECT conf, crt FROM col").fetchone()
    conf = json.loads(conf_json)
    conf["schedVer"] = 2
    cursor.execute("UPDATE col SET conf = ?", (json.dumps(conf),))
    by_guid = {guid(card.key): card for card in cards}
    rows = cursor.execute(
        "SELECT c.id, n.id, n.guid FROM cards c JOIN notes n ON n.id = c.nid ORDER BY c.id"
    ).fetchall()
    used: set[int] = set()
    for card_id, note_id, note_guid in rows:
        card = by_guid[note_guid]
        mod_s = card.modified_ms // 1000
        cursor.execute("UPDATE notes SET mod = ? WHERE id = ?", (mod_s, note_id))
        cursor.execute("UPDATE cards SET mod = ? WHERE id = ?", (mod_s, card_id))
        if card.suspended:
            cursor.execute("UPDATE cards SET queue = -1 WHERE id = ?", (card_id,))
        if with_history and card.reps:
            _schedule(cursor, card_id, card, int(crt), retention)
            for review in card.reviews:
                at = review.at_ms
                while at in used:  # revlog ids are unique instants
                    at += 1
                used.add(at)
                cursor.execute(
                    "INSERT INTO revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type) "
                    "VALUES (?, ?, -1, ?, ?, ?, ?, ?, ?)",
                    (
                        at,
                        card_id,
                        review.rating,
                        _anki_interval(review.interval_ms),
                        _anki_interval(review.last_interval_ms),
                        _factor(review.difficulty),
                        min(review.duration_ms or 0, ANSWER_CAP_MS),
                        _revlog_type(review.state_before),
                    ),
                )


def _anki_interval(ms: int | None) -> int:
    """Anki's revlog interval: days when a day or more, else negative seconds."""
    if ms is None or ms <= 0:
        return 0
    if ms >= DAY_S * 1000:
        return round(ms / (DAY_S * 1000))
    return -max(1, ms // 1000)


def _factor(difficulty: float | None) -> int:
    """With FSRS, Anki keeps difficulty (1-10) in `factor` as 100-1100."""
    return 0 if difficulty is None else round(100 * difficulty + 100)


def _revlog_type(state_before: int) -> int:
    """Anki's revlog type: 0 learning (new cards too), 1 review, 2 relearning."""
    return {0: 0, 1: 0, 2: 1, 3: 2}.get(state_before, 0)


def _schedule(
    cursor: sqlite3.Cursor, card_id: int, card: PackageCard, crt: int, retention: float
) -> None:
    """The card row as Anki keeps a card in this state."""
    due_s = (card.due_ms or 0) // 1000
    data = json.dumps({"s": card.stability, "d": card.difficulty, "dr": retention})
    if card.state == 2:
        interval = max(1, round(((card.due_ms or 0) - (card.last_review_ms or 0)) / 86_400_000))
        values = (2, 2, interval, (due_s - crt) // DAY_S)
    else:  # learning or relearning: due is an instant, in seconds
        values = (1 if card.state == 1 else 3, 1, 0, due_s)
    queue = -1 if card.suspended else values[1]
    cursor.execute(
        "UPDATE cards SET type = ?, queue = ?, ivl = ?, due = ?, reps = ?, lapses = ?, "
        "factor = ?, data = ? WHERE id = ?",
        (
            values[0],
            queue,
            values[2],
            values[3],
            card.reps,
            card.lapses,
            2500,
            data,
            card_id,
        ),
    )


def card_texts(kind: str, front: str, back: str | None, payload: dict[str, Any]) -> tuple[str, str]:
    """A prepkit card as Anki's two sides: what a typed, choice or code card asks and expects
    goes into the text, since an Anki Basic note has no such fields."""
    extra = back or ""
    if kind == "numeric":
        value = payload.get("answer")
        answer = f"{value:g}" if isinstance(value, int | float) else str(value)
        if payload.get("unit"):
            answer += f" {payload['unit']}"
        if payload.get("tolerance"):
            answer += f" (± {payload['tolerance']:g})"
        return front, _joined(answer, extra)
    if kind == "choice":
        options = "\n".join(f"- {option}" for option in payload.get("options", []))
        return _joined(front, options), _joined(str(payload.get("correct", "")), extra)
    if kind == "code":
        return _joined(front, payload.get("code", "")), _joined(payload.get("expected", ""), extra)
    if kind == "prompt":
        rubric = "\n".join(f"- {point}" for point in payload.get("rubric", []))
        return front, _joined(rubric, extra)
    return front, extra


def _joined(*parts: str) -> str:
    return "\n\n".join(part for part in parts if part)
