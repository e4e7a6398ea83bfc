"""Every importer, fed arbitrary and damaged files: a file is read or refused with one line
naming it, and nothing else escapes (no traceback reaches the learner)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prepkit.export.anki_text import read_text
from prepkit.export.apkg_read import read_package
from prepkit.export.foreign import ImportFileError

from .anki_files import anki_packages, zip_bytes

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def refused_cleanly(read, data: bytes, label: str) -> None:
    try:
        read(data)
    except ImportFileError as err:
        message = str(err)
        assert message.startswith(label) and "\n" not in message, message


@FUZZ
@given(st.binary(max_size=4000))
def test_any_bytes_as_a_text_file(data: bytes) -> None:
    refused_cleanly(lambda d: read_text(d, "f.txt", "f"), data, "f.txt")


@FUZZ
@given(st.text(max_size=600), st.sampled_from(["\t", ";", ",", "|", " - "]))
def test_any_text_with_headers_or_separators(text: str, sep: str) -> None:
    header = "#separator:tab\n#html:true\n#guid column:1\n#tags column:3\n"
    refused_cleanly(lambda d: read_text(d, "f.txt", "f"), (header + text).encode(), "f.txt")
    refused_cleanly(lambda d: read_text(d, "f.txt", "f", sep, None), text.encode(), "f.txt")
    refused_cleanly(lambda d: read_text(d, "f.txt", "f", None, sep), text.encode(), "f.txt")


@FUZZ
@given(st.binary(max_size=4000))
def test_any_bytes_as_a_package(data: bytes) -> None:
    refused_cleanly(lambda d: read_package(d, "f.apkg"), b"PK\x03\x04" + data, "f.apkg")


class Files(dict[str, bytes]):
    """Real files, shown by name in a failure report (not as megabytes of bytes)."""

    def __repr__(self) -> str:
        return f"Files({sorted(self)})"


@pytest.fixture(scope="module")
def collections(tmp_path_factory: pytest.TempPathFactory) -> Files:
    pytest.importorskip("anki", reason="Anki's backend writes the packages mutated here")
    packages = anki_packages(tmp_path_factory.mktemp("fuzz"))
    out = Files()
    for name in ("latest", "legacy2"):
        with zipfile.ZipFile(packages[name]) as archive:
            out[name] = Path(packages[name]).read_bytes()
            if name == "legacy2":
                out["collection"] = archive.read("collection.anki21")
    return out


@FUZZ
@given(data=st.data())
def test_damaged_packages_and_collections(collections: dict[str, bytes], data) -> None:
    """Bytes flipped in a real package, and in its SQLite collection before zipping: the
    schema and JSON inside are then as damaged as the container."""
    for name in ("latest", "legacy2", "collection"):
        original = bytearray(collections[name])
        for _ in range(data.draw(st.integers(1, 8))):
            at = data.draw(st.integers(0, len(original) - 1))
            original[at] = data.draw(st.integers(0, 255))
        damaged = bytes(original)
        if name == "collection":
            damaged = zip_bytes({"collection.anki21": damaged, "media": b"{}"})
        refused_cleanly(lambda d: read_package(d, "f.apkg"), damaged, "f.apkg")


# -- the progress file ----------------------------------------------------------------------------

PROGRESS_COLUMNS = {
    "card": [("id", "int", False), ("key", "str", False), ("stability", "float", True)],
    "review": [("id", "int", False), ("card_id", "int", False), ("rating", "int", False)],
}
VALID_PROGRESS = (
    '{"format": "prepkit-progress", "version": 1, "schema": "0003", "exported_at": "x",'
    ' "tables": {"card": [{"id": 1, "key": "k", "stability": 2.5}],'
    ' "review": [{"id": 1, "card_id": 1, "rating": 3}]}}'
)


def progress_refused_cleanly(text: str) -> None:
    from prepkit.export.progress_json import ProgressFileError, read

    try:
        read(text, PROGRESS_COLUMNS)
    except ProgressFileError as err:
        assert "\n" not in str(err), str(err)


def test_the_fuzzing_seed_is_a_valid_progress_file() -> None:
    from prepkit.export.progress_json import FORMAT, read

    assert FORMAT == "prepkit-progress"
    assert read(VALID_PROGRESS, PROGRESS_COLUMNS)["review"][0]["rating"] == 3


@FUZZ
@given(st.text(max_size=1500))
def test_any_text_as_a_progress_file(text: str) -> None:
    progress_refused_cleanly(text)


@FUZZ
@given(st.data())
def test_mutated_progress_files(data) -> None:
    text = list(VALID_PROGRESS)
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(text) - 1))
        text[at] = data.draw(st.sampled_from(list('{}[]",:0123456789.-enulltrufalse ')))
    progress_refused_cleanly("".join(text))


@FUZZ
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
        max_leaves=20,
    )
)
def test_any_json_value_in_a_table(value: object) -> None:
    """Wrong shapes where rows and cells should be: refused with a message, never a crash."""
    import json

    doc = json.loads(VALID_PROGRESS)
    doc["tables"]["card"] = value
    progress_refused_cleanly(json.dumps(doc))
    doc = json.loads(VALID_PROGRESS)
    doc["tables"]["review"][0]["rating"] = value
    progress_refused_cleanly(json.dumps(doc))
