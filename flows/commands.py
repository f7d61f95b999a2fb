"""Answers every flow shares for commands: one kind reply to a command a flow does not know."""

from flows.context import FlowContext


async def unknown_command(ctx: FlowContext) -> None:
    """Any flow's answer to a command it does not know: kind, with the way to the menu."""
    ctx.reply("intake.unknown_command")
