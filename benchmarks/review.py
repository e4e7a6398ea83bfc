"""Benchmark: bulk load, due-queue build and the answer loop, optionally beside Anki's backend.

    python benchmarks/review.py --cards 100000 --answers 500 --vs-anki --rounds 3 --json

Each side runs in its own child process so that its peak memory is its own. The prepkit side
takes the texts of N cards (~80-character fronts, ~300-character backs) from
`workload.CardTexts`, builds the cards deck by deck and loads them with `sync_library` (timed:
bulk_load_s, less the time spent making the texts), gives every tenth card a due review, then
times five cold builds of the study queue and M answer steps (next card with its four previewed
outcomes -> grade -> committed). The Anki side (benchmarks/anki_side.py) does the same work on
Anki's Rust backend, and the floor side (benchmarks/floor_side.py) times the least any answer
that is durable on its own costs on this disk: a bare fsrs + sqlite3 loop with one fsync'd
commit per answer. With --rounds N the three run in turn N times, so a slow minute of the
machine's disk falls on every side rather than one, and each figure and ratio is a median.

Both sides make the texts 1,000 at a time as they load them rather than holding all of them
(see workload.py), so peak_rss_mb is the tool's memory, not the input's. Figures are medians and
99th percentiles over the steps; nothing here asserts a time.
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
    if side in ("anki", "floor"):
        command = [sys.executable, str(HERE / f"{side}_side.py")]
    else:
        command = [sys.executable, str(Path(__file__).resolve()), "--side", "prepkit"]
    command += ["--cards", str(cards), "--answers", str(answers), "--seed", str(seed), "--json"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"{side} side failed (exit {done.returncode})")
    return dict(json.loads(done.stdout))


ANSWER_KEYS = ("answer_median_ms", "answer_p99_ms")


def ratios(side: dict[str, Any], peer: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    return {key: round(side[key] / peer[key], 3) if peer.get(key) else None for key in keys}


def one_round(cards: int, answers: int, seed: int, vs_anki: bool) -> dict[str, Any]:
    """prepkit, then (with --vs-anki) Anki and the durable-commit floor (floor_side.py), each in
    a fresh process one after the other, with the ratios of this round."""
    result = child("prepkit", cards, answers, seed)
    if vs_anki:
        anki = child("anki", cards, answers, seed)
        floor = child("floor", cards, answers, seed)
        result |= {
            "anki": anki,
            "ratio": ratios(result, anki, KEYS),
            "floor": floor,
            "ratio_to_floor": ratios(result, floor, ANSWER_KEYS),
            "anki_ratio_to_floor": ratios(anki, floor, ANSWER_KEYS),
        }
    return result


def median_of(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Each figure's median over the rounds (nested the same way)."""
    first = rounds[0]
    merged: dict[str, Any] = {}
    for key, value in first.items():
        if isinstance(value, dict):
            merged[key] = median_of([r[key] for r in rounds])
        elif isinstance(value, int | float) and not isinstance(value, bool):
            middle = round(statistics.median(r[key] for r in rounds), 4)
            whole = isinstance(value, int) and middle == int(middle)
            merged[key] = int(middle) if whole else middle
        else:
            merged[key] = value
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--answers", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--vs-anki", action="store_true", help="also run Anki's backend")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run the sides in turn this many times; figures and ratios are medians over rounds",
    )
    parser.add_argument("--json", action="store_true", help="print JSON (the default output)")
    parser.add_argument("--side", choices=["prepkit"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.side == "prepkit":
        print(json.dumps(run_prepkit(args.cards, args.answers, args.seed)))
        return 0
    measured_at = datetime.now(UTC).isoformat(timespec="seconds")
    rounds = [
        one_round(args.cards, args.answers, args.seed, args.vs_anki)
        for _ in range(max(1, args.rounds))
    ]
    result = median_of(rounds) | {"measured_at": measured_at, "rounds": len(rounds)}
    if args.vs_anki and len(rounds) > 1:
        result["ratio_each_round"] = [r["ratio"] for r in rounds]
        result["ratio_to_floor_each_round"] = [r["ratio_to_floor"] for r in rounds]
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
