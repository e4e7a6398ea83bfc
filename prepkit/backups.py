"""Backups of the learner's database, taken before anything rewrites much of it (imports).

SQLite's online backup API copies a consistent snapshot even while another connection writes,
which copying the file (and its -wal) would not. Backups sit beside the database in `backups/`,
private like the database itself (folder 0700, files 0600). A server database (PostgreSQL) is
backed up by its administrator's tools; prepkit does not try.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime
from pathlib import Path

from prepkit.errors import PrepkitError
from prepkit.store.db import sqlite_path
from prepkit.workspace import Workspace

FOLDER = "backups"


def backup(workspace: Workspace, now: datetime, reason: str) -> Path | None:
    """Copy the database to `backups/NAME-YYYYmmdd-HHMMSS-REASON.sqlite`; None when the
    database is not a SQLite file."""
    source = sqlite_path(workspace.url)
    if source is None or not source.exists():
        return None
    folder = source.parent / FOLDER
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
    except OSError as exc:
        raise PrepkitError(f"{folder}: cannot create the backup folder ({exc.strerror})") from None
    stamp = now.strftime("%Y%m%d-%H%M%S")
    target = folder / f"{source.stem}-{stamp}-{reason}.sqlite"
    number = 1
    while target.exists():
        number += 1
        target = folder / f"{source.stem}-{stamp}-{reason}-{number}.sqlite"
    fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)
    try:
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        dst.close()
        src.close()
    except sqlite3.Error as exc:
        target.unlink(missing_ok=True)
        raise PrepkitError(f"{target}: backup failed ({exc}); nothing was imported") from None
    return target
