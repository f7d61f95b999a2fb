"""`peerline audit`: who did what to which row and when, filtered; never a word or a number.

Audit rows name rows (``participant:7``) and actions, so this listing can be shown to a board.
"""

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import typer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli_base import run_in_session
from models import AuditEntry


def _day(text: str | None, option: str) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.combine(date.fromisoformat(text), time.min, UTC)
    except ValueError:
        typer.echo(f"error: {option} is a day written YYYY-MM-DD", err=True)
        raise typer.Exit(2) from None


def audit_command(
    actor: str = typer.Option(None, help="Only this actor: cli, system or participant:ID."),
    action: str = typer.Option(None, help="Only actions starting with this, e.g. ban or report."),
    target: str = typer.Option(None, help="Only this target, e.g. participant:12."),
    since: str = typer.Option(None, "--from", help="From this day, YYYY-MM-DD."),
    until: str = typer.Option(None, "--to", help="Up to this day, included, YYYY-MM-DD."),
    limit: int = typer.Option(100, min=1, max=10000, help="At most this many, newest first."),
) -> None:
    """The audit log, newest first: when, who, what, to which row, and ids-only details."""
    first, last = _day(since, "--from"), _day(until, "--to")

    async def work(session: AsyncSession, _: Any) -> list[AuditEntry]:
        query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        if actor:
            query = query.where(AuditEntry.actor == actor)
        if action:
            query = query.where(AuditEntry.action.startswith(action))
        if target:
            query = query.where(AuditEntry.target == target)
        if first is not None:
            query = query.where(AuditEntry.at >= first)
        if last is not None:
            query = query.where(AuditEntry.at < last + timedelta(days=1))
        return list((await session.execute(query.limit(limit))).scalars())

    rows = run_in_session(work)
    if not rows:
        typer.echo("No audit entries match.")
        return
    for row in rows:
        details = json.dumps(row.details, sort_keys=True) if row.details else ""
        typer.echo(f"{row.at:%Y-%m-%d %H:%M:%S}  {row.actor:<18}{row.action:<26}"
                   f"{row.target or '':<20}{details}".rstrip())  # fmt: skip


def register(app: typer.Typer) -> None:
    app.command("audit")(audit_command)
