"""Matching posting statements to topics, with the phrase that is the evidence.

Words are compared after folding case, hyphens and simple plurals ("energy-efficient GPUs" and
"energy efficient GPU" are the same words), so one alias covers the spellings postings use.
Acronyms that are also ordinary words ("MICRO", "PACT", "SC") are matched case-sensitively on
the original text, and "C" counts as a language only inside a list of languages or next to
"programming"/"language". Near-misses of long words ("optimisation", "efficiency") are mapped
to the taxonomy's own words with rapidfuzz. Boilerplate (about, benefits, legal) is never
matched at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from prepkit.posting.parse import Posting, Section, Statement
from prepkit.posting.taxonomy import Taxonomy, Topic

SECTION_WEIGHT = {
    Section.MINIMUM: 3.0,
    Section.PREFERRED: 2.0,
    Section.RESPONSIBILITIES: 1.0,
    Section.OTHER: 1.0,
}
FUZZY_MIN_LENGTH = 7
FUZZY_CUTOFF = 90.0
OTHER_LANGUAGES = frozenset(
    "java go golang rust scala kotlin javascript typescript julia fortran r matlab swift ruby "
    "perl haskell ocaml cuda sql bash shell".split()
)

_VENUE_WORDS = re.compile(
    r"\b(?:conferences?|symposi(?:um|a)|workshops?|venues?|proceedings|publications?|papers?)\b",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:\+\+|#)?")


@dataclass(frozen=True, slots=True)
class Token:
    text: str  # as written
    word: str  # folded: lowercase, singular
    start: int
    end: int


def fold(word: str) -> str:
    """Lowercase and fold simple English plurals, the same way for posting text and aliases."""
    word = word.lower()
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is", "os")):
        return word[:-1]
    return word


def tokens(text: str) -> list[Token]:
    return [Token(m.group(0), fold(m.group(0)), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _words(phrase: str) -> tuple[str, ...]:
    return tuple(token.word for token in tokens(phrase))


def _acronym_form(text: str) -> str:
    """'TPUs' -> 'TPU': the plural of an all-capitals acronym, for case-sensitive matching."""
    if len(text) > 2 and text.endswith("s") and text[:-1].isupper():
        return text[:-1]
    return text


@dataclass(frozen=True, slots=True)
class Hit:
    topic: str
    evidence: str


@dataclass(frozen=True, slots=True)
class StatementMatch:
    statement: Statement
    hits: tuple[Hit, ...]

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(hit.topic for hit in self.hits)


@dataclass(frozen=True, slots=True)
class TopicMatch:
    id: str
    title: str
    technical: bool
    weight: float
    evidence: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Match:
    """What a posting asks for: per statement, per topic, and the entities it names."""

    statements: tuple[StatementMatch, ...]
    topics: tuple[TopicMatch, ...]  # heaviest first
    venues: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    unmatched: tuple[str, ...] = field(default=())

    def topic_ids(self) -> tuple[str, ...]:
        return tuple(topic.id for topic in self.topics)


class Matcher:
    """A taxonomy compiled for matching: alias word sequences indexed by their first word."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self._phrases: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        self._exact: dict[str, list[str]] = {}
        self._venue_phrases: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        self._venue_exact: dict[str, str] = {}
        self._venue_list_only: set[str] = set()
        self._list_only: dict[str, str] = {}  # language word -> topic, e.g. "c" -> c-lang
        self._languages: dict[str, str] = {}  # folded language word -> display name
        vocabulary: set[str] = set()
        for topic in taxonomy.topics:
            for alias in topic.aliases:
                self._add_phrase(self._phrases, _words(alias), topic.id)
            for exact in topic.exact:
                self._exact.setdefault(exact, []).append(topic.id)
            if topic.language:
                word = fold(topic.language)
                self._languages[word] = topic.language
                if topic.list_only:
                    self._list_only[word] = topic.id
                else:
                    self._add_phrase(self._phrases, (word,), topic.id)
            for venue in topic.venues:
                if venue.list_only:
                    self._venue_list_only.add(venue.acronym)
                for name in venue.names:
                    if venue.case_sensitive and len(name.split()) == 1:
                        self._venue_exact[name] = venue.acronym
                    else:
                        self._add_phrase(self._venue_phrases, _words(name), venue.acronym)
        for index in (self._phrases, self._venue_phrases):
            for options in index.values():
                options.sort(key=lambda option: -len(option[0]))  # longest phrase first
                vocabulary.update(word for phrase, _ in options for word in phrase)
        self._venue_topic = next((t.id for t in taxonomy.topics if t.venues), None)
        self._vocabulary = sorted(w for w in vocabulary if len(w) >= FUZZY_MIN_LENGTH)
        self._known = vocabulary
        self._near: dict[str, str] = {}

    @staticmethod
    def _add_phrase(
        index: dict[str, list[tuple[tuple[str, ...], str]]], words: tuple[str, ...], key: str
    ) -> None:
        if words:
            index.setdefault(words[0], []).append((words, key))

    def _canonical(self, word: str) -> str:
        """The taxonomy's word for a near-miss spelling, or the word itself."""
        if len(word) < FUZZY_MIN_LENGTH or word in self._known or not self._vocabulary:
            return word
        cached = self._near.get(word)
        if cached is None:
            best = process.extractOne(
                word, self._vocabulary, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF
            )
            cached = best[0] if best else word
            self._near[word] = cached
        return cached

    def match_statement(self, statement: Statement) -> StatementMatch:
        text = statement.text
        toks = tokens(text)
        words = [self._canonical(token.word) for token in toks]
        hits: dict[str, str] = {}

        def hit(topic: str, first: int, last: int) -> None:
            hits.setdefault(topic, text[toks[first].start : toks[last].end])

        for i, word in enumerate(words):
            for phrase, topic in self._phrases.get(word, ()):
                if tuple(words[i : i + len(phrase)]) == phrase:
                    hit(topic, i, i + len(phrase) - 1)
            for topic in self._exact.get(_acronym_form(toks[i].text), ()):
                hit(topic, i, i)
        for topic, (first, last) in self._list_languages(statement, toks).items():
            hit(topic, first, last)
        venues = self.venues_in(statement)
        if venues and self._venue_topic is not None:
            hits.setdefault(self._venue_topic, ", ".join(venues))
        ordered = tuple(Hit(topic, evidence) for topic, evidence in hits.items())
        return StatementMatch(statement, ordered)

    def _list_languages(
        self, statement: Statement, toks: list[Token]
    ) -> dict[str, tuple[int, int]]:
        """Languages such as C that count only in a list of languages or as "C programming"."""
        found: dict[str, tuple[int, int]] = {}
        if not self._list_only:
            return found
        item_words = {fold(item) for item in statement.items}
        languages_listed = sum(
            1 for w in item_words if w in self._languages or w in OTHER_LANGUAGES
        )
        for i, token in enumerate(toks):
            topic = self._list_only.get(token.word)
            if topic is None or token.text != token.text.upper():  # "C", never "c"
                continue
            after = toks[i + 1].word if i + 1 < len(toks) else ""
            gap = statement.text[token.end : toks[i + 1].start] if i + 1 < len(toks) else ""
            in_list = token.text in statement.items and languages_listed >= 2
            slash_pair = gap == "/" and after in self._languages  # "C/C++"
            named = after in ("programming", "language", "code", "codebase")
            if in_list or slash_pair or named:
                found.setdefault(topic, (i, i))
        return found

    def venues_in(self, statement: Statement) -> tuple[str, ...]:
        toks = tokens(statement.text)
        words = [token.word for token in toks]
        found: list[str] = []
        for i, word in enumerate(words):
            for phrase, acronym in self._venue_phrases.get(word, ()):
                if tuple(words[i : i + len(phrase)]) == phrase:
                    found.append(acronym)
            acronym_cs = self._venue_exact.get(toks[i].text)
            if acronym_cs is not None:
                found.append(acronym_cs)
        found = list(dict.fromkeys(found))
        if any(acronym in self._venue_list_only for acronym in found):
            others = [acronym for acronym in found if acronym not in self._venue_list_only]
            if not others and not _VENUE_WORDS.search(statement.text):
                found = others
        return tuple(found)

    def languages_in(self, hits: Iterable[Hit]) -> tuple[str, ...]:
        """The programming languages among a statement's topics, by name."""
        topics = (self.taxonomy.topic(hit.topic) for hit in hits)
        return tuple(topic.language for topic in topics if topic.language)

    def match(self, posting: Posting) -> Match:
        """Topics a posting asks for, weighted by where and how often it asks."""
        matches: list[StatementMatch] = []
        weights: dict[str, float] = {}
        evidence: dict[str, list[str]] = {}
        venues: list[str] = []
        languages: list[str] = []
        unmatched: list[str] = []
        for statement in posting.statements:
            if statement.section.boilerplate:
                continue
            found = self.match_statement(statement)
            matches.append(found)
            if not found.hits:
                unmatched.append(statement.text)
                continue
            for hit in found.hits:
                weights[hit.topic] = weights.get(hit.topic, 0.0) + SECTION_WEIGHT[statement.section]
                phrases = evidence.setdefault(hit.topic, [])
                if hit.evidence not in phrases:
                    phrases.append(hit.evidence)
            venues.extend(self.venues_in(statement))
            languages.extend(self.languages_in(found.hits))
        topics = [
            _topic_match(self.taxonomy.topic(topic_id), weight, evidence[topic_id])
            for topic_id, weight in weights.items()
        ]
        topics.sort(key=lambda t: (-t.weight, t.id))
        return Match(
            statements=tuple(matches),
            topics=tuple(topics),
            venues=tuple(dict.fromkeys(venues)),
            languages=tuple(dict.fromkeys(languages)),
            unmatched=tuple(unmatched),
        )


def _topic_match(topic: Topic, weight: float, evidence: list[str]) -> TopicMatch:
    return TopicMatch(topic.id, topic.title, topic.technical, weight, tuple(evidence))
