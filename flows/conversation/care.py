"""Her answers to a check-in, and `/hours`: when the bot may write to her first, in her time.

She can pick other hours, say "never write to me first", turn check-ins back on, or tell the bot
her time of day (it finds her zone from that). Only the time question steps aside from where she
was; anything else she writes there goes back to that flow as it was.

```mermaid
stateDiagram-v2
    [*] --> shown: /hours (her hours, zone and the choices)
    shown --> [*]: other hours / never first / check-ins on (stored)
    shown --> time: my time is different
    time --> [*]: a time of day (her zone stored), or anything else (back where she was)
```
"""

from datetime import UTC

from flows.context import FlowContext
from flows.conversation.checkins import answer_again, cancel_checkins
from flows.conversation.reach import NEVER, span_of, zone_from_her_time, zone_of
from flows.conversation.waiting import she_asks
from flows.detour import come_back, go_back, step_aside
from flows.events import Button, EventKind, InboundEvent

NAME = "care"
SPANS = ("08:00-20:00", "09:00-21:00", "10:00-22:00", "12:00-20:00")


def _hours_text(minutes: int) -> str:
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"


def _hours_buttons() -> list[Button]:
    return [
        *(Button("care.btn_span", f"care:span:{span}", {"span": span.replace("-", "–")})
          for span in SPANS),
        Button("care.btn_never", "care:never"),
        Button("care.btn_time", "care:time"),
    ]  # fmt: skip


class CareFlow:
    name = NAME

    async def handle(self, ctx: FlowContext, event: InboundEvent) -> None:
        if event.kind == EventKind.CHOICE and (event.choice or "").startswith(f"{NAME}:"):
            return await self._choice(ctx, (event.choice or "").split(":", 2)[1:])
        if event.kind == EventKind.COMMAND and event.command == "hours":
            return self.show(ctx)
        if event.kind == EventKind.COMMAND and event.command == "where":
            return await she_asks(ctx)
        if ctx.state.flow == NAME and event.kind == EventKind.TEXT:
            return await self._her_time(ctx, event)
        if ctx.state.flow == NAME:
            go_back(ctx, NAME)
            if ctx.state.flow != NAME and ctx.state.flow in ctx.flows:
                return await ctx.flows[ctx.state.flow].handle(ctx, event)
        return self.show(ctx)

    def show(self, ctx: FlowContext) -> None:
        me = ctx.participant
        zone = zone_of(me, ctx.config).key
        span = span_of(me, ctx.config)
        local = ctx.now.astimezone(zone_of(me, ctx.config)).strftime("%H:%M")
        if span is None:
            ctx.reply("care.hours_never", zone=zone, now=local, buttons=_hours_buttons())
        else:
            hours = f"{_hours_text(span[0])}–{_hours_text(span[1])}"
            ctx.reply("care.hours_now", hours=hours, zone=zone, now=local,
                      buttons=_hours_buttons())  # fmt: skip

    async def _choice(self, ctx: FlowContext, parts: list[str]) -> None:
        me = ctx.participant
        match parts:
            case ["ok"]:
                ctx.reply("care.glad")
            case ["where"]:
                await she_asks(ctx)
            case ["again", rest]:
                match_id, _, answer = rest.partition(":")
                if match_id.isdigit() and answer in ("yes", "no"):
                    return await answer_again(ctx, int(match_id), answer == "yes")
                ctx.reply("relay.button_old")
            case ["talk"]:
                await ctx.enter("intake")
            case ["stop"]:
                me.checkins_wanted = False
                await cancel_checkins(ctx, me.id)
                ctx.reply("care.stopped")
            case ["on"]:
                me.checkins_wanted = True
                if me.reach_hours == NEVER:
                    me.reach_hours = None
                ctx.reply("care.on_again")
            case ["never"]:
                me.reach_hours = NEVER
                await cancel_checkins(ctx, me.id)
                ctx.reply("care.never_set", buttons=[Button("care.btn_on", "care:on")])
            case ["span", span] if span in SPANS:
                me.reach_hours = span
                me.checkins_wanted = True
                ctx.reply("care.span_set", span=span.replace("-", "–"))
            case ["time"]:
                step_aside(ctx, NAME, "time")
                ctx.reply("care.ask_time")
            case _:
                ctx.reply("relay.button_old")

    async def _her_time(self, ctx: FlowContext, event: InboundEvent) -> None:
        zone = zone_from_her_time(event.text, ctx.now, ctx.config)
        if zone is None:
            ctx.reply("care.time_not_understood")
            go_back(ctx, NAME)
            return
        ctx.participant.timezone = zone
        local = ctx.now.astimezone(UTC).astimezone(zone_of(ctx.participant, ctx.config))
        ctx.reply("care.time_set", now=local.strftime("%H:%M"))
        await come_back(ctx, NAME)
