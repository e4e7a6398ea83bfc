"""Benchmark: importing and exporting Anki packages, prepkit beside Anki's own backend.

    python benchmarks/interop.py --json [--notes 20000] [--reviews 5]

A package of N notes, each with R answers in its review log (a Legacy 1 package built by
prepkit's writer from synthetic cards: Good/Again/Hard/Easy in a fixed pattern a day or more
apart), is imported three ways, each into a fresh store, one after another in this process:

- prepkit: `prepkit.importing.import_cards` into a new SQLite database: the whole file checked,
  the notes inserted and every answer replayed through FSRS, in one transaction (the backup of
  an empty database is part of it);
- anki: `Collection.import_anki_package` with scheduling into a new collection;
- prepkit export: `prepkit export --format apkg --with-history` of what was imported.

It prints the seconds of each, the ratio prepkit/Anki for the import (DESIGN.md's goal for an
import is at most 0.3x Anki's 100,000-card library load; this is the same shape of work), the
answers replayed per second, and the peak memory of the process (psutil, sampled). The numbers
depend on the machine; run both sides in the same run to compare.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prepkit.export.apkg import PackageCard, PackageReview, build_package

DAY_MS = 86_400_000
START_MS = int(datetime(2026, 1, 5, 9, tzinfo=UTC).timestamp() * 1000)
PATTERN = (3, 3, 1, 3, 2, 4, 3)


def synthetic(notes: int, reviews: int) -> list[PackageCard]:
    cards = []
    for i in range(notes):
        history = tuple(
            PackageReview(
                at_ms=START_MS + i * 7 + k * (k + 1) * DAY_MS,
                rating=PATTERN[(i + k) % len(PATTERN)],
                duration_ms=8000,
                state_before=0 if k == 0 else 2,
                interval_ms=(k + 1) * DAY_MS,
                last_interval_ms=k * DAY_MS if k else None,
                difficulty=5.0,
            )
            for k in range(reviews)
        )
        cards.append(
            PackageCard(
                key=f"bench-{i:06d}",
                deck=f"Bench::Topic {i % 20:02d}",
                front=f"Question {i}: what does operator {i % 97} compute on a {i % 13}-D tensor?",
                back=f"Answer {i}: a reduction over axis {i % 5}, with keepdim={i % 2 == 0}.",
                source="synthetic benchmark card",
                tags=(f"t{i % 7}",),
                cloze=False,
                modified_ms=START_MS,
                state=2,
                stability=10.0,
                difficulty=5.0,
                due_ms=START_MS + 400 * DAY_MS,
                last_review_ms=START_MS + 300 * DAY_MS,
                reps=reviews,
                reviews=history,
            )
        )
    return cards


class PeakMemory:
    """The largest resident set size seen while it runs (sampled every 20 ms)."""

    def __init__(self) -> None:
        import psutil

        self.process = psutil.Process()
        self.peak = self.process.memory_info().rss
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.02)

    def stop(self) -> int:
        self.running = False
        self.thread.join()
        return self.peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notes", type=int, default=20_000)
    parser.add_argument("--reviews", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="prepkit-interop-"))
    out: dict[str, Any] = {"notes": args.notes, "answers": args.notes * args.reviews}
    memory = PeakMemory()

    began = time.perf_counter()
    package = folder / "bench.apkg"
    package.write_bytes(build_package(synthetic(args.notes, args.reviews), START_MS, True, 0.9))
    out["build_package_s"] = round(time.perf_counter() - began, 2)
    out["package_mb"] = round(package.stat().st_size / 1e6, 1)

    from prepkit.importing import import_cards
    from prepkit.workspace import open_workspace

    now = datetime(2027, 6, 1, tzinfo=UTC)
    with open_workspace(str(folder / "prepkit.db"), now) as ws:
        began = time.perf_counter()
        result = import_cards(ws, package, now)
        out["prepkit_import_s"] = round(time.perf_counter() - began, 2)
        assert result.new == args.notes and result.reviews == args.notes * args.reviews
        out["answers_replayed_per_s"] = round(result.reviews / out["prepkit_import_s"])

        from prepkit.export.apkg import build_package as build
        from prepkit.exports import package_cards

        began = time.perf_counter()
        exported = build(package_cards(ws, None, True), int(now.timestamp() * 1000), True, 0.9)
        out["prepkit_export_s"] = round(time.perf_counter() - began, 2)
        out["export_mb"] = round(len(exported) / 1e6, 1)
    out["prepkit_peak_mb"] = round(memory.stop() / 1e6)

    try:
        from anki.collection import (
            Collection,
            ImportAnkiPackageOptions,
            ImportAnkiPackageRequest,
        )
    except ImportError:
        out["anki_import_s"] = None
    else:
        (folder / "anki").mkdir()
        col = Collection(str(folder / "anki" / "collection.anki2"))
        began = time.perf_counter()
        log = col.import_anki_package(
            ImportAnkiPackageRequest(
                package_path=str(package),
                options=ImportAnkiPackageOptions(with_scheduling=True),
            )
        ).log
        out["anki_import_s"] = round(time.perf_counter() - began, 2)
        assert len(log.new) == args.notes
        col.close()
        out["import_vs_anki"] = round(out["prepkit_import_s"] / out["anki_import_s"], 2)
    print(json.dumps(out, indent=2 if not args.json else None))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
