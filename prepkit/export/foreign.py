"""Cards from other tools, in one shape every importer produces and one service stores.

Anki packages, Anki's text export and Quizlet's term/definition files all come down to notes
with a front, a back, a deck name and tags; a package adds when each note was last changed and
the review history of its card. Readers turn a file into these values (and nothing else), so
what is checked, counted and written is decided once, in `prepkit.importing`.

A note's `key` is the stable id its prepkit card is stored under: Anki's note GUID where the file
has one (so a second import of the same notes finds them), else a digest of the deck and the
front (so a re-import of the same text file finds its rows). A note that prepkit itself exported
carries its prepkit card id and comes back as that card.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser

from prepkit.errors import PrepkitError

ANKI_KEY = "anki-"
TEXT_KEY = "import-"


class ImportFileError(PrepkitError):
    """A file that cannot be imported; the message names the file and the place."""


@dataclass(frozen=True, slots=True)
class ForeignReview:
    at_ms: int  # epoch ms, UTC
    rating: int  # 1 Again .. 4 Easy
    duration_ms: int | None


@dataclass(frozen=True, slots=True)
class ForeignNote:
    key: str
    deck: str  # a name as the file gives it; Anki's "A::B" hierarchy kept
    front: str
    back: str | None
    tags: tuple[str, ...] = ()
    cloze: bool = False
    modified_ms: int | None = None  # when the note last changed, where the file says
    history: tuple[ForeignReview, ...] = ()


@dataclass(frozen=True, slots=True)
class ForeignFile:
    """What a reader found: notes to store, and how many it passed over and why."""

    kind: str  # "apkg", "anki-text", "quizlet"
    notes: tuple[ForeignNote, ...]
    skipped: int = 0
    skipped_why: tuple[str, ...] = ()


def text_key(deck: str, front: str) -> str:
    digest = hashlib.sha256(f"{deck}\x1f{front}".encode()).hexdigest()[:20]
    return TEXT_KEY + digest


@lru_cache(maxsize=4096)
def deck_id(name: str) -> str:
    """The prepkit deck an imported deck name goes to: a slug in the `imported-` namespace, so
    it never meets a library topic deck (which `prepkit sync` would retire cards from)."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "deck"
    return f"imported-{slug}"


_SPACES = re.compile(r"[ \t\r\n\f]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_BREAKS = {"br", "div", "p", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre"}
_DROPPED = {"script", "style"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.dropping = 0
        self.pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED:
            self.dropping += 1
        elif tag == "pre":
            self.pre += 1
            self._block()
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BREAKS:
            self._block()
        elif tag == "img":
            src = dict(attrs).get("src") or ""
            self.parts.append(f"[image: {src}]" if src else "[image]")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED:
            self.dropping = max(0, self.dropping - 1)
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
            self._block()
        elif tag in _BREAKS and tag != "br":
            self._block()

    def _block(self) -> None:
        """A block starts or ends on its own line (once: </div><div> is one line break)."""
        text = "".join(self.parts[-3:]).rstrip(" ")
        if text and not text.endswith("\n"):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            # Outside <pre>, a run of white space (line breaks too) is one space, as a browser
            # shows it; indentation an editor meant is written as &nbsp;, kept below.
            # Inside <pre> every space counts; it is kept as a no-break space until the end.
            self.parts.append(data.replace(" ", "\xa0") if self.pre else _SPACES.sub(" ", data))


def html_to_text(markup: str) -> str:
    """A field Anki stores as HTML, as the plain text prepkit shows: line breaks kept, entities
    decoded, images named, scripts and styles dropped (never run, never shown)."""
    if "<" not in markup and "&" not in markup:  # most fields: no markup to read
        return _SPACES.sub(" ", markup).strip(" ").replace("\xa0", " ").rstrip()
    parser = _Text()
    parser.feed(markup)
    parser.close()
    lines = [
        line.strip(" ").replace("\xa0", " ").rstrip() for line in "".join(parser.parts).split("\n")
    ]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip("\n")


def text_to_html(text: str) -> str:
    """Plain text as an Anki field: escaped, line breaks as <br>, and spaces a browser would
    collapse (indentation, runs) as &nbsp;, so code keeps its shape."""
    lines = []
    for line in html.escape(text, quote=False).split("\n"):
        body = line.lstrip(" ")
        indent = "&nbsp;" * (len(line) - len(body))
        lines.append(indent + body.replace("  ", " &nbsp;"))
    return "<br>".join(lines)
