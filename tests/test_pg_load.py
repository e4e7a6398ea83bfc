"""50 learners answering at once on one PostgreSQL server: nothing lost, nothing doubled.

Runs benchmarks/learners.py as a learner group would run prepkit: 50 profiles on one database,
each with its own connection and study session, 20 answers each, all started together. The run
is bounded (its own timeout, and this test's); figures are printed, never asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import ROOT


def test_fifty_learners_answering_at_once_lose_nothing(pg_url: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "learners.py"),
            *("--db", pg_url, "--in-place", "--learners", "50", "--answers", "20"),
            *("--timeout", "120", "--json"),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads(result.stdout)
    print(json.dumps(figures))
    assert figures["backend"] == "postgresql"
    assert figures["answers"] == 50 * 20
    assert figures["errors"] == 0 and figures["error_lines"] == []
    assert (figures["lost"], figures["unexpected"], figures["reps_mismatched"]) == (0, 0, 0)
