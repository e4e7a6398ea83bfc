"""The floor under any durable answer: a bare loop of fsrs and sqlite3, measured on this disk.

    python benchmarks/floor_side.py --cards 100000 --answers 500 --json

`benchmarks/review.py --vs-anki` runs this beside prepkit and Anki, so each run says how much of
an answer step is the durable commit that no design keeping every answer can skip. It is the
"floor" of ../shared/DESIGN.md: py-fsrs and the standard library's sqlite3 with WAL,
synchronous=FULL and one transaction per answer, no ORM, no queue, no undo, no previews.

The least an SRS writes per answer is here: the card's memory (one row, and its entry in an index
on `due` that finds due cards) and one log row (and its entry in an index by card, which undo and
replay need). Every tenth of N cards is a review card due yesterday, as in review.py. A step is:
read the next due card's row, grade it with `Scheduler.review_card` (one outcome, where prepkit
and Anki work out four for the card they show), write both rows, commit. The load is one
transaction before the timed loop, so, as on the other two sides, the loop overwrites a WAL file
the load already grew rather than extending it (an fdatasync that extends a file on ext4 also
commits its size and costs about twice as much here).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fsrs import Card, Rating, Scheduler, State
from workload import percentile, ratings

SCHEMA = (
    "CREATE TABLE card (id INTEGER PRIMARY KEY, state INTEGER NOT NULL, step INTEGER, "
    "stability REAL, difficulty REAL, due INTEGER, last_review INTEGER)",
    "CREATE INDEX card_due ON card (due)",
    "CREATE TABLE review (id INTEGER PRIMARY KEY, card_id INTEGER NOT NULL, rating INTEGER "
    "NOT NULL, reviewed_at INTEGER NOT NULL, stability REAL, difficulty REAL, due INTEGER)",
    "CREATE INDEX review_card ON review (card_id, reviewed_at)",
)
READ = "SELECT state, step, stability, difficulty, due, last_review FROM card WHERE id = ?"


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _at(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC)


def run(cards: int, answers: int, seed: int) -> dict[str, Any]:
    now = datetime.now(UTC)
    scheduler = Scheduler()
    due = _ms(now - timedelta(days=1))
    last = _ms(now - timedelta(days=6))
    with tempfile.TemporaryDirectory(prefix="prepkit-floor-") as folder:
        db = sqlite3.connect(str(Path(folder) / "floor.db"), isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("BEGIN IMMEDIATE")
        for statement in SCHEMA:
            db.execute(statement)
        db.executemany(
            "INSERT INTO card VALUES (?, ?, NULL, ?, ?, ?, ?)",
            (
                (i, 2, 5.0, 5.0, due, last) if i % 10 == 0 else (i, 0, None, None, None, None)
                for i in range(1, cards + 1)
            ),
        )
        db.execute("COMMIT")
        due_now = db.execute("SELECT id FROM card WHERE due < ? ORDER BY due", (_ms(now),))
        queue = [row[0] for row in due_now]
        steps: list[float] = []
        for card_id, rating in zip(queue, ratings(answers, seed), strict=False):
            started = time.perf_counter_ns()
            row = db.execute(READ, (card_id,)).fetchone()
            card = Card(card_id, State(row[0]), row[1], row[2], row[3], _at(row[4]), _at(row[5]))
            moment = datetime.now(UTC)
            after, _log = scheduler.review_card(card, Rating(rating), moment)
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                "UPDATE card SET state = ?, step = ?, stability = ?, difficulty = ?, due = ?, "
                "last_review = ? WHERE id = ?",
                (
                    int(after.state),
                    after.step,
                    after.stability,
                    after.difficulty,
                    _ms(after.due),
                    _ms(moment),
                    card_id,
                ),
            )
            db.execute(
                "INSERT INTO review (card_id, rating, reviewed_at, stability, difficulty, due) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (card_id, rating, _ms(moment), after.stability, after.difficulty, _ms(after.due)),
            )
            db.execute("COMMIT")
            steps.append((time.perf_counter_ns() - started) / 1e6)
        db.close()
    return {
        "answers": len(steps),
        "answer_median_ms": round(statistics.median(steps), 4),
        "answer_p99_ms": round(percentile(steps, 0.99), 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--answers", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print JSON (the default output)")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.cards, args.answers, args.seed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
