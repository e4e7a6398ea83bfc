"""Coverage-guided fuzzing (atheris, libFuzzer) of every reader of a learner's files.

The hypothesis tests feed random and mutated inputs; this goes further where it helps: libFuzzer
keeps the inputs that reach new lines of prepkit's parsers and mutates those, so it finds its way
into a zip's central directory, a collection's tables or a deck's YAML nesting on its own.

    python tests/atheris_fuzz.py TARGET [libFuzzer flags, e.g. -runs=20000 -seed=1]

Targets: posting, deck, anki-text, package, collection, progress. Each takes the bytes as the
file a learner would hand prepkit and checks the contract: the file is read, or refused with one
line that names it. Any other exception escapes and libFuzzer reports it with its input.
tests/test_atheris.py runs each target for a bounded number of inputs.
"""

from __future__ import annotations

import io
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["prepkit"]):
    from prepkit.deck.load import parse_deck
    from prepkit.errors import PrepkitError
    from prepkit.export.anki_text import read_text
    from prepkit.export.apkg_read import read_package
    from prepkit.export.foreign import ImportFileError
    from prepkit.export.progress_json import ProgressFileError
    from prepkit.export.progress_json import read as read_progress
    from prepkit.exports import PROGRESS_TABLES, _kinds
    from prepkit.posting.parse import parse_posting, posting_text

PROGRESS_COLUMNS = {name: _kinds(name) for name in PROGRESS_TABLES}


def _one_line(message: str, name: str) -> None:
    if not message.startswith(name) or "\n" in message:
        raise AssertionError(f"not one line naming {name}: {message!r}")


def posting(data: bytes) -> None:
    try:
        text = posting_text(data, "job.txt")
    except PrepkitError as err:
        _one_line(str(err), "job.txt")
        return
    parse_posting(text)


def deck(data: bytes) -> None:
    loaded, problems = parse_deck(data, "fuzz.yaml")
    if loaded is None and not problems:
        raise AssertionError("a deck refused without a reason")
    for problem in problems:
        _one_line(problem, "fuzz.yaml:")


def anki_text(data: bytes) -> None:
    try:
        read_text(data, "notes.txt", "notes")
    except ImportFileError as err:
        _one_line(str(err), "notes.txt")


def package(data: bytes) -> None:
    try:
        read_package(data, "deck.apkg")
    except ImportFileError as err:
        _one_line(str(err), "deck.apkg")


def collection(data: bytes) -> None:
    """The bytes as the SQLite collection inside a well-formed package: mutations of a zip
    mostly break its checksums, and this reaches the tables, JSON columns and notes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("collection.anki2", data)
        archive.writestr("media", "{}")
    package(buffer.getvalue())


def progress(data: bytes) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return  # the CLI refuses undecodable files before the reader sees them
    try:
        read_progress(text, PROGRESS_COLUMNS)
    except ProgressFileError as err:
        if "\n" in str(err):
            raise AssertionError(f"not one line: {err!r}") from None


TARGETS: dict[str, Callable[[bytes], None]] = {
    "posting": posting,
    "deck": deck,
    "anki-text": anki_text,
    "package": package,
    "collection": collection,
    "progress": progress,
}


def main(argv: list[str]) -> None:
    if len(argv) < 2 or argv[1] not in TARGETS:
        raise SystemExit(f"usage: {Path(argv[0]).name} {{{','.join(TARGETS)}}} [libFuzzer flags]")
    target = TARGETS[argv[1]]
    atheris.Setup([argv[0], *argv[2:]], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
