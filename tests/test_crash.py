"""Crash safety: a study session killed at random moments loses nothing it acknowledged.

A real `prepkit study --plain` process studies a real SQLite database over a pipe and is killed
with SIGKILL at random moments: while starting, between answers, right after a grade line was
written, or a few microseconds into its commit. The same database carries on from round to
round with the clock moved on (minutes, hours or days, so learning cards come back and reviews
fall due). After every kill the database is checked with the stdlib `sqlite3` module alone:

- it is intact (integrity and foreign-key checks);
- every answer the session acknowledged (`good: next in 10m. saved.`) is in the review log
  exactly once, and at most the one answer being written when the kill came is there without
  an acknowledgement; undos, suspends and buries are accounted for the same way;
- every card's state is the replay of its review log (see tests/review_log.py).

The random moments come from a fixed seed, printed with the figures, so a failure can be
replayed (`PREPKIT_CRASH_SEED=N pytest tests/test_crash.py`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random

import pytest

from .conftest import subprocess_env
from .review_log import answers_in, card_keys, chain_problems, health_problems, read_only, tables
from .transcript import Effect, Session, effect, shown_key

SEED = int(os.environ.get("PREPKIT_CRASH_SEED", "20261127"))
START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
CARDS = 200
# Mostly grades, as a learner gives them, with undos, suspends and buries mixed in.
COMMANDS = ("1", "2", "3", "4", "u", "s", "b")
WEIGHTS = (14, 8, 50, 10, 9, 4, 5)
MODES = ("lockstep", "burst", "startup")


def drill_deck(folder: Path, cards: int = CARDS) -> Path:
    """A deck of `cards` basic cards: one-line fronts keep the transcript easy to read."""
    folder.mkdir(exist_ok=True)
    lines = ["deck: drill", "title: Drill deck", "cards:"]
    for i in range(cards):
        lines += [
            f"  - id: drill-{i:03d}",
            "    kind: basic",
            f"    front: Drill question {i}?",
            f"    back: Drill answer {i}.",
            "    source: generated for the crash tests",
            "    tags: [drill]",
        ]
    (folder / "drill.yaml").write_text("\n".join(lines) + "\n")
    return folder


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def advance(rng: Random) -> timedelta:
    """Minutes (learning steps come back), hours, or days (new cards and reviews fall due)."""
    kind = rng.choices(("minutes", "hours", "days"), weights=(35, 25, 40))[0]
    if kind == "minutes":
        return timedelta(minutes=rng.randint(2, 30))
    if kind == "hours":
        return timedelta(hours=rng.randint(1, 10))
    return timedelta(days=rng.randint(1, 3), minutes=rng.randint(0, 600))


def pause(rng: Random, longest: float) -> None:
    """Wait a random moment before the kill: nothing, a few microseconds, or up to `longest`
    seconds. Short waits spin, as sleep cannot wait a few microseconds."""
    kind = rng.choice(("now", "micro", "milli"))
    if kind == "now":
        return
    seconds = rng.uniform(0, 0.0005) if kind == "micro" else rng.uniform(0, longest)
    end = time.perf_counter() + seconds
    if seconds > 0.002:
        time.sleep(seconds)
    while time.perf_counter() < end:
        pass


def drive(session: Session, feed: list[str], mode: str, rng: Random) -> None:
    """Feed commands in one of three ways, then pick the moment to kill.

    lockstep: one command at a time, each after the previous one's acknowledgement, then one
    more command and the kill right after writing it (mid-answer). burst: every command at
    once after the first card is shown, killed while they are being worked through. startup:
    killed while the process is still importing, opening or building its queue.
    """
    if mode == "lockstep":
        stop = rng.randrange(len(feed))
        for i in range(stop):
            if not session.send(feed[i]) or not session.wait_for(acks=i + 1):
                return
        session.send(feed[stop])
        pause(rng, 0.005)
    elif mode == "burst":
        if session.wait_for(headers=1):
            session.send(*feed)
            pause(rng, 0.08)
    else:
        session.send(*feed)
        time.sleep(rng.uniform(0.0, 0.9))


@dataclass
class Tally:
    """The figures the README quotes."""

    seed: int
    rounds: int = 0
    kills: int = 0
    finished: int = 0  # the queue ran out before the kill: checked the same way
    acknowledged_answers: int = 0
    undos: int = 0
    suspends: int = 0
    buries: int = 0
    in_flight_committed: int = 0  # killed after the commit, before the acknowledgement
    in_flight_lost: int = 0  # killed before the commit: never acknowledged, never saved
    reviews_in_log: int = 0
    seconds: float = 0.0


@dataclass
class Before:
    max_review: int
    suspended: set[str]
    buried: set[str]


def snapshot(db: Path, now: datetime) -> Before:
    conn = read_only(db)
    try:
        keys = card_keys(conn)
        states, reviews = tables(conn)
    finally:
        conn.close()
    return Before(
        max_review=max((r["id"] for r in reviews), default=0),
        suspended={keys[s["card_id"]] for s in states if s["suspended"]},
        buried={keys[s["card_id"]] for s in states if (s["buried_until"] or 0) > ms(now)},
    )


def alternatives(base: set[str], add: set[str], maybe_in: str, maybe_out: str) -> list[set[str]]:
    expected = base | add
    out = [expected]
    if maybe_in:
        out.append(expected | {maybe_in})
    if maybe_out:
        out.append(expected - {maybe_out})
    return out


def check_round(db: Path, now: datetime, before: Before, done: Effect, tally: Tally) -> str:
    """The database after one round, against what the session acknowledged; '' when right."""
    conn = read_only(db)
    try:
        problems = health_problems(conn)
        states, reviews = tables(conn)
        keys = card_keys(conn)
    finally:
        conn.close()
    problems += chain_problems(states, reviews)
    added = answers_in([r for r in reviews if r["id"] > before.max_review], keys)
    allowed = [done.answers]
    if done.maybe_answer:
        allowed.append(done.answers + done.maybe_answer)
    if done.maybe_unanswer:
        allowed.append(done.answers - done.maybe_unanswer)
    if added not in allowed:
        problems.append(
            f"reviews added {dict(added)} but acknowledged {dict(done.answers)} "
            f"(in flight: +{dict(done.maybe_answer)} -{dict(done.maybe_unanswer)})"
        )
    elif done.maybe_answer:
        if added == done.answers:
            tally.in_flight_lost += 1
        else:
            tally.in_flight_committed += 1
    suspended = {keys[s["card_id"]] for s in states if s["suspended"]}
    if suspended not in alternatives(
        before.suspended, done.suspended, done.maybe_suspend, done.maybe_unsuspend
    ):
        problems.append(f"suspended {sorted(suspended)}; acknowledged {sorted(done.suspended)}")
    buried = {keys[s["card_id"]] for s in states if (s["buried_until"] or 0) > ms(now)}
    if buried not in alternatives(before.buried, done.buried, done.maybe_bury, done.maybe_unbury):
        problems.append(f"buried {sorted(buried)}; acknowledged {sorted(done.buried)}")
    tally.reviews_in_log = len(reviews)
    return "\n".join(problems)


def crash_rounds(tmp_path: Path, rounds: int, seed: int) -> Tally:
    rng = Random(seed)
    db = tmp_path / "crash.db"
    env = subprocess_env(tmp_path, PREPKIT_DB=str(db), PREPKIT_NOW=iso(START))
    deck = drill_deck(tmp_path / "decks")
    prepkit = [sys.executable, "-m", "prepkit"]
    subprocess.run([*prepkit, "sync", str(deck)], env=env, check=True, capture_output=True)
    tally = Tally(seed=seed)
    started = time.monotonic()
    now = START
    for number in range(1, rounds + 1):
        now += advance(rng)
        env["PREPKIT_NOW"] = iso(now)
        before = snapshot(db, now)
        feed = rng.choices(COMMANDS, weights=WEIGHTS, k=rng.randint(3, 60))
        mode = rng.choice(MODES)
        session = Session.start(env, tmp_path)
        try:
            drive(session, feed, mode, rng)
        finally:
            if session.proc.poll() is None:
                session.proc.send_signal(signal.SIGKILL)
        code, err = session.finish()
        killed = code == -signal.SIGKILL
        acks = session.acks()
        label = f"seed {seed} round {number} ({mode}, {iso(now)})"
        assert killed or code == 0, f"{label}: exit {code}\n{err}"
        assert "Traceback" not in err and "locked" not in err, f"{label}: {err}"
        done = effect(acks, session.sent, killed, shown_key(session.lines))
        problems = check_round(db, now, before, done, tally)
        assert not problems, f"{label}: {problems}\ntranscript tail: {session.lines[-8:]}"
        actions = Counter(a.action for a in acks)
        tally.rounds += 1
        tally.kills += killed
        tally.finished += not killed
        tally.acknowledged_answers += actions["answer"]
        tally.undos += actions["undo"]
        tally.suspends += actions["suspend"]
        tally.buries += actions["bury"]
    tally.seconds = round(time.monotonic() - started, 1)
    return tally


def report(tally: Tally) -> None:
    print(json.dumps({"test": "crash", **asdict(tally)}))


def test_killed_sessions_lose_nothing_they_acknowledged(tmp_path: Path) -> None:
    """A short run for every test run: a few kills in each way of dying."""
    tally = crash_rounds(tmp_path, rounds=12, seed=SEED)
    report(tally)
    assert tally.kills >= 6
    assert tally.acknowledged_answers > 0


@pytest.mark.slow
def test_a_hundred_kills_in_a_row_lose_nothing(tmp_path: Path) -> None:
    """The full run: one database through 100 killed sessions and days of simulated study."""
    tally = crash_rounds(tmp_path, rounds=100, seed=SEED + 1)
    report(tally)
    assert tally.kills >= 90
    assert tally.acknowledged_answers >= 500
    assert tally.in_flight_committed + tally.in_flight_lost > 0
