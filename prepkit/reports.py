"""The progress report as a service: gather what the report shows from the progress services."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from prepkit import progress
from prepkit.export.report import (
    PostingLines,
    QualificationLine,
    ReportData,
    TopicLine,
    WeakCard,
)
from prepkit.schedule.days import day_start, to_ms
from prepkit.store import models as m
from prepkit.workspace import Workspace

WEAKEST = 10
FORECAST_DAYS = 7
HEATMAP_DAYS = 26 * 7


def report_data(workspace: Workspace, now: datetime) -> ReportData:
    settings = workspace.settings()
    today = day_start(now, settings.zone, settings.day_start_hour).astimezone(settings.zone).date()
    interview = date.fromisoformat(settings.interview_date) if settings.interview_date else None
    ready = progress.readiness(workspace, now)
    kept = progress.retention_by_topic(workspace, now, days=30)
    by_topic = {t.id: t for t in kept.topics}
    # One read of the history serves the heatmap and the last 30 days' totals.
    history = progress.review_days(workspace, now, days=HEATMAP_DAYS)
    days = progress.ReviewDays(history.days[-30:])
    run = progress.streak(workspace, now)
    coming = progress.forecast(workspace, now, days=FORECAST_DAYS)
    quals = progress.qualifications(workspace, now)
    topics = tuple(
        TopicLine(
            title=t.title,
            weight=t.weight,
            introduced=t.introduced,
            cards=t.cards,
            readiness=t.readiness,
            retention=by_topic[t.id].retention if t.id in by_topic else None,
            reviews=by_topic[t.id].reviews if t.id in by_topic else 0,
        )
        for t in ready.topics
    )
    postings = tuple(
        PostingLines(
            p.title,
            tuple(QualificationLine(q.text, q.section, q.readiness) for q in p.items),
        )
        for p in quals.postings
    )
    return ReportData(
        generated_at=now,
        profile=workspace.profile,
        interview=interview,
        days_left=(interview - today).days if interview else None,
        readiness=ready.overall,
        weighted=ready.weighted,
        introduced=ready.introduced,
        cards=ready.cards,
        postings=postings,
        topics=topics,
        retention=kept.retention,
        retention_reviews=kept.reviews,
        streak=run.current,
        longest_streak=run.longest,
        studied_days_30=days.studied_days,
        reviews_30=days.reviews,
        minutes_30=days.minutes,
        due_next=tuple((d.date, d.due) for d in coming.days),
        weakest=_weakest(workspace, now),
        heatmap=tuple((d.date, d.reviews) for d in history.days),
    )


def _weakest(workspace: Workspace, now: datetime) -> tuple[WeakCard, ...]:
    """Studied cards that lapse most, then the least likely to be recalled today."""
    curve = progress.forgetting_curve(workspace.settings())
    s, c, d = m.CardState, m.Card, m.Deck
    with workspace.read() as conn:
        rows = conn.execute(
            select(c.key, c.front, d.title, s.lapses, s.stability, s.last_review)
            .join(c, c.id == s.card_id)
            .join(d, d.id == c.deck_id)
            .where(
                s.learner_id == workspace.learner_id,
                s.state != 0,
                c.retired_at.is_(None),
                s.suspended.is_(False),
            )
        ).all()
    at = to_ms(now)
    cards = [
        WeakCard(key, front, title, lapses, curve.retrievability(stability, last, at))
        for key, front, title, lapses, stability, last in rows
    ]
    cards.sort(key=lambda card: (-card.lapses, card.recall, card.card_id))
    return tuple(cards[:WEAKEST])
