"""The topic taxonomy: which posting language points at which topic deck.

Kept as data (decks/taxonomy.yaml) so that a new phrasing is one line, not a code change. Loading
checks the file strictly and names the topic at fault, because a typo here silently loses a topic
for every posting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from prepkit.errors import PrepkitError

try:  # libyaml when the wheel has it
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

TOPIC_KEYS = frozenset(
    {"id", "title", "deck", "technical", "aliases", "exact", "language", "list_only", "venues"}
)
VENUE_KEYS = frozenset({"acronym", "names", "core", "case_sensitive", "list_only"})


@dataclass(frozen=True, slots=True)
class Venue:
    acronym: str
    names: tuple[str, ...]
    core: bool = False
    case_sensitive: bool = False
    # An acronym that is also a common abbreviation ("SC", "ACL") counts only beside another
    # venue or a word such as "conference".
    list_only: bool = False


@dataclass(frozen=True, slots=True)
class Topic:
    id: str
    title: str
    deck: str
    technical: bool = True
    aliases: tuple[str, ...] = ()
    exact: tuple[str, ...] = ()
    language: str | None = None
    list_only: bool = False
    venues: tuple[Venue, ...] = ()


@dataclass(frozen=True, slots=True)
class Taxonomy:
    topics: tuple[Topic, ...]

    def topic(self, topic_id: str) -> Topic:
        for topic in self.topics:
            if topic.id == topic_id:
                return topic
        raise KeyError(topic_id)

    @property
    def venues(self) -> tuple[Venue, ...]:
        return tuple(venue for topic in self.topics for venue in topic.venues)


def parse_taxonomy(text: str, name: str) -> Taxonomy:
    """A taxonomy from YAML text; `name` is used in messages."""
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise PrepkitError(f"{name}{line}: not valid YAML") from None
    if not isinstance(data, dict) or not isinstance(data.get("topics"), list):
        raise PrepkitError(f"{name}: expected a mapping with a 'topics' list")
    topics: list[Topic] = []
    seen: set[str] = set()
    for index, entry in enumerate(data["topics"]):
        topic = _topic(entry, f"{name}: topics[{index}]")
        if topic.id in seen:
            raise PrepkitError(f"{name}: topic '{topic.id}' is listed twice")
        seen.add(topic.id)
        topics.append(topic)
    return Taxonomy(tuple(topics))


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise PrepkitError(f"{where}: expected a list of text")
    return tuple(v.strip() for v in value)


def _topic(entry: Any, where: str) -> Topic:
    if not isinstance(entry, dict):
        raise PrepkitError(f"{where}: expected a mapping")
    topic_id = entry.get("id")
    if not isinstance(topic_id, str):
        raise PrepkitError(f"{where}: missing 'id'")
    where = f"{where} ({topic_id})"
    unknown = set(entry) - TOPIC_KEYS
    if unknown:
        raise PrepkitError(f"{where}: unknown key '{sorted(unknown)[0]}'")
    title = entry.get("title")
    if not isinstance(title, str):
        raise PrepkitError(f"{where}: missing 'title'")
    venues = tuple(_venue(v, f"{where} venues") for v in entry.get("venues") or ())
    language = entry.get("language")
    if language is not None and not isinstance(language, str):
        raise PrepkitError(f"{where}: 'language' must be text")
    return Topic(
        id=topic_id,
        title=title,
        deck=str(entry.get("deck") or f"{topic_id}.yaml"),
        technical=bool(entry.get("technical", True)),
        aliases=tuple(a.lower() for a in _strings(entry.get("aliases"), f"{where} aliases")),
        exact=_strings(entry.get("exact"), f"{where} exact"),
        language=language,
        list_only=bool(entry.get("list_only", False)),
        venues=venues,
    )


def _venue(entry: Any, where: str) -> Venue:
    if not isinstance(entry, dict) or not isinstance(entry.get("acronym"), str):
        raise PrepkitError(f"{where}: each venue needs an 'acronym'")
    unknown = set(entry) - VENUE_KEYS
    if unknown:
        raise PrepkitError(f"{where}: unknown key '{sorted(unknown)[0]}'")
    acronym = entry["acronym"]
    names = _strings(entry.get("names"), f"{where} {acronym}") or (acronym,)
    return Venue(
        acronym=acronym,
        names=names,
        core=bool(entry.get("core", False)),
        case_sensitive=bool(entry.get("case_sensitive", False)),
        list_only=bool(entry.get("list_only", False)),
    )
