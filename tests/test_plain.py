"""The line-mode session and the read commands, driven as a script or a person would."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from .conftest import Backend, refuse_quickly, subprocess_env, writes_held

pytestmark = pytest.mark.backends


def reviews(db: str | Path) -> int:
    engine = create_engine(str(db) if "://" in str(db) else f"sqlite:///{db}")
    with engine.connect() as conn:
        count = conn.execute(text("SELECT COUNT(*) FROM review")).scalar()
    engine.dispose()
    return int(count or 0)


def test_scripted_grades_are_saved(cli, cli_db: str, deck_dir: Path) -> None:
    assert cli("sync", str(deck_dir)).code == 0
    result = cli("study", "--plain", stdin="3\n4\n1\nq\n")
    assert result.code == 0
    assert result.out.count(": next in") == 3
    assert "stopped; 3 answered, all saved." in result.out
    assert reviews(cli_db) == 3


def test_end_of_input_junk_and_an_empty_queue_are_handled(cli, deck_dir: Path) -> None:
    cli("sync", str(deck_dir))
    junk = cli("study", "--plain", stdin="banana\n\n7\n3\n")
    assert junk.code == 0
    assert junk.out.count("? keys:") == 2  # "banana" and "7" are asked again
    assert "good: next in" in junk.out
    assert "stopped; 1 answered" in junk.out
    done = cli("study", "--plain", stdin="4\n" * 20)
    assert done.code == 0
    assert "done" in done.out
    empty = cli("study", "--plain", stdin="")
    assert empty.code == 0 and "Traceback" not in empty.err


def test_typed_answers_propose_a_grade(cli, deck_dir: Path) -> None:
    cli("sync", str(deck_dir))
    # The small deck shows s-basic then s-numeric first (position order).
    wrong = cli("study", "--plain", stdin="4\n=12\n\nq\n")
    assert "wrong (off by 4 bytes): expected 16 bytes" in wrong.out
    assert "[enter = again]" in wrong.out and "again: next in 1m" in wrong.out
    # After the three other new cards, the learning card comes back (learn-ahead).
    right = cli("study", "--plain", stdin="4\n4\n4\n=16 bytes\n\nq\n")
    assert "right: expected 16 bytes" in right.out
    assert "[enter = good]" in right.out and "good: next in" in right.out


def test_undo_suspend_bury_in_line_mode(cli, cli_db: str, deck_dir: Path) -> None:
    cli("sync", str(deck_dir))
    result = cli("study", "--plain", stdin="3\nu\ns\nb\nu\nu\nq\n")
    assert result.out.count("undone.") == 3
    assert "suspended." in result.out and "buried until tomorrow." in result.out
    assert reviews(cli_db) == 0
    stats = json.loads(cli("stats", "--json").out)
    assert stats["suspended"] == 0 and stats["reviews"] == 0


def test_stats_json_contract(cli, deck_dir: Path) -> None:
    cli("sync", str(deck_dir))
    cli("study", "--plain", stdin="3\n3\n")
    data = json.loads(cli("stats", "--json").out)
    assert {"cards", "new", "due", "reviews", "topics"} <= data.keys()
    assert data["cards"] == 5 and data["reviews"] == 2 and data["new"] == 3
    assert data["topics"] == [
        {"id": "small", "title": "Small test deck", "cards": 5, "reviewed": 2, "due": 2}
    ]


def test_usage_errors_exit_2(cli) -> None:
    assert cli("stats", "--no-such-flag").code == 2
    assert cli("no-such-command").code == 2


def test_each_answer_is_committed_before_the_next_card_prints(
    backend: Backend, tmp_path: Path, deck_dir: Path
) -> None:
    """Drive a real process over a pipe: after each grade, the review is already committed."""
    db = backend.db("sub.db")
    env = subprocess_env(tmp_path, PREPKIT_DB=db)
    prepkit = [sys.executable, "-m", "prepkit"]
    subprocess.run([*prepkit, "sync", str(deck_dir)], env=env, check=True, capture_output=True)
    proc = subprocess.Popen(
        [*prepkit, "study", "--plain"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    try:
        assert proc.stdin and proc.stdout
        for answered in range(1, 4):
            line = ""
            while not line.startswith("-- "):  # wait for a card to be printed
                line = proc.stdout.readline()
                assert line, "session ended early"
            assert reviews(db) == answered - 1
            proc.stdin.write("3\n")
            proc.stdin.flush()
        while "saved." not in proc.stdout.readline():
            pass
        deadline = time.monotonic() + 10
        while reviews(db) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert reviews(db) == 3
        proc.stdin.close()
        assert proc.wait(timeout=20) == 0
    finally:
        proc.kill()


def test_steps_the_database_refuses_are_said_and_the_session_goes_on(
    cli, cli_db: str, deck_dir: Path, monkeypatch
) -> None:
    """While another program holds a lock prepkit needs to write, a grade, a bury, a suspend and
    a flag are each refused in one line that says nothing was saved; the card is shown again and
    the session goes on. It ends with one line counting them and exit code 1, for a script.
    Nothing of it reaches the database; the next session saves as usual."""
    assert cli("sync", str(deck_dir)).code == 0
    refuse_quickly(cli_db, monkeypatch)
    with writes_held(cli_db) as refusal:
        result = cli("study", "--plain", stdin="3\nb\ns\nf 2\n")
    assert result.code == 1 and "Traceback" not in result.err
    assert (
        result.err.strip()
        .splitlines()[-1]
        .startswith(f"prepkit: 4 steps were not saved: the database said '{refusal}")
    )
    refused = [line for line in result.out.splitlines() if "not saved:" in line]
    assert len(refused) == 4, result.out
    assert all(refusal in line and "nothing changed, try again" in line for line in refused)
    assert result.out.count("What is a warp?") == 4  # shown again after each refused step
    assert "stopped; 0 answered, all saved." in result.out
    assert reviews(cli_db) == 0
    engine = create_engine(cli_db if "://" in cli_db else f"sqlite:///{cli_db}")
    with engine.connect() as conn:
        touched = conn.execute(
            text(
                "SELECT COUNT(*) FROM card_state WHERE suspended = :yes "
                "OR buried_until IS NOT NULL OR flag != 0"
            ),
            {"yes": True},
        ).scalar()
    engine.dispose()
    assert touched == 0
    assert cli("study", "--plain", stdin="3\nq\n").code == 0
    assert reviews(cli_db) == 1
