"""`prepkit optimize`: personal FSRS-6 parameters, judged on the later half of the learner's own
history, on the real public review log in shared/data/review-logs and on small databases."""

from __future__ import annotations

import csv
import json
import math
import time
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

import fsrs
import fsrs_rs_python as rs
import pytest
from sqlalchemy import insert

from prepkit.config import Settings
from prepkit.errors import PrepkitError
from prepkit.optimizing import optimize as optimize_service
from prepkit.schedule import optimize as o
from prepkit.schedule.days import to_ms
from prepkit.schedule.review import Rating
from prepkit.store import models as m
from prepkit.study import StudySession
from prepkit.workspace import Workspace, open_workspace

from .conftest import NOW

# Located from the repository root (the worktree's parent holds `shared`), not the working dir.
LOG = Path(__file__).resolve().parents[1].parent / "shared/data/review-logs/py-fsrs-josh-2024.csv"
needs_log = pytest.mark.skipif(
    not LOG.exists(), reason=f"the public review log is not here ({LOG}): ../shared is absent"
)

# Measured while planning (shared/reference/srs.md, section 7): FSRS-6 defaults 0.4399 on the
# later half, a per-user fit on the first half 0.4346.
REFERENCE_DEFAULTS = 0.4399
REFERENCE_FITTED = 0.4346


@cache
def real_log() -> tuple[o.Answer, ...]:
    with LOG.open(newline="") as handle:
        return tuple(
            o.Answer(
                row["card_id"],
                to_ms(datetime.fromisoformat(row["review_time"])),
                int(row["review_rating"]),
            )
            for row in csv.DictReader(handle)
        )


def first_cards(count: int) -> list[o.Answer]:
    """The answers on the first `count` cards the learner met: a smaller, still real, history."""
    answers = real_log()
    order = list(dict.fromkeys(a.card for a in o.in_order(answers)))
    keep = set(order[:count])
    return [a for a in answers if a.card in keep]


# -- on the real log ---------------------------------------------------------------------------


@needs_log
def test_fitted_parameters_beat_the_defaults_on_the_later_half_of_the_real_log() -> None:
    answers = real_log()
    assert len(answers) == 12_580 and len({a.card for a in answers}) == 1_205
    started = time.perf_counter()
    result = o.optimize(answers)
    assert time.perf_counter() - started < 20  # two fits and two replays: ~0.3 s here
    # The scored set is the log's "at least one whole day later" reviews in the later half.
    assert result.default.reviews == result.fitted.reviews == 3_181
    # The defaults' figure is the planning measurement, reproduced (same split, same 24-hour
    # elapsed days, py-fsrs arithmetic): 0.43994. The tolerance only absorbs float summation
    # order; a change of convention (study days from 4 am UTC give 0.4388) would fail it.
    assert result.default.log_loss == pytest.approx(REFERENCE_DEFAULTS, abs=0.0005)
    # The planning notes do not say how their fit was made; fsrs-rs (seeded, deterministic) on
    # the first half gives 0.4364 here and 0.4344 with study days from 4 am UTC. The tolerance
    # spans that choice of convention, and nothing more.
    assert result.fitted.log_loss == pytest.approx(REFERENCE_FITTED, abs=0.0025)
    assert result.fitted.log_loss < result.default.log_loss
    assert result.fitted.rmse_bins < result.default.rmse_bins
    assert result.adopted and result.parameters is not None
    assert len(result.parameters) == 21 and result.parameters != result.fitted_parameters
    fsrs.Scheduler(parameters=result.parameters)  # within py-fsrs's bounds, or this raises


@needs_log
def test_our_metrics_agree_with_fsrs_rs_evaluate_on_the_same_reviews() -> None:
    """The replay is py-fsrs's float64 arithmetic, fsrs-rs evaluates in float32 with its own
    clipping and bins: the two must tell the same story to within a few thousandths."""
    answers = real_log()
    scored = o.held_out(answers)
    items = [rs.FSRSItem([rs.FSRSReview(r, d) for r, d in c.history]) for c in scored]
    for parameters in (
        fsrs.scheduler.DEFAULT_PARAMETERS,
        o.fit(answers, before_ms=o.split_ms(answers)),
    ):
        ours = o.measure(parameters, scored)
        theirs = rs.FSRS(list(parameters)).evaluate(items)
        assert ours.log_loss == pytest.approx(theirs.log_loss, abs=0.003)
        assert ours.rmse_bins == pytest.approx(theirs.rmse_bins, abs=0.003)


@needs_log
def test_a_fit_that_loses_on_the_later_half_is_not_adopted() -> None:
    """The first 50 cards' history is too thin: the fit on its first half predicts the second
    worse than the defaults, and the verdict says so."""
    result = o.optimize(first_cards(50))
    assert result.fitted.log_loss > result.default.log_loss
    assert not result.adopted and result.parameters is None


# -- the verdict -------------------------------------------------------------------------------


def test_decide_adopts_only_a_lower_log_loss_without_worse_calibration() -> None:
    default = o.Metrics(0.44, 0.067, 3000)
    assert o.decide(default, o.Metrics(0.436, 0.050, 3000))
    assert not o.decide(default, o.Metrics(0.44, 0.050, 3000))  # a tie keeps the defaults
    assert not o.decide(default, o.Metrics(0.46, 0.030, 3000))
    assert o.decide(default, o.Metrics(0.439, 0.067 + o.RMSE_MARGIN, 3000))
    assert not o.decide(default, o.Metrics(0.439, 0.067 + 2 * o.RMSE_MARGIN, 3000))
    assert not o.decide(default, o.Metrics(math.nan, math.nan, 0))


@needs_log
def test_deliberately_bad_parameters_lose_to_the_defaults() -> None:
    """Stabilities a hundred times too long predict near-certain recall for everything."""
    answers = real_log()
    bad = list(fsrs.scheduler.DEFAULT_PARAMETERS)
    bad[0:4] = [100.0] * 4
    bad_metrics = o.evaluate(bad, answers)
    default = o.evaluate(fsrs.scheduler.DEFAULT_PARAMETERS, answers)
    assert bad_metrics.log_loss > default.log_loss
    assert not o.decide(default, bad_metrics)


def test_too_few_reviews_are_refused_before_any_fit() -> None:
    few = [o.Answer(str(i % 10), i * o.DAY_MS, 3) for i in range(60)]
    with pytest.raises(o.NotEnoughReviews, match=r"60 reviews: .* at least 100"):
        o.optimize(few)
    same_day = [o.Answer(str(i % 40), i * 60_000, 3) for i in range(400)]  # all within hours
    with pytest.raises(o.NotEnoughReviews, match="a day or more after"):
        o.optimize(same_day)


def test_items_count_whole_days_and_start_each_card_at_zero() -> None:
    hour = 3_600_000
    answers = [
        o.Answer("a", 0, 1),
        o.Answer("a", 10 * 60_000, 3),  # ten minutes later: a learning step, 0 days
        o.Answer("a", 47 * hour, 3),  # 47 hours after the first: 1 whole day
        o.Answer("b", 5 * hour, 3),
    ]
    [step, review] = o.cases(answers)
    assert step.history == ((1, 0), (3, 0))
    assert review.history == ((1, 0), (3, 0), (3, 1))
    # Study days from 4 am UTC: 00:00 and 23:00 the next day are two study days apart.
    from zoneinfo import ZoneInfo

    elapsed = o.study_days(ZoneInfo("UTC"), 4)
    assert elapsed(0, 47 * hour) == 2 and o.whole_days(0, 47 * hour) == 1


def test_settings_keep_21_finite_floats_and_refuse_anything_else() -> None:
    values = [float(x) for x in fsrs.scheduler.DEFAULT_PARAMETERS]
    stored = Settings().with_values({"fsrs_parameters": values})  # JSON gives lists back
    assert stored.fsrs_parameters == tuple(values)
    for bad in (values[:20], [*values[:20], math.inf], [*values[:20], "x"], "0.2,1.3"):
        with pytest.raises(PrepkitError, match="fsrs_parameters"):
            Settings().with_values({"fsrs_parameters": bad})


# -- the service and the command on a database -------------------------------------------------


def load_answers(ws: Workspace, answers: list[o.Answer]) -> None:
    """The answers as reviews of cards in a deck of their own. The cards get no study state, so
    they stay out of the study queue; only the optimizer reads them."""
    cards = list(dict.fromkeys(a.card for a in answers))
    ids = {card: 10_000 + i for i, card in enumerate(cards)}
    with ws.engine.begin() as conn:
        conn.execute(insert(m.Deck), [{"id": "log", "title": "Log", "updated_at": 0}])
        conn.execute(
            insert(m.Card),
            [
                {
                    "id": ids[card],
                    "key": f"log-{card}",
                    "deck_id": "log",
                    "position": i,
                    "kind": "basic",
                    "front": card,
                    "back": "",
                    "source": "py-fsrs review log",
                    "tags": "[]",
                    "payload": "{}",
                    "content_hash": card,
                    "created_at": 0,
                    "updated_at": 0,
                }
                for i, card in enumerate(cards)
            ],
        )
        conn.execute(
            insert(m.Review),
            [
                {
                    "learner_id": ws.learner_id,
                    "card_id": ids[a.card],
                    "reviewed_at": a.at_ms,
                    "rating": a.rating,
                    "state_before": 2,
                    "state_after": 2,
                }
                for a in answers
            ],
        )


def test_too_few_reviews_is_one_line_and_exit_1_with_settings_unchanged(cli, tmp_path) -> None:
    db = str(tmp_path / "cli.db")
    with open_workspace(db, NOW) as ws:
        load_answers(ws, [o.Answer(str(i % 5), i * o.DAY_MS, 3) for i in range(30)])
        before = ws.settings()
    result = cli("optimize")
    assert result.code == 1 and result.out == ""
    assert result.err.count("\n") == 1 and "30 reviews" in result.err
    with open_workspace(db, NOW) as ws:
        assert ws.settings() == before


@needs_log
def test_adopted_parameters_are_saved_and_schedule_the_next_answer(workspace) -> None:
    answers = first_cards(200)  # a history on which the fit wins (0.411 against 0.429)
    load_answers(workspace, answers)
    result = optimize_service(workspace)
    assert result.adopted and result.parameters is not None
    parameters = workspace.settings().fsrs_parameters
    assert parameters == result.parameters
    # A new card answered Easy graduates at once with an interval from w3 (its initial
    # stability): ~8 days with the defaults, the fsrs package's own figure with these.
    with StudySession(workspace, NOW) as session:
        shown = session.next(NOW)
        assert shown is not None
        answered = session.answer(Rating.EASY, NOW)
    expected, _ = fsrs.Scheduler(parameters=parameters, enable_fuzzing=False).review_card(
        fsrs.Card(card_id=1, due=NOW), fsrs.Rating.Easy, NOW
    )
    default, _ = fsrs.Scheduler(enable_fuzzing=False).review_card(
        fsrs.Card(card_id=1, due=NOW), fsrs.Rating.Easy, NOW
    )
    assert expected.due - NOW < timedelta(days=2.5)  # below the fuzz threshold: exact
    assert answered.outcome.interval == expected.due - NOW
    assert default.due - NOW >= timedelta(days=7)


@needs_log
def test_the_command_reports_saves_and_dry_runs(cli, tmp_path) -> None:
    db = str(tmp_path / "cli.db")
    with open_workspace(db, NOW) as ws:
        load_answers(ws, first_cards(200))
    dry = cli("optimize", "--dry-run", "--json")
    assert dry.code == 0, dry.err
    summary = json.loads(dry.out)  # stdout is the JSON and nothing else
    assert summary["adopted"] is True and summary["saved"] is False
    assert summary["fitted"]["log_loss"] < summary["defaults"]["log_loss"]
    assert "nothing saved" in dry.err
    with open_workspace(db, NOW) as ws:
        assert ws.settings().fsrs_parameters is None

    done = cli("optimize")
    assert done.code == 0, done.err
    assert "defaults" in done.out and "fitted" in done.out and "adopted" in done.out
    with open_workspace(db, NOW) as ws:
        saved = ws.settings().fsrs_parameters
    assert saved is not None and list(saved) == summary["parameters"]

    reset = cli("optimize", "--reset")
    assert reset.code == 0 and "default" in reset.out
    with open_workspace(db, NOW) as ws:
        assert ws.settings().fsrs_parameters is None


@needs_log
def test_a_fit_that_is_not_better_leaves_the_settings_alone(cli, tmp_path) -> None:
    db = str(tmp_path / "cli.db")
    with open_workspace(db, NOW) as ws:
        load_answers(ws, first_cards(50))
    result = cli("optimize")
    assert result.code == 0, result.err
    assert "kept the defaults (fitted parameters were not better)" in result.out
    with open_workspace(db, NOW) as ws:
        assert ws.settings().fsrs_parameters is None
