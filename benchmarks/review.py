"""Benchmark: bulk load, due-queue build and the answer loop, optionally beside Anki's backend.

    python benchmarks/review.py --cards 100000 --answers 500 --vs-anki --json

Each side runs in its own child process so that its peak memory is its own. The prepkit side
takes the texts of N cards (~80-character fronts, ~300-character backs) from
`workload.CardTexts`, builds the cards deck by deck and loads them with `sync_library` (timed:
bulk_load_s, less the time spent making the texts), gives every tenth card a due review, then
times five cold builds of the study queue and M answer steps (next card with its four previewed
outcomes -> grade -> committed). The Anki side (benchmarks/anki_side.py) does the same work on
Anki's Rust backend. Both sides make the texts 1,000 at a time as they load them rather than
holding all of them (see workload.py), so peak_rss_mb is the tool's memory, not the input's.
Figures are medians and 99th percentiles over the steps; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

from workload import CardTexts, percentile, ratings

HERE = Path(__file__).resolve().parent
KEYS = ("queue_build_ms", "answer_median_ms", "answer_p99_ms", "bulk_load_s", "peak_rss_mb")


def make_decks(texts: Iterable[tuple[str, str]]) -> Iterator[Any]:
    """Decks of 1,000 cards built as they are consumed, as Anki's side builds notes in batches of
    1,000 inside its timer; `texts` may be a list or made as it is read (`CardTexts`)."""
    from prepkit.deck.model import Card, Deck, Kind

    per_deck = 1000
    pairs = iter(texts)
    start = 0
    while batch := list(islice(pairs, per_deck)):
        deck_id = f"bench-{start // per_deck:04d}"
        deck_cards = tuple(
            Card(
                id=f"bench-card-{i:07d}",
                deck=deck_id,
                kind=Kind.BASIC,
                front=front,
                back=back,
                source="generated for the benchmark",
                tags=("bench",),
            )
            for i, (front, back) in enumerate(batch, start)
        )
        yield Deck(deck_id, f"Benchmark deck {start // per_deck}", deck_cards)
        start += len(batch)


def run_prepkit(cards: int, answers: int, seed: int) -> dict[str, Any]:
    from sqlalchemy import text

    from prepkit import clock
    from prepkit.config import Settings
    from prepkit.schedule.days import to_ms
    from prepkit.schedule.review import Rating
    from prepkit.study import StudySession
    from prepkit.workspace import open_workspace, sync_library

    with tempfile.TemporaryDirectory(prefix="prepkit-bench-") as folder:
        db = str(Path(folder) / "bench.db")
        now = clock.now()
        texts = CardTexts(cards, seed)
        with open_workspace(db, now) as ws:
            started = time.perf_counter()
            sync_library(ws, make_decks(texts), now)
            bulk_load_s = time.perf_counter() - started - texts.seconds
            ws.save_settings(Settings(new_per_day=0, reviews_per_day=1_000_000))
            # Every tenth card becomes a review card that fell due yesterday.
            last = to_ms(now - timedelta(days=6))
            due = to_ms(now - timedelta(days=1))
            with ws.engine.begin() as conn:
                conn.execute(
                    text(
                        "UPDATE card_state SET state = 2, stability = 5.0, difficulty = 5.0, "
                        "due = :due, last_review = :last, reps = 3 WHERE card_id % 10 = 0"
                    ),
                    {"due": due, "last": last},
                )
            session = StudySession(ws, now)
            builds = []
            for _ in range(5):
                started = time.perf_counter()
                counts = session.build_queue(clock.now())
                builds.append((time.perf_counter() - started) * 1000)
            steps = []
            for rating in ratings(answers, seed):
                started = time.perf_counter_ns()
                shown = session.next(clock.now())
                if shown is None:
                    break
                session.answer(Rating(rating), clock.now(), duration_ms=5000)
                steps.append((time.perf_counter_ns() - started) / 1e6)
            session.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "cards": cards,
        "answers": len(steps),
        "due": counts.review + counts.learning,
        "queue_build_ms": round(statistics.median(builds), 2),
        "answer_median_ms": round(statistics.median(steps), 4),
        "answer_p99_ms": round(percentile(steps, 0.99), 4),
        "bulk_load_s": round(bulk_load_s, 3),
        "peak_rss_mb": round(peak, 1),
    }


def child(side: str, cards: int, answers: int, seed: int) -> dict[str, Any]:
    """Run one side in a fresh interpreter and read its JSON."""
    if side == "anki":
        command = [sys.executable, str(HERE / "anki_side.py")]
    else:
        command = [sys.executable, str(Path(__file__).resolve()), "--side", "prepkit"]
    command += ["--cards", str(cards), "--answers", str(answers), "--seed", str(seed), "--json"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"{side} side failed (exit {done.returncode})")
    return dict(json.loads(done.stdout))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--answers", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--vs-anki", action="store_true", help="also run Anki's backend")
    parser.add_argument("--json", action="store_true", help="print JSON (the default output)")
    parser.add_argument("--side", choices=["prepkit"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.side == "prepkit":
        print(json.dumps(run_prepkit(args.cards, args.answers, args.seed)))
        return 0
    result = child("prepkit", args.cards, args.answers, args.seed)
    result["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    if args.vs_anki:
        anki = child("anki", args.cards, args.answers, args.seed)
        result["anki"] = anki
        result["ratio"] = {
            key: round(result[key] / anki[key], 3) if anki.get(key) else None for key in KEYS
        }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
