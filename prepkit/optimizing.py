"""Personal FSRS parameters as a service: read the learner's answers, let the core fit and judge
them (prepkit/schedule/optimize.py), and store them as a setting only when they won.

Every scheduler this learner meets (study sessions, card info, progress curves, the planner) reads
`Settings.fsrs_parameters`, so adopting them here is all it takes; `reset` goes back to FSRS's
defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from prepkit.errors import PrepkitError
from prepkit.exports import review_rows
from prepkit.schedule import optimize as core
from prepkit.workspace import Workspace

Step = Callable[[str], None]  # told what is happening now, for a progress indicator


def answers(workspace: Workspace) -> list[core.Answer]:
    """The learner's answers, oldest first, as the optimizer reads them."""
    return [core.Answer(r.card_id, r.review_time, r.rating) for r in review_rows(workspace)]


def optimize(workspace: Workspace, dry_run: bool = False, step: Step | None = None) -> core.Result:
    """Fit, judge, and (unless `dry_run`) store the parameters when they predict better.

    Too little history is one clear line (PrepkitError), and the settings are left alone."""
    tell = step or (lambda _: None)
    tell("reading reviews")
    history = answers(workspace)
    tell("fitting and evaluating")
    try:
        result = core.optimize(history)
    except core.NotEnoughReviews as exc:
        raise PrepkitError(str(exc)) from None
    if result.adopted and not dry_run:
        tell("saving")
        settings = workspace.settings()
        workspace.save_settings(replace(settings, fsrs_parameters=result.parameters))
    return result


def reset(workspace: Workspace) -> bool:
    """Go back to FSRS's default parameters; whether personal ones were set."""
    settings = workspace.settings()
    if settings.fsrs_parameters is None:
        return False
    workspace.save_settings(replace(settings, fsrs_parameters=None))
    return True
