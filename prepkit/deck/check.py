"""Checking a typed answer and proposing a grade, and showing cloze text hidden or revealed.

Numeric and choice cards have a right answer, so the learner types it and prepkit proposes the
grade; the learner still decides (a near miss on a unit may deserve Hard, not Again).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from prepkit.deck.model import CLOZE_PATTERN, Card, Kind

_NUMBER = re.compile(r"[-+]?(?:\d[\d,_]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_SCALE = {"k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12}


@dataclass(frozen=True, slots=True)
class Verdict:
    correct: bool
    expected: str
    proposed: int  # a grade, 1 (Again) to 4 (Easy)
    note: str = ""


def parse_number(typed: str) -> float | None:
    """The first number in `typed`: accepts 1,875 and 1.9e9 and a trailing k/M/B multiplier."""
    match = _NUMBER.search(typed)
    if match is None:
        return None
    try:
        value = float(match.group(0).replace(",", "").replace("_", ""))
    except ValueError:
        return None
    rest = typed[match.end() :].strip().lower()
    if rest[:1] in _SCALE and (len(rest) == 1 or not rest[1:2].isalpha()):
        value *= _SCALE[rest[0]]
    return value if math.isfinite(value) else None


def format_number(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e6 else f"{value:.4g}"


def check_numeric(card: Card, typed: str) -> Verdict:
    assert card.kind is Kind.NUMERIC and card.answer is not None
    unit = f" {card.unit}" if card.unit else ""
    expected = f"{format_number(card.answer)}{unit}"
    tolerance = card.tolerance or 0.0
    if tolerance:
        expected += f" (± {format_number(tolerance)})"
    value = parse_number(typed)
    if value is None:
        return Verdict(False, expected, 1, "no number in the answer")
    error = abs(value - card.answer)
    slack = 1e-9 * max(1.0, abs(card.answer))
    if error <= tolerance + slack:
        return Verdict(True, expected, 3)
    off = f"off by {format_number(error)}{unit}"
    return Verdict(False, expected, 1, off)


def check_choice(card: Card, typed: str) -> Verdict:
    """`typed` is an option's number (1-based) or its text."""
    assert card.kind is Kind.CHOICE and card.correct is not None
    answer = typed.strip()
    chosen: str | None = None
    if answer.isdigit() and 1 <= int(answer) <= len(card.options):
        chosen = card.options[int(answer) - 1]
    else:
        for option in card.options:
            if option.casefold() == answer.casefold():
                chosen = option
    number = card.options.index(card.correct) + 1
    expected = f"{number}. {card.correct}"
    if chosen is None:
        return Verdict(False, expected, 1, "not one of the options")
    return Verdict(chosen == card.correct, expected, 3 if chosen == card.correct else 1)


def check(card: Card, typed: str) -> Verdict | None:
    """A verdict for cards with a checkable answer; None for the others."""
    if card.kind is Kind.NUMERIC:
        return check_numeric(card, typed)
    if card.kind is Kind.CHOICE:
        return check_choice(card, typed)
    return None


def cloze_hidden(text: str) -> str:
    """Cloze text with each deletion shown as [...] or [hint]."""
    return CLOZE_PATTERN.sub(lambda match: f"[{match.group(3) or '...'}]", text)


def cloze_revealed(text: str, mark: tuple[str, str] = ("[", "]")) -> str:
    """Cloze text with each deletion filled in, wrapped in `mark`."""
    return CLOZE_PATTERN.sub(lambda match: f"{mark[0]}{match.group(2)}{mark[1]}", text)
