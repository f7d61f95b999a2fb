"""Coordinator commands on the command line: invites, the supporter list, approvals.

`peerline invite create --role coordinator` is how a deployment gets its first coordinator, who
then joins through the link or code like anyone else (no address is ever typed into the CLI).
"""

from typing import Any

import typer
from sqlalchemy import select

from bot.cli_base import run_in_session
from bot.clock import SystemClock
from flows.supporters.approval import Approval, approve_supporter, find_supporter
from flows.supporters.invites import create_invite, invite_link
from models import Participant, Role, SupporterProfile

invite_app = typer.Typer(help="One-time invitations for supporters and coordinators.",
                         no_args_is_help=True)  # fmt: skip
supporter_app = typer.Typer(help="See and approve supporters.", no_args_is_help=True)


@invite_app.command("create")
def invite_create(
    hours: float = typer.Option(None, help="How long it is valid (default INVITE_VALID_HOURS)."),
    role: str = typer.Option("supporter", help="supporter or coordinator."),
) -> None:
    """Print a new one-time invitation; the code is shown once and stored only as a hash."""
    if role not in (Role.SUPPORTER, Role.COORDINATOR):
        typer.echo("error: --role must be supporter or coordinator", err=True)
        raise typer.Exit(2)
    if hours is not None and not 0 < hours <= 24 * 30:
        typer.echo("error: --hours must be more than 0 and at most 720", err=True)
        raise typer.Exit(2)

    async def work(session: Any, settings: Any) -> tuple[str, str | None, float]:
        valid = hours if hours is not None else settings.invite_valid_hours
        code, _ = await create_invite(session, role=role, hours=valid, actor="cli",
                                      now=SystemClock().now())  # fmt: skip
        return code, invite_link(settings, code), valid

    code, link, valid = run_in_session(work)
    typer.echo(f"Invitation for a {role}, valid for {valid:g} hours, usable once.")
    if link:
        typer.echo(f"Telegram: {link}")
    else:
        typer.echo("Telegram: set TELEGRAM_BOT_USERNAME to get a link; she can send /start CODE")
    typer.echo(f"WhatsApp or console: she writes  join {code}")


@supporter_app.command("list")
def supporter_list() -> None:
    """Every supporter and coordinator: alias, approval, duty, languages, capacity."""

    async def work(session: Any, _: Any) -> list[tuple[Participant, SupporterProfile | None]]:
        query = (
            select(Participant, SupporterProfile)
            .outerjoin(SupporterProfile, SupporterProfile.participant_id == Participant.id)
            .where(Participant.role.in_((Role.SUPPORTER, Role.COORDINATOR)))
            .order_by(Participant.role, Participant.alias)
        )
        return [(p, prof) for p, prof in (await session.execute(query)).all()]

    rows = run_in_session(work)
    if not rows:
        typer.echo("No supporters yet. Create an invitation: peerline invite create")
        return
    typer.echo(f"{'alias':<22}{'role':<13}{'approved':<10}{'on duty':<9}{'languages':<20}at once")
    for person, profile in rows:
        approved = "yes" if profile and profile.approved else "WAITING"
        duty = "yes" if profile and profile.on_duty else "no"
        languages = ",".join(profile.languages or []) if profile else ""
        capacity = profile.capacity if profile else ""
        typer.echo(f"{person.alias:<22}{person.role:<13}{approved:<10}{duty:<9}{languages:<20}"
                   f"{capacity}")  # fmt: skip


@supporter_app.command("approve")
def supporter_approve(
    alias: str = typer.Argument(..., help="Her alias, as in `supporter list`."),
) -> None:
    """Approve a supporter; she is told by the running service."""

    async def work(session: Any, _: Any) -> Any:
        supporter = await find_supporter(session, alias)
        if supporter is None:
            return Approval.NOT_A_SUPPORTER
        return await approve_supporter(session, supporter, actor="cli", now=SystemClock().now())

    outcome = run_in_session(work)
    if outcome == Approval.NOT_A_SUPPORTER:
        typer.echo(f"error: no supporter called {alias!r}; see `peerline supporter list`", err=True)
        raise typer.Exit(1)
    if outcome == Approval.UNFINISHED:
        typer.echo(f"error: {alias} has not finished her profile yet", err=True)
        raise typer.Exit(1)
    typer.echo(f"{alias} is approved; she will be told." if outcome == Approval.APPROVED
               else f"{alias} was already approved.")  # fmt: skip


def register(app: typer.Typer) -> None:
    app.add_typer(invite_app, name="invite")
    app.add_typer(supporter_app, name="supporter")
