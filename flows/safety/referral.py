"""The violence-help referral: at most two questions, then the right numbers in her language.

Trauma-informed on purpose: she is asked only whether she is in danger now and what kind of help
she needs, never for details. In immediate danger 112 comes first and an on-duty coordinator is
alerted (a reference and the kind, nothing about her). She can leave at any point and comes back
exactly where she was.

```mermaid
stateDiagram-v2
    [*] --> ask_danger: enter()
    [*] --> immediate: enter(immediate=True)
    ask_danger --> immediate: yes, in danger now
    ask_danger --> ask_kind: no / not sure
    immediate --> ask_kind: 112 shown, coordinator alerted
    ask_kind --> shown: violence at home / sexual violence / exploited / hurting herself / other
    shown --> intake: talk to a supporter now (urgent)
    shown --> ask_kind: other help
    ask_danger --> [*]: back / menu (resume where she was)
    ask_kind --> [*]: back / menu
    shown --> [*]: back / menu
```
"""

from enum import StrEnum
from typing import Any

from flows.alerts import alert_coordinators
from flows.commands import unknown_command
from flows.context import FlowContext
from flows.conversation.checkins import after_referral
from flows.conversation.lookups import open_request_of
from flows.detour import go_back, step_aside
from flows.events import Button, EventKind, InboundEvent, OutboundMessage, msgid
from flows.safety.guard import reference
from flows.safety.help_lines import HELP_KINDS, services_text
from i18n import N_
from models.stats import increment

# Built as f"referral.kind_{kind}" (her button), f"referral.need_{kind}" (the same need, told
# to a coordinator) and f"referral.services_{kind}".
KIND_TEXTS = (
    N_("referral.kind_home"),
    N_("referral.kind_sexual"),
    N_("referral.kind_exploited"),
    N_("referral.kind_self"),
    N_("referral.kind_other"),
    N_("referral.need_home"),
    N_("referral.need_sexual"),
    N_("referral.need_exploited"),
    N_("referral.need_self"),
    N_("referral.need_other"),
    N_("referral.services_home"),
    N_("referral.services_sexual"),
    N_("referral.services_exploited"),
    N_("referral.services_self"),
    N_("referral.services_other"),
)

NAME = "referral"
IN_CONVERSATION = ("connected", "held")  # relay steps where her words go to a supporter


class Step(StrEnum):
    ASK_DANGER = "ask_danger"
    ASK_KIND = "ask_kind"
    SHOWN = "shown"


def _danger_buttons() -> list[Button]:
    return [
        Button("referral.danger_yes", "referral:danger:yes"),
        Button("referral.danger_no", "referral:danger:no"),
        Button("referral.back", "referral:back"),
    ]


def _kind_buttons() -> list[Button]:
    return [
        *(Button(f"referral.kind_{kind}", f"referral:kind:{kind}") for kind in HELP_KINDS),
        Button("referral.back", "referral:back"),
    ]


def _after_buttons() -> list[Button]:
    return [
        Button("referral.supporter", "referral:supporter"),
        Button("referral.other_help", "referral:again"),
        Button("exit.btn", "exit:now"),
        Button("referral.back", "referral:back"),
    ]


# What she told the referral, as the topic of the request she then opens (not asked again).
TOPIC_OF_KIND = {"home": "violence", "sexual": "violence", "exploited": "violence",
                 "self": "emotional"}  # fmt: skip


class ReferralFlow:
    name = NAME

    async def enter(
        self, ctx: FlowContext, return_to: str | None = None, immediate: bool = False, **_: Any
    ) -> None:
        """Start the referral; leaving brings her back to `return_to`, or to where she was."""
        step_aside(ctx, NAME, Step.ASK_DANGER, return_to=return_to)
        if immediate:
            return await self._immediate(ctx)
        ctx.reply("referral.ask_danger", buttons=_danger_buttons())

    async def resume(self, ctx: FlowContext) -> None:
        self._prompt(ctx)

    async def handle(self, ctx: FlowContext, event: InboundEvent) -> None:
        if ctx.state.flow != NAME:
            return await self._from_outside(ctx, event)
        if event.kind == EventKind.COMMAND:
            if event.command in ("menu", "back", "cancel"):
                return await self.leave(ctx)
            if event.command != "sos":
                await _unknown_command(ctx)
            return self._prompt(ctx)
        if not event.choice or not event.choice.startswith(f"{NAME}:"):
            # Free words here are not needed: the buttons carry her on, gently.
            ctx.reply("referral.use_buttons")
            return self._prompt(ctx)
        parts = event.choice.split(":")
        match parts[1:]:
            case ["back"]:
                return await self.leave(ctx)
            case ["danger", "yes"]:
                return await self._immediate(ctx)
            case ["danger", _]:
                ctx.state.step = Step.ASK_KIND
                ctx.reply("referral.ask_kind", buttons=_kind_buttons())
            case ["kind", kind] if kind in HELP_KINDS:
                return await self._show(ctx, kind)
            case ["again"]:
                ctx.state.step = Step.ASK_KIND
                ctx.reply("referral.ask_kind", buttons=_kind_buttons())
            case ["supporter"]:
                topic = TOPIC_OF_KIND.get(ctx.state.data.get("kind") or "")
                go_back(ctx, NAME)
                return await ctx.enter("intake", urgent=True, topic=topic)
            case ["open"]:
                return self._prompt(ctx)
            case _:
                return self._prompt(ctx)

    async def leave(self, ctx: FlowContext) -> None:
        """She leaves the referral: back where she was, or intake's menu."""
        return_to = ctx.state.data.get("return_to")
        go_back(ctx, NAME)
        target = return_to or (ctx.state.flow if ctx.state.flow != NAME else None) or "intake"
        flow = ctx.flows.get(target)
        if flow is not None and hasattr(flow, "resume"):
            return await ctx.resume(target)
        ctx.reply("referral.left")

    # Steps ---------------------------------------------------------------------------------------

    async def _immediate(self, ctx: FlowContext) -> None:
        already_alerted = bool(ctx.state.data.get("immediate"))  # a second tap of the same button
        ctx.remember(immediate=True)
        ctx.state.step = Step.ASK_KIND
        ctx.reply("referral.immediate", services=services_text(ctx, (), emergency_first=True))
        request = await open_request_of(ctx, ctx.participant.id)
        if request is not None:
            request.urgent = True
        if not already_alerted:
            await increment(ctx.session, ctx.now.date(), "referral.emergency")
            await alert_coordinators(
                ctx, "referral.alert_immediate", ref=reference(ctx.participant, request)
            )
        ctx.reply("referral.ask_kind_after", buttons=_kind_buttons())

    async def _show(self, ctx: FlowContext, kind: str) -> None:
        immediate = bool(ctx.state.data.get("immediate"))
        ctx.state.step = Step.SHOWN
        ctx.remember(kind=kind)
        await increment(ctx.session, ctx.now.date(), f"referral.{kind}")  # a count, never who
        services = services_text(ctx, HELP_KINDS[kind], emergency_first=immediate)
        ctx.reply(f"referral.services_{kind}", services=services)
        ctx.reply("referral.tips", buttons=_after_buttons())
        await after_referral(ctx, kind)
        if immediate and not ctx.state.data.get("kind_alerted"):
            ctx.remember(kind_alerted=True)
            request = await open_request_of(ctx, ctx.participant.id)
            await alert_coordinators(
                ctx, "referral.alert_kind", ref=reference(ctx.participant, request),
                kind=msgid(f"referral.need_{kind}"),  # hers in the third person
            )  # fmt: skip

    def _prompt(self, ctx: FlowContext) -> None:
        match ctx.state.step:
            case Step.ASK_KIND:
                ctx.reply("referral.ask_kind", buttons=_kind_buttons())
            case Step.SHOWN:
                ctx.reply("referral.tips", buttons=_after_buttons())
            case _:
                ctx.reply("referral.ask_danger", buttons=_danger_buttons())

    async def _from_outside(self, ctx: FlowContext, event: InboundEvent) -> None:
        """A help button (even on an old message) or /sos from anywhere."""
        parts = (event.choice or "").split(":")[1:]
        if parts == ["back"]:
            flow = ctx.flows.get(ctx.state.flow)
            if flow is not None and hasattr(flow, "resume"):
                return await ctx.resume(ctx.state.flow)
            return await ctx.resume("intake") if "intake" in ctx.flows else None
        if ctx.state.flow == "relay" and ctx.state.step in IN_CONVERSATION:
            # Her words must keep reaching her supporter: the help comes as messages, her place
            # in the conversation stays.
            return await self._without_moving(ctx, parts)
        return_to = ctx.state.flow if ctx.state.flow in ctx.flows else None
        await self.enter(ctx, return_to=return_to, immediate=parts == ["danger", "yes"])
        if len(parts) == 2 and parts[0] == "kind" and parts[1] in HELP_KINDS:
            await self._show(ctx, parts[1])

    async def _without_moving(self, ctx: FlowContext, parts: list[str]) -> None:
        kind = parts[1] if len(parts) == 2 and parts[0] == "kind" else "other"
        kind = kind if kind in HELP_KINDS else "other"
        immediate = parts == ["danger", "yes"]
        services = services_text(ctx, HELP_KINDS[kind], emergency_first=True)
        text_id = "referral.immediate" if immediate else f"referral.services_{kind}"
        ctx.send(ctx.participant, OutboundMessage(text_id, {"services": services}))
        ctx.send(ctx.participant, OutboundMessage("referral.tips_short"))
        await after_referral(ctx, kind)
        if immediate:
            request = await open_request_of(ctx, ctx.participant.id)
            if request is not None:
                request.urgent = True
            await alert_coordinators(
                ctx, "referral.alert_immediate", ref=reference(ctx.participant, request)
            )


async def _unknown_command(ctx: FlowContext) -> None:
    await unknown_command(ctx)
