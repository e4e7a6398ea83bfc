"""Coverage-guided fuzzing of every reader of a learner's files (tests/atheris_fuzz.py).

Each target runs in its own process (libFuzzer ends the process it runs in) from seed files a
learner could really hand prepkit, for a fixed number of inputs and a fixed seed, so a failure
is reproducible. The run fails if any input makes a reader raise anything but its one-line
refusal; libFuzzer prints the traceback and the input.
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("atheris", reason="atheris is in the test extra on Linux x86_64 only")

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RUNS = 20_000  # inputs per target: 2-20 s each on this project's 2-core machine


def _package_seed(folder: Path) -> Path:
    import genanki

    model = genanki.Model(
        1_607_392_319,
        "Basic",
        fields=[{"name": "Front"}, {"name": "Back"}],
        templates=[{"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{Back}}"}],
    )
    deck = genanki.Deck(2_059_400_110, "Seed")
    for i in range(3):
        deck.add_note(genanki.Note(model=model, fields=[f"Q{i} <b>x</b>", f"A{i}"], tags=["t"]))
    path = folder / "seed.apkg"
    genanki.Package(deck).write_to_file(str(path))
    return path


def _seeds(target: str, folder: Path, cli, deck_dir: Path) -> Path:
    corpus = folder / target
    corpus.mkdir()
    if target == "posting":
        for posting in sorted((HERE / "data" / "postings").iterdir())[:4]:
            (corpus / posting.name).write_bytes(posting.read_bytes())
    elif target == "deck":
        (corpus / "small.yaml").write_bytes((deck_dir / "small.yaml").read_bytes())
        (corpus / "c.yaml").write_bytes((ROOT / "decks" / "c-lang.yaml").read_bytes())
    elif target == "anki-text":
        (corpus / "notes.txt").write_text(
            "#separator:tab\n#html:true\n#tags column:3\n"
            "What is <b>HBM</b>?\tHigh-bandwidth memory\tgpu hw\nfront two\tback two\t\n"
        )
    elif target in ("package", "collection"):
        package = _package_seed(folder)
        if target == "package":
            (corpus / "seed.apkg").write_bytes(package.read_bytes())
        else:
            with zipfile.ZipFile(package) as archive:
                (corpus / "seed").write_bytes(archive.read("collection.anki2"))
    else:  # progress: a real export of a learner's answers
        assert cli("sync", str(deck_dir)).code == 0
        assert cli("study", "--plain", stdin="3\n1\n4\nq\n").code == 0
        out = corpus / "progress.json"
        assert cli("export", "--format", "json", "--out", str(out)).code == 0
    return corpus


@pytest.mark.parametrize(
    "target", ["posting", "deck", "anki-text", "package", "collection", "progress"]
)
def test_no_input_makes_a_reader_fail_other_than_in_one_line(
    target: str, tmp_path: Path, cli, deck_dir: Path
) -> None:
    corpus = _seeds(target, tmp_path, cli, deck_dir)
    done = subprocess.run(
        [
            sys.executable,
            str(HERE / "atheris_fuzz.py"),
            target,
            f"-runs={RUNS}",
            "-seed=20261128",
            "-max_len=65536",
            "-rss_limit_mb=1024",
            f"-artifact_prefix={tmp_path}/",  # a failing input lands here, not in the checkout
            str(corpus),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, report[-4000:]
    final = re.search(r"#(\d+)\s+DONE\s+cov: (\d+) ft: (\d+) corp: (\d+)", report)
    assert final is not None, report[-2000:]
    runs, edges, features, kept = map(int, final.groups())
    assert runs >= RUNS
    print(
        f'{{"fuzz_target": "{target}", "inputs": {runs}, "edges": {edges}, '
        f'"features": {features}, "corpus": {kept}}}'
    )
