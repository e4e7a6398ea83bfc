"""Topic-level precision and recall of the matcher against hand-labelled postings.

The postings and labels in tests/data/postings/ were written independently of the matcher (by
a different author, before seeing the taxonomy). The figures are printed for the log and held to
the bar the project set: precision and recall >= 0.9 over all postings, and no technical topic at
all for the unrelated jobs.
"""

from __future__ import annotations

import pytest
import yaml

from prepkit.posting.match import Matcher
from prepkit.posting.parse import parse_posting, posting_text
from prepkit.posting.taxonomy import parse_taxonomy

from .conftest import DATA, LIBRARY

POSTINGS = DATA / "postings"
LABELS = yaml.safe_load((POSTINGS / "labels.yaml").read_text())["postings"]


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    taxonomy_path = LIBRARY / "taxonomy.yaml"
    return Matcher(parse_taxonomy(taxonomy_path.read_text(), str(taxonomy_path)))


def predicted(matcher: Matcher, file: str) -> set[str]:
    path = (POSTINGS / file).resolve()
    posting = parse_posting(posting_text(path.read_bytes(), str(path)))
    return set(matcher.match(posting).topic_ids())


def test_precision_and_recall_on_the_labelled_postings(matcher: Matcher) -> None:
    true_positive = false_positive = false_negative = 0
    report = []
    for entry in LABELS:
        want = set(entry["topics"])
        got = predicted(matcher, entry["file"])
        true_positive += len(want & got)
        false_positive += len(got - want)
        false_negative += len(want - got)
        report.append(f"{entry['file']}: +{sorted(got - want)} -{sorted(want - got)}")
    precision = true_positive / (true_positive + false_positive)
    recall = true_positive / (true_positive + false_negative)
    print(f"\nprecision {precision:.3f} recall {recall:.3f}\n" + "\n".join(report))
    assert precision >= 0.9, report
    assert recall >= 0.9, report


@pytest.mark.parametrize(
    "entry", [e for e in LABELS if e["kind"] == "unrelated"], ids=lambda e: e["file"]
)
def test_unrelated_jobs_get_no_technical_topic(matcher: Matcher, entry) -> None:
    technical = {t.id for t in matcher.taxonomy.topics if t.technical}
    assert predicted(matcher, entry["file"]) & technical == set()


@pytest.mark.parametrize("entry", [e for e in LABELS if e["venues"]], ids=lambda e: e["file"])
def test_named_venues_are_found(matcher: Matcher, entry) -> None:
    path = (POSTINGS / entry["file"]).resolve()
    posting = parse_posting(posting_text(path.read_bytes(), str(path)))
    known = {venue.acronym for venue in matcher.taxonomy.venues}
    want = {venue for venue in entry["venues"] if venue in known}
    assert want <= set(matcher.match(posting).venues)
