"""The progress report as one HTML file a mentor can open anywhere, offline, and print.

The same report as the Markdown one, in the same order, with charts. The file stands alone: its
style is inline and its charts are inline SVG, so it loads nothing and can be mailed or archived
as it is. It runs nothing either: it holds no script, and its Content-Security-Policy allows
none and no fetch of any kind, so even text that slipped through escaping could not run or call
home.

Text from postings and cards is escaped (`html.escape`, quotes too) wherever it lands: in the
page, in an SVG label, in a tooltip.

Every chart says its numbers in words as well (a value beside each bar, a tooltip and a legend
for each heatmap day), so it reads in print, in black and white and without seeing colour.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from prepkit.export import heat
from prepkit.export.report import PostingLines, ReportData, days, percent, preview

CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

WIDTH = 900  # a chart's width in CSS pixels, at most; charts shrink with a narrower page
VALUE_WIDTH = 190  # room right of the bars for the longest value text
LABEL_LINE = 16  # the height of one line of a label
BAR = 12
BAR_GAP = 6
GROUP_GAP = 12
LABEL_CHARS = 120  # a label's line in characters, short of the chart's width at 13 px
LABEL_LINES = 3

CELL = 14  # a heatmap day
STEP = 18  # a heatmap day and the gap after it
DAY_LABEL_WIDTH = 32
WEEKDAYS = ("Mon", "", "Wed", "", "Fri", "", "")

STYLE = """
:root {
  color-scheme: light dark;
  --fg: #1f2328; --muted: #59636e; --bg: #ffffff; --line: #d1d9e0; --track: #eef1f4;
  --s0: #2f6fdb; --s1: #b45309;
  --h0: #ebedf0; --h1: #9be9a8; --h2: #40c463; --h3: #30a14e; --h4: #216e39;
}
@media screen and (prefers-color-scheme: dark) {
  :root {
    --fg: #e6edf3; --muted: #9198a1; --bg: #0d1117; --line: #3d444d; --track: #21262d;
    --s0: #58a6ff; --s1: #f0a050;
    --h0: #1c2128; --h1: #0e4429; --h2: #006d32; --h3: #26a641; --h4: #39d353;
  }
}
* { box-sizing: border-box; }
html { background: var(--bg); color: var(--fg); }
body {
  margin: 0 auto; max-width: 60rem; padding: 1.5rem 1rem 3rem;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
    "Noto Sans", sans-serif;
}
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; padding-bottom: .25rem;
  border-bottom: 1px solid var(--line); }
.meta, .note, figcaption { color: var(--muted); }
.headline { font-size: 1.1rem; }
.headline strong { font-size: 1.5rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font-size: .85em; color: var(--muted); overflow-wrap: anywhere; }
figure { margin: .75rem 0 1rem; }
svg { display: block; max-width: 100%; height: auto; }
svg.wide { width: 100%; }
svg text { fill: var(--fg); font-size: 13px; font-family: inherit; }
svg text.muted { fill: var(--muted); }
svg text.small { font-size: 11px; }
.track { fill: var(--track); }
.s0 { fill: var(--s0); }
.s1 { fill: var(--s1); }
.axis { stroke: var(--line); }
.h0 { fill: var(--h0); } .h1 { fill: var(--h1); } .h2 { fill: var(--h2); }
.h3 { fill: var(--h3); } .h4 { fill: var(--h4); }
.today { stroke: var(--fg); stroke-width: 1.5; }
ul.study { padding-left: 1.2rem; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  section, figure, tr { break-inside: avoid; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def esc(text: str) -> str:
    return html.escape(text, quote=True)


# -- charts ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bar:
    value: float | None  # a share, 0 to 1; None draws no bar, only the text
    text: str  # the value in words, shown beside the bar
    series: int = 0  # which fill: bars of one series share a colour


@dataclass(frozen=True, slots=True)
class Group:
    label: str
    bars: tuple[Bar, ...]


def wrap(label: str) -> list[str]:
    """A label on at most three lines: SVG text does not wrap, and a cut label loses a
    qualification's point (the full text stays in the tooltip)."""
    flat = " ".join(label.split())
    return textwrap.wrap(flat, LABEL_CHARS, max_lines=LABEL_LINES, placeholder=" …") or [""]


def svg_open(width: int, height: int, title: str, wide: bool = True) -> str:
    """An SVG of its own size that shrinks with the page; a wide one also grows to the page's
    width (text and all), a narrow one (the heatmap) keeps its size."""
    shape = ' class="wide"' if wide else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg"{shape} width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img"><title>{esc(title)}</title>'
    )


def bar_chart(groups: Sequence[Group], title: str) -> str:
    """Horizontal bars, each group's label above its bars, on a common 0–100% scale.

    Labels sit above the bars, not beside them, so long qualification texts get the chart's
    whole width; a pale track behind each bar shows where 100% is.
    """
    scale = WIDTH - VALUE_WIDTH
    parts: list[str] = []
    y = 0
    for group in groups:
        lines = wrap(group.label)
        parts.append(f"<g><title>{esc(group.label)}</title>")
        for line in lines:
            y += LABEL_LINE
            parts.append(f'<text x="0" y="{y - 4}">{esc(line)}</text>')
        y += 2
        for bar in group.bars:
            parts.append(f'<rect class="track" x="0" y="{y}" width="{scale}" height="{BAR}"/>')
            if bar.value is not None:
                length = round(scale * min(max(bar.value, 0.0), 1.0), 1)
                parts.append(
                    f'<rect class="s{bar.series}" x="0" y="{y}" width="{length}" height="{BAR}"/>'
                )
            parts.append(
                f'<text x="{scale + 8}" y="{y + BAR - 1}" class="muted">{esc(bar.text)}</text>'
            )
            y += BAR + BAR_GAP
        parts.append("</g>")
        y += GROUP_GAP - BAR_GAP
    height = max(y, 1)
    return svg_open(WIDTH, height, title) + "".join(parts) + "</svg>"


def column_chart(items: Sequence[tuple[str, int]], title: str) -> str:
    """Vertical bars of counts with the count above each bar and its label below."""
    height, top, bottom = 170, 20, 24
    room = height - top - bottom
    slot = WIDTH / max(len(items), 1)
    width = min(56.0, slot * 0.6)
    most = max((count for _label, count in items), default=0) or 1
    parts: list[str] = []
    base = height - bottom
    for index, (label, count) in enumerate(items):
        middle = slot * index + slot / 2
        length = round(room * count / most, 1)
        parts.append(
            f'<rect class="s0" x="{middle - width / 2:.1f}" y="{base - length:.1f}" '
            f'width="{width:.1f}" height="{length}"><title>{esc(label)}: {count}</title></rect>'
        )
        parts.append(
            f'<text x="{middle:.1f}" y="{base - length - 5:.1f}" text-anchor="middle">'
            f"{count}</text>"
        )
        parts.append(
            f'<text x="{middle:.1f}" y="{height - 6}" text-anchor="middle" class="muted">'
            f"{esc(label)}</text>"
        )
    parts.append(f'<line class="axis" x1="0" y1="{base}" x2="{WIDTH}" y2="{base}"/>')
    return svg_open(WIDTH, height, title) + "".join(parts) + "</svg>"


def heat_legend(highs: Sequence[int]) -> list[tuple[int, str]]:
    """(level, counts it stands for), the empty level first."""
    spans = [
        (lvl, str(low) if high == low else f"{low}–{high}") for lvl, low, high in heat.ranges(highs)
    ]
    return [(0, "0"), *spans]


def month_labels(monday: date, first: date, weeks: int) -> list[tuple[int, date]]:
    """(column, month) for each column holding a month's first day, as GitHub names them; the
    first column is named too (a partial month) unless the next name would touch it."""
    labels = []
    for week in range(weeks):
        start = monday + timedelta(weeks=week)
        ones = [start + timedelta(days=d) for d in range(7) if (start + timedelta(days=d)).day == 1]
        if ones:
            labels.append((week, ones[0]))
    if not labels or labels[0][0] >= 3:
        labels.insert(0, (0, first))
    return labels


def heatmap(history: Sequence[tuple[date, int]]) -> str:
    """A GitHub-style grid: one square per day, weeks as columns (Monday on top), month names
    above, a legend below, and a tooltip on every square with its date and count."""
    if not history:
        return ""
    first, last = history[0][0], history[-1][0]
    monday = first - timedelta(days=first.weekday())
    weeks = (last - monday).days // 7 + 1
    limits = heat.limits(max(count for _day, count in history))
    top = 18
    parts: list[str] = []
    for row, name in enumerate(WEEKDAYS):
        if name:
            y = top + row * STEP + CELL - 2
            parts.append(f'<text x="0" y="{y}" class="muted small">{name}</text>')
    for week, shown in month_labels(monday, first, weeks):
        x = DAY_LABEL_WIDTH + week * STEP
        parts.append(f'<text x="{x}" y="12" class="muted small">{shown:%b}</text>')
    for day, count in history:
        week, row = (day - monday).days // 7, day.weekday()
        x, y = DAY_LABEL_WIDTH + week * STEP, top + row * STEP
        today = " today" if day == last else ""
        answers = "1 answer" if count == 1 else f"{count} answers"
        parts.append(
            f'<rect class="h{heat.level(count, limits)}{today}" x="{x}" y="{y}" width="{CELL}" '
            f'height="{CELL}" rx="2"><title>{day:%a %d %b %Y}: {answers}</title></rect>'
        )
    y = top + 7 * STEP + 16
    x = DAY_LABEL_WIDTH
    parts.append(f'<text x="{x}" y="{y + CELL - 2}" class="muted small">answers a day:</text>')
    x += 90
    for level, counts in heat_legend(limits):
        parts.append(
            f'<rect class="h{level}" x="{x}" y="{y}" width="{CELL}" height="{CELL}" rx="2"/>'
        )
        parts.append(
            f'<text x="{x + CELL + 4}" y="{y + CELL - 2}" class="muted small">{counts}</text>'
        )
        x += CELL + 14 + 7 * len(counts)
    width = max(DAY_LABEL_WIDTH + weeks * STEP, x)
    height = y + CELL + 4
    title = f"Answers per day from {first:%d %b %Y} to {last:%d %b %Y}"
    return svg_open(width, height, title, wide=False) + "".join(parts) + "</svg>"


# -- the page ----------------------------------------------------------------------------------


def html_report(data: ReportData) -> str:
    title = f"Interview preparation: {data.profile}"
    body = [
        f"<h1>{esc(title)}</h1>",
        head(data),
        *(qualifications(posting) for posting in data.postings),
        topics(data),
        study(data),
        coming_up(data),
        weakest(data),
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="light dark">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{esc(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(body)
        + "\n</main>\n</body>\n</html>\n"
    )


def head(data: ReportData) -> str:
    when = f"{data.generated_at:%Y-%m-%d %H:%M} UTC"
    if data.interview is not None and data.days_left is not None:
        line = (
            f"Report of {when}. Interview on {data.interview:%A %d %B %Y}: "
            f"<strong>{days(data.days_left)} left</strong>."
        )
    else:
        line = f"Report of {when}. No interview date set."
    basis = "weighted by the postings" if data.weighted else "all cards alike"
    return (
        f'<p class="meta">{line}</p>\n'
        f'<p class="headline"><strong>Readiness: {percent(data.readiness)}</strong> '
        f"(expected recall today, {basis}; cards never studied count 0). "
        f"{data.introduced} of {data.cards} cards studied.</p>"
    )


def qualifications(posting: PostingLines) -> str:
    groups = [
        Group(
            item.text,
            (
                Bar(
                    item.readiness,
                    f"{percent(item.readiness) if item.readiness is not None else 'no deck'}"
                    f" · {item.section}",
                ),
            ),
        )
        for item in posting.items
    ]
    chart = bar_chart(groups, f"Readiness by qualification: {posting.title}")
    return (
        f"<section>\n<h2>Qualifications: {esc(posting.title)}</h2>\n"
        '<p class="note">Readiness for each qualification the posting lists (“no deck”: no '
        "deck covers it yet).</p>\n"
        f"<figure>{chart}</figure>\n</section>"
    )


def topics(data: ReportData) -> str:
    rows = []
    groups = []
    for topic in data.topics:
        kept = f"{percent(topic.retention)} of {topic.reviews}" if topic.reviews else "–"
        rows.append(
            f"<tr><td>{esc(topic.title)}</td><td class='num'>{topic.weight:g}</td>"
            f"<td class='num'>{topic.introduced}/{topic.cards}</td>"
            f"<td class='num'>{percent(topic.readiness)}</td><td class='num'>{kept}</td></tr>"
        )
        retention = (
            f"retention {percent(topic.retention)} of {topic.reviews}"
            if topic.reviews
            else "retention – (no reviews)"
        )
        groups.append(
            Group(
                topic.title,
                (
                    Bar(topic.readiness, f"readiness {percent(topic.readiness)}", 0),
                    Bar(topic.retention if topic.reviews else None, retention, 1),
                ),
            )
        )
    table = (
        "<table>\n<thead><tr><th>topic</th><th class='num'>weight</th>"
        "<th class='num'>studied</th><th class='num'>readiness</th>"
        "<th class='num'>retention (30 d)</th></tr></thead>\n<tbody>\n"
        + "\n".join(rows)
        + "\n</tbody>\n</table>"
    )
    chart = bar_chart(groups, "Readiness and retention (last 30 days) by topic")
    return (
        f"<section>\n<h2>Topics</h2>\n{table}\n<figure>{chart}\n"
        "<figcaption>Per topic: readiness today (upper bar) and the share of review answers "
        "not forgotten in the last 30 days (lower bar).</figcaption></figure>\n</section>"
    )


def study(data: ReportData) -> str:
    items = [
        f"True retention, last 30 days: <strong>{percent(data.retention)}</strong> of "
        f"{data.retention_reviews} review answers (Again counts as forgotten).",
        f"Streak: <strong>{days(data.streak)}</strong> (longest {days(data.longest_streak)}).",
        f"Last 30 days: {days(data.studied_days_30)} studied, {data.reviews_30} answers, "
        f"{data.minutes_30:.0f} minutes.",
    ]
    out = ["<section>\n<h2>Study</h2>\n<ul class='study'>"]
    out += [f"<li>{item}</li>" for item in items]
    out.append("</ul>")
    if data.heatmap:
        total = sum(count for _day, count in data.heatmap)
        studied = sum(1 for _day, count in data.heatmap if count)
        busiest = max(data.heatmap, key=lambda item: item[1])
        summary = f"{total} answers on {days(studied)} of the last {days(len(data.heatmap))}"
        if busiest[1]:
            summary += f"; the busiest day {busiest[0]:%a %d %b} ({busiest[1]})"
        out.append(
            f"<figure>{heatmap(data.heatmap)}\n<figcaption>{summary}. The outlined square "
            "is today.</figcaption></figure>"
        )
    out.append("</section>")
    return "\n".join(out)


def coming_up(data: ReportData) -> str:
    items = [(f"{day:%a %d %b}", count) for day, count in data.due_next]
    chart = column_chart(items, "Cards due in the coming days") if items else ""
    total = sum(count for _day, count in items)
    return (
        "<section>\n<h2>Coming up</h2>\n"
        f'<p class="note">{total} cards due in the next {days(len(items))}, today first.</p>\n'
        f"<figure>{chart}</figure>\n</section>"
    )


def weakest(data: ReportData) -> str:
    out = ["<section>\n<h2>Weakest cards</h2>"]
    if not data.weakest:
        out.append("<p>None yet: no card has been studied.</p>")
    else:
        out.append(
            "<table>\n<thead><tr><th>card</th><th>topic</th><th class='num'>lapses</th>"
            "<th class='num'>recall today</th></tr></thead>\n<tbody>"
        )
        out += [
            f"<tr><td>{esc(preview(card.front))} <code>{esc(card.card_id)}</code></td>"
            f"<td>{esc(card.topic)}</td><td class='num'>{card.lapses}</td>"
            f"<td class='num'>{percent(card.recall)}</td></tr>"
            for card in data.weakest
        ]
        out.append("</tbody>\n</table>")
    out.append("</section>")
    return "\n".join(out)
