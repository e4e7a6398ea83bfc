"""The progress report a learner shows a mentor: where they stand for the interview, in Markdown.

It answers, in order, what a reader asks: how many days are left and how ready the learner is
overall; how ready for each of the posting's qualifications (what the interviewer will probe);
by topic; how well reviews are going (true retention, as Anki computes it: the share of review
answers that were not Again); how regular the study is (streak, days, minutes); what is coming
(cards due in the next days); and which cards are weakest, to work on.

Text from postings and cards is the learner's or a library author's, and may hold Markdown or
HTML: it is escaped, so the report shows it as written and a viewer never runs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

MD_SPECIAL = "\\`*_[]<>|~"  # what acts inside a line (every text here sits after a prefix)


@dataclass(frozen=True, slots=True)
class TopicLine:
    title: str
    weight: float
    introduced: int
    cards: int
    readiness: float | None
    retention: float | None  # last 30 days
    reviews: int  # last 30 days, in review state


@dataclass(frozen=True, slots=True)
class QualificationLine:
    text: str
    section: str  # minimum | preferred
    readiness: float | None  # None: no deck covers it


@dataclass(frozen=True, slots=True)
class PostingLines:
    title: str
    items: tuple[QualificationLine, ...]


@dataclass(frozen=True, slots=True)
class WeakCard:
    card_id: str
    front: str
    topic: str
    lapses: int
    recall: float  # today


@dataclass(frozen=True, slots=True)
class ReportData:
    generated_at: datetime
    profile: str
    interview: date | None
    days_left: int | None
    readiness: float | None
    weighted: bool
    introduced: int
    cards: int
    postings: tuple[PostingLines, ...]
    topics: tuple[TopicLine, ...]
    retention: float | None  # last 30 days
    retention_reviews: int
    streak: int
    longest_streak: int
    studied_days_30: int
    reviews_30: int
    minutes_30: float
    due_next: tuple[tuple[date, int], ...]  # the next days' due counts, today first
    weakest: tuple[WeakCard, ...]
    heatmap: tuple[tuple[date, int], ...]  # answers per study day, oldest first, ending today


def escape(text: str) -> str:
    """Text as Markdown shows it literally, on one line (tables cannot hold line breaks)."""
    flat = " ".join(text.split())
    return "".join("\\" + ch if ch in MD_SPECIAL else ch for ch in flat)


def preview(text: str, width: int = 90) -> str:
    """The start of a card's front: one line, cut at a word."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    return flat[:width].rsplit(" ", 1)[0] + " …"


def days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def markdown(data: ReportData) -> str:
    out: list[str] = [f"# Interview preparation: {escape(data.profile)}", ""]
    when = f"{data.generated_at:%Y-%m-%d %H:%M} UTC"
    if data.interview is not None and data.days_left is not None:
        out.append(
            f"Report of {when}. Interview on {data.interview:%A %d %B %Y}: "
            f"{data.days_left} days left."
        )
    else:
        out.append(f"Report of {when}. No interview date set.")
    basis = "weighted by the postings" if data.weighted else "all cards alike"
    out += [
        "",
        f"**Readiness: {percent(data.readiness)}** (expected recall today, {basis}; cards never "
        f"studied count 0). {data.introduced} of {data.cards} cards studied.",
        "",
    ]
    for posting in data.postings:
        out += [f"## Qualifications: {escape(posting.title)}", ""]
        out += ["| readiness | qualification | section |", "|---:|---|---|"]
        for item in posting.items:
            shown = percent(item.readiness) if item.readiness is not None else "no deck"
            out.append(f"| {shown} | {escape(item.text)} | {item.section} |")
        out.append("")
    out += ["## Topics", "", "| topic | weight | studied | readiness | retention (30 d) |"]
    out.append("|---|---:|---:|---:|---:|")
    for topic in data.topics:
        kept = f"{percent(topic.retention)} of {topic.reviews}" if topic.reviews else "–"
        out.append(
            f"| {escape(topic.title)} | {topic.weight:g} | {topic.introduced}/{topic.cards} | "
            f"{percent(topic.readiness)} | {kept} |"
        )
    out += [
        "",
        "## Study",
        "",
        f"- True retention, last 30 days: {percent(data.retention)} "
        f"of {data.retention_reviews} review answers (Again counts as forgotten).",
        f"- Streak: {days(data.streak)} (longest {days(data.longest_streak)}).",
        f"- Last 30 days: {days(data.studied_days_30)} studied, {data.reviews_30} answers, "
        f"{data.minutes_30:.0f} minutes.",
        "",
        "## Coming up",
        "",
        "| day | cards due |",
        "|---|---:|",
    ]
    out += [f"| {day:%a %d %b} | {count} |" for day, count in data.due_next]
    out += ["", "## Weakest cards", ""]
    if not data.weakest:
        out.append("None yet: no card has been studied.")
    else:
        out += ["| card | topic | lapses | recall today |", "|---|---|---:|---:|"]
        for card in data.weakest:
            key = card.card_id.replace("`", "")
            out.append(
                f"| {escape(preview(card.front))} (`{key}`) | {escape(card.topic)} | "
                f"{card.lapses} | {percent(card.recall)} |"
            )
    return "\n".join(out) + "\n"
