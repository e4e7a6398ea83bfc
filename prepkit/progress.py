"""Progress: what the dashboard, the stats screen and the report show. Read-only.

Every function takes the workspace and `now` (aware UTC; the face reads the clock once) and
returns frozen dataclasses with `to_json()`. Days are the learner's study days (their zone, the
day starting at `day_start_hour`), so a review at 1 am counts for the evening it belongs to.

The database does the counting: history is grouped in SQL by instant buckets no wider than the
gap between two day boundaries (an hour in most zones) and only those few rows come back to be
sorted into days, so a 200,000-review history costs one indexed pass, not 200,000 Python rows.
Readiness needs every active card's memory state and does visit those rows, with the forgetting
curve written out (prepkit/schedule/metrics.py) rather than an `fsrs` call per card.

Which cards count, and why:
- forecast and intervals: cards the scheduler will show, so not retired and not suspended;
- readiness: every active (not retired) card, suspended ones included, as `stats` counts them:
  suspending a card does not make the learner remember it, and readiness asks what they would
  recall;
- retention: every review of a card that was in review state (Anki's "true retention"), retired
  cards included, because those answers happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, case, false, func, select

from prepkit.config import Settings, library_dir
from prepkit.posting.match import SECTION_WEIGHT, Matcher
from prepkit.posting.parse import Section, parse_posting
from prepkit.posting.taxonomy import Taxonomy, parse_taxonomy
from prepkit.schedule.days import from_ms, to_ms
from prepkit.schedule.metrics import (
    DAY_MS,
    INTERVAL_BUCKETS,
    ForgettingCurve,
    bucket_ms,
    day_starts,
    per_day,
    ratio,
    streaks,
    study_date,
    weighted_mean,
)
from prepkit.schedule.review import Reviewer, State
from prepkit.store import models as m
from prepkit.workspace import Workspace, topic_weights

QUALIFICATION_SECTIONS = (Section.MINIMUM, Section.PREFERRED)


def _today(now: datetime, settings: Settings) -> date:
    return study_date(now, settings.zone, settings.day_start_hour)


def _retired_ids() -> Any:
    """Retired card ids: few, and read through the partial index ix_card_retired."""
    return select(m.Card.id).where(m.Card.retired_at.is_not(None))


def _passed(rating: Any) -> Any:
    """1 for a pass (Hard, Good or Easy), 0 for Again: summed, it counts passes."""
    return func.coalesce(func.sum(case((rating > 1, 1), else_=0)), 0)


# -- review days and streak ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StudyDay:
    """One study day of the review history."""

    date: date
    reviews: int
    passed: int  # answers other than Again
    duration_ms: int  # time spent answering (each answer capped at a minute, as Anki does)

    @property
    def minutes(self) -> float:
        return self.duration_ms / 60_000

    def to_json(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "reviews": self.reviews,
            "passed": self.passed,
            "minutes": round(self.minutes, 2),
        }


@dataclass(frozen=True, slots=True)
class ReviewDays:
    """The last `len(days)` study days, oldest first, ending today; days without reviews included
    so a heatmap or a bar chart can draw them as they come."""

    days: tuple[StudyDay, ...]

    @property
    def reviews(self) -> int:
        return sum(day.reviews for day in self.days)

    @property
    def studied_days(self) -> int:
        return sum(1 for day in self.days if day.reviews)

    @property
    def minutes(self) -> float:
        return sum(day.duration_ms for day in self.days) / 60_000

    def to_json(self) -> dict[str, Any]:
        return {
            "reviews": self.reviews,
            "studied_days": self.studied_days,
            "minutes": round(self.minutes, 2),
            "days": [day.to_json() for day in self.days],
        }


def review_days(workspace: Workspace, now: datetime, days: int = 365) -> ReviewDays:
    """Reviews, passes and time per study day over the last `days` days (today included).

    Reviews after `now` are not counted: with a pinned clock, history is as of that instant.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    settings = workspace.settings()
    today = _today(now, settings)
    first = today - timedelta(days=days - 1)
    starts = day_starts(first, today, settings.zone, settings.day_start_hour)
    size = bucket_ms(starts)
    r = m.Review
    bucket = r.reviewed_at // size
    query = (
        select(
            bucket,
            func.count(),
            _passed(r.rating),
            func.coalesce(func.sum(r.duration_ms), 0),
        )
        .where(
            r.learner_id == workspace.learner_id,
            r.reviewed_at >= starts[0],
            r.reviewed_at <= to_ms(now),
        )
        .group_by(bucket)
    )
    with workspace.read() as conn:
        rows = conn.execute(query).all()
    totals = per_day(((row[0], row[1:]) for row in rows), starts, size, width=3)
    return ReviewDays(
        tuple(
            StudyDay(first + timedelta(days=i), count, passed, spent)
            for i, (count, passed, spent) in enumerate(totals)
        )
    )


@dataclass(frozen=True, slots=True)
class Streak:
    """Consecutive study days with at least one review."""

    current: int  # ending today, or yesterday while today has no review yet
    longest: int
    studied_today: bool  # False: the current streak is at stake until the day ends
    last_studied: date | None

    def to_json(self) -> dict[str, Any]:
        return {
            "current": self.current,
            "longest": self.longest,
            "studied_today": self.studied_today,
            "last_studied": self.last_studied.isoformat() if self.last_studied else None,
        }


def streak(workspace: Workspace, now: datetime) -> Streak:
    """The current and longest streak over the whole history (not limited to a year)."""
    settings = workspace.settings()
    today = _today(now, settings)
    r = m.Review
    mine = (r.learner_id == workspace.learner_id) & (r.reviewed_at <= to_ms(now))
    with workspace.read() as conn:
        oldest = conn.execute(select(func.min(r.reviewed_at)).where(mine)).scalar()
        if oldest is None:
            return Streak(0, 0, False, None)
        first = min(today, study_date(from_ms(int(oldest)), settings.zone, settings.day_start_hour))
        starts = day_starts(first, today, settings.zone, settings.day_start_hour)
        size = bucket_ms(starts)
        bucket = r.reviewed_at // size
        rows = conn.execute(select(bucket, func.count()).where(mine).group_by(bucket)).all()
    totals = per_day(((row[0], row[1:]) for row in rows), starts, size, width=1)
    studied = [counts[0] > 0 for counts in totals]
    current, longest = streaks(studied)
    last = max((i for i, done in enumerate(studied) if done), default=None)
    return Streak(
        current=current,
        longest=longest,
        studied_today=bool(studied and studied[-1]),
        last_studied=first + timedelta(days=last) if last is not None else None,
    )


# -- forecast --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ForecastDay:
    date: date
    due: int  # learning + review
    learning: int  # learning and relearning cards
    review: int

    def to_json(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "due": self.due,
            "learning": self.learning,
            "review": self.review,
        }


@dataclass(frozen=True, slots=True)
class Forecast:
    """Cards coming due per study day, today first; today's count includes the overdue."""

    days: tuple[ForecastDay, ...]
    overdue: int  # due before today began (already inside today's count)

    def to_json(self) -> dict[str, Any]:
        return {"overdue": self.overdue, "days": [day.to_json() for day in self.days]}


def forecast(workspace: Workspace, now: datetime, days: int = 30) -> Forecast:
    """How many studied cards fall due on each of the next `days` study days (today first).

    New cards are not counted (when they start is the learner's choice, not the scheduler's);
    suspended and retired cards never come up; a buried card counts on the day it comes back.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    settings = workspace.settings()
    today = _today(now, settings)
    starts = day_starts(
        today, today + timedelta(days=days - 1), settings.zone, settings.day_start_hour
    )
    size = bucket_ms(starts)
    s = m.CardState
    comes_up = case((s.buried_until > s.due, s.buried_until), else_=s.due)
    bucket = comes_up // size
    query = (
        select(bucket, func.count(), func.coalesce(func.sum(case((s.state == 2, 1), else_=0)), 0))
        .where(
            s.learner_id == workspace.learner_id,
            s.state != int(State.NEW),
            s.suspended == false(),
            s.due < starts[-1],
            s.card_id.not_in(_retired_ids()),
        )
        .group_by(bucket)
    )
    with workspace.read() as conn:
        rows = conn.execute(query).all()
    overdue = sum(int(row[1]) for row in rows if row[0] * size < starts[0])
    totals = per_day(((row[0], row[1:]) for row in rows), starts, size, width=2, clamp_before=True)
    return Forecast(
        days=tuple(
            ForecastDay(today + timedelta(days=i), due, due - review, review)
            for i, (due, review) in enumerate(totals)
        ),
        overdue=overdue,
    )


# -- retention -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TopicRetention:
    id: str
    title: str
    reviews: int  # answers to cards that were in review state
    passed: int  # of those, not Again
    retention: float | None  # passed / reviews; None without reviews (not 0%)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "reviews": self.reviews,
            "passed": self.passed,
            "retention": self.retention,
        }


@dataclass(frozen=True, slots=True)
class Retention:
    """True retention: the share of review-state cards recalled, per topic and overall.

    Only answers to cards in review state count: learning steps are rehearsal minutes apart, and
    counting them would flatter the figure. Compare it with the desired retention: well below
    means the scheduler's memory model is off for this learner (or the cards are too hard).
    """

    since: date | None  # the first study day counted; None for the whole history
    topics: tuple[TopicRetention, ...]
    reviews: int
    passed: int
    retention: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat() if self.since else None,
            "reviews": self.reviews,
            "passed": self.passed,
            "retention": self.retention,
            "topics": [topic.to_json() for topic in self.topics],
        }


def retention_by_topic(workspace: Workspace, now: datetime, days: int | None = 30) -> Retention:
    """True retention per topic deck over the last `days` study days (today included), or over
    the whole history when `days` is None. Every deck is listed, with None where it has had no
    review-state answers in the window."""
    if days is not None and days < 1:
        raise ValueError("days must be at least 1, or None for all history")
    settings = workspace.settings()
    since: date | None = None
    r, c = m.Review, m.Card
    conditions = [
        r.learner_id == workspace.learner_id,
        r.state_before == int(State.REVIEW),
        r.reviewed_at <= to_ms(now),
    ]
    if days is not None:
        since = _today(now, settings) - timedelta(days=days - 1)
        conditions.append(
            r.reviewed_at >= day_starts(since, since, settings.zone, settings.day_start_hour)[0]
        )
    query = (
        select(c.deck_id, func.count(), _passed(r.rating))
        .select_from(r)
        .join(c, c.id == r.card_id)
        .where(*conditions)
        .group_by(c.deck_id)
    )
    with workspace.read() as conn:
        counted = {row[0]: (int(row[1]), int(row[2])) for row in conn.execute(query)}
        titles = _deck_titles(conn)
    topics = []
    for deck, title in sorted(titles.items()):
        reviews, passed = counted.get(deck, (0, 0))
        topics.append(TopicRetention(deck, title, reviews, passed, ratio(passed, reviews)))
    total = sum(t.reviews for t in topics)
    total_passed = sum(t.passed for t in topics)
    return Retention(since, tuple(topics), total, total_passed, ratio(total_passed, total))


def _deck_titles(conn: Connection) -> dict[str, str]:
    return {str(row[0]): str(row[1]) for row in conn.execute(select(m.Deck.id, m.Deck.title))}


# -- intervals -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IntervalBucket:
    label: str
    min_days: int  # inclusive
    max_days: int | None  # exclusive; None for the open-ended last bucket
    cards: int

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "min_days": self.min_days,
            "max_days": self.max_days,
            "cards": self.cards,
        }


@dataclass(frozen=True, slots=True)
class Intervals:
    """Current intervals (due - last review) of review-state cards, in the buckets of
    `prepkit.schedule.metrics.INTERVAL_BUCKETS`: 1d (under 2 days), 2d, 3-6d, 1-2w (7-13 d),
    2-4w (14-29 d), 1-3mo (30-89 d), 3-6mo (90-179 d), 6mo+ (180 d and more)."""

    buckets: tuple[IntervalBucket, ...]
    cards: int
    mean_days: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "cards": self.cards,
            "mean_days": self.mean_days,
            "buckets": [bucket.to_json() for bucket in self.buckets],
        }


def interval_distribution(workspace: Workspace, now: datetime) -> Intervals:
    """How far apart the scheduler has spread the learner's review cards.

    `now` is accepted for the same call shape as the other progress functions; an interval does
    not depend on it. Suspended and retired cards are left out: nothing spaces them any more.
    """
    del now
    s = m.CardState
    interval = s.due - s.last_review
    which = case(
        *(
            (interval < low * DAY_MS, index - 1)
            for index, (_label, low) in enumerate(INTERVAL_BUCKETS)
            if index > 0
        ),
        else_=len(INTERVAL_BUCKETS) - 1,
    )
    query = (
        select(which, func.count(), func.sum(interval))
        .where(
            s.learner_id == workspace.learner_id,
            s.state == int(State.REVIEW),
            s.suspended == false(),
            s.due.is_not(None),
            s.last_review.is_not(None),
            s.card_id.not_in(_retired_ids()),
        )
        .group_by(which)
    )
    with workspace.read() as conn:
        rows = conn.execute(query).all()
    counts = {int(row[0]): int(row[1]) for row in rows}
    total_ms = sum(int(row[2] or 0) for row in rows)
    cards = sum(counts.values())
    buckets = tuple(
        IntervalBucket(
            label,
            low,
            INTERVAL_BUCKETS[index + 1][1] if index + 1 < len(INTERVAL_BUCKETS) else None,
            counts.get(index, 0),
        )
        for index, (label, low) in enumerate(INTERVAL_BUCKETS)
    )
    return Intervals(buckets, cards, total_ms / cards / DAY_MS if cards else None)


# -- readiness -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TopicReadiness:
    id: str
    title: str
    cards: int  # active (not retired) cards, suspended included
    introduced: int  # of those, studied at least once (not new)
    readiness: float | None  # mean recall probability over `cards`, new cards as 0; None: no cards
    weight: float  # what the learner's postings ask of this topic (0: not asked)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "cards": self.cards,
            "introduced": self.introduced,
            "readiness": self.readiness,
            "weight": self.weight,
        }


@dataclass(frozen=True, slots=True)
class Readiness:
    """How much of each topic the learner would recall at `at` if they stopped studying now.

    A topic's readiness is the mean FSRS retrievability at `at` over its active cards, where a
    never-studied card counts 0: 0.4 reads as "about 40% of this deck would come back in the
    interview". `at` may be the interview date; no future reviews are assumed.

    `overall` weighs each topic's readiness by the posting weight (the sum of section weights of
    the qualifications that ask for it, over all postings): a topic a posting asks for three
    times counts three times as much, and a deck no posting mentions (a practice deck, a deck
    synced by hand) does not count. Without postings, or when no asked-for topic has cards,
    `overall` is the plain mean over all cards and `weighted` is False. Topics a posting asks
    for but that have no deck are listed with readiness None and left out of `overall`.
    """

    at: datetime
    topics: tuple[TopicReadiness, ...]  # heaviest weight first, then by id
    overall: float | None
    weighted: bool
    mean: float | None  # every active card counting the same, regardless of postings
    cards: int
    introduced: int

    def topic(self, topic_id: str) -> TopicReadiness | None:
        return next((t for t in self.topics if t.id == topic_id), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "overall": self.overall,
            "weighted": self.weighted,
            "mean": self.mean,
            "cards": self.cards,
            "introduced": self.introduced,
            "topics": [topic.to_json() for topic in self.topics],
        }


def forgetting_curve(settings: Settings) -> ForgettingCurve:
    """The curve of the learner's scheduler (the parameters `Reviewer` gives `fsrs`)."""
    reviewer = Reviewer(
        desired_retention=settings.desired_retention, parameters=settings.fsrs_parameters
    )
    return ForgettingCurve(reviewer.scheduler.parameters)


def readiness(workspace: Workspace, now: datetime, at: datetime | None = None) -> Readiness:
    """Per-topic and overall readiness at `at` (default `now`); see `Readiness`."""
    when = at or now
    settings = workspace.settings()
    curve = forgetting_curve(settings)
    at_ms = to_ms(when)
    s, c = m.CardState, m.Card
    query = (
        select(c.deck_id, s.state, s.stability, s.last_review)
        .select_from(s)
        .join(c, c.id == s.card_id)
        .where(s.learner_id == workspace.learner_id, c.retired_at.is_(None))
    )
    cards: dict[str, int] = {}
    introduced: dict[str, int] = {}
    recall: dict[str, float] = {}
    new = int(State.NEW)
    with workspace.read() as conn:
        for deck, state, stability, last_review in conn.execute(query).all():
            cards[deck] = cards.get(deck, 0) + 1
            if state != new:
                introduced[deck] = introduced.get(deck, 0) + 1
                recall[deck] = recall.get(deck, 0.0) + curve.retrievability(
                    stability, last_review, at_ms
                )
        titles = _deck_titles(conn)
    weights = topic_weights(workspace)
    topics = [
        TopicReadiness(
            id=topic,
            title=titles.get(topic, topic),
            cards=cards.get(topic, 0),
            introduced=introduced.get(topic, 0),
            readiness=recall.get(topic, 0.0) / cards[topic] if cards.get(topic) else None,
            weight=weights.get(topic, 0.0),
        )
        for topic in set(cards) | {t for t, w in weights.items() if w > 0}
    ]
    topics.sort(key=lambda t: (-t.weight, t.id))
    total_cards = sum(cards.values())
    mean = sum(recall.values()) / total_cards if total_cards else None
    overall = weighted_mean(
        (t.readiness, t.weight) for t in topics if t.readiness is not None and t.weight > 0
    )
    return Readiness(
        at=when,
        topics=tuple(topics),
        overall=overall if overall is not None else mean,
        weighted=overall is not None,
        mean=mean,
        cards=total_cards,
        introduced=sum(introduced.values()),
    )


# -- qualifications --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Qualification:
    """One qualification statement of a posting and how ready the learner is for it."""

    text: str
    section: str  # "minimum" or "preferred"
    topics: tuple[str, ...]  # the topics it asks for; empty when it matches none
    readiness: float | None  # mean readiness of those topics that have cards; None otherwise

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "section": self.section,
            "topics": list(self.topics),
            "readiness": self.readiness,
        }


@dataclass(frozen=True, slots=True)
class PostingQualifications:
    posting_id: int
    title: str
    source: str
    items: tuple[Qualification, ...]  # in the posting's order, minimum before preferred
    # Mean over the items that have a readiness, a minimum qualification weighing 3 and a
    # preferred one 2, as they weigh in topic matching (prepkit.posting.match.SECTION_WEIGHT).
    readiness: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "posting_id": self.posting_id,
            "title": self.title,
            "source": self.source,
            "readiness": self.readiness,
            "items": [item.to_json() for item in self.items],
        }


@dataclass(frozen=True, slots=True)
class Qualifications:
    at: datetime
    postings: tuple[PostingQualifications, ...]  # in the order they were added

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "postings": [posting.to_json() for posting in self.postings],
        }


def load_taxonomy(folder: Path | None = None) -> Taxonomy:
    """The built-in taxonomy (or the one in `folder`), as `prepkit generate` reads it."""
    path = (folder or library_dir()) / "taxonomy.yaml"
    return parse_taxonomy(path.read_text(encoding="utf-8"), str(path))


def qualifications(
    workspace: Workspace,
    now: datetime,
    at: datetime | None = None,
    taxonomy: Taxonomy | None = None,
) -> Qualifications:
    """Each stored posting's minimum and preferred qualifications with their readiness at `at`.

    Postings are re-read from their stored text with today's taxonomy, so an improved taxonomy
    improves old postings too. Items that match no topic are listed (readiness None): they are
    what the decks do not cover, which a learner preparing for the interview needs to see.
    """
    ready = readiness(workspace, now, at)
    by_topic = {t.id: t.readiness for t in ready.topics}
    matcher = Matcher(taxonomy or load_taxonomy())
    p = m.Posting
    with workspace.read() as conn:
        stored = conn.execute(
            select(p.id, p.title, p.source, p.text)
            .where(p.learner_id == workspace.learner_id)
            .order_by(p.created_at, p.id)
        ).all()
    postings = []
    for posting_id, title, source, text_ in stored:
        items = []
        for statement in parse_posting(text_).in_sections(*QUALIFICATION_SECTIONS):
            topics = matcher.match_statement(statement).topics
            known = [r for r in (by_topic.get(t) for t in topics) if r is not None]
            items.append(
                Qualification(
                    text=statement.text,
                    section=str(statement.section),
                    topics=topics,
                    readiness=sum(known) / len(known) if known else None,
                )
            )
        overall = weighted_mean(
            (item.readiness, SECTION_WEIGHT[Section(item.section)])
            for item in items
            if item.readiness is not None
        )
        postings.append(
            PostingQualifications(int(posting_id), str(title), str(source), tuple(items), overall)
        )
    return Qualifications(ready.at, tuple(postings))
