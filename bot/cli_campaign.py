"""Campaign commands: write a campaign from a YAML file, send it, and follow how it goes.

`send` may be stopped at any moment and run again: whoever already has the campaign is skipped.
"""

from pathlib import Path
from typing import Any

import typer
import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import select

from bot.cli_base import run_in_session
from bot.cli_steering import add_steering, parse_send_at
from bot.clock import SystemClock
from flows.outreach.campaigns import (
    FALLBACK_KEY,
    CampaignError,
    audience_left,
    broadcast_rates,
    create_campaign,
    enqueue_campaign,
    fallbacks,
    queued_so_far,
    validate_texts,
)
from models import Campaign, CampaignStatus

campaign_app = typer.Typer(help="Information campaigns to everyone who agreed to receive news.",
                           no_args_is_help=True)  # fmt: skip

TEMPLATE_CHARS = 1000  # WhatsApp template bodies hold 1024 characters, the footer included


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def _read_texts(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise _fail(f"cannot read {path.name}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise _fail(f"{path.name} is not UTF-8 text") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise _fail(f"{path.name} is not valid YAML{where}") from None


@campaign_app.command("create")
def create(
    name: str = typer.Argument(..., help="A short name for coordinators, e.g. 'Safe at home'."),
    file: Path = typer.Option(
        ...,
        "--file",
        "-f",
        help="YAML: {en: ..., pl: ..., fallback: {fa: en}}; every language a text or a fallback.",
    ),  # fmt: skip
    role: list[str] = typer.Option([], "--role", help="Only these roles (seeker, supporter...)."),
    language: list[str] = typer.Option([], "--language", help="Only women using these languages."),
    channel: list[str] = typer.Option([], "--channel", help="Only telegram or whatsapp."),
    active_days: int | None = typer.Option(None, help="Only women who wrote in the last N days."),
    send_at: str | None = typer.Option(
        None,
        help="Not before this time, e.g. '2026-12-03 10:00' (deployment's zone); each "
        "woman then gets it within her own hours.",
    ),
) -> None:
    """Store a campaign as a draft; nothing is sent until `campaign send ID`."""
    segment = {"roles": role, "languages": language, "channels": channel,
               "active_days": active_days}  # fmt: skip

    texts = _read_texts(file)
    try:
        written = {k: v for k, v in validate_texts(texts).items() if k in texts}
        instead = fallbacks(written, texts.get(FALLBACK_KEY))
    except CampaignError as error:
        raise _fail(str(error)) from None

    async def work(session: Any, settings: Any) -> int:
        when = parse_send_at(send_at, settings.timezone)
        campaign = await create_campaign(session, name, texts, SystemClock().now(),
                                         segment=segment, send_at=when)  # fmt: skip
        await session.commit()
        return campaign.id

    try:
        campaign_id = run_in_session(work, transaction=False)
    except CampaignError as error:
        raise _fail(str(error)) from None
    others = "".join(f"; {lang} gets {to}" for lang, to in instead.items())
    typer.echo(f"campaign {campaign_id} created ({', '.join(sorted(written))}{others}); "
               f"send it with: peerline campaign send {campaign_id}")  # fmt: skip
    long = [lang for lang, text in written.items() if len(text) > TEMPLATE_CHARS]
    if long:
        # Outside her 24-hour window WhatsApp takes only an approved template, whose body is
        # limited; Telegram is not affected.
        typer.echo(f"note: the {', '.join(long)} text is longer than {TEMPLATE_CHARS} characters;"
                   " WhatsApp may refuse it as a template outside the 24-hour window")  # fmt: skip


@campaign_app.command("send")
def send(campaign_id: int = typer.Argument(..., help="The campaign's number.")) -> None:
    """Queue the campaign to everyone who agreed to news; safe to run again after a crash."""

    async def work(session: Any, settings: Any) -> tuple[int, int, bool]:
        campaign = await session.get(Campaign, campaign_id)
        if campaign is None:
            raise CampaignError(f"there is no campaign {campaign_id}; see `peerline campaign list`")
        was_sent = campaign.status == CampaignStatus.SENT
        before = await queued_so_far(session, campaign_id)
        total = 0 if was_sent else await audience_left(session, campaign_id)
        await session.commit()
        columns = (TextColumn("queuing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("queue", total=total)
            added = await enqueue_campaign(
                session, campaign_id, SystemClock().now(), rates=broadcast_rates(settings),
                progress=lambda done: bar.advance(task, done), config=settings,
            )  # fmt: skip
        return added, before, was_sent

    try:
        added, before, was_sent = run_in_session(work, transaction=False)
    except CampaignError as error:
        raise _fail(str(error)) from None
    if was_sent:
        typer.echo(f"campaign {campaign_id} was sent before: nothing queued again "
                   f"({before} queued then)")  # fmt: skip
        return
    typer.echo(f"campaign {campaign_id}: {added} queued now, {before} already queued before")


@campaign_app.command("list")
def list_campaigns() -> None:
    """Every campaign, newest first."""

    async def work(session: Any, _: Any) -> list[Any]:
        query = select(Campaign).order_by(Campaign.id.desc())
        return list((await session.execute(query)).scalars())

    campaigns = run_in_session(work, transaction=False)
    if not campaigns:
        typer.echo("No campaigns yet. Create one: peerline campaign create NAME --file texts.yaml")
        return
    table = Table(title="Campaigns")
    for column in ("ID", "Name", "Languages", "Status", "Created", "Queued"):
        table.add_column(column, overflow="fold")
    for campaign in campaigns:
        table.add_row(str(campaign.id), campaign.name, ",".join(sorted(campaign.texts)),
                      campaign.status, campaign.created_at.strftime("%Y-%m-%d %H:%M"),
                      str(campaign.queued))  # fmt: skip
    Console(width=120).print(table)


def register(app: typer.Typer) -> None:
    add_steering(campaign_app)
    app.add_typer(campaign_app, name="campaign")
