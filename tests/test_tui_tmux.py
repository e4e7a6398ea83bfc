"""The real `prepkit study` in a real terminal (tmux, 80x24), driven by keys as a person types them.

Everything goes through the installed console script: the workspace is made with `prepkit init`,
the reviewer is started by `prepkit study` inside a detached tmux session on a socket of its own
(never the user's tmux server), keys go in with `send-keys`, the screen is read back with
`capture-pane`, and the database is read with the sqlite3 module while the app runs and after it
quits. Every wait polls the screen against a generous deadline, so a slow 2-core machine only
makes it slower, not flaky.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from prepkit.schedule.review import format_interval

from .conftest import NOW, ROOT

POSTING = ROOT / "decks" / "postings" / "example-ml-systems.txt"
WIDTH, HEIGHT = 80, 24
START_TIMEOUT = 40.0  # a cold interpreter importing Textual on a busy 2-core machine
STEP_TIMEOUT = 15.0
SESSION = "prepkit"

INTERVAL = r"\d+(?:\.\d+)?(?:s|m|h|d|mo|y)"
STATUS = re.compile(
    r"(?P<deck>[\w-]+) · (?P<kind>\w+)(?: · flag \d)? new (?P<new>\d+) · learn (?P<learn>\d+)"
    r" · review (?P<review>\d+) done (?P<done>\d+) · \d+:\d\d"
)
LABELS = {
    n: re.compile(rf"{n} {name} ({INTERVAL})")
    for n, name in enumerate(("Again", "Hard", "Good", "Easy"), 1)
}
SHOW_HINT = "Space/Enter: show answer"
TYPED_HINT = "Enter checks"


def prepkit_command() -> list[str]:
    """The console script of the interpreter running the tests, else the one on PATH."""
    beside = Path(sys.executable).parent / "prepkit"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("prepkit")
    return [found] if found else [sys.executable, "-m", "prepkit"]


def flat(screen: str) -> str:
    """The screen as one line of words: wrapping and box padding do not matter to a regex."""
    return " ".join(screen.split())


def clean_env(tmp_path: Path) -> dict[str, str]:
    """The caller's environment without anything that could reach into the test: no outer tmux,
    no other database, profile or keymap, no Textual dev settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PREPKIT_", "TEXTUAL")) and key not in ("TMUX", "TMUX_PANE")
    }
    env.update(
        {
            "PREPKIT_DB": str(tmp_path / "prepkit.db"),
            "PREPKIT_NOW": NOW.isoformat(),
            "PREPKIT_KEYMAP": str(tmp_path / "no-keys.toml"),  # does not exist: default keys
        }
    )
    return env


@dataclass
class Tmux:
    """One detached tmux session on a private socket, with a private (almost empty) config."""

    socket: str
    config: Path
    exit_file: Path
    env: dict[str, str]
    last: str = ""
    socket_path: Path | None = None

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["tmux", "-L", self.socket, "-f", str(self.config), *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=30,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)} failed: {done.stderr.strip()}")
        return done

    def start(self, command: list[str], cwd: Path) -> None:
        """Run `command` in the session; its exit status is written to `exit_file` (tmux 3.3
        does not always report #{pane_dead_status})."""
        line = f"{shlex.join(command)}; echo $? > {shlex.quote(str(self.exit_file))}"
        self.run(
            "new-session", "-d", "-s", SESSION, "-x", str(WIDTH), "-y", str(HEIGHT),
            "-c", str(cwd), line,
        )  # fmt: skip
        self.socket_path = Path(self.run("display-message", "-p", "#{socket_path}").stdout.strip())

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", SESSION, *keys)

    def screen(self) -> str:
        self.last = self.run("capture-pane", "-p", "-t", SESSION).stdout
        return self.last

    def pane(self, fmt: str) -> str:
        return self.run("display-message", "-p", "-t", SESSION, fmt).stdout.strip()

    def dead(self) -> bool:
        return self.pane("#{pane_dead}") == "1"

    def wait_for(
        self, what: str, ready: Callable[[str], bool], timeout: float = STEP_TIMEOUT
    ) -> str:
        """Poll the screen until `ready` holds for it; fail with the last screen otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if ready(screen):
                return screen
            if self.dead():
                raise AssertionError(f"prepkit exited while waiting for {what}:\n{self.screen()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} after {timeout:.0f}s; the screen:\n{screen}")
            time.sleep(0.05)

    def wait_until_exit(self, timeout: float = STEP_TIMEOUT) -> int:
        """Wait for the program (and the shell line around it) to end; its exit status."""
        deadline = time.monotonic() + timeout
        while not (self.dead() and self.exit_file.exists() and self.exit_file.read_text().strip()):
            if time.monotonic() > deadline:
                raise AssertionError(f"prepkit still running after q; the screen:\n{self.screen()}")
            time.sleep(0.05)
        return int(self.exit_file.read_text())


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    config = tmp_path / "tmux.conf"
    # No status bar, so the pane is the whole 80x24; a pane whose program ended stays, so a
    # traceback, if any, can be read; a plain POSIX shell runs the command line.
    config.write_text(
        "set -g status off\nset -g remain-on-exit on\nset -g default-shell /bin/sh\n",
        encoding="utf-8",
    )
    socket = f"prepkit-test-{os.getpid()}-{secrets.token_hex(4)}"
    server = Tmux(socket, config, tmp_path / "exit-status", clean_env(tmp_path))
    # Where tmux puts a -L socket; replaced by what the server reports once it runs.
    folder = os.environ.get("TMUX_TMPDIR") or "/tmp"
    server.socket_path = Path(folder, f"tmux-{os.getuid()}", socket)
    try:
        yield server
    finally:
        server.run("kill-server", check=False)
        if server.socket_path is not None and server.socket_path.is_socket():
            server.socket_path.unlink(missing_ok=True)  # tmux leaves its socket file behind


@dataclass
class Graded:
    deck: str
    kind: str
    rating: int
    labels: dict[int, str] = field(default_factory=dict)  # grade -> interval the screen showed


def status(screen: str) -> re.Match[str]:
    found = STATUS.search(flat(screen))
    assert found, f"no status line on the screen:\n{screen}"
    return found


def done_count(screen: str) -> int | None:
    found = STATUS.search(flat(screen))
    return int(found["done"]) if found else None


def question_up(done: int) -> Callable[[str], bool]:
    """A card's question is on screen, after `done` answers."""
    return lambda screen: (
        done_count(screen) == done and (SHOW_HINT in screen or TYPED_HINT in screen)
    )


def labels_shown(screen: str) -> dict[int, str]:
    text = flat(screen)
    return {n: found[1] for n, pattern in LABELS.items() if (found := pattern.search(text))}


def revealed(*needed: int) -> Callable[[str], bool]:
    """The grade bar is up with (at least) these labels readable."""
    return lambda screen: set(needed) <= labels_shown(screen).keys()


def db_reviews(db: Path) -> list[tuple[str, str, int, int]]:
    """(deck, kind, rating, interval ms) of every review on disk, oldest first."""
    conn = sqlite3.connect(db, timeout=10)
    try:
        return [
            (str(deck), str(kind), int(rating), int(due_after) - int(reviewed_at))
            for deck, kind, rating, due_after, reviewed_at in conn.execute(
                "SELECT c.deck_id, c.kind, r.rating, r.due_after, r.reviewed_at "
                "FROM review r JOIN card c ON c.id = r.card_id ORDER BY r.id"
            )
        ]
    finally:
        conn.close()


def reveal(tmux: Tmux, screen: str) -> None:
    """Space shows the answer; on a typed card the answer box has the keys, and an empty Enter
    shows it."""
    tmux.keys("Enter" if TYPED_HINT in screen else "Space")


def check_against_disk(graded: list[Graded], db: Path) -> None:
    on_disk = db_reviews(db)
    assert [(d, k, r) for d, k, r, _ in on_disk] == [(g.deck, g.kind, g.rating) for g in graded]
    for mine, (_deck, _kind, _rating, interval_ms) in zip(graded, on_disk, strict=True):
        if mine.rating in mine.labels:  # the interval shown on the grade is the one saved
            saved = format_interval(timedelta(milliseconds=interval_ms))
            assert mine.labels[mine.rating] == saved, (mine, saved)


# Grade keys, card by card: mostly 3; Space after the reveal is Good too; one Again, one Easy.
PLAN = (("3", 3), ("3", 3), ("Space", 3), ("1", 1), ("3", 3), ("4", 4))
AT_LEAST = len(PLAN)
AT_MOST = 30  # stop here even if no typed-answer card came up


def test_study_in_a_real_terminal_grades_undoes_and_saves(tmux: Tmux, tmp_path: Path) -> None:
    db = tmp_path / "prepkit.db"
    prepkit = prepkit_command()
    made = subprocess.run(
        [*prepkit, "init", "--posting", str(POSTING), "--interview", "2026-12-18"],
        capture_output=True,
        text=True,
        env=tmux.env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    assert db_reviews(db) == []

    tmux.start([*prepkit, "study"], tmp_path)
    screen = tmux.wait_for("first card", question_up(0), START_TIMEOUT)
    assert tmux.pane("#{pane_width}x#{pane_height}") == f"{WIDTH}x{HEIGHT}"
    first = status(screen)

    graded: list[Graded] = []
    typed_seen = False
    while len(graded) < AT_MOST and (len(graded) < AT_LEAST or not typed_seen):
        shown = status(screen)
        typed = TYPED_HINT in screen
        typed_seen |= typed
        key, rating = PLAN[len(graded) % len(PLAN)]
        if key == "Space" and shown["kind"] == "prompt":
            key = "3"  # Space ticks a rubric point on a prompt card
        reveal(tmux, screen)
        screen = tmux.wait_for("the grade bar", revealed(1, 2, 3, 4))
        assert done_count(screen) == len(graded)  # showing the answer saved nothing
        labels = labels_shown(screen)
        if not graded:  # a new card: Anki's learning steps 1m, 10m
            assert labels[1] == "1m" and labels[3] == "10m", screen
            assert "3 Good 10m" in screen
        tmux.keys(key)
        graded.append(Graded(shown["deck"], shown["kind"], rating, labels))
        screen = tmux.wait_for(f"done {len(graded)}", question_up(len(graded)))
        # Committed before the next card was drawn: already on disk while the app runs.
        assert len(db_reviews(db)) == len(graded)
        if len(graded) == 1:
            after = status(screen)
            assert int(after["new"]) == int(first["new"]) - 1
            assert int(after["learn"]) == int(first["learn"]) + 1
    assert typed_seen, "no numeric or choice card in the first cards of the example posting"
    check_against_disk(graded, db)

    # Undo: show the next answer (which moves focus out of any answer box), then u takes back
    # the last grade, on screen and on disk, and puts that card up again.
    reveal(tmux, screen)
    tmux.wait_for("the grade bar", revealed(1, 2, 3, 4))
    tmux.keys("u")
    screen = tmux.wait_for("the undone card", question_up(len(graded) - 1))
    again = status(screen)
    undone = graded.pop()
    assert (again["deck"], again["kind"]) == (undone.deck, undone.kind)
    assert len(db_reviews(db)) == len(graded)
    check_against_disk(graded, db)

    # Grade it again, differently: Easy.
    reveal(tmux, screen)
    screen = tmux.wait_for("the grade bar", revealed(1, 2, 3, 4))
    tmux.keys("4")
    graded.append(Graded(undone.deck, undone.kind, 4, labels_shown(screen)))
    screen = tmux.wait_for(f"done {len(graded)}", question_up(len(graded)))

    # Quit: Escape first (it leaves an answer box, where q would be typed, or else goes to
    # the dashboard; the card may still be painting, so do not guess which), then q.
    # Pauses around Escape: focus moves to an answer box just after the card is painted, and a
    # terminal reads Escape followed at once by q as Alt+q.
    time.sleep(0.5)
    tmux.keys("Escape")
    tmux.wait_for(
        "keys that quit in the footer",
        lambda s: any(k in s.splitlines()[-1] for k in ("Show/Good", "Study now")),
    )
    time.sleep(0.3)
    tmux.keys("q")
    assert tmux.wait_until_exit() == 0, tmux.screen()
    check_against_disk(graded, db)
    assert [r for _d, _k, r, _i in db_reviews(db)] == [g.rating for g in graded]
