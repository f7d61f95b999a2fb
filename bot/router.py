"""Hands each inbound event to the flow its sender is in, in one transaction with its replies."""

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import SystemClock
from bot.outbox import unreachable_job
from bot.privacy import AddressVault
from flows.aliases import new_alias
from flows.context import FlowContext, outbox_row
from flows.conversation.reach import zone_for_address
from flows.events import TEXT_ONLY_CHANNELS, Button, EventKind, InboundEvent, OutboundMessage
from flows.registry import Routes
from handlers.journal import JournalEntry
from i18n import normalise_language, translate
from i18n.bidi import strip_marks
from models import FlowState, OutboxMessage, Participant, ParticipantStatus, ProcessedInbound
from models.db import insert_new

log = logging.getLogger(__name__)

RETRIES = 3

# Where her typed words are for someone else: a conversation, or a talk with a coordinator.
CONVERSING = frozenset({("relay", "connected"), ("talk", "open")})


class Outcome(StrEnum):
    HANDLED = "handled"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    FAILED = "failed"


@dataclass
class Router:
    session_factory: async_sessionmaker[AsyncSession]
    vault: AddressVault
    routes: Routes
    config: Any = None
    clock: Any = SystemClock()
    on_queued: Callable[[], None] = lambda: None

    async def handle(self, event: InboundEvent, entry: JournalEntry | None = None) -> Outcome:
        """Process one event exactly once; on failure roll back and tell her kindly.

        `entry` is the journal row the event came from: marking it processed is the last write
        of the same transaction, so a second process handling the same row changes nothing.
        """
        event = _without_direction_marks(event)
        for attempt in range(1, RETRIES + 1):
            try:
                async with self.session_factory() as session, session.begin():
                    outcome, participant = await self._handle(session, event)
                    if not await self._mark(session, event, entry, participant):
                        raise _Duplicate()
            except _Duplicate:
                return Outcome.DUPLICATE
            except DBAPIError as error:
                if attempt < RETRIES and _worth_retrying(error):
                    continue  # a dead pooled connection, a lock or a deadlock: once more
                log.exception("event from %s could not be handled", event.channel)
                await self._apologise(event, entry)
                return Outcome.FAILED
            except Exception:
                log.exception("event from %s could not be handled", event.channel)
                await self._apologise(event, entry)
                return Outcome.FAILED
            break
        if outcome == Outcome.HANDLED:
            self.on_queued()
        return outcome

    async def skip(self, entry: JournalEntry) -> None:
        """An update that carries no event for the flows (a group, an unknown kind) is done."""
        async with self.session_factory() as session, session.begin():
            await self._mark(session, None, entry, None)

    async def _handle(
        self, session: AsyncSession, event: InboundEvent
    ) -> tuple[Outcome, Participant | None]:
        participant = await self.find_participant(session, event.channel, event.address)
        if event.kind in (EventKind.BLOCKED, EventKind.UNBLOCKED):
            if participant is not None and participant.status != ParticipantStatus.BLOCKED:
                blocked = event.kind == EventKind.BLOCKED
                participant.status = (
                    ParticipantStatus.STOPPED if blocked else ParticipantStatus.ACTIVE
                )
                if blocked:
                    session.add(unreachable_job(participant.id, self.clock.now()))
            return Outcome.IGNORED, participant
        fresh = False
        if participant is None:
            participant, fresh = await self._register(session, event)
        if participant.status == ParticipantStatus.STOPPED:
            participant.status = ParticipantStatus.ACTIVE  # she is back
        state = None
        if not fresh:  # a woman this event inserted has her last_inbound_at and no state yet
            participant.last_inbound_at = self.clock.now()
            state = await session.get(FlowState, participant.id, with_for_update=True)
        if state is None:
            state = FlowState(
                participant_id=participant.id, flow=self.routes.first_flow, step="", data={}
            )
            session.add(state)
        event = await _resolve_typed_choice(session, event, state, participant, fresh)
        ctx = FlowContext(
            session, participant, state, self.clock.now(), self.config, self.routes.flows,
            event=event, fresh=fresh,
        )  # fmt: skip
        for guard in self.routes.guards:
            if await guard(ctx, event):
                break
        else:
            await self.routes.flow_for(event, state.flow).handle(ctx, event)
        ctx.finish()
        return Outcome.HANDLED, ctx.participant  # a tombstone if she has just erased herself

    async def _mark(
        self,
        session: AsyncSession,
        event: InboundEvent | None,
        entry: JournalEntry | None,
        participant: Participant | None,
    ) -> bool:
        """One write records the event as processed; False when someone already had."""
        if participant is not None and participant.status == ParticipantStatus.ERASED:
            participant = None  # the mark stays (a retry must not act) but points at nobody
        values = {
            "participant_id": participant.id if participant is not None else None,
            "chat_message_id": event.chat_message_id if event and participant else None,
        }
        if entry is not None:
            result = await session.execute(
                update(ProcessedInbound)
                .where(
                    ProcessedInbound.channel == entry.channel,
                    ProcessedInbound.message_id == entry.message_id,
                    ProcessedInbound.payload.is_not(None),
                )
                .values(payload=None, **values)
            )
            return result.rowcount == 1
        if event is None or not event.message_id:
            return True
        inserted = await session.execute(
            insert_new(session.bind.dialect.name, ProcessedInbound)
            .values(
                channel=event.channel,
                message_id=event.message_id,
                received_at=self.clock.now(),
                **values,
            )
            .returning(ProcessedInbound.message_id)
        )
        return inserted.first() is not None

    async def find_participant(
        self, session: AsyncSession, channel: str, address: str
    ) -> Participant | None:
        key = self.vault.lookup_hash(channel, address)
        query = select(Participant).where(
            Participant.channel == channel, Participant.address_hash == key
        )
        # FOR NO KEY UPDATE: serialises her own events, yet lets others queue messages to her
        # (an outbox row's foreign key takes a key-share lock) while she writes to them.
        return (await session.execute(query.with_for_update(key_share=True))).scalar_one_or_none()

    async def _register(
        self, session: AsyncSession, event: InboundEvent
    ) -> tuple[Participant, bool]:
        """She is new: insert her unless a concurrent first message just did (then find and lock
        her); True when this event inserted her, so the row is ours until the commit."""
        inserted = await session.execute(
            insert_new(session.bind.dialect.name, Participant)
            .values(
                channel=event.channel,
                address_hash=self.vault.lookup_hash(event.channel, event.address),
                address_cipher=self.vault.encrypt(event.channel, event.address),
                alias=new_alias(),
                language=None,  # chosen by her: a channel's language hint only preselects
                timezone=zone_for_address(event.channel, event.address),
                last_inbound_at=self.clock.now(),
            )
            .returning(Participant)
        )
        participant = inserted.scalar_one_or_none()
        if participant is not None:
            return participant, True
        participant = await self.find_participant(session, event.channel, event.address)
        assert participant is not None
        return participant, False

    async def _apologise(self, event: InboundEvent, entry: JournalEntry | None = None) -> None:
        """Something broke on our side: she gets a kind line instead of silence or a trace."""
        try:
            async with self.session_factory() as session, session.begin():
                participant = await self.find_participant(session, event.channel, event.address)
                if entry is not None and not await self._mark(session, event, entry, None):
                    return  # another process handled it after all
                if participant is not None and participant.status == ParticipantStatus.ACTIVE:
                    session.add(
                        outbox_row(participant, OutboundMessage("error.generic"), self.clock.now())
                    )
            self.on_queued()
        except Exception:
            log.exception("could not queue the apology")


class _Duplicate(Exception):
    pass


def _worth_retrying(error: DBAPIError) -> bool:
    """A connection that died in the pool, a lock wait given up, or a deadlock victim."""
    code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return (
        error.connection_invalidated
        or isinstance(error, OperationalError)
        or code
        in (
            "40001",
            "40P01",
        )
    )


async def _resolve_typed_choice(
    session: AsyncSession,
    event: InboundEvent,
    state: FlowState,
    participant: Participant,
    fresh: bool = False,
) -> InboundEvent:
    """On text-only channels, map "2" or a button's own words to the choice last offered.

    The offer is her flow's remembered choices or, failing those, the buttons of the newest
    message queued to her (someone else's action may have sent it, e.g. a request offered).
    """
    if event.channel not in TEXT_ONLY_CHANNELS or event.kind != EventKind.TEXT:
        return event
    raw = (state.data or {}).get("choices")
    # In a conversation her typed words are for the other woman: only choices her own flow
    # offered count, never the buttons under a relayed or "end" message (a "2" ended it).
    if not raw and not fresh and (state.flow, state.step) not in CONVERSING:
        raw = await _newest_buttons(session, participant.id)  # a new woman has none yet
    offered = [Button.from_json(b) for b in raw or []]
    typed = event.text.strip().rstrip(".)").casefold()
    for number, button in enumerate(offered, start=1):
        label = translate(normalise_language(participant.language), button.text_id, button.params)
        if typed == str(number) or typed == strip_marks(label).strip().casefold():
            return replace(event, kind=EventKind.CHOICE, choice=button.choice)
    return event


async def _newest_buttons(session: AsyncSession, participant_id: int) -> list | None:
    query = (
        select(OutboxMessage.buttons)
        .where(OutboxMessage.participant_id == participant_id)
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


def _without_direction_marks(event: InboundEvent) -> InboundEvent:
    """Our texts carry invisible direction marks; what she copies from them (a code, a button's
    words, a command) must read as she sees it."""
    text, args = strip_marks(event.text), strip_marks(event.args)
    if (text, args) == (event.text, event.args):
        return event
    return replace(event, text=text, args=args)
