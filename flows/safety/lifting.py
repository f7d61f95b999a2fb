"""Coordinators' lighter touches: `/warn ALIAS`, and lifting what they imposed with `/unban ALIAS`
and `/unsuspend ALIAS`; each is audited.

```mermaid
stateDiagram-v2
    state "any state (unchanged)" as any
    any --> any: /warn alias (she gets a kind reminder of the rules)
    any --> any: /unban alias (she can write and be matched again)
    any --> any: /unsuspend alias (she may go on duty again; told so)
    any --> any: no alias, no one, or not banned / suspended (told which)
    any --> any: not a coordinator (unknown command)
```
"""

from flows.audit import audit
from flows.commands import unknown_command
from flows.context import FlowContext
from flows.events import EventKind, InboundEvent, OutboundMessage
from flows.safety.moderation import find_by_alias, unban
from models import Participant, ParticipantStatus, Role, SupporterProfile

NAME = "lifting"


async def unsuspend(ctx: FlowContext, target: Participant, actor: str) -> bool:
    """A suspended supporter may go on duty again (she chooses when); False if she was not one."""
    profile = await ctx.session.get(SupporterProfile, target.id)
    if profile is None or not profile.suspended:
        return False
    profile.suspended = False
    ctx.send(target, OutboundMessage("mod.unsuspended_notice"))
    audit(ctx.session, ctx.now, actor, "unsuspend", f"participant:{target.id}")
    return True


def warn(ctx: FlowContext, target: Participant, actor: str) -> None:
    """A reminder of the rules, before anything stronger; nothing else changes for her."""
    ctx.send(target, OutboundMessage("mod.warning_notice"))
    audit(ctx.session, ctx.now, actor, "warn", f"participant:{target.id}")


class LiftingFlow:
    name = NAME

    async def handle(self, ctx: FlowContext, event: InboundEvent) -> None:
        if ctx.participant.role != Role.COORDINATOR or event.kind != EventKind.COMMAND:
            return await unknown_command(ctx)
        alias = " ".join(event.args.split())
        if not alias:
            ctx.reply("mod.lift_usage", command=f"/{event.command}")
            return
        people = await find_by_alias(ctx.session, alias)
        if len(people) != 1:
            ctx.reply("mod.not_found" if not people else "mod.ambiguous", alias=alias)
            return
        [target] = people
        actor = f"participant:{ctx.participant.id}"
        if event.command == "warn":
            warn(ctx, target, actor)
            ctx.reply("mod.warned", alias=target.alias)
        elif event.command == "unban":
            if target.status != ParticipantStatus.BLOCKED:
                ctx.reply("mod.not_banned", alias=target.alias)
                return
            await unban(ctx, target, actor)
            ctx.reply("mod.unbanned", alias=target.alias)
        elif await unsuspend(ctx, target, actor):
            ctx.reply("mod.unsuspended", alias=target.alias)
        else:
            ctx.reply("mod.not_suspended", alias=target.alias)
