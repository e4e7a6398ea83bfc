"""`prepkit export --format html`: one file that shows the report, loads nothing, runs nothing."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from prepkit.export.report import (
    PostingLines,
    QualificationLine,
    ReportData,
    TopicLine,
    WeakCard,
    preview,
)
from prepkit.export.report_html import CSP, esc, heatmap, html_report
from prepkit.reports import report_data
from prepkit.workspace import open_workspace

from .conftest import NOW
from .test_export import progress

VOID = {"meta", "link", "br", "hr", "img", "input", "area", "base", "col", "wbr", "source"}
# a reference that would make a viewer fetch something from the network
NETWORK = re.compile(r"""(?:src|href|xlink:href)\s*=\s*["']?\s*(?:https?:)?//|url\(|@import""")
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'


class Tags(HTMLParser):
    """The start tags of a page, and what is left open or closed out of turn."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.seen: list[str] = []
        self.open: list[str] = []
        self.wrong: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append(tag)
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append(tag)  # <rect .../>: opened and closed at once

    def handle_endtag(self, tag: str) -> None:
        if self.open and self.open[-1] == tag:
            self.open.pop()
        else:
            self.wrong.append(f"</{tag}> while {self.open[-3:]} open")


def tags_of(page: str) -> Tags:
    parser = Tags()
    parser.feed(page)
    parser.close()
    assert parser.wrong == [] and parser.open == [], (parser.wrong, parser.open)
    return parser


def stands_alone(page: str) -> None:
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in page
    assert "script-src" not in CSP and "default-src 'none'" in CSP
    assert "<script" not in page.lower()
    assert NETWORK.findall(page) == []


def sample(nasty: str = "") -> ReportData:
    """A report's data with `nasty` in every text a posting, a library or a learner wrote."""
    today = date(2026, 11, 27)
    history = tuple(
        (today - timedelta(days=181 - i), (i * 7) % 23 if i % 3 else 0) for i in range(182)
    )
    return ReportData(
        generated_at=NOW,
        profile=f"me{nasty}",
        interview=date(2026, 12, 18),
        days_left=21,
        readiness=0.5,
        weighted=True,
        introduced=3,
        cards=5,
        postings=(
            PostingLines(
                f"Research Engineer{nasty}",
                (
                    QualificationLine(f"PyTorch{nasty}", "minimum", 0.75),
                    QualificationLine("First-author publications", "preferred", None),
                ),
            ),
        ),
        topics=(
            TopicLine(f"GPU architecture{nasty}", 3, 2, 3, 0.6, 0.9, 10),
            TopicLine("Lua", 1, 0, 2, None, None, 0),
        ),
        retention=0.9,
        retention_reviews=10,
        streak=2,
        longest_streak=5,
        studied_days_30=12,
        reviews_30=140,
        minutes_30=35.0,
        due_next=tuple((today + timedelta(days=i), 10 - i) for i in range(7)),
        weakest=(WeakCard(f"k{nasty}", f"What is a warp?{nasty}", f"GPU{nasty}", 2, 0.25),),
        heatmap=history,
    )


def test_the_html_report_stands_alone_and_says_where_the_learner_stands(
    cli, cli_db: str, tmp_path: Path
) -> None:
    db, _ = progress(cli, cli_db, tmp_path)
    out = tmp_path / "report.html"
    result = cli("export", "--format", "html", "--out", str(out))
    assert result.code == 0, result.err
    assert result.out.strip() == f"report written to {out}"
    page = out.read_text()
    assert page == cli("export", "--format", "html").out
    stands_alone(page)
    with open_workspace(str(db), NOW) as ws:
        data = report_data(ws, NOW)
    assert "<h1>Interview preparation: default</h1>" in page
    assert "Interview on Friday 15 January 2027: <strong>49 days left</strong>" in page
    assert "<h2>Qualifications: Research Scientist / Research Engineer" in page
    for item in data.postings[0].items:  # every qualification, with its readiness or "no deck"
        assert f"<title>{esc(item.text)}</title>" in page
    assert "Hands-on experience with the PyTorch framework." in page
    assert "<td>Research practice</td>" in page
    assert data.weakest and f"<td>{esc(preview(data.weakest[0].front))} <code>" in page
    # today's square in the heatmap tells today's answers
    day, answers = data.heatmap[-1]
    assert len(data.heatmap) == 182 and answers > 0
    assert f"<title>{day:%a %d %b %Y}: {answers} answers</title>" in page
    assert page.count("<svg") >= 4
    tags_of(page)
    refused = cli("export", "--format", "html", "--since", "2026-11-01")
    assert refused.code == 1 and "no --deck or --since" in refused.err


def test_a_fresh_workspace_gets_a_report_too(cli, deck_dir: Path) -> None:
    assert cli("sync", str(deck_dir)).code == 0
    result = cli("export", "--format", "html")
    assert result.code == 0, result.err
    stands_alone(result.out)
    assert "None yet: no card has been studied." in result.out
    assert "0 answers on 0 days of the last 182 days" in result.out
    tags_of(result.out)


def test_text_in_the_html_report_is_shown_never_run() -> None:
    page = html_report(sample(f" {SCRIPT} {IMG} R&D"))
    stands_alone(page)
    assert SCRIPT not in page and "<img" not in page and "R&D" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert "R&amp;D" in page
    # in the page, in chart labels and in tooltips alike: the profile, the posting, the
    # qualification, the topic, the card and its id each show it
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 8
    tags = tags_of(page)
    assert "script" not in tags.seen and "img" not in tags.seen
    assert tags.seen.count("svg") == 4


def test_every_day_of_the_heatmap_is_a_square_with_its_date_and_count() -> None:
    history = sample().heatmap
    chart = heatmap(history)
    titles = re.findall(r"<rect class=\"h(\d)[^\"]*\"[^>]*><title>([^<]*)</title>", chart)
    assert len(titles) == len(history) == 182
    level, text = titles[-1]
    day, count = history[-1]
    assert text == f"{day:%a %d %b %Y}: {count} answers"
    busiest = max(count for _day, count in history)
    assert {lvl for lvl, t in titles if t.endswith(f": {busiest} answers")} == {"4"}
    assert {lvl for lvl, t in titles if t.endswith(": 0 answers")} == {"0"}
    # the legend names the counts of each shade, the busiest in the last
    assert f">{busiest * 3 // 4 + 1}–{busiest}</text>" in chart
    assert re.search(rf'class="h{level} today"[^>]*><title>{day:%a %d %b %Y}:', chart)


# -- in a browser ------------------------------------------------------------------------------

# Chromium logs every console message of the page (CSP violations among them) as a CONSOLE line
# ("INFO:CONSOLE:1]" now, "INFO:CONSOLE(1)]" in older builds).
PAGE_PROBLEM = re.compile(r":CONSOLE[(:]\d+\)?\]|Content Security Policy|Refused to ")


def in_chromium(page: Path, tmp_path: Path) -> tuple[str, list[str]]:
    """The page's DOM after loading, and the console lines it caused."""
    exe = shutil.which("chromium")
    if exe is None:
        pytest.skip("chromium not installed")
    done = subprocess.run(
        [
            exe,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=2000",
            f"--user-data-dir={tmp_path / 'chromium'}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, [line for line in done.stderr.splitlines() if PAGE_PROBLEM.search(line)]


def test_chromium_shows_the_report_without_a_complaint(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(html_report(sample(f" {SCRIPT} {IMG} R&D")))
    dom, problems = in_chromium(page, tmp_path)
    assert problems == []
    assert "Interview preparation: me" in dom and "<h2>Coming up</h2>" in dom
    assert dom.count("<svg") == 4 and "<script" not in dom and "<img" not in dom


def test_the_complaint_detector_sees_a_blocked_script_and_fetch(tmp_path: Path) -> None:
    """The same CSP, a page that breaks it: if this passed silently, so would the test above."""
    page = tmp_path / "broken.html"
    page.write_text(
        f'<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
        f'content="{CSP}"><title>broken</title></head><body><h1>broken</h1>'
        '<script>console.log("ran")</script><img src="https://example.invalid/x.png">'
        "</body></html>"
    )
    dom, problems = in_chromium(page, tmp_path)
    assert "<h1>broken</h1>" in dom
    assert any("inline script" in line for line in problems), problems
    assert any("example.invalid" in line for line in problems), problems
    assert not any('"ran"' in line for line in problems)  # blocked, so it never logged
