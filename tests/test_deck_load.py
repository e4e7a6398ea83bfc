"""The deck loader: the library loads, and each kind of broken deck is named at file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from prepkit.deck.load import check_paths, cloze_problem, load_paths, parse_deck
from prepkit.deck.model import Kind
from prepkit.errors import DeckError

from .conftest import DATA, LIBRARY

BROKEN = DATA / "broken"

# file, line, what the message must say
EXPECTED = [
    ("unknown-key.yaml", 10, "unknown key 'hint'"),
    ("missing-key.yaml", 4, "missing required key 'back'"),
    ("duplicate-key.yaml", 8, "duplicate key 'front' (first at line 6)"),
    ("duplicate-id.yaml", 10, "duplicate card id 'di-card' (first at"),
    ("with-duplicate-id-across.yaml", 4, "duplicate card id 'uk-card' (first at"),
    ("malformed-cloze.yaml", 6, "malformed cloze: unbalanced '{{'"),
    ("choice-correct.yaml", 8, "'correct' ('reduce-scatter') is not one of the options"),
    ("numeric-no-answer.yaml", 4, "missing required key 'answer'"),
    ("yaml11-bool.yaml", 7, "'back' is a boolean to YAML, not text (`no`); quote it"),
    ("yaml11-number.yaml", 7, "'back' is a number to YAML, not text (`1.10`)"),
    ("syntax-error.yaml", 7, "YAML syntax"),
]


def test_built_in_library_loads_cleanly() -> None:
    checked = check_paths([LIBRARY])
    assert checked.problems == ()
    library = checked.library
    assert len(library.decks) >= 3
    assert {card.kind for card in library.cards} == set(Kind)
    assert all(card.source and card.tags for card in library.cards)


@pytest.mark.parametrize(("name", "line", "message"), EXPECTED)
def test_each_broken_deck_is_named_at_file_and_line(name: str, line: int, message: str) -> None:
    paths = [BROKEN / "unknown-key.yaml", BROKEN / name] if "across" in name else [BROKEN / name]
    problems = check_paths(paths).problems
    mine = [p for p in problems if p.startswith(f"{BROKEN / name}:")]
    assert mine, problems
    assert any(p.startswith(f"{BROKEN / name}:{line}: ") and message in p for p in mine), mine


def test_a_folder_of_broken_decks_gives_one_line_per_problem() -> None:
    problems = check_paths([BROKEN]).problems
    files = {p.split(":", 1)[0] for p in problems}
    assert files == {str(BROKEN / name) for name, _, _ in EXPECTED}
    assert all("\n" not in p for p in problems)


def test_load_paths_refuses_the_whole_set_when_one_deck_is_broken(deck_dir: Path) -> None:
    (deck_dir / "bad.yaml").write_text((BROKEN / "yaml11-bool.yaml").read_text())
    with pytest.raises(DeckError) as caught:
        load_paths([deck_dir])
    assert len(caught.value.problems) == 1


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty deck file"),
        (b"   \n\n", "empty deck file"),
        (b"\x00\x01binary", "not a text file"),
        (b"deck: x\ntitle: \xff\xfe\n", "not UTF-8 text"),
        (b"- just\n- a list\n", "deck must be a mapping"),
        (b"deck: d\ntitle: t\ncards: []\n", "'cards' is empty"),
        (b"deck: Not Kebab\ntitle: t\ncards: []\n", "must be kebab-case"),
    ],
)
def test_unusable_files_get_one_clear_line(raw: bytes, message: str) -> None:
    deck, problems = parse_deck(raw, "x.yaml")
    assert deck is None or problems
    assert any(message in p and p.startswith("x.yaml:") for p in problems), problems


def test_text_that_yaml_would_convert_is_refused_but_quoted_text_is_kept() -> None:
    raw = b"""deck: d
title: t
cards:
  - id: c1
    kind: basic
    front: "0123"
    back: "no"
    source: s
    tags: [t]
  - id: c2
    kind: basic
    front: 0123
    back: on
    source: s
    tags: [t]
"""
    deck, problems = parse_deck(raw, "d.yaml")
    assert deck is not None
    assert [card.id for card in deck.cards] == ["c1"]
    assert deck.cards[0].front == "0123" and deck.cards[0].back == "no"
    assert any(p.startswith("d.yaml:12:") and "'front' is an integer" in p for p in problems)
    assert any(p.startswith("d.yaml:13:") and "'back' is a boolean" in p for p in problems)


def test_kind_specific_keys_are_checked() -> None:
    raw = b"""deck: d
title: t
cards:
  - id: n1
    kind: numeric
    front: How many?
    answer: "16"
    source: s
    tags: [t]
  - id: b1
    kind: basic
    front: f
    back: b
    options: [a, b]
    source: s
    tags: [t]
  - id: k1
    kind: code
    front: What prints?
    code: print(1)
    language: rust
    expected: "1"
    source: s
    tags: [t]
"""
    _deck, problems = parse_deck(raw, "d.yaml")
    assert any("d.yaml:7:" in p and "'answer' must be a number" in p for p in problems)
    assert any(
        "d.yaml:14:" in p and "'options' does not belong on a basic card" in p for p in problems
    )
    assert any("d.yaml:21:" in p and "language 'rust'" in p for p in problems)


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("A {{c1::warp}} has 32 threads.", True),
        ("{{c1::HBM::memory}} and {{c2::SRAM}}", True),
        ("no deletion here", False),
        ("{{c1::}} empty", False),
        ("{{c1:warp}} single colon", False),
        ("{{c0::zero}} numbering starts at 1", False),
        ("{{c1::a {{c2::b}} c}} nested", False),
        ("{{c1::open and never closed", False),
        ("closed }} but never opened {{c1::x}}", False),
    ],
)
def test_cloze_syntax(text: str, ok: bool) -> None:
    assert (cloze_problem(text) is None) is ok


def test_missing_paths_are_reported(tmp_path: Path) -> None:
    problems = check_paths([tmp_path / "nope"]).problems
    assert problems == (f"{tmp_path / 'nope'}: no such file or folder",)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "holds no deck files" in check_paths([empty]).problems[0]


def test_cli_validate(cli) -> None:
    ok = cli("decks", "validate")
    assert ok.code == 0
    assert ok.out.startswith("ok: ") and "cards" in ok.out
    bad = cli("decks", "validate", str(BROKEN))
    assert bad.code == 1
    lines = bad.err.strip().splitlines()
    assert lines[-1] == f"{len(lines) - 1} problems"
    assert all(line.startswith(str(BROKEN)) for line in lines[:-1])
    assert "Traceback" not in bad.err


def test_cli_list_json(cli) -> None:
    import json

    result = cli("decks", "list", "--json")
    assert result.code == 0
    decks = json.loads(result.out)["decks"]
    ids = [deck["id"] for deck in decks]
    assert "distributed-training" in ids
    assert all(deck["cards"] == sum(deck["kinds"].values()) for deck in decks)


# -- fuzzing: whatever the bytes, the loader answers with problems, never an exception -----------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

VALID = (LIBRARY / "performance-modeling.yaml").read_bytes()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    deck, problems = parse_deck(raw, "fuzz.yaml")
    assert deck is not None or problems
    assert all(p.startswith("fuzz.yaml:") and "\n" not in p for p in problems)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_valid_decks_never_raise(data) -> None:
    raw = bytearray(VALID)
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(raw) - 1))
        action = data.draw(st.sampled_from(["flip", "delete", "insert"]))
        if action == "flip":
            raw[position] = data.draw(st.integers(0, 255))
        elif action == "delete":
            del raw[position : position + data.draw(st.integers(1, 40))]
        else:
            raw[position:position] = data.draw(
                st.sampled_from([b": ", b"\n  - ", b"{{", b"- id: x\n", b"\t", b"'"])
            )
    deck, problems = parse_deck(bytes(raw), "m.yaml")
    assert deck is not None or problems
    assert all(p.startswith("m.yaml:") for p in problems)


def test_library_passes_lint(cli) -> None:
    result = cli("decks", "lint")
    assert result.code == 0, result.err


def test_lint_flags_what_a_reviewer_would(tmp_path) -> None:
    from prepkit.deck.lint import lint_library

    deck = tmp_path / "lint.yaml"
    deck.write_text(
        "deck: lint\ntitle: Lint\ncards:\n"
        "  - id: l-long\n    kind: basic\n    front: Why is the sky blue on a clear day?\n"
        f"    back: {' '.join(['word'] * 70)}\n    source: A textbook, chapter 3\n    tags: [t]\n"
        "  - id: l-num\n    kind: numeric\n    front: How many bytes per parameter?\n"
        "    answer: 16\n    source: Rajbhandari et al., SC 2020\n    tags: [t]\n"
        "  - id: l-dup\n    kind: basic\n    front: Why is the sky blue on a clear day??\n"
        "    back: Rayleigh scattering.\n    source: A textbook, chapter 3\n    tags: [t]\n"
    )
    rules = sorted((f.card.id, f.rule) for f in lint_library(load_paths([deck])))
    assert rules == [
        ("l-dup", "near-duplicate"),
        ("l-long", "long-back"),
        ("l-num", "numeric-tolerance"),
        ("l-num", "numeric-unit"),
        ("l-num", "numeric-working"),
    ]


def test_validate_and_lint_speak_json(cli) -> None:
    import json

    bad = cli("decks", "validate", str(BROKEN), "--json")
    assert bad.code == 1
    report = json.loads(bad.out)
    assert report["ok"] is False and len(report["problems"]) >= len(EXPECTED)
    good = json.loads(cli("decks", "lint", "--json").out)
    assert good["findings"] == [] and good["cards"] > 0
