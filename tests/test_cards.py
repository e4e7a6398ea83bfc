"""Card services: the learner's edits (kept through sync, logged, revertible), card info, the
browser's search and its bulk actions."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, text

from prepkit.cards import (
    BrowseFilter,
    browse,
    card_edits,
    card_info,
    edit_card,
    like_pattern,
    revert_card,
    set_flag,
    set_suspended,
)
from prepkit.deck.load import load_paths
from prepkit.errors import PrepkitError
from prepkit.schedule.review import Rating, Reviewer, State
from prepkit.study import StudySession
from prepkit.workspace import open_workspace, sync_library

from .conftest import NOW, SMALL_DECK
from .test_study import dump
from .test_sync import db_digest

WARP = "What is a warp?"
MY_FRONT = "Warp: how many threads, and what do they share?"
MY_BACK = "32 threads; one instruction stream (SIMT)."


def card_id(workspace, key: str) -> int:
    with workspace.engine.connect() as conn:
        return int(conn.execute(text("SELECT id FROM card WHERE key = :k"), {"k": key}).scalar())


def shown_cards(workspace, at) -> dict[str, object]:
    """Every card a fresh session shows (answering Easy), by key: what the learner would see."""
    seen = {}
    with StudySession(workspace, at) as session:
        while (shown := session.next(at)) is not None:
            seen[shown.card.id] = shown
            session.answer(Rating.EASY, at)
    return seen


# -- edits ---------------------------------------------------------------------------------------


def test_an_edit_is_what_the_next_session_and_card_info_show(workspace) -> None:
    card = edit_card(workspace, "s-basic", MY_FRONT, MY_BACK, NOW)
    assert (card.front, card.back, card.id) == (MY_FRONT, MY_BACK, "s-basic")
    shown = shown_cards(workspace, NOW)
    assert shown["s-basic"].card.front == MY_FRONT
    assert shown["s-basic"].card.back == MY_BACK
    assert shown["s-basic"].edited is True
    assert shown["s-numeric"].edited is False
    info = card_info(workspace, "s-basic", NOW)
    assert (info.card.front, info.card.back, info.edited) == (MY_FRONT, MY_BACK, True)
    assert (info.library_front, info.library_changed) == (WARP, False)


def test_an_edit_survives_a_sync_that_changes_the_library_text(workspace, deck_dir: Path) -> None:
    edit_card(workspace, "s-basic", MY_FRONT, MY_BACK, NOW)
    changed = SMALL_DECK.replace(WARP, "What is a warp, on NVIDIA GPUs?")
    (deck_dir / "small.yaml").write_text(changed)
    report = sync_library(workspace, load_paths([deck_dir]), NOW + timedelta(days=1))
    assert report.updated == 1
    later = NOW + timedelta(days=1)
    assert shown_cards(workspace, later)["s-basic"].card.front == MY_FRONT
    info = card_info(workspace, "s-basic", later)
    assert info.card.front == MY_FRONT
    assert info.library_front == "What is a warp, on NVIDIA GPUs?"
    assert info.library_changed is True
    # Editing again is made against the new library text: nothing moved underneath any more.
    edit_card(workspace, "s-basic", MY_FRONT + " (v2)", MY_BACK, later)
    assert card_info(workspace, "s-basic", later).library_changed is False


def test_revert_puts_the_library_text_back_and_is_logged(workspace, deck_dir: Path) -> None:
    edit_card(workspace, "s-basic", MY_FRONT, MY_BACK, NOW)
    (deck_dir / "small.yaml").write_text(SMALL_DECK.replace(WARP, "Define a warp."))
    sync_library(workspace, load_paths([deck_dir]), NOW)
    card = revert_card(workspace, "s-basic", NOW + timedelta(minutes=1))
    assert card.front == "Define a warp."  # the library text as it is now, not as it was
    shown = shown_cards(workspace, NOW + timedelta(minutes=1))["s-basic"]
    assert (shown.card.front, shown.edited) == ("Define a warp.", False)
    log = card_edits(workspace, "s-basic")
    assert [entry.reverted for entry in log] == [False, True]
    assert (log[1].old_front, log[1].front) == (MY_FRONT, "Define a warp.")
    with pytest.raises(PrepkitError, match="'s-basic' has no edit to revert"):
        revert_card(workspace, "s-basic", NOW)


def test_the_edit_log_keeps_every_version_in_order(workspace) -> None:
    edit_card(workspace, "s-basic", "v1", "b1", NOW)
    edit_card(workspace, "s-basic", "v2", "b1", NOW + timedelta(minutes=1))
    edit_card(workspace, "s-basic", "v2", "b1", NOW + timedelta(minutes=2))  # no change: no entry
    revert_card(workspace, "s-basic", NOW + timedelta(minutes=3))
    edit_card(workspace, card_id(workspace, "s-basic"), "v3", "b3", NOW + timedelta(minutes=4))
    log = card_edits(workspace, "s-basic")
    assert [(e.old_front, e.front, e.back, e.reverted) for e in log] == [
        (WARP, "v1", "b1", False),
        ("v1", "v2", "b1", False),
        ("v2", WARP, "A group of 32 threads that execute together.", True),
        (WARP, "v3", "b3", False),
    ]
    assert [e.at for e in log] == [NOW + timedelta(minutes=i) for i in (0, 1, 3, 4)]
    assert {e.learner for e in log} == {"default"}
    assert card_edits(workspace, "s-numeric") == []


def test_an_edit_leaves_the_schedule_and_history_alone(workspace) -> None:
    later = NOW + timedelta(days=30)  # Easy on a new card schedules it about a week out
    shown_cards(workspace, NOW)
    shown_cards(workspace, later)
    before = dump(workspace)
    info_before = card_info(workspace, "s-basic", later)
    assert info_before.reps == 2
    edit_card(workspace, "s-basic", MY_FRONT, MY_BACK, later)
    revert_card(workspace, "s-basic", later)
    edit_card(workspace, "s-basic", MY_FRONT, MY_BACK, later)
    assert dump(workspace) == before
    info = card_info(workspace, "s-basic", later)
    assert (info.reps, info.stability, info.due, info.reviews) == (
        info_before.reps,
        info_before.stability,
        info_before.due,
        info_before.reviews,
    )


def test_edits_belong_to_one_learner(tmp_path: Path, deck_dir: Path) -> None:
    db = str(tmp_path / "shared.db")
    with open_workspace(db, NOW, profile="ada") as ada:
        sync_library(ada, load_paths([deck_dir]), NOW)
        edit_card(ada, "s-basic", MY_FRONT, MY_BACK, NOW)
    with open_workspace(db, NOW, profile="grace") as grace:
        assert shown_cards(grace, NOW)["s-basic"].card.front == WARP
        assert card_edits(grace, "s-basic") == []
        assert card_info(grace, "s-basic", NOW).edited is False


@pytest.mark.parametrize(
    ("key", "front", "back", "message"),
    [
        ("s-basic", "   \n", MY_BACK, r"^card 's-basic' \(basic\): the front cannot be empty$"),
        ("s-basic", MY_FRONT, "  ", r"^card 's-basic' \(basic\): a basic card needs a back$"),
        (
            "s-cloze",
            "DDP all-reduces gradients in buckets during backward.",
            None,
            r"^card 's-cloze' \(cloze\): malformed cloze: no deletion of the form",
        ),
        (
            "s-cloze",
            "DDP all-reduces {{c1::buckets during backward.",
            None,
            r"^card 's-cloze' \(cloze\): malformed cloze: unbalanced '\{\{'",
        ),
    ],
)
def test_a_refused_edit_is_one_line_and_leaves_the_database_byte_identical(
    workspace, tmp_path: Path, key: str, front: str, back: str | None, message: str
) -> None:
    edit_card(workspace, "s-numeric", "An earlier edit?", None, NOW)
    path = tmp_path / "prepkit.db"
    # Closing every connection checkpoints the WAL into the file and removes the -wal and -shm
    # (the -shm is a shared-memory index that every read touches): what stays is the database.
    workspace.engine.dispose()
    before = db_digest(path)
    with pytest.raises(PrepkitError, match=message) as refused:
        edit_card(workspace, key, front, back, NOW + timedelta(minutes=1))
    assert len(str(refused.value).splitlines()) == 1
    workspace.engine.dispose()
    assert db_digest(path) == before


def test_unknown_cards_are_named(workspace) -> None:
    with pytest.raises(PrepkitError, match="no card 'nope'"):
        edit_card(workspace, "nope", "f", "b", NOW)
    with pytest.raises(PrepkitError, match="no card #999999"):
        card_info(workspace, 999999, NOW)


def test_a_cloze_edit_that_keeps_deletions_is_accepted(workspace) -> None:
    front = "DDP all-reduces {{c1::bucketed}} gradients {{c2::during backward}}."
    assert edit_card(workspace, "s-cloze", front, None, NOW).front == front
    assert shown_cards(workspace, NOW)["s-cloze"].card.front == front


# -- editing during review -----------------------------------------------------------------------


def test_edit_shown_reshows_the_card_with_the_same_outcomes(workspace) -> None:
    with StudySession(workspace, NOW) as session:
        shown = session.next(NOW)
        assert shown is not None
        key = shown.card.id
        edited = session.edit_shown(
            "My own question?", "My own answer.", NOW + timedelta(seconds=5)
        )
        assert edited.card_id == shown.card_id and edited.card.id == key
        assert (edited.card.front, edited.card.back, edited.edited) == (
            "My own question?",
            "My own answer.",
            True,
        )
        assert edited.outcomes == shown.outcomes
        assert edited.state == shown.state and edited.shown_at == shown.shown_at
        assert session.next(NOW) is edited  # still the card in front of the learner
        assert not session.can_undo()  # an edit is not an answer
        answered = session.answer(Rating.GOOD, NOW + timedelta(seconds=9))
        assert answered.outcome.after.due == shown.outcome(Rating.GOOD).after.due + timedelta(
            seconds=9
        )
        # Undo takes back the answer and shows the card again, still with the learner's text.
        again = session.undo(NOW + timedelta(seconds=10))
        assert again is not None and again.card.front == "My own question?" and again.edited
        reverted = session.revert_shown(NOW + timedelta(seconds=11))
        assert reverted.card.front != "My own question?" and not reverted.edited
        assert reverted.outcomes == again.outcomes


def test_a_refused_edit_during_review_keeps_the_card_shown(workspace) -> None:
    with StudySession(workspace, NOW) as session:
        shown = session.next(NOW)
        with pytest.raises(PrepkitError, match="the front cannot be empty"):
            session.edit_shown("", "back", NOW)
        assert session.next(NOW) is shown
    with pytest.raises(RuntimeError, match="no card is shown"):
        with StudySession(workspace, NOW) as idle:
            idle.edit_shown("f", "b", NOW)


# -- card info -----------------------------------------------------------------------------------


def test_card_info_numbers_are_the_reviewers(workspace) -> None:
    from prepkit.config import Settings

    workspace.save_settings(Settings(desired_retention=0.85))
    key = "s-basic"
    answers = []
    at = NOW
    for grade, gap in ((Rating.GOOD, timedelta(0)), (Rating.GOOD, timedelta(minutes=15))):
        at += gap
        with StudySession(workspace, at) as session:
            while (shown := session.next(at)) is not None and shown.card.id != key:
                session.bury(at)
            assert shown is not None
            answers.append(session.answer(grade, at, duration_ms=7300))
    with StudySession(workspace, at) as session:
        reviewer = session.reviewer
    last = answers[-1].outcome.after
    later = at + timedelta(days=2)
    info = card_info(workspace, key, later)
    assert info.state == last.state.name.lower() == "review"
    assert (info.stability, info.difficulty, info.due) == (
        pytest.approx(last.stability),
        pytest.approx(last.difficulty),
        last.due.replace(microsecond=last.due.microsecond // 1000 * 1000),
    )
    assert info.retrievability == pytest.approx(reviewer.retrievability(last, later))
    assert 0.0 < info.retrievability < 1.0
    assert info.interval_days == pytest.approx(
        (last.due - last.last_review).total_seconds() / 86400
    )
    assert (info.reps, info.lapses) == (2, 0)
    assert [(r.rating, r.state_before, r.duration_ms) for r in info.reviews] == [
        (Rating.GOOD, "new", 7300),
        (Rating.GOOD, "learning", 7300),
    ]
    assert [r.interval_days for r in info.reviews] == [
        pytest.approx(a.outcome.interval.total_seconds() / 86400, abs=1e-6) for a in answers
    ]
    assert [r.at for r in info.reviews] == [NOW, at]
    assert info.deck_title == "Small test deck"
    assert info.source == "CUDA C++ Programming Guide"
    assert info.added == NOW
    assert (info.suspended, info.buried, info.flag, info.retired) == (False, False, 0, False)


def test_card_info_of_a_new_card(workspace) -> None:
    info = card_info(workspace, "s-prompt", NOW)
    assert (info.state, info.due, info.retrievability, info.reviews) == ("new", None, 0.0, ())
    assert info.card.rubric == ("row vs column sharding", "load balance", "communication")
    fresh = Reviewer().retrievability(info_state_new(), NOW)
    assert fresh == info.retrievability


def info_state_new():
    from prepkit.schedule.review import CardState

    return CardState(state=State.NEW)


# -- browser -------------------------------------------------------------------------------------

OTHER_DECK = """\
deck: other
title: Other deck
cards:
  - id: o-percent
    kind: basic
    front: What does 100% occupancy mean?
    back: Every warp slot on the SM is filled.
    source: CUDA C++ Best Practices Guide
    tags: [gpu]
  - id: o-underscore
    kind: basic
    front: What does __syncthreads do?
    back: A barrier for all threads of a block.
    source: CUDA C++ Programming Guide
    tags: [gpu, sync]
  - id: o-backslash
    kind: basic
    front: How is a newline written in a C string?
    back: As the escape \\n (a backslash, then n).
    source: K&R, 2nd edition
    tags: [c]
"""


@pytest.fixture
def library(workspace, deck_dir: Path):
    """The small deck plus a second deck, with cards in every state the browser filters on."""
    (deck_dir / "other.yaml").write_text(OTHER_DECK)
    sync_library(workspace, load_paths([deck_dir]), NOW)
    ids = {key: card_id(workspace, key) for key in ("s-basic", "s-numeric", "s-cloze", "s-choice")}
    ids |= {key: card_id(workspace, key) for key in ("s-prompt", "o-percent", "o-underscore")}
    with workspace.engine.begin() as conn:
        # s-numeric: a review card due yesterday; s-cloze: a review card due next week;
        # s-basic: in learning, due now; o-underscore: new but buried until tomorrow.
        day = 86_400_000
        now_ms = int(NOW.timestamp() * 1000)
        for key, state, due in (
            ("s-numeric", 2, now_ms - day),
            ("s-cloze", 2, now_ms + 7 * day),
            ("s-basic", 1, now_ms),
        ):
            conn.execute(
                text(
                    "UPDATE card_state SET state = :state, step = 0, stability = 3.0, "
                    "difficulty = 5.0, due = :due, last_review = :last, reps = 1 "
                    "WHERE card_id = :id"
                ),
                {"state": state, "due": due, "last": now_ms - 2 * day, "id": ids[key]},
            )
        conn.execute(
            text("UPDATE card_state SET buried_until = :until WHERE card_id = :id"),
            {"until": now_ms + day, "id": ids["o-underscore"]},
        )
    set_suspended(workspace, [ids["s-choice"], ids["s-numeric"]], True)
    set_flag(workspace, [ids["s-prompt"], ids["s-cloze"]], 2)
    set_flag(workspace, [ids["o-percent"]], 5)
    return ids


def keys(result) -> list[str]:
    return [row.key for row in result.rows]


def test_browse_filters_alone_and_combined_give_exact_matches(workspace, library) -> None:
    def find(**wanted):
        result = browse(workspace, NOW, BrowseFilter(**wanted))
        assert result.total == len(result.rows)  # everything fits on the default page
        return sorted(keys(result))

    small = ["s-basic", "s-choice", "s-cloze", "s-numeric", "s-prompt"]
    assert find() == sorted([*small, "o-backslash", "o-percent", "o-underscore"])
    assert find(topic="small") == small
    assert find(kind="basic") == ["o-backslash", "o-percent", "o-underscore", "s-basic"]
    assert find(topic="other", kind="cloze") == []
    assert find(state="new") == ["o-backslash", "o-percent", "o-underscore", "s-choice", "s-prompt"]
    assert find(state="learning") == ["s-basic"]
    assert find(state="review") == ["s-cloze", "s-numeric"]
    assert find(state="suspended") == ["s-choice", "s-numeric"]
    assert find(state="buried") == ["o-underscore"]
    assert find(state="flagged") == ["o-percent", "s-cloze", "s-prompt"]
    # Due today and studyable: s-numeric is due but suspended, s-cloze is due next week.
    assert find(state="due") == ["s-basic"]
    assert find(flag=2) == ["s-cloze", "s-prompt"]
    assert find(flag=2, state="review") == ["s-cloze"]
    assert find(flag=0, topic="other") == ["o-backslash", "o-underscore"]
    assert find(text="WARP") == ["o-percent", "s-basic"]  # case-insensitive; backs too
    assert find(text="gpu", topic="other") == ["o-percent", "o-underscore"]  # tags
    assert find(text="s-pro") == ["s-prompt"]  # the key
    assert find(text="warp", kind="basic", state="new") == ["o-percent"]
    assert find(text="nothing like this anywhere") == []


def test_browse_rows_describe_the_card(workspace, library) -> None:
    long_front = "Why? " + "x" * 200 + "\nsecond line"
    edit_card(workspace, "s-prompt", long_front, None, NOW)
    rows = {row.key: row for row in browse(workspace, NOW).rows}
    prompt = rows["s-prompt"]
    assert prompt.edited and prompt.front.startswith("Why? xxx") and prompt.front.endswith("…")
    assert len(prompt.front) == 80 and "second" not in prompt.front
    assert (prompt.deck, prompt.kind, prompt.state, prompt.flag) == ("small", "prompt", "new", 2)
    numeric = rows["s-numeric"]
    assert (numeric.state, numeric.suspended, numeric.edited) == ("review", True, False)
    assert numeric.due == NOW - timedelta(days=1)
    assert rows["o-underscore"].buried and not rows["s-basic"].buried
    # The library order: deck by deck, each in the order of its file.
    assert keys(browse(workspace, NOW, BrowseFilter(topic="small"))) == [
        "s-basic",
        "s-numeric",
        "s-cloze",
        "s-choice",
        "s-prompt",
    ]


def test_browse_searches_the_learners_edit_too(workspace, library) -> None:
    edit_card(workspace, "s-choice", "Which NCCL collective sums gradients?", None, NOW)
    assert keys(browse(workspace, NOW, BrowseFilter(text="nccl"))) == ["s-choice"]
    # The library text is still searchable: the card is the same card.
    assert keys(browse(workspace, NOW, BrowseFilter(text="does DDP use"))) == ["s-choice"]


def test_browse_pages_and_total(workspace, library) -> None:
    everything = keys(browse(workspace, NOW))
    pages = [browse(workspace, NOW, BrowseFilter(limit=3, offset=o)) for o in (0, 3, 6)]
    assert [page.total for page in pages] == [8, 8, 8]
    assert [key for page in pages for key in keys(page)] == everything
    assert [len(page.rows) for page in pages] == [3, 3, 2]
    past_the_end = browse(workspace, NOW, BrowseFilter(offset=20))
    assert (past_the_end.rows, past_the_end.total) == ((), 8)
    count_only = browse(workspace, NOW, BrowseFilter(limit=0, kind="basic"))
    assert (count_only.rows, count_only.total) == ((), 4)
    assert browse(workspace, NOW, BrowseFilter(text="no such text")).total == 0


def test_like_wildcards_in_the_search_text_are_literal(workspace, library) -> None:
    assert like_pattern("100%_a\\b") == "%100\\%\\_a\\\\b%"
    # Unescaped, '%' would match every card and '_' any one character.
    assert keys(browse(workspace, NOW, BrowseFilter(text="%"))) == ["o-percent"]
    assert keys(browse(workspace, NOW, BrowseFilter(text="0%"))) == ["o-percent"]
    assert keys(browse(workspace, NOW, BrowseFilter(text="__"))) == ["o-underscore"]
    assert keys(browse(workspace, NOW, BrowseFilter(text="w_rp"))) == []
    assert keys(browse(workspace, NOW, BrowseFilter(text="\\n"))) == ["o-backslash"]


def test_retired_cards_are_left_out_unless_asked_for(workspace, library, deck_dir: Path) -> None:
    (deck_dir / "small.yaml").write_text(SMALL_DECK.split("  - id: s-prompt")[0])
    assert sync_library(workspace, load_paths([deck_dir]), NOW).retired == 1
    assert "s-prompt" not in keys(browse(workspace, NOW))
    assert browse(workspace, NOW).total == 7
    with_retired = browse(workspace, NOW, BrowseFilter(include_retired=True, flag=2))
    assert [(row.key, row.retired) for row in with_retired.rows] == [
        ("s-cloze", False),
        ("s-prompt", True),
    ]


def test_bad_filters_are_refused_with_the_choices(workspace) -> None:
    with pytest.raises(PrepkitError, match=r"unknown state filter 'old' \(one of new, learning"):
        browse(workspace, NOW, BrowseFilter(state="old"))
    with pytest.raises(PrepkitError, match=r"unknown card kind 'essay' \(one of basic, cloze"):
        browse(workspace, NOW, BrowseFilter(kind="essay"))
    with pytest.raises(PrepkitError, match="flags are 1-7"):
        set_flag(workspace, [1], 8)


# -- bulk actions --------------------------------------------------------------------------------


def test_bulk_suspend_counts_changes_and_the_queue_leaves_them_out(workspace, library) -> None:
    targets = [library["s-basic"], library["s-prompt"], library["s-choice"]]  # s-choice already
    assert set_suspended(workspace, targets, True) == 2
    assert set_suspended(workspace, targets, True) == 0
    with StudySession(workspace, NOW) as session:
        queued = set()
        while (shown := session.next(NOW)) is not None:
            queued.add(shown.card.id)
            session.answer(Rating.EASY, NOW)
    assert queued.isdisjoint({"s-basic", "s-prompt", "s-choice", "s-numeric"})
    assert "o-percent" in queued
    assert set_suspended(workspace, [library["s-basic"], library["s-numeric"]], False) == 2


def test_bulk_actions_are_one_transaction(workspace, library, monkeypatch) -> None:
    """Over several chunks, a failure on the last one leaves every card as it was."""
    import prepkit.cards

    monkeypatch.setattr(prepkit.cards, "CHUNK", 2)
    targets = list(library.values())
    statements: list[str] = []
    commits: list[int] = []

    def count_updates(_conn, _cursor, statement, *_args) -> None:
        if statement.startswith("UPDATE card_state"):
            statements.append(statement)

    event.listen(workspace.engine, "before_cursor_execute", count_updates)
    event.listen(workspace.engine, "commit", lambda _conn: commits.append(1))
    assert set_flag(workspace, targets, 7) == len(targets)
    assert (len(statements), len(commits)) == (4, 1)
    before = dump(workspace)

    def fail_on_the_last_chunk(_conn, _cursor, statement, *_args) -> None:
        if statement.startswith("UPDATE card_state") and len(statements) == 8:
            raise RuntimeError("disk full")

    event.listen(workspace.engine, "before_cursor_execute", fail_on_the_last_chunk)
    with pytest.raises(RuntimeError, match="disk full"):
        set_flag(workspace, targets, 3)
    assert dump(workspace) == before
    assert {row.flag for row in browse(workspace, NOW).rows if row.card_id in targets} == {7}
