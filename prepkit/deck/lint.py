"""Card quality rules beyond what the loader refuses: the things a reviewer would send back.

The loader rejects what cannot be studied (missing keys, bad cloze, YAML surprises); lint flags
what studies badly: a `basic` back too long to recall in one go, two cards asking the same thing,
a numeric card without its unit or tolerance, a code card with no output to compare.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from prepkit.deck.model import Card, Kind, Library

MAX_BASIC_BACK_WORDS = 60
NEAR_DUPLICATE = 90.0  # rapidfuzz token_set_ratio of two fronts, 0-100


@dataclass(frozen=True, slots=True)
class Finding:
    card: Card
    rule: str
    message: str

    def line(self) -> str:
        return f"{self.card.file}:{self.card.line}: {self.card.id}: {self.rule}: {self.message}"


def _words(text: str) -> int:
    return len(re.findall(r"\S+", text))


def lint_card(card: Card) -> list[Finding]:
    found: list[Finding] = []
    if card.kind is Kind.BASIC and card.back and _words(card.back) > MAX_BASIC_BACK_WORDS:
        found.append(
            Finding(
                card,
                "long-back",
                f"back has {_words(card.back)} words (at most {MAX_BASIC_BACK_WORDS}; "
                "split it or make it a prompt)",
            )
        )
    if card.kind is Kind.NUMERIC:
        if not card.unit:
            found.append(Finding(card, "numeric-unit", "numeric card without a unit"))
        if card.tolerance is None:
            found.append(Finding(card, "numeric-tolerance", "numeric card without a tolerance"))
        if not card.back:
            found.append(Finding(card, "numeric-working", "numeric card without a worked answer"))
    if card.kind is Kind.CODE and card.expected is not None and not card.expected.strip():
        found.append(Finding(card, "code-expected", "code card with empty expected output"))
    if len(card.source) < 8:
        found.append(Finding(card, "source", f"source '{card.source}' is too short to find"))
    if card.kind is Kind.PROMPT and len(card.rubric) < 2:
        found.append(Finding(card, "rubric", "a prompt's rubric needs at least two points"))
    return found


def _normal(front: str) -> str:
    return " ".join(re.findall(r"[a-z0-9+#]+", front.lower()))


def near_duplicates(cards: list[Card]) -> list[Finding]:
    """Pairs of cards whose fronts ask nearly the same thing (the later one is flagged)."""
    found: list[Finding] = []
    fronts = [_normal(card.front + " " + (card.code or "")) for card in cards]
    for index in range(1, len(cards)):
        best = process.extractOne(
            fronts[index],
            fronts[:index],
            scorer=fuzz.token_set_ratio,
            score_cutoff=NEAR_DUPLICATE,
        )
        if best is None:
            continue
        other = cards[best[2]]
        if min(len(fronts[index]), len(fronts[best[2]])) < 25:
            continue  # short fronts ("What does this print?") differ by their code
        found.append(
            Finding(
                cards[index],
                "near-duplicate",
                f"asks nearly what {other.id} asks ({other.file}:{other.line}; "
                f"similarity {best[1]:.0f})",
            )
        )
    return found


def lint_library(library: Library) -> list[Finding]:
    cards = list(library.cards)
    found = [finding for card in cards for finding in lint_card(card)]
    found.extend(near_duplicates(cards))
    return found
