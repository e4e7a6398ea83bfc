"""Study sessions: atomic answers, exact undo, bury, suspend, flag and the day's limits."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import text

from prepkit.config import Settings
from prepkit.errors import PrepkitError
from prepkit.schedule.review import Rating, State
from prepkit.store.queries import HotPath
from prepkit.study import StudySession
from prepkit.workspace import database_reason

from .conftest import NOW, refuse_quickly, writes_held

pytestmark = pytest.mark.backends


def dump(workspace) -> dict[str, list[tuple]]:
    """Every row of the learner tables, to compare database states exactly."""
    with workspace.engine.connect() as conn:
        return {
            "card_state": [
                tuple(r) for r in conn.execute(text("SELECT * FROM card_state ORDER BY 1, 2"))
            ],
            "review": [tuple(r) for r in conn.execute(text("SELECT * FROM review ORDER BY 1"))],
        }


def memory(workspace, card_id: int):
    """A card's committed memory, read on a connection of its own."""
    db = HotPath(workspace.engine, workspace.learner_id)
    try:
        return db.state(card_id)
    finally:
        db.close()


def test_an_answer_writes_state_and_review_together(workspace) -> None:
    with StudySession(workspace, NOW) as session:
        shown = session.next(NOW)
        answered = session.answer(Rating.GOOD, NOW, duration_ms=4200)
    rows = dump(workspace)
    assert len(rows["review"]) == 1
    with workspace.engine.connect() as conn:
        review = conn.execute(
            text("SELECT card_id, rating, duration_ms, state_before, state_after FROM review")
        ).one()
        state = conn.execute(
            text("SELECT state, reps FROM card_state WHERE card_id = :id"), {"id": shown.card_id}
        ).one()
    assert tuple(review) == (shown.card_id, 3, 4200, 0, int(answered.outcome.after.state))
    assert tuple(state) == (int(State.LEARNING), 1)


def test_a_failure_between_the_two_writes_leaves_no_trace(workspace, monkeypatch) -> None:
    before = dump(workspace)

    def explode(*_args, **_kwargs):
        raise RuntimeError("disk on fire")

    with StudySession(workspace, NOW) as session:
        shown = session.next(NOW)
        with monkeypatch.context() as patch:
            patch.setattr(HotPath, "_insert_review", explode)
            with pytest.raises(RuntimeError):
                session.answer(Rating.GOOD, NOW)
        assert dump(workspace) == before
        # The session goes on; the next commit on the same connection must not carry the
        # half-written answer with it.
        assert session.next(NOW).card_id == shown.card_id
        session.answer(Rating.GOOD, NOW)
    with workspace.engine.connect() as conn:
        reps = dict(conn.execute(text("SELECT card_id, reps FROM card_state")).all())
        logged = dict(
            conn.execute(text("SELECT card_id, COUNT(*) FROM review GROUP BY card_id")).all()
        )
    assert logged == {shown.card_id: 1}
    assert all(reps[card] == logged.get(card, 0) for card in reps)


def test_undo_restores_the_exact_prior_state_several_steps_back(workspace) -> None:
    before = dump(workspace)
    at = NOW
    with StudySession(workspace, NOW) as session:
        shown_ids = []
        for grade in (3, 1, 4, 3, 2, 1, 3):
            shown = session.next(at)
            assert shown is not None
            shown_ids.append(shown.card_id)
            session.answer(Rating(grade), at)
            at += timedelta(seconds=30)
        assert len(dump(workspace)["review"]) == 7
        for expected_id in reversed(shown_ids):
            again = session.undo(at)
            assert again is not None and again.card_id == expected_id
        assert session.undo(at) is None
        assert session.answered == 0
    assert dump(workspace) == before


def test_undo_after_a_lapse_restores_the_lapse_count(workspace) -> None:
    with workspace.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE card_state SET state = 2, stability = 3.0, difficulty = 5.0, due = :due, "
                "last_review = :last, reps = 4, lapses = 1"
            ),
            {
                "due": int((NOW - timedelta(days=1)).timestamp() * 1000),
                "last": int((NOW - timedelta(days=4)).timestamp() * 1000),
            },
        )
    before = dump(workspace)
    with StudySession(workspace, NOW) as session:
        session.next(NOW)
        answered = session.answer(Rating.AGAIN, NOW)
        assert answered.outcome.after.lapses == 2
        assert answered.outcome.after.state is State.RELEARNING
        session.undo(NOW)
    assert dump(workspace) == before


def test_bury_hides_a_card_until_the_next_study_day(workspace) -> None:
    with StudySession(workspace, NOW) as session:
        buried = session.next(NOW)
        session.bury(NOW)
        seen = set()
        while (shown := session.next(NOW)) is not None:
            seen.add(shown.card_id)
            session.answer(Rating.EASY, NOW)
        assert buried.card_id not in seen
    with StudySession(workspace, NOW + timedelta(hours=1)) as later:
        ids = []
        while (shown := later.next(NOW + timedelta(hours=1))) is not None:
            ids.append(shown.card_id)
            later.answer(Rating.EASY, NOW + timedelta(hours=1))
        assert buried.card_id not in ids
    tomorrow = NOW + timedelta(days=1)
    with StudySession(workspace, tomorrow) as next_day:
        first = next_day.next(tomorrow)
        assert first is not None and first.card_id == buried.card_id


def test_undo_of_a_bury_brings_the_card_back(workspace) -> None:
    with StudySession(workspace, NOW) as session:
        shown = session.next(NOW)
        session.bury(NOW)
        back = session.undo(NOW)
        assert back is not None and back.card_id == shown.card_id
    with workspace.engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT COUNT(*) FROM card_state WHERE buried_until IS NOT NULL")
            ).scalar()
            == 0
        )


def test_suspend_lasts_across_days_and_sessions(workspace) -> None:
    with StudySession(workspace, NOW) as session:
        suspended = session.next(NOW)
        session.suspend(NOW)
    for day in (0, 1, 30):
        at = NOW + timedelta(days=day)
        with StudySession(workspace, at) as session:
            while (shown := session.next(at)) is not None:
                assert shown.card_id != suspended.card_id
                session.answer(Rating.GOOD, at)


def test_flag_sets_and_clears(workspace) -> None:
    with StudySession(workspace, NOW) as session:
        session.next(NOW)
        assert session.flag(1) == 1
        assert session.flag(3) == 3
        assert session.flag(3) == 0
        with pytest.raises(ValueError):
            session.flag(9)


def test_new_cards_per_day_hold_across_sessions(workspace) -> None:
    workspace.save_settings(Settings(new_per_day=3))
    with StudySession(workspace, NOW) as session:
        assert session.counts().new == 3
        for _ in range(2):
            session.next(NOW)
            session.answer(Rating.EASY, NOW)
    with StudySession(workspace, NOW + timedelta(minutes=5)) as again:
        assert again.counts().new == 1
    with StudySession(workspace, NOW + timedelta(days=1)) as tomorrow:
        assert tomorrow.counts().new == 3


def test_a_card_in_learning_comes_back_in_the_same_session(workspace) -> None:
    workspace.save_settings(Settings(new_per_day=1))
    with StudySession(workspace, NOW) as session:
        first = session.next(NOW)
        session.answer(Rating.AGAIN, NOW)
        # Nothing else is left, so the learning card is shown early (learn-ahead, 20 min).
        again = session.next(NOW)
        assert again is not None and again.card_id == first.card_id
        session.answer(Rating.EASY, NOW)
        assert session.next(NOW) is None


def test_a_card_shown_again_at_once_shows_the_memory_just_saved(workspace) -> None:
    """The next card is read inside the answer's transaction, while the commit runs: when it is
    the same card (learn-ahead), it must carry the state the answer saved, not the one before."""
    workspace.save_settings(Settings(new_per_day=1))
    with StudySession(workspace, NOW) as session:
        first = session.next(NOW)
        answered = session.answer(Rating.AGAIN, NOW)
        again = session.next(NOW)
        assert again.card_id == first.card_id
        assert again.state == answered.outcome.after == memory(workspace, first.card_id)
        assert again.state.reps == 1 and again.state.state is State.LEARNING


def test_a_commit_that_fails_keeps_the_card_in_front_and_the_order(workspace, monkeypatch) -> None:
    """The disk refuses the commit (an fsync error): nothing is saved, the same card is shown
    again rather than the one taken after it, and once the answer goes through the session
    goes on in the order a fresh session would."""
    before = dump(workspace)
    real = HotPath.commit

    def refused(self) -> None:
        self.rollback()
        raise OSError("disk I/O error")

    with StudySession(workspace, NOW) as session:
        first = session.next(NOW)
        with monkeypatch.context() as patch:
            patch.setattr(HotPath, "commit", refused)
            with pytest.raises(OSError):
                session.answer(Rating.AGAIN, NOW)
        assert dump(workspace) == before
        assert session.next(NOW) is first
        assert session.answered == 0 and not session.can_undo()
        assert HotPath.commit is real
        session.answer(Rating.AGAIN, NOW)
        following = session.next(NOW)
        with StudySession(workspace, NOW) as fresh:
            assert following.card_id == fresh.next(NOW).card_id != first.card_id
        assert following.state == memory(workspace, following.card_id)
    rows = dump(workspace)
    assert len(rows["review"]) == 1


def test_a_learning_card_due_before_the_next_card_is_asked_for_goes_first(workspace) -> None:
    """The card after an answer is prepared while the answer commits, but a learning card that
    comes due before the face asks for the next card is still shown first, as Anki would."""
    with StudySession(workspace, NOW) as session:
        lapsed = session.next(NOW)
        again = session.answer(Rating.AGAIN, NOW)  # back in one minute
        assert session.next(NOW).card_id != lapsed.card_id
        session.answer(Rating.GOOD, NOW + timedelta(seconds=30))
        due = again.outcome.after.due
        assert due is not None and NOW + timedelta(seconds=30) < due
        shown = session.next(due + timedelta(seconds=1))
        assert shown.card_id == lapsed.card_id
        assert shown.state == memory(workspace, lapsed.card_id)
        session.answer(Rating.GOOD, due + timedelta(seconds=5))
        following = session.next(due + timedelta(seconds=6))
        assert following is not None and following.card_id != lapsed.card_id


def test_shown_card_is_stable_until_answered(workspace) -> None:
    with StudySession(workspace, NOW) as session:
        first = session.next(NOW)
        assert session.next(NOW) is first


def test_an_answer_given_meanwhile_in_another_session_is_kept(workspace) -> None:
    """Two sessions show the same card; the second answer applies on top of the first one
    instead of overwriting the card's memory with a state computed before it."""
    later = NOW + timedelta(seconds=30)
    with StudySession(workspace, NOW) as laptop, StudySession(workspace, NOW) as terminal:
        shown = laptop.next(NOW)
        assert terminal.next(NOW).card_id == shown.card_id
        first = laptop.answer(Rating.GOOD, NOW)
        second = terminal.answer(Rating.AGAIN, later)
        assert not first.rebased and second.rebased
        assert second.outcome.before == first.outcome.after
        assert second.outcome.after.reps == 2
        assert memory(workspace, shown.card_id) == second.outcome.after
    with workspace.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT rating, state_before, step_before, step_after FROM review ORDER BY id")
        ).all()
    after_first = first.outcome.after
    assert [tuple(r) for r in rows] == [
        (3, 0, None, after_first.step),
        (1, int(after_first.state), after_first.step, second.outcome.after.step),
    ]


def test_undo_of_an_answer_answered_over_elsewhere_is_refused(workspace) -> None:
    """Taking back the first of two answers would erase the second from the card's memory:
    it is refused with a message, both answers stay, and the session goes on."""
    with StudySession(workspace, NOW) as laptop, StudySession(workspace, NOW) as terminal:
        shown = laptop.next(NOW)
        terminal.next(NOW)
        laptop.answer(Rating.GOOD, NOW)
        second = terminal.answer(Rating.HARD, NOW)
        following = laptop.next(NOW)
        before = dump(workspace)
        with pytest.raises(PrepkitError, match="answered again since"):
            laptop.undo(NOW)
        assert dump(workspace) == before
        assert not laptop.can_undo()
        assert laptop.next(NOW) == following  # the card in front of the learner stays
        assert memory(workspace, shown.card_id) == second.outcome.after
        assert terminal.undo(NOW).card_id == shown.card_id  # the latest answer can go


def test_undo_of_a_bury_buried_again_elsewhere_is_refused(workspace) -> None:
    """A session left open overnight takes back yesterday's bury of a card another session
    buried again today: the later bury stays, and the session says why in one line."""
    tomorrow = NOW + timedelta(days=1)
    with StudySession(workspace, NOW) as laptop:
        shown = laptop.next(NOW)
        laptop.bury(NOW)
        with StudySession(workspace, tomorrow) as terminal:
            assert terminal.next(tomorrow).card_id == shown.card_id  # the bury has ended
            terminal.bury(tomorrow)
        before = dump(workspace)
        with pytest.raises(PrepkitError, match="buried again since"):
            laptop.undo(tomorrow)
        assert dump(workspace) == before
        assert not laptop.can_undo()
    with StudySession(workspace, tomorrow) as later:
        assert later.next(tomorrow).card_id != shown.card_id


def _history_of(workspace, card_id: int) -> list[tuple]:
    with workspace.engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text(
                    "SELECT state_before, stability_before, due_before, state_after, "
                    "stability_after, due_after FROM review WHERE card_id = :c ORDER BY id"
                ),
                {"c": card_id},
            )
        ]


def _chained(history: list[tuple]) -> bool:
    """Each answer starts from the state the previous one left (state, stability, due)."""
    return all(later[:3] == earlier[3:] for earlier, later in itertools.pairwise(history))


def test_two_sessions_answering_the_same_card_keep_one_history(workspace) -> None:
    """A learner studying on two devices answers the card both show: both answers are kept,
    the second graded from the state the first left, and undo on either is exact."""
    first, second = StudySession(workspace, NOW), StudySession(workspace, NOW)
    try:
        shown = first.next(NOW)
        assert second.next(NOW).card_id == shown.card_id
        a = first.answer(Rating.GOOD, NOW)
        b = second.answer(Rating.GOOD, NOW + timedelta(seconds=5))
        assert b.outcome.before == a.outcome.after  # not the stale state the second one showed
        history = _history_of(workspace, shown.card_id)
        assert len(history) == 2 and _chained(history)
        with workspace.engine.connect() as conn:
            reps = conn.execute(
                text("SELECT reps FROM card_state WHERE card_id = :c"), {"c": shown.card_id}
            ).scalar()
        assert reps == 2
        assert second.undo(NOW).state == a.outcome.after  # back to what the first answer left
    finally:
        first.close()
        second.close()


def test_answers_racing_on_one_card_are_all_kept_in_order(workspace) -> None:
    """Eight sessions of one learner answer the same card at the same instant: every answer is
    committed once, and the log is one chain (no answer computed from a state another lost)."""
    import threading

    sessions, ready = 8, threading.Barrier(8)
    errors: list[BaseException] = []
    card: list[int] = []

    def answer_once() -> None:
        try:
            with StudySession(workspace, NOW) as session:
                card.append(session.next(NOW).card_id)
                ready.wait(timeout=30)
                session.answer(Rating.GOOD, NOW)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=answer_once) for _ in range(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and len(set(card)) == 1
    history = _history_of(workspace, card[0])
    assert len(history) == sessions and _chained(history)


def test_steps_the_database_refuses_change_nothing_and_can_be_given_again(
    workspace, backend, monkeypatch
) -> None:
    """Another program holds a lock prepkit needs past its timeout (a full disk or a lost
    server fail the same way): an answer, bury, suspend, flag or undo is refused with the
    database's error, nothing of it is saved, the shown card stays shown and the undo stack
    keeps what it had. Once the lock is free each step goes through."""
    db = backend.db("prepkit.db")
    refuse_quickly(db, monkeypatch)
    workspace.engine.dispose()  # the session's connection is opened with the short timeout
    with StudySession(workspace, NOW) as session:
        first = session.next(NOW)
        session.answer(Rating.GOOD, NOW)
        second = session.next(NOW)
        before = dump(workspace)
        held = writes_held(db)
        refusal = held.__enter__()
        steps = {
            "answer": lambda: session.answer(Rating.EASY, NOW),
            "bury": lambda: session.bury(NOW),
            "suspend": lambda: session.suspend(NOW),
            "flag": lambda: session.flag(3),
            "undo": lambda: session.undo(NOW),
        }
        try:
            for name, step in steps.items():
                with pytest.raises(Exception, match=refusal) as refused:
                    step()
                assert database_reason(refused.value) is not None, name
                assert session.next(NOW) is second, name
                assert session.can_undo() and session.answered == 1, name
        finally:
            held.__exit__(None, None, None)
        assert dump(workspace) == before
        assert session.undo(NOW).card_id == first.card_id  # the refused undo is still there
        assert not session.can_undo()
        assert session.next(NOW).card_id == first.card_id
        session.bury(NOW)
        assert session.next(NOW).card_id == second.card_id
    rows = dump(workspace)
    assert rows["review"] == []
    assert sum(1 for row in rows["card_state"] if row[-2] is not None) == 1  # one card buried


def test_a_session_whose_server_connection_is_dropped_goes_on(
    pg_url: str, deck_dir, monkeypatch
) -> None:
    """The PostgreSQL server drops the session's connections (a restart, an administrator
    terminating them) while the learner thinks, and does not take new ones at first. Answers
    are refused as not saved with the card kept in front; once the server is back the next
    answer goes through on a new connection, and so do undo and a new session."""
    from sqlalchemy.exc import OperationalError

    from prepkit.deck.load import load_paths
    from prepkit.workspace import open_workspace, sync_library

    from .conftest import _admin

    ws = open_workspace(pg_url, NOW)
    try:
        sync_library(ws, load_paths([deck_dir]), NOW)
        with StudySession(ws, NOW) as session:
            first = session.next(NOW)
            with _admin(pg_url) as admin:
                dropped = admin.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                ).fetchone()
            assert dropped is not None and dropped[0] >= 1

            def down() -> None:
                raise OperationalError("connect", {}, Exception("connection refused"))

            with monkeypatch.context() as patch:
                patch.setattr(ws.engine, "raw_connection", down)  # the server is not back yet
                for _ in range(2):
                    with pytest.raises(Exception) as refused:
                        session.answer(Rating.GOOD, NOW)
                    assert database_reason(refused.value) is not None
                    assert session.next(NOW) is first and session.answered == 0
            session.answer(Rating.GOOD, NOW)  # back: the first answer after it is saved
            session.undo(NOW)
            session.answer(Rating.HARD, NOW)
        with StudySession(ws, NOW) as fresh:
            assert fresh.next(NOW).card_id != first.card_id
        rows = dump(ws)
        assert [(r[2], r[4]) for r in rows["review"]] == [(first.card_id, int(Rating.HARD))]
    finally:
        ws.close()
