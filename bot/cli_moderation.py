"""Moderation on the command line: ban or unban a participant, suspend or unsuspend a supporter.

The same actions as the coordinators' /ban and /suspend (conversations end with a neutral notice,
an audit entry is written with ids only); the actor is recorded as "cli".
"""

from typing import Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli_base import run_in_session
from bot.clock import SystemClock
from bot.settings import Settings
from flows.context import FlowContext
from flows.registry import build_routes
from flows.safety import moderation
from flows.safety.lifting import unsuspend, warn
from models import FlowState, ParticipantStatus

participant_app = typer.Typer(help="Warn, ban or unban a participant.", no_args_is_help=True)


def _act(alias: str, action: str) -> str:
    """Run one moderation action on the participant called `alias`; returns the outcome."""

    async def work(session: AsyncSession, settings: Settings) -> str:
        people = await moderation.find_by_alias(session, alias)
        if not people:
            return "not_found"
        if len(people) > 1:
            return "ambiguous"
        [target] = people
        state = await session.get(FlowState, target.id) or FlowState(
            participant_id=target.id, flow="intake", step="", data={}
        )
        ctx = FlowContext(session, target, state, SystemClock().now(), settings,
                          build_routes().flows)  # fmt: skip
        if action == "ban":
            if target.status == ParticipantStatus.BLOCKED:
                return "already"
            await moderation.ban(ctx, target, "cli")
        elif action == "unban":
            if target.status != ParticipantStatus.BLOCKED:
                return "already"
            await moderation.unban(ctx, target, "cli")
        elif action == "warn":
            warn(ctx, target, "cli")
        elif action == "unsuspend":
            if not await unsuspend(ctx, target, "cli"):
                return "already"
        elif not await moderation.suspend(ctx, target, "cli"):
            return "not_supporter"
        return "done"

    return run_in_session(work)


def _report(alias: str, outcome: str, done: str, already: str) -> None:
    messages = {
        "done": done,
        "already": already,
        "not_found": f"error: no participant called {alias!r}",
        "ambiguous": f"error: more than one participant is called {alias!r}; use /reports",
        "not_supporter": f"error: {alias} is not a supporter",
    }
    if outcome not in ("done", "already"):
        typer.echo(messages[outcome], err=True)
        raise typer.Exit(1)
    typer.echo(messages[outcome])


@participant_app.command("ban")
def participant_ban(alias: str = typer.Argument(..., help="Her alias, e.g. 'Iris 42'.")) -> None:
    """Ban: nothing she sends reaches anyone; her conversations end with a neutral notice."""
    _report(alias, _act(alias, "ban"), f"{alias} is banned.", f"{alias} was already banned.")


@participant_app.command("unban")
def participant_unban(alias: str = typer.Argument(..., help="Her alias, e.g. 'Iris 42'.")) -> None:
    """Lift a ban: she can write again and be matched."""
    _report(alias, _act(alias, "unban"), f"{alias} is no longer banned.", f"{alias} is not banned.")


@participant_app.command("warn")
def participant_warn(alias: str = typer.Argument(..., help="Her alias, e.g. 'Iris 42'.")) -> None:
    """Send her a kind reminder of the rules (the running service delivers it)."""
    _report(alias, _act(alias, "warn"), f"{alias} has been sent a warning.", "")


def supporter_suspend(alias: str = typer.Argument(..., help="Her alias, e.g. 'Iris 42'.")) -> None:
    """Suspend a supporter: no new offers, and her conversations end with a neutral notice."""
    _report(alias, _act(alias, "suspend"), f"{alias} is suspended.", "")


def supporter_unsuspend(
    alias: str = typer.Argument(..., help="Her alias, e.g. 'Iris 42'."),
) -> None:
    """Lift a suspension: she may go on duty again with /available."""
    _report(alias, _act(alias, "unsuspend"), f"{alias} is no longer suspended.",
            f"{alias} is not suspended.")  # fmt: skip


def _group(app: typer.Typer, name: str, help_text: str) -> typer.Typer:
    """The sub-command group called `name`, shared with other modules that add to it."""
    for group in app.registered_groups:
        if group.name == name and group.typer_instance is not None:
            return group.typer_instance
    created = typer.Typer(help=help_text, no_args_is_help=True)
    app.add_typer(created, name=name)
    return created


def register(app: Any) -> None:
    app.add_typer(participant_app, name="participant")
    supporter = _group(app, "supporter", "See, approve and suspend supporters.")
    supporter.command("suspend")(supporter_suspend)
    supporter.command("unsuspend")(supporter_unsuspend)
