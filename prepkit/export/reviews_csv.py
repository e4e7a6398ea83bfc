"""The review log as the FSRS optimizer reads it: one row per answer, one CSV file.

Columns and units are fsrs-optimizer's (`card_id, review_time, review_rating, review_state,
review_duration`; epoch milliseconds, ratings 1-4, states 0 New / 1 Learning / 2 Review /
3 Relearning, durations in milliseconds), so the file goes straight into
`python -m fsrs_optimizer` or a spreadsheet. prepkit's stored states use the same numbers.

Card ids are the library's own ids (text). A spreadsheet runs a cell that starts with `=`, `+`,
`-`, `@`, a tab or a carriage return as a formula, so such a cell is written with a leading `'`
(OWASP's advice); library ids never start that way, but imported ones might.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO

COLUMNS = ("card_id", "review_time", "review_rating", "review_state", "review_duration")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class ReviewRow:
    card_id: str
    review_time: int  # epoch milliseconds, UTC
    rating: int  # 1 Again .. 4 Easy
    state: int  # before the answer: 0 New, 1 Learning, 2 Review, 3 Relearning
    duration_ms: int | None


def guarded(cell: str) -> str:
    """The cell as a spreadsheet will show it, never run it."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def write_reviews_csv(rows: Iterable[ReviewRow], out: TextIO) -> int:
    """Write the header and every row; how many rows were written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    for row in rows:
        duration = "" if row.duration_ms is None else str(row.duration_ms)
        writer.writerow((guarded(row.card_id), row.review_time, row.rating, row.state, duration))
        count += 1
    return count
