"""Writes the database refuses, in the app: said in a notification, not a crash.

A full disk, a write lock another program holds past the busy timeout, or a PostgreSQL server
gone away make a write fail. The service that owns the write has rolled it back whole, and a
study session keeps the card in front of the learner (see `StudySession.answer`), so the app can
go on: it says what was not saved and why, and the learner gives the step again when the cause
has passed. Anything that is not the database's failure is a bug and still ends the app with its
traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec, TypeVar

from textual.widget import Widget

from prepkit.workspace import database_reason

P = ParamSpec("P")
R = TypeVar("R")
W = TypeVar("W", bound=Widget)


def saving(handler: Callable[Concatenate[W, P], R]) -> Callable[Concatenate[W, P], R | None]:
    """Wrap a screen's handler that writes: a refused write becomes a notification (and the
    handler's result None), with the screen left as it was."""

    @wraps(handler)
    def guarded(widget: W, /, *args: P.args, **kwargs: P.kwargs) -> R | None:
        try:
            return handler(widget, *args, **kwargs)
        except Exception as exc:
            reason = database_reason(exc)
            if reason is None:
                raise
            widget.notify(not_saved(reason), severity="error", timeout=8)
            return None

    return guarded


def not_saved(reason: str) -> str:
    return f"Not saved: the database said “{reason}”. Nothing changed; try again."
