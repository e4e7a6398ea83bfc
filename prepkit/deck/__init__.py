"""The card library: its format (model), its reader (load) and its checks."""

from prepkit.deck.model import Card, Deck, Kind, Library

__all__ = ["Card", "Deck", "Kind", "Library"]
