"""The simulated learner that judges the planner: honest memory, honest minutes, reproducible."""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from fsrs import State as FsrsState
from fsrs.scheduler import DEFAULT_PARAMETERS

from prepkit.schedule.simulate import (
    ANKI_DEFAULTS,
    LEARN_COSTS,
    DailyLimits,
    Learner,
    LearnerView,
    PlannerPolicy,
    SimCard,
    simulate,
    topic_deck,
)

DECAY = -DEFAULT_PARAMETERS[20]
FACTOR = 0.9 ** (1 / DECAY) - 1


def forgetting_curve(days: float, stability: float) -> float:
    """FSRS-6's curve, written out: R = (1 + FACTOR * t / S) ** -w20."""
    return float((1 + FACTOR * days / stability) ** DECAY)


@dataclass
class Script:
    """A policy that does what it is told on given days and nothing otherwise."""

    new: dict[int, list[int]]
    reviews: dict[int, list[int]]

    def day(self, d: int, view: LearnerView) -> tuple[Sequence[int], Sequence[int]]:
        return self.reviews.get(d, []), self.new.get(d, [])


class Greedy:
    """Every due review, then every new card: more than any day's minutes allow."""

    def day(self, d: int, view: LearnerView) -> tuple[Sequence[int], Sequence[int]]:
        return DailyLimits(new_per_day=10_000).day(d, view)


def test_without_reviews_recall_follows_the_fsrs_forgetting_curve() -> None:
    deck = topic_deck([1.0], 40)
    learner = Learner(deck, seed=7)
    learner.study_day(0, [], [c.card_id for c in deck], minutes=600)
    checked = 0
    for card in deck:
        memory = learner.fsrs_card(card.card_id)
        assert memory is not None and memory.stability is not None
        assert learner.state(card.card_id) is not None
        if memory.state is not FsrsState.Review:
            continue  # still in a learning step after ten same-day repeats: rare
        checked += 1
        assert learner.retrievability(card.card_id, 0) == 1.0
        previous = 1.0
        for day in (1, 2, 5, 10, 30):
            # A card answered at any hour of day 0 is `day` days old on day `day`'s morning.
            expected = forgetting_curve(day, memory.stability)
            assert learner.retrievability(card.card_id, day) == pytest.approx(expected, rel=1e-12)
            assert expected < previous
            previous = expected
    assert checked >= 35
    expected_mean = sum(learner.retrievability(c.card_id, 10) for c in deck) / len(deck)
    assert learner.recall(10) == pytest.approx(expected_mean)


def test_answers_are_recalled_with_the_true_probability() -> None:
    deck = topic_deck([1.0], 400)
    learner = Learner(deck, seed=3)
    learner.study_day(0, [], [c.card_id for c in deck], minutes=10_000)
    ids = [c.card_id for c in deck if learner.fsrs_card(c.card_id) is not None]
    predicted = sum(learner.retrievability(i, 6) for i in ids)
    log = learner.study_day(6, ids, [], minutes=10_000)
    assert log.reviews == len(ids)
    spread = math.sqrt(sum(p * (1 - p) for p in (learner.retrievability(i, 6) for i in ids)))
    assert abs(log.recalled - predicted) <= 4 * max(spread, 1.0)
    assert 0.2 < predicted / len(ids) < 0.95  # a test with something to measure


def test_a_day_never_runs_over_its_minutes_by_more_than_one_answer() -> None:
    deck = topic_deck([1.0, 2.0], 150)
    for minutes in (5.0, 12.5, 30.0):
        result = simulate(deck, Greedy(), days=12, minutes=minutes, seed=1)
        for day in result.days:
            assert day.seconds <= minutes * 60 + max(LEARN_COSTS)
        assert result.max_minutes_day >= minutes  # the cap binds: the test measures it
        assert sum(day.cut for day in result.days) > 0


def test_the_same_seed_gives_the_same_learner() -> None:
    deck = topic_deck([3.0, 1.0], 40)
    first = simulate(deck, ANKI_DEFAULTS, days=15, minutes=15, seed=11)
    again = simulate(deck, ANKI_DEFAULTS, days=15, minutes=15, seed=11)
    other = simulate(deck, ANKI_DEFAULTS, days=15, minutes=15, seed=12)
    assert first == again
    assert other != first


def test_recall_is_weighted_by_topic_and_counts_unseen_cards_as_zero() -> None:
    def run(weights: list[float]) -> tuple[float, Learner]:
        deck = topic_deck(weights, 20)
        learner = Learner(deck, seed=5)
        learner.study_day(0, [], [c.card_id for c in deck if c.topic == 0], minutes=600)
        return learner.recall(3), learner

    heavy, learner = run([3.0, 1.0])
    light, _ = run([1.0, 3.0])
    first_topic = [learner.retrievability(i, 3) for i in range(1, 21)]
    assert all(learner.retrievability(i, 3) == 0.0 for i in range(21, 41))
    mean_seen = sum(first_topic) / 20
    assert heavy == pytest.approx(mean_seen * 3 / 4)
    assert light == pytest.approx(mean_seen * 1 / 4)


def test_anki_defaults_take_twenty_new_cards_a_day_in_deck_order() -> None:
    deck = topic_deck([1.0, 5.0, 2.0], 30)
    learner = Learner(deck, seed=2)
    reviews, new = ANKI_DEFAULTS.day(0, learner.view(0, 10))
    assert list(reviews) == [] and list(new) == list(range(1, 21))
    learner.study_day(0, reviews, new, minutes=60)
    reviews, new = ANKI_DEFAULTS.day(1, learner.view(1, 10))
    assert list(new) == list(range(21, 41))
    view = learner.view(1, 10)
    for card_id in reviews:
        state = view.states[card_id]
        assert state is not None and state.due is not None
        assert state.due.date() <= view.today
    states = [view.states[i] for i in range(1, 21)]
    assert all(s is not None and s.reps >= 1 and s.last_review is not None for s in states)
    assert all(view.states[i] is None for i in range(21, 91))


def test_invalid_listings_are_skipped_not_studied() -> None:
    deck = topic_deck([1.0], 5)
    learner = Learner(deck, seed=1)
    log = learner.study_day(0, [1, 99], [2, 2, 3], minutes=60)  # 1 is new; 99 unknown; 2 twice
    assert (log.new, log.reviews, log.skipped) == (2, 0, 3)


def _planner_missing() -> bool:
    return importlib.util.find_spec("prepkit.schedule.planner") is None


@pytest.mark.skipif(_planner_missing(), reason="prepkit/schedule/planner.py is not written yet")
def test_the_planner_beats_the_baselines_on_a_short_deadline() -> None:
    """Direction, not numbers: 60 cards, an interview in 10 days, 10 minutes a day."""
    deck: tuple[SimCard, ...] = topic_deck([1.0, 3.0, 1.0, 2.0, 6.0, 1.0], 10)
    days, minutes, seed = 10, 10.0, 1
    planner = PlannerPolicy(minutes)
    planned = simulate(deck, planner, days, minutes, seed)
    anki = simulate(deck, ANKI_DEFAULTS, days, minutes, seed)
    fixed = simulate(deck, DailyLimits(new_per_day=6), days, minutes, seed)
    assert planned.recall >= anki.recall
    assert planned.recall >= fixed.recall
    assert planned.max_minutes_day <= minutes * 1.10
    assert planner.predicted is not None
