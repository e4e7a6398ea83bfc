"""Benchmark: the TUI's cold start to its first frame, and grade-to-next-card latency.

    python benchmarks/tui.py --cards 100000 --json

One database of N basic cards (default 100,000) is built the way benchmarks/review.py builds its
own (generated texts, decks of 1,000 loaded with `sync_library`, every tenth card a review that
fell due yesterday, no new cards), then:

- cold start: a fresh `python -c` child imports the CLI and the app, opens the workspace, reads
  the keymap as `prepkit study` does and runs `PrepkitApp(...).run(headless=True, auto_pilot=...)`.
  The figure is wall time (time.time() in both processes) from just before the child is spawned
  to the first frame the app composes with the start screen mounted (its `on_mount` has run, so
  the study screen shows its first card and the dashboard its counts). The moment the auto_pilot
  coroutine first runs is reported too (`*_ready_s`): Textual starts it from the ready callback,
  inside the first batch update, before that first frame is rendered. Median of 5 runs each for
  start="study" and start="dashboard".
- grade to next card painted: in-process under `app.run_test()` (80x24). For each of 200 cards the
  answer is shown first (space, or Enter on a typed card, untimed), then the "3" key event is
  handed to the driver and the clock stops at the first frame rendered with the next card on the
  screen. `pilot.press()` and `pilot.pause()` are not used inside the timed span: both wait for
  the process to go idle (`wait_for_idle` sleeps at least 20 ms per call, press does it twice),
  which would put a floor of ~40-60 ms under every sample. For comparison the same
  `await pilot.press("3"); await pilot.pause()` span is timed on 50 more cards
  (`pilot_press_pause_*`).

Nothing here asserts a time; the goals are printed beside the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from review import make_decks
from workload import card_texts, percentile

GOALS = {"first_frame_s": 1.0, "grade_to_next_ms": 30}
COLD_RUNS = 5

# The child of a cold start. argv: start mode. Env: PREPKIT_DB, PREPKIT_NOW, PREPKIT_KEYMAP.
CHILD = """
import json, os, sys, time
from prepkit import cli, clock
from prepkit.tui.app import PrepkitApp, keymap_path, known_binding_ids
from prepkit.tui.keymap import load_keymap
from prepkit.workspace import open_workspace

start = sys.argv[1]
marks = {}


# The app's _display, noting the first frame rendered with the start screen mounted. Patched on
# the instance: a subclass defined in `-c` code breaks Textual's CSS_PATH lookup.
def timed_display(app, display):

    def timed(screen, renderable):
        display(screen, renderable)
        if (
            "frame" not in marks
            and renderable is not None
            and not app._batch_count
            and screen is app.screen
            and screen.id == start
            and screen.is_mounted
        ):
            marks["frame"] = time.time()
            marks["screen"] = type(screen).__name__
            app.call_later(app.exit)

    return timed


async def auto_pilot(pilot):
    marks["ready"] = time.time()


with open_workspace(os.environ["PREPKIT_DB"], clock.now()) as ws:
    keymap = load_keymap(keymap_path(), known_binding_ids())
    app = PrepkitApp(ws, clock.now, start=start, keymap=keymap)
    app._display = timed_display(app, app._display)
    app.run(headless=True, auto_pilot=auto_pilot)
print(json.dumps(marks))
"""


def build_database(db: str, cards: int, seed: int, now: datetime) -> None:
    """N basic cards; every tenth a review card that fell due yesterday; no new cards a day."""
    from sqlalchemy import text

    from prepkit.config import Settings
    from prepkit.schedule.days import to_ms
    from prepkit.workspace import open_workspace, sync_library

    with open_workspace(db, now) as ws:
        sync_library(ws, make_decks(card_texts(cards, seed)), now)
        ws.save_settings(Settings(new_per_day=0, reviews_per_day=1_000_000))
        with ws.engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE card_state SET state = 2, stability = 5.0, difficulty = 5.0, "
                    "due = :due, last_review = :last, reps = 3 WHERE card_id % 10 = 0"
                ),
                {"due": to_ms(now - timedelta(days=1)), "last": to_ms(now - timedelta(days=6))},
            )


def cold_start(env: dict[str, str], start: str) -> tuple[float, float]:
    """(seconds to first frame, seconds to the auto_pilot's first run) of one fresh process."""
    spawned = time.time()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, start],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"cold start ({start}) failed (exit {done.returncode})")
    marks = json.loads(done.stdout.strip().splitlines()[-1])
    if "frame" not in marks:
        raise SystemExit(f"cold start ({start}): no frame with the {start} screen was rendered")
    return marks["frame"] - spawned, marks["ready"] - spawned


async def grade_latencies(db: str, now: datetime, cards: int, pilot_cards: int) -> dict[str, Any]:
    from textual import events

    from prepkit.tui.app import PrepkitApp
    from prepkit.tui.screens.study import StudyScreen
    from prepkit.workspace import open_workspace

    with open_workspace(db, now) as ws:
        app = PrepkitApp(ws, lambda: now, start="study")
        watch: dict[str, Any] = {"old": None, "at": None}
        painted = asyncio.Event()
        display = app._display

        def timed_display(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            if (
                watch["old"] is not None
                and watch["at"] is None
                and renderable is not None
                and not app._batch_count
                and isinstance(screen, StudyScreen)
                and screen.shown is not watch["old"]
            ):
                watch["at"] = time.perf_counter()
                painted.set()

        app._display = timed_display  # type: ignore[method-assign]
        grade_ms: list[float] = []
        pilot_ms: list[float] = []
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, StudyScreen), screen
            counts = app.session.counts()
            due = counts.review + counts.learning
            for n in range(cards + pilot_cards):
                if screen.shown is None:
                    break
                typed = screen.query_one("#typed")
                await pilot.press("enter" if typed.has_focus else "space")
                await pilot.pause()
                assert screen.revealed
                if n >= cards:  # the Pilot idiom, for comparison
                    started = time.perf_counter()
                    await pilot.press("3")
                    await pilot.pause()
                    pilot_ms.append((time.perf_counter() - started) * 1000)
                    continue
                watch["old"], watch["at"] = screen.shown, None
                painted.clear()
                key = events.Key("3", "3")
                key.set_sender(app)
                assert app._driver is not None
                started = time.perf_counter()
                app._driver.send_message(key)
                await asyncio.wait_for(painted.wait(), timeout=30)
                grade_ms.append((watch["at"] - started) * 1000)
                watch["old"] = None
            answered = app.session.answered
    return {"due": due, "answered": answered, "grade_ms": grade_ms, "pilot_ms": pilot_ms}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=100_000)
    parser.add_argument("--grades", type=int, default=200, help="cards graded and timed")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print JSON (the default output)")
    args = parser.parse_args(argv)

    from prepkit import clock

    now = clock.now()
    with tempfile.TemporaryDirectory(prefix="prepkit-bench-tui-") as folder:
        db = str(Path(folder) / "bench.db")
        started = time.perf_counter()
        build_database(db, args.cards, args.seed, now)
        build_s = time.perf_counter() - started
        env = {key: value for key, value in os.environ.items() if not key.startswith("TEXTUAL")}
        env.update(
            {
                "PREPKIT_DB": db,
                "PREPKIT_NOW": now.isoformat(),
                "PREPKIT_KEYMAP": str(Path(folder) / "no-keys.toml"),
                "PREPKIT_PROFILE": "default",
            }
        )
        cold: dict[str, list[tuple[float, float]]] = {}
        for start in ("study", "dashboard"):
            cold[start] = [cold_start(env, start) for _ in range(COLD_RUNS)]
        gc.collect()
        grading = asyncio.run(grade_latencies(db, now, args.grades, 50))

    def median(values: list[float], digits: int) -> float:
        return round(statistics.median(values), digits)

    grade_ms, pilot_ms = grading["grade_ms"], grading["pilot_ms"]
    result: dict[str, Any] = {
        "cards": args.cards,
        "due": grading["due"],
        "cold_start_study_s": median([frame for frame, _ in cold["study"]], 3),
        "cold_start_dashboard_s": median([frame for frame, _ in cold["dashboard"]], 3),
        "grade_to_next_median_ms": median(grade_ms, 2),
        "grade_to_next_p95_ms": round(percentile(grade_ms, 0.95), 2),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "goals": GOALS,
        "grades_timed": len(grade_ms),
        "cold_start_study_ready_s": median([ready for _, ready in cold["study"]], 3),
        "cold_start_dashboard_ready_s": median([ready for _, ready in cold["dashboard"]], 3),
        "grade_to_next_max_ms": round(max(grade_ms), 2),
        "pilot_press_pause_median_ms": median(pilot_ms, 2) if pilot_ms else None,
        "build_s": round(build_s, 1),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
