"""Reading a posting and building its decks from the card library: shared by the CLI and TUI.

Only the first MAX_POSTING_BYTES are read, so pointing prepkit at a huge or binary file costs a
bounded amount of memory and ends in one clear line rather than a traceback.
"""

from __future__ import annotations

from pathlib import Path

from prepkit.config import library_dir
from prepkit.deck.load import load_paths
from prepkit.deck.model import Library
from prepkit.errors import PrepkitError
from prepkit.posting.generate import Generation, generate
from prepkit.posting.parse import MAX_POSTING_BYTES, posting_text
from prepkit.posting.taxonomy import Taxonomy, parse_taxonomy


def read_posting_file(path: Path) -> str:
    """The text of a posting file (text, Markdown or HTML); PrepkitError names the file."""
    if not path.exists():
        raise PrepkitError(f"{path}: no such file")
    if path.is_dir():
        raise PrepkitError(f"{path}: is a folder, not a posting file")
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_POSTING_BYTES + 1)
    except OSError as exc:
        raise PrepkitError(f"{path}: cannot read: {exc.strerror}") from None
    return posting_text(raw, str(path))


def read_posting_bytes(raw: bytes, name: str) -> str:
    return posting_text(raw[: MAX_POSTING_BYTES + 1], name)


def library_taxonomy(folder: Path | None = None) -> Taxonomy:
    folder = folder or library_dir()
    path = folder / "taxonomy.yaml"
    return parse_taxonomy(path.read_text(encoding="utf-8"), str(path))


def generate_for(text: str, source: str, folder: Path | None = None) -> Generation:
    """Match a posting's text to topics and build the decks it asks for."""
    folder = folder or library_dir()
    taxonomy = library_taxonomy(folder)

    def decks_for(topic_ids: tuple[str, ...]) -> Library:
        files = [folder / taxonomy.topic(topic_id).deck for topic_id in topic_ids]
        return load_paths([path for path in files if path.exists()])

    return generate(text, taxonomy, decks_for, source=Path(source).name)
