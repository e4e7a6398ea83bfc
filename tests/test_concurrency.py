"""Two writers: two study sessions on one database at once, with exports running alongside.

A learner with the app open on a laptop and a line-mode session in a terminal (or a script)
writes to the same SQLite file from two processes. Neither may see "database is locked" or any
error, no answer may be lost or counted twice, and when both answer the same card both answers
count, one after the other: the second is applied to the state the first left, so the review
log stays one unbroken chain per card (before == the previous answer's after). Exports taken
meanwhile are snapshots: a JSON export is itself a consistent chain.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from random import Random

from .conftest import subprocess_env
from .review_log import (
    answers_in,
    card_keys,
    chain_problems,
    database_problems,
    read_only,
    tables,
)
from .test_crash import START, drill_deck, iso
from .transcript import Session, effect

PREPKIT = [sys.executable, "-m", "prepkit"]
STUDY_DAY = START + timedelta(days=10)


def studied_database(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A database with a history: 100 cards met ten days ago, 100 new ones left for today.

    Both sessions build the same queue from it, so they meet the same cards in the same order.
    """
    db = tmp_path / "two.db"
    env = subprocess_env(tmp_path, PREPKIT_DB=str(db), PREPKIT_NOW=iso(START))
    deck = drill_deck(tmp_path / "decks")
    subprocess.run([*PREPKIT, "sync", str(deck)], env=env, check=True, capture_output=True)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE setting SET value = '100' WHERE key = 'new_per_day'")
    grades = "".join(Random(7).choice("3334") + "\n" for _ in range(260))
    subprocess.run(
        [*PREPKIT, "study", "--plain"], env=env, input=grades, text=True, check=True,
        capture_output=True,
    )  # fmt: skip
    env["PREPKIT_NOW"] = iso(STUDY_DAY)
    return db, env


def review_count(db: Path) -> int:
    conn = read_only(db)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM review").fetchone()[0])
    finally:
        conn.close()


def only_the_greeting(err: str) -> bool:
    """A session's stderr holds its one `today: ...` line and nothing else."""
    lines = err.splitlines()
    return len(lines) == 1 and lines[0].startswith("today: ")


def test_two_sessions_answering_the_same_cards_both_count(tmp_path: Path) -> None:
    """Both sessions show a card, then each answers it: the second answer is applied on top of
    the first, not on the state it was shown (which would silently drop the first answer)."""
    db, env = studied_database(tmp_path)
    before = review_count(db)
    rng = Random(11)
    first, second = Session.start(env, tmp_path), Session.start(env, tmp_path)
    same = 0
    for step in range(40):
        # Both have shown their next card (read its state) before either answers it.
        assert first.wait_for(acks=step, headers=step + 1)
        assert second.wait_for(acks=step, headers=step + 1)
        keys = (first.shown()[-1], second.shown()[-1])
        same += keys[0] == keys[1]
        for session in (first, second):
            session.send(rng.choice("1234"))
            assert session.wait_for(acks=step + 1)
    for session in (first, second):
        session.close_input()
    results = [session.finish() for session in (first, second)]
    assert all(code == 0 and only_the_greeting(err) for code, err in results), results
    print(json.dumps({"test": "same cards", "steps": 40, "both_answered": same}))
    assert same >= 30, "the sessions should have met the same cards"
    acknowledged = sum(
        (effect(s.acks(), s.sent, False, "").answers for s in (first, second)), Counter()
    )
    assert sum(acknowledged.values()) == 80
    conn = read_only(db)
    try:
        states, reviews = tables(conn)
        keys = card_keys(conn)
    finally:
        conn.close()
    assert answers_in(reviews[before:], keys) == acknowledged
    assert chain_problems(states, reviews) == []


EXPORTS = ("reviews-csv", "json")


def exported_reviews(fmt: str, out: str) -> tuple[int, list[str]]:
    """(reviews in an export, problems with it): a JSON export must be one consistent snapshot,
    its card states the replay of its own review log."""
    if fmt == "reviews-csv":
        rows = list(csv.reader(io.StringIO(out)))
        return len(rows) - 1, [] if rows and rows[0][0] == "card_id" else ["no CSV header"]
    doc = json.loads(out)
    states, reviews = doc["tables"]["card_state"], doc["tables"]["review"]
    return len(reviews), chain_problems(states, reviews)


def test_two_sessions_and_exports_at_once_lose_nothing(tmp_path: Path) -> None:
    """Two sessions answer (and now and then undo) as fast as a brisk learner while exports
    of both kinds run in a loop: nobody sees an error, every acknowledged answer is in the log
    once, the chains hold, and every export is a consistent snapshot."""
    db, env = studied_database(tmp_path)
    before = review_count(db)
    sessions = [Session.start(env, tmp_path) for _ in range(2)]
    exports: list[tuple[str, subprocess.CompletedProcess[str]]] = []
    exporting = threading.Event()
    exporting.set()

    def export_loop() -> None:
        while len(exports) < 6:
            fmt = EXPORTS[len(exports) % 2]
            done = subprocess.run(
                [*PREPKIT, "export", "--format", fmt],
                env=env, capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            exports.append((fmt, done))
        exporting.clear()

    def study(session: Session, rng: Random) -> None:
        """Answer (one command in ten an undo) until the exports are done or the cards are."""
        sent = 0
        while exporting.is_set():
            if not session.send(rng.choices("1234u", weights=(2, 1, 6, 1, 1))[0]):
                return
            sent += 1
            if not session.wait_for(acks=sent):
                return
            time.sleep(0.02)  # a learner's pace, so the exports run while answers are written

    workers = [threading.Thread(target=export_loop)]
    workers += [
        threading.Thread(target=study, args=(s, Random(seed))) for seed, s in enumerate(sessions)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    for session in sessions:
        session.close_input()
    results = [session.finish() for session in sessions]
    assert all(code == 0 and only_the_greeting(err) for code, err in results), results

    done = [effect(s.acks(), s.sent, False, "") for s in sessions]
    acknowledged = done[0].answers + done[1].answers
    given = sum(1 for s in sessions for ack in s.acks() if ack.action == "answer")
    assert min(len(s.acks()) for s in sessions) >= 20, "both sessions should have studied"
    assert database_problems(db) == []
    conn = read_only(db)
    try:
        _states, reviews = tables(conn)
        keys = card_keys(conn)
    finally:
        conn.close()
    assert answers_in(reviews[before:], keys) == acknowledged
    assert len(reviews) == before + sum(acknowledged.values())

    for fmt, export in exports:
        assert (export.returncode, export.stderr) == (0, ""), (fmt, export.stderr)
        count, problems = exported_reviews(fmt, export.stdout)
        assert before <= count <= before + given, (fmt, count)
        assert problems == [], (fmt, problems[:3])
    print(
        json.dumps(
            {
                "test": "two writers",
                "answers": [sum(d.answers.values()) for d in done],
                "undos": [d.undone_answers for d in done],
                "rebased": sum(
                    "another session meanwhile" in line for s in sessions for line in s.lines
                ),
                "exports": len(exports),
                "reviews_in_log": len(reviews),
            }
        )
    )
