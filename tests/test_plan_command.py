"""`prepkit plan` and a study session that follows the plan, as a learner would see them."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

from prepkit.config import Settings
from prepkit.schedule.review import Rating
from prepkit.study import StudySession
from prepkit.workspace import Workspace

from .conftest import NOW, subprocess_env
from .tui_helpers import rows


def test_plan_json_contract(cli, deck_dir) -> None:
    assert cli("sync", str(deck_dir)).code == 0
    result = cli("plan", "--interview", "2026-12-04", "--minutes", "20", "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert {"interview", "feasible", "expected_recall", "minutes_per_day", "days"} <= data.keys()
    assert data["interview"] == "2026-12-04"
    assert next(d["date"] for d in data["days"]) == "2026-11-27"
    assert len(data["days"]) == 7
    assert all({"date", "new", "reviews", "minutes"} <= d.keys() for d in data["days"])
    assert sum(d["new"] for d in data["days"]) == 5 and data["feasible"] is True
    assert all(d["minutes"] <= 20 for d in data["days"])
    assert 0.5 < data["expected_recall"] <= 1


def test_plan_json_is_all_that_reaches_stdout_in_a_real_process(deck_dir, tmp_path) -> None:
    """The LP solver is a C library that can print to the process's stdout behind Python's
    back; a script reading `prepkit plan --json` must get JSON and nothing else."""
    env = subprocess_env(tmp_path)
    run = [sys.executable, "-m", "prepkit"]
    synced = subprocess.run([*run, "sync", str(deck_dir)], env=env, capture_output=True)
    assert synced.returncode == 0, synced.stderr
    result = subprocess.run(
        [*run, "plan", "--interview", "2026-12-04", "--minutes", "20", "--json"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["interview"] == "2026-12-04"
    assert "HiGHS" not in result.stdout + result.stderr


def test_plan_text_says_when_the_budget_is_short(cli, deck_dir) -> None:
    cli("sync", str(deck_dir))
    result = cli("plan", "--interview", "2026-11-29", "--minutes", "1")
    assert result.code == 0, result.err
    assert "At 1 min/day you can introduce" in result.out
    assert "min/day covers all" in result.out
    assert "Sat 28 Nov" in result.out  # the daily chart


def test_plan_refuses_bad_dates_and_missing_settings(cli, deck_dir) -> None:
    cli("sync", str(deck_dir))
    missing = cli("plan")
    assert missing.code == 1 and "no interview date" in missing.err
    past = cli("plan", "--interview", "2026-11-01")
    assert past.code == 1 and "not after today" in past.err
    assert "Traceback" not in past.err and past.err.count("\n") == 1
    junk = cli("plan", "--interview", "soon")
    assert junk.code == 1 and "not a date" in junk.err
    day = cli("plan", "--interview", "2026-12-10", "--day", "funday=3")
    assert day.code == 1 and "--day funday=3" in day.err


def test_plan_save_keeps_the_settings(cli, deck_dir, tmp_path) -> None:
    cli("sync", str(deck_dir))
    result = cli("plan", "--interview", "2026-12-10", "--minutes", "45", "--day", "sun=0", "--save")
    assert result.code == 0, result.err
    saved = dict(rows_for(tmp_path / "cli.db"))
    assert json.loads(saved["interview_date"]) == "2026-12-10"
    assert json.loads(saved["daily_minutes"]) == 45
    assert json.loads(saved["day_minutes"]) == {"sun": 0.0}
    again = cli("plan", "--json")
    sunday = next(d for d in json.loads(again.out)["days"] if d["date"] == "2026-11-29")
    assert sunday["budget"] == 0 and sunday["minutes"] == 0


def rows_for(db) -> list[tuple[str, str]]:
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        found = [(str(k), str(v)) for k, v in conn.execute(text("SELECT key, value FROM setting"))]
    engine.dispose()
    return found


def test_a_session_follows_the_plan_and_pulls_a_late_review_in(workspace: Workspace) -> None:
    from sqlalchemy import text

    # The basic card was learnt 25 days ago with a 40-day stability: FSRS next shows it in ten
    # days, after the interview (in two), when its recall would have fallen to about 0.93.
    day = 86_400_000
    now_ms = int(NOW.timestamp() * 1000)
    with workspace.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE card_state SET state = 2, stability = 40, difficulty = 5, reps = 3, "
                "last_review = :last, due = :due "
                "WHERE card_id = (SELECT id FROM card WHERE key = 's-basic')"
            ),
            {"last": now_ms - 25 * day, "due": now_ms + 10 * day},
        )
    with StudySession(workspace, NOW) as session:
        assert session.counts().review == 0  # nothing due by FSRS today
    interview = (NOW + timedelta(days=2)).date()
    workspace.save_settings(Settings(interview_date=interview.isoformat(), daily_minutes=30))
    with StudySession(workspace, NOW) as session:
        introduced_today = session.counts().new
        assert introduced_today >= 1  # the plan's new cards for today (the rest tomorrow)
        seen = []
        while (shown := session.next(NOW)) is not None and len(seen) < 40:
            seen.append(shown.card.id)
            session.answer(Rating.GOOD, NOW)
        assert "s-basic" not in seen  # not today: its last review goes on the eve
    tomorrow = NOW + timedelta(days=1)
    with StudySession(workspace, tomorrow) as session:
        first = session.next(tomorrow)
        assert first is not None
        keys = {first.card.id}
        session.answer(Rating.GOOD, tomorrow)
        while (shown := session.next(tomorrow)) is not None and len(keys) < 40:
            keys.add(shown.card.id)
            session.answer(Rating.GOOD, tomorrow)
        assert "s-basic" in keys
    news = rows(workspace, "SELECT COUNT(*) FROM review WHERE state_before = 0")[0][0]
    assert news == 4  # every card introduced before the interview


def test_a_library_too_big_to_plan_says_so(cli, deck_dir, monkeypatch) -> None:
    import prepkit.planning

    cli("sync", str(deck_dir))
    monkeypatch.setattr(prepkit.planning, "PLAN_LIMIT", 3)
    result = cli("plan", "--interview", "2026-12-10")
    assert result.code == 1
    assert "5 cards to plan: the planner handles up to 3" in result.err
