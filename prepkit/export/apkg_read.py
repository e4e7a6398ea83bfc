"""Reading Anki packages (.apkg, .colpkg) without Anki and without writing to disk.

A package is a zip holding a SQLite collection and the deck's media. Three container versions
exist (see Anki's `rslib/src/import_export/package/meta.rs`):

| version | collection member | compression | media list |
|---|---|---|---|
| Legacy 1 (genanki, old Anki) | `collection.anki2` | none | JSON in `media` |
| Legacy 2 | `collection.anki21` | none | JSON in `media` |
| Latest | `collection.anki21b` | zstd | zstd protobuf in `media` |

A Latest package also holds a dummy `collection.anki2` whose one note asks the user to update
Anki; the newest collection member present is the one read. The collection is opened from
memory (`sqlite3` deserialize), so nothing from the archive is ever written out; media files are
not imported (prepkit cards are text), but their names are checked as Anki checks them, and a
package naming a file outside its folder is refused. Every member is read with a size limit
enforced on the bytes actually produced, so a zip bomb or a lying header stops at the limit.
"""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from prepkit.deck.model import CLOZE_PATTERN
from prepkit.export.foreign import (
    ANKI_KEY,
    ForeignFile,
    ForeignNote,
    ForeignReview,
    ImportFileError,
    html_to_text,
)

COLLECTIONS = ("collection.anki21b", "collection.anki21", "collection.anki2")
COLLECTION_LIMIT = 1024**3  # bytes of collection database, decompressed (it is read into memory)
MEDIA_LIST_LIMIT = 64 * 1024**2
# A collection compresses about 14:1 (measured on Anki's own exports); zeros reach ~1000:1 with
# deflate and far more with zstd. Past this ratio, and past a size where it matters, the member
# was built to exhaust memory.
MAX_RATIO = 300
RATIO_FROM = 16 * 1024**2
SQLITE_MAGIC = b"SQLite format 3\x00"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
PREPKIT_ID_FIELD = "prepkit id"
DAMAGED = (
    sqlite3.Error,
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    IndexError,
    OverflowError,
)  # what prepkit's own exports carry: the card's stable id


@dataclass(frozen=True, slots=True)
class _Notetype:
    name: str
    cloze: bool
    fields: tuple[str, ...]


def read_package(data: bytes, label: str) -> ForeignFile:
    """The notes of a package, each with its first card's deck and review history."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    # NotImplementedError: a central directory asking for a zip version Python cannot read
    # (found by the atheris target); EOFError: a directory cut short.
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError):
        raise ImportFileError(
            f"{label}: not an Anki package (not a readable zip archive)"
        ) from None
    with archive:
        names = {info.filename: info for info in archive.infolist()}
        for name in names:
            _check_member(name, label)
        member = next((n for n in COLLECTIONS if n in names), None)
        if member is None:
            raise ImportFileError(f"{label}: not an Anki package (no collection inside)")
        _check_media(archive, names, label)
        raw = _read(archive, names[member], COLLECTION_LIMIT, label)
        if member.endswith("b"):
            raw = _unzstd(raw, COLLECTION_LIMIT, f"{label}: {member}")
    if not raw.startswith(SQLITE_MAGIC):
        raise ImportFileError(f"{label}: {member}: not an SQLite database")
    # A WAL-mode database (Anki's own) cannot be opened from memory; bytes 18-19 of the header
    # say which journal the file uses, and "rollback" reads the same pages.
    raw = raw[:18] + b"\x01\x01" + raw[20:]
    conn = sqlite3.connect(":memory:")
    try:
        conn.deserialize(raw)
        return _notes(conn, f"{label}: {member}")
    except DAMAGED as err:
        # The collection's own content is untrusted: a damaged table, a broken JSON column or
        # a NULL where Anki always writes a value all mean the same to the learner.
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ImportFileError(
            f"{label}: {member}: not a readable Anki collection ({reason[:120]})"
        ) from None
    finally:
        conn.close()


def _check_member(name: str, label: str) -> None:
    if not _safe_name(name):
        raise ImportFileError(f"{label}: member {name!r}: not a plain file name (refused)")


def _safe_name(name: str) -> bool:
    """Anki's rule (`filename_is_safe`): one normal path component."""
    return (
        bool(name)
        and name not in (".", "..")
        and "/" not in name
        and "\\" not in name
        and "\x00" not in name
        and not (len(name) > 1 and name[1] == ":")
    )


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, label: str) -> bytes:
    """A member's bytes, refusing more than `limit` or a bomb's compression ratio; counted on
    what decompression produces, not on what the header claims."""
    if info.file_size > limit:
        raise ImportFileError(f"{label}: {info.filename}: {info.file_size} bytes is too large")
    if info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * info.compress_size:
        ratio = info.file_size // max(1, info.compress_size)
        raise ImportFileError(
            f"{label}: {info.filename}: compressed {ratio}:1, refused as a zip bomb"
        )
    try:
        with archive.open(info) as stream:
            out = stream.read(limit + 1)
    except (zipfile.BadZipFile, EOFError, zlib.error, OSError, RuntimeError, ValueError) as err:
        raise ImportFileError(f"{label}: {info.filename}: damaged or truncated ({err})") from None
    if len(out) > limit:
        raise ImportFileError(f"{label}: {info.filename}: larger than {limit} bytes, refused")
    return out


def _unzstd(data: bytes, limit: int, where: str) -> bytes:
    import zstandard

    if not data.startswith(ZSTD_MAGIC):
        raise ImportFileError(f"{where}: not zstd-compressed data")
    limit = min(limit, max(RATIO_FROM, MAX_RATIO * len(data)))
    chunks: list[bytes] = []
    size = 0
    try:
        reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data))
        while size <= limit:
            chunk = reader.read(1024**2)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except zstandard.ZstdError as err:
        raise ImportFileError(f"{where}: damaged zstd data ({err})") from None
    if size > limit:
        raise ImportFileError(f"{where}: decompresses past {limit} bytes, refused as a bomb")
    return b"".join(chunks)


def _check_media(archive: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo], label: str) -> None:
    """The media list's names must be plain file names (Anki refuses the package otherwise)."""
    info = names.get("media")
    if info is None:
        return
    raw = _read(archive, info, MEDIA_LIST_LIMIT, label)
    if raw.startswith(ZSTD_MAGIC):
        media = list(_media_entries(_unzstd(raw, MEDIA_LIST_LIMIT, f"{label}: media"), label))
    else:
        try:
            listed = json.loads(raw.decode("utf-8") or "{}")
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ImportFileError(f"{label}: media: not a media list") from None
        if not isinstance(listed, dict):
            raise ImportFileError(f"{label}: media: not a media list")
        media = [str(value) for value in listed.values()]
    for name in media:
        if not _safe_name(name):
            raise ImportFileError(f"{label}: media file {name!r}: not a plain file name (refused)")


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if at >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def _fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """Protocol-buffer fields (number, value): varints and length-delimited bytes only."""
    at = 0
    while at < len(data):
        tag, at = _varint(data, at)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, at = _varint(data, at)
            yield number, value
        elif wire == 2:
            size, at = _varint(data, at)
            if at + size > len(data):
                raise ValueError("truncated field")
            yield number, data[at : at + size]
            at += size
        else:
            raise ValueError(f"unexpected wire type {wire}")


def _media_entries(data: bytes, label: str) -> Iterator[str]:
    """Names in Anki's `MediaEntries { repeated MediaEntry entries = 1 { string name = 1 } }`."""
    try:
        for number, entry in _fields(data):
            if number == 1 and isinstance(entry, bytes):
                for inner, value in _fields(entry):
                    if inner == 1 and isinstance(value, bytes):
                        yield value.decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise ImportFileError(f"{label}: media: not a media list") from None


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _notetypes(conn: sqlite3.Connection, tables: set[str]) -> dict[int, _Notetype]:
    if "notetypes" in tables:  # schema 18: one row per notetype, fields in their own table
        fields: dict[int, list[tuple[int, str]]] = {}
        for ntid, ord_, name in conn.execute("SELECT ntid, ord, name FROM fields"):
            fields.setdefault(ntid, []).append((ord_, name))
        types = {}
        for ntid, name, config in conn.execute("SELECT id, name, config FROM notetypes"):
            kind = dict(_fields(bytes(config or b""))).get(1, 0)  # NotetypeConfig.kind
            names = tuple(n for _, n in sorted(fields.get(ntid, [])))
            types[int(ntid)] = _Notetype(str(name), kind == 1, names)
        return types
    (models,) = conn.execute("SELECT models FROM col").fetchone()
    return {
        int(ntid): _Notetype(
            str(model.get("name", "")),
            model.get("type") == 1,
            tuple(f.get("name", "") for f in sorted(model["flds"], key=lambda f: f.get("ord", 0))),
        )
        for ntid, model in json.loads(models).items()
    }


def _decks(conn: sqlite3.Connection, tables: set[str]) -> dict[int, str]:
    if "decks" in tables:
        return {
            int(i): str(n).replace("\x1f", "::")
            for i, n in conn.execute("SELECT id, name FROM decks")
        }
    (decks,) = conn.execute("SELECT decks FROM col").fetchone()
    return {int(i): str(deck.get("name", "")) for i, deck in json.loads(decks).items()}


def _history(conn: sqlite3.Connection) -> dict[int, list[ForeignReview]]:
    """Answers per card, oldest first. Manual reschedules (ease 0), entries Anki's optimizer
    drops (cram with no factor) and rescheduling entries are not answers and are left out."""
    history: dict[int, list[ForeignReview]] = {}
    for at, cid, ease, duration in conn.execute(
        "SELECT id, cid, ease, time FROM revlog "
        "WHERE ease BETWEEN 1 AND 4 AND type IN (0, 1, 2, 3) AND NOT (type = 3 AND factor = 0) "
        "ORDER BY id"
    ):
        history.setdefault(int(cid), []).append(
            ForeignReview(int(at), int(ease), int(duration) if duration else None)
        )
    return history


def _notes(conn: sqlite3.Connection, where: str) -> ForeignFile:
    tables = _tables(conn)
    missing = {"notes", "cards", "col"} - tables
    if missing:
        raise ImportFileError(f"{where}: not an Anki collection (no {', '.join(sorted(missing))})")
    types = _notetypes(conn, tables)
    decks = _decks(conn, tables)
    history = _history(conn) if "revlog" in tables else {}
    first_card: dict[int, tuple[int, int]] = {}
    for cid, nid, did in conn.execute("SELECT id, nid, did FROM cards ORDER BY nid, ord, id"):
        first_card.setdefault(int(nid), (int(cid), int(did)))
    notes: list[ForeignNote] = []
    why: list[str] = []
    for nid, guid, mid, mod, tags, flds in conn.execute(
        "SELECT id, guid, mid, mod, tags, flds FROM notes ORDER BY id"
    ):
        note = _note(
            int(nid),
            str(guid),
            types.get(int(mid)),
            int(mod),
            str(tags),
            str(flds),
            first_card,
            decks,
            history,
        )
        if isinstance(note, str):
            why.append(f"note {nid}: {note}")
        else:
            notes.append(note)
    return ForeignFile("apkg", tuple(notes), len(why), tuple(why))


def _note(
    nid: int,
    guid: str,
    notetype: _Notetype | None,
    mod: int,
    tags: str,
    flds: str,
    first_card: dict[int, tuple[int, int]],
    decks: dict[int, str],
    history: dict[int, list[ForeignReview]],
) -> ForeignNote | str:
    """A note as prepkit stores it, or why it is passed over."""
    if notetype is None:
        return "its note type is missing"
    if nid not in first_card:
        return "it has no cards"
    cid, did = first_card[nid]
    values = flds.split("\x1f")
    named = dict(zip(notetype.fields, values, strict=False))
    front = html_to_text(values[0])
    back = html_to_text(values[1]) if len(values) > 1 else ""
    if not front:
        return "empty first field"
    if notetype.cloze and not CLOZE_PATTERN.search(front):
        return "a cloze note without a cloze deletion"
    own = html_to_text(named[PREPKIT_ID_FIELD]) if PREPKIT_ID_FIELD in named else ""
    return ForeignNote(
        key=own or ANKI_KEY + guid,
        deck=decks.get(did, "Default") or "Default",
        front=front,
        back=back or None,
        tags=tuple(tags.split()),
        cloze=notetype.cloze,
        modified_ms=mod * 1000,
        history=tuple(history.get(cid, ())),
    )
