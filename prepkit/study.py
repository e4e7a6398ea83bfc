"""A study session: the day's queue, answers, undo, bury, suspend and flag.

The queue is built once and kept in memory; each answer is written (state + review row, one
transaction) before the next card is handed out, so quitting or crashing at any point loses at
most the answer being written. The next card is read inside that transaction and its outcomes
are worked out on a helper thread while the commit's fsync runs, which is most of an answer's
time. Faces get plain dataclasses: the card as the learner sees it (the library's text, or their
own edit of it), the four previewed outcomes, and the counts.
"""

from __future__ import annotations

import heapq
import json
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime

from prepkit.backups import periodic
from prepkit.config import Settings
from prepkit.deck.model import Card, Kind
from prepkit.schedule.days import day_start, from_ms, next_day_start, to_ms
from prepkit.schedule.review import CardState, Outcome, Rating, Reviewer, State, fuzz_seed
from prepkit.store.queries import AnsweredSince, BuriedSince, CardRow, HotPath, Queued, queued
from prepkit.workspace import Workspace

MAX_ANSWER_MS = 60_000  # as Anki's "maximum answer seconds": a walk-away is not a slow answer


@dataclass(frozen=True, slots=True)
class Counts:
    new: int
    learning: int
    review: int

    @property
    def total(self) -> int:
        return self.new + self.learning + self.review


@dataclass(frozen=True, slots=True)
class Shown:
    """The card in front of the learner, with what each grade would do."""

    card_id: int
    card: Card
    state: CardState
    outcomes: tuple[Outcome, Outcome, Outcome, Outcome]
    counts: Counts
    shown_at: datetime
    edited: bool = False  # the text is the learner's edit, not the library's

    def outcome(self, rating: Rating) -> Outcome:
        return self.outcomes[int(rating) - 1]


@dataclass(frozen=True, slots=True)
class Answered:
    card_id: int
    review_id: int
    outcome: Outcome
    rebased: bool = False  # applied on top of an answer given meanwhile in another session


@dataclass(frozen=True, slots=True)
class _Undo:
    """How to take back one action: an answer (by its review row), a bury or a suspend."""

    action: str
    card_id: int
    review_id: int = 0
    until_ms: int | None = None  # a bury's end, to tell it from a later one


@dataclass(slots=True)
class _Queue:
    """Today's cards: intraday learning by due time, then reviews, then new cards."""

    learning: list[tuple[int, int, Queued]] = field(default_factory=list)
    review: deque[Queued] = field(default_factory=deque)
    new: deque[Queued] = field(default_factory=deque)
    extra: deque[Queued] = field(default_factory=deque)  # due, but past today's planned budget

    def push_learning(self, item: Queued) -> None:
        due = item[2]
        assert due is not None
        heapq.heappush(self.learning, (due, item[0], item))

    def remove(self, card_id: int) -> None:
        self.learning = [entry for entry in self.learning if entry[1] != card_id]
        heapq.heapify(self.learning)
        self.review = deque(item for item in self.review if item[0] != card_id)
        self.new = deque(item for item in self.new if item[0] != card_id)
        self.extra = deque(item for item in self.extra if item[0] != card_id)

    def counts(self) -> Counts:
        review = len(self.review) + len(self.extra)
        return Counts(new=len(self.new), learning=len(self.learning), review=review)

    def take(self, now_ms: int, ahead_ms: int) -> _Taken | None:
        """The next card: learning due now, then reviews, new cards, the day's extra reviews,
        and last a learning card due within the learn-ahead limit."""
        if self.learning and self.learning[0][0] <= now_ms:
            return _Taken(_LEARNING, heapq.heappop(self.learning)[2])
        if self.review:
            return _Taken(_REVIEW, self.review.popleft())
        if self.new:
            return _Taken(_NEW, self.new.popleft())
        if self.extra:
            return _Taken(_EXTRA, self.extra.popleft())
        if self.learning and self.learning[0][0] <= ahead_ms:
            return _Taken(_LEARNING, heapq.heappop(self.learning)[2])
        return None

    def put_back(self, taken: _Taken) -> None:
        """Return a taken card to the front of the line it came from."""
        if taken.line == _LEARNING:
            self.push_learning(taken.item)
        elif taken.line == _REVIEW:
            self.review.appendleft(taken.item)
        elif taken.line == _NEW:
            self.new.appendleft(taken.item)
        else:
            self.extra.appendleft(taken.item)

    def learning_due_between(self, after_ms: int, until_ms: int) -> bool:
        """Whether a waiting learning card came due in (after_ms, until_ms]."""
        return bool(self.learning) and after_ms < self.learning[0][0] <= until_ms


_LEARNING, _REVIEW, _NEW, _EXTRA = "learning", "review", "new", "extra"


@dataclass(frozen=True, slots=True)
class _Taken:
    """A card taken off the queue and the line it came from, so it can go back exactly there."""

    line: str
    item: Queued


@dataclass(frozen=True, slots=True)
class _Early:
    """The card shown next, prepared while the previous answer was being committed."""

    shown: Shown
    taken: _Taken
    at_ms: int


def card_from_row(row: CardRow) -> Card:
    """The library card for a stored row; faces see this, never a database row."""
    payload = json.loads(row.payload)
    return Card(
        id=row.key,
        deck=row.deck,
        kind=Kind(row.kind),
        front=row.front,
        back=row.back,
        source=row.source,
        tags=tuple(json.loads(row.tags)),
        answer=payload.get("answer"),
        tolerance=payload.get("tolerance"),
        unit=payload.get("unit"),
        options=tuple(payload.get("options", ())),
        correct=payload.get("correct"),
        code=payload.get("code"),
        language=payload.get("language"),
        expected=payload.get("expected"),
        rubric=tuple(payload.get("rubric", ())),
    )


class StudySession:
    """One learner's session over today's queue."""

    def __init__(
        self,
        workspace: Workspace,
        now: datetime,
        settings: Settings | None = None,
        reviewer: Reviewer | None = None,
    ) -> None:
        self.settings = settings or workspace.settings()
        self.reviewer = reviewer or Reviewer(
            desired_retention=self.settings.desired_retention,
            parameters=self.settings.fsrs_parameters,
        )
        self._workspace = workspace
        self._db = HotPath(workspace.engine, workspace.learner_id)
        self._queue = _Queue()
        self._undo: list[_Undo] = []
        self._shown: Shown | None = None
        self._early: _Early | None = None
        self._previewer: ThreadPoolExecutor | None = None
        self.answered = 0
        self._backup_due: datetime | None = now  # the first answer checks the backups
        self.build_queue(now)

    def close(self) -> None:
        if self._previewer is not None:
            self._previewer.shutdown(wait=True)
            self._previewer = None
        self._db.close()

    def __enter__(self) -> StudySession:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- queue ---------------------------------------------------------------------------------

    def _day_bounds(self, now: datetime) -> tuple[datetime, datetime]:
        zone = self.settings.zone
        hour = self.settings.day_start_hour
        return day_start(now, zone, hour), next_day_start(now, zone, hour)

    def build_queue(self, now: datetime) -> Counts:
        """Gather today's due and new cards (the new ones up to the day's remaining limit)."""
        start, cutoff = self._day_bounds(now)
        queue = _Queue()
        reviews = 0
        limit = self.settings.reviews_per_day
        for item in self._db.due_cards(to_ms(cutoff), to_ms(now)):
            if item[1] == State.REVIEW:
                if reviews < limit:
                    queue.review.append(item)
                    reviews += 1
            else:
                queue.push_learning(item)
        planned = self._planned(now)
        if planned is None:
            new_left = self.settings.new_per_day - self._db.new_seen_since(to_ms(start))
            queue.new.extend(self._db.new_cards(new_left, to_ms(now)))
        else:
            self._follow_plan(queue, *planned)
        self._queue = queue
        self._shown = None
        return queue.counts()

    def _planned(self, now: datetime) -> tuple[list[int], list[int]] | None:
        """Today's part of the deadline plan, when there is an interview to plan for."""
        if not self.settings.interview_date:
            return None
        from prepkit.planning import today_part  # the planner only when there is a date

        return today_part(self._workspace, now, self.settings)

    def _follow_plan(self, queue: _Queue, reviews: list[int], new: list[int]) -> None:
        """The plan's reviews first (a card FSRS would show after the interview is pulled in
        when the plan says so), then its new cards; due reviews the budget left out come last,
        for a learner who keeps going, so nothing due is hidden."""
        due = {item[0]: item for item in queue.review}
        learning = {entry[1] for entry in queue.learning}  # already queued for their step
        queue.review = deque(
            due.pop(card_id) if card_id in due else queued(card_id, self._db.state(card_id))
            for card_id in reviews
            if card_id not in learning
        )
        queue.new = deque(queued(card_id, self._db.state(card_id)) for card_id in new)
        queue.extra = deque(due.values())

    def counts(self) -> Counts:
        return self._queue.counts()

    def _take(self, now: datetime) -> _Taken | None:
        now_ms = to_ms(now)
        return self._queue.take(now_ms, now_ms + self.settings.learn_ahead_minutes * 60_000)

    def next_learning_due(self) -> datetime | None:
        """When the next waiting learning card comes due, if the session is waiting on one."""
        if not self._queue.learning:
            return None
        return from_ms(self._queue.learning[0][0])

    # -- showing and answering -------------------------------------------------------------

    def next(self, now: datetime) -> Shown | None:
        """The next card with its four previewed outcomes, or None when the session is done."""
        shown = self._shown
        if shown is not None:
            early = self._early
            if early is None or early.shown is not shown:
                return shown
            if not self._queue.learning_due_between(early.at_ms, to_ms(now)):
                return shown
            # a learning card came due since this one was taken ahead, and it goes first
            self._queue.put_back(early.taken)
            self._shown = self._early = None
        taken = self._take(now)
        if taken is None:
            return None
        return self._show(taken.item[0], now)

    def _show(self, card_id: int, now: datetime) -> Shown:
        self._shown = self._preview(card_id, *self._db.show(card_id), now, self.counts())
        return self._shown

    def _preview(
        self, card_id: int, row: CardRow, memory: CardState, now: datetime, counts: Counts
    ) -> Shown:
        """The card as shown, with its four outcomes. Pure work on values: it may run on the
        helper thread while an answer commits."""
        outcomes = self.reviewer.preview(memory, now, fuzz_seed(card_id, memory.reps))
        return Shown(card_id, card_from_row(row), memory, outcomes, counts, now, row.edited)

    def edit_shown(self, front: str, back: str | None, now: datetime) -> Shown:
        """Save the learner's edit of the shown card and show it again with the new text.

        An edit is not an answer: the memory state, the previewed outcomes and the time the card
        was first shown stay as they were, and the undo stack (answers, bury, suspend) is left
        alone. An edit is taken back with `revert_shown` (or `prepkit.cards.revert_card`), which
        is logged too. A refused edit raises `PrepkitError` and the card stays shown unchanged.
        """
        # prepkit.cards builds on this module (card_from_row), so it is imported at call time.
        from prepkit.cards import edit_card

        shown = self._require_shown()
        card = edit_card(self._workspace, shown.card_id, front, back, now)
        edited = shown.edited or card != shown.card
        self._shown = replace(shown, card=card, edited=edited)
        return self._shown

    def revert_shown(self, now: datetime) -> Shown:
        """Put the library text back on the shown card (logged); outcomes stay as they were."""
        from prepkit.cards import revert_card

        shown = self._require_shown()
        card = revert_card(self._workspace, shown.card_id, now)
        self._shown = replace(shown, card=card, edited=False)
        return self._shown

    def _require_shown(self) -> Shown:
        if self._shown is None:
            raise RuntimeError("no card is shown")
        return self._shown

    def answer(self, rating: Rating, now: datetime, duration_ms: int | None = None) -> Answered:
        """Grade the shown card and commit it; the saved outcome is the one that was shown (unless
        another session answered the card meanwhile: see `HotPath.stage_answer`)."""
        shown = self._require_shown()
        outcome = shown.outcome(rating)
        if _day_count(shown.state, now) != _day_count(shown.state, shown.shown_at):
            seed = fuzz_seed(shown.card_id, shown.state.reps)
            outcome = self.reviewer.review(shown.state, rating, now, seed)  # a day passed
        else:
            outcome = outcome.shifted(now)
        if duration_ms is not None:
            duration_ms = max(0, min(int(duration_ms), MAX_ANSWER_MS))

        def regrade(current: CardState) -> Outcome:
            # another session answered this card since it was shown: grade its committed state
            return self.reviewer.review(
                current, rating, now, fuzz_seed(shown.card_id, current.reps)
            )

        # Most of an answer's time is the fsync that makes it durable, and the database drivers
        # let other threads run while they wait on it. So the answer is written, the next card
        # read inside its transaction, and that card's outcomes are worked out on a helper
        # thread while the commit runs here. Nothing is shown before the answer is durable.
        review_id, saved = self._db.stage_answer(shown.card_id, outcome, duration_ms, regrade)
        rebased = saved.before != outcome.before  # applied on top of another session's answer
        self._shown = self._early = None
        taken: _Taken | None = None
        preparing: Future[Shown] | None = None
        try:
            self._requeue(shown.card_id, saved.after, now)
            taken = self._take(now)
            if taken is not None:
                row, memory = self._db.show(taken.item[0])
                preparing = self._helper().submit(
                    self._preview, taken.item[0], row, memory, now, self.counts()
                )
            self._db.commit()
        except BaseException:
            # An error or Ctrl-C before the commit ended (on PostgreSQL an error aborts the
            # transaction): the answer is rolled back whole, its card stays in front of the
            # learner, and the card taken after it goes back.
            self._db.rollback()
            if preparing is not None:
                preparing.cancel()
            self._queue.remove(shown.card_id)
            if taken is not None:
                self._queue.put_back(taken)
            self._shown = shown
            raise
        if taken is not None:
            early = _prepared(preparing)
            if early is None:
                self._queue.put_back(taken)  # next() takes it again
            else:
                self._shown = early
                self._early = _Early(early, taken, to_ms(now))
        self.answered += 1
        self._undo.append(_Undo("answer", shown.card_id, review_id=review_id))
        if self._backup_due is not None and now >= self._backup_due:
            self._backup_due = periodic(self._workspace, now)  # after the answer is safe
        return Answered(shown.card_id, review_id, saved, rebased)

    def _helper(self) -> ThreadPoolExecutor:
        if self._previewer is None:
            self._previewer = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="prepkit-preview"
            )
        return self._previewer

    def _requeue(self, card_id: int, state: CardState, now: datetime) -> None:
        """A card still in (re)learning comes back today when its step ends before the cutoff."""
        if state.state in (State.LEARNING, State.RELEARNING) and state.due is not None:
            _, cutoff = self._day_bounds(now)
            if state.due < cutoff:
                self._queue.push_learning(queued(card_id, state))

    # -- undo, bury, suspend, flag ----------------------------------------------------------

    def can_undo(self) -> bool:
        return bool(self._undo)

    def undo(self, now: datetime) -> Shown | None:
        """Take back the last action; its card is shown again, as it was before.

        What another session did since is not erased: an answer it answered on top of raises
        `AnsweredSince`, a bury it buried again `BuriedSince` (both PrepkitErrors); the action
        leaves the undo stack and the shown card stays shown.
        """
        if not self._undo:
            return None
        last = self._undo[-1]
        try:
            if last.action == "answer":
                self._db.undo_answer(last.review_id)
            elif last.action == "bury":
                assert last.until_ms is not None
                self._db.unbury(last.card_id, last.until_ms)
            else:
                self._db.set_suspended(last.card_id, False)
        except (AnsweredSince, BuriedSince):
            self._undo.pop()  # refused for good: another session acted on the card since
            raise
        # A database that refused the write (rolled back) leaves the action on the stack, to be
        # undone again; only a write that went through takes it off.
        self._undo.pop()
        if last.action == "answer":
            self.answered -= 1
        self._put_back_shown()
        self._queue.remove(last.card_id)
        return self._show(last.card_id, now)

    def _put_back_shown(self) -> None:
        """Return a shown but unanswered card to the front of its queue."""
        shown = self._shown
        if shown is None:
            return
        self._shown = None
        early = self._early
        if early is not None and early.shown is shown:
            self._queue.put_back(early.taken)
            return
        item = queued(shown.card_id, shown.state)
        if shown.state.state is State.NEW:
            self._queue.new.appendleft(item)
        elif shown.state.state is State.REVIEW:
            self._queue.review.appendleft(item)
        else:
            self._queue.push_learning(item)

    def bury(self, now: datetime) -> None:
        """Hide the shown card until the next study day."""
        shown = self._require_shown()
        _, cutoff = self._day_bounds(now)
        until_ms = to_ms(cutoff)
        self._db.set_buried(shown.card_id, until_ms)  # a refused write leaves the card shown
        self._shown = None
        self._undo.append(_Undo("bury", shown.card_id, until_ms=until_ms))

    def suspend(self, now: datetime) -> None:
        """Take the shown card out of study until it is unsuspended by hand."""
        shown = self._require_shown()
        self._db.set_suspended(shown.card_id, True)  # a refused write leaves the card shown
        self._shown = None
        self._undo.append(_Undo("suspend", shown.card_id))

    def flag(self, flag: int) -> int:
        """Set (or, given the flag it already has, clear) a flag 1-7 on the shown card."""
        if not 0 <= flag <= 7:
            raise ValueError("flags are 1-7, 0 clears")
        shown = self._require_shown()
        current = self._db.flag_of(shown.card_id)
        value = 0 if current == flag else flag
        self._db.set_flag(shown.card_id, value)
        return value


def _prepared(preparing: Future[Shown] | None) -> Shown | None:
    """The card prepared on the helper thread, or None if that failed (next() prepares it again
    and reports what is wrong)."""
    if preparing is None:
        return None
    try:
        return preparing.result()
    except Exception:
        return None


def _day_count(state: CardState, at: datetime) -> int:
    """Whole days since the last review: the only time input FSRS's memory update uses."""
    if state.last_review is None:
        return -1
    return (at - state.last_review).days
