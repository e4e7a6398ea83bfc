"""Sync: one transaction; edits keep history; removed cards retire; broken decks change nothing."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

from prepkit.deck.load import load_paths
from prepkit.deck.model import Card, Deck, Kind
from prepkit.schedule.review import Rating
from prepkit.study import StudySession
from prepkit.workspace import CHUNK, stats, sync_library

from .conftest import DATA, NOW, SMALL_DECK


def study_everything(workspace, at) -> int:
    answered = 0
    with StudySession(workspace, at) as session:
        while (shown := session.next(at)) is not None:
            session.answer(Rating.EASY, at)
            answered += 1
            assert shown
    return answered


def card_row(workspace, key: str):
    with workspace.engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT c.id, c.front, c.retired_at, s.reps, s.stability, "
                "(SELECT COUNT(*) FROM review r WHERE r.card_id = c.id) "
                "FROM card c JOIN card_state s ON s.card_id = c.id WHERE c.key = :key"
            ),
            {"key": key},
        ).one()


def test_sync_twice_changes_nothing(workspace, deck_dir: Path) -> None:
    report = sync_library(workspace, load_paths([deck_dir]), NOW)
    assert (report.added, report.updated, report.unchanged, report.retired) == (0, 0, 5, 0)


def test_editing_a_card_keeps_its_history(workspace, deck_dir: Path) -> None:
    study_everything(workspace, NOW)
    before = card_row(workspace, "s-basic")
    assert before.reps == 1
    edited = SMALL_DECK.replace("What is a warp?", "What is a warp, on NVIDIA GPUs?")
    (deck_dir / "small.yaml").write_text(edited)
    report = sync_library(workspace, load_paths([deck_dir]), NOW + timedelta(days=1))
    assert (report.added, report.updated, report.unchanged) == (0, 1, 4)
    after = card_row(workspace, "s-basic")
    assert after.id == before.id
    assert after.front == "What is a warp, on NVIDIA GPUs?"
    assert (after.reps, after.stability, after[5]) == (before.reps, before.stability, 1)


def test_removed_cards_retire_with_their_history_and_come_back(workspace, deck_dir: Path) -> None:
    study_everything(workspace, NOW)
    without = SMALL_DECK.split("  - id: s-prompt")[0]
    (deck_dir / "small.yaml").write_text(without)
    report = sync_library(workspace, load_paths([deck_dir]), NOW)
    assert report.retired == 1
    retired = card_row(workspace, "s-prompt")
    assert retired.retired_at is not None and retired[5] == 1
    assert stats(workspace, NOW).cards == 4
    (deck_dir / "small.yaml").write_text(SMALL_DECK)
    report = sync_library(workspace, load_paths([deck_dir]), NOW)
    assert report.restored == 1
    back = card_row(workspace, "s-prompt")
    assert back.retired_at is None and back.id == retired.id and back.reps == 1


def test_syncing_one_deck_leaves_other_decks_alone(workspace, deck_dir: Path, tmp_path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(
        "deck: other\ntitle: Other\ncards:\n  - id: o-1\n    kind: basic\n    front: f\n"
        "    back: b\n    source: s\n    tags: [t]\n"
    )
    report = sync_library(workspace, load_paths([other]), NOW)
    assert (report.added, report.retired) == (1, 0)
    assert stats(workspace, NOW).cards == 6


def db_digest(path: Path) -> str:
    data = b"".join(
        p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")) if p.is_file()
    )
    return hashlib.sha256(data).hexdigest()


def test_a_broken_deck_during_sync_changes_nothing(cli, tmp_path: Path, deck_dir: Path) -> None:
    assert cli("sync", str(deck_dir)).code == 0
    db = tmp_path / "cli.db"
    before = db_digest(db)
    (deck_dir / "broken.yaml").write_text((DATA / "broken" / "yaml11-bool.yaml").read_text())
    (deck_dir / "small.yaml").write_text(SMALL_DECK.replace("What is a warp?", "Changed?"))
    result = cli("sync", str(deck_dir))
    assert result.code == 1
    assert result.err.strip().splitlines() == [
        f"{deck_dir / 'broken.yaml'}:7: card 'yb-card' (basic): 'back' is a boolean to YAML, "
        'not text (`no`); quote it: back: "no"'
    ]
    assert db_digest(db) == before


def test_sync_is_one_transaction(workspace, deck_dir: Path, monkeypatch) -> None:
    """A failure late in sync (after cards were inserted) rolls everything back."""
    import prepkit.workspace as ws_module

    (deck_dir / "small.yaml").write_text(SMALL_DECK.replace("s-basic", "s-basic-2"))

    def boom(conn):
        raise RuntimeError("power cut")

    monkeypatch.setattr(ws_module, "add_missing_states", boom)
    try:
        sync_library(workspace, load_paths([deck_dir]), NOW)
    except RuntimeError:
        pass
    with workspace.engine.connect() as conn:
        keys = {row[0] for row in conn.execute(text("SELECT key FROM card"))}
        retired = conn.execute(
            text("SELECT COUNT(*) FROM card WHERE retired_at IS NOT NULL")
        ).scalar()
    assert "s-basic-2" not in keys and "s-basic" in keys and retired == 0


def big_deck(deck_id: str, keys: list[str], changed: str = "") -> Deck:
    cards = tuple(
        Card(
            id=key,
            deck=deck_id,
            kind=Kind.BASIC,
            front=f"Question {key}{' (edited)' if key == changed else ''}?",
            back=f"Answer {key}.",
            source="test",
        )
        for key in keys
    )
    return Deck(deck_id, f"Deck {deck_id}", cards)


def test_a_library_larger_than_a_chunk_resyncs_card_by_card(workspace) -> None:
    """Sync matches cards against the stored ones a chunk at a time: across chunks a moved card
    is still the same card (updated, history kept), a removed one retires and comes back."""
    a = [f"a-{i:04d}" for i in range(CHUNK + 500)]
    b = [f"b-{i:04d}" for i in range(10)]
    first = sync_library(workspace, [big_deck("big-a", a), big_deck("big-b", b)], NOW)
    assert (first.added, first.updated, first.retired) == (len(a) + len(b), 0, 0)
    moved, removed, edited = a[-1], a[-2], a[5]
    before = card_row(workspace, moved)
    report = sync_library(
        workspace, [big_deck("big-a", a[:-2], changed=edited), big_deck("big-b", [*b, moved])], NOW
    )
    assert (report.added, report.updated, report.unchanged) == (0, 2, len(a) - 3 + len(b))
    assert (report.retired, report.restored) == (1, 0)
    assert card_row(workspace, moved).id == before.id
    assert card_row(workspace, removed).retired_at is not None
    assert card_row(workspace, edited).front == f"Question {edited} (edited)?"
    assert stats(workspace, NOW).cards == 5 + len(a) - 1 + len(b)
    back = sync_library(workspace, [big_deck("big-a", a), big_deck("big-b", b)], NOW)
    assert (back.added, back.updated, back.restored, back.retired) == (0, 2, 1, 0)
    assert card_row(workspace, removed).retired_at is None
    assert card_row(workspace, moved).id == before.id
