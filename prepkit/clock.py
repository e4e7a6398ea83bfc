"""The one place that reads the wall clock.

Faces call `now()` once per user action and pass the instant down; everything below takes time as
a parameter. `PREPKIT_NOW` (ISO-8601) pins the clock for tests, demos and scripted checks.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime

from prepkit.errors import PrepkitError
from prepkit.schedule.days import truncate_ms


def parse_instant(text: str) -> datetime:
    """An aware UTC instant from ISO-8601 text; a naive value is taken as UTC."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise PrepkitError(f"PREPKIT_NOW: not an ISO-8601 date-time: {text!r}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return truncate_ms(value.astimezone(UTC))


def now(environ: Mapping[str, str] | None = None) -> datetime:
    """The current instant in UTC, millisecond precision, or `PREPKIT_NOW` when set."""
    env = os.environ if environ is None else environ
    pinned = env.get("PREPKIT_NOW")
    if pinned:
        return parse_instant(pinned)
    return truncate_ms(datetime.now(UTC))
