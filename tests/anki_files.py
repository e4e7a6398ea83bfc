"""Files other tools write, made by those tools where we can: Anki's own backend (the `anki`
wheel, a test dependency) writes the packages and the text export prepkit must read."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

BASIC_FRONTS = ["Q0 <b>bold</b> &amp; <img src='x.png'>", "Q1 <i>x</i>", "Q2"]
CLOZE_TEXT = "The {{c1::GIL}} serialises {{c2::bytecode}}"
ANSWERS = 3  # cards answered Good in Anki before export


def anki_collection(folder: Path) -> Any:
    """A fresh Anki collection with 3 Basic notes and 1 Cloze note in Interview::SQL, three of
    them answered Good once."""
    from anki.collection import Collection
    from anki.scheduler.v3 import CardAnswer

    col = Collection(str(folder / "collection.anki2"))
    did = col.decks.id("Interview::SQL")
    basic = col.models.by_name("Basic")
    for i, front in enumerate(BASIC_FRONTS):
        note = col.new_note(basic)
        note["Front"], note["Back"] = front, f"A{i}<br>line2"
        note.tags = ["sql", "t2"]
        col.add_note(note, did)
    cloze = col.new_note(col.models.by_name("Cloze"))
    cloze["Text"] = CLOZE_TEXT
    col.add_note(cloze, did)
    col.decks.select(did)
    for _ in range(ANSWERS):
        queued = col.sched.get_queued_cards(fetch_limit=1).cards[0]
        card = col.get_card(queued.card.id)
        card.start_timer()
        answer = col.sched.build_answer(card=card, states=queued.states, rating=CardAnswer.GOOD)
        col.sched.answer_card(answer)
    return col


def anki_packages(folder: Path) -> dict[str, Path]:
    """The same deck as a Latest (anki21b, zstd) and a Legacy 2 (anki21) package."""
    from anki.collection import DeckIdLimit, ExportAnkiPackageOptions

    col = anki_collection(folder)
    did = col.decks.id("Interview::SQL")
    out = {}
    for name, legacy in (("latest", False), ("legacy2", True)):
        path = folder / f"{name}.apkg"
        options = ExportAnkiPackageOptions(
            with_scheduling=True, with_deck_configs=True, with_media=True, legacy=legacy
        )
        col.export_anki_package(out_path=str(path), options=options, limit=DeckIdLimit(did))
        out[name] = path
    text = folder / "notes.txt"
    col.export_note_csv(
        out_path=str(text),
        limit=DeckIdLimit(did),
        with_html=True,
        with_tags=True,
        with_deck=True,
        with_notetype=True,
        with_guid=True,
    )
    out["text"] = text
    col.close()
    return out


def import_into_anki(folder: Path, package: Path, col: Any = None) -> tuple[Any, Any]:
    """Import `package` into `col` (a new empty collection by default): (collection, log)."""
    from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

    if col is None:
        col = Collection(str(folder / "into.anki2"))
    request = ImportAnkiPackageRequest(
        package_path=str(package), options=ImportAnkiPackageOptions(with_scheduling=True)
    )
    return col, col.import_anki_package(request).log


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def with_member(package: Path, name: str, data: bytes) -> bytes:
    """`package` with member `name` replaced or added."""
    with zipfile.ZipFile(package) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    members[name] = data
    return zip_bytes(members)


def media_json(names: list[str]) -> bytes:
    return json.dumps({str(i): name for i, name in enumerate(names)}).encode()
