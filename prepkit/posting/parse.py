"""Reading a job posting: text, Markdown or HTML in; sections and qualification statements out.

Postings are copied out of web pages, so their structure is damaged in predictable ways: headings
run into their first item ("ResponsibilitiesPerform research..."), sentences lose the space after
their full stop ("...systems.Perform..."), bullets become paragraphs. The reader repairs those
first, then finds the sections by their headings, then splits each section into statements and
each statement's lists ("Python, C++, C, Lua") into items. Everything here is pure: text in,
dataclasses out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from html.parser import HTMLParser

from prepkit.errors import PrepkitError

MAX_POSTING_BYTES = 1_000_000


class Section(StrEnum):
    """Where a statement stands in the posting, which decides how much it counts."""

    RESPONSIBILITIES = "responsibilities"
    MINIMUM = "minimum"
    PREFERRED = "preferred"
    OTHER = "other"  # text under no recognised heading in a posting without headings
    ABOUT = "about"  # the company or team description
    BENEFITS = "benefits"  # pay, benefits, perks
    LEGAL = "legal"  # equal opportunity, accommodations, privacy, location notices

    @property
    def boilerplate(self) -> bool:
        return self in (Section.ABOUT, Section.BENEFITS, Section.LEGAL)


@dataclass(frozen=True, slots=True)
class Statement:
    """One qualification or responsibility sentence, with the items of any list inside it."""

    text: str
    section: Section
    items: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Posting:
    title: str
    statements: tuple[Statement, ...]
    headings: tuple[tuple[str, Section], ...] = ()

    def in_sections(self, *sections: Section) -> tuple[Statement, ...]:
        return tuple(s for s in self.statements if s.section in sections)


# -- bytes to text -----------------------------------------------------------------------------


def decode_posting(raw: bytes, name: str) -> str:
    """The posting's text, or a one-line refusal naming `name` and what is wrong with it."""
    if len(raw) > MAX_POSTING_BYTES:
        raise PrepkitError(
            f"{name}: {len(raw):,} bytes is more than a posting ({MAX_POSTING_BYTES:,} at most)"
        )
    if not raw.strip():
        raise PrepkitError(f"{name}: the posting is empty")
    if b"\x00" in raw[:8192]:
        raise PrepkitError(f"{name}: binary data, not a text posting")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PrepkitError(f"{name}:{line}: not UTF-8 text (byte {exc.start})") from None
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f")
    if controls > max(8, len(text) // 100):
        raise PrepkitError(f"{name}: binary data, not a text posting")
    return text


_HTML_HINT = re.compile(
    r"<(?:html|body|div|p|br|li|ul|ol|h[1-6]|span|strong|b|em|section|article|table)\b[^>]*>",
    re.IGNORECASE,
)
_BLOCK_TAGS = frozenset(
    "p div br li ul ol h1 h2 h3 h4 h5 h6 tr table section article header footer dt dd "
    "blockquote pre hr".split()
)
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "head", "svg"})


class _TextExtractor(HTMLParser):
    """Visible text of an HTML document; block elements become line breaks, scripts vanish."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n- " if tag == "li" else "\n")
            if tag[0] == "h" and tag[1:].isdigit():
                self.parts.append("# ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    return "".join(extractor.parts)


def looks_like_html(text: str) -> bool:
    return len(_HTML_HINT.findall(text[:20000])) >= 2


# -- headings ----------------------------------------------------------------------------------

# Heading phrases, in the capitalisation postings use. Matched case-insensitively on lines of
# their own; matched case-sensitively when glued into running text.
_HEADINGS: tuple[tuple[Section, tuple[str, ...]], ...] = (
    (
        Section.MINIMUM,
        (
            "Minimum Qualifications", "Basic Qualifications", "Required Qualifications",
            "Minimum Requirements", "Requirements", "Qualifications", "What You'll Bring",
            "What You Will Bring", "What We're Looking For", "What We Are Looking For",
            "Who You Are", "You Have", "You Might Be a Fit If", "Must Have", "Must-Haves",
            "Required Skills", "Skills and Experience", "Your Background", "About You",
        ),
    ),
    (
        Section.PREFERRED,
        (
            "Preferred Qualifications", "Preferred Requirements", "Preferred Skills",
            "Preferred Experience", "Nice to Have", "Nice-to-Have", "Nice to Haves",
            "Nice-to-Haves", "Bonus Points", "Bonus", "Pluses", "Desired Qualifications",
            "Desired Skills", "Additional Qualifications", "Even Better", "Preferred",
            "It's a Plus If", "Great to Have",
        ),
    ),
    (
        Section.RESPONSIBILITIES,
        (
            "Responsibilities", "Key Responsibilities", "What You'll Do", "What You Will Do",
            "What You'll Be Doing", "Your Role", "The Role", "Role Overview", "Duties",
            "In This Role", "Your Impact", "What You'll Work On", "The Job",
        ),
    ),
    (
        Section.BENEFITS,
        (
            "Benefits", "Perks", "Perks and Benefits", "What We Offer", "Compensation",
            "Salary", "Pay Range", "Salary Range", "Total Rewards", "Pay Transparency",
            "Compensation and Benefits",
        ),
    ),
    (
        Section.LEGAL,
        (
            "Equal Employment Opportunity", "Equal Opportunity Employer", "Equal Opportunity",
            "EEO Statement", "Accommodations", "Privacy Notice", "Diversity and Inclusion",
        ),
    ),
    (
        Section.ABOUT,
        (
            "About Us", "About the Team", "About the Company", "About the Role", "Who We Are",
            "Our Mission", "The Team", "Company Description", "Our Company", "Overview",
            "Job Description", "About the Job", "About the Position",
        ),
    ),
)  # fmt: skip

_HEADING_OF = {phrase.casefold(): section for section, phrases in _HEADINGS for phrase in phrases}
# "About Acme" / "About Meta": a company-description heading.
_ABOUT_COMPANY = re.compile(r"^about\s+[\w&.\- ]{1,40}$", re.IGNORECASE)
# Headings glued to the text around them: only the distinctive multi-word or plural forms, and
# only in their heading capitalisation, so that "meet the requirements" never splits a sentence.
_GLUED = sorted(
    (
        phrase
        for _section, phrases in _HEADINGS
        for phrase in phrases
        if " " in phrase or phrase in ("Responsibilities", "Requirements", "Qualifications")
    ),
    key=len,
    reverse=True,
)
_GLUED_PATTERN = re.compile(
    r"(?:(?<=[a-z0-9.!?):])|(?<=[a-z0-9.!?):] )|^)("
    + "|".join(re.escape(p) for p in _GLUED)
    + r")(?=[A-Z][a-z]|\s+[A-Z]|:|\s*$)",
    re.MULTILINE,
)


def heading_section(line: str) -> Section | None:
    """The section a line announces when the line is a heading, else None."""
    text = line.strip().strip("#*_=:-–—• \t").strip()
    if not text or len(text) > 60:
        return None
    key = " ".join(text.replace("’", "'").split()).casefold()
    if key in _HEADING_OF:
        return _HEADING_OF[key]
    if _ABOUT_COMPANY.match(text) and len(text.split()) <= 5:
        return Section.ABOUT
    return None


# -- repairing run-together text -----------------------------------------------------------------

# A full stop glued to the next sentence: "systems.Perform". Not abbreviations such as "Ph.D",
# "e.g.X", "U.S.", or version numbers.
_GLUED_SENTENCE = re.compile(r"(?<=[a-z0-9)\]%])([.!?])(?=[A-Z][a-z])")
_ABBREVIATIONS = re.compile(
    r"(?:\b(?:[A-Za-z]{1,2}|etc|vs|approx|incl|Dr|Mr|Ms|Mrs|Inc|Ltd|Co|St))$"
)


# "(hybrid)The team...", "(LLM Serving)Location: New York": a closing parenthesis or a field
# label glued to what follows.
_GLUED_PAREN = re.compile(r"(?<=\))(?=[A-Z][a-z])")
_GLUED_FIELD = re.compile(
    r"(?<=[a-z0-9)])(?=(?:Location|Locations|Team|Department|Job Type|Employment Type|"
    r"Schedule|Salary|Pay|Compensation|Reports To|Start Date)\s*:)"
)


def _split_glued_sentences(text: str) -> str:
    def repair(match: re.Match[str]) -> str:
        before = text[max(0, match.start() - 6) : match.start()]
        if _ABBREVIATIONS.search(before):
            return match.group(1)
        return match.group(1) + "\n"

    text = _GLUED_SENTENCE.sub(repair, text)
    text = _GLUED_FIELD.sub("\n", text)
    return _GLUED_PAREN.sub("\n", text)


# "...the rules of physics. About Meta Meta builds...": a company-description heading in running
# text, recognised by the company name repeated right after it.
_GLUED_ABOUT = re.compile(r"(?:(?<=[.!?] )|(?<=[.!?])|^)(About ([A-Z][\w&.\-]*))\s+(?=\2\b)", re.M)


def _unglue_headings(text: str) -> str:
    text = _GLUED_PATTERN.sub(lambda m: "\n" + m.group(1) + "\n", text)
    return _GLUED_ABOUT.sub(lambda m: "\n" + m.group(1) + "\n", text)


_MARKDOWN_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")
_BULLET = re.compile(r"^\s*(?:[-*+•·▪◦‣]|\d{1,2}[.)])\s+")


def _clean_line(line: str) -> str:
    line = _MARKDOWN_LINK.sub(r"\1", line)
    line = _EMPHASIS.sub(r"\2", line)
    return " ".join(line.split())


# -- sentences and lists ----------------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'“])")
_PROTECTED = re.compile(
    r"\b(?:e\.g|i\.e|etc|vs|Ph\.D|B\.S|M\.S|B\.Sc|M\.Sc|U\.S|approx|incl|Inc|Ltd|Dr|Mr|Ms|Mrs|No)\.$"
)


def split_sentences(paragraph: str) -> list[str]:
    parts: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(paragraph):
        candidate = paragraph[start : match.start()]
        if _PROTECTED.search(candidate):
            continue
        parts.append(candidate.strip())
        start = match.end()
    parts.append(paragraph[start:].strip())
    return [part for part in parts if part]


_LIST_LEAD = re.compile(
    r"^(?:(?:and|or|with|in|including|include|such as|e\.g\.?|i\.e\.?|like|especially|"
    r"particularly|either|experience (?:with|in)|knowledge of|proficiency (?:with|in)|"
    r"familiarity with|expertise in|conferences? such as|workshops or conferences such as)\s+)+",
    re.IGNORECASE,
)
_LIST_TAIL = re.compile(
    r"\s+(?:or|and)?\s*(?:similar|other related \w+|other \w+|related \w+|the like|etc\.?|"
    r"equivalent)\.?$",
    re.IGNORECASE,
)


def list_items(sentence: str) -> tuple[str, ...]:
    """The items of an enumeration in a sentence ("Python, C++, C, Lua or other languages").

    A sentence holds a list when at least three comma-separated parts are short (one to four
    words); the parts are then cut at "or"/"and" and cleared of lead-ins ("such as", "experience
    with") and tails ("or similar"). Sentences without such a list have no items.
    """
    body = sentence.rstrip(".;:!? ")
    parts = [part.strip() for part in re.split(r"\s*[,;]\s*", body) if part.strip()]
    if len(parts) < 3:
        return ()
    short = [part for part in parts[1:-1] if len(part.split()) <= 4]
    if len(short) < max(1, len(parts) - 3):
        return ()
    items: list[str] = []
    for index, part in enumerate(parts):
        pieces = re.split(r"\s+(?:or|and|&)\s+", part)
        if index == 0:
            pieces = [_tail_words(pieces[-1])]
        for piece in pieces:
            piece = _LIST_TAIL.sub("", _LIST_LEAD.sub("", piece.strip())).strip(" .()")
            if piece and len(piece.split()) <= 5 and piece.lower() not in _NOT_ITEMS:
                items.append(piece)
    return tuple(dict.fromkeys(items))


_NOT_ITEMS = frozenset({"similar", "other", "others", "etc", "the like", "equivalent"})


def _tail_words(segment: str) -> str:
    """The list's first item, taken from the end of the sentence's lead-in."""
    lead = _LIST_LEAD.sub("", segment)
    for marker in (" such as ", " including ", " like ", " with ", " in ", " e.g. ", " of "):
        if marker in f" {lead} ":
            lead = f" {lead} ".rsplit(marker, 1)[1].strip()
    words = lead.split()
    return " ".join(words[-3:]) if len(words) > 3 else lead


# -- the posting -------------------------------------------------------------------------------

# Sentences that are boilerplate wherever they stand (a location notice inside the
# qualifications, a salary line under no heading).
_BOILERPLATE_SENTENCE = re.compile(
    r"equal (?:employment )?opportunity|discriminat|accommodation|protected veteran|"
    r"\bdisabilit|sexual orientation|gender identity|national origin|\b401\(?k|"
    r"health insurance|dental|paid time off|\bPTO\b|parental leave|stock options|"
    r"compensation|salary|base pay|pay range|per year|/year|per hour|\$\s?\d|\d\s?\$|"
    r"\bbonus\b|\bequity\b|benefits|click here|work authori[sz]ation|visa sponsorship|"
    r"background check|privacy (?:policy|notice)|e-verify|if hired|reasonable accommodations",
    re.IGNORECASE,
)


def is_boilerplate(sentence: str) -> bool:
    return bool(_BOILERPLATE_SENTENCE.search(sentence))


def posting_text(raw: bytes, name: str) -> str:
    """Decoded, de-HTMLed text of a posting file."""
    text = decode_posting(raw, name)
    return html_to_text(text) if looks_like_html(text) else text


def parse_posting(text: str) -> Posting:
    """Sections and statements of a posting's text (already decoded; HTML already stripped)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    text = _unglue_headings(_split_glued_sentences(text))
    lines = [_clean_line(line) for line in text.split("\n")]
    has_headings = any(heading_section(line) is not None for line in lines if line)
    section = Section.ABOUT if has_headings else Section.OTHER
    title = ""
    statements: list[Statement] = []
    headings: list[tuple[str, Section]] = []
    before_first_heading: list[str] = []
    for raw_line in lines:
        if not raw_line:
            continue
        found = heading_section(raw_line)
        if found is not None:
            section = found
            headings.append((raw_line.strip("#*_=: "), found))
            if not title and before_first_heading:
                title = _title_from(before_first_heading)
            continue
        line = _BULLET.sub("", raw_line).lstrip("# ").strip()
        if not headings:
            before_first_heading.append(line)
        for sentence in split_sentences(line):
            if len(sentence) < 3 or not re.search(r"[A-Za-z]{2}", sentence):
                continue
            where = section
            if where in (Section.MINIMUM, Section.PREFERRED, Section.RESPONSIBILITIES,
                         Section.OTHER) and is_boilerplate(sentence):  # fmt: skip
                where = Section.BENEFITS if _is_pay(sentence) else Section.LEGAL
            statements.append(Statement(sentence, where, list_items(sentence)))
    if not title:
        title = _title_from(before_first_heading) if before_first_heading else ""
    if headings:  # the title line is not a statement about the job
        statements = [s for s in statements if not (s.section is Section.ABOUT and s.text == title)]
    return Posting(title=title, statements=tuple(statements), headings=tuple(headings))


_PAY = re.compile(r"salary|compensation|pay|\$|bonus|equity|benefit|401", re.IGNORECASE)


def _is_pay(sentence: str) -> bool:
    return bool(_PAY.search(sentence))


_ROLE = re.compile(
    r"\b(?:engineer|scientist|researcher|developer|manager|director|lead|architect|analyst|"
    r"intern|specialist|consultant|designer|nurse|chef|cook|accountant|technician|officer|"
    r"administrator|associate|head of|vp|fellow|professor|postdoc)\b",
    re.IGNORECASE,
)


def _title_from(lines: list[str]) -> str:
    """A job title: a short line naming a role, else the first line when it is short, else the
    last short line before the first heading (where a pasted page puts it after the company
    blurb), else the first short line."""
    for line in lines[:12]:
        if 3 <= len(line) <= 100 and not line.endswith((".", "!", "?")) and _ROLE.search(line):
            return line.lstrip("# ").strip()
    if lines and 3 <= len(lines[0]) <= 100 and not lines[0].endswith((".", "!", "?")):
        return lines[0].lstrip("# ").strip()
    for line in reversed(lines[-3:]):
        if 3 <= len(line) <= 100 and not line.endswith((".", "!", "?")):
            return line.lstrip("# ").strip()
    for line in lines[:3]:
        if 3 <= len(line) <= 100:
            return line.lstrip("# ").strip()
    return ""
