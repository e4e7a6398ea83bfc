"""From a posting to decks: the seed posting's bar, matching traps, weights, the CLI, init."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prepkit.deck.load import check_paths
from prepkit.posting.match import Matcher
from prepkit.posting.parse import Section, Statement, parse_posting
from prepkit.posting.taxonomy import parse_taxonomy

from .conftest import LIBRARY, SHARED

SEED = SHARED / "postings" / "seed-meta-fair-ai-systems.txt"
EXAMPLE = LIBRARY / "postings" / "example-ml-systems.txt"
NURSE = Path(__file__).parent / "data" / "postings" / "07-registered-nurse.txt"
VENUES = ("NeurIPS", "ICML", "ICLR", "MLSys", "ISCA", "ASPLOS", "CGO", "PLDI", "PACT", "HPCA",
          "MICRO")  # fmt: skip


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    path = LIBRARY / "taxonomy.yaml"
    return Matcher(parse_taxonomy(path.read_text(), str(path)))


def topics_of(matcher: Matcher, text: str, section: Section = Section.MINIMUM) -> set[str]:
    return set(matcher.match_statement(Statement(text, section, _items(text))).topics)


def _items(text: str) -> tuple[str, ...]:
    from prepkit.posting.parse import list_items

    return list_items(text)


def test_taxonomy_covers_every_topic_id() -> None:
    ids = {t.id for t in parse_taxonomy((LIBRARY / "taxonomy.yaml").read_text(), "t").topics}
    required = set()
    if (SHARED / "topics.md").exists():
        block = (SHARED / "topics.md").read_text().split("```")[1]
        required = {line.split()[0] for line in block.splitlines() if line.strip()}
    else:  # a fresh clone without ../shared: the ids the tests and evaluations refer to
        required = {"pytorch-core", "distributed-training", "mlsys-venues", "python-lang",
                    "cpp-lang", "c-lang", "lua-lang", "collaboration"}  # fmt: skip
    assert required <= ids


@pytest.mark.skipif(not SEED.exists(), reason="../shared/postings is not here")
def test_seed_posting_meets_the_bar(cli) -> None:
    result = cli("generate", str(SEED), "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    qualifications = data["qualifications"]
    asked = [q for q in qualifications if q["section"] in ("minimum", "preferred")]
    assert len(asked) >= 12
    for q in asked:  # every minimum/preferred sentence is mapped or listed as unmatched
        assert q["topics"] or q["text"] in data["unmatched"]
    languages = next(q for q in asked if q["text"].startswith("Experience with Python"))
    assert {"python-lang", "cpp-lang", "c-lang", "lua-lang", "pytorch-core"} <= set(
        languages["topics"]
    )
    assert set(VENUES) <= set(data["venues"])
    sections = {q["section"] for q in qualifications}
    assert sections <= {"responsibilities", "minimum", "preferred", "other"}
    for q in qualifications:  # nothing from pay, benefits or EEO text
        for word in ("compensation", "salary", "benefits", "Equal Employment", "discriminate"):
            assert word not in q["text"]
    weights = [t["weight"] for t in data["topics"]]
    assert weights == sorted(weights, reverse=True)
    ids = [t["id"] for t in data["topics"]]
    assert "energy-sustainability" in ids and "ml-for-systems" in ids
    assert "collaboration" in ids and "research-practice" in ids


@pytest.mark.parametrize(
    ("text", "present", "absent"),
    [
        ("Experience with Python, C++, C, Lua or other languages.", {"c-lang", "cpp-lang"}, set()),
        ("Strong C/C++ skills.", {"c-lang", "cpp-lang"}, set()),
        ("Fluent in C programming and Linux.", {"c-lang"}, set()),
        ("Present to C-suite executives.", set(), {"c-lang"}),
        ("Experience with C# and .NET.", set(), {"c-lang", "cpp-lang"}),
        ("Objective-C for iOS apps.", set(), {"c-lang"}),
        ("Earn a grade of C or better in accounting.", set(), {"c-lang"}),
    ],
)
def test_c_is_a_language_only_among_languages(matcher, text, present, absent) -> None:
    got = topics_of(matcher, text)
    assert present <= got and not (absent & got), got


@pytest.mark.parametrize(
    ("text", "venues"),
    [
        ("Papers at ISCA, MICRO or HPCA.", {"ISCA", "MICRO", "HPCA"}),
        ("Publications at MICRO or PACT.", {"MICRO", "PACT"}),
        ("Comfortable with micro-level budgeting.", set()),
        ("Make an impact on our pact with suppliers.", set()),
        ("Run campaigns with micro influencers.", set()),
    ],
)
def test_venue_acronyms_are_case_sensitive(matcher, text, venues) -> None:
    assert set(matcher.venues_in(Statement(text, Section.PREFERRED, ()))) == venues


def test_hyphens_plurals_and_spellings_fold_together(matcher) -> None:
    a = topics_of(matcher, "Experience building energy-efficient AI systems.")
    b = topics_of(matcher, "Experience building energy efficient AI system.")
    c = topics_of(matcher, "Experience with the energy efficiency of AI systems.")
    assert "energy-sustainability" in a & b & c


def test_weights_follow_section_and_repetition(matcher) -> None:
    text = (
        "Responsibilities\n- Tune NCCL collectives for distributed training.\n"
        "Minimum Qualifications\n- Experience with PyTorch.\n- Strong PyTorch skills.\n"
        "Preferred Qualifications\n- Experience with CUDA kernels.\n"
    )
    match = matcher.match(parse_posting(text))
    weights = {topic.id: topic.weight for topic in match.topics}
    assert weights["pytorch-core"] == 6.0  # two minimum mentions
    assert weights["distributed-training"] == 1.0  # one responsibility
    assert weights["pytorch-core"] > weights["kernels-compilers"] > weights["distributed-training"]


def test_an_unrelated_job_gets_no_technical_topic(cli) -> None:
    result = cli("generate", str(NURSE), "--json")
    assert result.code == 0
    data = json.loads(result.out)
    assert all(not topic["technical"] for topic in data["topics"])
    plain = cli("generate", str(NURSE))
    assert "Not covered by any topic" in plain.out


def test_a_posting_with_nothing_to_match_says_so(cli, tmp_path: Path) -> None:
    posting = tmp_path / "bake.txt"
    posting.write_text("Baker wanted. Requirements: bake bread at 4am. Knead dough by hand.")
    result = cli("generate", str(posting))
    assert result.code == 0
    assert "No qualification matched any topic." in result.out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the posting is empty"),
        (b"\x00\x01\x02binary", "binary data"),
        (b"caf\xe9 au lait", "not UTF-8"),
    ],
)
def test_bad_posting_files_fail_in_one_line(cli, tmp_path: Path, content, message) -> None:
    posting = tmp_path / "job.txt"
    posting.write_bytes(content)
    result = cli("generate", str(posting))
    assert result.code == 1 and result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and str(posting) in lines[0] and message in lines[0]


def test_missing_and_folder_postings_fail_in_one_line(cli, tmp_path: Path) -> None:
    for target, message in ((tmp_path / "nope.txt", "no such file"), (tmp_path, "is a folder")):
        result = cli("generate", str(target))
        assert result.code == 1 and message in result.err and "Traceback" not in result.err


def test_generate_from_stdin(cli) -> None:
    result = cli("generate", "-", "--json", stdin="Requirements\n- Experience with PyTorch.\n")
    assert result.code == 0
    assert [t["id"] for t in json.loads(result.out)["topics"]] == ["pytorch-core"]


def test_out_writes_decks_that_validate_and_sync(cli, tmp_path: Path) -> None:
    out = tmp_path / "mydecks"
    result = cli("generate", str(EXAMPLE), "--out", str(out))
    assert result.code == 0, result.err
    files = sorted(p.name for p in out.glob("*.yaml"))
    assert any(name.startswith("practice-") for name in files)
    assert check_paths([out]).problems == ()
    again = cli("generate", str(EXAMPLE), "--out", str(out))
    assert again.code == 1 and "already exists" in again.err
    assert cli("generate", str(EXAMPLE), "--out", str(out), "--force").code == 0
    synced = cli("sync", str(out))
    assert synced.code == 0 and " added" in synced.out


def test_practice_questions_are_in_the_interviewers_voice(cli) -> None:
    from prepkit.posting.generate import practice_question

    assert practice_question("Degree must be completed prior to joining.", Section.MINIMUM) is None
    question = practice_question(
        "Experience developing and optimizing systems for at-scale machine learning execution.",
        Section.PREFERRED,
    )
    assert question is not None and question.startswith("The posting asks for experience")
    assert "Tell me about a time" in question


def test_init_records_the_posting_and_its_weights(cli, tmp_path: Path) -> None:
    result = cli("init", "--posting", str(EXAMPLE), "--interview", "2027-01-15", "--minutes", "45")
    assert result.code == 0, result.err
    assert result.out.startswith("posting added:")
    stats = json.loads(cli("stats", "--json").out)
    decks = {t["id"] for t in stats["topics"]}
    assert "distributed-training" in decks and any(d.startswith("practice-") for d in decks)
    again = cli("init", "--posting", str(EXAMPLE))
    assert "updated (already known)" in again.out

    from prepkit.workspace import open_workspace, topic_weights

    from .conftest import NOW

    with open_workspace(str(tmp_path / "cli.db"), NOW) as ws:
        weights = topic_weights(ws)
        settings_now = ws.settings()
    assert settings_now.interview_date == "2027-01-15" and settings_now.daily_minutes == 45
    first = dict(weights)
    other = tmp_path / "other.txt"
    other.write_text(
        "Minimum Qualifications\n- Experience with PyTorch and distributed training.\n"
    )
    assert cli("init", "--posting", str(other)).code == 0
    with open_workspace(str(tmp_path / "cli.db"), NOW) as ws:
        combined = topic_weights(ws)
    assert combined["pytorch-core"] == first["pytorch-core"] + 3.0
    assert combined["distributed-training"] == first["distributed-training"] + 3.0


def test_init_rejects_a_bad_date_without_touching_the_database(cli, tmp_path: Path) -> None:
    result = cli("init", "--posting", str(EXAMPLE), "--interview", "next tuesday")
    assert result.code == 1 and "--interview" in result.err
    assert not (tmp_path / "cli.db").exists()


def test_study_order_follows_the_posting_weights(cli) -> None:
    assert cli("init", "--posting", str(EXAMPLE)).code == 0
    result = cli("study", "--plain", stdin="4\n" * 6 + "q\n")
    decks = [line.split(" / ")[0][3:] for line in result.out.splitlines() if line.startswith("-- ")]
    data = json.loads(cli("generate", str(EXAMPLE), "--json").out)
    with_cards = [t["id"] for t in data["topics"] if t["cards"]]
    assert decks[0] == with_cards[0]  # the heaviest topic with cards comes first


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=2000))
def test_matching_arbitrary_text_never_raises(matcher, text) -> None:
    match = matcher.match(parse_posting(text))
    assert all(topic.weight > 0 for topic in match.topics)


def test_the_venue_deck_narrows_to_the_named_venues_plus_core(matcher) -> None:
    from prepkit.deck.model import Card, Deck, Kind, Library
    from prepkit.posting.generate import generate

    def card(card_id: str, tags: tuple[str, ...]) -> Card:
        return Card(card_id, "mlsys-venues", Kind.BASIC, f"About {card_id}?", "src 2024",
                    tags, back="x")  # fmt: skip

    deck = Deck(
        "mlsys-venues",
        "Venues",
        (
            card("v-isca", ("isca",)),
            card("v-micro", ("micro",)),
            card("v-neurips", ("neurips",)),
            card("v-sosp", ("sosp",)),
            card("v-general", ("conferences",)),
        ),
    )
    text = "Preferred Qualifications\n- Publications at ISCA or MICRO.\n"
    result = generate(text, matcher.taxonomy, Library((deck,)))
    kept = {c.id for d in result.decks for c in d.cards}
    assert kept == {"v-isca", "v-micro", "v-neurips", "v-general"}
