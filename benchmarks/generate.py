"""Benchmark: posting -> decks, for a ~10 KB posting, including loading the taxonomy and library.

    python benchmarks/generate.py --json

The posting is the built-in example repeated to about 10 KB (so its sections repeat too: a worst
case for the matcher, which sees every statement several times). Prints the median of several
cold-ish runs of the whole path a `prepkit generate` takes after start-up: read the taxonomy,
parse, match, read the matched topics' decks, narrow them, write the practice questions.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bytes", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print JSON (the default output)")
    args = parser.parse_args(argv)

    from prepkit.config import library_dir
    from prepkit.deck.load import load_paths
    from prepkit.posting.generate import generate
    from prepkit.posting.taxonomy import parse_taxonomy

    library_path = library_dir()
    example = (library_path / "postings" / "example-ml-systems.txt").read_text()
    text = example
    while len(text.encode()) < args.bytes:
        text += "\n\n" + example
    text = text.encode()[: args.bytes].decode(errors="ignore")

    def once() -> tuple[float, float, Any]:
        started = time.perf_counter()
        taxonomy_path = library_path / "taxonomy.yaml"
        taxonomy = parse_taxonomy(taxonomy_path.read_text(), str(taxonomy_path))
        loaded = time.perf_counter()

        def decks_for(topic_ids: tuple[str, ...]) -> Any:  # as `prepkit generate` reads them
            files = [library_path / taxonomy.topic(topic).deck for topic in topic_ids]
            return load_paths([path for path in files if path.exists()])

        result = generate(text, taxonomy, decks_for)
        done = time.perf_counter()
        return (done - started) * 1000, (done - loaded) * 1000, result

    runs = [once() for _ in range(args.runs)]
    result = runs[0][2]
    print(
        json.dumps(
            {
                "posting_bytes": len(text.encode()),
                "statements": len(result.match.statements),
                "topics": len(result.match.topics),
                "cards": sum(len(deck.cards) for deck in result.decks),
                "total_ms": round(statistics.median(r[0] for r in runs), 2),
                "after_taxonomy_ms": round(statistics.median(r[1] for r in runs), 2),
                "runs": args.runs,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
