"""`prepkit doctor`: check that the database is whole and that every card's state is what its
review log says; repair what can be repaired without guessing.

The review log is the record: each answer keeps the card's state before and after it, so the
state a card should be in is the `after` of its last answer (with reps = its number of answers
and lapses = its Agains in review). What is checked:

- **integrity**: SQLite's own `integrity_check`. A damaged file is not repaired in place; the
  newest backup is named so it can be restored.
- **references**: `foreign_key_check` (rows pointing at a card, learner or posting that is not
  there). Repair deletes those rows: nothing can refer to them, and nothing they refer to exists.
- **missing states**: a card without a state row for a learner (so it can never be studied).
  Repair adds a new-card state.
- **states**: a card whose state differs from its log's last answer. Repair sets it from the log.
- **log chain**: an answer whose `before` is not the previous answer's `after` (a lost update).
  Reported only: the true history cannot be known.

Repair runs after a backup, in one transaction, and says what it changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby, pairwise
from typing import Any

from sqlalchemy import Connection, select, text, update
from sqlalchemy.exc import DBAPIError

from prepkit.store import models as m
from prepkit.store.db import sqlite_path
from prepkit.store.snapshot import backups_of, integrity_findings
from prepkit.workspace import Workspace, add_missing_states

STATE_COLUMNS = ("state", "step", "stability", "difficulty", "due", "last_review", "reps", "lapses")
SHOWN = 5  # cards named per problem


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str  # integrity | references | missing-states | states | log-chain
    count: int
    detail: str
    repairable: bool
    examples: tuple[str, ...] = ()

    def line(self) -> str:
        named = f" (e.g. {', '.join(self.examples)})" if self.examples else ""
        return f"{self.kind}: {self.detail}{named}"


@dataclass(slots=True)
class Report:
    problems: list[Problem] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    backup: str | None = None
    checked_cards: int = 0
    checked_reviews: int = 0

    @property
    def healthy(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "checked": {"cards": self.checked_cards, "reviews": self.checked_reviews},
            "problems": [
                {
                    "kind": p.kind,
                    "count": p.count,
                    "detail": p.detail,
                    "repairable": p.repairable,
                    "examples": list(p.examples),
                }
                for p in self.problems
            ],
            "repaired": self.repaired,
            "backup": self.backup,
        }


def examine(workspace: Workspace) -> Report:
    """Every check; nothing is changed."""
    report = Report()
    with workspace.read() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            damage = integrity(conn)
            if damage:
                report.problems.append(_damaged(workspace, damage))
                return report  # nothing else can be trusted in a damaged file
            broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                tables = sorted({str(row[0]) for row in broken})
                report.problems.append(
                    Problem(
                        "references",
                        len(broken),
                        f"{_rows(len(broken))} point at rows that are not there "
                        f"(in {', '.join(tables)})",
                        True,
                    )
                )
        missing = _missing_states(conn)
        if missing:
            report.problems.append(
                Problem(
                    "missing-states",
                    len(missing),
                    f"{len(missing)} cards have no state for a learner, so they are never shown",
                    True,
                    tuple(missing[:SHOWN]),
                )
            )
        wrong, chain, cards, reviews = _compare(conn, workspace.learner_id)
        report.checked_cards, report.checked_reviews = cards, reviews
        if wrong:
            report.problems.append(
                Problem(
                    "states",
                    len(wrong),
                    f"{len(wrong)} cards' states differ from their review log",
                    True,
                    tuple(key for key, _ in wrong[:SHOWN]),
                )
            )
        if chain:
            report.problems.append(
                Problem(
                    "log-chain",
                    len(chain),
                    f"{len(chain)} answers do not start from the state the previous one left "
                    "(not repairable: the true history is unknown)",
                    False,
                    tuple(chain[:SHOWN]),
                )
            )
    return report


def integrity(conn: Connection) -> list[str]:
    """SQLite's integrity findings, one per line (none: the file is whole)."""
    try:
        rows = [str(row[0]) for row in conn.exec_driver_sql("PRAGMA integrity_check")]
    except DBAPIError as exc:  # too damaged to even be checked
        return [str(exc.orig).splitlines()[0] if exc.orig else "unreadable"]
    return integrity_findings(rows)


def _damaged(workspace: Workspace, damage: list[str]) -> Problem:
    path = sqlite_path(workspace.url)
    found = backups_of(path) if path is not None else []
    advice = (
        f"restore the newest backup: prepkit restore {found[-1].path}"
        if found
        else "no backup found to restore"
    )
    return Problem(
        "integrity",
        len(damage),
        f"the database file is damaged ({damage[0]}; {len(damage)} findings); {advice}",
        False,
    )


def _missing_states(conn: Connection) -> list[str]:
    rows = conn.execute(
        text(
            "SELECT c.key FROM learner l CROSS JOIN card c WHERE NOT EXISTS "
            "(SELECT 1 FROM card_state s WHERE s.learner_id = l.id AND s.card_id = c.id) "
            "ORDER BY c.key"
        )
    ).all()
    return [str(row[0]) for row in rows]


def _expected(reviews: list[Any]) -> tuple[Any, ...]:
    """The state a card's log says it is in: its last answer's `after`, with counts."""
    last = reviews[-1]
    lapses = sum(1 for r in reviews if r.state_before == 2 and r.rating == 1)
    return (
        last.state_after,
        last.step_after,
        last.stability_after,
        last.difficulty_after,
        last.due_after,
        last.reviewed_at,
        len(reviews),
        lapses,
    )


NEW_STATE = (0, None, None, None, None, None, 0, 0)


def _compare(
    conn: Connection, learner_id: int
) -> tuple[list[tuple[str, tuple[Any, ...]]], list[str], int, int]:
    """(cards whose state differs, with the state their log gives; answers off the chain;
    cards checked; answers checked) for one learner."""
    s, r, c = m.CardState, m.Review, m.Card
    states = {
        row.card_id: (row.key, tuple(row[2:]))
        for row in conn.execute(
            select(s.card_id, c.key, *(getattr(s, name) for name in STATE_COLUMNS))
            .join(c, c.id == s.card_id)
            .where(s.learner_id == learner_id)
        )
    }
    log = conn.execute(
        select(r).where(r.learner_id == learner_id).order_by(r.card_id, r.reviewed_at, r.id)
    ).all()
    wrong: list[tuple[str, tuple[Any, ...]]] = []
    chain: list[str] = []
    logged: set[int] = set()
    for card_id, rows in groupby(log, key=lambda row: row.card_id):
        reviews = list(rows)
        logged.add(card_id)
        key, actual = states.get(card_id, (str(card_id), None))
        for before, after in pairwise(reviews):
            left = (
                before.state_after,
                before.step_after,
                before.stability_after,
                before.difficulty_after,
                before.due_after,
                before.reviewed_at,
            )
            found = (
                after.state_before,
                after.step_before,
                after.stability_before,
                after.difficulty_before,
                after.due_before,
                after.last_review_before,
            )
            if left != found:
                chain.append(f"{key} at {after.reviewed_at}")
        expected = _expected(reviews)
        if actual is not None and actual != expected:
            wrong.append((key, expected))
    for card_id, (key, actual) in states.items():
        if card_id not in logged and actual != NEW_STATE:  # never answered: still a new card
            wrong.append((key, NEW_STATE))
    return wrong, chain, len(states), len(log)


def repair(workspace: Workspace, now: datetime) -> Report:
    """Examine, back up, fix what can be fixed in one transaction, and examine again."""
    found = examine(workspace)
    fixable = [p for p in found.problems if p.repairable]
    if not fixable:
        return found
    from prepkit.backups import backup

    saved = backup(workspace, now, "before-repair")
    done: list[str] = []
    with workspace.engine.begin() as conn:
        kinds = {p.kind for p in fixable}
        if "references" in kinds:
            done.append(_delete_dangling(conn))
        if "missing-states" in kinds:
            add_missing_states(conn)
            done.append(f"added {_count(found, 'missing-states')} missing card states")
        if "states" in kinds:
            wrong, _chain, _cards, _reviews = _compare(conn, workspace.learner_id)
            for key, state in wrong:
                card = conn.execute(select(m.Card.id).where(m.Card.key == key)).scalar_one()
                conn.execute(
                    update(m.CardState)
                    .where(m.CardState.learner_id == workspace.learner_id)
                    .where(m.CardState.card_id == card)
                    .values(dict(zip(STATE_COLUMNS, state, strict=True)))
                )
            done.append(f"set {len(wrong)} card states from their review log")
    after = examine(workspace)
    after.repaired = done
    after.backup = str(saved) if saved else None
    return after


def _count(report: Report, kind: str) -> int:
    return sum(p.count for p in report.problems if p.kind == kind)


def _delete_dangling(conn: Connection) -> str:
    """Delete the rows `foreign_key_check` names (by rowid: every prepkit table has one)."""
    rows = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    gone: dict[str, set[int]] = {}
    for table, rowid, _parent, _fk in rows:
        gone.setdefault(str(table), set()).add(int(rowid))
    known = set(m.Base.metadata.tables)
    for table, rowids in gone.items():
        if table not in known:  # the name comes from SQLite; only prepkit's tables are touched
            continue
        conn.exec_driver_sql(
            f"DELETE FROM {table} WHERE rowid = ?",  # noqa: S608 - a schema table name
            [(rowid,) for rowid in sorted(rowids)],
        )
    total = sum(len(r) for r in gone.values())
    return f"deleted {_rows(total)} pointing at rows that are not there"


def _rows(count: int) -> str:
    return "1 row" if count == 1 else f"{count} rows"
