"""Reading postings: run-together text repaired, sections found, lists split, bad input refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prepkit.errors import PrepkitError
from prepkit.posting.parse import (
    MAX_POSTING_BYTES,
    Section,
    heading_section,
    html_to_text,
    list_items,
    parse_posting,
    posting_text,
    split_sentences,
)

from .conftest import SHARED

SEED = SHARED / "postings" / "seed-meta-fair-ai-systems.txt"
needs_seed = pytest.mark.skipif(not SEED.exists(), reason="../shared/postings is not here")


@needs_seed
def test_seed_posting_sections_and_statements() -> None:
    posting = parse_posting(posting_text(SEED.read_bytes(), "seed"))
    assert posting.title == "Research Scientist, AI Systems Machine Learning (PhD)"
    sections = [section for _, section in posting.headings]
    assert sections[:3] == [Section.RESPONSIBILITIES, Section.MINIMUM, Section.PREFERRED]
    responsibilities = [s.text for s in posting.in_sections(Section.RESPONSIBILITIES)]
    assert responsibilities[0] == (
        "Perform state of the art research to advance the science and technology of machine "
        "learning systems."
    )
    assert len(responsibilities) == 6
    preferred = [s.text for s in posting.in_sections(Section.PREFERRED)]
    assert len(preferred) == 9
    assert (
        preferred[-1]
        == "Experience working and communicating cross functionally in a team environment."
    )
    minimum = posting.in_sections(Section.MINIMUM)
    languages = next(s for s in minimum if s.text.startswith("Experience with Python"))
    assert languages.items[:4] == ("Python", "C++", "C", "Lua")
    venues = next(s for s in posting.in_sections(Section.PREFERRED) if "NeurIPS" in s.text)
    assert {
        "NeurIPS",
        "ICML",
        "ICLR",
        "MLSys",
        "ISCA",
        "ASPLOS",
        "CGO",
        "PLDI",
        "PACT",
        "HPCA",
        "MICRO",
    } <= set(venues.items)


@needs_seed
def test_seed_boilerplate_is_never_a_qualification() -> None:
    posting = parse_posting(posting_text(SEED.read_bytes(), "seed"))
    asked = posting.in_sections(Section.MINIMUM, Section.PREFERRED, Section.RESPONSIBILITIES)
    for statement in asked:
        for word in (
            "salary",
            "$",
            "Equal Employment",
            "California",
            "work authorization",
            "Facebook",
            "benefits",
        ):
            assert word not in statement.text, statement.text


def test_headings_glued_to_text_are_found() -> None:
    text = (
        "Acme builds robots.Senior Engineer (ML) ResponsibilitiesBuild the training stack.Tune "
        "kernels.Minimum QualificationsExperience with CUDA.Preferred QualificationsPapers at "
        "MLSys.About Acme Acme was founded in 1999."
    )
    posting = parse_posting(text)
    assert posting.title == "Senior Engineer (ML)"
    got = [(s.section, s.text) for s in posting.statements]
    assert (Section.RESPONSIBILITIES, "Build the training stack.") in got
    assert (Section.RESPONSIBILITIES, "Tune kernels.") in got
    assert (Section.MINIMUM, "Experience with CUDA.") in got
    assert (Section.PREFERRED, "Papers at MLSys.") in got
    assert (Section.ABOUT, "Acme was founded in 1999.") in got


def test_markdown_headings_and_bullets() -> None:
    text = """# Staff ML Engineer

## What you'll do
- Scale **distributed training** to thousands of GPUs
- Profile and fix [NCCL](https://example.org) bottlenecks

## Nice to have
* Papers at NeurIPS or ICML

## Benefits
- Great health insurance
"""
    posting = parse_posting(text)
    assert posting.title == "Staff ML Engineer"
    assert [(s.section, s.text) for s in posting.statements] == [
        (Section.RESPONSIBILITIES, "Scale distributed training to thousands of GPUs"),
        (Section.RESPONSIBILITIES, "Profile and fix NCCL bottlenecks"),
        (Section.PREFERRED, "Papers at NeurIPS or ICML"),
        (Section.BENEFITS, "Great health insurance"),
    ]


def test_html_is_stripped_scripts_dropped_entities_decoded() -> None:
    html = (
        "<html><head><title>x</title><script>var requirements = 'C++';</script></head><body>"
        "<h2>Requirements</h2><ul><li>C++ &amp; CUDA</li><li>Triton&nbsp;kernels</li></ul>"
        "<style>.a{}</style><p>We offer a salary of $200k.</p></body></html>"
    )
    text = html_to_text(html)
    assert "var requirements" not in text and ".a{}" not in text
    posting = parse_posting(posting_text(html.encode(), "job.html"))
    minimum = [s.text for s in posting.in_sections(Section.MINIMUM)]
    assert minimum == ["C++ & CUDA", "Triton kernels"]


@pytest.mark.parametrize(
    ("line", "section"),
    [
        ("Minimum Qualifications", Section.MINIMUM),
        ("## Requirements:", Section.MINIMUM),
        ("**Nice to have**", Section.PREFERRED),
        ("What you’ll do", Section.RESPONSIBILITIES),
        ("About Acme Robotics", Section.ABOUT),
        ("Equal Opportunity Employer", Section.LEGAL),
        ("Experience with PyTorch", None),
        ("We meet the requirements of our customers", None),
    ],
)
def test_heading_lines(line: str, section: Section | None) -> None:
    assert heading_section(line) == section


def test_sentences_keep_abbreviations_together() -> None:
    text = "A Ph.D. in CS, e.g. systems. Experience with C++ etc. is a plus. Then more."
    assert split_sentences(text) == [
        "A Ph.D. in CS, e.g. systems.",
        "Experience with C++ etc. is a plus.",
        "Then more.",
    ]


@pytest.mark.parametrize(
    ("sentence", "items"),
    [
        (
            "Experience with Python, C++, C, Lua or other related languages.",
            ("Python", "C++", "C", "Lua"),
        ),
        (
            "Publications at venues such as NeurIPS, ICML, MLSys, or similar.",
            ("NeurIPS", "ICML", "MLSys"),
        ),
        ("Experience building large distributed systems.", ()),
        ("Strong communication, collaboration and ownership", ()),
    ],
)
def test_list_items(sentence: str, items: tuple[str, ...]) -> None:
    assert list_items(sentence)[: len(items)] == items
    if not items:
        assert list_items(sentence) == ()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "the posting is empty"),
        (b"  \n\t\n", "the posting is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data"),
        (b"Senior engineer \xff\xfe role", "not UTF-8"),
        (b"x" * (MAX_POSTING_BYTES + 1), "more than a posting"),
    ],
)
def test_bad_postings_get_one_line(raw: bytes, message: str) -> None:
    with pytest.raises(PrepkitError) as caught:
        posting_text(raw, "job.txt")
    text = str(caught.value)
    assert text.startswith("job.txt") and message in text and "\n" not in text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=3000))
def test_arbitrary_text_never_raises(text: str) -> None:
    posting = parse_posting(text)
    for statement in posting.statements:
        assert statement.text.strip()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_are_read_or_refused_in_one_line(raw: bytes) -> None:
    try:
        text = posting_text(raw, "p.txt")
    except PrepkitError as exc:
        assert str(exc).startswith("p.txt") and "\n" not in str(exc)
        return
    parse_posting(text)


def test_titles_come_from_the_role_line_even_when_glued() -> None:
    text = (
        "Acme builds chips for data centers and makes an impact.Senior Software Engineer, "
        "Inference (LLM Serving)Location: Toronto, ON (hybrid)The team owns serving."
        "ResponsibilitiesTune kernels."
    )
    posting = parse_posting(text)
    assert posting.title == "Senior Software Engineer, Inference (LLM Serving)"
    assert [s.text for s in posting.in_sections(Section.RESPONSIBILITIES)] == ["Tune kernels."]
