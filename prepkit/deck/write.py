"""Writing decks back to YAML in the library format, so generated decks can be edited and synced.

Strings that YAML 1.1 would read as something else ("no", "0123") are quoted by the dumper, and
multi-line text (code, expected output) is written as a literal block, so what the loader reads
back is exactly what was written.
"""

from __future__ import annotations

from typing import Any

import yaml

from prepkit.deck.model import Card, Deck


class _Dumper(yaml.SafeDumper):
    pass


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def card_data(card: Card) -> dict[str, Any]:
    """A card as the mapping the loader reads, keys in the library's usual order."""
    data: dict[str, Any] = {"id": card.id, "kind": str(card.kind), "front": card.front}
    if card.back is not None:
        data["back"] = card.back
    payload = card.payload()
    for key in ("answer", "tolerance", "unit"):
        if key in payload:
            value = payload[key]
            data[key] = int(value) if isinstance(value, float) and value.is_integer() else value
    for key in ("options", "correct", "language", "code", "expected", "rubric"):
        if key in payload:
            data[key] = payload[key]
    data["source"] = card.source
    data["tags"] = list(card.tags)
    return data


def dump_deck(deck: Deck, header: str = "") -> str:
    """The YAML text of a deck; `header` becomes comment lines at the top."""
    body: dict[str, Any] = {"deck": deck.id, "title": deck.title}
    if deck.description:
        body["description"] = deck.description
    body["cards"] = [card_data(card) for card in deck.cards]
    text = yaml.dump(body, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    comments = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return comments + text
