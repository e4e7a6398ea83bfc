"""Long imports and exports show progress on stderr, only to a person at a terminal; the data
(and `--json`) on stdout stays clean either way."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from prepkit.export.apkg import PackageCard, PackageReview, build_package

from .conftest import subprocess_env

pytest.importorskip("genanki", reason="the anki extra builds the package imported here")

DAY_MS = 86_400_000
START_MS = 1_767_600_000_000  # 2026-01-05


def package(path: Path, notes: int = 400, answers: int = 5) -> Path:
    cards = [
        PackageCard(
            key=f"p-{i}",
            deck="Progress",
            front=f"Question {i}",
            back=f"Answer {i}",
            source="test",
            tags=(),
            cloze=False,
            modified_ms=START_MS,
            reps=answers,
            state=2,
            stability=5.0,
            difficulty=5.0,
            due_ms=START_MS + 60 * DAY_MS,
            last_review_ms=START_MS + 30 * DAY_MS,
            reviews=tuple(
                PackageReview(
                    START_MS + k * k * DAY_MS + i, 3, 5000, 2 if k else 0, DAY_MS, None, 5.0
                )
                for k in range(answers)
            ),
        )
        for i in range(notes)
    ]
    path.write_bytes(build_package(cards, START_MS, True, 0.9))
    return path


def run(args: list[str], env: dict[str, str], tty: bool) -> tuple[int, str, str]:
    """prepkit with stdout a pipe and stderr a terminal (a pseudo-terminal) or a pipe."""
    command = [sys.executable, "-m", "prepkit", *args]
    if not tty:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
        return done.returncode, done.stdout, done.stderr
    main, side = pty.openpty()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=side, env=env)
    os.close(side)
    seen: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the terminal closed with the process
                return
            if not chunk:
                return
            seen.append(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    out, _ = proc.communicate(timeout=120)
    reader.join(timeout=10)
    os.close(main)
    return proc.returncode, out.decode(), b"".join(seen).decode(errors="replace")


def test_an_import_shows_its_progress_on_a_terminal_and_keeps_stdout_json(tmp_path: Path) -> None:
    source = package(tmp_path / "history.apkg")
    env = subprocess_env(tmp_path, COLUMNS="100", TERM="xterm")
    code, out, err = run(["import", str(source), "--json", "--dry-run"], env, tty=True)
    assert code == 0, err
    assert json.loads(out)["reviews"] == 2000  # stdout is the JSON and nothing else
    assert "replaying review history" in err  # the bar, drawn on the terminal
    code, out, err = run(["import", str(source), "--json", "--dry-run"], env, tty=False)
    assert code == 0 and json.loads(out)["reviews"] == 2000
    assert "replaying" not in err  # a log file gets no redraws


def test_an_export_names_its_step_on_a_terminal_only(tmp_path: Path) -> None:
    env = subprocess_env(tmp_path, COLUMNS="100", TERM="xterm")
    assert run(["import", str(package(tmp_path / "h.apkg", notes=50))], env, tty=False)[0] == 0
    target = tmp_path / "out.apkg"
    code, out, err = run(
        ["export", "--format", "apkg", "--with-history", "--out", str(target), "--json"],
        env,
        tty=True,
    )
    assert code == 0, err
    assert json.loads(out) == {"format": "apkg", "path": str(target), "rows": 50}
    assert "exporting apkg" in err
    code, out, err = run(["export", "--format", "reviews-csv"], env, tty=False)
    assert code == 0 and out.splitlines()[0].startswith("card_id,") and err == ""
