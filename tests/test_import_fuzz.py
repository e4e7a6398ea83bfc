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
