"""Every numeric card's answer, recomputed here from the numbers its front states.

A numeric card teaches a number the learner will be asked to derive in an interview; a slip in the
arithmetic would be drilled in. Each formula below is written from the card's own front, so a
changed card fails here until someone redoes the arithmetic. Cards whose answer is a looked-up
constant rather than a computation are listed in LOOKUPS with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from prepkit.deck.load import load_paths
from prepkit.deck.model import Kind

from .conftest import LIBRARY

GB = 1e9

FORMULAS: dict[str, Callable[[], float]] = {
    # distributed training
    "dt-ring-allreduce-bytes": lambda: 2 * (8 - 1) / 8 * 2,
    "dt-zero3-model-state-memory": lambda: 16 * 7.5e9 / 64 / GB,
    "dt-pipeline-bubble": lambda: (8 - 1) / 32,
    # memory efficiency
    "me-adam-bytes-per-param": lambda: 2 + 2 + 4 + 4 + 4,
    "me-largest-model-pure-dp": lambda: 80e9 / 16 / 1e9,
    "me-zero2-memory": lambda: (2 * 7.5e9 + 14 * 7.5e9 / 64) / GB,
    "me-activation-memory-per-layer": lambda: 2048 * 1 * 4096 * (34 + 5 * 32 * 2048 / 4096) / GB,
    "me-sqrt-n-checkpointing": lambda: 64 / 8 + 8,
    # performance modelling
    "pm-h100-ridge-point": lambda: 989e12 / 3.35e12,
    "pm-square-matmul-intensity": lambda: 2 * 4096**3 / (3 * 4096**2 * 2),
    "pm-amdahl-speedup": lambda: 1 / ((1 - 0.95) + 0.95 / 16),
    "pm-littles-law-serving": lambda: 40 * 2.5,
    "pm-training-time-estimate": lambda: 6 * 7e9 * 1e12 / (1024 * 989e12 * 0.4) / 3600,
    "pm-decode-step-bound": lambda: 7e9 * 2 / 3.35e12 * 1000,
}

# Numeric cards whose answer is a documented constant, not arithmetic on the front's numbers.
LOOKUPS: dict[str, str] = {}

NUMERIC = {card.id: card for card in load_paths([LIBRARY]).cards if card.kind is Kind.NUMERIC}


def test_every_numeric_card_is_checked_or_declared_a_lookup() -> None:
    unchecked = sorted(set(NUMERIC) - set(FORMULAS) - set(LOOKUPS))
    assert unchecked == [], "add a formula for these cards (or declare them lookups)"
    stale = sorted((set(FORMULAS) | set(LOOKUPS)) - set(NUMERIC))
    assert stale == [], "these ids are no longer numeric cards in the library"


@pytest.mark.parametrize("card_id", sorted(set(FORMULAS) & set(NUMERIC)))
def test_numeric_answer_follows_from_its_formula(card_id: str) -> None:
    card = NUMERIC[card_id]
    assert card.answer is not None
    expected = FORMULAS[card_id]()
    tolerance = card.tolerance or 0.0
    assert math.isclose(card.answer, expected, abs_tol=tolerance + 1e-9 * abs(expected)), (
        f"{card_id}: card says {card.answer}, formula gives {expected}"
    )
