"""Security rules, each checked: YAML only through safe loaders, no eval/exec/pickle, archives
never extracted, private files and folders, HTML escaped (tests/test_report_html.py)."""

from __future__ import annotations

import ast
import os
import stat
from pathlib import Path

import pytest

import prepkit
from prepkit.deck.load import load_paths
from prepkit.errors import DeckError

PACKAGE = Path(prepkit.__file__).resolve().parent
SOURCES = sorted(PACKAGE.rglob("*.py"))


def calls(name: str) -> list[str]:
    """Where prepkit's code calls or names `name` (as a function or attribute)."""
    found = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            target = node.func if isinstance(node, ast.Call) else None
            ident = (
                target.id
                if isinstance(target, ast.Name)
                else target.attr
                if isinstance(target, ast.Attribute)
                else None
            )
            if ident == name:
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    return found


def builtin_calls(name: str) -> list[str]:
    return [
        f"{path.relative_to(PACKAGE)}:{node.lineno}"
        for path in SOURCES
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name
    ]


def imports(module: str) -> list[str]:
    found = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(n == module or n.startswith(module + ".") for n in names):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    return found


def test_no_code_runs_from_data() -> None:
    """No eval, exec, compile of text, pickle, marshal or shelve anywhere in prepkit."""
    for name in ("eval", "exec", "compile", "__import__"):  # the builtins, not re.compile
        assert builtin_calls(name) == [], name
    for module in ("pickle", "marshal", "shelve", "dill"):
        assert imports(module) == [], module


def test_yaml_is_only_read_through_safe_loaders() -> None:
    unsafe = calls("unsafe_load") + calls("full_load") + calls("load_all")
    assert unsafe == []
    for path in SOURCES:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "load":
                owner = getattr(node.func.value, "id", None)
                if owner != "yaml":
                    continue
                loader = {k.arg: k.value for k in node.keywords}.get("Loader")
                assert loader is not None, f"{path.name}:{node.lineno}: yaml.load without Loader"
                assert getattr(loader, "id", "") in ("_Loader",), f"{path.name}:{node.lineno}"
    # and the loaders named _Loader are the safe ones
    for path in SOURCES:
        text = path.read_text()
        if "_Loader" in text:
            assert "SafeLoader as _Loader" in text, path.name


def test_a_deck_that_asks_yaml_to_run_code_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    deck = tmp_path / "evil.yaml"
    deck.write_text(
        "deck: evil\ntitle: Evil\ncards:\n"
        "  - id: e1\n    kind: basic\n"
        f"    front: !!python/object/apply:os.system ['touch {marker}']\n"
        "    back: b\n    source: s\n"
    )
    with pytest.raises(DeckError) as refused:
        load_paths([deck])
    assert "evil.yaml:" in str(refused.value)
    assert not marker.exists()


def test_archives_are_never_extracted() -> None:
    assert calls("extractall") == []
    assert calls("extract") == []


def test_importing_a_package_writes_no_file_but_the_database_and_its_backup(
    cli, tmp_path: Path, deck_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A package whose media member is named like a script lands nowhere on disk."""
    pytest.importorskip("genanki")
    from prepkit.export.apkg import PackageCard, build_package

    from .anki_files import with_member

    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    plain = work / "plain.apkg"
    plain.write_bytes(
        build_package([PackageCard("k1", "D", "front", "back", "s", (), False, 0)], 0, False, 0.9)
    )
    package = work / "deck.apkg"
    package.write_bytes(with_member(plain, "media", b'{"0": "run.sh"}'))
    package.write_bytes(with_member(package, "0", b"#!/bin/sh\necho owned\n"))
    assert cli("sync", str(deck_dir)).code == 0
    before = {p.relative_to(tmp_path) for p in tmp_path.rglob("*")}
    result = cli("import", str(package))
    assert result.code == 0, result.err
    added = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")} - {str(p) for p in before}
    assert added and all(p == "backups" or p.startswith(("backups/", "cli.db")) for p in added)
    assert not list(tmp_path.rglob("run.sh"))


def test_the_data_folder_and_database_are_private_from_creation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prepkit.config import default_db_path
    from prepkit.workspace import open_workspace

    from .conftest import NOW

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    old = os.umask(0o022)  # a usual umask: files would be world-readable by default
    try:
        db = default_db_path()
        with open_workspace(str(db), NOW):
            pass
    finally:
        os.umask(old)
    assert db.is_relative_to(tmp_path)
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    for extra in db.parent.glob(db.name + "-*"):  # -wal and -shm inherit the file's mode
        assert stat.S_IMODE(extra.stat().st_mode) == 0o600, extra.name
