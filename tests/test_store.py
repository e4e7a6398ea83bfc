"""Opening databases: pragmas, permissions, schema versions, and every refusal in one line."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import text

from prepkit.errors import DatabaseError
from prepkit.store.db import HEAD, MIGRATIONS, REVISIONS, open_engine, url_for
from prepkit.workspace import open_workspace

from .conftest import NOW, Backend

pytestmark = pytest.mark.backends


def test_known_revisions_match_the_migration_scripts() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    chain = [rev.revision for rev in reversed(list(script.walk_revisions()))]
    assert tuple(chain) == REVISIONS
    assert script.get_current_head() == HEAD


def test_connections_use_wal_full_sync_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    engine = open_engine(url_for(str(tmp_path / "p.db")))
    with engine.connect() as conn:
        values = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    engine.dispose()
    assert values == {
        "journal_mode": "wal",
        "synchronous": 2,
        "foreign_keys": 1,
        "busy_timeout": 10000,
    }


def test_database_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    open_engine(url_for(str(path))).dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_foreign_keys_are_enforced(workspace) -> None:
    with pytest.raises(Exception, match=r"(?i)FOREIGN KEY"):
        with workspace.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO review (learner_id, card_id, reviewed_at, rating, state_before, "
                    "state_after) VALUES (1, 999999, 0, 3, 0, 1)"
                )
            )


def test_missing_folder_is_refused_without_creating_anything(tmp_path: Path) -> None:
    target = tmp_path / "nope" / "p.db"
    with pytest.raises(DatabaseError, match=r"folder .*nope does not exist"):
        open_workspace(str(target), NOW)
    assert not (tmp_path / "nope").exists()


def test_a_file_that_is_not_a_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("my notes, not a database\n" * 20)
    before = target.read_bytes()
    with pytest.raises(DatabaseError, match="not a prepkit database"):
        open_workspace(str(target), NOW)
    assert target.read_bytes() == before


def test_a_foreign_sqlite_database_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "other.db"
    with sqlite3.connect(target) as conn:
        conn.execute("CREATE TABLE stuff (x)")
    with pytest.raises(DatabaseError, match="no prepkit schema"):
        open_workspace(str(target), NOW)


def test_a_database_from_a_newer_prepkit_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "p.db"
    open_workspace(str(target), NOW).close()
    with sqlite3.connect(target) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(DatabaseError, match=r"newer prepkit .*schema 9999"):
        open_workspace(str(target), NOW)


def test_an_unwritable_folder_is_refused(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    if os.geteuid() == 0:  # root passes every permission check; answer as a user would get
        real = os.access
        monkeypatch.setattr(
            os, "access", lambda p, mode: False if Path(p) == folder else real(p, mode)
        )
    try:
        with pytest.raises(DatabaseError, match="not writable"):
            open_workspace(str(folder / "p.db"), NOW)
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o700)


def test_a_folder_where_creating_fails_is_refused(tmp_path: Path) -> None:
    """Creating the file fails even for root on a read-only file system (/proc)."""
    with pytest.raises(DatabaseError, match=r"cannot create database|not writable"):
        open_workspace("/proc/prepkit-test.db", NOW)


@pytest.mark.sqlite_only
def test_cli_database_errors_are_one_line_and_exit_1(cli, tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(os.urandom(4096))
    unreachable = "postgresql+psycopg://nobody@127.0.0.1:1/x"  # nothing listens on port 1
    for db in (str(tmp_path / "missing" / "p.db"), str(junk), unreachable, "mysql://a@b/c"):
        result = cli("--db", db, "stats", "--json")
        assert result.code == 1
        assert result.out == ""
        lines = result.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("prepkit: ") and db in lines[0]
    refused = cli("--db", unreachable, "stats").err
    assert "cannot open database" in refused and "Connection refused" in refused


def test_a_postgresql_url_without_a_driver_name_gets_psycopg() -> None:
    assert url_for("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert url_for("postgres://u@h:5433/db") == "postgresql+psycopg://u@h:5433/db"
    assert url_for("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"


def test_profiles_keep_separate_progress(backend: Backend, deck_dir: Path) -> None:
    from prepkit.deck.load import load_paths
    from prepkit.schedule.review import Rating
    from prepkit.study import StudySession
    from prepkit.workspace import stats, sync_library

    db = backend.db("shared.db")
    with open_workspace(db, NOW, profile="ada") as ada:
        sync_library(ada, load_paths([deck_dir]), NOW)
        with StudySession(ada, NOW) as session:
            session.next(NOW)
            session.answer(Rating.GOOD, NOW)
        assert stats(ada, NOW).reviews == 1
    with open_workspace(db, NOW, profile="grace") as grace:
        summary = stats(grace, NOW)
        assert (summary.reviews, summary.new) == (0, 5)


def test_two_learners_on_one_database_see_only_their_own(cli, cli_db: str, deck_dir) -> None:
    """Alice and Bob share one database (one PostgreSQL server, or one file): the library is
    shared, answers, settings and exports are each their own."""
    assert cli("--profile", "alice", "sync", str(deck_dir)).code == 0
    assert cli("--profile", "alice", "study", "--plain", stdin="3\n3\n3\nq\n").code == 0
    assert cli("--profile", "bob", "study", "--plain", stdin="1\nq\n").code == 0
    with open_workspace(cli_db, NOW, profile="bob") as bob_ws:
        bob_ws.save_settings(replace(bob_ws.settings(), new_per_day=7))

    def stats_of(profile: str) -> dict:
        return json.loads(cli("--profile", profile, "stats", "--json").out)

    alice, bob = stats_of("alice"), stats_of("bob")
    assert (alice["reviews"], alice["cards"]) == (3, 5)
    assert (bob["reviews"], bob["cards"]) == (1, 5)
    for profile, new_per_day in (("alice", 20), ("bob", 7)):
        with open_workspace(cli_db, NOW, profile=profile) as ws:
            assert ws.settings().new_per_day == new_per_day
    csv_alice = cli("--profile", "alice", "export", "--format", "reviews-csv").out
    csv_bob = cli("--profile", "bob", "export", "--format", "reviews-csv").out
    assert len(csv_alice.splitlines()) == 4 and len(csv_bob.splitlines()) == 2
    assert stats_of("carol")["reviews"] == 0  # a new profile starts from nothing


def test_a_first_schema_database_upgrades_with_every_row_intact(
    backend: Backend, deck_dir: Path
) -> None:
    """A database left at revision 0001 with history in it opens under the current schema."""
    from prepkit.deck.load import load_paths
    from prepkit.store.db import make_engine, run_migrations
    from prepkit.workspace import Workspace, stats, sync_library

    path = backend.db("old.db")
    engine = make_engine(url_for(path))
    run_migrations(engine, "0001")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO learner (id, name, created_at) VALUES (1, 'default', 0)"))
    old = Workspace(engine, 1, "default", url_for(path))
    sync_library(old, load_paths([deck_dir]), NOW)
    with engine.begin() as conn:  # history as the first schema's prepkit wrote it
        for card_id in (1, 2, 3):
            conn.execute(
                text(
                    "INSERT INTO review (learner_id, card_id, reviewed_at, rating, duration_ms, "
                    "state_before, state_after, stability_after, difficulty_after, due_after) "
                    "VALUES (1, :card, :at, 3, 4000, 0, 1, 2.3, 2.1, :due)"
                ),
                {"card": card_id, "at": 1_764_244_800_000, "due": 1_764_245_400_000},
            )
            conn.execute(
                text("UPDATE card_state SET state = 1, step = 1, reps = 1 WHERE card_id = :c"),
                {"c": card_id},
            )
    with engine.connect() as conn:
        before = {
            table: conn.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all()  # noqa: S608
            for table in ("card", "card_state", "review", "deck", "learner")
        }
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0001"
    engine.dispose()
    with open_workspace(path, NOW) as ws:
        with ws.engine.connect() as conn:
            after = {
                table: conn.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all()  # noqa: S608
                for table in before
            }
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
            if backend.is_sqlite:
                assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        assert stats(ws, NOW).reviews == 3
    assert after == before
    if backend.is_sqlite:  # the file as it was before the migration is kept, at its schema
        (saved,) = (Path(path).parent / "backups").glob(f"old-*-before-schema-{HEAD}.sqlite")
        with sqlite3.connect(saved) as conn:
            assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
            assert conn.execute("SELECT count(*) FROM review").fetchone() == (3,)
        assert oct(saved.stat().st_mode & 0o777) == "0o600"


def test_a_postings_schema_database_upgrades_to_card_edits_with_every_row_intact(
    backend: Backend, deck_dir: Path
) -> None:
    """A database left at revision 0002 with history and postings opens under the current
    schema, every row kept, and the learner can edit cards in it straight away."""
    from prepkit.cards import card_info, edit_card
    from prepkit.deck.load import load_paths
    from prepkit.store.db import make_engine, run_migrations
    from prepkit.workspace import Workspace, sync_library

    path = backend.db("old.db")
    engine = make_engine(url_for(path))
    run_migrations(engine, "0002")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO learner (id, name, created_at) VALUES (1, 'default', 0)"))
        conn.execute(
            text(
                "INSERT INTO setting (learner_id, key, value) VALUES (1, 'desired_retention', "
                "'0.85')"
            )
        )
    old = Workspace(engine, 1, "default", url_for(path))
    sync_library(old, load_paths([deck_dir]), NOW)
    with engine.begin() as conn:  # history and a posting as the 0002 schema's prepkit wrote them
        conn.execute(
            text(
                "INSERT INTO posting (id, learner_id, title, source, text, digest, created_at) "
                "VALUES (1, 1, 'GPU engineer', 'posting.txt', 'We want CUDA.', 'abc', 0)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO posting_topic (posting_id, topic_id, weight, evidence) "
                "VALUES (1, 'small', 2.0, '[\"CUDA\"]')"
            )
        )
        for card_id in (1, 2, 3):
            conn.execute(
                text(
                    "INSERT INTO review (learner_id, card_id, reviewed_at, rating, duration_ms, "
                    "state_before, state_after, stability_after, difficulty_after, due_after) "
                    "VALUES (1, :card, :at, 3, 3000, 0, 1, 2.3, 2.1, :due)"
                ),
                {"card": card_id, "at": 1_764_244_800_000, "due": 1_764_245_400_000},
            )
            conn.execute(
                text(
                    "UPDATE card_state SET state = 1, step = 1, stability = 2.3, difficulty = 2.1, "
                    "due = :due, last_review = :at, reps = 1, flag = :c WHERE card_id = :c"
                ),
                {"c": card_id, "at": 1_764_244_800_000, "due": 1_764_245_400_000},
            )
    tables = ("card", "card_state", "review", "deck", "learner", "setting", "posting")
    tables += ("posting_topic",)
    with engine.connect() as conn:
        before = {
            table: conn.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all()  # noqa: S608
            for table in tables
        }
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0002"
    assert len(before["review"]) == 3 and len(before["posting_topic"]) == 1
    engine.dispose()
    with open_workspace(path, NOW) as ws:
        with ws.engine.connect() as conn:
            after = {
                table: conn.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all()  # noqa: S608
                for table in tables
            }
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
            if backend.is_sqlite:
                assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            for table in ("card_edit", "card_override"):
                assert conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar() == 0  # noqa: S608
        assert edit_card(ws, "s-basic", "Edited after the upgrade?", "Yes.", NOW).front
        info = card_info(ws, "s-basic", NOW)
        assert info.edited and info.reps == 1 and len(info.reviews) == 1
    assert after == before


def test_the_models_match_the_migrations(backend: Backend) -> None:
    """The typed models and the migration scripts describe the same schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from prepkit.store.db import make_engine, run_migrations
    from prepkit.store.models import Base

    engine = make_engine(url_for(backend.db("p.db")))
    run_migrations(engine, "head")  # a new database is built from the models, not migrated
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert differences == []


def test_a_new_database_is_at_the_current_schema_for_alembic(backend: Backend) -> None:
    """A new database gets its schema from the models without running the migrations; Alembic
    still reads it as HEAD, so the next prepkit's upgrade starts from the right schema."""
    from alembic.migration import MigrationContext

    from prepkit.store.db import run_migrations

    engine = open_engine(url_for(backend.db("new.db")))
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == HEAD
    run_migrations(engine, "head")  # nothing to do
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [
            HEAD
        ]
    engine.dispose()


def test_learners_opening_a_new_database_at_once_all_get_in(
    backend: Backend, tmp_path: Path
) -> None:
    """A study group's first day: six people start prepkit on the same new database at the same
    moment, two of them with the same profile. The schema is created once, everyone gets in, and
    the shared profile is one learner. (Processes, as in life: Alembic is not thread-safe.)"""
    import subprocess
    import sys

    from .conftest import subprocess_env

    db = backend.db("group.db")
    env = subprocess_env(tmp_path, PREPKIT_DB=db)
    profiles = ["ada", "grace", "alan", "edsger", "barbara", "ada"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "prepkit", "--profile", name, "stats", "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in profiles
    ]
    results = [proc.communicate(timeout=120) for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * 6, [err for _, err in results]
    with open_workspace(db, NOW, profile="ada") as ws, ws.read() as conn:
        names = sorted(conn.execute(text("SELECT name FROM learner")).scalars())
    assert names == sorted(set(profiles))


def test_learners_syncing_the_same_library_at_once_share_one_copy(
    backend: Backend, tmp_path: Path, deck_dir: Path
) -> None:
    """Four learners run `prepkit sync` on one new database at the same moment: the library's
    cards go in once (no duplicate-key failure for the ones who lose the race), and everyone
    gets a state for every card."""
    import subprocess
    import sys

    from .conftest import subprocess_env

    big = tmp_path / "big"
    big.mkdir()
    cards_yaml = "".join(
        f"  - id: big-{i}\n    kind: basic\n    front: Question {i}?\n    back: Answer {i}.\n"
        f"    source: A source, p. {i}\n    tags: [t]\n"
        for i in range(3000)
    )
    (big / "big.yaml").write_text(f"deck: big\ntitle: Big\ncards:\n{cards_yaml}")
    db = backend.db("group.db")
    env = subprocess_env(tmp_path, PREPKIT_DB=db)
    profiles = ["ada", "grace", "alan", "edsger"]
    for name in profiles:  # everyone has a profile already; the race is the library load
        assert (
            subprocess.run(
                [sys.executable, "-m", "prepkit", "--profile", name, "stats"], env=env, check=False
            ).returncode
            == 0
        )
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "prepkit", "--profile", name, "sync", str(deck_dir), str(big)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in profiles
    ]
    results = [proc.communicate(timeout=120) for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * 4, [err for _, err in results]
    with open_workspace(db, NOW) as ws, ws.read() as conn:
        cards = conn.execute(text("SELECT count(*) FROM card")).scalar_one()
        states = conn.execute(text("SELECT count(*) FROM card_state")).scalar_one()
        learners = conn.execute(text("SELECT count(*) FROM learner")).scalar_one()
    assert cards == 5 + 3000
    assert states == cards * learners


@pytest.mark.sqlite_only  # the full disk is simulated with sqlite3's own error; read back with it
def test_a_failing_database_is_one_line_and_loses_only_the_step(
    cli, tmp_path: Path, deck_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk mid-session (the driver's own error, from the study hot path) and a server
    error inside a sync (SQLAlchemy's wrapper): no traceback, exit 1, and the answers saved
    before it are still there. The session says each refused answer as it happens and goes on
    (the card shown again); it ends with one line that counts them."""
    from sqlalchemy.exc import OperationalError

    from prepkit.store.queries import HotPath

    assert cli("sync", str(deck_dir)).code == 0
    assert cli("study", "--plain", stdin="3\nq\n").code == 0
    real = HotPath.stage_answer

    def full(self, *args, **kwargs):  # the second answer of the session hits a full disk
        if getattr(self, "_answered", False):
            raise sqlite3.OperationalError("database or disk is full")
        self._answered = True
        return real(self, *args, **kwargs)

    monkeypatch.setattr(HotPath, "stage_answer", full)
    result = cli("study", "--plain", stdin="3\n3\n3\nq\n")
    assert result.code == 1 and "Traceback" not in result.err
    said = "not saved: the database said 'database or disk is full'; nothing changed, try again."
    assert result.out.count(said) == 2
    assert result.err.strip().splitlines()[-1] == (
        "prepkit: 2 steps were not saved: the database said 'database or disk is full' "
        "(see prepkit doctor)"
    )
    with sqlite3.connect(tmp_path / "cli.db") as conn:
        assert conn.execute("SELECT count(*) FROM review").fetchone() == (2,)
    monkeypatch.undo()

    def gone(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr("prepkit.workspace._sync", gone)
    synced = cli("sync", str(deck_dir))
    assert synced.code == 1 and "Traceback" not in synced.err
    assert synced.err.strip() == (
        "prepkit: database error: server closed the connection; the step that failed was not "
        "saved (see prepkit doctor)"
    )
    assert cli("doctor").code == 0
