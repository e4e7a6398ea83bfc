"""Progress: day counts, streaks, forecast, retention, intervals, readiness and qualifications.

Histories are made the way a learner makes them, by answering cards in a StudySession at fixed
instants (FSRS without fuzz, so a first Easy is exactly 8 days), and every expected number below
is worked out from those answers by hand.
"""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from prepkit.deck.load import load_paths
from prepkit.posting.generate import generate
from prepkit.progress import (
    forecast,
    interval_distribution,
    load_taxonomy,
    qualifications,
    readiness,
    retention_by_topic,
    review_days,
    streak,
)
from prepkit.schedule.days import from_ms, to_ms
from prepkit.schedule.metrics import (
    DAY_MS,
    INTERVAL_BUCKETS,
    ForgettingCurve,
    bucket_ms,
    day_starts,
    interval_bucket,
    streaks,
    study_date,
)
from prepkit.schedule.review import CardState, Rating, Reviewer, State
from prepkit.study import StudySession
from prepkit.workspace import Workspace, add_posting, sync_library

from .conftest import LIBRARY, NOW, SMALL_DECK

E, G, H, A = Rating.EASY, Rating.GOOD, Rating.HARD, Rating.AGAIN
OTHER_DECK = (
    "deck: other\ntitle: Other deck\ncards:\n  - id: o-1\n    kind: basic\n    front: f\n"
    "    back: b\n    source: s\n    tags: [t]\n"
)
EXAMPLE_POSTING = LIBRARY / "postings" / "example-ml-systems.txt"


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def configure(workspace: Workspace, **values: object) -> None:
    workspace.save_settings(replace(workspace.settings(), **values))


@pytest.fixture
def ws(workspace: Workspace) -> Workspace:
    """The small deck in UTC with a 4 am day start, whatever TZ the test machine has."""
    configure(workspace, timezone="UTC", day_start_hour=4)
    return workspace


def study(workspace: Workspace, when: datetime, ratings: dict[str, Rating], ms: int = 30_000):
    """Answer exactly the cards named in `ratings` (each must come up), in queue order."""
    done = {}
    with StudySession(workspace, when, reviewer=Reviewer(fuzz=False)) as session:
        while len(done) < len(ratings):
            shown = session.next(when)
            assert shown is not None, f"{sorted(set(ratings) - set(done))} never came up"
            key = shown.card.id
            assert key in ratings and key not in done, f"{key} came up unexpectedly"
            done[key] = session.answer(ratings[key], when, ms).outcome
    return done


def answer_next(workspace: Workspace, when: datetime, rating: Rating, ms: int = 30_000) -> str:
    """Answer whatever card comes first, as a learner doing one card would."""
    with StudySession(workspace, when, reviewer=Reviewer(fuzz=False)) as session:
        shown = session.next(when)
        assert shown is not None
        session.answer(rating, when, ms)
        return shown.card.id


def sql(workspace: Workspace, statement: str, **params: object) -> None:
    with workspace.engine.begin() as conn:
        conn.execute(text(statement), params)


def add_other_deck(workspace: Workspace, deck_dir: Path) -> None:
    (deck_dir / "other.yaml").write_text(OTHER_DECK)
    sync_library(workspace, load_paths([deck_dir]), NOW)


# -- review days, streak ---------------------------------------------------------------------


def test_review_days_counts_reviews_passes_and_minutes_per_study_day(ws: Workspace) -> None:
    study(ws, at(25, 10), {"s-basic": E, "s-numeric": A}, ms=30_000)
    study(ws, at(25, 10), {"s-cloze": G}, ms=35_000)  # new before the learning card
    answer_next(ws, at(27, 3, 30), A, ms=12_000)  # 03:30 before the 4 am start: still the 26th
    answer_next(ws, at(27, 11), G, ms=6_000)
    answer_next(ws, at(27, 13), G)  # after `now`: not history yet

    result = review_days(ws, NOW, days=4)

    assert [d.date for d in result.days] == [date(2026, 11, d) for d in (24, 25, 26, 27)]
    assert [(d.reviews, d.passed) for d in result.days] == [(0, 0), (3, 2), (1, 0), (1, 1)]
    assert [d.duration_ms for d in result.days] == [0, 95_000, 12_000, 6_000]
    assert result.days[1].minutes == pytest.approx(95 / 60)
    assert (result.reviews, result.studied_days) == (5, 3)
    assert len(review_days(ws, NOW).days) == 365  # a year, zero days included
    payload = json.loads(json.dumps(result.to_json()))
    assert payload["days"][1] == {"date": "2026-11-25", "reviews": 3, "passed": 2, "minutes": 1.58}


def test_a_review_at_3am_local_counts_for_the_previous_day_in_the_learners_zone(
    ws: Workspace,
) -> None:
    configure(ws, timezone="America/New_York", day_start_hour=4)  # UTC-5 in November
    answer_next(ws, at(26, 3), G)  # 22:00 on the 25th in New York
    answer_next(ws, at(27, 8), G)  # 03:00 local: still the 26th
    answer_next(ws, at(27, 9, 30), G)  # 04:30 local: the 27th has begun

    days = review_days(ws, NOW, days=3).days  # NOW is 07:00 in New York on the 27th

    assert [(d.date.day, d.reviews) for d in days] == [(25, 1), (26, 1), (27, 1)]
    configure(ws, timezone="America/New_York", day_start_hour=0)  # midnight days instead
    assert [d.reviews for d in review_days(ws, NOW, days=3).days] == [1, 0, 2]


def test_half_hour_zones_split_days_on_the_half_hour(ws: Workspace) -> None:
    # Kolkata is UTC+5:30, so a 4 am day start is 22:30 UTC: history grouped by the hour would
    # put these two answers, twenty minutes apart, in the same day.
    configure(ws, timezone="Asia/Kolkata", day_start_hour=4)
    answer_next(ws, at(26, 22, 20), G)  # 03:50 on the 27th in Kolkata: the 26th
    answer_next(ws, at(26, 22, 40), G)  # 04:10: the 27th

    days = review_days(ws, NOW, days=2).days

    assert [(d.date.day, d.reviews) for d in days] == [(26, 1), (27, 1)]


def test_streak_runs_to_today_or_to_yesterday_while_today_is_still_open(ws: Workspace) -> None:
    assert streak(ws, NOW).current == 0 and streak(ws, NOW).last_studied is None
    for when in (at(20, 10), at(22, 10), at(23, 10), at(24, 10), at(27, 2, 30)):
        answer_next(ws, when, A)  # the 27th at 02:30 is still the 26th's evening

    morning = streak(ws, NOW)

    assert (morning.current, morning.longest, morning.studied_today) == (1, 3, False)
    assert morning.last_studied == date(2026, 11, 26)
    answer_next(ws, at(27, 11), A)
    evening = streak(ws, NOW)
    assert (evening.current, evening.longest, evening.studied_today) == (2, 3, True)
    assert streak(ws, at(29, 12)).current == 0  # a whole day missed breaks it
    assert evening.to_json()["last_studied"] == "2026-11-27"


# -- forecast --------------------------------------------------------------------------------


def test_forecast_counts_due_cards_per_day_with_bury_suspend_and_retire(
    ws: Workspace, deck_dir: Path
) -> None:
    outcomes = study(
        ws, at(27, 10), {"s-basic": E, "s-numeric": E, "s-cloze": G, "s-choice": A, "s-prompt": E}
    )
    assert {k for k, o in outcomes.items() if o.after.due == at(5, 10, month=12)} == {
        "s-basic",
        "s-numeric",
        "s-prompt",
    }  # a first Easy is 8 days out; Good and Again stay in learning today

    first = forecast(ws, NOW, days=10)

    assert len(first.days) == 10 and first.days[0].date == date(2026, 11, 27)
    assert [(d.learning, d.review) for d in first.days if d.due] == [(2, 0), (0, 3)]
    assert first.days[8].date == date(2026, 12, 5) and first.days[8].review == 3
    assert first.overdue == 0

    with StudySession(ws, NOW, reviewer=Reviewer(fuzz=False)) as session:
        assert session.next(NOW) is not None
        session.bury(NOW)  # back tomorrow
    sql(ws, "UPDATE card_state SET suspended = 1 WHERE card_id = "
            "(SELECT id FROM card WHERE key = 's-numeric')")  # fmt: skip
    (deck_dir / "small.yaml").write_text(SMALL_DECK.split("  - id: s-prompt")[0])
    sync_library(ws, load_paths([deck_dir]), NOW)  # s-prompt retires

    second = forecast(ws, NOW, days=10)

    assert [d.due for d in second.days] == [1, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    later = forecast(ws, at(7, 12, month=12), days=3)  # everything due earlier is overdue now
    assert [d.due for d in later.days] == [3, 0, 0] and later.overdue == 3
    assert later.to_json()["days"][0] == {
        "date": "2026-12-07",
        "due": 3,
        "learning": 2,
        "review": 1,
    }


# -- retention -------------------------------------------------------------------------------


def test_true_retention_counts_only_answers_to_review_cards(ws: Workspace, deck_dir: Path) -> None:
    study(
        ws, at(10, 10), {"s-basic": E, "s-numeric": E, "s-cloze": E, "s-choice": E, "s-prompt": A}
    )
    # The four Easy cards are due on the 18th; the prompt card is still learning.
    study(
        ws, at(18, 10), {"s-prompt": A, "s-basic": G, "s-numeric": A, "s-cloze": G, "s-choice": H}
    )
    add_other_deck(ws, deck_dir)  # a deck added later, never reviewed

    whole = retention_by_topic(ws, NOW, days=None)

    small = next(t for t in whole.topics if t.id == "small")
    other = next(t for t in whole.topics if t.id == "other")
    assert (small.title, small.reviews, small.passed, small.retention) == (
        "Small test deck", 4, 3, 0.75,
    )  # fmt: skip
    assert (other.reviews, other.retention) == (0, None)  # never reviewed: unknown, not 0%
    assert (whole.reviews, whole.passed, whole.retention, whole.since) == (4, 3, 0.75, None)
    assert retention_by_topic(ws, NOW, days=10).since == date(2026, 11, 18)
    assert retention_by_topic(ws, NOW, days=10).reviews == 4  # the 18th is the 10th day back
    assert retention_by_topic(ws, NOW, days=9).retention is None  # the window starts the 19th
    assert json.dumps(whole.to_json())


# -- intervals -------------------------------------------------------------------------------


def test_interval_buckets_have_the_documented_edges() -> None:
    labels = [label for label, _ in INTERVAL_BUCKETS]
    cases = {
        0.3: "1d", 1: "1d", 1.99: "1d", 2: "2d", 3: "3-6d", 6.9: "3-6d", 7: "1-2w",
        13.5: "1-2w", 14: "2-4w", 29: "2-4w", 30: "1-3mo", 89: "1-3mo", 90: "3-6mo",
        179: "3-6mo", 180: "6mo+", 3650: "6mo+",
    }  # fmt: skip
    assert {days: labels[interval_bucket(days)] for days in cases} == cases


def test_interval_distribution_of_studied_review_cards(ws: Workspace, deck_dir: Path) -> None:
    study(
        ws, at(27, 10), {"s-basic": E, "s-numeric": E, "s-cloze": E, "s-choice": G, "s-prompt": E}
    )

    counted = interval_distribution(ws, NOW)

    assert [(b.label, b.cards) for b in counted.buckets if b.cards] == [("1-2w", 4)]
    assert (counted.cards, counted.mean_days) == (4, 8.0)  # the learning card has no interval
    # Intervals set by hand at each bucket's edges (the SQL and the Python edges agree).
    for key, days in (("s-basic", 1.5), ("s-numeric", 29.9), ("s-cloze", 30), ("s-prompt", 200)):
        sql(
            ws,
            "UPDATE card_state SET due = last_review + :ms WHERE card_id = "
            "(SELECT id FROM card WHERE key = :key)",
            ms=round(days * DAY_MS),
            key=key,
        )
    edges = interval_distribution(ws, NOW)
    assert {b.label: b.cards for b in edges.buckets if b.cards} == {
        "1d": 1, "2-4w": 1, "1-3mo": 1, "6mo+": 1,
    }  # fmt: skip
    assert edges.mean_days == pytest.approx((1.5 + 29.9 + 30 + 200) / 4)
    sql(ws, "UPDATE card_state SET suspended = 1 WHERE card_id = "
            "(SELECT id FROM card WHERE key = 's-prompt')")  # fmt: skip
    assert interval_distribution(ws, NOW).cards == 3
    assert [b["max_days"] for b in edges.to_json()["buckets"]][-2:] == [180, None]


# -- readiness -------------------------------------------------------------------------------


def test_a_never_studied_deck_is_not_ready_at_all(ws: Workspace) -> None:
    ready = readiness(ws, NOW)

    assert [(t.id, t.cards, t.introduced, t.readiness) for t in ready.topics] == [
        ("small", 5, 0, 0.0)
    ]
    assert (ready.overall, ready.weighted, ready.mean) == (0.0, False, 0.0)


def test_readiness_is_recall_now_and_fades_by_the_interview(ws: Workspace) -> None:
    study(ws, at(27, 11), {"s-basic": E})

    now = readiness(ws, NOW)
    topic = now.topic("small")
    assert topic is not None and (topic.cards, topic.introduced) == (5, 1)
    assert topic.readiness == pytest.approx(1 / 5)  # just reviewed: recalled; 4 new: not
    # FSRS stability is the time until recall falls to 90%: a first Easy is S = 8.3 days.
    eight_days = readiness(ws, NOW, at=NOW + timedelta(days=8)).topic("small")
    assert eight_days is not None and eight_days.readiness == pytest.approx(0.9 / 5, abs=0.002)
    month = readiness(ws, NOW, at=NOW + timedelta(days=30))
    assert month.at == NOW + timedelta(days=30)
    assert month.overall is not None and month.overall < eight_days.readiness


def test_overall_readiness_weighs_topics_by_what_the_postings_ask(
    ws: Workspace, deck_dir: Path
) -> None:
    add_other_deck(ws, deck_dir)
    study(ws, at(27, 11), {"s-basic": E, "o-1": E})
    sql(
        ws,
        "INSERT INTO posting (id, learner_id, title, source, text, digest, created_at) "
        "VALUES (1, :learner, 't', 's', 'x', 'd', 0)",
        learner=ws.learner_id,
    )
    for topic, weight in (("small", 3.0), ("other", 1.0), ("no-deck-yet", 2.0)):
        sql(
            ws,
            "INSERT INTO posting_topic (posting_id, topic_id, weight, evidence) "
            "VALUES (1, :topic, :weight, '[]')",
            topic=topic,
            weight=weight,
        )

    ready = readiness(ws, NOW)

    assert [(t.id, t.weight, t.readiness) for t in ready.topics] == [
        ("small", 3.0, pytest.approx(0.2)),
        ("no-deck-yet", 2.0, None),  # asked for, nothing to study: listed, not averaged
        ("other", 1.0, 1.0),
    ]
    assert ready.weighted and ready.overall == pytest.approx((3 * 0.2 + 1 * 1.0) / 4)
    assert ready.mean == pytest.approx(2 / 6)  # every card the same, postings aside
    assert json.loads(json.dumps(ready.to_json()))["overall"] == pytest.approx(0.4)


def test_retired_cards_leave_readiness_and_suspended_ones_stay(ws: Workspace, deck_dir) -> None:
    study(ws, at(27, 11), {"s-basic": E})
    sql(ws, "UPDATE card_state SET suspended = 1 WHERE card_id = "
            "(SELECT id FROM card WHERE key = 's-numeric')")  # fmt: skip
    (deck_dir / "small.yaml").write_text(SMALL_DECK.split("  - id: s-prompt")[0])
    sync_library(ws, load_paths([deck_dir]), NOW)

    topic = readiness(ws, NOW).topic("small")

    assert topic is not None and (topic.cards, topic.readiness) == (4, pytest.approx(1 / 4))


def test_forgetting_curve_gives_exactly_the_fsrs_packages_values() -> None:
    rng = random.Random(7)
    default = Reviewer()
    custom_parameters = list(default.scheduler.parameters)
    custom_parameters[20] = 0.31
    custom = Reviewer(parameters=custom_parameters)
    for reviewer in (default, custom):
        curve = ForgettingCurve(reviewer.scheduler.parameters)
        for _ in range(300):
            last = from_ms(rng.randrange(to_ms(at(1, 0, month=1)), to_ms(at(1, 0, month=12))))
            when = last + timedelta(
                days=rng.choice([0, 0.2, 1, 2.99, rng.uniform(-3, 4000)]),
                microseconds=rng.randrange(1_000_000),
            )
            state = CardState(
                state=rng.choice([State.LEARNING, State.REVIEW, State.RELEARNING]),
                step=0,
                stability=10 ** rng.uniform(-2, 4.5),
                difficulty=rng.uniform(1, 10),
                due=last + timedelta(days=1),
                last_review=last,
                reps=3,
            )
            expected = reviewer.retrievability(state, when)
            got = curve.retrievability(state.stability, to_ms(last), to_ms(when))
            assert got == expected, (state, when)
    assert ForgettingCurve(default.scheduler.parameters).retrievability(None, None, 0) == 0.0


# -- qualifications --------------------------------------------------------------------------


def add_example_posting(workspace: Workspace, posting_text: str, source: str) -> None:
    """As `prepkit init` does: generate from the built-in library, then record and sync."""
    taxonomy = load_taxonomy(LIBRARY)

    def decks_for(topic_ids: tuple[str, ...]):
        files = [LIBRARY / taxonomy.topic(topic_id).deck for topic_id in topic_ids]
        return load_paths([path for path in files if path.exists()])

    generation = generate(posting_text, taxonomy, decks_for, source=source)
    add_posting(workspace, generation, posting_text, source, NOW)


def test_qualifications_list_each_item_with_its_topics_and_readiness(ws: Workspace) -> None:
    add_example_posting(ws, EXAMPLE_POSTING.read_text(encoding="utf-8"), EXAMPLE_POSTING.name)
    unmatched = "Job\n\nRequirements\n- A valid driving licence.\n- Fluent Portuguese.\n"
    add_example_posting(ws, unmatched, "second.txt")
    configure(ws, new_per_day=100_000)
    with StudySession(ws, NOW, reviewer=Reviewer(fuzz=False)) as session:
        while (shown := session.next(NOW)) is not None:  # learn the PyTorch deck, nothing else
            if shown.card.deck == "pytorch-core":
                session.answer(E, NOW)
            else:
                session.bury(NOW)

    found = qualifications(ws, NOW)

    example, second = found.postings
    assert example.source == EXAMPLE_POSTING.name and "Machine Learning Systems" in example.title
    sections = [item.section for item in example.items]
    assert sections == ["minimum"] * 4 + ["preferred"] * 5
    by_text = {item.text: item for item in example.items}
    pytorch = by_text["Hands-on experience with the PyTorch framework."]
    assert (pytorch.topics, pytorch.readiness) == (("pytorch-core",), 1.0)
    languages = by_text["Experience with Python, C++, C, Lua or similar languages."]
    assert set(languages.topics) == {"python-lang", "cpp-lang", "c-lang", "lua-lang"}
    assert languages.readiness == 0.0
    assert all(item.topics for item in example.items)
    # One minimum item (weight 3) fully ready out of 4 minimum and 5 preferred (weight 2).
    assert example.readiness == pytest.approx(3 / (4 * 3 + 5 * 2))
    assert [(i.text, i.topics, i.readiness) for i in second.items] == [
        ("A valid driving licence.", (), None),
        ("Fluent Portuguese.", (), None),
    ]
    assert second.readiness is None
    assert json.loads(json.dumps(found.to_json()))["postings"][1]["items"][0]["topics"] == []


# -- the pure helpers ------------------------------------------------------------------------


def test_study_days_follow_daylight_saving_and_the_day_start_hour() -> None:
    from zoneinfo import ZoneInfo

    paris = ZoneInfo("Europe/Paris")
    starts = day_starts(date(2026, 3, 28), date(2026, 3, 30), paris, 4)
    lengths = [(b - a) / 3_600_000 for a, b in itertools.pairwise(starts)]
    # Clocks go forward at 2 am on the 29th, inside the study day that began at 4 am on the 28th.
    assert lengths == [23, 24, 24]
    assert bucket_ms(starts) == 3_600_000
    assert (
        bucket_ms(day_starts(date(2026, 3, 28), date(2026, 3, 28), ZoneInfo("Asia/Kathmandu"), 4))
        == 900_000
    )
    assert study_date(at(27, 3, 59), ZoneInfo("UTC"), 4) == date(2026, 11, 26)
    assert study_date(at(27, 4), ZoneInfo("UTC"), 4) == date(2026, 11, 27)


def test_streaks_from_study_flags() -> None:
    assert streaks([]) == (0, 0)
    assert streaks([True, True, False, True, True, True, False]) == (3, 3)  # today not yet
    assert streaks([True, True, False, True, True, True, True]) == (4, 4)
    assert streaks([True, True, True, False, False]) == (0, 3)
