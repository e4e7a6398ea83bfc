"""Backups (thinned, periodic while studying, on request), restore, and `prepkit doctor`."""

from __future__ import annotations

import json
import sqlite3
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from prepkit.backups import backups_of, to_keep
from prepkit.schedule.review import Rating
from prepkit.study import StudySession

from .conftest import NOW, dump


def reviews(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM review").fetchone()[0])


def test_thinning_keeps_recent_backups_and_one_a_day_a_week_a_month() -> None:
    now = NOW
    every_6h_for_a_year = [now - timedelta(hours=6 * i) for i in range(4 * 365)]
    kept = to_keep(every_6h_for_a_year, now)
    ages = sorted(now - every_6h_for_a_year[i] for i in kept)
    recent = [a for a in ages if a <= timedelta(days=2)]
    assert len(recent) == 9  # every backup of the last two days
    days = {every_6h_for_a_year[i].date() for i in kept}
    assert len(days) <= 3 + 12 + 10 + 9
    assert max(ages) > timedelta(days=240)  # months back, sparsely
    assert len(kept) < 40
    # The newest of each kept period is the one kept: yesterday's is its last, not its first.
    yesterday = (now - timedelta(days=3)).date()
    kept_that_day = [
        every_6h_for_a_year[i] for i in kept if every_6h_for_a_year[i].date() == yesterday
    ]
    assert kept_that_day == [max(t for t in every_6h_for_a_year if t.date() == yesterday)]
    assert to_keep([], now) == set()


def test_a_session_backs_up_at_most_every_30_minutes(workspace, tmp_path: Path) -> None:
    db = tmp_path / "prepkit.db"
    with StudySession(workspace, NOW) as session:
        for minutes in (0, 10, 29, 31, 45, 62):
            at = NOW + timedelta(minutes=minutes)
            if session.next(at) is None:
                break
            session.answer(Rating.AGAIN, at)
    taken = [b.taken for b in backups_of(db)]
    assert taken == [NOW, NOW + timedelta(minutes=31), NOW + timedelta(minutes=62)]
    newest = backups_of(db)[-1].path
    assert reviews(newest) == 6  # the answer that triggered it is in it
    assert stat.S_IMODE(newest.stat().st_mode) == 0o600
    assert stat.S_IMODE(newest.parent.stat().st_mode) == 0o700


def test_backup_and_restore_bring_the_database_back(cli, tmp_path: Path, deck_dir: Path) -> None:
    db = tmp_path / "cli.db"
    assert cli("sync", str(deck_dir)).code == 0
    assert cli("study", "--plain", stdin="3\n3\nq\n").code == 0
    made = cli("backup", "--json")
    assert made.code == 0, made.err
    saved = Path(json.loads(made.out)["backup"])
    before = dump(db)
    assert dump(saved) == before
    assert cli("study", "--plain", stdin="1\n1\n1\nq\n").code == 0
    assert reviews(db) == 5
    restored = cli("restore", str(saved))
    assert restored.code == 0, restored.err
    assert dump(db) == before
    (previous,) = [b.path for b in backups_of(db) if b.reason == "before-restore"]
    assert reviews(previous) == 5  # the restore itself can be undone
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_bad_backup_is_refused_and_the_database_left_alone(
    cli, tmp_path: Path, deck_dir: Path
) -> None:
    db = tmp_path / "cli.db"
    assert cli("sync", str(deck_dir)).code == 0
    assert cli("study", "--plain", stdin="3\nq\n").code == 0
    saved = Path(json.loads(cli("backup", "--json").out)["backup"])
    damaged = tmp_path / "damaged.sqlite"
    data = bytearray(saved.read_bytes())
    data[4096 * 2 : 4096 * 4] = b"\xff" * 8192
    damaged.write_bytes(bytes(data))
    newer = tmp_path / "newer.sqlite"
    newer.write_bytes(saved.read_bytes())
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a database")
    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE t (x)")
    cases = {
        damaged: "damaged (",
        newer: "written by a newer prepkit (schema 9999)",
        text_file: "not a prepkit database (not an SQLite file)",
        foreign: "not a prepkit database (no prepkit schema)",
        tmp_path / "missing.sqlite": "no such file",
        db: "is the database itself",
    }
    before = dump(db)
    count = len(backups_of(db))
    for path, message in cases.items():
        result = cli("restore", str(path))
        assert result.code == 1, (path, result.out)
        assert result.err.count("\n") == 1 and message in result.err, (path, result.err)
        assert result.err.startswith(f"prepkit: {path}") or "itself" in result.err
        assert dump(db) == before
    assert len(backups_of(db)) == count  # refused before anything was backed up


def test_doctor_finds_and_repairs_what_it_safely_can(cli, tmp_path: Path, deck_dir: Path) -> None:
    db = tmp_path / "cli.db"
    assert cli("sync", str(deck_dir)).code == 0
    assert cli("study", "--plain", stdin="3\n4\n1\nq\n").code == 0
    healthy = cli("doctor")
    assert healthy.code == 0
    assert healthy.out.strip() == (
        "ok: 5 cards and 3 answers checked; every state matches its review log"
    )
    with sqlite3.connect(db) as conn:  # what a bug, or an editor outside prepkit, could leave
        conn.execute("PRAGMA foreign_keys = OFF")
        key, card = conn.execute(
            "SELECT c.key, c.id FROM card c JOIN card_state s ON s.card_id = c.id "
            "WHERE s.reps > 0 ORDER BY c.key LIMIT 1"
        ).fetchone()
        conn.execute("UPDATE card_state SET stability = 99.0, reps = 7 WHERE card_id = ?", (card,))
        lost = conn.execute(
            "SELECT c.key FROM card c JOIN card_state s ON s.card_id = c.id WHERE s.reps = 0 "
            "ORDER BY c.key LIMIT 1"
        ).fetchone()[0]
        conn.execute(
            "DELETE FROM card_state WHERE card_id = (SELECT id FROM card WHERE key = ?)", (lost,)
        )
        conn.execute(
            "INSERT INTO review (learner_id, card_id, reviewed_at, rating, state_before, "
            "state_after) VALUES (1, 999999, 1, 3, 0, 1)"
        )
    found = cli("doctor", "--json")
    assert found.code == 1
    report = json.loads(found.out)
    kinds = {p["kind"]: p for p in report["problems"]}
    assert set(kinds) == {"references", "missing-states", "states"}
    assert kinds["states"]["examples"] == [key]
    assert kinds["missing-states"]["examples"] == [lost]
    assert all(p["repairable"] for p in report["problems"])
    fixed = cli("doctor", "--repair")
    assert fixed.code == 0, fixed.out
    assert "repaired: deleted 1 row pointing at rows that are not there" in fixed.out
    assert "repaired: added 1 missing card states" in fixed.out
    assert "repaired: set 1 card states from their review log" in fixed.out
    assert fixed.out.strip().endswith("every state matches its review log")
    (saved,) = [b.path for b in backups_of(db) if b.reason == "before-repair"]
    with sqlite3.connect(saved) as conn:
        assert conn.execute("SELECT reps FROM card_state WHERE card_id = ?", (card,)).fetchone()
    with sqlite3.connect(db) as conn:
        reps, stability, after = conn.execute(
            "SELECT s.reps, s.stability, (SELECT stability_after FROM review r WHERE "
            "r.card_id = s.card_id ORDER BY reviewed_at DESC, id DESC LIMIT 1) "
            "FROM card_state s WHERE s.card_id = ?",
            (card,),
        ).fetchone()
    assert (reps, stability) == (1, after)
    assert cli("doctor").code == 0


def test_doctor_reports_what_it_cannot_repair(cli, tmp_path: Path, deck_dir: Path) -> None:
    db = tmp_path / "cli.db"
    assert cli("sync", str(deck_dir)).code == 0
    assert cli("study", "--plain", stdin="1\nq\n").code == 0
    with sqlite3.connect(db) as conn:  # a second answer that did not start where the first ended
        row = conn.execute("SELECT * FROM review").fetchone()
        columns = [d[0] for d in conn.execute("SELECT * FROM review").description]
        values = dict(zip(columns, row, strict=True))
        values.update(id=None, reviewed_at=values["reviewed_at"] + 60_000, stability_before=42.0)
        names = ", ".join(values)
        conn.execute(
            f"INSERT INTO review ({names}) VALUES ({', '.join('?' * len(values))})",  # noqa: S608
            list(values.values()),
        )
    result = cli("doctor", "--repair")
    assert result.code == 1
    assert "problem: log-chain: 1 answers do not start from the state the previous one left" in (
        result.out
    )
    # damaged file: named, not touched, and the newest backup offered
    assert cli("backup").code == 0
    newest = backups_of(db)[-1].path
    with sqlite3.connect(db) as conn:  # the card table's root: read by every check, not at open
        (size,) = conn.execute("PRAGMA page_size").fetchone()
        (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'card'").fetchone()
    conn.close()
    data = bytearray(db.read_bytes())
    data[(root - 1) * size : root * size] = b"\xff" * size
    db.write_bytes(bytes(data))
    for wal in (tmp_path / "cli.db-wal", tmp_path / "cli.db-shm"):
        wal.unlink(missing_ok=True)
    damaged = cli("doctor")
    assert damaged.code == 1
    assert "problem: integrity: the database file is damaged" in damaged.out
    assert f"prepkit restore {newest}" in damaged.out


@pytest.mark.parametrize("reason", ["import", "study", "manual"])
def test_backup_names_parse_back(tmp_path: Path, reason: str) -> None:
    from prepkit.store.snapshot import backup_path

    db = tmp_path / "my.db"
    db.touch()
    first = backup_path(db, NOW, reason)
    first.touch()
    second = backup_path(db, NOW, reason)
    second.touch()
    assert first != second
    found = backups_of(db)
    assert [(b.taken, b.reason) for b in found] == [(NOW.replace(microsecond=0), reason)] * 2


def test_a_database_too_damaged_to_open_names_its_backup_and_restores(
    cli, tmp_path: Path, deck_dir: Path
) -> None:
    db = tmp_path / "cli.db"
    assert cli("sync", str(deck_dir)).code == 0
    assert cli("study", "--plain", stdin="3\n3\nq\n").code == 0
    saved = Path(json.loads(cli("backup", "--json").out)["backup"])
    before = dump(db)
    data = bytearray(db.read_bytes())
    data[100:4096] = b"\xff" * 3996  # the schema page, header kept
    db.write_bytes(bytes(data))
    for extra in (tmp_path / "cli.db-wal", tmp_path / "cli.db-shm"):
        extra.unlink(missing_ok=True)
    broken = cli("stats")
    assert broken.code == 1
    assert broken.err.strip() == (
        f"prepkit: {db}: cannot open database: database disk image is malformed "
        f"(newest backup: prepkit restore {saved})"
    )
    restored = cli("restore", str(saved))
    assert restored.code == 0, restored.err
    assert dump(db) == before
    assert cli("doctor").code == 0
