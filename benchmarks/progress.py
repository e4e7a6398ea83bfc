"""Benchmark: the progress queries (dashboard, stats, report) on a large synthetic history.

    python benchmarks/progress.py --cards 100000 --reviews 200000 --json

Builds a database in a temporary folder: N cards loaded with `sync_library` (decks of 1,000),
then memory states written straight into card_state (30% new, 5% learning, the rest in review
with stabilities from 0.1 to 300 days, 1% suspended, 1% buried) and M reviews spread over two
years, inserted in time order as a learner makes them; a third of the decks carry posting
weights, and the example posting is stored for `qualifications`. The learner's zone is
Europe/Paris. Prints the median and the slowest of several runs of each progress function, in
milliseconds; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from review import make_decks
from workload import card_texts

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
DAY_MS = 86_400_000


def build(folder: Path, cards: int, reviews: int, seed: int) -> Any:
    from sqlalchemy import insert, select, update
    from sqlalchemy.sql.expression import bindparam

    from prepkit.schedule.days import to_ms
    from prepkit.store import models as m
    from prepkit.workspace import open_workspace, sync_library

    ws = open_workspace(str(folder / "progress.db"), NOW)
    sync_library(ws, make_decks(card_texts(cards, seed)), NOW)
    rng = random.Random(seed)
    now_ms = to_ms(NOW)
    s = m.CardState
    with ws.engine.begin() as conn:
        ids = list(conn.execute(select(s.card_id).where(s.learner_id == ws.learner_id)).scalars())
        states = []
        for card_id in ids:
            draw = rng.random()
            if draw < 0.30:
                continue
            state = 1 if draw < 0.35 else 2
            stability = 10 ** rng.uniform(-1, 2.5)
            last = now_ms - rng.randrange(0, 200 * DAY_MS)
            interval = rng.randrange(60_000, 600_000) if state == 1 else round(stability) * DAY_MS
            states.append(
                {
                    "card": card_id,
                    "st": state,
                    "stab": stability,
                    "diff": rng.uniform(1, 10),
                    "due_": last + max(interval, 60_000),
                    "last": last,
                    "susp": rng.random() < 0.01,
                    "bur": now_ms + DAY_MS if rng.random() < 0.01 else None,
                }
            )
        conn.execute(
            update(s)
            .where(s.learner_id == ws.learner_id, s.card_id == bindparam("card"))
            .values(
                state=bindparam("st"),
                stability=bindparam("stab"),
                difficulty=bindparam("diff"),
                due=bindparam("due_"),
                last_review=bindparam("last"),
                reps=1,
                suspended=bindparam("susp"),
                buried_until=bindparam("bur"),
            ),
            states,
        )
        instants = sorted(now_ms - rng.randrange(0, 730 * DAY_MS) for _ in range(reviews))
        grades = rng.choices((3, 1, 2, 4), weights=(85, 10, 3, 2), k=reviews)
        rows = [
            {
                "learner_id": ws.learner_id,
                "card_id": rng.choice(ids),
                "reviewed_at": instant,
                "rating": grade,
                "duration_ms": rng.randrange(2_000, 60_000),
                "state_before": rng.choice((0, 1, 2, 2, 2, 3)),
                "state_after": 2,
            }
            for instant, grade in zip(instants, grades, strict=True)
        ]
        for start in range(0, len(rows), 10_000):
            conn.execute(insert(m.Review), rows[start : start + 10_000])
        posting = (ROOT / "decks" / "postings" / "example-ml-systems.txt").read_text()
        posting_id = conn.execute(
            insert(m.Posting)
            .values(
                learner_id=ws.learner_id,
                title="example",
                source="example-ml-systems.txt",
                text=posting,
                digest="benchmark",
                created_at=now_ms,
            )
            .returning(m.Posting.id)
        ).scalar_one()
        decks = sorted({f"bench-{i // 1000:04d}" for i in range(0, cards, 1000)})
        conn.execute(
            insert(m.PostingTopic),
            [
                {
                    "posting_id": posting_id,
                    "topic_id": deck,
                    "weight": i % 7 + 1.0,
                    "evidence": "[]",
                }
                for i, deck in enumerate(decks[::3])
            ],
        )
    ws.save_settings(replace(ws.settings(), timezone="Europe/Paris"))
    return ws


def timed(fn: Callable[[], object], runs: int) -> dict[str, float]:
    fn()  # warm the page cache and SQLAlchemy's statement cache, as a second refresh would be
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=100_000)
    parser.add_argument("--reviews", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print JSON (the default output)")
    args = parser.parse_args(argv)

    from prepkit import progress

    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        ws = build(Path(folder), args.cards, args.reviews, args.seed)
        built_s = time.perf_counter() - started
        taxonomy = progress.load_taxonomy()
        calls: dict[str, Callable[[], object]] = {
            "review_days_365": lambda: progress.review_days(ws, NOW),
            "streak": lambda: progress.streak(ws, NOW),
            "forecast_30": lambda: progress.forecast(ws, NOW),
            "retention_30": lambda: progress.retention_by_topic(ws, NOW),
            "retention_all": lambda: progress.retention_by_topic(ws, NOW, None),
            "intervals": lambda: progress.interval_distribution(ws, NOW),
            "readiness": lambda: progress.readiness(ws, NOW),
            "qualifications": lambda: progress.qualifications(ws, NOW, taxonomy=taxonomy),
        }
        results = {name: timed(call, args.runs) for name, call in calls.items()}
        ws.close()
    print(
        json.dumps(
            {
                "cards": args.cards,
                "reviews": args.reviews,
                "build_s": round(built_s, 1),
                "runs": args.runs,
                "functions": results,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
