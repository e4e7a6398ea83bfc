"""Handing a thread worker's result to the event loop, for screens that read in the background."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.worker import Worker


def deliver(app: App[Any], worker: Worker[Any], show: Callable[[Any], None], value: Any) -> None:
    """Run `show(value)` on the event loop, unless a newer load or the app's exit has overtaken
    this one (a stale result must not overwrite a fresher one, nor touch a closed app)."""

    def apply() -> None:
        if app.is_running and not worker.is_cancelled:
            show(value)

    if worker.is_cancelled:
        return
    try:
        app.call_from_thread(apply)
    except RuntimeError:  # the app stopped meanwhile
        pass
