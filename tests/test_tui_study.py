"""The reviewer, driven with Pilot as a learner would, checked against what the database holds."""

from __future__ import annotations

from datetime import timedelta

import pytest

from prepkit.schedule.days import from_ms
from prepkit.schedule.review import Rating, format_interval
from prepkit.study import StudySession
from prepkit.tui.app import PrepkitApp
from prepkit.workspace import Workspace

from .conftest import NOW, refuse_quickly, writes_held
from .tui_helpers import card_state, reviews, rows, shown_text


def make_app(workspace: Workspace, **kwargs: object) -> PrepkitApp:
    return PrepkitApp(workspace, lambda: NOW, start="study", **kwargs)  # type: ignore[arg-type]


def front(app: PrepkitApp) -> str:
    return shown_text(app.screen.query_one("#front"))


def back(app: PrepkitApp) -> str:
    return shown_text(app.screen.query_one("#back"))


def grade_label(app: PrepkitApp, number: int) -> str:
    return shown_text(app.screen.query_one(f"#grade-{number}")).strip()


def proposed(app: PrepkitApp) -> int:
    marked = [n for n in range(1, 5) if app.screen.query_one(f"#grade-{n}").has_class("proposed")]
    assert len(marked) == 1
    return marked[0]


async def answer(pilot, grade: str = "3") -> None:
    """Show the answer (an empty Enter in the answer box does that on typed cards) and grade."""
    typed = pilot.app.screen.query_one("#typed")
    await pilot.press("enter" if typed.has_focus else "space", grade)


async def test_reveal_then_grade_saves_the_interval_that_was_shown(workspace: Workspace) -> None:
    async with make_app(workspace).run_test() as pilot:
        assert "What is a warp?" in front(pilot.app)
        assert not pilot.app.screen.query_one("#back").display
        await pilot.press("space")
        assert "32 threads" in back(pilot.app)
        assert "CUDA C++ Programming Guide" in back(pilot.app)  # the source is always shown
        label = grade_label(pilot.app, 4)
        await pilot.press("4")
        assert "Bytes per parameter" in front(pilot.app)  # the next card is up
    assert reviews(workspace) == [("s-basic", 4)]
    saved = card_state(workspace, "s-basic")
    interval = from_ms(saved["due"]) - from_ms(saved["last_review"])
    assert label == f"4 Easy {format_interval(interval)}"


async def test_space_after_reveal_is_good_and_a_grade_before_reveal_only_reveals(
    workspace: Workspace,
) -> None:
    async with make_app(workspace).run_test() as pilot:
        await pilot.press("1")  # a mis-press on the question: shows the answer, saves nothing
        assert pilot.app.screen.query_one("#back").display
        assert reviews(workspace) == []
        await pilot.press("space")
    assert reviews(workspace) == [("s-basic", 3)]


async def test_undo_goes_back_several_steps_exactly(workspace: Workspace) -> None:
    before = card_state(workspace, "s-basic")
    async with make_app(workspace).run_test() as pilot:
        await pilot.press("space", "3")
        await pilot.press("escape", "-")  # leave the answer box, bury the numeric card
        assert "DDP all-reduces" in front(pilot.app)
        await pilot.press("u")
        assert "Bytes per parameter" in front(pilot.app)
        assert card_state(workspace, "s-numeric")["buried_until"] is None
        await pilot.press("escape", "u")  # the answer box has focus again: leave it first
        assert "What is a warp?" in front(pilot.app)
        await pilot.press("u")  # nothing left: says so, changes nothing
        assert "What is a warp?" in front(pilot.app)
    assert reviews(workspace) == []
    assert card_state(workspace, "s-basic") == before


async def test_bury_suspend_and_flag_are_recorded(workspace: Workspace) -> None:
    async with make_app(workspace).run_test() as pilot:
        await pilot.press("f")
        assert card_state(workspace, "s-basic")["flag"] == 1
        await pilot.press("f")
        assert card_state(workspace, "s-basic")["flag"] == 0
        await pilot.press("minus")
        await pilot.press("escape", "exclamation_mark")  # out of the answer box, suspend
        assert "DDP all-reduces" in front(pilot.app)
    buried = card_state(workspace, "s-basic")["buried_until"]
    assert buried is not None and from_ms(buried) > NOW
    assert from_ms(buried) - NOW < timedelta(days=1)
    assert card_state(workspace, "s-numeric")["suspended"] is True
    assert reviews(workspace) == []


async def test_a_typed_numeric_answer_is_checked_and_proposes_the_grade(
    workspace: Workspace,
) -> None:
    async with make_app(workspace).run_test() as pilot:
        await pilot.press("space", "3")  # past the basic card
        assert "Bytes per parameter" in front(pilot.app)
        await pilot.press("1", "2", "enter")  # typed into the answer box, not grades
        assert reviews(workspace) == [("s-basic", 3)]
        assert "wrong" in back(pilot.app) and "off by 4 bytes" in back(pilot.app)
        assert "answer: 16 bytes" in back(pilot.app)
        assert proposed(pilot.app) == 1
        await pilot.press("enter")  # takes the proposed grade
    assert reviews(workspace) == [("s-basic", 3), ("s-numeric", 1)]


async def test_a_right_typed_choice_proposes_good(workspace: Workspace) -> None:
    async with make_app(workspace).run_test() as pilot:
        for _ in range(3):  # basic, numeric, cloze
            await answer(pilot)
        assert "Which collective" in front(pilot.app)
        assert "1. all-reduce" in front(pilot.app)
        await pilot.press("1", "enter")
        assert "right" in back(pilot.app)
        assert proposed(pilot.app) == 3
        await pilot.press("space")
    assert reviews(workspace)[-1] == ("s-choice", 3)


async def test_cloze_hides_then_reveals(workspace: Workspace) -> None:
    async with make_app(workspace).run_test() as pilot:
        for _ in range(2):
            await answer(pilot)
        assert "[...]" in front(pilot.app) and "buckets" not in front(pilot.app)
        await pilot.press("space")
        assert "buckets during backward" in back(pilot.app)


async def test_prompt_rubric_ticks_set_the_proposed_grade(workspace: Workspace) -> None:
    async with make_app(workspace).run_test() as pilot:
        for _ in range(4):
            await answer(pilot)
        assert "Design the sharding" in front(pilot.app)
        await pilot.press("space")
        assert pilot.app.screen.query_one("#rubric").display
        assert proposed(pilot.app) == 1  # nothing covered yet
        await pilot.press("space", "down", "space")  # tick two of three points
        await pilot.pause()
        assert proposed(pilot.app) == 2
        await pilot.press("enter")
    assert reviews(workspace)[-1] == ("s-prompt", 2)


async def test_leaving_mid_session_loses_nothing(workspace: Workspace) -> None:
    async with make_app(workspace).run_test() as pilot:
        await pilot.press("space", "3", "enter")  # second card revealed, not graded
        await pilot.press("escape")
        assert pilot.app.current_mode == "dashboard"
        await pilot.press("s")
        assert "Bytes per parameter" in front(pilot.app)  # the unanswered card comes back
    assert reviews(workspace) == [("s-basic", 3)]


async def test_session_end_says_so(workspace: Workspace) -> None:
    async with make_app(workspace).run_test() as pilot:
        for _ in range(5):
            await answer(pilot, "4")
        await pilot.pause()
        text = front(pilot.app)
        assert "Done for now" in text
        assert "answered in this session, all saved" in text


async def test_remapped_keys_work_and_help_shows_them(workspace: Workspace) -> None:
    app = make_app(workspace, keymap={"study.again": "a", "study.undo": "z"})
    async with app.run_test() as pilot:
        await pilot.press("space", "a")
        assert reviews(workspace) == [("s-basic", 1)]
        await pilot.press("escape", "z")  # out of the numeric card's answer box, undo
        assert reviews(workspace) == []
        await pilot.press("question_mark")
        help_text = shown_text(pilot.app.screen.query_one("#help-keys"))
        assert "Undo" in help_text and "z" in help_text.split("Undo")[0].splitlines()[-1]
        await pilot.press("escape")
        titles = {c.title for c in pilot.app.get_system_commands(pilot.app.screen)}
        assert {"Undo", "Bury", "Suspend", "Edit", "Info", "Browse", "Stats"} <= titles


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[keys]\n"study.agian" = "a"\n', "unknown binding id 'study.agian'"),
        ('[keys]\n"study.again" = 3\n', "keys must be a string"),
        ("[keys\n", "line 1"),
        ("[colours]\nx = 1\n", "unknown table or key 'colours'"),
    ],
)
def test_a_bad_keymap_file_is_one_clear_line(tmp_path, body: str, message: str) -> None:
    from prepkit.errors import PrepkitError
    from prepkit.tui.app import known_binding_ids
    from prepkit.tui.keymap import load_keymap

    path = tmp_path / "keys.toml"
    path.write_text(body)
    with pytest.raises(PrepkitError) as caught:
        load_keymap(path, known_binding_ids)
    assert str(path) in str(caught.value) and message in str(caught.value)
    assert "\n" not in str(caught.value)


async def test_an_edit_is_shown_kept_and_revertible(workspace: Workspace) -> None:
    async with make_app(workspace).run_test(size=(100, 30)) as pilot:
        await pilot.press("e")
        editor = pilot.app.screen.query_one("#edit-front")
        editor.text = "What is a warp, in NVIDIA's words?"
        await pilot.press("ctrl+s")
        assert "in NVIDIA's words" in front(pilot.app)
        await pilot.press("q")  # leave without answering: an edit is not an answer
    assert reviews(workspace) == []
    edits = rows(
        workspace,
        "SELECT e.front FROM card_edit e JOIN card c ON c.id = e.card_id WHERE c.key = 's-basic'",
    )
    assert edits == [("What is a warp, in NVIDIA's words?",)]
    # The next session shows the edit; Ctrl+R in the editor brings the library text back.
    async with make_app(workspace).run_test(size=(100, 30)) as pilot:
        assert "in NVIDIA's words" in front(pilot.app)
        await pilot.press("e", "ctrl+r")
        assert "What is a warp?" in front(pilot.app)
        await pilot.press("space", "3")
    assert reviews(workspace) == [("s-basic", 3)]
    assert len(rows(workspace, "SELECT id FROM card_edit")) == 2  # the revert is logged too


async def test_an_empty_edit_is_refused_and_changes_nothing(workspace: Workspace) -> None:
    async with make_app(workspace).run_test(size=(100, 30)) as pilot:
        await pilot.press("e")
        pilot.app.screen.query_one("#edit-front").text = "   "
        await pilot.press("ctrl+s")
        assert "What is a warp?" in front(pilot.app)
    assert rows(workspace, "SELECT COUNT(*) FROM card_edit") == [(0,)]


async def test_card_info_shows_history_and_memory(workspace: Workspace) -> None:
    yesterday = NOW - timedelta(days=1)
    with StudySession(workspace, yesterday) as session:
        assert session.next(yesterday).card.id == "s-basic"
        session.answer(Rating.GOOD, yesterday, 4000)
    async with make_app(workspace).run_test(size=(100, 40)) as pilot:
        assert "What is a warp?" in front(pilot.app)  # overdue learning card first
        await pilot.press("i")
        card = shown_text(pilot.app.screen.query_one("#info-card"))
        assert "s-basic (basic) in Small test deck" in card
        assert "learning" in card and "CUDA C++ Programming Guide" in card
        history = shown_text(pilot.app.screen.query_one("#info-history"))
        assert "2026-11-26 12:00" in history and "Good" in history and "4s" in history
        await pilot.press("escape")
        assert pilot.app.screen.id == "study"


async def test_a_grade_the_database_refuses_is_not_saved_and_can_be_given_again(
    workspace: Workspace, backend, monkeypatch
) -> None:
    """The database cannot take the answer (here: its write lock held elsewhere past the busy
    timeout; a full disk or a lost server look the same). The reviewer says the answer was not
    saved, keeps the card in front of the learner, and takes the grade again once it can."""
    db = backend.db("prepkit.db")
    refuse_quickly(db, monkeypatch)
    workspace.engine.dispose()
    async with make_app(workspace).run_test() as pilot:
        assert "What is a warp?" in front(pilot.app)
        with writes_held(db) as refusal:
            await pilot.press("space", "3")
            await pilot.pause()
            said = [n.message for n in pilot.app._notifications]
            assert any("Not saved" in m and refusal in m for m in said), said
            assert "What is a warp?" in front(pilot.app)  # the same card, still answered
            assert pilot.app.screen.query_one("#back").display
        assert reviews(workspace) == []
        await pilot.press("3")
        assert "Bytes per parameter" in front(pilot.app)
    assert reviews(workspace) == [("s-basic", 3)]
