"""What a learner's database must satisfy after any crash or race, checked without prepkit.

The reliability tests read the database with the stdlib `sqlite3` module only, so a bug in
prepkit's own reading code cannot hide a bug in its writing code. The review log is the ground
truth: each review row stores the card's memory before and after the answer, so the card states
must be exactly the end of an unbroken chain of reviews, card by card.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

# The memory columns a review row keeps before and after an answer (`_INSERT_REVIEW`).
CHAINED = ("state", "step", "stability", "difficulty", "due")
# A card nobody has answered: what sync writes and what undoing its first answer restores.
PRISTINE = {
    "state": 0,
    "step": None,
    "stability": None,
    "difficulty": None,
    "due": None,
    "last_review": None,
}
REVIEW_STATE, AGAIN = 2, 1

Row = Mapping[str, Any]

# What `prepkit study --plain` prints once an action is committed (prepkit/plain.py).
ANSWERED = re.compile(r"\b(again|hard|good|easy): next in \S+\. saved\.")
ACKS = {
    "undone.": "undo",
    "nothing to undo.": "noop",
    "suspended.": "suspend",
    "buried until tomorrow.": "bury",
    "cannot undo: this card was answered again since (in another session); both answers stay.": (
        "refused"
    ),
}
HEADER = re.compile(r"^-- \S+ / (\S+) \(\w+\) --")
GRADES = {"again": 1, "hard": 2, "good": 3, "easy": 4}


def read_only(db: Path) -> sqlite3.Connection:
    """A read-only connection: it recovers a killed writer's WAL but never checkpoints it
    away, so the next prepkit process still opens the database as the crash left it."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    conn.row_factory = sqlite3.Row
    return conn


def health_problems(conn: sqlite3.Connection) -> list[str]:
    problems = []
    integrity = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    if integrity != ["ok"]:
        problems.append(f"integrity_check: {integrity}")
    broken = [tuple(row) for row in conn.execute("PRAGMA foreign_key_check")]
    if broken:
        problems.append(f"foreign_key_check: {broken}")
    return problems


def tables(conn: sqlite3.Connection) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(card_state rows, review rows in id order), both as dicts, read in one transaction."""
    conn.execute("BEGIN")
    try:
        states = [dict(row) for row in conn.execute("SELECT * FROM card_state")]
        reviews = [dict(row) for row in conn.execute("SELECT * FROM review ORDER BY id")]
    finally:
        conn.execute("COMMIT")
    return states, reviews


def card_keys(conn: sqlite3.Connection) -> dict[int, str]:
    return {row[0]: row[1] for row in conn.execute("SELECT id, key FROM card")}


def chain_problems(states: Iterable[Row], reviews: Iterable[Row]) -> list[str]:
    """Every way the card states differ from the replay of the review log.

    Per card, in review id order: the first review starts from a pristine card, each review
    starts where the previous one ended (memory and last review time), and the card's state is
    where the last one ended, with reps the number of reviews and lapses the number of Again
    answers to cards in review. A card without reviews is pristine.
    """
    by_card: dict[int, list[Row]] = {}
    for review in sorted(reviews, key=lambda r: r["id"]):
        by_card.setdefault(review["card_id"], []).append(review)
    problems: list[str] = []
    for state in states:
        card = state["card_id"]
        chain = by_card.pop(card, [])
        expected: dict[str, Any] = dict(PRISTINE)
        for review in chain:
            before = {c: review[f"{c}_before"] for c in (*CHAINED, "last_review")}
            if before != expected:
                problems.append(f"card {card} review {review['id']}: before {before} != {expected}")
            expected = {c: review[f"{c}_after"] for c in CHAINED}
            expected["last_review"] = review["reviewed_at"]
        actual = {c: state[c] for c in PRISTINE}
        if actual != expected:
            problems.append(f"card {card}: state {actual} != replay {expected}")
        lapses = sum(r["state_before"] == REVIEW_STATE and r["rating"] == AGAIN for r in chain)
        if (state["reps"], state["lapses"]) != (len(chain), lapses):
            problems.append(
                f"card {card}: reps/lapses {state['reps']}/{state['lapses']} != "
                f"{len(chain)}/{lapses} in the log"
            )
    if by_card:
        problems.append(f"reviews of cards without a state: {sorted(by_card)}")
    return problems


def database_problems(db: Path) -> list[str]:
    """Integrity, foreign keys and the review chain of the database at `db`."""
    conn = read_only(db)
    try:
        problems = health_problems(conn)
        problems += chain_problems(*tables(conn))
        return problems
    finally:
        conn.close()


def answers_in(reviews: Iterable[Row], keys: Mapping[int, str]) -> Counter[tuple[str, int]]:
    """(card key, rating) of each review: what a transcript's acknowledgements are matched to."""
    return Counter((keys[r["card_id"]], r["rating"]) for r in reviews)
