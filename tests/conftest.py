"""Shared fixtures: a fixed clock, a fresh workspace synced from a small deck, a CLI runner.

The store, session and export tests run on SQLite and on PostgreSQL: a module marked
`pytest.mark.backends` gets each test that uses a database (`backend`, `workspace`, `cli`) twice,
`[sqlite]` and `[postgresql]`. The PostgreSQL variant needs a server: `PREPKIT_TEST_PG_URL` (set by
.ci/run, which starts one) names a database the tests may connect to and create databases from;
each test gets its own throwaway database, dropped at the end. Without it they skip, saying so.
"""

from __future__ import annotations

import io
import os
import sqlite3
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from prepkit.deck.load import load_paths
from prepkit.workspace import Workspace, open_workspace, sync_library

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "decks"
DATA = Path(__file__).resolve().parent / "data"
SHARED = ROOT.parent / "shared"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

SMALL_DECK = """\
deck: small
title: Small test deck
cards:
  - id: s-basic
    kind: basic
    front: What is a warp?
    back: A group of 32 threads that execute together.
    source: CUDA C++ Programming Guide
    tags: [gpu]
  - id: s-numeric
    kind: numeric
    front: Bytes per parameter for mixed-precision Adam?
    answer: 16
    tolerance: 0
    unit: bytes
    source: Rajbhandari et al., ZeRO (SC 2020)
    tags: [memory]
  - id: s-cloze
    kind: cloze
    front: "DDP all-reduces gradients in {{c1::buckets}} during backward."
    source: PyTorch docs, DistributedDataParallel
    tags: [ddp]
  - id: s-choice
    kind: choice
    front: Which collective does DDP use for gradients?
    options: [all-reduce, all-gather, broadcast]
    correct: all-reduce
    source: PyTorch docs, DistributedDataParallel
    tags: [ddp]
  - id: s-prompt
    kind: prompt
    front: Design the sharding of a 10 TB embedding table.
    rubric: [row vs column sharding, load balance, communication]
    source: Mudigere et al., ISCA 2022
    tags: [recsys]
"""


PG_URL = os.environ.get("PREPKIT_TEST_PG_URL", "")
NO_PG = "no PostgreSQL server: set PREPKIT_TEST_PG_URL; .ci/run starts one"
BACKENDS = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests in a module marked `backends` that use a database run on both backends."""
    if "backend" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("backends") is None:
        return
    if metafunc.definition.get_closest_marker("sqlite_only") is not None:
        return
    params = [
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
    ]
    metafunc.parametrize("backend", params, indirect=True)


class Backend:
    """Where a test's databases live: SQLite files in tmp_path, or throwaway PostgreSQL databases
    on the configured server (created on demand, dropped when the test ends)."""

    def __init__(self, name: str, tmp_path: Path) -> None:
        self.name = name
        self._tmp = tmp_path
        self._urls: dict[str, str] = {}

    @property
    def is_sqlite(self) -> bool:
        return self.name == "sqlite"

    def db(self, name: str) -> str:
        """The `--db` value of the test's database `name` (the same name gives the same one)."""
        if self.is_sqlite:
            return str(self._tmp / name)
        if name not in self._urls:
            self._urls[name] = create_pg_database(PG_URL)
        return self._urls[name]

    def close(self) -> None:
        for url in self._urls.values():
            drop_pg_database(PG_URL, url)


def _admin(url: str):  # a psycopg connection; psycopg is only imported with a server configured
    import psycopg

    parsed = make_url(url).set(drivername="postgresql")
    return psycopg.connect(parsed.render_as_string(hide_password=False), autocommit=True)


def create_pg_database(server_url: str) -> str:
    """A new empty database on the server of `server_url`; its SQLAlchemy URL."""
    name = f"prepkit_test_{uuid.uuid4().hex[:16]}"
    with _admin(server_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(server_url: str, url: str) -> None:
    name = make_url(url).database
    with _admin(server_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    name = getattr(request, "param", "sqlite")
    if name == "postgresql" and not PG_URL:
        pytest.skip(NO_PG)
    found = Backend(name, tmp_path)
    yield found
    found.close()


@pytest.fixture
def pg_url(tmp_path: Path) -> Iterator[str]:
    """A fresh PostgreSQL database (for tests that are about PostgreSQL only)."""
    if not PG_URL:
        pytest.skip(NO_PG)
    found = Backend("postgresql", tmp_path)
    yield found.db("pg")
    found.close()


@pytest.fixture
def cli_db(backend: Backend) -> str:
    """The database the `cli` fixture's commands use (PREPKIT_DB)."""
    return backend.db("cli.db")


@pytest.fixture
def deck_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "decks"
    folder.mkdir()
    (folder / "small.yaml").write_text(SMALL_DECK)
    return folder


@pytest.fixture
def workspace(backend: Backend, deck_dir: Path) -> Iterator[Workspace]:
    ws = open_workspace(backend.db("prepkit.db"), NOW)
    sync_library(ws, load_paths([deck_dir]), NOW)
    yield ws
    ws.close()


def refuse_quickly(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """prepkit connections to `db` (a path or URL) opened from now on give up on a lock after
    0.1 s: SQLite's busy timeout cut from 10 s, or PostgreSQL's `lock_timeout` set through
    libpq's PGOPTIONS."""
    from prepkit.store import db as store

    if "://" in db:
        monkeypatch.setenv("PGOPTIONS", "-c lock_timeout=100")
    else:
        monkeypatch.setattr(store, "BUSY_TIMEOUT_MS", 100)


@contextmanager
def writes_held(db: str) -> Iterator[str]:
    """Another program holding what prepkit needs to write `db`, until the block ends: on SQLite
    the write lock (a long import in another terminal), on PostgreSQL an EXCLUSIVE lock on the
    learner tables (reads go on). Gives the start of the database's refusal."""
    if "://" not in db:
        other = sqlite3.connect(db, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield "database is locked"
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    import psycopg

    libpq = make_url(db).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq) as other:
        other.execute("LOCK TABLE card_state, review IN EXCLUSIVE MODE")
        try:
            yield "canceling statement due to lock timeout"
        finally:
            other.rollback()


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, cli_db: str):
    """Run `prepkit ARGS` in-process with its own database, stdin and captured output."""
    monkeypatch.setenv("PREPKIT_DB", cli_db)
    monkeypatch.setenv("PREPKIT_NOW", NOW.isoformat())

    def run(*args: str, stdin: str = "") -> Result:
        from prepkit.cli import _state, main

        _state.db, _state.profile = None, "default"
        out, err = io.StringIO(), io.StringIO()
        saved = sys.argv, sys.stdin, sys.stdout, sys.stderr
        sys.argv, sys.stdin, sys.stdout, sys.stderr = (
            ["prepkit", *args],
            io.TextIOWrapper(io.BytesIO(stdin.encode()), encoding="utf-8"),
            out,
            err,
        )
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            sys.argv, sys.stdin, sys.stdout, sys.stderr = saved
        return Result(code, out.getvalue(), err.getvalue())

    return run


def subprocess_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"PREPKIT_DB": str(tmp_path / "sub.db"), "PREPKIT_NOW": NOW.isoformat()})
    env.update(extra)
    return env


def dump(db: str | Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table a learner's progress lives in (all but the learners and the
    schema version), read with plain SQLAlchemy, not prepkit; learner columns left out. A table
    added to the schema and forgotten by the export would show up here. `db` is a SQLite file
    or a database URL."""
    url = str(db) if "://" in str(db) else f"sqlite:///{db}"
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            out = {}
            for table in inspect(conn).get_table_names():
                if table in ("learner", "alembic_version"):
                    continue
                columns = [c["name"] for c in inspect(conn).get_columns(table)]
                kept = [c for c in columns if c != "learner_id"]
                # the names come from the schema itself, not from input
                query = f"SELECT {', '.join(kept)} FROM {table}"  # noqa: S608
                rows = [tuple(row) for row in conn.exec_driver_sql(query)]
                out[table] = sorted(rows, key=repr)
            return out
    finally:
        engine.dispose()
