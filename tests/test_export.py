"""`prepkit export`: the review log as the FSRS optimizer reads it, written safely."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from prepkit.export.reviews_csv import COLUMNS, ReviewRow, write_reviews_csv

from .conftest import NOW


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
        ("--format", "xlsx"): "--format xlsx: not one prepkit writes yet (it writes: reviews-csv)",
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
