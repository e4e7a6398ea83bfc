"""`prepkit import`: cards and history from Anki packages, Anki text exports and Quizlet files;
one transaction after a backup; counted like Anki; bad files refused in one line."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from .anki_files import (
    ANSWERS,
    CLOZE_TEXT,
    anki_packages,
    media_json,
    with_member,
    zip_bytes,
)
from .conftest import NOW, dump

pytest.importorskip("anki", reason="Anki's backend (the test extra) writes the packages read here")


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return anki_packages(tmp_path_factory.mktemp("anki"))


def cards_of(db: Path) -> dict[str, dict[str, object]]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute(
            "SELECT c.key, c.deck_id, d.title, c.kind, c.front, c.back, c.tags, c.source, "
            "s.state, s.step, s.due, s.reps FROM card c JOIN deck d ON d.id = c.deck_id "
            "JOIN card_state s ON s.card_id = c.id"
        ).fetchall()
    return {row["key"]: dict(row) for row in rows}


def reviews_of(db: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT c.key, r.reviewed_at, r.rating, r.state_before, r.state_after, r.due_after "
            "FROM review r JOIN card c ON c.id = r.card_id ORDER BY r.reviewed_at, r.id"
        ).fetchall()


def summary(result) -> dict[str, object]:
    assert result.code == 0, result.err
    return json.loads(result.out)


@pytest.mark.parametrize("version", ["latest", "legacy2"])
def test_an_anki_package_brings_its_notes_decks_and_history(
    cli, tmp_path: Path, packages: dict[str, Path], version: str
) -> None:
    db = tmp_path / "cli.db"
    first = summary(cli("import", str(packages[version]), "--json"))
    assert (first["format"], first["new"], first["updated"], first["duplicate"]) == (
        "apkg",
        4,
        0,
        0,
    )
    assert (first["skipped"], first["reviews"]) == (0, ANSWERS)
    cards = cards_of(db)
    assert len(cards) == 4
    assert {c["title"] for c in cards.values()} == {"Interview::SQL"}
    assert {c["deck_id"] for c in cards.values()} == {"imported-interview-sql"}
    by_front = {c["front"]: c for c in cards.values()}
    # Anki's HTML comes in as the text it shows: tags gone, entities decoded, images named.
    q0 = by_front["Q0 bold & [image: x.png]"]
    assert q0["back"] == "A0\nline2" and q0["kind"] == "basic"
    assert json.loads(str(q0["tags"])) == ["sql", "t2"]
    assert str(q0["key"]).startswith("anki-")
    assert by_front[CLOZE_TEXT]["kind"] == "cloze"
    # Each answer Anki logged is a prepkit review; Good on a new card leaves it in learning,
    # due at the second learning step (10 minutes), as prepkit would have scheduled it.
    reviews = reviews_of(db)
    assert len(reviews) == ANSWERS
    for key, at, rating, before, after, due in reviews:
        assert (rating, before, after) == (3, 0, 1)
        assert due == at + 10 * 60 * 1000
        assert (cards[key]["state"], cards[key]["reps"], cards[key]["due"]) == (1, 1, due)
    # A second import of the same package finds every note and changes nothing.
    before = dump(db)
    again = summary(cli("import", str(packages[version]), "--json"))
    assert (again["new"], again["updated"], again["duplicate"], again["reviews"]) == (0, 0, 4, 0)
    assert dump(db) == before


def test_anki_text_export_with_its_header_lines(
    cli, tmp_path: Path, packages: dict[str, Path]
) -> None:
    db = tmp_path / "cli.db"
    text = packages["text"].read_text()
    assert text.startswith("#separator:tab\n#html:true\n")  # what Anki wrote
    first = summary(cli("import", str(packages["text"]), "--json"))
    assert (first["format"], first["new"], first["duplicate"], first["skipped"]) == (
        "anki-text",
        4,
        0,
        0,
    )
    cards = cards_of(db)
    assert {c["title"] for c in cards.values()} == {"Interview::SQL"}  # from the deck column
    by_front = {c["front"]: c for c in cards.values()}
    assert by_front["Q0 bold & [image: x.png]"]["back"] == "A0\nline2"
    assert by_front[CLOZE_TEXT]["kind"] == "cloze"  # from the note type column
    assert json.loads(str(by_front["Q2"]["tags"])) == ["sql", "t2"]  # from the tags column
    # The same notes as a package are the same cards (keys from Anki's GUIDs).
    package = summary(cli("import", str(packages["latest"]), "--json"))
    assert (package["new"], package["duplicate"]) == (0, 4)
    # An edited row updates its card in place; the others are duplicates.
    edited = tmp_path / "edited.txt"
    edited.write_text(text.replace("A1<br>line2", "A1 changed"))
    second = summary(cli("import", str(edited), "--json"))
    assert (second["new"], second["updated"], second["duplicate"]) == (0, 1, 3)
    assert {c["back"] for c in cards_of(db).values()} >= {"A1 changed", "A0\nline2"}


def test_quizlet_files_keep_quotes_and_take_custom_separators(cli, tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    tabbed = tmp_path / "gpu terms.txt"
    tabbed.write_text('warp\t32 threads that run "in lockstep"\nSM\tstreaming multiprocessor\n\n')
    first = summary(cli("import", str(tabbed), "--json"))
    assert (first["format"], first["new"]) == ("quizlet", 2)
    cards = {c["front"]: c for c in cards_of(db).values()}
    assert cards["warp"]["back"] == '32 threads that run "in lockstep"'
    assert cards["warp"]["title"] == "gpu terms"  # the file's name, as Quizlet sets have none
    assert "gpu terms.txt" in str(cards["warp"]["source"])
    custom = tmp_path / "custom.txt"
    custom.write_text("NCCL - collective library;NVLink - GPU interconnect;warp - 32 threads")
    result = cli("import", str(custom), "--term-sep", " - ", "--row-sep", ";", "--json")
    second = summary(result)
    assert (second["new"], second["duplicate"]) == (3, 0)  # another deck: another "warp" card
    assert {c["front"] for c in cards_of(db).values()} >= {"NCCL", "NVLink"}
    again = summary(cli("import", str(tabbed), "--json"))
    assert (again["new"], again["duplicate"]) == (0, 2)


def test_a_dry_run_counts_and_writes_nothing_and_a_real_import_backs_up_first(
    cli, tmp_path: Path, deck_dir: Path, packages: dict[str, Path]
) -> None:
    db = tmp_path / "cli.db"
    assert cli("sync", str(deck_dir)).code == 0
    before = dump(db)
    dry = summary(cli("import", str(packages["latest"]), "--dry-run", "--json"))
    assert (dry["new"], dry["reviews"], dry["dry_run"], dry["backup"]) == (4, ANSWERS, True, None)
    assert dump(db) == before
    assert not (tmp_path / "backups").exists()
    real = summary(cli("import", str(packages["latest"]), "--json"))
    backup = Path(str(real["backup"]))
    assert backup.parent == tmp_path / "backups"
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert stat.S_IMODE(backup.parent.stat().st_mode) == 0o700
    with sqlite3.connect(backup) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert dump(backup) == before  # the database as it was just before the import
    assert len(cards_of(db)) == len(cards_of(backup)) + 4


def test_plain_text_line_summary(cli, tmp_path: Path, packages: dict[str, Path]) -> None:
    result = cli("import", str(packages["latest"]))
    assert result.code == 0, result.err
    path = packages["latest"]
    assert result.out.strip() == (
        f"{path}: imported 4 new, 0 updated, 0 duplicate, 0 skipped; {ANSWERS} reviews of history"
    )
    assert "backup of the database before the import" in result.err


# -- bad files -----------------------------------------------------------------------------------


def _needs_zip_version(package: bytes, version: int) -> bytes:
    """The package with its first central-directory entry asking for a zip `version` (x10)."""
    end = package.rindex(b"PK\x05\x06")  # the end record says where the directory starts
    at = int.from_bytes(package[end + 16 : end + 20], "little") + 6  # "version needed"
    return package[:at] + version.to_bytes(2, "little") + package[at + 2 :]


def _bad_files(packages: dict[str, Path], tmp: Path) -> dict[str, tuple[bytes, str]]:
    latest = packages["latest"].read_bytes()
    import zstandard

    zeros = zstandard.ZstdCompressor().compress(b"\0" * (100 * 1024**2))
    sqlite_file = tmp / "some.db"
    with sqlite3.connect(sqlite_file) as conn:
        conn.execute("CREATE TABLE t (x)")
    return {
        "truncated.apkg": (latest[: len(latest) // 2], "not an Anki package (not a readable zip"),
        # found by the atheris target: zipfile raises NotImplementedError for this one
        "zip-version.apkg": (
            _needs_zip_version(latest, 231),
            "not an Anki package (not a readable zip",
        ),
        "bomb.apkg": (
            zip_bytes({"collection.anki2": b"\0" * (20 * 1024**2)}),
            "refused as a zip bomb",
        ),
        "zstd-bomb.apkg": (
            with_member(packages["latest"], "collection.anki21b", zeros),
            "refused as a bomb",
        ),
        "escape.apkg": (
            with_member(packages["legacy2"], "media", media_json(["../../escaped.txt"])),
            "media file '../../escaped.txt': not a plain file name",
        ),
        "member.apkg": (
            with_member(packages["legacy2"], "../evil.sh", b"echo hi"),
            "member '../evil.sh': not a plain file name",
        ),
        "no-collection.apkg": (zip_bytes({"media": b"{}"}), "no collection inside"),
        "junk-collection.apkg": (
            zip_bytes({"collection.anki2": b"SQLite format 3\x00" + os.urandom(5000)}),
            "collection.anki2: not a readable Anki collection",
        ),
        "bad-zstd.apkg": (
            with_member(packages["latest"], "collection.anki21b", b"\x28\xb5\x2f\xfd" + b"x" * 50),
            "damaged zstd data",
        ),
        "not-a-package.apkg": (b"front\tback\n", "not an Anki package, though named .apkg"),
        "zipped.csv": (zip_bytes({"a.txt": b"x"}), "a zip archive, not the text its name (.csv)"),
        "database.csv": (sqlite_file.read_bytes(), "an SQLite database, not an import file"),
        "binary.txt": (b"front\x00\x01\x02back", "not a text file"),
        "latin1.txt": (b"front\tback\ncaf\xe9\tcoffee\n", "line 2: not UTF-8 text"),
        "empty.csv": (b"", "no cards in the file"),
        "one-column.csv": (b"what is a warp\nwhat is an SM\n", "line 1: 1 column(s); this file"),
        "short-row.txt": (
            b"#separator:comma\n#html:false\nfront,back\nonly a front\n",
            "line 4: 1 column(s); this file needs 2",
        ),
        "quizlet-no-tab.tsv": (b"warp\t32 threads\nSM streaming\n", "line 2: no Tab between"),
    }


def test_each_bad_file_is_one_line_and_leaves_the_database_as_it_was(
    cli, tmp_path: Path, deck_dir: Path, packages: dict[str, Path]
) -> None:
    db = tmp_path / "cli.db"
    assert cli("sync", str(deck_dir)).code == 0
    before = dump(db)
    files = tmp_path / "bad"
    files.mkdir()
    for name, (data, message) in _bad_files(packages, tmp_path).items():
        path = files / name
        path.write_bytes(data)
        result = cli("import", str(path))
        assert result.code == 1, (name, result.out, result.err)
        lines = result.err.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.err, (name, result.err)
        assert lines[0].startswith(f"prepkit: {path}"), (name, lines[0])
        assert message in lines[0], (name, lines[0])
        assert result.out == ""
        assert dump(db) == before, name
    assert not (tmp_path / "backups").exists()  # refused before a backup was needed
    missing = cli("import", str(files / "nope.apkg"))
    assert missing.code == 1 and missing.err.strip().endswith("nope.apkg: no such file")
    folder = cli("import", str(files))
    assert folder.code == 1 and "is a folder" in folder.err


def test_history_is_not_merged_into_a_card_that_has_its_own(
    cli, tmp_path: Path, packages: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A package imported twice into a database where the cards were studied since: the second
    import neither adds Anki's answers again nor touches prepkit's own."""
    db = tmp_path / "cli.db"
    assert summary(cli("import", str(packages["latest"]), "--json"))["reviews"] == ANSWERS
    later = (NOW + timedelta(days=1)).isoformat()
    monkeypatch.setenv("PREPKIT_NOW", later)
    assert cli("study", "--plain", stdin="3\n3\nq\n").code == 0
    studied = reviews_of(db)
    assert len(studied) == ANSWERS + 2
    assert summary(cli("import", str(packages["latest"]), "--json"))["reviews"] == 0
    assert reviews_of(db) == studied


@pytest.mark.backends
def test_a_package_with_history_imports_into_either_store(
    cli, backend, packages: dict[str, Path], deck_dir: Path
) -> None:
    """The same import on SQLite and on a PostgreSQL server: cards, replayed history, a second
    import finding everything, and `prepkit doctor` agreeing with the log. (Backups are the
    server's business on PostgreSQL: none is taken there.)"""
    assert cli("sync", str(deck_dir)).code == 0
    first = summary(cli("import", str(packages["latest"]), "--json"))
    assert (first["new"], first["reviews"], first["duplicate"]) == (4, ANSWERS, 0)
    assert (first["backup"] is None) == (not backend.is_sqlite)
    again = summary(cli("import", str(packages["text"]), "--json"))
    assert (again["new"], again["duplicate"]) == (0, 4)
    report = json.loads(cli("doctor", "--json").out)
    assert report["healthy"] and report["checked"]["reviews"] == ANSWERS
    csv = cli("export", "--format", "reviews-csv").out.splitlines()
    assert len(csv) == 1 + ANSWERS
