"""Shared fixtures: a fixed clock, a fresh workspace synced from a small deck, a CLI runner."""

from __future__ import annotations

import io
import os
import sqlite3
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from prepkit.deck.load import load_paths
from prepkit.workspace import Workspace, open_workspace, sync_library

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "decks"
DATA = Path(__file__).resolve().parent / "data"
SHARED = ROOT.parent / "shared"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

SMALL_DECK = """\
deck: small
title: Small test deck
cards:
  - id: s-basic
    kind: basic
    front: What is a warp?
    back: A group of 32 threads that execute together.
    source: CUDA C++ Programming Guide
    tags: [gpu]
  - id: s-numeric
    kind: numeric
    front: Bytes per parameter for mixed-precision Adam?
    answer: 16
    tolerance: 0
    unit: bytes
    source: Rajbhandari et al., ZeRO (SC 2020)
    tags: [memory]
  - id: s-cloze
    kind: cloze
    front: "DDP all-reduces gradients in {{c1::buckets}} during backward."
    source: PyTorch docs, DistributedDataParallel
    tags: [ddp]
  - id: s-choice
    kind: choice
    front: Which collective does DDP use for gradients?
    options: [all-reduce, all-gather, broadcast]
    correct: all-reduce
    source: PyTorch docs, DistributedDataParallel
    tags: [ddp]
  - id: s-prompt
    kind: prompt
    front: Design the sharding of a 10 TB embedding table.
    rubric: [row vs column sharding, load balance, communication]
    source: Mudigere et al., ISCA 2022
    tags: [recsys]
"""


@pytest.fixture
def deck_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "decks"
    folder.mkdir()
    (folder / "small.yaml").write_text(SMALL_DECK)
    return folder


@pytest.fixture
def workspace(tmp_path: Path, deck_dir: Path) -> Iterator[Workspace]:
    ws = open_workspace(str(tmp_path / "prepkit.db"), NOW)
    sync_library(ws, load_paths([deck_dir]), NOW)
    yield ws
    ws.close()


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Run `prepkit ARGS` in-process with its own database, stdin and captured output."""
    monkeypatch.setenv("PREPKIT_DB", str(tmp_path / "cli.db"))
    monkeypatch.setenv("PREPKIT_NOW", NOW.isoformat())

    def run(*args: str, stdin: str = "") -> Result:
        from prepkit.cli import _state, main

        _state.db, _state.profile = None, "default"
        out, err = io.StringIO(), io.StringIO()
        saved = sys.argv, sys.stdin, sys.stdout, sys.stderr
        sys.argv, sys.stdin, sys.stdout, sys.stderr = (
            ["prepkit", *args],
            io.TextIOWrapper(io.BytesIO(stdin.encode()), encoding="utf-8"),
            out,
            err,
        )
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            sys.argv, sys.stdin, sys.stdout, sys.stderr = saved
        return Result(code, out.getvalue(), err.getvalue())

    return run


def subprocess_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"PREPKIT_DB": str(tmp_path / "sub.db"), "PREPKIT_NOW": NOW.isoformat()})
    env.update(extra)
    return env


def dump(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table a learner's progress lives in (all but the learners and the
    schema version), read with sqlite3, not prepkit; learner columns left out. A table added
    to the schema and forgotten by the export would show up here."""
    with sqlite3.connect(db) as conn:
        tables = [
            name
            for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if name not in ("learner", "alembic_version")
        ]
        out = {}
        for table in tables:
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            kept = [c for c in columns if c != "learner_id"]
            # the names come from the schema itself, not from input
            query = f"SELECT {', '.join(kept)} FROM {table}"  # noqa: S608
            rows = conn.execute(query).fetchall()
            out[table] = sorted(rows, key=repr)
        return out
