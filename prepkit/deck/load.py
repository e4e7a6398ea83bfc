"""Reading deck files strictly, with every problem named `file:line`.

PyYAML's plain `safe_load` loses line numbers, lets a duplicate key silently win, and turns
`answer: no` into False. So the loader composes the node tree (which keeps marks), rejects
duplicate keys itself, and builds each value from its node, checking the resolved YAML tag: a text
field whose node YAML 1.1 resolved to a bool or a number is an error, not a silent conversion.
Problems are collected rather than raised one at a time, so a user fixes a broken deck in one pass.
"""

from __future__ import annotations

import difflib
import gc
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from prepkit.deck.model import CLOZE_PATTERN, LANGUAGES, Card, Deck, Kind, Library
from prepkit.errors import DeckError

try:  # libyaml when the wheel has it: several times faster on big libraries
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - pure-Python fallback
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_DECK_BYTES = 64 * 1024 * 1024
NOT_DECKS = frozenset({"taxonomy.yaml", "taxonomy.yml"})

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_TAG_NAMES = {
    _BOOL: "a boolean",
    _INT: "an integer",
    _FLOAT: "a number",
    _NULL: "null",
    "tag:yaml.org,2002:timestamp": "a date",
}

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TAG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9+#.\-]*$")

DECK_KEYS = ("deck", "title", "description", "cards")
COMMON_KEYS = ("id", "kind", "front", "source", "tags")
KIND_REQUIRED: dict[Kind, tuple[str, ...]] = {
    Kind.BASIC: ("back",),
    Kind.CLOZE: (),
    Kind.NUMERIC: ("answer",),
    Kind.CHOICE: ("options", "correct"),
    Kind.CODE: ("code", "language", "expected"),
    Kind.PROMPT: ("rubric",),
}
KIND_OPTIONAL: dict[Kind, tuple[str, ...]] = {
    Kind.BASIC: (),
    Kind.CLOZE: ("back",),
    Kind.NUMERIC: ("back", "tolerance", "unit"),
    Kind.CHOICE: ("back",),
    Kind.CODE: ("back",),
    Kind.PROMPT: ("back",),
}
CARD_KEYS = (
    *COMMON_KEYS,
    "back",
    "answer",
    "tolerance",
    "unit",
    "options",
    "correct",
    "code",
    "language",
    "expected",
    "rubric",
)
_VERBATIM = frozenset({"code", "expected"})


@dataclass(frozen=True, slots=True)
class Checked:
    """What reading some deck files found: the decks that were sound, and every problem."""

    library: Library
    problems: tuple[str, ...]


def deck_files(paths: Iterable[Path]) -> list[Path]:
    """The deck files named by `paths`: files as given, folders by their `*.yaml` members."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            members = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
            found.extend(p for p in members if p.name not in NOT_DECKS)
        else:
            found.append(path)
    return found


def check_paths(paths: Sequence[Path]) -> Checked:
    """Read every deck under `paths`, collecting all problems instead of stopping at the first."""
    with _gc_paused():
        return _check_paths(paths)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while reading.

    Composing YAML makes millions of short-lived, acyclic node objects (reference counting frees
    them); the collector, triggered by the allocations, kept rescanning every card read so far,
    which was 40% of loading a 100,000-card library.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _check_paths(paths: Sequence[Path]) -> Checked:
    problems: list[str] = []
    decks: list[Deck] = []
    files = deck_files(paths)
    for path in paths:
        if not path.exists():
            problems.append(f"{path}: no such file or folder")
        elif path.is_dir() and not any(f.parent == path for f in files):
            problems.append(f"{path}: folder holds no deck files (*.yaml)")
    first_card: dict[str, str] = {}
    first_deck: dict[str, str] = {}
    for file in files:
        if not file.exists():
            continue
        deck, deck_problems, ids = _read(file)
        problems.extend(deck_problems)
        clashes = set()
        for card_id, line in ids.items():  # every id written, even on a card with problems
            here = f"{file}:{line}"
            if card_id in first_card:
                problems.append(
                    f"{here}: duplicate card id '{card_id}' (first at {first_card[card_id]})"
                )
                clashes.add(card_id)
            else:
                first_card[card_id] = here
        if deck is None:
            continue
        if deck.id in first_deck:
            problems.append(
                f"{file}:1: duplicate deck id '{deck.id}' (first in {first_deck[deck.id]})"
            )
            continue
        first_deck[deck.id] = str(file)
        kept = tuple(card for card in deck.cards if card.id not in clashes)
        decks.append(Deck(deck.id, deck.title, kept, description=deck.description, file=deck.file))
    return Checked(Library(tuple(decks)), tuple(problems))


def load_paths(paths: Sequence[Path]) -> Library:
    """Read decks, or raise `DeckError` listing every problem: nothing half-read gets through."""
    checked = check_paths(paths)
    if checked.problems:
        raise DeckError(list(checked.problems))
    return checked.library


_Parsed = tuple[Deck | None, list[str], dict[str, int]]


def read_deck(path: Path) -> tuple[Deck | None, list[str]]:
    """One deck file: the deck (with only its sound cards) and the problems found in it."""
    deck, problems, _ids = _read(path)
    return deck, problems


def _read(path: Path) -> _Parsed:
    try:
        size = path.stat().st_size
        if size > MAX_DECK_BYTES:
            return (
                None,
                [f"{path}: {size} bytes is larger than the {MAX_DECK_BYTES} byte limit"],
                {},
            )
        raw = path.read_bytes()
    except OSError as exc:
        return None, [f"{path}: cannot read: {exc.strerror or exc}"], {}
    return _parse(raw, str(path))


def parse_deck(raw: bytes, name: str) -> tuple[Deck | None, list[str]]:
    """Parse deck bytes read from `name` (used only in messages)."""
    deck, problems, _ids = _parse(raw, name)
    return deck, problems


def _parse(raw: bytes, name: str) -> _Parsed:
    if b"\x00" in raw:
        return None, [f"{name}:1: not a text file (contains NUL bytes)"], {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [f"{name}:{line}: not UTF-8 text (byte {exc.start})"], {}
    if not text.strip():
        return None, [f"{name}:1: empty deck file"], {}
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        return None, [f"{name}:{line}: not text: control character {exc.character!r}"], {}
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        return None, [f"{name}:{line}: YAML syntax: {_one_line(exc.problem or exc.context)}"], {}
    except yaml.YAMLError as exc:
        return None, [f"{name}:1: YAML syntax: {_one_line(str(exc))}"], {}
    reader = _DeckReader(name)
    deck = reader.deck(root)
    return deck, reader.problems, reader.ids


def _one_line(text: str | None) -> str:
    return " ".join((text or "unreadable").split())


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


class _DeckReader:
    """Turns one composed document into a Deck, noting each problem with its line."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.problems: list[str] = []
        self.ids: dict[str, int] = {}
        self._constructor = yaml.constructor.SafeConstructor()

    def problem(self, node: Node | int, message: str) -> None:
        line = node if isinstance(node, int) else _line(node)
        self.problems.append(f"{self.name}:{line}: {_one_line(message)}")

    # -- structure ---------------------------------------------------------------------------

    def mapping(self, node: Node, what: str, allowed: Sequence[str]) -> dict[str, Node] | None:
        """A mapping's keys and value nodes; duplicate and unknown keys are problems."""
        if not isinstance(node, MappingNode):
            self.problem(node, f"{what} must be a mapping of keys to values")
            return None
        seen: dict[str, Node] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag != _STR:
                self.problem(key_node, f"{what}: keys must be plain words")
                continue
            key = str(key_node.value)
            if key in seen:
                self.problem(
                    key_node, f"{what}: duplicate key '{key}' (first at line {first_line[key]})"
                )
                continue
            if key not in allowed:
                hint = difflib.get_close_matches(key, allowed, n=1)
                suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
                self.problem(key_node, f"{what}: unknown key '{key}'{suggestion}")
                continue
            seen[key] = value_node
            first_line[key] = _line(key_node)
        return seen

    def text(self, node: Node, what: str, key: str) -> str | None:
        """A string value; YAML 1.1 bools, numbers, nulls and dates are refused, not converted."""
        if not isinstance(node, ScalarNode):
            self.problem(node, f"{what}: '{key}' must be text")
            return None
        if node.tag != _STR:
            kind = _TAG_NAMES.get(node.tag, node.tag)
            self.problem(
                node,
                f"{what}: '{key}' is {kind} to YAML, not text "
                f'(`{node.value}`); quote it: {key}: "{node.value}"',
            )
            return None
        value = str(node.value)
        value = value.rstrip("\n") if key in _VERBATIM else value.strip()
        if not value:
            self.problem(node, f"{what}: '{key}' is empty")
            return None
        return value

    def number(self, node: Node, what: str, key: str) -> float | None:
        if not isinstance(node, ScalarNode) or node.tag not in (_INT, _FLOAT):
            shown = node.value if isinstance(node, ScalarNode) else "a collection"
            self.problem(node, f"{what}: '{key}' must be a number, got `{shown}`")
            return None
        if node.tag == _INT:
            value = float(self._constructor.construct_yaml_int(node))
        else:
            value = float(self._constructor.construct_yaml_float(node))
        if not math.isfinite(value):
            self.problem(node, f"{what}: '{key}' must be a finite number")
            return None
        return value

    def texts(self, node: Node, what: str, key: str) -> tuple[str, ...] | None:
        if not isinstance(node, SequenceNode):
            self.problem(node, f"{what}: '{key}' must be a list")
            return None
        items = [self.text(item, what, f"{key}[{i}]") for i, item in enumerate(node.value)]
        if any(item is None for item in items):
            return None
        return tuple(item for item in items if item is not None)

    # -- deck and cards ----------------------------------------------------------------------

    def deck(self, root: Node | None) -> Deck | None:
        if root is None:
            self.problem(1, "empty deck file")
            return None
        fields = self.mapping(root, "deck", DECK_KEYS)
        if fields is None:
            return None
        missing = [key for key in ("deck", "title", "cards") if key not in fields]
        for key in missing:
            self.problem(root, f"deck: missing required key '{key}'")
        deck_id = self.text(fields["deck"], "deck", "deck") if "deck" in fields else None
        if deck_id is not None and not ID_PATTERN.match(deck_id):
            self.problem(fields["deck"], f"deck id '{deck_id}' must be kebab-case (a-z, 0-9, -)")
            deck_id = None
        title = self.text(fields["title"], "deck", "title") if "title" in fields else None
        description = ""
        if "description" in fields:
            description = self.text(fields["description"], "deck", "description") or ""
        cards: list[Card] = []
        cards_node = fields.get("cards")
        if cards_node is not None:
            if not isinstance(cards_node, SequenceNode):
                self.problem(cards_node, "deck: 'cards' must be a list of cards")
            elif not cards_node.value:
                self.problem(cards_node, "deck: 'cards' is empty")
            else:
                for card_node in cards_node.value:
                    card = self.card(card_node, deck_id or "")
                    if card is not None:
                        cards.append(card)
        if deck_id is None or title is None:
            return None
        return Deck(deck_id, title, tuple(cards), description=description, file=self.name)

    def card(self, node: Node, deck_id: str) -> Card | None:
        fields = self.mapping(node, "card", CARD_KEYS)
        if fields is None:
            return None
        card_id = self.text(fields["id"], "card", "id") if "id" in fields else None
        if card_id is not None and not ID_PATTERN.match(card_id):
            self.problem(fields["id"], f"card id '{card_id}' must be kebab-case (a-z, 0-9, -)")
            card_id = None
        if card_id is not None:
            if card_id in self.ids:
                first = f"{self.name}:{self.ids[card_id]}"
                self.problem(fields["id"], f"duplicate card id '{card_id}' (first at {first})")
                return None
            self.ids[card_id] = _line(node)
        what = f"card '{card_id}'" if card_id else "card"
        if "id" not in fields:
            self.problem(node, f"{what}: missing required key 'id'")
        kind = self._kind(fields, node, what)
        if kind is None or card_id is None:
            return None
        what = f"card '{card_id}' ({kind})"
        ok = True
        for key in (*COMMON_KEYS, *KIND_REQUIRED[kind]):
            if key not in fields:
                self.problem(node, f"{what}: missing required key '{key}'")
                ok = False
        allowed = {*COMMON_KEYS, *KIND_REQUIRED[kind], *KIND_OPTIONAL[kind]}
        for key, value_node in fields.items():
            if key not in allowed:
                self.problem(value_node, f"{what}: key '{key}' does not belong on a {kind} card")
                ok = False
        values = self._values(fields, what)
        if values is None or not ok:
            return None
        if not self._kind_rules(kind, values, fields, what):
            return None
        return Card(
            id=card_id,
            deck=deck_id,
            kind=kind,
            file=self.name,
            line=_line(node),
            **{key: value for key, value in values.items() if key not in ("id", "kind")},
        )

    def _kind(self, fields: dict[str, Node], node: Node, what: str) -> Kind | None:
        if "kind" not in fields:
            self.problem(node, f"{what}: missing required key 'kind'")
            return None
        raw = self.text(fields["kind"], what, "kind")
        if raw is None:
            return None
        try:
            return Kind(raw)
        except ValueError:
            names = ", ".join(k.value for k in Kind)
            self.problem(fields["kind"], f"{what}: unknown kind '{raw}' (one of {names})")
            return None

    def _values(self, fields: dict[str, Node], what: str) -> dict[str, Any] | None:
        values: dict[str, Any] = {}
        ok = True
        for key, node in fields.items():
            value: Any
            if key in ("answer", "tolerance"):
                value = self.number(node, what, key)
            elif key in ("tags", "options", "rubric"):
                value = self.texts(node, what, key)
            else:
                value = self.text(node, what, key)
            if value is None:
                ok = False
            values[key] = value
        return values if ok else None

    def _kind_rules(
        self, kind: Kind, values: dict[str, Any], fields: dict[str, Node], what: str
    ) -> bool:
        ok = True
        tags: tuple[str, ...] = values["tags"]
        if not tags:
            self.problem(fields["tags"], f"{what}: 'tags' needs at least one tag")
            ok = False
        for tag in tags:
            if not TAG_PATTERN.match(tag):
                self.problem(fields["tags"], f"{what}: tag '{tag}' must be lowercase, no spaces")
                ok = False
        if kind is Kind.CLOZE:
            message = cloze_problem(values["front"])
            if message:
                self.problem(fields["front"], f"{what}: malformed cloze: {message}")
                ok = False
        elif kind is Kind.NUMERIC:
            tolerance = values.get("tolerance")
            if tolerance is not None and tolerance < 0:
                self.problem(fields["tolerance"], f"{what}: 'tolerance' must be >= 0")
                ok = False
        elif kind is Kind.CHOICE:
            options: tuple[str, ...] = values["options"]
            if len(options) < 2:
                self.problem(fields["options"], f"{what}: 'options' needs at least two options")
                ok = False
            if len(set(options)) != len(options):
                self.problem(fields["options"], f"{what}: 'options' has a repeated option")
                ok = False
            if values["correct"] not in options:
                self.problem(
                    fields["correct"],
                    f"{what}: 'correct' ({values['correct']!r}) is not one of the options",
                )
                ok = False
        elif kind is Kind.CODE:
            if values["language"] not in LANGUAGES:
                self.problem(
                    fields["language"],
                    f"{what}: language '{values['language']}' is not one of {', '.join(LANGUAGES)}",
                )
                ok = False
        elif kind is Kind.PROMPT and not values["rubric"]:
            self.problem(fields["rubric"], f"{what}: 'rubric' needs at least one point")
            ok = False
        return ok


def cloze_problem(text: str) -> str | None:
    """Why `text` is not valid cloze text, or None when it is."""
    matches = list(CLOZE_PATTERN.finditer(text))
    for match in matches:
        if not match.group(2).strip():
            return f"empty deletion '{match.group(0)}'"
        if "{{" in match.group(2) or "}}" in match.group(2):
            return f"nested deletion in '{match.group(0)}'"
    rest = CLOZE_PATTERN.sub("", text)
    for marker in ("{{", "}}"):
        position = rest.find(marker)
        if position >= 0:
            fragment = rest[max(0, position - 10) : position + 20].strip()
            return f"unbalanced '{marker}' near '{fragment}'"
    if not matches:
        return "no deletion of the form {{c1::hidden text}}"
    return None


def cloze_numbers(text: str) -> list[int]:
    """The deletion numbers used in cloze text, in order of first use."""
    numbers: list[int] = []
    for match in CLOZE_PATTERN.finditer(text):
        number = int(match.group(1))
        if number not in numbers:
            numbers.append(number)
    return numbers
