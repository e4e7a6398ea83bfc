"""Load test: many learners answering at once against one database (PostgreSQL, or SQLite).

    python benchmarks/learners.py --db postgresql+psycopg://USER@HOST:PORT/DB --json
    python benchmarks/learners.py --db /tmp/shared.db --learners 10 --answers 50

Each simulated learner is a thread with its own profile, its own engine and its own study
session (prepkit.study.StudySession over its HotPath connection), as if 50 people ran prepkit
side by side against one server. They build their queues, wait at a barrier, then all answer at
once: show the next card, grade it, and time `answer` (grade -> committed). Reported: answers
per second over the whole run (first answer to last commit) and the per-answer latency p50, p99
and max. Afterwards every learner's log is read back: each acknowledged answer must be there
exactly once, nothing else, and each card's repetitions must equal its answers; any error, lost
or unexpected answer makes the exit status 1 (timings never do).

With a PostgreSQL URL a throwaway database is created next to the one named (so the named one
is only used to connect) and dropped at the end; `--in-place` uses the named database instead.
Threads suffice: psycopg and sqlite3 release the GIL while they wait on the server or the disk,
which is where an answer spends its time; FSRS's arithmetic is microseconds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from workload import percentile

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@dataclass
class Learner:
    profile: str
    acknowledged: list[int] = field(default_factory=list)  # review ids `answer` returned
    latencies_ms: list[float] = field(default_factory=list)
    error: str | None = None


def make_decks(cards: int) -> list[Any]:
    from prepkit.deck.model import Card, Deck, Kind

    per_deck = 100
    decks = []
    for start in range(0, cards, per_deck):
        deck_id = f"load-{start // per_deck:03d}"
        deck_cards = tuple(
            Card(
                id=f"load-card-{i:05d}",
                deck=deck_id,
                kind=Kind.BASIC,
                front=f"Question {i}: what does the load test measure?",
                back=f"Answer {i}: answers per second and the latency of each answer.",
                source="generated for the load test",
                tags=("load",),
            )
            for i in range(start, min(cards, start + per_deck))
        )
        decks.append(Deck(deck_id, f"Load deck {start // per_deck}", deck_cards))
    return decks


@contextmanager
def database(db: str, in_place: bool) -> Iterator[str]:
    """The database to fill: a fresh one on the PostgreSQL server (dropped after), the named one
    with --in-place, or a SQLite file (a temporary one unless a path is given)."""
    if "://" not in db:
        if db:
            yield db
            return
        with tempfile.TemporaryDirectory(prefix="prepkit-load-") as folder:
            yield str(Path(folder) / "load.db")
        return
    from sqlalchemy.engine import make_url

    from prepkit.store.db import url_for

    url = make_url(url_for(db))
    if in_place:
        yield url.render_as_string(hide_password=False)
        return
    import psycopg

    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"prepkit_load_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare(url: str, learners: list[Learner], answers: int, cards: int) -> None:
    """The shared library, synced once, and every learner's profile, allowed `answers` new cards
    a day (the run never runs out of cards to answer)."""
    from dataclasses import replace

    from prepkit.workspace import open_workspace, sync_library

    with open_workspace(url, NOW, profile=learners[0].profile) as ws:
        sync_library(ws, make_decks(cards), NOW)
    for learner in learners:
        with open_workspace(url, NOW, profile=learner.profile) as ws:
            ws.save_settings(replace(ws.settings(), new_per_day=answers + 10))


def answer_loop(
    url: str,
    learner: Learner,
    answers: int,
    seconds: float | None,
    start: threading.Barrier,
    deadline: list[float],
    seed: int,
) -> None:
    from prepkit.schedule.review import Rating
    from prepkit.study import StudySession
    from prepkit.workspace import open_workspace

    rng = random.Random(seed)
    grades = (Rating.AGAIN, Rating.HARD, Rating.GOOD, Rating.GOOD, Rating.GOOD, Rating.EASY)
    try:
        with open_workspace(url, NOW, profile=learner.profile) as ws:
            with StudySession(ws, NOW) as session:
                start.wait(timeout=120)
                limit = time.monotonic() + seconds if seconds else None
                for step in range(answers if not seconds else 10**9):
                    if time.monotonic() > deadline[0] or (limit and time.monotonic() > limit):
                        break
                    now = NOW + timedelta(seconds=20 * step)
                    if session.next(now) is None:
                        raise RuntimeError(f"the queue ran out after {step} answers")
                    started = time.perf_counter()
                    answered = session.answer(rng.choice(grades), now, duration_ms=4000)
                    learner.latencies_ms.append((time.perf_counter() - started) * 1000)
                    learner.acknowledged.append(answered.review_id)
    except BaseException as exc:  # reported per learner; the run goes on
        learner.error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        start.abort()  # a learner that cannot start must not leave the others waiting


def verify(url: str, learners: list[Learner]) -> dict[str, int]:
    """Read every learner's log back: each acknowledged answer exactly once, nothing else, and
    each card's repetitions equal to its answers."""
    from sqlalchemy import text

    from prepkit.store.db import make_engine, url_for

    engine = make_engine(url_for(url))
    lost = unexpected = mismatched = 0
    try:
        with engine.connect() as conn:
            ids = dict(conn.execute(text("SELECT name, id FROM learner")).all())
            for learner in learners:
                stored = [
                    row[0]
                    for row in conn.execute(
                        text("SELECT id FROM review WHERE learner_id = :l"),
                        {"l": ids[learner.profile]},
                    )
                ]
                acked = set(learner.acknowledged)
                lost += len(acked - set(stored))
                unexpected += len(stored) - len(set(stored) & acked)
                mismatched += int(
                    conn.execute(
                        text(
                            "SELECT COUNT(*) FROM card_state s WHERE s.learner_id = :l AND "
                            "s.reps != (SELECT COUNT(*) FROM review r "
                            "WHERE r.learner_id = s.learner_id AND r.card_id = s.card_id)"
                        ),
                        {"l": ids[learner.profile]},
                    ).scalar_one()
                )
    finally:
        engine.dispose()
    return {"lost": lost, "unexpected": unexpected, "reps_mismatched": mismatched}


def run(
    db: str,
    learners: int,
    answers: int,
    seconds: float | None = None,
    timeout: float = 300,
    in_place: bool = False,
) -> dict[str, Any]:
    """Run the load test and return its figures (see the module's docstring)."""
    people = [Learner(f"load-{i:03d}") for i in range(learners)]
    cards = answers + 20
    with database(db, in_place) as url:
        backend = url.split(":", 1)[0].split("+", 1)[0] if "://" in url else "sqlite"
        prepare(url, people, answers, cards)
        start = threading.Barrier(learners + 1)
        deadline = [time.monotonic() + timeout]
        threads = [
            threading.Thread(
                target=answer_loop,
                args=(url, learner, answers, seconds, start, deadline, seed),
                name=learner.profile,
            )
            for seed, learner in enumerate(people)
        ]
        for thread in threads:
            thread.start()
        try:
            start.wait(timeout=120)
        except threading.BrokenBarrierError:
            pass  # a learner failed to start: its error is reported below
        began = time.perf_counter()
        for thread in threads:
            thread.join(timeout=max(0.0, deadline[0] - time.monotonic() + 30))
        wall = time.perf_counter() - began
        stuck = sum(thread.is_alive() for thread in threads)
        checks = verify(url, people)
    latencies = [ms for learner in people for ms in learner.latencies_ms]
    done = len(latencies)
    errors = [f"{p.profile}: {p.error}" for p in people if p.error]
    return {
        "backend": backend,
        "learners": learners,
        "answers_per_learner": answers if not seconds else None,
        "seconds": seconds,
        "answers": done,
        "wall_s": round(wall, 3),
        "answers_per_s": round(done / wall, 1) if wall > 0 else 0.0,
        "latency_ms": {
            "p50": round(percentile(latencies, 0.5), 2) if latencies else None,
            "p99": round(percentile(latencies, 0.99), 2) if latencies else None,
            "max": round(max(latencies), 2) if latencies else None,
        },
        "errors": len(errors) + stuck,
        "error_lines": errors[:10],
        **checks,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db",
        default=os.environ.get("PREPKIT_TEST_PG_URL", ""),
        help="a PostgreSQL URL (default: $PREPKIT_TEST_PG_URL) or a SQLite file; empty: a "
        "temporary SQLite file",
    )
    parser.add_argument("--learners", type=int, default=50)
    parser.add_argument("--answers", type=int, default=20, help="answers per learner")
    parser.add_argument("--seconds", type=float, help="answer for this long instead")
    parser.add_argument("--timeout", type=float, default=300, help="stop everyone after this")
    parser.add_argument("--in-place", action="store_true", help="fill --db itself")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    answers = args.answers if not args.seconds else max(args.answers, 5000)
    figures = run(args.db, args.learners, answers, args.seconds, args.timeout, args.in_place)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        latency = figures["latency_ms"]
        print(
            f"{figures['backend']}: {figures['learners']} learners, {figures['answers']} answers "
            f"in {figures['wall_s']} s: {figures['answers_per_s']} answers/s, latency p50 "
            f"{latency['p50']} ms, p99 {latency['p99']} ms, max {latency['max']} ms; errors "
            f"{figures['errors']}, lost {figures['lost']}, unexpected {figures['unexpected']}"
        )
        for line in figures["error_lines"]:
            print(f"  {line}", file=sys.stderr)
    failed = figures["errors"] or figures["lost"] or figures["unexpected"]
    return 1 if failed or figures["reps_mismatched"] else 0


if __name__ == "__main__":
    sys.exit(main())
