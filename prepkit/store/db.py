"""Opening a database: URL resolution, the engine factory, SQLite pragmas, schema upgrades.

Every way a database can fail to open (a missing or unwritable folder, a file that is not a
database, a database from a newer prepkit) becomes one `DatabaseError` line before anything is
written, so a mistyped `--db` never leaves a stray file or a half-migrated schema behind.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    create_engine,
    event,
    insert,
    inspect,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from prepkit.errors import DatabaseError
from prepkit.store.models import Base

# The migration revisions this prepkit knows, oldest first; the last is the current schema.
# tests/test_store.py checks this against the Alembic scripts.
REVISIONS = ("0001", "0002", "0003")
HEAD = REVISIONS[-1]
BUSY_TIMEOUT_MS = 10_000
SQLITE_MAGIC = b"SQLite format 3\x00"
MIGRATIONS = Path(__file__).with_name("migrations")


def url_for(db: str) -> str:
    """A SQLAlchemy URL from `--db` / `PREPKIT_DB`: a URL as it is, a path as a SQLite file.

    A bare `postgresql://` (or libpq's `postgres://`) URL gets psycopg 3, the driver the
    `postgres` extra installs: SQLAlchemy's own default would be psycopg2, which prepkit does not
    depend on, so the URL a server administrator hands out works as given.
    """
    if "://" not in db:
        return f"sqlite:///{Path(db).expanduser().absolute()}"
    scheme, rest = db.split("://", 1)
    if scheme in ("postgresql", "postgres"):
        return f"postgresql+psycopg://{rest}"
    return db


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other databases and in-memory SQLite."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(f"not a database URL: {url}") from None
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def check_sqlite_file(path: Path) -> None:
    """Refuse, before SQLite touches anything, a path that cannot hold a prepkit database."""
    folder = path.parent
    if not folder.exists():
        raise DatabaseError(f"{path}: folder {folder} does not exist")
    if not folder.is_dir():
        raise DatabaseError(f"{path}: {folder} is not a folder")
    if path.is_dir():
        raise DatabaseError(f"{path}: is a folder, not a database file")
    if path.exists():
        if not os.access(path, os.R_OK | os.W_OK):
            raise DatabaseError(f"{path}: database file is not readable and writable")
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
        if head and head != SQLITE_MAGIC:
            raise DatabaseError(f"{path}: not a prepkit database (not an SQLite file)")
    elif not os.access(folder, os.W_OK | os.X_OK):
        raise DatabaseError(f"{path}: folder {folder} is not writable")


def create_private_file(path: Path) -> None:
    """Create the database file 0600 so its -wal and -shm files inherit the same mode."""
    if not path.exists():
        try:
            fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        except OSError as exc:
            raise DatabaseError(f"{path}: cannot create database: {exc.strerror}") from None
        os.close(fd)


def make_engine(url: str) -> Engine:
    """An engine with prepkit's connection settings; nothing connects until it is used.

    Only SQLite and PostgreSQL are supported (the hot path's SQL and the tests cover those two);
    another database, or PostgreSQL without its driver installed, is one line, not a traceback.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(f"not a database URL: {url}") from None
    backend = parsed.get_backend_name()
    where = parsed.render_as_string(hide_password=True)
    if backend not in ("sqlite", "postgresql"):
        raise DatabaseError(f"{where}: prepkit stores its data in SQLite or PostgreSQL only")
    is_sqlite = backend == "sqlite"
    connect_args: dict[str, Any] = {"timeout": BUSY_TIMEOUT_MS / 1000} if is_sqlite else {}
    try:
        # A server connection idle in the pool may have been dropped (a restart): PostgreSQL
        # connections are pinged when taken out. A SQLite file has no server to lose.
        engine = create_engine(url, connect_args=connect_args, pool_pre_ping=not is_sqlite)
    except (ImportError, NoSuchModuleError):
        raise DatabaseError(
            f"{where}: the database driver is not installed (for PostgreSQL: "
            "pip install 'prepkit[postgres]' and a postgresql+psycopg:// URL)"
        ) from None
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
    # SQLAlchemy emits BEGIN itself (see _sqlite_on_begin); pysqlite's legacy implicit
    # transactions would otherwise skip BEGIN for reads and DDL.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS:d}")
    cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    # Take the write lock up front: a deferred transaction that later writes can fail with
    # "database is locked" without waiting, which is exactly what a second writer must not see.
    mode = "DEFERRED" if conn.get_execution_options().get("readonly") else "IMMEDIATE"
    conn.exec_driver_sql(f"BEGIN {mode}")


def open_engine(url: str, now: datetime | None = None) -> Engine:
    """Open (creating if needed) a prepkit database at `url`, upgraded to the current schema.

    A database that needs a migration is backed up first (named with `now`, default the wall
    clock): a migration rebuilds tables, and the learner's history must survive a bug in one."""
    path = sqlite_path(url)
    if path is not None:
        check_sqlite_file(path)
        create_private_file(path)
    engine = make_engine(url)
    try:
        upgrade(engine, path, now)
    except DatabaseError:
        engine.dispose()
        raise
    except DBAPIError as exc:
        engine.dispose()
        where = path if path is not None else engine.url.render_as_string(hide_password=True)
        reason = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
        raise DatabaseError(f"{where}: cannot open database: {reason}{_newest(path)}") from None
    return engine


def _newest(path: Path | None) -> str:
    """Where a learner whose database cannot be opened can turn: the newest backup."""
    from prepkit.store.snapshot import backups_of

    found = backups_of(path) if path is not None else []
    return f" (newest backup: prepkit restore {found[-1].path})" if found else ""


def advance_sequences(conn: Connection, tables: Iterable[Table]) -> None:
    """Move PostgreSQL's id sequences past ids written explicitly (a restored progress file).

    SQLite hands out max(id) + 1 by itself; a PostgreSQL serial column draws from a sequence that
    an INSERT with explicit ids does not touch, so the next answer would collide with a restored
    one. Runs inside the caller's transaction; a no-op on SQLite.
    """
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or keys[0].autoincrement is False or keys[0].foreign_keys:
            continue
        if not isinstance(keys[0].type, Integer):
            continue
        name, column = table.name, keys[0].name
        # the names come from prepkit's own schema, not from input
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', '{column}'), "  # noqa: S608
                f"COALESCE(MAX({column}), 1), MAX({column}) IS NOT NULL) FROM {name}"
            )
        )


def current_revision(conn: Connection) -> str | None:
    """The schema revision stored in the database, or None for an empty database."""
    tables = set(inspect(conn).get_table_names())
    if "alembic_version" not in tables:
        if tables:
            raise DatabaseError(
                f"{_where(conn)}: not a prepkit database (it has tables, but no prepkit schema)"
            )
        return None
    row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    return None if row is None else str(row[0])


def _revision(engine: Engine) -> str | None:
    with engine.connect().execution_options(readonly=True) as conn:
        revision = current_revision(conn)
        conn.rollback()
    if revision is not None and revision not in REVISIONS:
        raise DatabaseError(
            f"{_where_engine(engine)}: written by a newer prepkit (schema {revision}; this "
            f"version knows up to {HEAD}); upgrade prepkit to open it"
        )
    return revision


def upgrade(engine: Engine, path: Path | None = None, now: datetime | None = None) -> None:
    """Bring the schema to HEAD; refuse a database written by a newer prepkit; back the file
    (`path`) up before migrating one that has a schema already.

    Several learners may start prepkit on a new (or older) server database at the same moment:
    the upgrade runs under a lock and the revision is read again once it is held, so exactly one
    of them migrates and the others find the schema done.
    """
    if _revision(engine) == HEAD:
        return
    with _migration_lock(engine):
        revision = _revision(engine)
        if revision == HEAD:
            return
        if revision is None and create_schema(engine):
            return
        if revision is not None and path is not None:
            from prepkit.store.snapshot import snapshot

            snapshot(path, now or datetime.now(UTC), f"before-schema-{HEAD}")
        run_migrations(engine, "head")


# Alembic's bookkeeping table as Alembic itself creates it (its defaults: table alembic_version,
# column version_num, primary key alembic_version_pkc), so a later upgrade starts from HEAD.
_ALEMBIC_VERSION = Table(
    "alembic_version",
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


def create_schema(engine: Engine) -> bool:
    """Give an empty database the current schema from the models, stamped HEAD: one transaction.

    Alembic is for upgrading an older schema. Importing it and running the migrations grew a
    first run's memory by 9 MB (opening a new database: +10 MB RSS, now +1 MB), so a new database
    is built from the models instead: the same tables, columns, keys and indexes, since
    tests/test_store.py checks the models against the migrations. Returns False, writing
    nothing, when the database has a schema by the time the write lock is held (another learner's
    first start got there first); the caller then upgrades as for any existing schema.
    """
    with engine.begin() as conn:
        if current_revision(conn) is not None:
            return False
        _ALEMBIC_VERSION.create(conn)  # first, as Alembic does: the same first pages
        Base.metadata.create_all(conn)
        conn.execute(insert(_ALEMBIC_VERSION).values(version_num=HEAD))
    return True


# pg_advisory_lock key for schema upgrades (any constant; "prepkit" in ASCII, truncated).
_MIGRATION_LOCK = 0x7072_6570_6B69_74


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """On PostgreSQL, a session advisory lock on a connection of its own, held while another
    connection migrates (DDL takes no lock on tables that do not exist yet, so two first
    upgrades would both try to create them). SQLite's BEGIN IMMEDIATE already serializes."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as conn:
        conn.exec_driver_sql(f"SELECT pg_advisory_lock({_MIGRATION_LOCK:d})")
        conn.commit()
        try:
            yield
        finally:
            conn.exec_driver_sql(f"SELECT pg_advisory_unlock({_MIGRATION_LOCK:d})")
            conn.commit()


def run_migrations(engine: Engine, target: str) -> None:
    """Run Alembic to `target` with foreign keys off around the batch table rebuilds.

    SQLite's batch mode drops and recreates tables; with foreign keys on, dropping a parent
    cascades into its children, so they are switched off outside the transaction and checked
    after it, as SQLite's own ALTER TABLE procedure prescribes.
    """
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with _foreign_keys_off(engine) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, target)
        conn.commit()
        if engine.dialect.name == "sqlite":
            broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise DatabaseError(
                    f"{_where(conn)}: migration left {len(broken)} broken references"
                )


@contextmanager
def _foreign_keys_off(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        sqlite = engine.dialect.name == "sqlite"
        # The pragma is a no-op inside a transaction, so it goes to the driver connection
        # directly, before SQLAlchemy begins one.
        raw = conn.connection.driver_connection if sqlite else None
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            yield conn
        finally:
            if raw is not None:
                conn.rollback()
                raw.execute("PRAGMA foreign_keys=ON")


def _where(conn: Connection) -> str:
    return _where_engine(conn.engine)


def _where_engine(engine: Engine) -> str:
    path = sqlite_path(str(engine.url))
    return str(path) if path is not None else engine.url.render_as_string(hide_password=True)
