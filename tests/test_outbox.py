"""The durable outbox: pacing, retries, blocked recipients, crashes between claim and send."""

from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from bot.outbox import OutboxSender
from flows.context import outbox_row
from flows.events import OutboundMessage
from handlers.base import RecipientUnreachable, RetryLater, TemporaryFailure
from models import OutboxMessage, OutboxStatus, Participant, ParticipantStatus
from tests.support import RecordingChannel, drain, running_service


async def add_participants(service, count: int, channel: str = "telegram") -> list[Participant]:
    async with service.session_factory() as session, session.begin():
        people = [
            Participant(
                channel=channel,
                address_hash=service.vault.lookup_hash(channel, str(1000 + i)),
                address_cipher=service.vault.encrypt(channel, str(1000 + i)),
                alias=f"Iris {i}",
                language="en",
            )
            for i in range(count)
        ]
        session.add_all(people)
    return people


async def enqueue(service, recipients, text_id="error.generic", **params) -> None:
    async with service.session_factory() as session, session.begin():
        for person in recipients:
            session.add(outbox_row(person, OutboundMessage(text_id, params), service.clock.now()))


def telegram_sender(service, channel) -> OutboxSender:
    service.channels["telegram"] = channel
    return OutboxSender(service.session_factory, service.vault, service.channels,
                        service.limiter, service.clock)  # fmt: skip


async def test_rate_limits_hold_per_bot_and_per_chat(database_url):
    async with running_service(database_url) as service:
        channel = RecordingChannel("telegram", service.clock)
        sender = telegram_sender(service, channel)
        people = await add_participants(service, 90)
        await enqueue(service, people)
        await enqueue(service, people[:1] * 5)  # five more to one chat
        await drain(sender, service.clock)

        times = sorted(d.at for d in channel.deliveries)
        assert len(times) == 95
        # No window of one second holds more than 30 sends to the whole bot.
        for i, start in enumerate(times):
            assert sum(1 for t in times[i:] if t < start + 1.0 - 1e-9) <= 30
        # Messages to one chat are at least a second apart.
        first_chat = sorted(d.at for d in channel.deliveries if d.address == "1000")
        assert len(first_chat) == 6
        assert all(b - a >= 1.0 - 1e-9 for a, b in zip(first_chat, first_chat[1:], strict=False))


async def test_429_is_retried_after_the_delay_the_api_asked_for(database_url):
    async with running_service(database_url) as service:
        channel = RecordingChannel("telegram", service.clock)
        sender = telegram_sender(service, channel)
        [person] = await add_participants(service, 1)
        await enqueue(service, [person])
        channel.fail_next(RetryLater(7.0))
        start = service.clock.now().timestamp()

        assert await sender.run_once() == 1
        assert channel.deliveries == []
        await drain(sender, service.clock)

        assert len(channel.deliveries) == 1
        assert channel.deliveries[0].at - start >= 7.0


async def test_blocked_by_the_user_marks_her_stopped_and_stops_further_sends(database_url):
    async with running_service(database_url) as service:
        channel = RecordingChannel("telegram", service.clock)
        sender = telegram_sender(service, channel)
        [person] = await add_participants(service, 1)
        await enqueue(service, [person] * 3)
        channel.fail_next(RecipientUnreachable("Forbidden: bot was blocked by the user"))
        await drain(sender, service.clock)
        await enqueue(service, [person])  # later messages fail fast
        await drain(sender, service.clock)

        assert channel.deliveries == []
        async with service.session_factory() as session:
            stored = await session.get(Participant, person.id)
            statuses = Counter((await session.execute(select(OutboxMessage.status))).scalars())
        assert stored.status == ParticipantStatus.STOPPED
        assert statuses == {OutboxStatus.FAILED: 1, OutboxStatus.DROPPED: 3}


async def test_server_errors_back_off_and_then_deliver(database_url):
    async with running_service(database_url) as service:
        channel = RecordingChannel("telegram", service.clock)
        sender = telegram_sender(service, channel)
        [person] = await add_participants(service, 1)
        await enqueue(service, [person])
        channel.fail_next(TemporaryFailure("500"))
        channel.fail_next(TemporaryFailure("502"))
        await drain(sender, service.clock)
        assert len(channel.deliveries) == 1


async def test_delivered_rows_keep_no_words(database_url):
    async with running_service(database_url) as service:
        channel = RecordingChannel("telegram", service.clock)
        sender = telegram_sender(service, channel)
        [person] = await add_participants(service, 1)
        await enqueue(service, [person], "relay.text", text="my private words")
        await drain(sender, service.clock)
        async with service.session_factory() as session:
            row = (await session.execute(select(OutboxMessage))).scalar_one()
        assert row.status == OutboxStatus.SENT and row.params is None and row.sent_at is not None


async def test_rows_of_a_sender_killed_after_claiming_are_delivered_once_by_another(database_url):
    async with running_service(database_url) as service:
        channel = RecordingChannel("telegram", service.clock)
        people = await add_participants(service, 5)
        await enqueue(service, people)
        crashed = telegram_sender(service, channel)
        claimed = await crashed.claim()  # ...and the process dies before sending
        assert len(claimed) == 5

        survivor = telegram_sender(service, channel)
        assert await survivor.run_once() == 0  # the lease still holds
        service.clock.advance(service.settings.outbox_lease_seconds + 1)
        await drain(survivor, service.clock)
        await drain(survivor, service.clock)  # nothing is sent twice

        assert sorted(d.address for d in channel.deliveries) == [str(1000 + i) for i in range(5)]


async def test_two_senders_claiming_at_once_never_share_a_row(postgres_url):
    import asyncio

    async with running_service(postgres_url) as service:
        people = await add_participants(service, 60)
        await enqueue(service, people)
        channel = RecordingChannel("telegram", service.clock)
        senders = [telegram_sender(service, channel) for _ in range(4)]
        for sender in senders:
            sender.batch_size = 20
        claims = await asyncio.gather(*(sender.claim() for sender in senders))
        flat = [row for claim in claims for row in claim]
        assert len(flat) == len(set(flat)) == 60


async def test_a_row_for_an_unknown_channel_waits_for_a_worker_that_has_it(database_url):
    async with running_service(database_url) as service:
        [person] = await add_participants(service, 1, channel="whatsapp")
        await enqueue(service, [person])
        channel = RecordingChannel("telegram", service.clock)
        sender = telegram_sender(service, channel)
        assert await sender.run_once() == 0
        service.clock.advance(3600)
        async with service.session_factory() as session:
            row = (await session.execute(select(OutboxMessage))).scalar_one()
        assert row.status == OutboxStatus.PENDING
        assert row.available_at <= service.clock.now() - timedelta(minutes=59)
