"""The core (posting, deck, schedule, export) is pure: no Textual, no SQLAlchemy, no clock."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import prepkit

PACKAGE = Path(prepkit.__file__).resolve().parent
CORE = ("posting", "deck", "schedule", "export")
FORBIDDEN = ("sqlalchemy", "textual", "typer", "alembic", "rich", "prepkit.store", "prepkit.tui")
CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("date", "today"), ("time", "time")}


def core_modules() -> list[str]:
    names = []
    for package in CORE:
        for path in sorted((PACKAGE / package).rglob("*.py")):
            parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
            names.append(".".join(p for p in parts if p != "__init__"))
    return names


def test_core_imports_without_faces_or_store_libraries() -> None:
    blocker = f"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if any(name == f or name.startswith(f + ".") for f in {FORBIDDEN!r}):
            raise ImportError("core must not import " + name)
sys.meta_path.insert(0, Block())
import importlib
for name in {core_modules()!r}:
    importlib.import_module(name)
print("ok", len({core_modules()!r}))
"""
    done = subprocess.run([sys.executable, "-c", blocker], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok")


def test_core_never_reads_the_clock_or_the_environment() -> None:
    offenders = []
    for package in CORE:
        for path in (PACKAGE / package).rglob("*.py"):
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                    pair = (node.value.id, node.attr)
                    if pair in CLOCK_CALLS or pair == ("os", "environ"):
                        offenders.append(f"{path.name}:{node.lineno}: {pair[0]}.{pair[1]}")
    assert offenders == []


def test_faces_do_not_touch_sql() -> None:
    for name in ("cli.py", "plain.py"):
        tree = ast.parse((PACKAGE / name).read_text())
        imported = {
            alias.name if isinstance(node, ast.Import) else node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        }
        assert not any(str(m).startswith(("sqlalchemy", "prepkit.store")) for m in imported), name
