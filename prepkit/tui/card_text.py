"""A card as terminal text: what the front and back look like, before and after reveal.

Card text in the library is plain prose (it holds `int *p` and `__init__`, which a Markdown
renderer would turn into emphasis), so prose is shown as written. Two Markdown habits are
honoured because learners type them when they edit a card: fenced code blocks (highlighted) and
`inline code`. Code cards show their program highlighted in the card's language.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.text import Text

from prepkit.deck.check import Verdict
from prepkit.deck.model import CLOZE_PATTERN, Card, Kind

if TYPE_CHECKING:
    from rich.syntax import Syntax

_FENCE = re.compile(r"^```([\w+#-]*)[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_INLINE = re.compile(r"`([^`\n]+)`")


@dataclass(frozen=True, slots=True)
class Look:
    """How code is highlighted: a Pygments theme that suits the terminal's background."""

    dark: bool = True

    @property
    def code_theme(self) -> str:
        return "monokai" if self.dark else "friendly"


def prose(text: str, style: str = "") -> Text:
    """Plain text with `inline code` set apart; nothing else is interpreted."""
    out = Text(style=style)
    position = 0
    for match in _INLINE.finditer(text):
        out.append(text[position : match.start()])
        out.append(match.group(1), style="bold reverse")
        position = match.end()
    out.append(text[position:])
    return out


def blocks(text: str, look: Look) -> Iterator[RenderableType]:
    """Prose and fenced code blocks, in order."""
    position = 0
    for match in _FENCE.finditer(text):
        before = text[position : match.start()].strip("\n")
        if before:
            yield prose(before)
        yield code(match.group(2).rstrip("\n"), match.group(1) or "text", look)
        position = match.end()
    rest = text[position:].strip("\n")
    if rest:
        yield prose(rest)


def code(source: str, language: str, look: Look) -> Syntax:
    from rich.syntax import Syntax  # Pygments: loaded with the first code card, not at start

    return Syntax(
        source,
        language or "text",
        theme=look.code_theme,
        line_numbers=source.count("\n") >= 4,
        word_wrap=True,
        background_color="default",
    )


def cloze_front(text: str) -> Text:
    """Cloze deletions hidden: `[...]` or `[hint]`, set apart so the gap is easy to find."""
    out = Text()
    position = 0
    for match in CLOZE_PATTERN.finditer(text):
        out.append(text[position : match.start()])
        out.append(f"[{match.group(3) or '...'}]", style="bold reverse")
        position = match.end()
    out.append(text[position:])
    return out


def cloze_back(text: str) -> Text:
    """Cloze deletions filled in and highlighted."""
    out = Text()
    position = 0
    for match in CLOZE_PATTERN.finditer(text):
        out.append(text[position : match.start()])
        out.append(match.group(2), style="bold underline")
        position = match.end()
    out.append(text[position:])
    return out


def front(card: Card, look: Look) -> RenderableType:
    """The question side."""
    parts: list[RenderableType] = []
    if card.kind is Kind.CLOZE:
        parts.append(cloze_front(card.front))
    else:
        parts.extend(blocks(card.front, look))
    if card.kind is Kind.CODE and card.code:
        parts.append(code(card.code.rstrip("\n"), card.language or "text", look))
    if card.kind is Kind.CHOICE:
        parts.append(Text("\n".join(f"  {n}. {o}" for n, o in enumerate(card.options, 1))))
    return Group(*parts)


def back(
    card: Card,
    look: Look,
    verdict: Verdict | None = None,
    typed: str = "",
) -> RenderableType:
    """The answer side (shown under the question once revealed)."""
    parts: list[RenderableType] = []
    if verdict is not None:
        mark = Text("right" if verdict.correct else "wrong", style="bold")
        mark.stylize("green" if verdict.correct else "red")
        line = Text.assemble(mark, f": you typed {typed.strip()!r}")
        if verdict.note:
            line.append(f" ({verdict.note})")
        parts.append(line)
    if card.kind is Kind.CLOZE:
        parts.append(cloze_back(card.front))
    if card.kind is Kind.NUMERIC and card.answer is not None:
        unit = f" {card.unit}" if card.unit else ""
        tolerance = f" (± {card.tolerance:g})" if card.tolerance else ""
        parts.append(Text(f"answer: {card.answer:g}{unit}{tolerance}", style="bold"))
    if card.kind is Kind.CHOICE and card.correct is not None:
        number = card.options.index(card.correct) + 1 if card.correct in card.options else 0
        parts.append(Text(f"answer: {number}. {card.correct}", style="bold"))
    if card.kind is Kind.CODE and card.expected is not None:
        parts.append(Text("output:", style="bold"))
        parts.append(code(card.expected.rstrip("\n"), "text", look))
    if card.back:
        parts.extend(blocks(card.back, look))
    parts.append(Text(f"source: {card.source}", style="dim italic"))
    return Group(*parts)


def rubric_grade(ticked: int, total: int) -> int:
    """The grade proposed for a prompt card from how many rubric points the learner covered:
    all of them is Good, at least half is Hard, fewer is Again. Easy stays the learner's call."""
    if total == 0:
        return 3
    if ticked >= total:
        return 3
    if 2 * ticked >= total:
        return 2
    return 1
