"""Helpers shared by tests: building a service on a test database, recording channels."""

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from bot import migrate
from bot.app import Peerline
from bot.clock import VirtualClock
from bot.settings import Settings
from handlers.base import DeliveryError, RenderedMessage, SentMessage

PG_ADMIN_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
TEST_SECRET = "test-secret-key-not-for-production-000000"


async def postgres_reachable() -> bool:
    try:
        import asyncpg

        dsn = PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
        connection = await asyncio.wait_for(asyncpg.connect(dsn), timeout=3)
        await connection.close()
        return True
    except Exception:
        return False


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "env": "test",
        # Flow tests screen with the lexicons only, so what they type is not judged by the
        # sentence model; tests/test_screen_model.py runs the model through the service.
        "screen_model": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@asynccontextmanager
async def running_service(
    database_url: str, *, clock: Any = None, start: bool = False, **overrides: Any
) -> AsyncIterator[Peerline]:
    """A migrated service on the given database; background loops only when `start`."""
    service = Peerline(make_settings(database_url, **overrides), clock=clock or VirtualClock())
    await migrate.upgrade(service.engine)
    if start:
        await service.start()
    try:
        yield service
    finally:
        await service.stop()


@dataclass
class Delivery:
    address: str
    message: RenderedMessage
    at: float


@dataclass
class RecordingChannel:
    """A channel that records what it was asked to send and can be scripted to fail."""

    name: str
    clock: Any
    deliveries: list[Delivery] = field(default_factory=list)
    failures: list[tuple[str | None, DeliveryError]] = field(default_factory=list)

    def fail_next(self, error: DeliveryError, address: str | None = None) -> None:
        self.failures.append((address, error))

    async def send(self, address: str, message: RenderedMessage) -> SentMessage:
        for index, (target, error) in enumerate(self.failures):
            if target is None or target == address:
                del self.failures[index]
                raise error
        self.deliveries.append(Delivery(address, message, self.clock.now().timestamp()))
        return SentMessage(channel_message_id=str(len(self.deliveries)))

    def texts_to(self, address: str) -> list[str]:
        return [d.message.text for d in self.deliveries if d.address == address]


async def drain(sender: Any, clock: Any, rounds: int = 500) -> None:
    """Run the sender until nothing is left, moving the virtual clock when all rows wait."""
    from sqlalchemy import select

    from models import OutboxMessage, OutboxStatus

    for _ in range(rounds):
        if await sender.run_once() == 0:
            async with sender.session_factory() as session:
                waiting = (
                    (
                        await session.execute(
                            select(OutboxMessage.available_at).where(
                                OutboxMessage.status == OutboxStatus.PENDING
                            )
                        )
                    )
                    .scalars()
                    .all()
                )
            if not waiting:
                return
            clock.advance(max(0.01, (min(waiting) - clock.now()).total_seconds()))
    raise AssertionError("outbox did not drain")


_message_ids = iter(range(1, 10**9))


@dataclass
class ChatUser:
    """One person writing to the real router; each call returns what she was sent back, rendered.

    Nothing goes over a network: the replies are read from the outbox rows the event queued.
    """

    service: Any
    address: str
    channel: str = "telegram"
    language_hint: str | None = None
    pace: float = 3.0  # seconds between her messages: people tap at human speed (flood guard)

    async def send(self, kind: Any, **fields: Any) -> list[RenderedMessage]:
        from sqlalchemy import func, select

        from flows.events import InboundEvent
        from models import OutboxMessage

        self.service.clock.advance(self.pace)
        async with self.service.session_factory() as session:
            before = (await session.execute(select(func.max(OutboxMessage.id)))).scalar() or 0
        event = InboundEvent(self.channel, self.address, kind, message_id=f"m{next(_message_ids)}",
                             language_hint=self.language_hint, **fields)  # fmt: skip
        await self.service.router.handle(event)
        return await self.inbox(after=before)

    async def inbox(self, after: int = 0) -> list[RenderedMessage]:
        from sqlalchemy import select

        from bot.outbox import render
        from models import OutboxMessage

        me = await self.participant()
        async with self.service.session_factory() as session:
            rows = (await session.execute(
                select(OutboxMessage).where(OutboxMessage.participant_id == me.id,
                                            OutboxMessage.id > after).order_by(OutboxMessage.id)
            )).scalars().all()  # fmt: skip
        return [render(row, me.language) for row in rows]

    async def text(self, words: str) -> list[RenderedMessage]:
        from flows.events import EventKind

        return await self.send(EventKind.TEXT, text=words)

    async def command(self, name: str, args: str = "") -> list[RenderedMessage]:
        from flows.events import EventKind

        return await self.send(EventKind.COMMAND, command=name, args=args, text=f"/{name} {args}")

    async def tap(self, choice: str) -> list[RenderedMessage]:
        from flows.events import EventKind

        return await self.send(EventKind.CHOICE, choice=choice)

    async def participant(self) -> Any:
        async with self.service.session_factory() as session:
            found = await self.service.router.find_participant(session, self.channel, self.address)
        assert found is not None, "she has not written yet"
        return found


# --- Conversations between seekers and supporters (matching, relay, feedback tests) -------------


@dataclass
class Person:
    """Someone writing to the real router on a recording channel; sees what was delivered to her."""

    world: "World"
    address: str
    channel: str = "telegram"
    _next_chat_id: int = 100

    def _chat_message_id(self) -> str:
        self._next_chat_id += 1
        return str(self._next_chat_id)

    async def send(self, kind: Any, **fields: Any) -> str | None:
        """Send one event, deliver everything queued; returns her chat message id."""
        from flows.events import InboundEvent

        fields.setdefault("chat_message_id", self._chat_message_id())
        self.world.service.clock.advance(2)  # people type at human speed (flood control)
        event = InboundEvent(self.channel, self.address, kind,
                             message_id=f"u{next(_message_ids)}", **fields)  # fmt: skip
        await self.world.service.router.handle(event)
        await self.world.deliver()
        return fields["chat_message_id"]

    async def text(self, words: str, reply_to: str | None = None) -> str | None:
        from flows.events import EventKind

        return await self.send(EventKind.TEXT, text=words, reply_to=reply_to)

    async def command(self, name: str, args: str = "") -> str | None:
        from flows.events import EventKind

        return await self.send(EventKind.COMMAND, command=name, args=args, text=f"/{name}")

    async def tap(self, choice: str) -> str | None:
        from flows.events import EventKind

        return await self.send(EventKind.CHOICE, choice=choice)

    async def media(self, kind: str = "voice", ref: str = "f-1", caption: str = "") -> str | None:
        from flows.events import EventKind, MediaRef

        return await self.send(EventKind.MEDIA, media=MediaRef(kind, ref), text=caption)

    async def edit(self, chat_message_id: str, words: str) -> str | None:
        from flows.events import EventKind

        return await self.send(EventKind.EDIT, text=words, edited_message_id=chat_message_id,
                               chat_message_id=chat_message_id)  # fmt: skip

    @property
    def received(self) -> list[Delivery]:
        return [d for d in self.world.channel.deliveries if d.address == self.address]

    @property
    def texts(self) -> list[str]:
        return [d.message.text for d in self.received]

    def choices(self, prefix: str = "") -> list[str]:
        """The choices of her latest message that offered buttons starting with `prefix`."""
        for delivery in reversed(self.received):
            found = [b.choice for b in delivery.message.buttons if b.choice.startswith(prefix)]
            if found:
                return found
        return []

    def delivery_id(self, text_part: str) -> str:
        """The channel message id of her latest delivery containing `text_part` (for replies)."""
        for index in range(len(self.world.channel.deliveries) - 1, -1, -1):
            delivery = self.world.channel.deliveries[index]
            if delivery.address == self.address and text_part in delivery.message.text:
                return str(index + 1)
        raise AssertionError(f"nothing containing {text_part!r} was delivered to her")

    async def participant(self) -> Any:
        async with self.world.service.session_factory() as session:
            return await self.world.service.router.find_participant(
                session, self.channel, self.address
            )


@dataclass
class World:
    """A running service with a recording Telegram channel, and helpers to seed people."""

    service: Any
    channel: RecordingChannel

    @classmethod
    def around(cls, service: Any) -> "World":
        channel = RecordingChannel("telegram", service.clock)
        service.add_channel(channel)
        return cls(service, channel)

    async def deliver(self) -> None:
        await drain(self.service.sender, self.service.clock)

    async def run_jobs(self, after_seconds: float = 0.0) -> int:
        """Move the clock, run every due scheduled job, deliver what they queued."""
        self.service.clock.advance(after_seconds)
        ran = 0
        while (count := await self.service.jobs.tick()) > 0:
            ran += count
        await self.deliver()
        return ran

    async def supporter(self, address: str, *, role: str = "supporter", alias: str | None = None,
                        channel: str = "telegram", **profile: Any) -> Person:  # fmt: skip
        """An approved supporter on duty speaking English unless `profile` says otherwise."""
        from models import FlowState, Participant, SupporterProfile

        values: dict[str, Any] = {"approved": True, "on_duty": True, "languages": ["en"],
                                  "capacity": 2}  # fmt: skip
        values.update(profile)
        vault = self.service.vault
        async with self.service.session_factory() as session, session.begin():
            person = Participant(role=role, channel=channel, language="en",
                                 address_hash=vault.lookup_hash(channel, address),
                                 address_cipher=vault.encrypt(channel, address),
                                 alias=alias or f"Supporter {address}",
                                 consent_terms=True)  # fmt: skip
            session.add(person)
            await session.flush()
            session.add(SupporterProfile(participant_id=person.id, **values))
            session.add(FlowState(participant_id=person.id, flow="onboarding", step="ready",
                                  data={}))  # fmt: skip
        return Person(self, address, channel)

    async def seeker(self, address: str, *, language: str = "en", channel: str = "telegram",
                     alias: str | None = None) -> Person:  # fmt: skip
        from models import FlowState, Participant

        vault = self.service.vault
        async with self.service.session_factory() as session, session.begin():
            person = Participant(role="seeker", channel=channel, language=language,
                                 address_hash=vault.lookup_hash(channel, address),
                                 address_cipher=vault.encrypt(channel, address),
                                 alias=alias or f"Seeker {address}",
                                 consent_terms=True)  # fmt: skip
            session.add(person)
            await session.flush()
            session.add(FlowState(participant_id=person.id, flow="intake", step="note", data={}))
        return Person(self, address, channel)

    async def ask_for_help(self, seeker: Person, *, topic: str = "emotional",
                           note: str | None = None, urgent: bool = False) -> int:  # fmt: skip
        """What intake does at its end: open her request through the matching seam."""
        from flows.context import FlowContext
        from flows.conversation.requests import submit_request
        from models import FlowState

        service = self.service
        async with service.session_factory() as session, session.begin():
            me = await service.router.find_participant(session, seeker.channel, seeker.address)
            state = await session.get(FlowState, me.id)
            ctx = FlowContext(session, me, state, service.clock.now(), service.settings,
                              service.router.routes.flows)  # fmt: skip
            request = await submit_request(ctx, topic=topic, note=note, urgent=urgent)
            request_id = request.id
        await self.deliver()
        return request_id
