"""Every code card in the library runs and prints exactly what the card says it prints."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from prepkit.deck.load import load_paths
from prepkit.deck.model import Kind

from .conftest import LIBRARY

CARDS = [card for card in load_paths([LIBRARY]).cards if card.kind is Kind.CODE]
TIMEOUT = 30


def run_card(code: str, language: str, folder: Path) -> str:
    if language == "python":
        if "import torch" in code and not _has_module("torch"):
            pytest.skip("torch is not installed here (.ci/run installs the CPU build)")
        command = [sys.executable, "-I", "-c", code]
    elif language in ("c", "cpp"):
        compiler = shutil.which("gcc" if language == "c" else "g++")
        if compiler is None:
            pytest.skip(f"no {language} compiler on this machine")
        source = folder / ("card.c" if language == "c" else "card.cpp")
        source.write_text(code)
        binary = folder / "card"
        std = "-std=c11" if language == "c" else "-std=c++17"
        subprocess.run(
            [compiler, std, "-O1", "-o", str(binary), str(source)],
            check=True,
            capture_output=True,
            timeout=TIMEOUT,
        )
        command = [str(binary)]
    else:
        interpreter = shutil.which("lua5.4") or shutil.which("lua") or shutil.which("luajit")
        if interpreter is None:
            pytest.skip("no Lua interpreter on this machine")
        command = [interpreter, "-e", code]
    done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, cwd=folder)
    return done.stdout


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def test_the_library_has_code_cards() -> None:
    assert CARDS


@pytest.mark.parametrize("card", CARDS, ids=[card.id for card in CARDS])
def test_code_card_output(card, tmp_path: Path) -> None:
    assert card.code is not None and card.language is not None and card.expected is not None
    output = run_card(card.code, card.language, tmp_path)
    got = [line.rstrip() for line in output.rstrip().splitlines()]
    want = [line.rstrip() for line in card.expected.rstrip().splitlines()]
    assert got == want
