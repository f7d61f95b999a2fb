"""Steering a campaign from the command line: preview, test send, pause, resume, cancel, status.

`status --follow` shows a Rich bar over delivery (queued → sent → delivered, failed, blocked,
opted out) with its rate and time left, until nothing is waiting any more.
"""

import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import select

from bot.cli_base import run_in_session
from bot.clock import SystemClock
from flows.outreach import steering
from flows.outreach.campaigns import broadcast_rates
from flows.outreach.steering import SteeringError, delivery_counts
from models import Campaign, Participant, Role


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def _minutes(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def parse_send_at(value: str | None, zone: str) -> datetime | None:
    """ "2026-12-03 10:00" in the deployment's zone (or with its own offset), as an aware time."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _fail(f"--send-at {value!r} is not a time like 2026-12-03 10:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone))


def _steer(action: str, campaign_id: int) -> int:
    async def work(session: Any, _: Any) -> int:
        step = getattr(steering, action)
        return await step(session, campaign_id, SystemClock().now(), "cli")

    try:
        return run_in_session(work)
    except SteeringError as error:
        raise _fail(str(error)) from None


def add_steering(app: typer.Typer) -> None:
    @app.command("preview")
    def preview(campaign_id: int = typer.Argument(..., help="The campaign's number.")) -> None:
        """Show what the women of each language will read, opt-out button included."""

        async def work(session: Any, settings: Any) -> Any:
            campaign = await session.get(Campaign, campaign_id)
            if campaign is None:
                return None, {}
            rates = broadcast_rates(settings)
            return campaign, await steering.expected_duration(session, campaign, rates)

        campaign, duration = run_in_session(work)
        if campaign is None:
            raise _fail(f"there is no campaign {campaign_id}")
        for language, text in steering.preview(campaign).items():
            typer.echo(f"--- {language}\n{text}")
        for channel, (count, seconds) in sorted(duration.items()):
            typer.echo(f"{channel}: {count} women, about {_minutes(seconds)} at our own pace")

    @app.command("test")
    def test(
        campaign_id: int = typer.Argument(..., help="The campaign's number."),
        to: str = typer.Option(..., "--to", help="The alias of the coordinator who checks it."),
    ) -> None:
        """Send one copy to a coordinator herself before sending to anyone else."""

        async def work(session: Any, _: Any) -> None:
            campaign = await session.get(Campaign, campaign_id)
            if campaign is None:
                raise SteeringError(f"there is no campaign {campaign_id}")
            query = select(Participant).where(
                Participant.alias == to, Participant.role == Role.COORDINATOR
            )
            coordinator = (await session.execute(query)).scalars().first()
            if coordinator is None:
                raise SteeringError(f"there is no coordinator called {to!r}")
            await steering.test_send(session, campaign, coordinator, SystemClock().now())

        try:
            run_in_session(work)
        except SteeringError as error:
            raise _fail(str(error)) from None
        typer.echo(f"campaign {campaign_id}: a test copy is on its way to {to}")

    @app.command("pause")
    def pause(campaign_id: int = typer.Argument(..., help="The campaign's number.")) -> None:
        """Keep back everything that has not gone out yet."""
        kept = _steer("pause", campaign_id)
        typer.echo(f"campaign {campaign_id} paused: {kept} messages wait; "
                   f"peerline campaign resume {campaign_id}")  # fmt: skip

    @app.command("resume")
    def resume(campaign_id: int = typer.Argument(..., help="The campaign's number.")) -> None:
        """Send on where it stopped (run `send` again if queuing had not finished)."""
        moved = _steer("resume", campaign_id)
        typer.echo(f"campaign {campaign_id} resumed: {moved} messages go on")

    @app.command("cancel")
    def cancel(campaign_id: int = typer.Argument(..., help="The campaign's number.")) -> None:
        """Drop everything that has not gone out, for good."""
        dropped = _steer("cancel", campaign_id)
        typer.echo(f"campaign {campaign_id} cancelled: {dropped} messages will not be sent")

    @app.command("status")
    def status(
        campaign_id: int = typer.Argument(..., help="The campaign's number."),
        follow: bool = typer.Option(False, help="Follow delivery with a progress bar."),
    ) -> None:
        """How its messages stand over delivery (counts only, never names)."""

        async def work(session: Any, _: Any) -> tuple[Any, dict[str, int]]:
            campaign = await session.get(Campaign, campaign_id)
            counts = await delivery_counts(session, campaign_id) if campaign else {}
            return campaign, counts

        campaign, counts = run_in_session(work, transaction=False)
        if campaign is None:
            raise _fail(f"there is no campaign {campaign_id}; see `peerline campaign list`")
        typer.echo(f"campaign {campaign.id} {campaign.name!r}: {campaign.status}")
        typer.echo("  ".join(f"{name.replace('_', ' ')} {n}" for name, n in counts.items()))
        if follow:
            _follow(campaign_id, work)


def _follow(campaign_id: int, work: Any) -> None:
    columns = (TextColumn("delivery"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]}/s"), TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task("delivery", total=None, rate="0")
        while True:
            _, counts = run_in_session(work, transaction=False)
            waiting = counts["queued"]
            done = sum(counts.values()) - waiting - counts["paused"]
            speed = bar.tasks[0].speed or 0.0
            bar.update(task, total=done + waiting, completed=done, rate=f"{speed:.1f}")
            if waiting == 0:
                return
            time.sleep(1.0)
