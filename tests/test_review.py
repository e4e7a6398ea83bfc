"""prepkit's FSRS answers equal the `fsrs` package's, and the interval shown is the one saved."""

from __future__ import annotations

from datetime import timedelta

import fsrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prepkit.schedule.review import (
    NEW,
    CardState,
    Rating,
    Reviewer,
    State,
    format_interval,
)
from prepkit.study import StudySession

from .conftest import NOW

# A history: (minutes after the previous answer, grade)
histories = st.lists(
    st.tuples(st.integers(min_value=0, max_value=60 * 24 * 90), st.integers(1, 4)),
    min_size=1,
    max_size=25,
)


def replay_fsrs(history: list[tuple[int, int]]) -> fsrs.Card:
    scheduler = fsrs.Scheduler(enable_fuzzing=False)
    card = fsrs.Card(card_id=1, due=NOW)
    at = NOW
    for minutes, grade in history:
        at = at + timedelta(minutes=minutes)
        card, _ = scheduler.review_card(card, fsrs.Rating(grade), at)
    return card


def replay_prepkit(history: list[tuple[int, int]]) -> CardState:
    reviewer = Reviewer(fuzz=False)
    state = NEW
    at = NOW
    for minutes, grade in history:
        at = at + timedelta(minutes=minutes)
        state = reviewer.review(state, Rating(grade), at).after
    return state


@settings(max_examples=200, deadline=None)
@given(histories)
def test_states_equal_the_fsrs_package_for_the_same_history(history) -> None:
    expected = replay_fsrs(history)
    got = replay_prepkit(history)
    assert int(got.state) == int(expected.state)
    assert got.step == expected.step
    assert got.stability == expected.stability
    assert got.difficulty == expected.difficulty
    assert got.due == expected.due
    assert got.last_review == expected.last_review
    assert got.reps == len(history)


def test_lapses_count_forgotten_review_cards() -> None:
    reviewer = Reviewer(fuzz=False)
    state = NEW
    at = NOW
    for minutes, grade in [(0, 3), (10, 3), (60 * 24 * 3, 1), (10, 3), (60 * 24 * 2, 1)]:
        at += timedelta(minutes=minutes)
        state = reviewer.review(state, Rating(grade), at).after
    assert state.lapses == 2
    assert state.state is State.RELEARNING


def test_preview_gives_the_four_outcomes_in_grade_order() -> None:
    outcomes = Reviewer(fuzz=False).preview(NEW, NOW)
    assert [o.rating for o in outcomes] == list(Rating)
    assert [format_interval(o.interval) for o in outcomes[:3]] == ["1m", "6m", "10m"]
    assert outcomes[3].after.state is State.REVIEW


def test_desired_retention_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError):
        Reviewer(desired_retention=0.5)


@pytest.mark.parametrize(
    ("delta", "label"),
    [
        (timedelta(seconds=30), "30s"),
        (timedelta(minutes=10), "10m"),
        (timedelta(hours=5), "5h"),
        (timedelta(days=4), "4d"),
        (timedelta(days=75), "2.5mo"),
        (timedelta(days=730), "2y"),
    ],
)
def test_interval_labels(delta: timedelta, label: str) -> None:
    assert format_interval(delta) == label


@pytest.mark.backends
def test_saved_interval_is_the_shown_one_with_fuzz_on(workspace) -> None:
    """Grade each card after a pause: the interval saved must equal the one previewed."""
    with StudySession(workspace, NOW, reviewer=Reviewer(fuzz=True)) as session:
        at = NOW
        for grade in [3, 4, 3, 1, 4, 3, 3, 4, 3, 3]:
            shown = session.next(at)
            if shown is None:
                break
            at += timedelta(seconds=17)
            answered = session.answer(Rating(grade), at)
            assert answered.outcome.interval == shown.outcome(Rating(grade)).interval
            assert answered.outcome.after.last_review == at
            at += timedelta(minutes=11)


@pytest.mark.backends
def test_session_history_matches_fsrs_replay(workspace) -> None:
    """Answers through the session and the database give the fsrs package's states."""
    from prepkit.store.queries import HotPath

    grades: dict[int, list[tuple[object, int]]] = {}
    at = NOW
    with StudySession(workspace, NOW, reviewer=Reviewer(fuzz=False)) as session:
        for day in range(12):
            session.build_queue(at)
            while (shown := session.next(at)) is not None:
                grade = [3, 1, 3, 4, 2][(shown.card_id + day + len(grades)) % 5]
                session.answer(Rating(grade), at)
                grades.setdefault(shown.card_id, []).append((at, grade))
                at += timedelta(minutes=3)
            at = at.replace(hour=12) + timedelta(days=1)
    assert grades
    db = HotPath(workspace.engine, workspace.learner_id)
    try:
        for card_id, history in grades.items():
            scheduler = fsrs.Scheduler(enable_fuzzing=False)
            card = fsrs.Card(card_id=1, due=NOW)
            for when, grade in history:
                card, _ = scheduler.review_card(card, fsrs.Rating(grade), when)
            stored = db.state(card_id)
            assert stored.stability == pytest.approx(card.stability, rel=1e-12)
            assert stored.difficulty == pytest.approx(card.difficulty, rel=1e-12)
            assert stored.due == card.due
            assert int(stored.state) == int(card.state)
    finally:
        db.close()


def test_fuzz_is_the_same_for_the_same_card_and_state_and_differs_between_cards() -> None:
    """As in Anki: re-showing a card (undo, a new session) offers the same intervals."""
    from prepkit.schedule.review import fuzz_seed

    reviewer = Reviewer()
    state = CardState(
        state=State.REVIEW,
        step=None,
        stability=40.0,
        difficulty=5.0,
        due=NOW,
        last_review=NOW - timedelta(days=40),
        reps=6,
        lapses=0,
    )
    first = reviewer.preview(state, NOW, fuzz_seed(7, state.reps))
    again = reviewer.preview(state, NOW, fuzz_seed(7, state.reps))
    assert [o.after.due for o in first] == [o.after.due for o in again]
    others = {reviewer.preview(state, NOW, fuzz_seed(c, 6))[2].after.due for c in range(40)}
    assert len(others) > 5  # the fuzz still spreads cards out
    good = reviewer.review(state, Rating.GOOD, NOW, fuzz_seed(7, 6))
    assert good.after.due == first[2].after.due
