"""What a card is, independent of where it is stored.

One frozen dataclass serves all six kinds: kind-specific fields are simply absent (None or empty)
on the other kinds. That keeps the store, the exporters and the faces free of a class hierarchy
while `payload()` gives each kind's extra fields in one plain dict for storage.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any


class Kind(StrEnum):
    BASIC = "basic"
    CLOZE = "cloze"
    NUMERIC = "numeric"
    CHOICE = "choice"
    CODE = "code"
    PROMPT = "prompt"


LANGUAGES = ("python", "c", "cpp", "lua")

# One encoder for every card: json.dumps with options builds a new encoder on each call.
_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True)

# A cloze deletion: {{c1::hidden text}} or {{c1::hidden text::hint}}.
CLOZE_PATTERN = re.compile(r"\{\{c([1-9][0-9]*)::(.*?)(?:::([^{}]*?))?\}\}", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Card:
    """A card as written in the library. `id` is the stable key that review history hangs on."""

    id: str
    deck: str
    kind: Kind
    front: str
    source: str
    tags: tuple[str, ...] = ()
    back: str | None = None
    answer: float | None = None
    tolerance: float | None = None
    unit: str | None = None
    options: tuple[str, ...] = ()
    correct: str | None = None
    code: str | None = None
    language: str | None = None
    expected: str | None = None
    rubric: tuple[str, ...] = ()
    # Where the card was read from; for messages only, not part of its content.
    file: str = field(default="", compare=False)
    line: int = field(default=0, compare=False)

    def payload(self) -> dict[str, Any]:
        """The kind-specific fields that are set, as JSON-ready values."""
        if self.kind is Kind.BASIC:
            return {}
        extra: dict[str, Any] = {
            "answer": self.answer,
            "tolerance": self.tolerance,
            "unit": self.unit,
            "options": list(self.options),
            "correct": self.correct,
            "code": self.code,
            "language": self.language,
            "expected": self.expected,
            "rubric": list(self.rubric),
        }
        return {key: value for key, value in extra.items() if value not in (None, [])}

    def stored(self) -> Stored:
        """The card's JSON fields and content digest, computed once for storage."""
        tags = tags_json(self.tags)
        payload = self.payload()
        payload_json = _JSON.encode(payload) if payload else "{}"
        parts = (str(self.kind), self.front, self.back or "", self.source, tags, payload_json)
        digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
        return Stored(tags, payload_json, digest)


@lru_cache(maxsize=8192)
def tags_json(tags: tuple[str, ...]) -> str:
    """A tag list as stored. Cards of a deck share a few tag lists, so loading a large library
    encodes each once instead of once per card (a third of the time spent preparing rows)."""
    return _JSON.encode(list(tags))


@dataclass(frozen=True, slots=True)
class Stored:
    """How a card is kept: tags and kind fields as JSON, and a digest of everything a learner
    sees, so that sync can tell an edit from no change without comparing every field."""

    tags: str
    payload: str
    digest: str


@dataclass(frozen=True, slots=True)
class Deck:
    """One topic deck: a file of cards about one topic id."""

    id: str
    title: str
    cards: tuple[Card, ...]
    description: str = ""
    file: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class Library:
    """A set of decks read together, so that card ids are unique across all of them."""

    decks: tuple[Deck, ...] = ()

    def __iter__(self) -> Iterator[Deck]:
        return iter(self.decks)

    @property
    def cards(self) -> tuple[Card, ...]:
        return tuple(card for deck in self.decks for card in deck.cards)

    def card_count(self) -> int:
        return sum(len(deck.cards) for deck in self.decks)
