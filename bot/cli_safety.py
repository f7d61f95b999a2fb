"""Safety commands for coordinators: screen messages in bulk, list and check the help directory.

`register(app)` adds them to the `peerline` command line. Nothing here prints a message's text:
`screen` answers with labels and lexicon cue ids only, so its output can be shared safely.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from flows.safety.directory import KINDS, STALE_AFTER_DAYS, check_directory, load_directory
from flows.safety.layered import DangerScreen
from flows.safety.screening import LexiconError, Lexicons, load_lexicons


def register(app: typer.Typer) -> None:
    """Add `screen` and the `directory` sub-commands to the given app."""
    app.command("screen")(screen)
    directory = typer.Typer(
        help="The help directory: phone lines Peerline offers, per country.",
        no_args_is_help=True,
        add_completion=False,
    )
    directory.command("list")(list_services)
    directory.command("validate")(validate_directory)
    app.add_typer(directory, name="directory")


def screen(
    lexicons: Path = typer.Option(
        None, "--lexicons", help="Folder of lexicon *.yaml files (default: the shipped ones).",
        exists=True, file_okay=False, dir_okay=True,
    ),
    explain: bool = typer.Option(
        False, "--explain", help="Also list the lexicon phrases that fired (never the text)."
    ),
    model: bool = typer.Option(
        True, "--model/--no-model", help="Also use the sentence model (default) or lexicons only."
    ),
) -> None:  # fmt: skip
    """Screen JSON lines {"text": ...} from stdin; write {"label", "cues", "score", "source"}.

    ``source`` is the layer that flagged the message (lexicon, model or both; "" when none).
    A line that cannot be read gets {"error": ...} and the rest go on. An "id" field, when
    present, is copied to the answer so results can be matched to their messages.
    """
    try:
        matcher = load_lexicons(lexicons)
    except LexiconError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    layers = DangerScreen(lexicon_dir=lexicons, use_model=model)
    status = layers.load()
    if model and not status.loaded:
        typer.echo(f"warning: lexicons only, the sentence model is off: {status.detail}", err=True)
    for number, line in enumerate(sys.stdin, start=1):
        answer = _screen_line(layers, matcher, line, number, explain)
        typer.echo(json.dumps(answer, ensure_ascii=False))


def _screen_line(
    layers: DangerScreen, matcher: Lexicons, line: str, number: int, explain: bool
) -> dict[str, object]:
    """One answer object; error messages describe the problem, never quote the line."""
    if not line.strip():
        return {"error": f"line {number}: empty line"}
    try:
        message = json.loads(line)
    except json.JSONDecodeError as error:
        return {"error": f"line {number}: not valid JSON ({error.msg} at column {error.colno})"}
    if not isinstance(message, dict) or not isinstance(message.get("text"), str):
        return {"error": f"line {number}: expected an object with a string field 'text'"}
    verdict = layers.screen_many([message["text"]])[0]
    answer: dict[str, object] = {
        "label": verdict.label,
        "cues": list(verdict.cues),
        "score": verdict.score,
        "source": verdict.source,
    }
    if isinstance(message.get("id"), str | int) and not isinstance(message.get("id"), bool):
        answer = {"id": message["id"], **answer}
    if explain:
        answer["phrases"] = [phrase for _, phrase in matcher.explain(message["text"])]
    return answer


def list_services(
    country: str = typer.Option("PL", "--country", help="Country code, e.g. PL."),
    kind: list[str] = typer.Option(
        None, "--kind", help=f"Only services of this kind (repeatable): {', '.join(KINDS)}."
    ),
    region: str = typer.Option(None, "--region", help="Also show services of this region."),
    language: str = typer.Option(
        None, "--lang", help="Add the description in this language (en, pl, uk, ru, fa, ar)."
    ),
    directory_dir: Path = typer.Option(
        None, "--dir", help="Folder of directory *.yaml files (default: the shipped ones).",
        exists=True, file_okay=False, dir_okay=True,
    ),
) -> None:  # fmt: skip
    """List help services as a table, emergency lines first."""
    unknown = ", ".join(sorted(set(kind or ()) - set(KINDS)))
    if unknown:
        typer.echo(f"error: unknown kind {unknown} (known: {', '.join(KINDS)})", err=True)
        raise typer.Exit(2)
    try:
        services = load_directory(directory_dir).services(country, kind or None, region)
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    table = Table(title=f"Help services: {country.upper()}", show_lines=False)
    for column in ("Name", "Phone", "Hours", "Free", "Languages", "Kinds"):
        # A phone number broken over two lines gets misdialled.
        table.add_column(column, overflow="fold", no_wrap=column == "Phone")
    if language:
        table.add_column("Description", overflow="fold")
    for service in services:
        row = [
            service.name,
            service.phone,
            service.hours,
            "yes" if service.free else "no",
            ", ".join(service.languages),
            ", ".join(service.kinds),
        ]
        if language:
            row.append(service.description(language))
        table.add_row(*row)
    console = Console()
    console.print(table)
    if not services:
        console.print("No services match.")


def validate_directory(
    directory_dir: Path = typer.Argument(
        None, help="Folder of directory *.yaml files (default: the shipped ones)."
    ),
    stale_after_days: int = typer.Option(
        STALE_AFTER_DAYS, help="Warn about entries last checked longer ago than this."
    ),
) -> None:
    """Check the directory files: exit 0 with a summary, or 1 with one line per problem.

    Entries not checked for `--stale-after-days` are listed as warnings: call them again.
    """
    report = check_directory(directory_dir)
    if report.problems:
        for problem in report.problems:
            typer.echo(problem)
        raise typer.Exit(1)
    today = date.today()
    for service in report.services:
        if service.stale(today, stale_after_days):
            age = (today - service.verified).days
            typer.echo(
                f"warning: {service.country} {service.id}: last checked {service.verified} "
                f"({age} days ago); check it again and update `verified`"
            )
    typer.echo(f"ok: {len(report.services)} services in {report.files} files")
