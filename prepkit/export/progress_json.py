"""The progress file: everything a learner has, in one versioned JSON document.

It holds the library as the learner had it (decks and cards, with their ids, so a review keeps
pointing at the card it was about), the learner's card states, every review, settings, postings
and card edits: enough to restore the learner into an empty database exactly, row for row.
Rows are written as the tables' own columns (minus the learner, which the importing profile
supplies), so nothing is lost in translation and a newer schema is recognisable by its version.

Reading checks the document before anything touches a database: the format name, a version
this prepkit understands, every table it needs, and every row's columns, each problem named by
its place (`tables.card[12]: ...`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

FORMAT = "prepkit-progress"
VERSION = 1


class ProgressFileError(ValueError):
    """A progress file that cannot be read; the message names the place."""


Rows = list[dict[str, Any]]


def document(tables: Mapping[str, Rows], exported_at: str, schema: str) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "schema": schema,
        "exported_at": exported_at,
        "tables": {name: rows for name, rows in tables.items()},
    }


def dumps(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=False) + "\n"


Column = tuple[str, str, bool]  # (name, kind: int | float | str | bool, nullable)

CHECKS = {
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "str": lambda v: isinstance(v, str),
    "bool": lambda v: isinstance(v, bool),
}


def read(text: str, columns: Mapping[str, Sequence[Column]]) -> dict[str, Rows]:
    """The tables of a progress file, checked against `columns` (table -> its columns): a
    database would store a word in a number column without a murmur, so types are checked."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise ProgressFileError(f"not JSON ({where}: {exc.msg})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ProgressFileError(f'not a prepkit progress file (no "format": "{FORMAT}")')
    version = doc.get("version")
    if not isinstance(version, int):
        raise ProgressFileError("version: missing or not a number")
    if version > VERSION:
        raise ProgressFileError(
            f"written by a newer prepkit (file version {version}; this prepkit reads up to "
            f"{VERSION}): upgrade prepkit to import it"
        )
    tables = doc.get("tables")
    if not isinstance(tables, dict):
        raise ProgressFileError("tables: missing")
    out: dict[str, Rows] = {}
    for name, wanted in columns.items():
        rows = tables.get(name)
        if not isinstance(rows, list):
            raise ProgressFileError(f"tables.{name}: missing")
        expected = {column for column, _kind, _null in wanted}
        for index, row in enumerate(rows):
            place = f"tables.{name}[{index}]"
            if not isinstance(row, dict):
                raise ProgressFileError(f"{place}: not an object")
            missing = sorted(expected - row.keys())
            extra = sorted(row.keys() - expected)
            if missing:
                raise ProgressFileError(f"{place}: missing {', '.join(missing)}")
            if extra:
                raise ProgressFileError(f"{place}: unknown {', '.join(extra)}")
            for column, kind, nullable in wanted:
                value = row[column]
                if value is None and nullable:
                    continue
                if not CHECKS[kind](value):
                    raise ProgressFileError(f"{place}.{column}: not a {kind}: {value!r:.40}")
        out[name] = rows
    unknown = sorted(tables.keys() - columns.keys())
    if unknown:
        raise ProgressFileError(f"tables: unknown {', '.join(unknown)}")
    return out
