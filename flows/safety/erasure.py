"""`/forget`: after one confirmation, everything about her is erased and only anonymous counts stay.

Open conversations end first (the other side gets a neutral notice). Then every row that refers to
her goes, found from the schema itself so a table added later is covered too: rows that depend on
her are deleted, optional references are cleared, "participant:<id>" mentions become "erased".
Reports she made or that named her are deleted with the rest: a coordinator who still needs to act
on a person can ban or suspend before; keeping a report would keep a link to her. A banned person
cannot erase herself through the bot (the ban guard answers first): the ban is what keeps others
safe, and it needs her address hash.

Her last message ("your data is gone") needs an address after she is gone. It goes to a tombstone:
a new participant row with status "erased", no alias, only her language and her encrypted address,
linked to nothing else. The job "erasure_finish" deletes it once that message is sent (or after a
day if it cannot be), and the retention job sweeps any tombstone left over.

```mermaid
stateDiagram-v2
    [*] --> confirm: /forget
    confirm --> [*]: yes (erased; tombstone sends the last line)
    confirm --> [*]: no (back where she was)
```
"""

import logging
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import String, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from flows.context import FlowContext
from flows.conversation.lifecycle import end_match
from flows.conversation.offers import make_offers
from flows.detour import come_back, step_aside
from flows.events import Button, EventKind, InboundEvent
from flows.safety.guard import live_matches, queue_notice
from models import (
    Base,
    HelpRequest,
    Match,
    Offer,
    OfferStatus,
    OutboxMessage,
    OutboxStatus,
    Participant,
    ParticipantStatus,
    ProcessedInbound,
    Role,
    ScheduledJob,
)
from models.stats import increment

log = logging.getLogger(__name__)

NAME = "erasure"
FINISH_JOB = "erasure_finish"
FINISH_CHECK_EVERY = timedelta(minutes=1)
TOMBSTONE_KEEP_AT_MOST = timedelta(days=1)
# Scheduled jobs point at rows of different tables by kind; these point at rows that are hers.
JOB_TARGETS = {
    "offer_timeout": "offers",
    "unmatched_alert": "help_requests",
    "request_expiry": "help_requests",
    "waiting_update": "help_requests",
    "idle_check": "matches",
    "idle_close": "matches",
}
# Columns that name people as "participant:<id>" (audit actors and targets, invite creators).
MENTION_COLUMNS = frozenset({"actor", "target", "created_by"})
PERSON_KEYS = ("participant_id", "seeker_id", "supporter_id", "person_id")


class Step(StrEnum):
    CONFIRM = "confirm"


class ErasureFlow:
    name = NAME

    async def handle(self, ctx: FlowContext, event: InboundEvent) -> None:
        if event.kind == EventKind.COMMAND and event.command == "forget":
            step_aside(ctx, NAME, Step.CONFIRM)
            return _ask(ctx)
        if ctx.state.flow != NAME:
            ctx.reply("forget.old_button")
            return
        if event.choice == "forget:yes":
            return await erase(ctx)
        if event.choice == "forget:no" or event.kind == EventKind.COMMAND:
            ctx.reply("forget.kept")
            return await come_back(ctx, NAME)
        _ask(ctx)


def _ask(ctx: FlowContext) -> None:
    ctx.reply("forget.confirm", buttons=[
        Button("forget.yes", "forget:yes"),
        Button("forget.no", "forget:no"),
    ])  # fmt: skip


# --- Erasing --------------------------------------------------------------------------------------


async def erase(ctx: FlowContext) -> None:
    """Erase her in this transaction and queue her last message through a tombstone."""
    me = ctx.participant
    for match in await live_matches(ctx, me):
        await end_match(ctx, match, by=me, reason="erased")
    session = ctx.session
    await session.flush()
    language, channel, cipher, me_id = me.language, me.channel, me.address_cipher, me.id
    offered_to_her = set(
        (await session.execute(
            select(Offer.request_id).where(
                Offer.supporter_id == me_id, Offer.status == OfferStatus.PENDING
            )
        )).scalars()
    )  # fmt: skip
    await erase_rows(session, me_id)
    session.expunge_all()  # nothing of hers may be written back by the unit of work
    await increment(session, ctx.now.date(), "erasures")
    tombstone = Participant(
        role=Role.SEEKER, status=ParticipantStatus.ERASED, channel=channel,
        address_hash=f"erased:{secrets.token_hex(16)}", address_cipher=cipher, alias="",
        language=language, created_at=ctx.now, updated_at=ctx.now,
    )  # fmt: skip
    session.add(tombstone)
    await session.flush()
    ctx.participant = tombstone
    queue_notice(ctx, tombstone, "forget.done")
    for request_id in sorted(offered_to_her):  # requests offered to her go on to others now
        request = await session.get(HelpRequest, request_id)
        if request is not None:
            await make_offers(ctx, request)
    session.add(ScheduledJob(kind=FINISH_JOB, due_at=ctx.now + FINISH_CHECK_EVERY,
                             target_id=tombstone.id, payload={}))  # fmt: skip
    log.info("a participant was erased")


async def erase_rows(session: AsyncSession, person_id: int) -> None:
    """Every row that refers to this participant, found from the schema, then the person."""
    participants = Participant.__table__
    request_ids = list(
        (await session.execute(
            select(HelpRequest.id).where(HelpRequest.seeker_id == person_id)
        )).scalars()
    )  # fmt: skip
    match_ids = list(
        (await session.execute(
            select(Match.id).where(
                (Match.seeker_id == person_id) | (Match.supporter_id == person_id)
                | Match.request_id.in_(request_ids)
            )
        )).scalars()
    )  # fmt: skip
    offer_ids = list(
        (await session.execute(
            select(Offer.id).where(
                (Offer.supporter_id == person_id) | Offer.request_id.in_(request_ids)
            )
        )).scalars()
    )  # fmt: skip
    await _delete_jobs(session, person_id, {"help_requests": request_ids, "matches": match_ids,
                                            "offers": offer_ids})  # fmt: skip
    await _drop_copies_of_her_messages(session, person_id, match_ids)
    # Idempotency marks stay (a retried webhook must not act twice) but no longer point at her.
    await session.execute(
        update(ProcessedInbound)
        .where(ProcessedInbound.participant_id == person_id)
        .values(participant_id=None, chat_message_id=None)
    )
    mention = f"participant:{person_id}"
    for table in reversed(Base.metadata.sorted_tables):
        for column in table.columns:
            if column.name in MENTION_COLUMNS and isinstance(column.type, String):
                await session.execute(
                    update(table).where(column == mention).values({column.name: "erased"})
                )
            for key in column.foreign_keys:
                if key.column.table is not participants or table is participants:
                    continue
                if table.name == ProcessedInbound.__tablename__:
                    continue
                if column.nullable and key.ondelete != "CASCADE":
                    await session.execute(
                        update(table).where(column == person_id).values({column.name: None})
                    )
                else:
                    await session.execute(delete(table).where(column == person_id))
    await session.execute(delete(participants).where(participants.c.id == person_id))


async def _delete_jobs(session: AsyncSession, person_id: int, owned: dict[str, list[int]]) -> None:
    """Jobs about her requests, matches and offers, and waiting jobs whose payload names her."""
    ids = {person_id, *(i for values in owned.values() for i in values)}
    query = select(ScheduledJob).where(
        ScheduledJob.target_id.in_(ids) | ScheduledJob.done_at.is_(None)
    )
    for job in (await session.execute(query)).scalars().all():
        table = JOB_TARGETS.get(job.kind)
        hers = table is not None and job.target_id in owned.get(table, [])
        payload = job.payload or {}
        hers = hers or any(payload.get(key) == person_id for key in PERSON_KEYS)
        if hers:
            await session.delete(job)
    await session.flush()


async def _drop_copies_of_her_messages(
    session: AsyncSession, person_id: int, match_ids: list[int]
) -> None:
    """Relays of her words still waiting for the other side go too (they name her as source)."""
    waiting = (
        await session.execute(
            select(OutboxMessage).where(
                # SENT: a WhatsApp copy keeps its words until Twilio's final status.
                OutboxMessage.status.in_(
                    [OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.SENT]
                ),
                OutboxMessage.participant_id != person_id,
                OutboxMessage.params.is_not(None),
            )
        )
    ).scalars()
    for row in waiting:
        # In her conversations, what waits for the other side is hers: her words, her alias.
        if row.match_id in match_ids or (row.params or {}).get("_copy_from") == person_id:
            await session.delete(row)
    await session.flush()


# --- Finishing: the tombstone goes once her last message is out ---------------------------------


async def finish_erasure(session: AsyncSession, job: ScheduledJob, now: datetime) -> None:
    """Delete the tombstone when its message is sent (or undeliverable); else look again soon."""
    tombstone_id, job.target_id = job.target_id, None
    tombstone = await session.get(Participant, tombstone_id) if tombstone_id else None
    if tombstone is None or tombstone.status != ParticipantStatus.ERASED:
        return
    waiting = (
        await session.execute(
            select(OutboxMessage.id).where(
                OutboxMessage.participant_id == tombstone.id,
                OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
            )
        )
    ).first()
    if waiting is not None and now - tombstone.created_at < TOMBSTONE_KEEP_AT_MOST:
        session.add(ScheduledJob(kind=FINISH_JOB, due_at=now + FINISH_CHECK_EVERY,
                                 target_id=tombstone.id, payload={}))  # fmt: skip
        return
    await session.execute(delete(OutboxMessage).where(OutboxMessage.participant_id == tombstone.id))
    await session.delete(tombstone)
