"""Backups of the learner's database: before imports and migrations, every 30 minutes while
studying, on request; thinned like Anki's; and restore.

Backups sit beside the database in `backups/` (see `prepkit.store.snapshot`). Many recent ones
are worth keeping (an hour ago, before the import), few old ones: everything from the last two
days, then the newest of each day for 12 days, of each week for 10 weeks and of each month for
9 months (Anki keeps 12 daily, 10 weekly and 9 monthly backups). A server database (PostgreSQL)
is backed up with the server's own tools; prepkit does not try.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from prepkit.errors import PrepkitError
from prepkit.store.db import REVISIONS, SQLITE_MAGIC, sqlite_path, url_for
from prepkit.store.snapshot import (
    FOLDER,
    PARTIAL,
    backup_path,
    backups_of,
    copy_database,
    integrity_findings,
    mtime,
    snapshot,
)
from prepkit.workspace import Workspace

PERIOD = timedelta(minutes=30)  # at most one backup this often while studying
RECENT = timedelta(days=2)
DAILY, WEEKLY, MONTHLY = 12, 10, 9


def _day(when: datetime) -> tuple[int, ...]:
    return (when.year, when.month, when.day)


def _week(when: datetime) -> tuple[int, ...]:
    year, week, _ = when.isocalendar()
    return (year, week)


def _month(when: datetime) -> tuple[int, ...]:
    return (when.year, when.month)


def to_keep(taken: list[datetime], now: datetime) -> set[int]:
    """Which of the backups taken at `taken` thinning keeps (indices): all recent ones, and the
    newest of each of the last days, weeks and months that have one."""
    keep = {i for i, when in enumerate(taken) if now - when <= RECENT}
    order = sorted(range(len(taken)), key=lambda i: taken[i])
    for count, period in ((DAILY, _day), (WEEKLY, _week), (MONTHLY, _month)):
        newest: dict[tuple[int, ...], int] = {}
        for i in order:
            newest[period(taken[i])] = i  # a later backup of the same period replaces it
        keep |= {newest[key] for key in sorted(newest, reverse=True)[:count]}
    return keep


def thin(database: Path, now: datetime) -> list[Path]:
    """Delete the backups thinning does not keep; the deleted paths."""
    found = backups_of(database)
    keep = to_keep([b.taken for b in found], now)
    gone = [b.path for i, b in enumerate(found) if i not in keep]
    for path in gone:
        path.unlink(missing_ok=True)
    for partial in (database.parent / FOLDER).glob(f"{database.stem}-*{PARTIAL}"):
        if now.timestamp() - mtime(partial) / 1e9 > 3600:  # a copy a crash cut short
            partial.unlink(missing_ok=True)
    return gone


def backup(workspace: Workspace, now: datetime, reason: str) -> Path | None:
    """Back the database up now (then thin); None when it is not a SQLite file."""
    source = sqlite_path(workspace.url)
    if source is None or not source.exists():
        return None
    target = snapshot(source, now, reason)
    thin(source, now)
    return target


def periodic(workspace: Workspace, now: datetime) -> datetime | None:
    """While studying: a backup when the newest one is `PERIOD` old (or there is none). Returns
    when the next one falls due, so a session need not look at the folder after every answer;
    None when the database is not a SQLite file (never)."""
    source = sqlite_path(workspace.url)
    if source is None:
        return None
    found = backups_of(source)
    if found and timedelta(0) <= now - found[-1].taken < PERIOD:
        return found[-1].taken + PERIOD
    try:
        backup(workspace, now, "study")
    except PrepkitError:
        pass  # the answer is saved; a backup that failed now is tried again next period
    return now + PERIOD


# -- restore -------------------------------------------------------------------------------------


def check_backup(path: Path) -> str:
    """The schema revision of a backup that is safe to restore, or one line saying why not."""
    if not path.is_file():
        raise PrepkitError(f"{path}: no such file")
    with path.open("rb") as handle:
        if handle.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise PrepkitError(f"{path}: not a prepkit database (not an SQLite file)")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            damage = integrity_findings(str(r[0]) for r in conn.execute("PRAGMA integrity_check"))
            if damage:
                raise PrepkitError(f"{path}: damaged ({damage[0]}); not restored")
            if conn.execute("PRAGMA foreign_key_check").fetchall():
                raise PrepkitError(f"{path}: has broken references; not restored")
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if "alembic_version" not in tables:
                raise PrepkitError(f"{path}: not a prepkit database (no prepkit schema)")
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise PrepkitError(f"{path}: damaged ({exc}); not restored") from None
    revision = str(row[0]) if row else ""
    if revision not in REVISIONS:
        raise PrepkitError(
            f"{path}: written by a newer prepkit (schema {revision}); upgrade prepkit to restore it"
        )
    return revision


def _keep_current(target: Path, now: datetime) -> Path:
    """The database about to be replaced, kept: through the backup API when it can be read,
    else byte for byte (a damaged file is the usual reason to restore, and it may still hold
    something a specialist can recover)."""
    try:
        return snapshot(target, now, "before-restore")
    except PrepkitError:
        copy = backup_path(target, now, "before-restore-damaged")
        with target.open("rb") as src, copy.open("wb") as dst:
            shutil.copyfileobj(src, dst)
        copy.chmod(0o600)
        return copy


def restore(db: str, path: Path, now: datetime) -> Path | None:
    """Replace the database `db` (a path or URL) with the backup `path`, after checking the
    backup and backing the current database up (the returned path). The copy goes through
    SQLite's backup API into the live file, so a reader never sees half a database."""
    target = sqlite_path(url_for(db))
    if target is None:
        raise PrepkitError("restore works on a SQLite database file (use the server's tools)")
    check_backup(path)
    if target.exists() and target.resolve() == path.resolve():
        raise PrepkitError(f"{path}: is the database itself")
    saved = _keep_current(target, now) if target.exists() else None
    try:
        copy_database(path, target)
    except (sqlite3.Error, OSError) as exc:
        where = f" (the database before it is in {saved})" if saved else ""
        raise PrepkitError(f"{target}: restore failed ({exc}){where}") from None
    return saved
