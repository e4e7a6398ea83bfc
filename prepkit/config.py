"""Where prepkit keeps things, and the learner settings it reads.

Locations follow platformdirs (XDG on Linux). The database comes from `--db`, else `PREPKIT_DB`,
else `<user data dir>/prepkit.db`; the data dir is created 0700 because it holds personal history.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from prepkit.errors import PrepkitError

APP = "prepkit"


def data_dir() -> Path:
    import platformdirs

    return platformdirs.user_data_path(APP, appauthor=False)


def default_db_path() -> Path:
    """The default database file, creating its private folder when it is missing."""
    folder = data_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder / "prepkit.db"


def resolve_db(option: str | None, environ: Mapping[str, str] | None = None) -> str:
    """`--db` wins, then `PREPKIT_DB`, then the default file."""
    env = os.environ if environ is None else environ
    if option:
        return option
    if env.get("PREPKIT_DB"):
        return env["PREPKIT_DB"]
    return str(default_db_path())


def library_dir() -> Path:
    """The built-in card library: `decks/` beside the package in a checkout, else the copy
    packed into the wheel as `prepkit/_library`."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "decks", here / "_library"):
        if candidate.is_dir():
            return candidate
    raise PrepkitError(f"the built-in card library is missing (looked in {here.parent / 'decks'})")


@dataclass(frozen=True, slots=True)
class Settings:
    """A learner's study settings; stored per learner as JSON values."""

    desired_retention: float = 0.9
    new_per_day: int = 20
    reviews_per_day: int = 9999
    timezone: str = "UTC"
    day_start_hour: int = 4
    learn_ahead_minutes: int = 20
    interview_date: str | None = None
    daily_minutes: int = 30
    day_minutes: dict[str, float] = field(default_factory=dict)  # weekday exceptions: "sun": 0
    theme: str = "textual-dark"
    # Personal FSRS-6 weights adopted by `prepkit optimize`; None means FSRS's defaults.
    fsrs_parameters: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        # Stored settings come back from JSON as lists, and a progress file may carry anything.
        if self.fsrs_parameters is not None:
            object.__setattr__(self, "fsrs_parameters", fsrs_parameters(self.fsrs_parameters))

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.timezone)

    def with_values(self, values: Mapping[str, Any]) -> Settings:
        """These settings with stored values applied; unknown keys from a newer prepkit are kept
        out rather than failing."""
        known = {f.name for f in fields(self)}
        return replace(self, **{k: v for k, v in values.items() if k in known})


# (field, label, parse) for the settings a learner edits by hand: the TUI's settings screen.
EDITABLE = ("interview_date", "daily_minutes", "desired_retention", "new_per_day", "timezone")


def edited(settings: Settings, form: Mapping[str, str]) -> tuple[Settings, dict[str, str]]:
    """Settings with the learner's typed values applied, and a message for each bad field.

    Ranges are Anki's where Anki has one (desired retention 0.70-0.99, as FSRS advises against
    values outside it); an empty interview date clears it.
    """
    from datetime import date

    errors: dict[str, str] = {}
    changes: dict[str, Any] = {}

    def number(key: str, kind: type, low: float, high: float, what: str) -> None:
        raw = form.get(key, "").strip()
        try:
            value = kind(raw)
        except ValueError:
            errors[key] = f"{what}: not a number ({raw or 'empty'})"
            return
        if not low <= value <= high:
            errors[key] = f"{what}: must be between {low:g} and {high:g}"
            return
        changes[key] = value

    if "interview_date" in form:
        raw = form["interview_date"].strip()
        if not raw:
            changes["interview_date"] = None
        else:
            try:
                changes["interview_date"] = date.fromisoformat(raw).isoformat()
            except ValueError:
                errors["interview_date"] = f"interview date: not a date (YYYY-MM-DD): {raw}"
    if "daily_minutes" in form:
        number("daily_minutes", int, 1, 1440, "daily minutes")
    if "desired_retention" in form:
        number("desired_retention", float, 0.7, 0.99, "desired retention")
    if "new_per_day" in form:
        number("new_per_day", int, 0, 9999, "new cards per day")
    if "timezone" in form:
        try:
            zone(form["timezone"].strip())
            changes["timezone"] = form["timezone"].strip()
        except PrepkitError as exc:
            errors["timezone"] = str(exc)
    if "theme" in form:
        changes["theme"] = form["theme"]
    return replace(settings, **changes), errors


FSRS_PARAMETER_COUNT = 21


def fsrs_parameters(values: Any) -> tuple[float, ...]:
    """FSRS-6 weights as a tuple of 21 finite floats, or one clear line saying what is wrong."""
    if isinstance(values, str | bytes) or not hasattr(values, "__len__"):
        raise PrepkitError("fsrs_parameters: must be a list of 21 numbers")
    if len(values) != FSRS_PARAMETER_COUNT:
        raise PrepkitError(f"fsrs_parameters: must be 21 numbers, not {len(values)}")
    out = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PrepkitError(f"fsrs_parameters: not a number: {value!r}")
        if not math.isfinite(value):
            raise PrepkitError(f"fsrs_parameters: not a finite number: {value!r}")
        out.append(float(value))
    return tuple(out)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        message = f"unknown time zone '{name}' (use an IANA name such as Europe/Paris)"
        raise PrepkitError(message) from None


def default_timezone(environ: Mapping[str, str] | None = None) -> str:
    """The learner's zone for a new profile: `TZ` when it names an IANA zone, else UTC."""
    env = os.environ if environ is None else environ
    name = env.get("TZ", "").lstrip(":")
    if name:
        try:
            ZoneInfo(name)
            return name
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return "UTC"
