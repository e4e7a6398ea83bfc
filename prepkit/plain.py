"""The line-mode study session: for scripts, screen readers and dumb terminals.

Protocol (one line per step, read from stdin): on a card, `1`-`4` grade it at once, an empty line
shows the answer, `=ANSWER` types an answer to a numeric or choice card, `u` undoes, `s`
suspends, `b` buries, `f N` flags, `?` helps, `q` quits. After the answer is shown, `1`-`4` grade
and an empty line takes Good (or the grade proposed for a typed answer). Each answer is committed
before the next card is printed; end of input is a quit, junk is asked again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import TextIO

from prepkit.deck.check import Verdict, check, cloze_hidden, cloze_revealed
from prepkit.deck.model import Kind
from prepkit.errors import PrepkitError
from prepkit.schedule.review import Rating, format_interval
from prepkit.study import Shown, StudySession
from prepkit.workspace import database_reason

HELP = (
    "keys: 1 again, 2 hard, 3 good, 4 easy | enter: show answer (then enter = good) | "
    "=ANSWER: type an answer | u undo | s suspend | b bury | f N flag | q quit"
)
_NAMES = {1: "again", 2: "hard", 3: "good", 4: "easy"}


class _Quit(Exception):
    pass


class PlainSession:
    """Runs a StudySession over text streams."""

    def __init__(
        self,
        session: StudySession,
        clock: Callable[[], datetime],
        stdin: TextIO,
        stdout: TextIO,
    ) -> None:
        self.session = session
        self.clock = clock
        self.stdin = stdin
        self.out = stdout
        self.refused = 0  # steps the database refused (each said at the time, none saved)
        self.last_refusal = ""

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def ask(self, prompt: str) -> str:
        self.out.write(prompt)
        self.out.flush()
        line = self.stdin.readline()
        if not line:
            self.say()
            raise _Quit
        return line.strip()

    def run(self) -> int:
        """Study until the queue is empty or the learner quits; returns answers given."""
        try:
            while True:
                shown = self.session.next(self.clock())
                if shown is None:
                    self._finished()
                    break
                self._study(shown)
        except _Quit:
            self.say(f"stopped; {self.session.answered} answered, all saved.")
        return self.session.answered

    def _finished(self) -> None:
        waiting = self.session.next_learning_due()
        if waiting is not None:
            minutes = max(1, round((waiting - self.clock()).total_seconds() / 60))
            self.say(f"done for now: a learning card comes back in {minutes} min.")
        else:
            self.say(f"done: {self.session.answered} answered today in this session.")

    def _study(self, shown: Shown) -> None:
        started = time.monotonic()
        self._print_front(shown)
        verdict: Verdict | None = None
        revealed = False
        while True:
            line = self.ask("answer> " if revealed else "> ")
            command = line.lower()
            if command == "q":
                raise _Quit
            if command == "?":
                self.say(HELP)
                continue
            if command == "u":
                self._saving(self._undo)
                return
            if command == "s":
                if self._saving(partial(self.session.suspend, self.clock())):
                    self.say("suspended.")
                return
            if command == "b":
                if self._saving(partial(self.session.bury, self.clock())):
                    self.say("buried until tomorrow.")
                return
            if command.startswith("f") and command[1:].strip().isdigit():
                self._saving(partial(self._flag, int(command[1:].strip())))
                continue
            if command in ("1", "2", "3", "4"):
                self._saving(partial(self._grade, shown, Rating(int(command)), started))
                return
            if command == "" and revealed:
                proposed = Rating(verdict.proposed) if verdict else Rating.GOOD
                self._saving(partial(self._grade, shown, proposed, started))
                return
            if command == "":
                self._print_back(shown, verdict)
                revealed = True
                continue
            if line.startswith("=") and not revealed:
                verdict = check(shown.card, line[1:])
                if verdict is None:
                    self.say("this card takes no typed answer; press enter to see the answer.")
                    continue
                mark = "right" if verdict.correct else "wrong"
                note = f" ({verdict.note})" if verdict.note else ""
                self.say(f"{mark}{note}: expected {verdict.expected}")
                self._print_back(shown, verdict)
                revealed = True
                continue
            self.say("? " + HELP)

    def _saving(self, step: Callable[[], object]) -> bool:
        """Run a step that writes. If the database refuses it (a full disk, a lock held past the
        busy timeout, a server gone away), the step was rolled back whole: say so and go on, the
        card shown again, so the learner can give it again. False when it was refused."""
        try:
            step()
        except Exception as exc:
            reason = database_reason(exc)
            if reason is None:
                raise
            self.say(f"not saved: the database said {reason!r}; nothing changed, try again.")
            self.refused += 1
            self.last_refusal = reason
            return False
        return True

    def _flag(self, flag: int) -> None:
        value = self.session.flag(flag)
        self.say(f"flag {value}." if value else "flag cleared.")

    def _undo(self) -> None:
        if not self.session.can_undo():
            self.say("nothing to undo.")
            return
        try:
            self.session.undo(self.clock())
        except PrepkitError as exc:
            self.say(f"{exc}.")
            return
        self.say("undone.")

    def _grade(self, shown: Shown, rating: Rating, started: float) -> None:
        duration = round((time.monotonic() - started) * 1000)
        answered = self.session.answer(rating, self.clock(), duration)
        interval = format_interval(answered.outcome.interval)
        self.say(f"{_NAMES[int(rating)]}: next in {interval}. saved.")
        if answered.rebased:
            self.say("(answered in another session meanwhile: this answer counts after that one)")

    def _print_front(self, shown: Shown) -> None:
        card = shown.card
        counts = shown.counts
        self.say()
        self.say(
            f"-- {card.deck} / {card.id} ({card.kind}) -- "
            f"new {counts.new} · learning {counts.learning} · review {counts.review}"
        )
        front = cloze_hidden(card.front) if card.kind is Kind.CLOZE else card.front
        self.say(front)
        if card.kind is Kind.CODE and card.code:
            self.say(f"```{card.language}\n{card.code}\n```")
        if card.kind is Kind.CHOICE:
            for number, option in enumerate(card.options, 1):
                self.say(f"  {number}. {option}")
        if card.kind in (Kind.NUMERIC, Kind.CHOICE):
            unit = f" in {card.unit}" if card.unit else ""
            self.say(f"(type =ANSWER{unit}, or enter to show the answer)")

    def _print_back(self, shown: Shown, verdict: Verdict | None) -> None:
        card = shown.card
        self.say("----")
        if card.kind is Kind.CLOZE:
            self.say(cloze_revealed(card.front))
        if card.kind is Kind.NUMERIC and card.answer is not None:
            unit = f" {card.unit}" if card.unit else ""
            self.say(f"answer: {card.answer:g}{unit}")
        if card.kind is Kind.CHOICE:
            self.say(f"answer: {card.correct}")
        if card.kind is Kind.CODE and card.expected is not None:
            self.say(f"output:\n{card.expected}")
        if card.back:
            self.say(card.back)
        for point in card.rubric:
            self.say(f"  [ ] {point}")
        self.say(f"source: {card.source}")
        labels = "  ".join(
            f"{int(o.rating)} {_NAMES[int(o.rating)]} ({format_interval(o.interval)})"
            for o in shown.outcomes
        )
        proposed = f"  [enter = {_NAMES[verdict.proposed]}]" if verdict else "  [enter = good]"
        self.say(labels + proposed)
