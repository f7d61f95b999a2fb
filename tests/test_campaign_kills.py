"""A campaign of a few thousand, `peerline worker` killed with kill -9 several times mid-send.

Sends are counted where they arrive (the fake Bot API, the fake Twilio API); what was in doubt
at each kill is read from the database the moment the worker died: rows marked in flight whose
answer was not yet recorded. WhatsApp resolves those by asking Twilio, so nobody gets it twice;
Telegram cannot be asked, so only a row in doubt at a kill may arrive twice.
"""

import asyncio
from collections import Counter

from sqlalchemy import func, select

from bot.privacy import AddressVault
from flows.context import outbox_row
from flows.events import OutboundMessage
from models import OutboxMessage, OutboxStatus, Participant, sealed, utcnow
from models.db import make_engine, make_session_factory
from tests.channel_support import WHATSAPP_FROM
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.twilio_api import FakeTwilioAPI
from tests.processes import PeerlineProcess, service_env
from tests.support import TEST_SECRET
from tests.test_durable_inbound import migrated

PEOPLE, KILLS = 2000, 3
IN_DOUBT = OutboxMessage.attempted_at.is_not(None) & OutboxMessage.status.in_(
    [OutboxStatus.SENDING, OutboxStatus.PENDING]
)


def address(channel: str, i: int) -> str:
    return f"whatsapp:+4861{i:07d}" if channel == "whatsapp" else str(70_000 + i)


async def seed(database_url: str, channel: str, people: int) -> None:
    await migrated(database_url)
    sealed.use_key(TEST_SECRET)  # as a process does at start-up: rows hold sealed parameters
    vault, now = AddressVault(TEST_SECRET), utcnow()
    engine = make_engine(database_url)
    try:
        async with make_session_factory(engine)() as session, session.begin():
            women = [
                Participant(
                    channel=channel,
                    address_hash=vault.lookup_hash(channel, address(channel, i)),
                    address_cipher=vault.encrypt(channel, address(channel, i)),
                    alias=f"W{i}",
                    language="en",
                    last_inbound_at=now,  # her WhatsApp window is open
                )
                for i in range(people)
            ]
            session.add_all(women)
            await session.flush()
            session.add_all(
                outbox_row(w, OutboundMessage("error.generic", kind="campaign"), now) for w in women
            )
    finally:
        await engine.dispose()


async def addresses_where(database_url: str, channel: str, *conditions) -> list[str]:
    engine = make_engine(database_url)
    vault = AddressVault(TEST_SECRET)
    try:
        async with make_session_factory(engine)() as session:
            rows = await session.execute(
                select(Participant.address_cipher)
                .join(OutboxMessage, OutboxMessage.participant_id == Participant.id)
                .where(*conditions)
            )
            return [vault.decrypt(channel, cipher) for cipher in rows.scalars()]
    finally:
        await engine.dispose()


async def sent_rows(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        async with make_session_factory(engine)() as session:
            query = select(func.count()).where(OutboxMessage.status == OutboxStatus.SENT)
            return (await session.execute(query)).scalar_one()
    finally:
        await engine.dispose()


class Telegram:
    name = "telegram"

    def __init__(self, api: FakeBotAPI) -> None:
        self.api = api
        api.latency = 0.02

    def env(self) -> dict:
        return {
            "telegram_bot_token": self.api.token,
            "telegram_api_base_url": self.api.base_url.removesuffix("/bot"),
            "telegram_rate_per_second": 2000,
        }

    def arrived(self) -> Counter:
        return Counter(str(c.params["chat_id"]) for c in self.api.calls_to("sendMessage") if c.ok)


class WhatsApp:
    name = "whatsapp"

    def __init__(self, twilio: FakeTwilioAPI) -> None:
        self.twilio = twilio
        twilio.latency = 0.02  # created at "Twilio", answered a little later

    def env(self) -> dict:
        return {
            "twilio_account_sid": self.twilio.account_sid,
            "twilio_auth_token": self.twilio.auth_token,
            "twilio_whatsapp_from": WHATSAPP_FROM,
            "twilio_api_base_url": self.twilio.base_url,
            "whatsapp_rate_per_second": 2000,
        }

    def arrived(self) -> Counter:
        return Counter(m["To"] for m in self.twilio.messages)


async def kill_and_resume(database_url: str, provider) -> tuple[Counter, list[dict]]:
    """Kill the worker KILLS times at even steps, then let a last one finish the campaign."""
    await seed(database_url, provider.name, PEOPLE)
    env = service_env(
        database_url,
        outbox_lease_seconds=3,
        outbox_sender_lease_seconds=3,
        scheduler_tick_seconds=60,
        **provider.env(),
    )
    kills = []
    for kill in range(KILLS):
        process = PeerlineProcess(["worker"], env)
        await process.start(ready="worker is running")
        async with asyncio.timeout(240):
            while True:
                if sum(provider.arrived().values()) >= (kill + 1) * PEOPLE // (KILLS + 1):
                    break
                await asyncio.sleep(0.02)
        process.kill()
        await process.stop()
        await asyncio.sleep(0.3)  # calls that were on the wire arrive
        kills.append(
            {
                "in_doubt": set(await addresses_where(database_url, provider.name, IN_DOUBT)),
                "recorded": set(
                    await addresses_where(
                        database_url, provider.name, OutboxMessage.status == OutboxStatus.SENT
                    )
                ),
                "arrived": provider.arrived(),
            }
        )
    last = PeerlineProcess(["worker"], env)
    await last.start(ready="worker is running")
    try:
        async with asyncio.timeout(240):
            while True:
                if await sent_rows(database_url) >= PEOPLE:
                    break
                await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)  # anything sent twice would arrive now
    finally:
        await last.stop()
    assert last.errors() == []
    return provider.arrived(), kills


async def test_whatsapp_campaign_killed_three_times_reaches_everyone_exactly_once(database_url):
    async with FakeTwilioAPI() as twilio:
        arrived, kills = await kill_and_resume(database_url, WhatsApp(twilio))
    assert len(arrived) == PEOPLE and set(arrived.values()) == {1}
    # Not vacuous: some kills left messages Twilio had created but whose answer was never
    # recorded; they were found at Twilio and recorded, not sent again.
    created_unrecorded = sum(
        1 for k in kills for a in k["in_doubt"] if k["arrived"][a] and a not in k["recorded"]
    )
    print(f"\n{created_unrecorded} WhatsApp sends in doubt at the kills were already at Twilio")
    assert created_unrecorded > 0
    assert await sent_rows(database_url) == PEOPLE


async def test_telegram_campaign_killed_three_times_doubles_only_rows_in_flight_at_a_kill(
    database_url,
):
    async with FakeBotAPI() as api:
        arrived, kills = await kill_and_resume(database_url, Telegram(api))
    assert len(arrived) == PEOPLE  # nobody lost
    doubled = {chat for chat, n in arrived.items() if n > 1}
    in_doubt = set().union(*(k["in_doubt"] for k in kills))
    for k in kills:
        # Whoever's answer was recorded when the worker died was never sent it again.
        assert [c for c in k["recorded"] if arrived[c] != k["arrived"][c]] == []
    assert doubled <= in_doubt
    # Each extra copy is one kill that caught her row in flight.
    assert all(arrived[c] - 1 <= sum(c in k["in_doubt"] for k in kills) for c in doubled)
    counts = [len(k["in_doubt"]) for k in kills]
    print(f"\n{len(doubled)} of {PEOPLE} doubled; in doubt at the {KILLS} kills: {counts}")
    assert await sent_rows(database_url) == PEOPLE
