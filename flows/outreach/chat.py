"""`/campaign status|pause|resume|cancel N` from a coordinator's chat, with a live status message.

On Telegram the status message is then kept up to date by edits (a scheduled row every half
minute) until nothing of the campaign is waiting; elsewhere she asks again when she wants.
Only coordinators are answered; to anyone else the command does not exist.

```mermaid
stateDiagram-v2
    [*] --> shown: /campaign status N (counts; on Telegram an update is scheduled)
    shown --> shown: every 30 s, the same message edited with new counts
    shown --> [*]: nothing waiting any more
    [*] --> [*]: /campaign pause|resume|cancel N (done, then the counts)
```
"""

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from flows.commands import unknown_command
from flows.context import FlowContext
from flows.events import EDITING_CHANNELS, EventKind, InboundEvent, OutboundMessage, msgid
from flows.outreach import steering
from i18n import N_
from models import Campaign, OutboxMessage, Role, ScheduledJob

NAME = "campaign_chat"
JOB = "campaign_progress"
EVERY = timedelta(seconds=30)
ACTIONS = {"pause": N_("campaign.chat_paused"), "resume": N_("campaign.chat_resumed"),
           "cancel": N_("campaign.chat_cancelled")}  # fmt: skip
STATES = (N_("campaign.state_draft"), N_("campaign.state_sending"), N_("campaign.state_sent"),
          N_("campaign.state_paused"), N_("campaign.state_cancelled"))  # fmt: skip


class CampaignChatFlow:
    name = NAME

    async def handle(self, ctx: FlowContext, event: InboundEvent) -> None:
        if ctx.participant.role != Role.COORDINATOR or event.kind != EventKind.COMMAND:
            return await unknown_command(ctx)
        words = (event.args or "").split()
        if len(words) != 2 or not words[1].isdigit() or words[0] not in ("status", *ACTIONS):
            return ctx.reply("campaign.chat_usage")
        action, campaign_id = words[0], int(words[1])
        campaign = await ctx.session.get(Campaign, campaign_id)
        if campaign is None:
            return ctx.reply("campaign.chat_unknown", id=campaign_id)
        if action in ACTIONS:
            try:
                step = getattr(steering, action)
                actor = f"participant:{ctx.participant.id}"
                count = await step(ctx.session, campaign_id, ctx.now, actor)
            except steering.SteeringError:
                return ctx.reply("campaign.chat_cannot", id=campaign_id,
                                 state=msgid(f"campaign.state_{campaign.status}"))  # fmt: skip
            ctx.reply(ACTIONS[action], id=campaign_id, n=count)
        await show_status(ctx, campaign)


async def status_message(session: AsyncSession, campaign: Campaign) -> OutboundMessage:
    counts = await steering.delivery_counts(session, campaign.id)
    return OutboundMessage("campaign.chat_status", {
        "id": campaign.id, "name": campaign.name,
        "state": msgid(f"campaign.state_{campaign.status}"), **counts,
    })  # fmt: skip


async def show_status(ctx: FlowContext, campaign: Campaign) -> None:
    message = await status_message(ctx.session, campaign)
    ctx.send(ctx.participant, message)
    if ctx.participant.channel in EDITING_CHANNELS and message.params["queued"]:
        await ctx.session.flush()
        row = ctx.queued[-1]
        ctx.session.add(ScheduledJob(kind=JOB, due_at=ctx.now + EVERY, target_id=ctx.participant.id,
                                     payload={"row": row.id, "campaign": campaign.id,
                                              "participant_id": ctx.participant.id}))  # fmt: skip


async def progress(ctx: FlowContext, job: ScheduledJob) -> None:
    """The job: edit the status message with the counts of now; again later while any wait."""
    payload = job.payload or {}
    row = await ctx.session.get(OutboxMessage, int(payload.get("row") or 0))
    campaign = await ctx.session.get(Campaign, int(payload.get("campaign") or 0))
    if campaign is None or row is None or row.participant_id != ctx.participant.id:
        return
    if row.channel_message_id is None:  # not delivered yet: try again at the next turn
        ctx.session.add(ScheduledJob(kind=JOB, due_at=ctx.now + EVERY, target_id=job.target_id,
                                     payload=dict(payload)))  # fmt: skip
        return
    message = await status_message(ctx.session, campaign)
    params = {**message.params, "_edit_of": row.channel_message_id}
    ctx.send(ctx.participant, OutboundMessage(message.text_id, params, kind="edit"))
    if message.params["queued"]:
        ctx.session.add(ScheduledJob(kind=JOB, due_at=ctx.now + EVERY, target_id=job.target_id,
                                     payload=dict(payload)))  # fmt: skip
