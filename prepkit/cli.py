"""The command line: parse, call a service, print. Data to stdout, messages to stderr.

Exit codes: 0 ok, 1 an error named in one line (bad input, unusable database), 2 usage.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, TextIO

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


@contextmanager
def _progress_bar(description: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr for long work, only where a person watches (a terminal)."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@contextmanager
def _spinner(task: str) -> Iterator[Callable[[str], None]]:
    """A spinner on stderr naming the current step, only when stderr is a terminal: stdout
    carries the data, and a log file should not fill with redraws."""
    if not sys.stderr.isatty():
        yield lambda _: None
        return
    from rich.console import Console

    with Console(stderr=True).status(task) as status:
        yield lambda text: status.update(f"{task}: {text}")


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
        if _interactive():
            with _workspace() as ws:
                _run_tui(ws, "dashboard")
        else:
            _overview()


def _interactive() -> bool:
    """A person at a terminal: the full-screen app. Pipes and scripts get line mode."""
    return sys.stdin.isatty() and sys.stdout.isatty() and os.environ.get("TERM") != "dumb"


def _run_tui(ws: Any, start: str) -> None:
    from prepkit.tui.app import PrepkitApp, keymap_path, known_binding_ids
    from prepkit.tui.keymap import load_keymap

    keymap = load_keymap(keymap_path(), known_binding_ids)  # a bad file stops here
    PrepkitApp(ws, _now, start=start, keymap=keymap).run()


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
def decks_validate(paths: PathsArgument = None, as_json: JsonOption = False) -> None:
    """Check deck files; one line per problem, naming file:line."""
    from prepkit.deck.load import check_paths

    checked = check_paths(_library_paths(paths))
    if as_json:
        library = checked.library
        report = {
            "ok": not checked.problems,
            "decks": len(library.decks),
            "cards": library.card_count(),
            "problems": list(checked.problems),
        }
        print(json.dumps(report, indent=2))
        raise typer.Exit(1 if checked.problems else 0)
    if checked.problems:
        for problem in checked.problems:
            print(problem, file=sys.stderr)
        _err(f"{len(checked.problems)} problems")
        raise typer.Exit(1)
    library = checked.library
    print(f"ok: {len(library.decks)} decks, {library.card_count()} cards")


@decks_app.command("lint")
def decks_lint(paths: PathsArgument = None, as_json: JsonOption = False) -> None:
    """Card quality rules: long backs, near-duplicate fronts, numeric units and tolerances."""
    from prepkit.deck.lint import lint_library
    from prepkit.deck.load import load_paths

    library = load_paths(_library_paths(paths))
    findings = lint_library(library)
    if as_json:
        rows = [
            {"file": f.card.file, "line": f.card.line, "card": f.card.id, "rule": f.rule,
             "message": f.message}
            for f in findings
        ]  # fmt: skip
        print(json.dumps({"cards": library.card_count(), "findings": rows}, indent=2))
        raise typer.Exit(1 if findings else 0)
    for finding in findings:
        print(finding.line(), file=sys.stderr)
    if findings:
        _err(f"{len(findings)} findings in {library.card_count()} cards")
        raise typer.Exit(1)
    print(f"ok: {library.card_count()} cards pass lint")


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
    """Study today's cards: the full-screen reviewer, or line mode with --plain or in a pipe."""
    with _workspace() as ws:
        if plain or not _interactive():
            _run_plain(ws)
        else:
            _run_tui(ws, "study")


def _run_plain(ws: Any) -> None:
    from prepkit.plain import PlainSession
    from prepkit.study import StudySession

    with StudySession(ws, _now()) as session:
        counts = session.counts()
        _err(
            f"today: {counts.review} reviews, {counts.learning} learning, {counts.new} new. "
            "? for keys."
        )
        plain = PlainSession(session, _now, sys.stdin, sys.stdout)
        try:
            plain.run()
        except KeyboardInterrupt:
            _err(f"\ninterrupted; {session.answered} answered, all saved.")
    if plain.refused:  # said as they happened; a script learns it from the exit code too
        steps = "1 step was" if plain.refused == 1 else f"{plain.refused} steps were"
        raise PrepkitError(
            f"{steps} not saved: the database said {plain.last_refusal!r} (see prepkit doctor)"
        )


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


# -- postings ------------------------------------------------------------------------------------


def _read_posting(posting: str) -> tuple[str, str]:
    """(text, name) of a posting file, or of stdin for `-`."""
    from prepkit.postings import read_posting_bytes, read_posting_file

    if posting == "-":
        from prepkit.posting.parse import MAX_POSTING_BYTES

        raw = sys.stdin.buffer.read(MAX_POSTING_BYTES + 1)
        return read_posting_bytes(raw, "<stdin>"), "<stdin>"
    return read_posting_file(Path(posting)), posting


def _generate(posting: str) -> Any:
    from prepkit.postings import generate_for

    text, name = _read_posting(posting)
    return generate_for(text, name), text, name


PostingArgument = Annotated[str, typer.Argument(help="A posting file (text, Markdown, HTML) or -")]


@app.command()
def generate(
    posting: PostingArgument,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the chosen decks as editable YAML here.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite files in --out.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Read a job posting: its qualifications, the topics they ask for, and the gaps."""
    generation, _text, _name = _generate(posting)
    if out is not None:
        _write_decks(generation, out, force)
    if as_json:
        print(json.dumps(generation.to_json(), indent=2, ensure_ascii=False))
        return
    _print_coverage(generation)


def _write_decks(generation: Any, out: Path, force: bool) -> None:
    from prepkit.deck.write import dump_deck

    decks = [*generation.decks, *([generation.practice] if generation.practice else [])]
    if out.exists() and not out.is_dir():
        raise PrepkitError(f"{out}: exists and is not a folder")
    targets = [(out / f"{deck.id}.yaml", deck) for deck in decks]
    clash = next((path for path, _ in targets if path.exists()), None)
    if clash is not None and not force:
        raise PrepkitError(f"{clash}: already exists (use --force to overwrite)")
    out.mkdir(parents=True, exist_ok=True)
    header = f"Generated by prepkit from: {generation.title}\nEdit freely, then: prepkit sync {out}"
    for path, deck in targets:
        temporary = path.with_suffix(".yaml.tmp")
        temporary.write_text(dump_deck(deck, header), encoding="utf-8")
        temporary.replace(path)
    _err(f"wrote {len(targets)} decks to {out}")


def _print_coverage(generation: Any) -> None:
    match = generation.match
    print(generation.title or "(untitled posting)")
    print()
    if not match.topics:
        print("No qualification matched any topic.")
    else:
        print("Topics, heaviest first (weight: minimum 3, preferred 2, responsibilities 1 each):")
        cards = {deck.id: len(deck.cards) for deck in generation.decks}
        for topic in match.topics:
            have = f"{cards[topic.id]} cards" if topic.id in cards else "no deck yet"
            evidence = "; ".join(f'"{e}"' for e in topic.evidence[:3])
            print(f"  {topic.weight:5.1f}  {topic.id:<22} {have:<12} {evidence}")
    print()
    print("Qualifications:")
    for found in match.statements:
        topics = ", ".join(found.topics) if found.topics else "-"
        print(f"  [{found.statement.section}] {found.statement.text}")
        print(f"      -> {topics}")
    if match.unmatched:
        print()
        print(f"Not covered by any topic ({len(match.unmatched)}):")
        for text in match.unmatched:
            print(f"  - {text}")
    if match.venues or match.languages:
        print()
        if match.venues:
            print(f"Venues named: {', '.join(match.venues)}")
        if match.languages:
            print(f"Languages named: {', '.join(match.languages)}")
    if generation.missing:
        print()
        print(f"Matched topics with no deck in the library yet: {', '.join(generation.missing)}")
    if generation.practice:
        print()
        print(
            f"Practice: {len(generation.practice.cards)} questions from the posting "
            f"(deck {generation.practice.id})"
        )


@app.command()
def init(
    posting: Annotated[str, typer.Option("--posting", help="A posting file, or - for stdin.")],
    interview: Annotated[
        str | None, typer.Option("--interview", help="Interview date, YYYY-MM-DD.")
    ] = None,
    minutes: Annotated[
        int | None, typer.Option("--minutes", min=1, max=1440, help="Study minutes per day.")
    ] = None,
) -> None:
    """Prepare for a posting: pick its decks, load them, remember its weights and your date."""
    from datetime import date

    from prepkit.workspace import add_posting

    if interview is not None:
        try:
            date.fromisoformat(interview)
        except ValueError:
            raise PrepkitError(f"--interview: not a date (YYYY-MM-DD): {interview}") from None
    generation, text, name = _generate(posting)
    with _workspace() as ws:
        settings = ws.settings()
        changes: dict[str, Any] = {}
        if interview is not None:
            changes["interview_date"] = interview
        if minutes is not None:
            changes["daily_minutes"] = minutes
        report = add_posting(
            ws, generation, text, Path(name).name, _now(),
            settings.with_values(changes) if changes else None,
        )  # fmt: skip
    state = "added" if report.new else "updated (already known)"
    print(f"posting {state}: {report.title}")
    topics = ", ".join(f"{topic} {weight:g}" for topic, weight in report.topics[:8])
    more = f" and {len(report.topics) - 8} more" if len(report.topics) > 8 else ""
    print(f"topics: {topics}{more}" if topics else "no qualification matched any topic")
    print(report.sync.line())
    if generation.missing:
        print(f"no deck yet for: {', '.join(generation.missing)}")


@app.command()
def plan(
    interview: Annotated[
        str | None, typer.Option("--interview", help="Interview date, YYYY-MM-DD (else saved).")
    ] = None,
    minutes: Annotated[
        float | None, typer.Option("--minutes", min=0, max=1440, help="Study minutes a day.")
    ] = None,
    day: Annotated[
        list[str] | None,
        typer.Option("--day", help="A weekday's own minutes, e.g. --day sat=120 --day sun=0."),
    ] = None,
    save: Annotated[bool, typer.Option("--save", help="Keep these as your settings.")] = False,
    as_json: JsonOption = False,
) -> None:
    """The plan to the interview: new cards and reviews a day, minutes, predicted recall."""
    from prepkit.planning import interview_date, make_plan, parse_weekdays

    weekdays = parse_weekdays(day) if day else None
    when = interview_date(interview) if interview is not None else None
    with _workspace() as ws:
        settings = ws.settings()
        result = make_plan(ws, _now(), when, minutes, weekdays, settings)
        if save:
            changes: dict[str, Any] = {}
            if when is not None:
                changes["interview_date"] = when.isoformat()
            if minutes is not None:
                changes["daily_minutes"] = round(minutes)
            if weekdays is not None:
                changes["day_minutes"] = weekdays
            ws.save_settings(settings.with_values(changes))
    if as_json:
        print(json.dumps(_plan_json(result), indent=2))
        return
    _print_plan(result)


EXPORT_FORMATS = ("reviews-csv", "json", "md", "html", "apkg")


@app.command()
def export(
    format_: Annotated[
        str,
        typer.Option(
            "--format",
            help="reviews-csv (the review log, FSRS optimizer's columns), json (everything), "
            "md (a progress report), html (the report with charts, one self-contained file) "
            "or apkg (an Anki package; needs the anki extra).",
        ),
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write (default: standard output).")
    ] = None,
    deck: Annotated[str | None, typer.Option("--deck", help="Only this deck's cards.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only answers from this day, YYYY-MM-DD.")
    ] = None,
    with_history: Annotated[
        bool,
        typer.Option("--with-history", help="apkg: include review history and card states."),
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Write your progress for other tools (reviews-csv, apkg), for another prepkit (json), or
    as a report for a mentor (md, html)."""
    from prepkit.export import progress_json
    from prepkit.export.reviews_csv import write_reviews_csv
    from prepkit.exports import progress_document, review_rows, since_ms, write_file

    if format_ not in EXPORT_FORMATS:
        known = ", ".join(EXPORT_FORMATS)
        raise PrepkitError(f"--format {format_}: not one prepkit writes yet (it writes: {known})")
    if format_ in ("json", "md", "html") and (deck or since):
        raise PrepkitError(f"--format {format_}: is the whole progress (no --deck or --since)")
    if format_ == "apkg" and since:
        raise PrepkitError("--format apkg: exports cards (no --since; --with-history for answers)")
    if with_history and format_ != "apkg":
        raise PrepkitError("--with-history: only for --format apkg")
    if format_ == "apkg" and out is None:
        raise PrepkitError("--format apkg: a package is binary; give --out FILE.apkg")
    binary = False
    with _workspace() as ws, _spinner(f"exporting {format_}") as step:
        # Each format is a text and its row count, or a writer of rows to a stream.
        step("reading your progress")
        if format_ in ("md", "html"):
            from prepkit.export.report import markdown
            from prepkit.export.report_html import html_report
            from prepkit.reports import report_data

            render = markdown if format_ == "md" else html_report
            report = render(report_data(ws, _now()))
            write = _text_writer(report, len(report.splitlines()))
        elif format_ == "json":
            doc = progress_document(ws, _now())
            reviews = len(doc["tables"]["review"])  # type: ignore[index]
            write = _text_writer(progress_json.dumps(doc), reviews)
        elif format_ == "apkg":
            from prepkit.export.apkg import build_package
            from prepkit.exports import package_cards

            cards = package_cards(ws, deck, with_history)
            retention = ws.settings().desired_retention
            step(f"building the package of {len(cards)} cards")
            package = build_package(cards, _now_ms(), with_history, retention)
            write = _bytes_writer(package, len(cards))
            binary = True
        else:
            rows = review_rows(ws, deck, since_ms(ws, since))

            def write(stream: TextIO) -> int:
                return write_reviews_csv(rows, stream)

        step("writing")
        if out is None:
            write(sys.stdout)
            return
        count = write_file(out, write, force, binary=binary)
    summary = {"format": format_, "path": str(out), "rows": count}
    if as_json:
        print(json.dumps(summary, indent=2))
    elif format_ in ("md", "html"):
        print(f"report written to {out}")
    elif format_ == "apkg":
        history = " with their review history" if with_history else ""
        print(f"{count} cards{history} written to {out}")
    else:
        print(f"{count} reviews written to {out}")


def _now_ms() -> int:
    return int(_now().timestamp() * 1000)


def _text_writer(text: str, count: int) -> Callable[[TextIO], int]:
    def write(stream: TextIO) -> int:
        stream.write(text)
        return count

    return write


def _bytes_writer(data: bytes, count: int) -> Callable[[Any], int]:
    def write(stream: Any) -> int:
        stream.write(data)
        return count

    return write


@app.command("import")
def import_(
    file: Annotated[
        Path,
        typer.Argument(
            help="A prepkit progress file (.json), an Anki package (.apkg/.colpkg), an Anki "
            "text export or a Quizlet export (.txt/.csv/.tsv)."
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check the file and count; change nothing.")
    ] = False,
    term_sep: Annotated[
        str | None,
        typer.Option("--term-sep", help="Quizlet: the text between term and definition."),
    ] = None,
    row_sep: Annotated[
        str | None, typer.Option("--row-sep", help="Quizlet: the text between rows.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Bring in cards from Anki or Quizlet, or restore a prepkit progress file."""
    from prepkit.importing import file_kind

    try:  # the start is enough to tell a progress file; the import reads the file itself
        with file.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        head = b""
    kind = file_kind(file, head) if head else "text"
    if kind == "json":
        if term_sep or row_sep:
            raise PrepkitError(f"{file}: --term-sep/--row-sep are for text files")
        _import_progress(file, dry_run, as_json)
        return
    _import_cards(file, dry_run, _separator(term_sep), _separator(row_sep), as_json)


def _separator(value: str | None) -> str | None:
    """A separator as typed on a command line: \\t and \\n mean Tab and newline."""
    if value is None:
        return None
    if value == "":
        raise PrepkitError("--term-sep/--row-sep: cannot be empty")
    return value.replace("\\t", "\t").replace("\\n", "\n")


def _import_progress(file: Path, dry_run: bool, as_json: bool) -> None:
    from prepkit.exports import import_progress

    with _workspace() as ws:
        counts = import_progress(ws, file, _now(), dry_run=dry_run)
    if as_json:
        print(json.dumps({"file": str(file), "dry_run": dry_run, "rows": counts}, indent=2))
        return
    done = "would restore" if dry_run else "restored"
    print(
        f"{file}: {done} {counts['card']} cards, {counts['review']} reviews, "
        f"{counts['card_edit']} edits, {counts['posting']} postings"
    )


def _import_cards(
    file: Path, dry_run: bool, term_sep: str | None, row_sep: str | None, as_json: bool
) -> None:
    from prepkit.importing import import_cards

    with _workspace() as ws, _progress_bar("replaying review history") as progress:
        result = import_cards(
            ws, file, _now(), dry_run=dry_run, term_separator=term_sep,
            row_separator=row_sep, progress=progress,
        )  # fmt: skip
    if as_json:
        print(json.dumps(result.to_json(), indent=2))
        return
    verb = "would import" if dry_run else "imported"
    line = (
        f"{file}: {verb} {result.new} new, {result.updated} updated, "
        f"{result.duplicate} duplicate, {result.skipped} skipped"
    )
    if result.reviews:
        line += f"; {result.reviews} reviews of history"
    print(line)
    for why in result.skipped_why[:5]:
        _err(f"  skipped {why}")
    if result.backup:
        _err(f"backup of the database before the import: {result.backup}")


@app.command()
def optimize(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Fit and evaluate; save nothing.")
    ] = False,
    reset: Annotated[
        bool, typer.Option("--reset", help="Go back to FSRS's default parameters.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Fit FSRS parameters to your reviews; adopt them only if they predict your later reviews
    better than the defaults (judged on the later half of your history)."""
    from prepkit import optimizing

    if reset:
        if dry_run:
            raise PrepkitError("--reset and --dry-run: choose one")
        with _workspace() as ws:
            had = optimizing.reset(ws)
        message = "back to FSRS's default parameters" if had else "already on the defaults"
        if as_json:
            print(json.dumps({"reset": had}, indent=2))
            _err(message)
        else:
            print(message)
        return
    with _workspace() as ws, _spinner("optimizing") as step:
        result = optimizing.optimize(ws, dry_run=dry_run, step=step)
    summary = _optimize_json(result, dry_run)
    if as_json:
        print(json.dumps(summary, indent=2))
        _err(summary["verdict"])
        return
    _print_optimize(result, summary["verdict"])


def _optimize_json(result: Any, dry_run: bool) -> dict[str, Any]:
    from prepkit.schedule.optimize import relative_change

    def metrics(m: Any) -> dict[str, Any]:
        return {"log_loss": round(m.log_loss, 4), "rmse_bins": round(m.rmse_bins, 4)}

    if not result.adopted:
        verdict = "kept the defaults (fitted parameters were not better)"
    elif dry_run:
        verdict = "would adopt the fitted parameters (--dry-run: nothing saved)"
    else:
        verdict = "adopted the fitted parameters"
    return {
        "reviews": result.reviews,
        "cards": result.cards,
        "scored_reviews": result.default.reviews,
        "defaults": metrics(result.default),
        "fitted": metrics(result.fitted),
        "change": {
            "log_loss": round(relative_change(result.default.log_loss, result.fitted.log_loss), 4),
            "rmse_bins": round(
                relative_change(result.default.rmse_bins, result.fitted.rmse_bins), 4
            ),
        },
        "adopted": result.adopted,
        "saved": result.adopted and not dry_run,
        "parameters": list(result.parameters) if result.parameters else None,
        "verdict": verdict,
    }


def _print_optimize(result: Any, verdict: str) -> None:
    from prepkit.schedule.optimize import relative_change

    d, f = result.default, result.fitted
    print(
        f"judged on the later half of {result.reviews} reviews: {d.reviews} answers a day or "
        "more after the card's previous one"
    )
    print(f"{'':10}{'log loss':>10}{'RMSE(bins)':>12}")
    print(f"{'defaults':10}{d.log_loss:>10.4f}{d.rmse_bins:>12.4f}")
    print(f"{'fitted':10}{f.log_loss:>10.4f}{f.rmse_bins:>12.4f}")
    change_ll = relative_change(d.log_loss, f.log_loss)
    change_rmse = relative_change(d.rmse_bins, f.rmse_bins)
    print(f"{'change':10}{change_ll:>+10.1%}{change_rmse:>+12.1%}")
    print(verdict)


@app.command()
def backup(as_json: JsonOption = False) -> None:
    """Back the database up now (backups/ beside it; older backups are thinned like Anki's)."""
    from prepkit import backups

    with _workspace() as ws:
        path = backups.backup(ws, _now(), "manual")
    if path is None:
        raise PrepkitError("backup works on a SQLite database file (use the server's tools)")
    if as_json:
        print(json.dumps({"backup": str(path)}, indent=2))
    else:
        print(f"backup written to {path}")


@app.command()
def restore(
    file: Annotated[Path, typer.Argument(help="A backup (see the backups/ folder).")],
    as_json: JsonOption = False,
) -> None:
    """Replace the database with a backup, once the backup passes SQLite's integrity check; the
    database as it was is backed up first."""
    from prepkit import backups

    saved = backups.restore(resolve_db(_state.db), file, _now())
    with _workspace():
        pass  # opens it: a backup from an older prepkit is migrated now, not mid-session
    if as_json:
        print(json.dumps({"restored": str(file), "previous": str(saved) if saved else None}))
        return
    print(f"restored {file}")
    if saved:
        _err(f"the database before the restore: {saved}")


@app.command()
def doctor(
    repair: Annotated[
        bool, typer.Option("--repair", help="Fix what can be fixed safely (after a backup).")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Check the database and every card's state against its review log; exit 1 on problems."""
    from prepkit import doctor as checks

    with _workspace() as ws:
        report = checks.repair(ws, _now()) if repair else checks.examine(ws)
    if as_json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        for line in report.repaired:
            print(f"repaired: {line}")
        if report.backup:
            print(f"backup before the repair: {report.backup}")
        for problem in report.problems:
            fix = "" if repair or not problem.repairable else " [--repair fixes it]"
            print(f"problem: {problem.line()}{fix}")
        if report.healthy:
            print(
                f"ok: {report.checked_cards} cards and {report.checked_reviews} answers checked; "
                "every state matches its review log"
            )
    if not report.healthy:
        raise typer.Exit(1)


def _plan_json(result: Any) -> dict[str, Any]:
    return {
        "interview": result.interview.isoformat(),
        "feasible": result.feasible,
        "expected_recall": round(result.expected_recall, 4),
        "minutes_per_day": round(result.minutes_per_day, 1),
        "max_minutes_day": round(result.max_minutes_day, 1),
        "introduced": result.introduced,
        "total": result.total,
        "new_per_day": result.new_per_day,
        "options": {
            "minutes_to_cover_all": result.minutes_to_cover_all,
            "later_date": result.later_date.isoformat() if result.later_date else None,
            "drop_topics_up_to_weight": result.drop_topics_weight,
        },
        "days": [
            {
                "date": d.date.isoformat(),
                "new": len(d.new),
                "reviews": round(d.expected_reviews, 1),
                "minutes": round(d.minutes, 1),
                "budget": d.budget,
            }
            for d in result.days
        ],
    }


def _print_plan(result: Any) -> None:
    days = len(result.days)
    print(
        f"Interview {result.interview:%a %d %b %Y}: {days} study day{'s' if days != 1 else ''} "
        f"left. Predicted recall on the morning: {result.expected_recall:.0%} "
        "(weighted by the posting; cards never studied count 0)."
    )
    budget = result.days[0].budget if result.days else 0
    if result.feasible:
        print(
            f"Every card ({result.total}) is studied by then: up to {result.new_per_day} new a "
            f"day, {result.minutes_per_day:.0f} min a day on average."
        )
    else:
        print(
            f"At {budget:g} min/day you can introduce {result.introduced} of {result.total} "
            "cards. To cover all:"
        )
        if result.minutes_to_cover_all is not None:
            print(
                f"  - {result.minutes_to_cover_all:g} min/day covers all (prepkit plan --minutes)"
            )
        if result.later_date is not None:
            print(f"  - or an interview on {result.later_date.isoformat()} at today's minutes")
        if result.drop_topics_weight is not None:
            print(
                f"  - or leave out the topics of weight {result.drop_topics_weight:g} or less "
                "(suspend them in the browser)"
            )
    print()
    print("day          new  reviews  minutes")
    width = 30
    scale = max([d.budget for d in result.days] + [d.minutes for d in result.days] + [1])
    for d in result.days:
        bar = "█" * round(d.minutes / scale * width)
        room = "·" * max(0, round(d.budget / scale * width) - len(bar))
        print(
            f"{d.date:%a %d %b}  {len(d.new):>4}  {d.expected_reviews:>7.0f}  "
            f"{d.minutes:>4.0f}/{d.budget:<4g}{bar}{room}"
        )


@app.command()
def demo() -> None:
    """Try prepkit on a throwaway workspace made from the example posting."""
    from prepkit.deck.load import load_paths
    from prepkit.workspace import add_posting, open_workspace, sync_library

    example = library_dir() / "postings" / "example-ml-systems.txt"
    with tempfile.TemporaryDirectory(prefix="prepkit-demo-") as folder:
        db = str(Path(folder) / "demo.db")
        with open_workspace(db, _now(), profile=_state.profile) as ws:
            if example.exists():
                generation, text, _name = _generate(str(example))
                _print_coverage(generation)
                print()
                # An interview three weeks out, so the demo shows the plan as well.
                interview = (_now() + timedelta(days=21)).date().isoformat()
                settings = ws.settings().with_values({"interview_date": interview})
                report = add_posting(ws, generation, text, example.name, _now(), settings)
                _err(f"demo workspace {db}: {report.sync.line()}")
            else:
                sync = sync_library(ws, load_paths([library_dir()]), _now())
                _err(f"demo workspace {db}: {sync.line()}")
            if _interactive():
                _run_tui(ws, "dashboard")
            else:
                _run_plain(ws)
    _err(
        "That was a throwaway workspace. To start your own: "
        "prepkit init --posting YOUR_POSTING.txt --interview YYYY-MM-DD"
    )


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
    except Exception as exc:
        from prepkit.workspace import database_failure

        message = database_failure(exc)
        if message is None:
            raise
        _err(f"prepkit: {message}")
        sys.exit(1)
