"""A campaign delivered through the real channels to the fake Bot API and the fake Twilio API.

Run: .venv/bin/python -m bench.campaign_delivery [N_LIFTED] [N_TELEGRAM_30] [N_WHATSAPP_10]
(defaults 35000, 3000, 1000; SQLite). Three figures:

(a) limits lifted: N_LIFTED recipients on Telegram, our own overhead in messages/s (the
    database, rendering, python-telegram-bot and HTTP to a local fake);
(b) Telegram at 30 messages/s: the achieved rate over the run, and the shortest gap between two
    messages to one chat (a few chats also get five replies each, queued with the campaign);
(c) WhatsApp at 10 messages/s through Twilio's REST API, the achieved rate.

Rows are queued unspread here so that the outbox's rate limiter alone paces them; a real
campaign is also spread at half the channel's rate, leaving room for conversations.
"""

import asyncio
import sys
import tempfile
import time
import uuid
from collections import defaultdict

from sqlalchemy import func, select

from bot.clock import SystemClock
from flows.context import outbox_row
from flows.events import OutboundMessage
from flows.outreach.campaigns import create_campaign, enqueue_campaign
from models import OutboxMessage, OutboxStatus, Participant
from tests.channel_support import running_edge
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.twilio_api import FakeTwilioAPI

TEXTS = {"en": "Free legal advice on Saturday, 10:00-14:00.", "fallback": "en"}


async def add_people(service, channel: str, count: int) -> list[Participant]:
    vault, now = service.vault, service.clock.now()
    people = []
    async with service.session_factory() as session, session.begin():
        for i in range(count):
            address = f"whatsapp:+4860{i:07d}" if channel == "whatsapp" else str(10_000_000 + i)
            cipher, key = vault.encrypt(channel, address), vault.lookup_hash(channel, address)
            people.append(Participant(channel=channel, address_cipher=cipher, address_hash=key,
                                      alias="b", language="en", consent_terms=True,
                                      consent_campaigns=True, last_inbound_at=now))  # fmt: skip
            if len(people) % 5000 == 0:
                session.add_all(people[-5000:])
                await session.flush()
        session.add_all(people[len(people) - len(people) % 5000 :])
    return people


def record_sends(service, channel: str) -> list[tuple[float, str]]:
    """Wrap the channel's send: when each successful call started, and to whom."""
    sent: list[tuple[float, str]] = []
    target = service.channels[channel]
    original = target.send

    async def send(address, message):
        started = time.perf_counter()
        result = await original(address, message)
        sent.append((started, address))
        return result

    target.send = send
    return sent


async def deliver_all(service) -> None:
    while True:
        if await service.sender.run_once() == 0:
            async with service.session_factory() as session:
                waiting = OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING])
                left = await session.execute(select(func.count(OutboxMessage.id)).where(waiting))
            if not left.scalar_one():
                return
            await asyncio.sleep(0.005)


async def campaign_to(service, channel: str, count: int, extra_replies: int = 0):
    people = await add_people(service, channel, count)
    async with service.session_factory() as session, session.begin():
        campaign = await create_campaign(session, "bench", TEXTS, service.clock.now())
        for person in people[:extra_replies]:
            for _ in range(5):
                session.add(
                    outbox_row(person, OutboundMessage("error.generic"), service.clock.now())
                )
    async with service.session_factory() as session:
        await enqueue_campaign(session, campaign.id, service.clock.now(), rates={})
    sent = record_sends(service, channel)
    started = time.perf_counter()
    await deliver_all(service)
    return sent, time.perf_counter() - started


def shortest_gap_per_chat(sent: list[tuple[float, str]]) -> float:
    times = defaultdict(list)
    for at, address in sent:
        times[address].append(at)
    gaps = [b - a for ts in times.values() for a, b in zip(ts, ts[1:], strict=False)]
    return min(gaps) if gaps else float("inf")


def achieved(sent: list[tuple[float, str]]) -> float:
    first, last = sent[0][0], sent[-1][0]
    return (len(sent) - 1) / (last - first) if last > first else float("inf")


async def main(lifted: int, at_30: int, at_10: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeBotAPI() as api:
            url = f"sqlite+aiosqlite:///{tmp}/a-{uuid.uuid4().hex[:6]}.db"
            async with running_edge(url, telegram=api, webhook=False, clock=SystemClock(),
                                    telegram_rate_per_second=1e6,
                                    telegram_chat_rate_per_second=1e6) as edge:  # fmt: skip
                edge.service.sender.batch_size = 200
                sent, seconds = await campaign_to(edge.service, "telegram", lifted)
                print(
                    f"(a) Telegram, limits lifted: {len(sent)} messages in {seconds:.1f} s "
                    f"= {len(sent) / seconds:.0f} messages/s (our own overhead)"
                )
        for replies in (0, 20):
            async with FakeBotAPI() as api:
                url = f"sqlite+aiosqlite:///{tmp}/b{replies}-{uuid.uuid4().hex[:6]}.db"
                async with running_edge(url, telegram=api, webhook=False,
                                        clock=SystemClock()) as edge:  # fmt: skip
                    sent, seconds = await campaign_to(edge.service, "telegram", at_30, replies)
                    rate = achieved(sent)
                    print(
                        f"(b) Telegram at 30/s, {replies} chats also getting 5 replies each: "
                        f"{len(sent)} messages in {seconds:.1f} s, achieved {rate:.2f} "
                        f"messages/s ({(rate / 30 - 1) * 100:+.1f} % of the limit); shortest "
                        f"gap between two calls to one chat {shortest_gap_per_chat(sent):.3f} s"
                    )
        async with FakeTwilioAPI() as twilio:
            url = f"sqlite+aiosqlite:///{tmp}/c-{uuid.uuid4().hex[:6]}.db"
            async with running_edge(url, twilio=twilio, clock=SystemClock()) as edge:
                sent, seconds = await campaign_to(edge.service, "whatsapp", at_10)
                rate = achieved(sent)
                print(
                    f"(c) WhatsApp at 10/s: {len(sent)} messages in {seconds:.1f} s, achieved "
                    f"{rate:.2f} messages/s ({(rate / 10 - 1) * 100:+.1f} % of the limit)"
                )


if __name__ == "__main__":
    counts = [int(a) for a in sys.argv[1:4]] + [35000, 3000, 1000][len(sys.argv[1:4]) :]
    asyncio.run(main(*counts))
