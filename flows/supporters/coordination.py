"""Coordinator commands in the chat: invite supporters, see who waits, approve them.

Only participants with the coordinator role may use them; anyone else gets the same answer as for
a command that does not exist, so the commands are not advertised. They answer at once and never
move her state, so a coordinator can use them in the middle of anything.

```mermaid
stateDiagram-v2
    state "any state (unchanged)" as any
    any --> any: /invite [coordinator] [hours] (code + link, shown once)
    any --> any: /pending (one card per waiting supporter: languages, topics, Approve button)
    any --> any: /pending, then each profile change waiting for an OK (Approve / Keep as it was)
    any --> any: /approve alias, or the Approve button (she is told)
    any --> any: not a coordinator (unknown command)
```
"""

from flows.commands import unknown_command
from flows.context import FlowContext
from flows.events import Button, EventKind, InboundEvent
from flows.supporters.approval import (
    Approval,
    approve_supporter,
    find_supporter,
    pending_supporters,
)
from flows.supporters.invites import create_invite, invite_link
from flows.supporters.profile_changes import show_waiting_changes
from i18n import LANGUAGE_NAMES, N_, translate
from models import Participant, Role, SupporterProfile

# Built as f"coord.role_{role}".
ROLE_TEXTS = (
    N_("coord.role_supporter"),
    N_("coord.role_coordinator"),
)

NAME = "coordination"
MAX_INVITE_HOURS = 24 * 30
APPROVAL_TEXTS = {
    Approval.APPROVED: N_("coord.approved"),
    Approval.ALREADY: N_("coord.already_approved"),
    Approval.UNFINISHED: N_("coord.profile_unfinished"),
    Approval.NOT_A_SUPPORTER: "coord.no_such_supporter",
}


class CoordinationFlow:
    name = NAME

    async def handle(self, ctx: FlowContext, event: InboundEvent) -> None:
        if ctx.participant.role != Role.COORDINATOR:
            return await unknown_command(ctx)
        if event.kind == EventKind.COMMAND:
            match event.command:
                case "invite":
                    return await self._invite(ctx, event.args)
                case "pending":
                    return await self._pending(ctx)
                case "approve":
                    return await self._approve_alias(ctx, event.args)
        elif event.choice:
            _, _, rest = event.choice.partition(":")
            key, _, value = rest.partition(":")
            if key == "pending":
                return await self._pending(ctx)
            if key == "approve" and value.isdigit():
                supporter = await ctx.session.get(Participant, int(value))
                return await self._approve(ctx, supporter)
        await unknown_command(ctx)

    async def _invite(self, ctx: FlowContext, args: str) -> None:
        role, hours = Role.SUPPORTER, float(getattr(ctx.config, "invite_valid_hours", 72.0))
        for word in args.split():
            if word.casefold() in (Role.COORDINATOR, Role.SUPPORTER):
                role = Role(word.casefold())
            elif word.isdigit() and 1 <= int(word) <= MAX_INVITE_HOURS:
                hours = float(word)
            else:
                ctx.reply("coord.invite_usage", most=MAX_INVITE_HOURS)
                return
        actor = f"participant:{ctx.participant.id}"
        code, _ = await create_invite(ctx.session, role=role, hours=hours, actor=actor, now=ctx.now)
        link = invite_link(ctx.config, code)
        role_name = {"msgid": f"coord.role_{role}"}
        if link:
            ctx.reply("coord.invite_link", link=link, code=code, hours=int(hours), role=role_name)
        else:
            ctx.reply("coord.invite_code", code=code, hours=int(hours), role=role_name)

    async def _pending(self, ctx: FlowContext) -> None:
        waiting = await pending_supporters(ctx.session)
        if not waiting:
            if not await show_waiting_changes(ctx):  # profile changes waiting for an OK
                ctx.reply("coord.pending_none")
            return
        ctx.reply("coord.pending_count", count=len(waiting))
        for supporter in waiting:
            profile = await ctx.session.get(SupporterProfile, supporter.id)
            languages = ", ".join(LANGUAGE_NAMES[c] for c in (profile.languages or []))
            ctx.reply(
                "coord.pending_item", alias=supporter.alias, languages=languages,
                capacity=profile.capacity, topics=_topics(ctx, profile.topics),
                excluded=_topics(ctx, profile.excluded_topics),
                buttons=[Button("coord.approve_button", f"coord:approve:{supporter.id}",
                                {"alias": supporter.alias})],
            )  # fmt: skip
        await show_waiting_changes(ctx)

    async def _approve_alias(self, ctx: FlowContext, alias: str) -> None:
        if not alias.strip():
            return await self._pending(ctx)
        await self._approve(ctx, await find_supporter(ctx.session, alias))

    async def _approve(self, ctx: FlowContext, supporter: Participant | None) -> None:
        if supporter is None:
            ctx.reply("coord.no_such_supporter")
            return
        actor = f"participant:{ctx.participant.id}"
        outcome = await approve_supporter(ctx.session, supporter, actor=actor, now=ctx.now)
        ctx.reply(APPROVAL_TEXTS[outcome], alias=supporter.alias)


def _topics(ctx: FlowContext, topics: list[str] | None) -> str:
    """Her topics by name in the coordinator's language, or a dash when there are none."""
    return ", ".join(translate(ctx.language, f"topic.{t}") for t in topics or []) or "–"
