"""The duty switch: `/available` and `/away` decide whether new requests are offered to her.

Only an approved supporter's duty means anything; going on duty offers her what already waits.

```mermaid
stateDiagram-v2
    away --> available: /available (waiting requests offered to her)
    available --> away: /away
    away --> away: /available while not approved yet or suspended (told why)
    paused --> available: /available before the pause is over
```
"""

from flows.audit import audit
from flows.commands import unknown_command
from flows.context import FlowContext
from flows.conversation.offers import offer_waiting_requests
from models import Role, SupporterProfile


async def set_duty(ctx: FlowContext, *, on: bool) -> None:
    """`/available` (on) or `/away`; to a help-seeker they are commands that do not exist."""
    me = ctx.participant
    profile = await ctx.session.get(SupporterProfile, me.id)
    if me.role == Role.SEEKER or profile is None:
        return await unknown_command(ctx)
    if not profile.approved:
        ctx.reply("onboard.not_approved_yet")
        return
    if on and profile.suspended:
        ctx.reply("onboard.duty_suspended")
        return
    profile.on_duty = on
    if on:
        profile.paused_until = None  # back before the pause she chose is over
    who = f"participant:{me.id}"
    audit(ctx.session, ctx.now, who, "duty.on" if on else "duty.off", who)
    ctx.reply("onboard.on_duty" if on else "onboard.off_duty")
    if on:
        await offer_waiting_requests(ctx, me)
