"""Driving `prepkit study --plain` over pipes and reading back what it acknowledged.

The session answers each command line with exactly one line once the action is committed
(`good: next in 10m. saved.`, `undone.`, `suspended.`, `buried until tomorrow.`, or `nothing to
undo.`), and prints the next card's header before it reads again. So the n-th acknowledgement
belongs to the n-th command, the card it acted on is the last header printed before it, and a
killed session had at most one command in flight: the first one not acknowledged.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .review_log import ACKS, ANSWERED, GRADES, HEADER

PROMPT = re.compile(r"^(?:(?:answer)?> )+")


@dataclass(frozen=True, slots=True)
class Ack:
    """One acknowledged command: what it did and to which card (rating for answers)."""

    action: str  # answer, undo, noop, refused (undo), suspend, bury
    key: str
    rating: int = 0


@dataclass(slots=True)
class Session:
    """A running `prepkit study --plain` whose stdout is read line by line in a thread."""

    proc: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)
    changed: threading.Condition = field(default_factory=threading.Condition)
    sent: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, env: dict[str, str], cwd: Path) -> Session:
        proc = subprocess.Popen(
            [sys.executable, "-m", "prepkit", "study", "--plain"],
            env=env,
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        session = cls(proc)
        threading.Thread(target=session._read, daemon=True).start()
        return session

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self.changed:
                self.lines.append(line.rstrip("\n"))
                self.changed.notify_all()
        with self.changed:
            self.done.set()
            self.changed.notify_all()

    def send(self, *commands: str) -> bool:
        """Write command lines; False when the session is gone (its stdin is closed)."""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write("".join(f"{c}\n" for c in commands))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return False
        self.sent.extend(commands)
        return True

    def close_input(self) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass

    def wait_for(self, acks: int = 0, headers: int = 0, timeout: float = 60) -> bool:
        """Block until `acks` acknowledgements and `headers` cards are printed; False when the
        session ended first. A session silent for `timeout` seconds fails the test."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                shown = sum(1 for line in self.lines if HEADER.match(line))
                if shown >= headers and len(acknowledged(self.lines)) >= acks:
                    return True
                if self.done.is_set():
                    return False
                left = deadline - time.monotonic()
                if left <= 0:
                    self.proc.kill()
                    raise AssertionError(f"session silent for {timeout} s: {self.lines[-5:]}")
                self.changed.wait(left)

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        """Wait for the process to end and its stdout to be read; (exit code, stderr)."""
        code = self.proc.wait(timeout=timeout)
        self.done.wait(timeout)
        assert self.proc.stderr is not None
        err = self.proc.stderr.read()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                try:
                    stream.close()
                except (BrokenPipeError, OSError):
                    pass
        return code, err

    def acks(self) -> list[Ack]:
        with self.changed:
            return acknowledged(self.lines)

    def shown(self) -> list[str]:
        """The keys of the cards shown so far, in order."""
        with self.changed:
            return [m.group(1) for m in map(HEADER.match, self.lines) if m]


def acknowledged(lines: list[str]) -> list[Ack]:
    """The acknowledgements in a transcript, each with the card shown when it was given."""
    out: list[Ack] = []
    key = ""
    for raw in lines:
        header = HEADER.match(raw)
        if header:
            key = header.group(1)
            continue
        text = PROMPT.sub("", raw).strip()
        answered = ANSWERED.search(text)
        if answered:
            out.append(Ack("answer", key, GRADES[answered.group(1)]))
        elif text in ACKS:
            out.append(Ack(ACKS[text], key))
    return out


@dataclass(slots=True)
class Effect:
    """What a session's acknowledged commands did, undos applied, and what the one command in
    flight when it was killed may have done on top (it committed or it did not)."""

    answers: Counter[tuple[str, int]] = field(default_factory=Counter)
    suspended: set[str] = field(default_factory=set)
    buried: set[str] = field(default_factory=set)
    undone_answers: int = 0
    # Alternatives for the command in flight: (answers added or removed, card suspended or
    # unsuspended, card buried or unburied); empty when nothing was in flight.
    maybe_answer: Counter[tuple[str, int]] = field(default_factory=Counter)
    maybe_unanswer: Counter[tuple[str, int]] = field(default_factory=Counter)
    maybe_suspend: str = ""
    maybe_unsuspend: str = ""
    maybe_bury: str = ""
    maybe_unbury: str = ""


def shown_key(lines: list[str]) -> str:
    """The card shown last: the one a command in flight acted on, if it was read at all."""
    keys = [m.group(1) for m in map(HEADER.match, lines) if m]
    return keys[-1] if keys else ""


def effect(acks: list[Ack], sent: list[str], killed: bool, shown: str) -> Effect:
    """Replay acknowledgements against an undo stack, as prepkit.study keeps it."""
    result = Effect()
    stack: list[Ack] = []
    for ack in acks:
        if ack.action == "refused":  # answered over in another session: nothing changed
            stack.pop()
        elif ack.action == "undo":
            last = stack.pop()
            if last.action == "answer":
                result.answers[(last.key, last.rating)] -= 1
                result.undone_answers += 1
            elif last.action == "suspend":
                result.suspended.discard(last.key)
            else:
                result.buried.discard(last.key)
        elif ack.action == "answer":
            result.answers[(ack.key, ack.rating)] += 1
            stack.append(ack)
        elif ack.action == "suspend":
            result.suspended.add(ack.key)
            stack.append(ack)
        elif ack.action == "bury":
            result.buried.add(ack.key)
            stack.append(ack)
    result.answers = +result.answers
    if killed and len(acks) < len(sent):
        command = sent[len(acks)]
        if command in ("1", "2", "3", "4"):
            result.maybe_answer[(shown, int(command))] = 1
        elif command == "s":
            result.maybe_suspend = shown
        elif command == "b":
            result.maybe_bury = shown
        elif command == "u" and stack:
            last = stack[-1]
            if last.action == "answer":
                result.maybe_unanswer[(last.key, last.rating)] = 1
            elif last.action == "suspend":
                result.maybe_unsuspend = last.key
            else:
                result.maybe_unbury = last.key
    return result
