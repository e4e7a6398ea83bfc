"""Anki's side of the prepkit-vs-Anki benchmark.

Why this exists: prepkit claims to be a usable spaced-repetition tool, so its hot paths (bulk load,
building the day's due queue, answering a card durably) are compared with the reference
implementation users already know, Anki's own Rust backend as shipped in the ``anki`` wheel. This
script runs the same workload prepkit's benchmark runs, in its own process, and prints one JSON
object::

    {"cards": N, "answers": M, "queue_build_ms": ..., "answer_median_ms": ...,
     "answer_p99_ms": ..., "bulk_load_s": ..., "peak_rss_mb": ..., "due": ...,
     "queue_build_all_states_ms": ...}

The last key is extra (see ``run``); a reader that only knows the others can ignore it.

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
  Checked three ways: under ``strace -f -c``, 200 answers add 210 ``fsync`` calls to the run; a
  child process that answers 37 cards and dies with ``os._exit`` (no close, no checkpoint) leaves
  all 37 revlog rows readable in the file; and ``_check_durable`` reads the revlog back through a
  second connection after every run.
* Queue: the v3 scheduler keeps the built queue in ``Collection.state.card_queues``
  (``rslib/src/scheduler/queue/mod.rs``); ``get_queued_cards`` builds it only when that is
  empty, and a build always gathers and sorts *every* due card. ``fetch_limit`` only says how
  many cards from the front of the queue come back loaded, each with its four next states
  computed. The desktop reviewer (``aqt/reviewer.py``, ``_get_next_v3_card``) calls it with the
  default ``fetch_limit=1``. ``sched.reset()`` is a deprecated no-op; the queue is dropped by ops
  that touch cards, decks or presets, or by switching decks. See ``_queue_build_ms``.

The workload is the prepkit side's (``benchmarks/workload.py``: texts, grades, percentiles; the
due-card state of ``benchmarks/review.py``): the same texts, grades and due cards for a seed.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any

from workload import CardTexts, percentile, ratings

if TYPE_CHECKING:
    from anki.collection import Collection
    from anki.scheduler.v3 import Scheduler

# Notes per add_notes() call. Measured at 100,000 notes: one call with all of them is the slowest
# (5.7-6.5 s, 717 MB peak RSS, because the whole request and its undo record sit in memory at
# once); batches of 1,000 to 10,000 took 3.9-5.3 s with no consistent winner between them, and
# 1,000 needs the least memory (about 240 MB against 350 MB). Each batch is one transaction,
# committed when add_notes() returns.
BULK_BATCH = 1_000
# Queue builds per run; the median is reported.
QUEUE_BUILDS = 5
DESIRED_RETENTION = 0.9
# The state prepkit gives every tenth card: a review card last seen 6 days ago, due 1 day ago.
DUE_STABILITY = 5.0
DUE_DIFFICULTY = 5.0
DUE_DAYS_SINCE_REVIEW = 6
DUE_INTERVAL_DAYS = 5
DUE_REPS = 3
SECONDS_PER_DAY = 86_400
# Largest daily limit a deck options preset accepts.
PRESET_LIMIT_MAX = 9_999

NOT_INSTALLED = "anki is not installed; pip install -e '.[bench]'"


def _scheduler(col: Collection) -> Scheduler:
    """Return the collection's v3 scheduler, the one the desktop app uses for new collections."""
    from anki.scheduler.v3 import Scheduler

    if not isinstance(col.sched, Scheduler):
        raise RuntimeError("expected Anki's v3 scheduler")
    return col.sched


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


def _bulk_load(col: Collection, deck_id: int, texts: CardTexts) -> float:
    """Add one Basic note per text pair; return the seconds taken.

    Timed: building the ``Note`` objects and ``col.add_notes`` in batches of ``BULK_BATCH``.
    Each ``add_notes`` call is one backend transaction that commits (WAL fsync) before it
    returns, so the time includes saving to disk. The texts are made a batch at a time as the
    loop reads them, as on prepkit's side; the time spent making them (``texts.seconds``) is
    subtracted, so generating the text is not timed.
    """
    from anki.collection import AddNoteRequest
    from anki.decks import DeckId

    notetype = col.models.by_name("Basic")
    if notetype is None:
        raise RuntimeError("the new collection has no Basic notetype")
    did = DeckId(deck_id)
    gc.collect()
    start = time.perf_counter()
    pairs = iter(texts)
    while batch := list(islice(pairs, BULK_BATCH)):
        requests = []
        for front, back in batch:
            note = col.new_note(notetype)
            note.fields[0] = front
            note.fields[1] = back
            requests.append(AddNoteRequest(note=note, deck_id=did))
        col.add_notes(requests)
    return time.perf_counter() - start - texts.seconds


def _make_due_reviews(col: Collection) -> int:
    """Turn every 10th card into an FSRS review card due today; return how many (N // 10).

    Not timed. The state is the one prepkit's side writes: a review card with stability 5,
    difficulty 5, three reps, last reviewed 6 days ago and 1 day overdue (a 5-day interval).

    ``sched.set_due_date(ids, "0")`` would make them Review cards due today, but leaves them
    without an FSRS memory state. With FSRS on, Anki then treats such a card as one moved into an
    FSRS preset: whenever it schedules the card it rebuilds the state from the card's revlog
    (only the manual set-due-date entry here), so the card is scheduled like a first review. That
    is neither a real review nor the steady-state code path, and it is slow: at 10,000 due, the
    all-cards queue build on a reopened collection took about 975 ms instead of about 155 ms, and
    a median answer 0.60 ms instead of 0.35 ms. Instead each card gets the fields a card
    genuinely reviewed under FSRS has, written with the public ``col.update_cards``: Review type
    and queue, the interval, the memory state, the preset's desired retention and decay (asked of
    Anki through ``compute_memory_state``), and ``last_review_time``, from which Anki's FSRS
    takes the days elapsed. Answering then runs the same FSRS review update as for a real overdue
    card.

    The one difference from prepkit: ``due`` is today, not yesterday. A fresh collection's day
    number today is 0, and a due day of -1 is not something Anki itself ever writes. The queue
    holds the same cards either way, and the FSRS inputs (state, days since the last review) are
    the same.
    """
    from anki.cards import FSRSMemoryState
    from anki.consts import CARD_TYPE_REV, QUEUE_TYPE_REV

    card_ids = sorted(col.find_cards(""))
    due_ids = card_ids[9::10]  # the 10th, 20th, ... card added, like prepkit's card_id % 10 = 0
    if not due_ids:
        return 0
    today = col.sched.today
    last_review = int(time.time()) - DUE_DAYS_SINCE_REVIEW * SECONDS_PER_DAY
    decay = col.compute_memory_state(due_ids[0]).decay
    cards = []
    for card_id in due_ids:
        card = col.get_card(card_id)
        card.type = CARD_TYPE_REV
        card.queue = QUEUE_TYPE_REV
        card.ivl = DUE_INTERVAL_DAYS
        card.due = today
        card.factor = 2500
        card.reps = DUE_REPS
        card.memory_state = FSRSMemoryState(stability=DUE_STABILITY, difficulty=DUE_DIFFICULTY)
        card.desired_retention = DESIRED_RETENTION
        card.decay = decay
        card.last_review_time = last_review
        cards.append(card)
    col.update_cards(cards, skip_undo_entry=True)
    return len(due_ids)


def _queue_build_ms(col: Collection, away_deck_id: int, deck_id: int, fetch_limit: int) -> float:
    """Drop the cached queue, then time one build of it; return milliseconds.

    The queue is dropped the way a user drops it: by selecting another deck and then the study
    deck (``decks.set_current``, i.e. clicking decks in the deck list; ``Op::SetCurrentDeck``
    clears ``card_queues``), outside the timer. The process and its SQLite connection stay warm,
    as prepkit's side does, which calls ``StudySession.build_queue`` five times in one session.
    Without the deck switch a second call returns the cached queue in under 0.1 ms. Closing and
    reopening the collection instead (a fresh ``Collection``, as after launching Anki: empty
    backend caches and SQLite page cache) measured about 20 ms rather than 18 ms with
    ``fetch_limit=1`` and about 155 ms rather than 120-135 ms with every card, at 10,000 due.

    The timed call is ``sched.get_queued_cards(fetch_limit=...)``. With ``fetch_limit=1``, what
    the reviewer asks for, it is the work prepkit's ``build_queue`` does: gather all due cards with
    their scheduling state, sort them, and (on both sides, later, per card) load the front card
    and compute its four outcomes. ``fetch_limit`` = every card additionally loads all of them
    and computes 4 x 10,000 next states up front, which prepkit leaves to ``next()`` per card.
    """
    from anki.decks import DeckId

    col.decks.set_current(DeckId(away_deck_id))
    col.decks.set_current(DeckId(deck_id))
    gc.collect()
    sched = _scheduler(col)
    start = time.perf_counter_ns()
    sched.get_queued_cards(fetch_limit=fetch_limit)
    return (time.perf_counter_ns() - start) / 1e6


def _due_count(col: Collection) -> int:
    """Return how many cards the (already built) queue holds, from its counts."""
    queued = _scheduler(col).get_queued_cards(fetch_limit=1)
    return queued.new_count + queued.learning_count + queued.review_count


def _answer_ms(col: Collection, ratings: Sequence[int]) -> list[float]:
    """Answer one queued card per rating; return each step's milliseconds.

    One timed step is exactly what the desktop reviewer does per card (``aqt/reviewer.py``): get
    the next queued card with its precomputed next states, wrap it in a ``Card``, build the
    answer for the grade, and ``answer_card``, which commits the card update and its revlog row
    before returning (see the module docstring), leaving the backend queue ready with the next
    card. Again cards go to a 10-minute relearning step and do not come back within the run. The
    loop stops early if the queue runs out (more answers asked for than cards due).
    """
    from anki.cards import Card
    from anki.scheduler.v3 import CardAnswer

    grades = {
        1: CardAnswer.AGAIN,
        2: CardAnswer.HARD,
        3: CardAnswer.GOOD,
        4: CardAnswer.EASY,
    }
    sched = _scheduler(col)
    times: list[float] = []
    gc.collect()
    for rating in ratings:
        start = time.perf_counter_ns()
        queued = sched.get_queued_cards(fetch_limit=1)
        if not queued.cards:
            break
        top = queued.cards[0]
        card = Card(col, backend_card=top.card)
        card.start_timer()
        answer = sched.build_answer(card=card, states=top.states, rating=grades[rating])
        sched.answer_card(answer)
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
    (untimed), ``QUEUE_BUILDS`` queue builds (median), ``answers`` timed answer steps, then peak
    RSS. The temporary directory is deleted afterwards.

    ``queue_build_ms`` is the like-for-like figure (``fetch_limit=1``, see ``_queue_build_ms``).
    The extra key ``queue_build_all_states_ms`` is the same build with ``fetch_limit`` covering
    every due card, Anki also loading each card and computing its four next states up front.
    ``answers`` is the number of answer steps actually timed, which is less than asked for only
    if fewer cards were due. Raises ``ImportError`` if ``anki`` is missing; ``main`` turns that
    into a one-line message.
    """
    texts = CardTexts(cards, seed)
    grades = ratings(answers, seed)
    with tempfile.TemporaryDirectory(prefix="anki-bench-") as tmp:
        path = os.path.join(tmp, "collection.anki2")
        col = _open(path)
        try:
            deck_id = _configure(col, cards)
            bulk_load_s = _bulk_load(col, deck_id, texts)
            expected_due = _make_due_reviews(col)
            away_deck_id = col.decks.id("Elsewhere")  # an empty deck to switch away to
            if away_deck_id is None:
                raise RuntimeError("could not create a second deck")
            builds = [_queue_build_ms(col, away_deck_id, deck_id, 1) for _ in range(QUEUE_BUILDS)]
            all_states = [
                _queue_build_ms(col, away_deck_id, deck_id, max(cards, 1))
                for _ in range(QUEUE_BUILDS)
            ]
            due = _due_count(col)
            if due != expected_due:
                raise RuntimeError(f"queue holds {due} cards, expected {expected_due}")
            times = _answer_ms(col, grades)
        finally:
            col.close()
        _check_durable(path, len(times))
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "cards": cards,
        "answers": len(times),
        "queue_build_ms": round(statistics.median(builds), 3),
        "answer_median_ms": round(statistics.median(times), 3) if times else 0.0,
        "answer_p99_ms": round(percentile(times, 0.99), 3) if times else 0.0,
        "bulk_load_s": round(bulk_load_s, 3),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "due": due,
        "queue_build_all_states_ms": round(statistics.median(all_states), 3),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, run the workload and print the result; return the exit status.

    With ``--json`` the result is one JSON object on stdout, for the comparison script to read;
    without it, one ``key: value`` line each, for people.
    """
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
    if result["answers"] < args.answers:
        print(
            f"only {result['answers']} of {args.answers} answers timed: the queue ran out",
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>17}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
