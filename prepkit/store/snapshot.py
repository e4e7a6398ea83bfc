"""Copies of a SQLite database file, taken with SQLite's online backup API.

The backup API copies a consistent snapshot page by page while other connections keep working,
which copying the file (and its -wal) by hand would not. Copies are private like the database:
their folder 0700, each file 0600 from the moment it exists.
"""

from __future__ import annotations

import os
import re
import sqlite3
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from prepkit.errors import DatabaseError

FOLDER = "backups"
STAMP = "%Y%m%d-%H%M%S"
PARTIAL = ".partial"
COPY_CACHE_KB = 256  # page cache of each connection of a copy
_NAME = re.compile(r"^(?P<stem>.+)-(?P<stamp>\d{8}-\d{6})-(?P<reason>[a-z0-9-]+?)(-\d+)?\.sqlite$")


@dataclass(frozen=True, slots=True)
class Backup:
    path: Path
    taken: datetime
    reason: str


def backups_of(database: Path) -> list[Backup]:
    """The database's backups, oldest first (by the time in their names)."""
    folder = database.parent / FOLDER
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = _NAME.match(path.name)
        if match is None or match["stem"] != database.stem:
            continue
        taken = datetime.strptime(match["stamp"], STAMP).replace(tzinfo=UTC)
        found.append(Backup(path, taken, match["reason"]))
    # by the time in the name; backups named in the same second (a pinned clock) by file age
    return sorted(found, key=lambda b: (b.taken, mtime(b.path), b.path.name))


def mtime(path: Path) -> int:
    """A file's modification time, 0 when another process just thinned it away."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def integrity_findings(rows: Iterable[str]) -> list[str]:
    """What `PRAGMA integrity_check` returned, one finding per line (none: the file is whole).
    SQLite packs many findings into one row under a `*** in database main ***` banner."""
    rows = list(rows)
    if rows == ["ok"]:
        return []
    lines = [line for row in rows for line in row.splitlines()]
    return [line for line in lines if not line.startswith("***")] or lines


def backup_folder(database: Path) -> Path:
    folder = database.parent / FOLDER
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
    except OSError as exc:
        raise DatabaseError(f"{folder}: cannot create the backup folder ({exc.strerror})") from None
    return folder


def backup_path(database: Path, when: datetime, reason: str) -> Path:
    """`backups/NAME-YYYYmmdd-HHMMSS-REASON.sqlite`, numbered when that name is taken."""
    folder = backup_folder(database)
    base = f"{database.stem}-{when.strftime(STAMP)}-{reason}"
    target = folder / f"{base}.sqlite"
    number = 1
    while target.exists():
        number += 1
        target = folder / f"{base}-{number}.sqlite"
    return target


def copy_database(source: Path, target: Path) -> None:
    """Copy the database `source` into `target` (created 0600 when missing, else overwritten)."""
    if not target.exists():
        fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
    src = sqlite3.connect(source)
    try:
        dst = sqlite3.connect(target)
        try:
            _copy_cache(src)
            _copy_cache(dst)
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def _copy_cache(conn: sqlite3.Connection) -> None:
    """A small page cache for one side of a copy, which passes each page through once: with
    SQLite's default (2 MB a connection) the backup a study session takes at its first answer
    raised the session's peak memory by 3.5 MB; with `COPY_CACHE_KB` it is as fast."""
    try:
        conn.execute(f"PRAGMA cache_size = -{COPY_CACHE_KB:d}")
    except sqlite3.DatabaseError:
        pass  # the pragma reads the schema; a damaged file is copied as before, default cache


def snapshot(database: Path, when: datetime, reason: str) -> Path:
    """A backup of `database` in its backups folder. It is written under a `.partial` name and
    renamed when complete, so a crash mid-copy never leaves a half backup that looks whole."""
    target = backup_path(database, when, reason)
    # A name of its own for the copy in progress: two sessions backing up in the same second
    # (a pinned clock, two terminals) must not write into one file.
    fd, name = tempfile.mkstemp(prefix=f"{target.stem}-", suffix=PARTIAL, dir=target.parent)
    os.close(fd)
    partial = Path(name)
    try:
        copy_database(database, partial)
        os.replace(partial, target)
    except (sqlite3.Error, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise DatabaseError(f"{target}: backup failed ({exc})") from None
    return target
