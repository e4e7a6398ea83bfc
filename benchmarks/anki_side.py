"""Anki's side of the prepkit-vs-Anki benchmark.

Why this exists: prepkit claims to be a usable spaced-repetition tool, so its hot paths (bulk load,
building the day's due queue, answering a card durably) are compared with the reference
implementation users already know, Anki's own Rust backend as shipped in the ``anki`` wheel. This
script runs the same workload prepkit's benchmark runs, in its own process, and prints one JSON
object::

    {"cards": N, "answers": M, "queue_build_ms": ..., "answer_median_ms": ...,
     "answer_p99_ms": ..., "bulk_load_s": ..., "peak_rss_mb": ..., "due": ...}

``anki`` is AGPL-3.0-or-later. It is only ever imported here, inside functions, as an optional
benchmark extra (``pip install -e '.[bench]'``); prepkit itself never imports or ships it.

What Anki does under the hood, checked against anki 26.9.3 and ``ankitects/anki`` sources:

* Storage: ``rslib/src/storage/sqlite.rs`` opens the collection with ``journal_mode=wal``,
  ``locking_mode=exclusive`` and leaves ``synchronous`` at SQLite's default, FULL (``pragma
  synchronous`` returns 2 at run time). That is the same durability setting prepkit uses.
* Commits: every backend operation runs in ``Collection::transact`` (``rslib/src/collection/
  transact.rs``): ``savepoint rust`` ... ``release rust``. The Python layer holds no outer
  transaction (``Collection.save()``/``autosave()`` are deprecated no-ops, "saving is automatic"),
  so the outermost savepoint's release *is* a COMMIT, with an fsync of the WAL. Each
  ``answer_card`` is therefore durable when it returns and nothing extra is needed per answer.
  ``_check_durable`` verifies this by reading the revlog back through a second connection.
* Queue: the v3 scheduler keeps the built queue in ``Collection.state.card_queues``
  (``rslib/src/scheduler/queue/mod.rs``); ``get_queued_cards`` builds it only when that is
  empty. ``sched.reset()`` is a deprecated no-op, so a cold build needs either an op that clears
  the queue or a fresh collection; see ``_cold_queue_build_ms``.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import random
import resource
import sqlite3
import statistics
import string
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from anki.collection import Collection

# Notes per add_notes() call. One call with all 100,000 notes is the slowest option measured
# (about 6.0 s, 717 MB peak RSS, because the whole request and its undo record sit in memory at
# once); batches of 1,000 to 10,000 all took 3.9-4.4 s, and 1,000 needs the least memory
# (about 240 MB). Each batch is one transaction, committed when add_notes() returns.
BULK_BATCH = 1_000
# Cold queue builds per run; the median is reported.
QUEUE_BUILDS = 5
DESIRED_RETENTION = 0.9
FRONT_CHARS = 80
BACK_CHARS = 300
VOCABULARY = 2_000
# Ratings 1 Again, 2 Hard, 3 Good, 4 Easy (Anki's CardAnswer.Rating values) and their weights.
RATINGS = (1, 2, 3, 4)
RATING_WEIGHTS = (10, 3, 85, 2)
SECONDS_PER_DAY = 86_400
# Largest daily limit a deck options preset accepts.
PRESET_LIMIT_MAX = 9_999

NOT_INSTALLED = "anki is not installed; pip install -e '.[bench]'"


def card_texts(cards: int, seed: int = 0) -> list[tuple[str, str]]:
    """Return ``cards`` (front, back) pairs of about 80 and 300 characters.

    Pure Python and deterministic in ``seed`` so both sides of the benchmark can load the
    identical deck: a seeded ``random.Random`` makes a vocabulary of pseudo-random words, then
    draws words from it until each field is as long as it can be without passing its target.
    """
    rng = random.Random(seed)
    letters = string.ascii_lowercase
    vocabulary = ["".join(rng.choices(letters, k=rng.randint(2, 10))) for _ in range(VOCABULARY)]

    def field(target: int) -> str:
        words: list[str] = []
        length = -1
        while True:
            word = rng.choice(vocabulary)
            if length + 1 + len(word) > target:
                return " ".join(words)
            words.append(word)
            length += 1 + len(word)

    return [(field(FRONT_CHARS), field(BACK_CHARS)) for _ in range(cards)]


def rating_sequence(answers: int, seed: int = 0) -> list[int]:
    """Return the grades to give, about 85% Good, 10% Again, 3% Hard and 2% Easy.

    A separate stream from ``card_texts`` (seeded with ``seed + 1``) so the grades do not depend
    on the deck size.
    """
    return random.Random(seed + 1).choices(RATINGS, weights=RATING_WEIGHTS, k=answers)


def _percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest value with ``fraction`` of the data at or below it."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(len(ordered) * fraction)) - 1]


def _open(path: str) -> Collection:
    """Open (or create) the collection at ``path``."""
    from anki.collection import Collection

    return Collection(path)


def _configure(col: Collection, cards: int) -> int:
    """Turn FSRS on and lift the daily limits of the Default deck; return the deck id.

    New cards per day is 0, so the queue holds exactly the due reviews, and the review limit is
    ``cards``, above any due count this workload can produce, so the limits are never what is
    measured. Presets cap the review limit at 9,999 (a larger ``rev.perDay`` in the legacy dict is
    silently replaced by the default, 200), so the limit goes on the deck itself, as the deck
    options' "This deck" limit (``reviewLimit``), which has no such cap and overrides the preset.
    FSRS is the collection-wide ``fsrs`` config key (``BoolKey::Fsrs`` in rslib, which the Python
    ``Config.Bool`` enum does not expose); desired retention lives in the preset. The default
    FSRS-6 parameters are used, as for a user who has not optimised yet.
    """
    col.set_config("fsrs", True)
    deck_id = col.decks.id_for_name("Default")
    if deck_id is None:
        raise RuntimeError("the new collection has no Default deck")
    conf = col.decks.config_dict_for_deck_id(deck_id)
    conf["new"]["perDay"] = 0
    conf["rev"]["perDay"] = min(max(cards, 1), PRESET_LIMIT_MAX)
    conf["desiredRetention"] = DESIRED_RETENTION
    col.decks.update_config(conf)
    deck = col.decks.get(deck_id)
    if deck is None:
        raise RuntimeError("the Default deck vanished")
    deck["newLimit"] = 0
    deck["reviewLimit"] = max(cards, 1)
    col.decks.save(deck)
    return int(deck_id)


def _bulk_load(col: Collection, deck_id: int, texts: Sequence[tuple[str, str]]) -> float:
    """Add one Basic note per text pair; return the seconds taken.

    Timed: building the ``Note`` objects and ``col.add_notes`` in batches of ``BULK_BATCH``.
    Each ``add_notes`` call is one backend transaction that commits (WAL fsync) before it
    returns, so the time includes saving to disk. Generating the text is not timed.
    """
    from anki.collection import AddNoteRequest
    from anki.decks import DeckId

    notetype = col.models.by_name("Basic")
    if notetype is None:
        raise RuntimeError("the new collection has no Basic notetype")
    did = DeckId(deck_id)
    gc.collect()
    start = time.perf_counter()
    for first in range(0, len(texts), BULK_BATCH):
        requests = []
        for front, back in texts[first : first + BULK_BATCH]:
            note = col.new_note(notetype)
            note.fields[0] = front
            note.fields[1] = back
            requests.append(AddNoteRequest(note=note, deck_id=did))
        col.add_notes(requests)
    return time.perf_counter() - start


def _make_due_reviews(col: Collection, seed: int) -> int:
    """Turn every 10th card into an FSRS review card due today; return how many (N // 10).

    Not timed. ``sched.set_due_date(ids, "0")`` would make them Review cards due today, but
    leaves them without an FSRS memory state, and with FSRS on Anki then treats such a card as
    one moved into an FSRS preset: on every scheduling it rebuilds the state from the card's
    revlog (only the manual set-due-date entry here), so it is scheduled like a first review. That
    is neither a real review nor the steady-state code path. Instead each card gets the state a
    card genuinely reviewed under FSRS has: Review type and queue, an interval of 3-60 days
    (seeded), due today, stability about equal to the interval (at 90% desired retention FSRS's
    interval is the stability), difficulty 3-8, the preset's desired retention and decay, and
    ``last_review_time`` one interval ago, written with the public ``col.update_cards``. Answering
    then runs the same FSRS review update as for a real overdue-today card.
    """
    from anki.cards import FSRSMemoryState
    from anki.consts import CARD_TYPE_REV, QUEUE_TYPE_REV

    card_ids = sorted(col.find_cards(""))
    due_ids = card_ids[9::10]
    if not due_ids:
        return 0
    rng = random.Random(seed + 2)
    today = col.sched.today
    now = int(time.time())
    decay = col.compute_memory_state(due_ids[0]).decay
    cards = []
    for card_id in due_ids:
        card = col.get_card(card_id)
        interval = rng.randint(3, 60)
        card.type = CARD_TYPE_REV
        card.queue = QUEUE_TYPE_REV
        card.ivl = interval
        card.due = today
        card.factor = 2500
        card.reps = rng.randint(2, 8)
        card.memory_state = FSRSMemoryState(
            stability=interval * rng.uniform(0.9, 1.1), difficulty=rng.uniform(3.0, 8.0)
        )
        card.desired_retention = DESIRED_RETENTION
        card.decay = decay
        card.last_review_time = now - interval * SECONDS_PER_DAY
        cards.append(card)
    col.update_cards(cards, skip_undo_entry=True)
    return len(due_ids)


def _cold_queue_build_ms(
    path: str, col: Collection, fetch_limit: int
) -> tuple[Collection, float, int]:
    """Time one cold build of the due queue; return the open collection, ms, and due count.

    Cold means what a user gets when they start studying after launching Anki: the collection is
    closed and reopened (outside the timer), so there is no cached queue in the backend, and no
    cached decks, presets or notetypes, and SQLite's page cache for the connection is empty. The
    OS file cache stays warm, as it does for a deck used daily. The timed call is
    ``sched.get_queued_cards(fetch_limit=...)`` with a limit large enough to return every due
    card: it gathers the due cards, sorts them, and for each returned card loads it and computes
    its four FSRS next states, which is what the reviewer needs to show the answer buttons.
    """
    col.close()
    col = _open(path)
    gc.collect()
    start = time.perf_counter_ns()
    queued = col.sched.get_queued_cards(fetch_limit=fetch_limit)
    elapsed_ms = (time.perf_counter_ns() - start) / 1e6
    due = queued.new_count + queued.learning_count + queued.review_count
    if len(queued.cards) != due:
        raise RuntimeError(f"fetch_limit {fetch_limit} returned {len(queued.cards)} of {due} cards")
    return col, elapsed_ms, due


def _answer_ms(col: Collection, ratings: Sequence[int]) -> list[float]:
    """Answer one queued card per rating; return each step's milliseconds.

    One timed step is exactly what the desktop reviewer does per card (``aqt/reviewer.py``): get
    the next queued card with its precomputed next states, wrap it in a ``Card``, build the
    answer for the grade, and ``answer_card``, which commits the card update and its revlog row
    before returning (see the module docstring), leaving the backend queue ready with the next
    card. Again cards go to a 10-minute relearning step and do not come back within the run.
    """
    from anki.cards import Card
    from anki.scheduler.v3 import CardAnswer

    grades = {
        1: CardAnswer.AGAIN,
        2: CardAnswer.HARD,
        3: CardAnswer.GOOD,
        4: CardAnswer.EASY,
    }
    times: list[float] = []
    gc.collect()
    for rating in ratings:
        start = time.perf_counter_ns()
        queued = col.sched.get_queued_cards(fetch_limit=1)
        if not queued.cards:
            break
        top = queued.cards[0]
        card = Card(col, backend_card=top.card)
        card.start_timer()
        answer = col.sched.build_answer(card=card, states=top.states, rating=grades[rating])
        col.sched.answer_card(answer)
        times.append((time.perf_counter_ns() - start) / 1e6)
    return times


def _check_durable(path: str, expected_reviews: int) -> None:
    """Confirm that the answers reached the database file, not just the backend's memory.

    Run after ``col.close()`` (Anki holds an exclusive lock while open): a plain ``sqlite3``
    connection counts the FSRS review entries (revlog type 1) written by the answer loop.
    """
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        (count,) = conn.execute("select count(*) from revlog where type = 1").fetchone()
    conn.close()
    if count != expected_reviews:
        raise RuntimeError(f"expected {expected_reviews} reviews on disk, found {count}")


def run(cards: int, answers: int, seed: int = 0) -> dict[str, Any]:
    """Run the whole workload in a fresh temporary collection and return the result dict.

    The order mirrors prepkit's benchmark: configure, bulk load (timed), make N // 10 cards due
    (untimed), ``QUEUE_BUILDS`` cold queue builds (median), ``answers`` timed answer steps, then
    peak RSS. The temporary directory is deleted afterwards.
    """
    texts = card_texts(cards, seed)
    ratings = rating_sequence(answers, seed)
    with tempfile.TemporaryDirectory(prefix="anki-bench-") as tmp:
        path = os.path.join(tmp, "collection.anki2")
        col = _open(path)
        try:
            deck_id = _configure(col, cards)
            bulk_load_s = _bulk_load(col, deck_id, texts)
            del texts
            expected_due = _make_due_reviews(col, seed)
            fetch_limit = max(cards, 1)
            builds: list[float] = []
            due = 0
            for _ in range(QUEUE_BUILDS):
                col, elapsed_ms, due = _cold_queue_build_ms(path, col, fetch_limit)
                builds.append(elapsed_ms)
            if due != expected_due:
                raise RuntimeError(f"queue holds {due} cards, expected {expected_due}")
            times = _answer_ms(col, ratings)
        finally:
            col.close()
        _check_durable(path, len(times))
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "cards": cards,
        "answers": len(times),
        "queue_build_ms": round(statistics.median(builds), 3),
        "answer_median_ms": round(statistics.median(times), 3) if times else 0.0,
        "answer_p99_ms": round(_percentile(times, 0.99), 3) if times else 0.0,
        "bulk_load_s": round(bulk_load_s, 3),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "due": due,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, run the workload and print the result as one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cards", type=int, default=10_000, help="notes to add (one card each)")
    parser.add_argument("--answers", type=int, default=200, help="answer steps to time")
    parser.add_argument("--seed", type=int, default=0, help="seed for texts, states and grades")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    args = parser.parse_args(argv)
    if args.cards < 0 or args.answers < 0:
        parser.error("--cards and --answers must not be negative")
    try:
        import anki  # noqa: F401
    except ImportError:
        print(NOT_INSTALLED, file=sys.stderr)
        return 1
    result = run(args.cards, args.answers, args.seed)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>17}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
