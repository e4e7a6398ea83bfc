"""Reading Anki's text export (with its `#key:value` header lines) and Quizlet's
term/definition files.

Anki's format is a CSV whose separator, HTML flag, deck and special columns (GUID, note type,
deck, tags) are declared in header lines; Anki writes it with CSV quoting. Quizlet's export is
not quoted at all: each row is a term, a separator (Tab by default) and a definition, rows split
by a newline or a chosen string, so a quote mark in a definition is just a character. A file
without headers whose rows are split by Tabs is read the Quizlet way; one split by commas or
semicolons is a spreadsheet CSV and read with quoting.

Rows are checked as they are read: a row with too few columns is an error naming its line (a
file with the wrong columns is refused, not half imported); a row with an empty front is skipped
and counted.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field

from prepkit.deck.model import CLOZE_PATTERN
from prepkit.export.foreign import (
    ANKI_KEY,
    ForeignFile,
    ForeignNote,
    ImportFileError,
    html_to_text,
    text_key,
)

SEPARATORS = {
    "comma": ",",
    "semicolon": ";",
    "tab": "\t",
    "space": " ",
    "pipe": "|",
    "colon": ":",
}
HEADER_KEYS = {
    "separator",
    "html",
    "tags",
    "columns",
    "notetype",
    "deck",
    "notetype column",
    "deck column",
    "tags column",
    "guid column",
    "match scope",
    "if matches",
}


@dataclass(frozen=True, slots=True)
class Layout:
    """How a file's rows map to notes, from its header lines (or their absence)."""

    separator: str
    quoted: bool
    html: bool = False
    deck: str = ""
    notetype: str = ""
    tags: tuple[str, ...] = ()
    special: dict[str, int] = field(default_factory=dict)  # "guid" etc. -> 0-based column


def decode(data: bytes, label: str) -> str:
    """UTF-8 text, or one line saying why this is not a text file."""
    if b"\x00" in data[:65536]:
        raise ImportFileError(f"{label}: not a text file (it holds binary data)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise ImportFileError(f"{label}: line {line}: not UTF-8 text") from None


def read_text(
    data: bytes,
    label: str,
    default_deck: str,
    term_separator: str | None = None,
    row_separator: str | None = None,
) -> ForeignFile:
    """The notes of an Anki text export or a Quizlet file (`term_separator`/`row_separator`
    choose Quizlet's custom separators)."""
    text = decode(data, label)
    lines = text.splitlines(keepends=True)
    headers, start = _headers(lines, label)
    body = "".join(lines[start:])
    if not body.strip():
        raise ImportFileError(f"{label}: no cards in the file")
    if term_separator is not None or row_separator is not None or (not headers and _tabbed(body)):
        return _quizlet(body, label, default_deck, term_separator or "\t", row_separator, start)
    layout = _layout(headers, body, label)
    return _anki(body, label, layout, default_deck, start)


def _headers(lines: list[str], label: str) -> tuple[dict[str, str], int]:
    """The `#key:value` lines at the top (and Anki's older `tags:` line), and where rows start."""
    found: dict[str, str] = {}
    index = 0
    for index, line in enumerate(lines):
        stripped = line.rstrip("\r\n")
        if index == 0 and stripped.startswith("tags:"):
            found["tags"] = stripped[5:].strip()
            continue
        if not stripped.startswith("#"):
            return found, index
        key, sep, value = stripped[1:].partition(":")
        if sep and key.strip().lower() in HEADER_KEYS:
            found[key.strip().lower()] = value.strip()
        # any other line starting with # is a comment, as in Anki
    return found, len(lines)


def _tabbed(body: str) -> bool:
    first = next((line for line in body.splitlines() if line.strip()), "")
    return "\t" in first


def _layout(headers: dict[str, str], body: str, label: str) -> Layout:
    raw = headers.get("separator")
    if raw is None:
        first = next((line for line in body.splitlines() if line.strip()), "")
        separator = ";" if first.count(";") > first.count(",") else ","
    else:
        separator = SEPARATORS.get(raw.lower(), raw)
        if len(separator) != 1:
            raise ImportFileError(f"{label}: #separator:{raw}: not a separator Anki knows")
    special: dict[str, int] = {}
    for name in ("guid", "notetype", "deck", "tags"):
        value = headers.get(f"{name} column")
        if value is None:
            continue
        if not value.isdigit() or int(value) < 1:
            raise ImportFileError(f"{label}: #{name} column:{value}: not a column number")
        special[name] = int(value) - 1
    return Layout(
        separator=separator,
        quoted=True,
        html=headers.get("html", "false").lower() == "true",
        deck=headers.get("deck", ""),
        notetype=headers.get("notetype", ""),
        tags=tuple(headers.get("tags", "").split()),
        special=special,
    )


def _rows(body: str, separator: str, label: str, start: int) -> Iterator[tuple[int, list[str]]]:
    """CSV rows with the line each starts on (1-based within `body`)."""
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=separator, strict=True)
    line = 1
    try:
        for row in reader:
            yield line, row
            line = reader.line_num + 1
    except csv.Error as err:
        raise ImportFileError(f"{label}: line {start + reader.line_num}: {err}") from None


def _anki(body: str, label: str, layout: Layout, default_deck: str, start: int) -> ForeignFile:
    notes: list[ForeignNote] = []
    why: list[str] = []
    need = max([2 + len(layout.special), *(i + 1 for i in layout.special.values())])
    for line, row in _rows(body, layout.separator, label, start):
        at = start + line
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < need:
            declared = " plus its declared columns" if layout.special else ""
            raise ImportFileError(
                f"{label}: line {at}: {len(row)} column(s); this file needs {need} "
                f"(a front and a back{declared})"
            )
        note = _note(row, layout, default_deck)
        if note is None:
            why.append(f"line {at}: empty front")
            continue
        notes.append(note)
    return ForeignFile("anki-text", tuple(notes), len(why), tuple(why))


def _note(row: list[str], layout: Layout, default_deck: str) -> ForeignNote | None:
    special = layout.special
    regular = [cell for i, cell in enumerate(row) if i not in special.values()]
    convert = html_to_text if layout.html else _plain
    front, back = convert(regular[0]), convert(regular[1])
    if not front:
        return None
    deck = (row[special["deck"]].strip() if "deck" in special else "") or layout.deck
    deck = deck or default_deck
    notetype = row[special["notetype"]] if "notetype" in special else layout.notetype
    tags = layout.tags + (tuple(row[special["tags"]].split()) if "tags" in special else ())
    guid = row[special["guid"]].strip() if "guid" in special else ""
    cloze = "cloze" in notetype.lower() and CLOZE_PATTERN.search(front) is not None
    return ForeignNote(
        key=ANKI_KEY + guid if guid else text_key(deck, front),
        deck=deck,
        front=front,
        back=back or None,
        tags=tuple(dict.fromkeys(tags)),
        cloze=cloze,
    )


def _plain(cell: str) -> str:
    return cell.strip()


def _quizlet(
    body: str,
    label: str,
    deck: str,
    term_separator: str,
    row_separator: str | None,
    start: int,
) -> ForeignFile:
    """Quizlet rows: term, separator, definition; nothing is quoted."""
    if row_separator is None or row_separator == "\n":
        rows = body.splitlines()
    else:
        rows = body.split(row_separator)
    notes: list[ForeignNote] = []
    why: list[str] = []
    line = start + 1
    for number, row in enumerate(rows, 1):
        place = f"line {line}" if row_separator in (None, "\n") else f"row {number}"
        line += row.count("\n") + 1
        if not row.strip():
            continue
        term, sep, definition = row.partition(term_separator)
        if not sep:
            shown = "Tab" if term_separator == "\t" else repr(term_separator)
            raise ImportFileError(
                f"{label}: {place}: no {shown} between term and definition "
                "(for other separators use --term-sep / --row-sep)"
            )
        front = term.strip()
        if not front:
            why.append(f"{place}: empty term")
            continue
        notes.append(ForeignNote(text_key(deck, front), deck, front, definition.strip() or None))
    return ForeignFile("quizlet", tuple(notes), len(why), tuple(why))
