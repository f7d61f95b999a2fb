"""A campaign through the real Telegram channel to the fake Bot API: a storm of 429s slows it
without losing or doubling anyone, and 403s mark the recipients who blocked the bot stopped."""

from collections import Counter

from sqlalchemy import select

from flows.outreach.campaigns import create_campaign, enqueue_campaign
from flows.outreach.steering import delivery_counts
from models import Participant
from tests.channel_support import running_edge
from tests.fakes.telegram_api import FakeBotAPI

TEXTS = {"en": "Free legal advice on Saturday.", "fallback": "en"}


async def people(service, count: int) -> list[int]:
    vault = service.vault
    async with service.session_factory() as session, session.begin():
        rows = [Participant(channel="telegram", alias="p", language="en", consent_terms=True,
                            consent_campaigns=True,
                            address_hash=vault.lookup_hash("telegram", str(7000 + i)),
                            address_cipher=vault.encrypt("telegram", str(7000 + i)))
                for i in range(count)]  # fmt: skip
        session.add_all(rows)
    return [r.id for r in rows]


async def campaign(service) -> int:
    async with service.session_factory() as session, session.begin():
        made = await create_campaign(session, "Storm", TEXTS, service.clock.now())
    async with service.session_factory() as session:
        await enqueue_campaign(session, made.id, service.clock.now(), rates={})
    return made.id


async def test_a_429_storm_slows_the_campaign_without_loss_or_doubles(database_url):
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api, webhook=False) as edge:
        service = edge.service
        await people(service, 120)
        campaign_id = await campaign(service)
        for _ in range(60):  # every other call for a while: "retry after 3 s"
            api.add_result_for("sendMessage", ok=False, retry_after=3)
        started = service.clock.now()
        await edge.drain()

        delivered = Counter(str(c.params["chat_id"]) for c in api.calls_to("sendMessage") if c.ok)
        assert sorted(delivered) == sorted(str(7000 + i) for i in range(120))
        assert set(delivered.values()) == {1}  # each exactly once
        assert sum(1 for c in api.calls_to("sendMessage") if not c.ok) == 60
        assert (service.clock.now() - started).total_seconds() >= 3  # it slowed down
        tally = await _counts(service, campaign_id)
        assert (tally["sent"], tally["failed"], tally["queued"]) == (120, 0, 0)


async def test_403s_mark_the_recipients_stopped_and_the_rest_get_it(database_url):
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api, webhook=False) as edge:
        service = edge.service
        ids = await people(service, 30)
        campaign_id = await campaign(service)
        for chat in (7003, 7017):
            api.add_result_for("sendMessage", ok=False, error_code=403, chat_id=chat)
        await edge.drain()

        tally = await _counts(service, campaign_id)
        assert (tally["sent"], tally["blocked"]) == (28, 2)
        async with service.session_factory() as session:
            stopped = (await session.execute(
                select(Participant.id).where(Participant.status == "stopped")
            )).scalars().all()  # fmt: skip
        assert sorted(stopped) == [ids[3], ids[17]]


async def _counts(service, campaign_id: int) -> dict[str, int]:
    async with service.session_factory() as session:
        return await delivery_counts(session, campaign_id)
