"""`prepkit export`: the review log as the FSRS optimizer reads it, written safely."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import text

from prepkit.cards import edit_card
from prepkit.export.reviews_csv import COLUMNS, ReviewRow, write_reviews_csv
from prepkit.workspace import open_workspace

from .conftest import NOW, ROOT, Backend, dump

pytestmark = pytest.mark.backends

EXAMPLE = ROOT / "decks" / "postings" / "example-ml-systems.txt"


def studied(cli, deck_dir: Path) -> None:
    assert cli("sync", str(deck_dir)).code == 0
    assert cli("study", "--plain", stdin="3\n4\n1\nq\n").code == 0


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_review_log_in_the_optimizers_columns(cli, deck_dir: Path, tmp_path: Path) -> None:
    studied(cli, deck_dir)
    out = tmp_path / "reviews.csv"
    result = cli("export", "--format", "reviews-csv", "--out", str(out), "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out) == {"format": "reviews-csv", "path": str(out), "rows": 3}
    text = out.read_text()
    assert text.splitlines()[0] == ",".join(COLUMNS)
    rows = rows_of(text)
    assert [r["review_rating"] for r in rows] == ["3", "4", "1"]
    assert all(r["review_state"] == "0" for r in rows)  # three cards met for the first time
    assert {int(r["review_time"]) for r in rows} == {int(NOW.timestamp() * 1000)}
    assert len({r["card_id"] for r in rows}) == 3
    # standard output, the same rows
    assert rows_of(cli("export", "--format", "reviews-csv").out) == rows


def test_an_existing_file_is_kept_unless_forced(cli, deck_dir: Path, tmp_path: Path) -> None:
    studied(cli, deck_dir)
    out = tmp_path / "reviews.csv"
    out.write_text("my notes\n")
    refused = cli("export", "--format", "reviews-csv", "--out", str(out))
    assert refused.code == 1
    assert refused.err.strip() == f"prepkit: {out}: already exists (add --force to replace it)"
    assert out.read_text() == "my notes\n"
    forced = cli("export", "--format", "reviews-csv", "--out", str(out), "--force")
    assert forced.code == 0 and forced.out.strip() == f"3 reviews written to {out}"
    assert len(rows_of(out.read_text())) == 3
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temp


def test_bad_requests_get_one_line_and_write_nothing(cli, deck_dir: Path, tmp_path: Path) -> None:
    studied(cli, deck_dir)
    cases = {
        ("--format", "xlsx"): "--format xlsx: not one prepkit writes yet (it writes: reviews-c",
        ("--format", "reviews-csv", "--deck", "nope"): "--deck nope: no such deck",
        ("--format", "reviews-csv", "--since", "2026-13-01"): "--since 2026-13-01: not a date",
        ("--format", "reviews-csv", "--out", str(tmp_path / "missing" / "r.csv")): (
            f"the folder {tmp_path / 'missing'} does not exist"
        ),
    }
    for args, message in cases.items():
        result = cli("export", *args)
        assert result.code == 1, args
        assert message in result.err and len(result.err.strip().splitlines()) == 1, result.err
        assert result.out == ""
    assert not (tmp_path / "missing").exists()


OTHER_DECK = """\
deck: other
title: Another deck
cards:
  - id: o-basic
    kind: basic
    front: What does NCCL stand for?
    back: NVIDIA Collective Communications Library.
    source: NVIDIA NCCL documentation
    tags: [nccl]
"""


def test_deck_and_since_filters(cli, deck_dir: Path) -> None:
    (deck_dir / "other.yaml").write_text(OTHER_DECK)
    studied(cli, deck_dir)
    everything = rows_of(cli("export", "--format", "reviews-csv").out)
    assert len(everything) == 3
    assert len(rows_of(cli("export", "--format", "reviews-csv", "--since", "2026-11-27").out)) == 3
    assert rows_of(cli("export", "--format", "reviews-csv", "--since", "2026-11-28").out) == []
    for deck in ("small", "other"):
        rows = rows_of(cli("export", "--format", "reviews-csv", "--deck", deck).out)
        assert rows and all(r["card_id"].startswith(deck[0] + "-") for r in rows)
        assert len(rows) < len(everything)


def test_a_cell_a_spreadsheet_would_run_is_quoted() -> None:
    out = io.StringIO()
    rows = [
        ReviewRow('=HYPERLINK("http://x")', 1, 3, 2, 1500),
        ReviewRow("@SUM(A1)", 2, 1, 2, None),
        ReviewRow("plain-id", 3, 4, 2, 900),
    ]
    assert write_reviews_csv(rows, out) == 3
    cells = [r["card_id"] for r in rows_of(out.getvalue())]
    assert cells == ['\'=HYPERLINK("http://x")', "'@SUM(A1)", "plain-id"]
    assert rows_of(out.getvalue())[1]["review_duration"] == ""


# -- the progress file -------------------------------------------------------------------------


def progress(cli, cli_db: str, tmp_path: Path) -> tuple[str, Path]:
    """A learner with a posting, settings, answers, an edit and a suspension; exported."""
    db = cli_db
    assert cli("init", "--posting", str(EXAMPLE), "--interview", "2027-01-15").code == 0
    assert cli("study", "--plain", stdin="3\n1\n4\n2\n3\nu\n-\n!\n3\nq\n").code == 0
    with open_workspace(db, NOW) as ws:
        with ws.read() as conn:
            first = conn.execute(text("SELECT key FROM card LIMIT 1")).scalar_one()
        edit_card(ws, first, "My own front", "My own back", NOW)
    out = tmp_path / "progress.json"
    result = cli("export", "--format", "json", "--out", str(out))
    assert result.code == 0, result.err
    return db, out


def test_the_progress_file_restores_every_row_into_a_new_database(
    cli, cli_db: str, backend: Backend, tmp_path: Path
) -> None:
    db, out = progress(cli, cli_db, tmp_path)
    before = dump(db)
    assert len(before) == 9 and all(before.values()), [t for t, rows in before.items() if not rows]
    copy = backend.db("restored.db")
    result = cli("--db", copy, "import", str(out))
    assert result.code == 0, result.err
    assert "restored" in result.out and " reviews" in result.out
    assert dump(copy) == before
    # and the learner sees the same: counts, due cards, the plan's inputs
    assert cli("--db", copy, "stats", "--json").out == cli("stats", "--json").out
    # and goes on where they were: new answers, edits and postings get new rows of their own
    # (the ids the file brought in are taken: PostgreSQL's sequences must have moved past them)
    assert cli("--db", copy, "study", "--plain", stdin="3\n3\nq\n").code == 0
    with open_workspace(copy, NOW) as ws:
        with ws.read() as conn:
            first = conn.execute(text("SELECT key FROM card ORDER BY id LIMIT 1")).scalar_one()
        edit_card(ws, first, "Edited again", "Back again", NOW)
    assert cli("--db", copy, "--profile", "second", "stats").code == 0  # a new learner row
    after = dump(copy)
    assert len(after["review"]) == len(before["review"]) + 2
    assert len(after["card_edit"]) == len(before["card_edit"]) + 1


def test_a_dry_run_checks_everything_and_writes_nothing(
    cli, cli_db: str, backend: Backend, tmp_path: Path
) -> None:
    _db, out = progress(cli, cli_db, tmp_path)
    copy = backend.db("restored.db")
    result = cli("--db", copy, "import", str(out), "--dry-run", "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["dry_run"] is True and report["rows"]["review"] > 0
    assert all(not rows for table, rows in dump(copy).items() if table != "setting")


def test_a_bad_progress_file_is_one_line_and_changes_nothing(
    cli, cli_db: str, backend: Backend, tmp_path: Path
) -> None:
    db, out = progress(cli, cli_db, tmp_path)
    doc = json.loads(out.read_text())
    target = backend.db("target.db")
    assert cli("--db", target, "stats").code == 0  # an empty database
    empty = dump(target)
    newer = {**doc, "version": 2}
    wrong_column = json.loads(json.dumps(doc))
    wrong_column["tables"]["review"][0]["rating_x"] = wrong_column["tables"]["review"][0].pop(
        "rating"
    )
    wrong_type = json.loads(json.dumps(doc))
    wrong_type["tables"]["review"][1]["reviewed_at"] = "yesterday"
    dangling = json.loads(json.dumps(doc))
    dangling["tables"]["review"][0]["card_id"] = 99_999_999
    cases = {
        "newer.json": (json.dumps(newer), "written by a newer prepkit (file version 2"),
        "column.json": (json.dumps(wrong_column), "tables.review[0]: missing rating"),
        "type.json": (json.dumps(wrong_type), "tables.review[1].reviewed_at: not a int"),
        "dangling.json": (json.dumps(dangling), "does not fit the database ("),
        "truncated.json": (out.read_text()[:500], "not JSON (line"),
        "other.json": ('{"format": "anki"}', "not a prepkit progress file"),
        "binary.json": (None, "not UTF-8 text (byte 0)"),
    }
    for name, (body, message) in cases.items():
        path = tmp_path / name
        if body is None:
            path.write_bytes(b"\xff\xfe\x00PK\x03\x04")
        else:
            path.write_text(body)
        result = cli("--db", target, "import", str(path))
        assert result.code == 1, name
        assert result.err.startswith(f"prepkit: {path}: "), result.err
        assert message in result.err and len(result.err.strip().splitlines()) == 1, result.err
        if name == "dangling.json":  # SQLite's "FOREIGN KEY …", PostgreSQL's "… foreign key …"
            assert "foreign key" in result.err.lower(), result.err
        assert dump(target) == empty, name
    # a database that already has cards is refused, and stays as it was
    mine = dump(db)
    refused = cli("import", str(out))
    assert refused.code == 1 and "already has" in refused.err
    assert dump(db) == mine
    missing = cli("--db", target, "import", str(tmp_path / "nope.json"))
    assert missing.code == 1 and missing.err.strip().endswith("nope.json: no such file")


# -- the report --------------------------------------------------------------------------------


def test_the_report_says_where_the_learner_stands(cli, cli_db: str, tmp_path: Path) -> None:
    progress(cli, cli_db, tmp_path)
    result = cli("export", "--format", "md")
    assert result.code == 0, result.err
    report = result.out
    assert report.startswith("# Interview preparation: default\n")
    assert "Interview on Friday 15 January 2027: 49 days left." in report
    assert "## Qualifications: Research Scientist / Research Engineer" in report
    # every qualification of the posting is a row, with its readiness or "no deck"
    rows = [line for line in report.splitlines() if line.endswith(("| minimum |", "| preferred |"))]
    assert len(rows) >= 8 and any("PyTorch" in row for row in rows)
    assert "## Topics" in report and "| Research practice | 6 |" in report
    assert "- Streak: 1 day (longest 1 day)." in report
    assert "## Weakest cards" in report and "(`" in report
    out = tmp_path / "report.md"
    assert cli("export", "--format", "md", "--out", str(out)).code == 0
    assert out.read_text() == cli("export", "--format", "md").out
    refused = cli("export", "--format", "md", "--out", str(out))
    assert refused.code == 1 and "already exists" in refused.err
    assert cli("export", "--format", "md", "--deck", "x").code == 1


def test_text_in_the_report_is_shown_never_run() -> None:
    from datetime import date

    from prepkit.export.report import ReportData, TopicLine, WeakCard, markdown

    nasty = "A | B <script>alert(1)</script> *bold* [link](http://x) `code`"
    data = ReportData(
        generated_at=NOW,
        profile="me",
        interview=date(2026, 12, 18),
        days_left=21,
        readiness=0.5,
        weighted=True,
        introduced=1,
        cards=2,
        postings=(),
        topics=(TopicLine(nasty, 3, 1, 2, 0.5, None, 0),),
        retention=None,
        retention_reviews=0,
        streak=0,
        longest_streak=0,
        studied_days_30=0,
        reviews_30=0,
        minutes_30=0.0,
        due_next=(),
        weakest=(WeakCard("k`1", nasty, "t", 2, 0.25),),
        heatmap=(),
    )
    report = markdown(data)
    assert "<script>" not in report and "\\<script\\>" in report
    assert "A \\| B" in report  # a pipe would split the table row
    assert "\\*bold\\*" in report and "\\[link\\](http://x)" in report
    assert "(`k1`)" in report
    # the rows keep their cells: five in the topic table, four in the weakest cards
    rows = [line for line in report.splitlines() if line.startswith("| A")]
    assert sorted(row.count(" | ") for row in rows) == [3, 4]
