"""The command line: parse, call a service, print. Data to stdout, messages to stderr.

Exit codes: 0 ok, 1 an error named in one line (bad input, unusable database), 2 usage.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from prepkit import clock
from prepkit.config import library_dir, resolve_db
from prepkit.errors import DeckError, PrepkitError

app = typer.Typer(
    help="Interview preparation from a job posting, with FSRS spaced repetition.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
decks_app = typer.Typer(help="Check and list card decks.", add_completion=False)
app.add_typer(decks_app, name="decks")

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database: a file path or SQLAlchemy URL (default: PREPKIT_DB, then the "
        "user data dir).",
    ),
]
ProfileOption = Annotated[
    str, typer.Option("--profile", envvar="PREPKIT_PROFILE", help="Learner profile.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]
PathsArgument = Annotated[
    list[Path] | None,
    typer.Argument(help="Deck files or folders (default: the built-in library)."),
]


class _State:
    db: str | None = None
    profile: str = "default"


_state = _State()


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _now() -> datetime:
    return clock.now()


def _workspace() -> Any:
    from prepkit.workspace import open_workspace

    return open_workspace(resolve_db(_state.db), _now(), profile=_state.profile)


def _library_paths(paths: list[Path] | None) -> list[Path]:
    return list(paths) if paths else [library_dir()]


@app.callback(invoke_without_command=True)
def _main(
    ctx: typer.Context,
    db: DbOption = None,
    profile: ProfileOption = "default",
) -> None:
    _state.db = db
    _state.profile = profile
    if ctx.invoked_subcommand is None:
        _overview()


def _overview() -> None:
    from prepkit.workspace import stats

    with _workspace() as ws:
        summary = stats(ws, _now())
    print(
        f"{summary.cards} cards in {len(summary.topics)} decks: {summary.due} due today, "
        f"{summary.new} new, {summary.reviews} reviews so far."
    )
    _err("prepkit study --plain  to study; prepkit --help  for every command.")


# -- decks ---------------------------------------------------------------------------------------


@decks_app.command("validate")
def decks_validate(paths: PathsArgument = None) -> None:
    """Check deck files; one line per problem, naming file:line."""
    from prepkit.deck.load import check_paths

    checked = check_paths(_library_paths(paths))
    if checked.problems:
        for problem in checked.problems:
            print(problem, file=sys.stderr)
        _err(f"{len(checked.problems)} problems")
        raise typer.Exit(1)
    library = checked.library
    print(f"ok: {len(library.decks)} decks, {library.card_count()} cards")


@decks_app.command("list")
def decks_list(paths: PathsArgument = None, as_json: JsonOption = False) -> None:
    """List decks with their card counts by kind."""
    from prepkit.deck.load import load_paths

    library = load_paths(_library_paths(paths))
    rows: list[dict[str, Any]] = [
        {
            "id": deck.id,
            "title": deck.title,
            "cards": len(deck.cards),
            "kinds": dict(sorted(Counter(str(card.kind) for card in deck.cards).items())),
            "file": deck.file,
        }
        for deck in library.decks
    ]
    if as_json:
        print(json.dumps({"decks": rows}, indent=2))
        return
    width = max((len(row["id"]) for row in rows), default=4)
    for row in rows:
        kinds = ", ".join(f"{k} {n}" for k, n in row["kinds"].items())
        print(f"{row['id']:<{width}}  {row['cards']:>5}  {row['title']}  ({kinds})")


# -- sync, study, stats --------------------------------------------------------------------------


@app.command()
def sync(paths: PathsArgument = None) -> None:
    """Load decks into the database: new cards added, edits applied, history kept."""
    from prepkit.deck.load import load_paths
    from prepkit.workspace import sync_library

    library = load_paths(_library_paths(paths))  # a broken deck stops here: nothing written
    with _workspace() as ws:
        report = sync_library(ws, library, _now())
    print(report.line())


@app.command()
def study(
    plain: Annotated[
        bool, typer.Option("--plain", help="Line-mode session on stdin/stdout.")
    ] = False,
) -> None:
    """Study today's cards (line mode until the full-screen reviewer lands)."""
    with _workspace() as ws:
        _run_plain(ws)


def _run_plain(ws: Any) -> None:
    from prepkit.plain import PlainSession
    from prepkit.study import StudySession

    with StudySession(ws, _now()) as session:
        counts = session.counts()
        _err(
            f"today: {counts.review} reviews, {counts.learning} learning, {counts.new} new. "
            "? for keys."
        )
        try:
            PlainSession(session, _now, sys.stdin, sys.stdout).run()
        except KeyboardInterrupt:
            _err(f"\ninterrupted; {session.answered} answered, all saved.")


@app.command()
def stats(as_json: JsonOption = False) -> None:
    """Card and review counts, per topic."""
    from prepkit.workspace import stats as compute

    with _workspace() as ws:
        summary = compute(ws, _now())
    if as_json:
        print(json.dumps(summary.to_json(), indent=2))
        return
    print(
        f"cards {summary.cards}  new {summary.new}  learning {summary.learning}  "
        f"review {summary.review}  due {summary.due}  suspended {summary.suspended}  "
        f"reviews {summary.reviews} (today {summary.reviews_today})"
    )
    for topic in summary.topics:
        print(f"  {topic.id:<24} {topic.reviewed:>5}/{topic.cards:<5} reviewed  {topic.due} due")


@app.command()
def demo() -> None:
    """Try prepkit on a throwaway workspace built from the built-in library."""
    from prepkit.deck.load import load_paths
    from prepkit.workspace import open_workspace, sync_library

    library = load_paths([library_dir()])
    with tempfile.TemporaryDirectory(prefix="prepkit-demo-") as folder:
        db = str(Path(folder) / "demo.db")
        with open_workspace(db, _now(), profile=_state.profile) as ws:
            report = sync_library(ws, library, _now())
            _err(f"demo workspace {db}: {report.line()}")
            _run_plain(ws)


def main() -> None:
    """Entry point: user errors become one line on stderr and exit code 1.

    Click's standalone mode already turns usage errors into exit code 2 with a usage line.
    """
    try:
        app()
    except DeckError as exc:
        for problem in exc.problems:
            _err(problem)
        sys.exit(1)
    except PrepkitError as exc:
        _err(f"prepkit: {exc}")
        sys.exit(1)
