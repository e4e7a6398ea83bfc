"""The reviewer: one card at a time, Anki's keys, the next interval on every grade.

The four outcomes are computed once, when the card is shown (StudySession does it), and the one
the learner picks is what is saved, so the label on a grade and the interval written are the
same. Every answer is committed before the next card is drawn: leaving the screen, quitting or a
crash loses at most the answer being written.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, SelectionList, Static
from textual.widgets.selection_list import Selection

from prepkit.deck.check import Verdict, check
from prepkit.deck.model import Kind
from prepkit.errors import PrepkitError
from prepkit.schedule.review import Rating, format_interval
from prepkit.study import Shown
from prepkit.tui import card_text
from prepkit.tui.saving import saving

if TYPE_CHECKING:
    from prepkit.tui.app import PrepkitApp

GRADE_NAMES = {1: "Again", 2: "Hard", 3: "Good", 4: "Easy"}


class Rubric(SelectionList[int]):
    """The points a good answer to a prompt card covers; the learner ticks the ones they made.

    Space ticks the highlighted point (as in any selection list); Enter grades with the proposed
    grade, as Space/Enter do on every other revealed card.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "screen.grade_proposed", "Grade", show=False),
        Binding("x", "select", "Tick", show=False),
    ]


class AnswerBox(Input):
    """The typed-answer box of numeric and choice cards. While it has focus every key types
    (a minus sign is part of an answer, not Bury); Escape leaves it so the reviewer keys work."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Leave the answer box", show=False),
    ]

    def action_leave(self) -> None:
        self.screen.query_one("#card", VerticalScroll).focus()

    def on_focus(self) -> None:
        self.screen.refresh_bindings()

    def on_blur(self) -> None:
        self.screen.refresh_bindings()


class GradeBar(Horizontal):
    """Four grades, each with the interval it would give; the proposed one is highlighted.

    Before the answer is shown the bar holds a one-line hint instead.
    """

    def compose(self) -> ComposeResult:
        yield Static(id="grade-hint")
        for number in range(1, 5):
            yield Static(id=f"grade-{number}", classes="grade")

    def hint(self, text: str) -> None:
        self.query_one("#grade-hint", Static).update(text)
        self.set_class(True, "hinting")

    def show_outcomes(self, shown: Shown, proposed: int) -> None:
        self.set_class(False, "hinting")
        for outcome in shown.outcomes:
            number = int(outcome.rating)
            label = self.query_one(f"#grade-{number}", Static)
            label.update(
                Text.assemble(
                    (f"{number} ", "bold"),
                    GRADE_NAMES[number],
                    " ",
                    (format_interval(outcome.interval), "bold"),
                )
            )
            label.set_class(number == proposed, "proposed")


class StudyScreen(Screen[None]):
    """Today's session: front, reveal, grade; undo, edit, bury, suspend, flag, info."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space,enter", "reveal_or_grade", "Show/Good", id="study.reveal"),
        Binding("1", "grade(1)", "Again", id="study.again", show=False),
        Binding("2", "grade(2)", "Hard", id="study.hard", show=False),
        Binding("3", "grade(3)", "Good", id="study.good", show=False),
        Binding("4", "grade(4)", "Easy", id="study.easy", show=False),
        Binding("u", "undo", "Undo", id="study.undo"),
        Binding("e", "edit", "Edit", id="study.edit"),
        Binding("minus", "bury", "Bury", id="study.bury"),
        Binding("exclamation_mark,at", "suspend", "Suspend", id="study.suspend"),
        Binding("f", "flag(1)", "Flag", id="study.flag"),
        Binding("ctrl+2", "flag(2)", "Flag orange", id="study.flag2", show=False),
        Binding("ctrl+3", "flag(3)", "Flag green", id="study.flag3", show=False),
        Binding("ctrl+4", "flag(4)", "Flag blue", id="study.flag4", show=False),
        Binding("i", "info", "Info", id="study.info"),
        Binding("escape", "leave", "Dashboard", id="study.leave"),
    ]

    app: PrepkitApp

    def __init__(self) -> None:
        super().__init__(id="study")
        self.shown: Shown | None = None
        self.revealed = False
        self.verdict: Verdict | None = None
        self.typed = ""
        self.started = time.monotonic()
        self.session_started: datetime | None = None  # by the app clock: PREPKIT_NOW freezes it
        self._flag = 0
        self._generation = 0
        self.last = ""  # what the last action did, for the status line

    def compose(self) -> ComposeResult:
        yield Static(id="study-status")
        with VerticalScroll(id="card"):
            yield Static(id="front")
            yield AnswerBox(id="typed")
            yield Static(id="back")
            yield Rubric(id="rubric")
        yield GradeBar(id="grades")
        yield Footer()

    def on_mount(self) -> None:
        self.session_started = self.app.clock()
        self._generation = self.app.session_generation
        self.set_interval(1.0, self._tick)
        self.next_card()

    def on_screen_resume(self) -> None:
        """Back from another screen: cards may have been suspended or edited there."""
        stale = self._generation != self.app.session_generation
        self._generation = self.app.session_generation
        if stale or self.shown is None or not self.revealed:
            self.app.session.build_queue(self.app.clock())
            self.shown = None
            self.next_card()

    # -- drawing -------------------------------------------------------------------------------

    def next_card(self) -> None:
        self.show(self.app.session.next(self.app.clock()))

    def show(self, shown: Shown | None) -> None:
        self.shown = shown
        self.revealed = False
        self.verdict = None
        self.typed = ""
        self._flag = 0
        self.started = time.monotonic()
        front = self.query_one("#front", Static)
        typed = self.query_one("#typed", Input)
        back = self.query_one("#back", Static)
        rubric = self.query_one("#rubric", Rubric)
        grades = self.query_one(GradeBar)
        back.update("")
        back.display = False
        rubric.clear_options()
        rubric.display = False
        self.query_one("#card", VerticalScroll).scroll_home(animate=False)
        if shown is None:
            typed.display = False
            front.update(self._done_text())
            grades.hint("")
            self._update_status()
            self._wait_for_learning()
            return
        front.update(card_text.front(shown.card, self.app.look))
        takes_typed = shown.card.kind in (Kind.NUMERIC, Kind.CHOICE)
        typed.display = takes_typed
        typed.value = ""
        typed.disabled = not takes_typed
        if takes_typed:
            unit = f" in {shown.card.unit}" if shown.card.unit else ""
            hint = "an option's number or text" if shown.card.kind is Kind.CHOICE else "a number"
            typed.placeholder = f"type {hint}{unit}; Enter checks (empty: show); Esc leaves box"
            typed.focus()
            hint = "Type your answer, Enter checks it · empty Enter shows the answer"
        else:
            self.query_one("#card", VerticalScroll).focus()
            hint = "Space/Enter: show answer"
        # What the last action did sits where the grades were: a toast would cover them.
        grades.hint(f"{hint}\nlast: {self.last}" if self.last else hint)
        self._update_status()

    def reveal(self) -> None:
        shown = self.shown
        if shown is None or self.revealed:
            return
        self.revealed = True
        typed = self.query_one("#typed", Input)
        typed.disabled = True
        back = self.query_one("#back", Static)
        back.update(card_text.back(shown.card, self.app.look, self.verdict, self.typed))
        back.display = True
        card = shown.card
        if card.kind is Kind.PROMPT and card.rubric:
            rubric = self.query_one("#rubric", Rubric)
            rubric.add_options([Selection(point, n) for n, point in enumerate(card.rubric)])
            rubric.display = True
            rubric.border_title = "what you covered (space ticks, Enter grades)"
            rubric.highlighted = 0
            rubric.focus()
        else:
            self.query_one("#card", VerticalScroll).focus()
        self.query_one(GradeBar).show_outcomes(shown, self.proposed())

    def proposed(self) -> int:
        shown = self.shown
        if self.verdict is not None:
            return self.verdict.proposed
        if shown is not None and shown.card.kind is Kind.PROMPT and shown.card.rubric:
            ticked = len(self.query_one("#rubric", Rubric).selected)
            return card_text.rubric_grade(ticked, len(shown.card.rubric))
        return int(Rating.GOOD)

    @on(SelectionList.SelectedChanged, "#rubric")
    def _rubric_changed(self) -> None:
        if self.shown is not None and self.revealed:
            self.query_one(GradeBar).show_outcomes(self.shown, self.proposed())

    def _done_text(self) -> Text:
        session = self.app.session
        waiting = session.next_learning_due()
        text = Text("Done for now.\n\n", style="bold")
        text.append(f"{session.answered} answered in this session, all saved.\n")
        if waiting is not None:
            minutes = max(1, round((waiting - self.app.clock()).total_seconds() / 60))
            text.append(f"A learning card comes back in {minutes} min; this screen will show it.\n")
        else:
            text.append("Nothing else is due today. ")
        text.append("\nEscape: dashboard · b: browse · t: stats · q: quit")
        return text

    def _wait_for_learning(self) -> None:
        waiting = self.app.session.next_learning_due()
        if waiting is None:
            return
        ahead = self.app.session.settings.learn_ahead_minutes * 60
        seconds = (waiting - self.app.clock()).total_seconds() - ahead
        self.set_timer(max(1.0, seconds), self._retry_waiting)

    def _retry_waiting(self) -> None:
        if self.shown is None:
            self.next_card()

    def _tick(self) -> None:
        self._update_status()

    def _update_status(self) -> None:
        session = self.app.session
        counts = session.counts()
        started = self.session_started or self.app.clock()
        elapsed = max(0, int((self.app.clock() - started).total_seconds()))
        status = Text()
        shown = self.shown
        if shown is not None:
            card = shown.card
            status.append(f"{card.deck}", style="bold")
            status.append(f" · {card.kind}")
            if self._flag:
                status.append(f" · flag {self._flag}", style="bold red")
            status.append("   ")
        # Anki's count colours; without colour they would turn to unreadable greys, so plain.
        plain = self.app.no_color
        status.append(f"new {counts.new}", style="" if plain else "blue")
        status.append(" · ")
        status.append(f"learn {counts.learning}", style="" if plain else "red")
        status.append(" · ")
        status.append(f"review {counts.review}", style="" if plain else "green")
        status.append(f"   done {session.answered} · {elapsed // 60}:{elapsed % 60:02d}")
        self.query_one("#study-status", Static).update(status)

    # -- actions -------------------------------------------------------------------------------

    _TYPING_HIDES = frozenset(
        {"reveal_or_grade", "grade", "undo", "edit", "bury", "suspend", "flag", "info"}
    )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """While the answer box has focus its keys type: the footer stops offering them."""
        if (
            action in self._TYPING_HIDES
            and self.query("#typed")
            and self.query_one("#typed", Input).has_focus
        ):
            return False
        return True

    def action_reveal_or_grade(self) -> None:
        if self.shown is None:
            return
        if not self.revealed:
            self.reveal()
        else:
            self.grade(self.proposed())

    def action_grade_proposed(self) -> None:
        if self.revealed:
            self.grade(self.proposed())

    def action_grade(self, number: int) -> None:
        if self.shown is None:
            return
        if not self.revealed:
            # As in Anki, a grade before the answer is shown is not taken: reveal first.
            self.reveal()
            return
        self.grade(number)

    @saving
    def grade(self, number: int) -> None:
        if self.shown is None:
            return
        duration = round((time.monotonic() - self.started) * 1000)
        answered = self.app.session.answer(Rating(number), self.app.clock(), duration)
        self.last = f"{GRADE_NAMES[number]} {format_interval(answered.outcome.interval)}"
        self.next_card()

    @on(Input.Submitted, "#typed")
    def _typed(self, event: Input.Submitted) -> None:
        event.stop()
        shown = self.shown
        if shown is None or self.revealed:
            return
        self.typed = event.value
        self.verdict = check(shown.card, event.value) if event.value.strip() else None
        self.reveal()

    @saving
    def action_undo(self) -> None:
        session = self.app.session
        if not session.can_undo():
            self.notify("Nothing to undo.", severity="warning", timeout=2)
            return
        try:
            shown = session.undo(self.app.clock())
        except PrepkitError as exc:  # answered or buried again since in another session
            self.notify(str(exc), severity="warning", timeout=4)
            return
        self.last = "undone"
        self.show(shown)

    @saving
    def action_bury(self) -> None:
        if self.shown is None:
            return
        self.app.session.bury(self.app.clock())
        self.notify("Buried until tomorrow (u undoes).", timeout=2)
        self.next_card()

    @saving
    def action_suspend(self) -> None:
        if self.shown is None:
            return
        self.app.session.suspend(self.app.clock())
        self.notify("Suspended (u undoes; unsuspend in the browser).", timeout=2)
        self.next_card()

    @saving
    def action_flag(self, flag: int) -> None:
        if self.shown is None:
            return
        value = self.app.session.flag(flag)
        self._flag = value
        self.notify(f"Flag {value} set." if value else "Flag cleared.", timeout=1.5)
        self._update_status()

    def action_edit(self) -> None:
        shown = self.shown
        if shown is None:
            return
        from prepkit.tui.screens.modals import EditScreen

        self.app.push_screen(EditScreen(shown.card, shown.edited), self._edited)

    @saving
    def _edited(self, result: tuple[str, str] | str | None) -> None:
        """Save what the edit screen returned: new text, REVERT, or None when cancelled."""
        from prepkit.tui.screens.modals import REVERT

        if result is None:
            return
        session, now = self.app.session, self.app.clock()
        try:
            if result == REVERT:
                fresh = session.revert_shown(now)
            else:
                assert isinstance(result, tuple)
                fresh = session.edit_shown(result[0], result[1], now)
        except PrepkitError as exc:
            self.notify(str(exc), severity="error", timeout=4)
            return
        revealed, verdict, typed = self.revealed, self.verdict, self.typed
        self.show(fresh)
        if revealed:
            self.verdict, self.typed = verdict, typed
            self.reveal()
        said = "Back to the library text." if result == REVERT else "Your edit is saved."
        self.notify(said, timeout=2)

    def action_info(self) -> None:
        if self.shown is None:
            return
        from prepkit.tui.screens.modals import InfoScreen

        self.app.push_screen(InfoScreen(self.shown.card_id))

    def action_leave(self) -> None:
        self.app.switch_mode("dashboard")
