"""`prepkit export --format apkg`: a package Anki itself imports, with stable notes, edits that
arrive as updates, and (with --with-history) the answers and card states."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from prepkit.cards import edit_card
from prepkit.workspace import open_workspace

from .anki_files import import_into_anki
from .conftest import NOW

pytest.importorskip("anki", reason="Anki's backend (the test extra) is the judge of a package")
pytest.importorskip("genanki", reason="the anki extra builds packages")

GRADES = [3, 4, 1, 2, 3]  # one answer for each of the small deck's five cards


def studied(cli, deck_dir: Path) -> None:
    assert cli("sync", str(deck_dir)).code == 0
    stdin = "".join(f"{g}\n" for g in GRADES) + "q\n"
    assert cli("study", "--plain", stdin=stdin).code == 0


def export(cli, out: Path, *extra: str) -> None:
    result = cli("export", "--format", "apkg", "--out", str(out), "--force", *extra)
    assert result.code == 0, result.err


def prepkit_reviews(db: Path) -> list[tuple[int, float, float]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT rating, stability_after, difficulty_after FROM review ORDER BY reviewed_at, id"
        ).fetchall()


def test_anki_imports_every_card_and_answer_and_a_second_import_adds_nothing(
    cli, tmp_path: Path, deck_dir: Path
) -> None:
    studied(cli, deck_dir)
    package = tmp_path / "prepkit.apkg"
    result = cli("export", "--format", "apkg", "--with-history", "--out", str(package), "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out) == {"format": "apkg", "path": str(package), "rows": 5}
    col, log = import_into_anki(tmp_path, package)
    try:
        assert (log.found_notes, len(log.new), len(log.duplicate)) == (5, 5, 0)
        assert col.note_count() == 5
        assert sorted(col.decks.all_names_and_ids(), key=lambda d: d.name)[-1].name == (
            "prepkit::Small test deck"
        )
        # Every answer, in order, with its grade as given: schedVer is set, so Anki does not
        # "upgrade" learning Goods into Easys.
        revlog = col.db.all("SELECT ease FROM revlog ORDER BY id")
        assert [ease for (ease,) in revlog] == GRADES
        # The cards continue where prepkit left off: FSRS memory in the card's data.
        memory = sorted(
            (round(json.loads(data)["s"], 3), round(json.loads(data)["d"], 3))
            for (data,) in col.db.all("SELECT data FROM cards WHERE reps > 0")
        )
        ours = sorted(
            (round(s, 3), round(d, 3)) for _, s, d in prepkit_reviews(tmp_path / "cli.db")
        )
        assert memory == ours
        # Typed and choice cards say in their text what prepkit checks.
        fields = {n: col.get_note(n).fields for n in col.find_notes("")}
        texts = [" ".join(f) for f in fields.values()]
        assert any("16 bytes" in t for t in texts)
        assert any("all-reduce" in t and "broadcast" in t for t in texts)
        # The same file again: every note found, nothing added or changed.
        col, again = import_into_anki(tmp_path, package, col)
        assert (len(again.new), len(again.updated), len(again.duplicate)) == (0, 0, 5)
        assert col.note_count() == 5
    finally:
        col.close()


def test_an_edit_arrives_as_an_update_and_a_later_unchanged_export_does_not(
    cli, tmp_path: Path, deck_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    studied(cli, deck_dir)
    first = tmp_path / "first.apkg"
    export(cli, first)
    col, log = import_into_anki(tmp_path, first)
    try:
        assert len(log.new) == 5
        # Built a day later, nothing changed: Anki sees the same notes (note times are the
        # cards' last changes, not the build time).
        monkeypatch.setenv("PREPKIT_NOW", (NOW + timedelta(days=1)).isoformat())
        later = tmp_path / "later.apkg"
        export(cli, later)
        col, log = import_into_anki(tmp_path, later, col)
        assert (len(log.new), len(log.updated), len(log.duplicate)) == (0, 0, 5)
        # The learner edits a card (its id, hence its note's GUID, stays): an update.
        edited_at = NOW + timedelta(days=2)
        with open_workspace(str(tmp_path / "cli.db"), edited_at) as ws:
            edit_card(ws, "s-basic", "What is a warp? (edited)", "32 threads.", edited_at)
        monkeypatch.setenv("PREPKIT_NOW", (NOW + timedelta(days=3)).isoformat())
        edited = tmp_path / "edited.apkg"
        export(cli, edited)
        col, log = import_into_anki(tmp_path, edited, col)
        assert (len(log.new), len(log.updated), len(log.duplicate)) == (0, 1, 4)
        fronts = [col.get_note(n).fields[0] for n in col.find_notes("")]
        assert "What is a warp? (edited)" in fronts
        assert col.note_count() == 5
    finally:
        col.close()


def test_without_history_every_card_arrives_new(cli, tmp_path: Path, deck_dir: Path) -> None:
    studied(cli, deck_dir)
    package = tmp_path / "cards.apkg"
    export(cli, package)
    col, log = import_into_anki(tmp_path, package)
    try:
        assert len(log.new) == 5
        assert col.db.scalar("SELECT count() FROM revlog") == 0
        assert col.db.scalar("SELECT count() FROM cards WHERE type != 0") == 0
    finally:
        col.close()


def test_a_package_comes_back_into_prepkit_as_the_same_cards_and_answers(
    cli, tmp_path: Path, deck_dir: Path
) -> None:
    """prepkit -> .apkg (genanki's Legacy 1 container) -> a new prepkit: the cards keep their
    ids and the answers their grades and times, and FSRS replays them to the same memory."""
    studied(cli, deck_dir)
    package = tmp_path / "move.apkg"
    export(cli, package, "--with-history")
    target = tmp_path / "new.db"
    result = cli("--db", str(target), "import", str(package), "--json")
    assert result.code == 0, result.err
    counts = json.loads(result.out)
    assert (counts["new"], counts["reviews"]) == (5, 5)
    with sqlite3.connect(tmp_path / "cli.db") as a, sqlite3.connect(target) as b:
        query = "SELECT key FROM card ORDER BY key"
        assert b.execute(query).fetchall() == a.execute(query).fetchall()
        times = (
            "SELECT c.key, r.reviewed_at, r.rating FROM review r JOIN card c ON c.id = r.card_id"
        )
        moved = dict(((k, g), t) for k, t, g in b.execute(times))
        given = dict(((k, g), t) for k, t, g in a.execute(times))
    assert moved.keys() == given.keys()
    # Anki's review log is keyed by the instant, so answers given in the same millisecond
    # (a fixed test clock) are set a millisecond apart; real answers never are.
    assert all(abs(moved[k] - given[k]) < len(GRADES) for k in given)
    assert sorted(prepkit_reviews(target)) == sorted(prepkit_reviews(tmp_path / "cli.db"))
    # and into the database it came from: the library's own cards, all duplicates
    again = json.loads(cli("import", str(package), "--json").out)
    assert (again["new"], again["duplicate"], again["reviews"]) == (0, 5, 0)


def test_package_requests_that_make_no_sense_are_one_line(
    cli, tmp_path: Path, deck_dir: Path
) -> None:
    studied(cli, deck_dir)
    cases = {
        ("--format", "apkg"): "--format apkg: a package is binary; give --out FILE.apkg",
        ("--format", "reviews-csv", "--with-history"): "--with-history: only for --format apkg",
        ("--format", "apkg", "--out", "x.apkg", "--since", "2026-01-01"): "no --since",
    }
    for args, message in cases.items():
        result = cli("export", *args)
        assert result.code == 1 and message in result.err, (args, result.err)
        assert len(result.err.strip().splitlines()) == 1 and result.out == ""
    assert not (tmp_path / "x.apkg").exists()
