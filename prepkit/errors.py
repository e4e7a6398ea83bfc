"""Errors a user can act on.

The faces print a `PrepkitError` as one line and exit 1; anything else is a bug and may show a
traceback. Keeping the distinction in one exception family lets every layer refuse bad input
without knowing how it will be shown.
"""

from __future__ import annotations


class PrepkitError(Exception):
    """A problem with the user's input or environment, phrased for the user."""


class DeckError(PrepkitError):
    """One or more problems in deck files, each already phrased as `file:line: message`."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(problems[0] if problems else "invalid deck")


class DatabaseError(PrepkitError):
    """The database cannot be opened or used as asked (missing folder, not a database, too new)."""
