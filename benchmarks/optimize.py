"""Benchmark: `prepkit optimize` on the real public review log, defaults against a personal fit.

    python benchmarks/optimize.py --json [--log PATH] [--cards N]

The log is py-fsrs's test data (shared/data/review-logs/py-fsrs-josh-2024.csv: 12,580 reviews of
1,205 cards, provenance beside it). The reviews are split in two by count, in time order; FSRS-6
is fitted by fsrs-rs-python on the first half, and the defaults and the fit are scored on the
later half's reviews that come a day or more after the card's previous one, each predicted from
the card's full history (prepkit/schedule/optimize.py says exactly what is measured). It prints:

- whole_days: what `prepkit optimize` does (elapsed days as 24-hour periods, as py-fsrs and
  prepkit's scheduler count them): log loss and RMSE(bins) of both, the relative change, the
  verdict, and the same items scored by fsrs-rs's own `evaluate` as a cross-check;
- study_days_utc_4am: the same with Anki's convention (calendar days from 4 am, UTC here: the
  log carries no zone), which the planning notes' fitted figure seems to have used;
- the planning notes' reference points (0.4399 defaults, 0.4346 fitted) and the timings: one
  fit, and the whole `optimize` (check, two fits, two replays).

--cards N keeps the first N cards the learner met, to see how the verdict behaves on a short
history.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import fsrs_rs_python as rs
from fsrs.scheduler import DEFAULT_PARAMETERS

from prepkit.schedule import optimize as o
from prepkit.schedule.days import to_ms

LOG = Path(__file__).resolve().parents[1].parent / "shared/data/review-logs/py-fsrs-josh-2024.csv"
REFERENCE = {"defaults_log_loss": 0.4399, "fitted_log_loss": 0.4346}


def read_log(path: Path, cards: int | None) -> list[o.Answer]:
    with path.open(newline="") as handle:
        answers = [
            o.Answer(
                r["card_id"],
                to_ms(datetime.fromisoformat(r["review_time"])),
                int(r["review_rating"]),
            )
            for r in csv.DictReader(handle)
        ]
    if cards is None:
        return answers
    keep = set(list(dict.fromkeys(a.card for a in o.in_order(answers)))[:cards])
    return [a for a in answers if a.card in keep]


def metrics(m: o.Metrics) -> dict[str, float]:
    return {"log_loss": round(m.log_loss, 4), "rmse_bins": round(m.rmse_bins, 4)}


def fsrs_rs(parameters: Sequence[float], scored: Sequence[o.Case]) -> dict[str, float]:
    items = [rs.FSRSItem([rs.FSRSReview(r, d) for r, d in c.history]) for c in scored]
    found = rs.FSRS(list(parameters)).evaluate(items)
    return {"log_loss": round(found.log_loss, 4), "rmse_bins": round(found.rmse_bins, 4)}


def convention(answers: Sequence[o.Answer], elapsed: o.Elapsed) -> dict[str, Any]:
    started = time.perf_counter()
    result = o.optimize(answers, elapsed)
    whole = time.perf_counter() - started
    started = time.perf_counter()
    o.fit(answers, elapsed, before_ms=result.split_ms)
    fit_seconds = time.perf_counter() - started
    scored = o.held_out(answers, elapsed)
    return {
        "scored_reviews": result.default.reviews,
        "defaults": metrics(result.default),
        "fitted": metrics(result.fitted),
        "change": {
            "log_loss": round(
                o.relative_change(result.default.log_loss, result.fitted.log_loss), 4
            ),
            "rmse_bins": round(
                o.relative_change(result.default.rmse_bins, result.fitted.rmse_bins), 4
            ),
        },
        "adopted": result.adopted,
        "fsrs_rs_evaluate": {
            "defaults": fsrs_rs(DEFAULT_PARAMETERS, scored),
            "fitted": fsrs_rs(result.fitted_parameters, scored),
        },
        "fit_seconds": round(fit_seconds, 3),
        "optimize_seconds": round(whole, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print JSON (the only output)")
    parser.add_argument(
        "--log", type=Path, default=LOG, help="a review log in the py-fsrs CSV form"
    )
    parser.add_argument("--cards", type=int, default=None, help="only the first N cards met")
    args = parser.parse_args(argv)
    if not args.log.exists():
        parser.error(f"{args.log}: no such file (the shared data folder is beside the repository)")
    answers = read_log(args.log, args.cards)
    report = {
        "log": args.log.name,
        "reviews": len(answers),
        "cards": len({a.card for a in answers}),
        "split": "first half of the reviews by count, in time order; scored: later half, >= 1 day",
        "whole_days": convention(answers, o.whole_days),
        "study_days_utc_4am": convention(answers, o.study_days(ZoneInfo("UTC"), 4)),
        "reference": REFERENCE,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    for name in ("whole_days", "study_days_utc_4am"):
        part = report[name]
        print(
            f"{name}: defaults {part['defaults']}, fitted {part['fitted']}, "
            f"change {part['change']}, adopted {part['adopted']}, fit {part['fit_seconds']} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
