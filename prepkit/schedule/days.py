"""Instants and study days.

The store keeps instants as integer epoch milliseconds (as Anki does): portable across SQLite and
PostgreSQL, cheap to compare in SQL, and exact for every instant the clock hands out, because the
clock truncates to milliseconds. A study day starts at a local hour (Anki's default is 4 am), so a
late-night session still counts towards the day the learner thinks it is.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_ms(instant: datetime) -> int:
    """Epoch milliseconds of an aware datetime (exact for millisecond instants)."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime: prepkit works in aware UTC instants")
    delta = instant - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def from_ms(ms: int) -> datetime:
    """The aware UTC datetime of epoch milliseconds (SQLite drops zones; we re-attach UTC)."""
    return _EPOCH + timedelta(milliseconds=ms)


def truncate_ms(instant: datetime) -> datetime:
    """Drop sub-millisecond precision so that a stored instant round-trips exactly."""
    return instant.replace(microsecond=instant.microsecond - instant.microsecond % 1000)


def day_start(instant: datetime, tz: ZoneInfo, hour: int) -> datetime:
    """The start (in UTC) of the study day containing `instant`."""
    local = instant.astimezone(tz)
    start = datetime.combine(local.date(), time(hour), tzinfo=tz)
    if local < start:
        start = datetime.combine(local.date() - timedelta(days=1), time(hour), tzinfo=tz)
    return start.astimezone(UTC)


def next_day_start(instant: datetime, tz: ZoneInfo, hour: int) -> datetime:
    """The start (in UTC) of the study day after the one containing `instant`."""
    start_local = day_start(instant, tz, hour).astimezone(tz)
    following = datetime.combine(start_local.date() + timedelta(days=1), time(hour), tzinfo=tz)
    return following.astimezone(UTC)
