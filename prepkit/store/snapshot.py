"""Copies of a SQLite database file, taken with SQLite's online backup API.

The backup API copies a consistent snapshot page by page while other connections keep working,
which copying the file (and its -wal) by hand would not. Copies are private like the database:
their folder 0700, each file 0600 from the moment it exists.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from datetime import datetime
from pathlib import Path

from prepkit.errors import DatabaseError

FOLDER = "backups"
STAMP = "%Y%m%d-%H%M%S"
PARTIAL = ".partial"


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
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


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
