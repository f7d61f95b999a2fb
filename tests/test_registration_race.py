"""A new woman's first messages arriving together: no error, each message handled once.

On PostgreSQL, with real concurrency: two real web processes sharing the journal, several
WhatsApp webhooks from one new number at the same moment, and the router raced directly.
"""

import asyncio
from collections import Counter

import httpx
from sqlalchemy import func, select

from bot.router import Outcome
from handlers.telegram.channel import SECRET_HEADER, WEBHOOK_PATH
from handlers.whatsapp.webhooks import INBOUND_PATH
from models import OutboxMessage, Participant, ProcessedInbound
from tests.channel_support import running_edge
from tests.fakes.telegram_api import FakeBotAPI, make_message_update
from tests.fakes.twilio_api import FakeTwilioAPI
from tests.processes import free_port, wait_until_processed
from tests.support import running_service
from tests.test_durable_inbound import effects, migrated, web_process
from tests.test_router import echo_router, text

WOMEN = 150
MESSAGES_EACH = 3


async def test_two_web_processes_take_the_first_messages_of_the_same_new_women(postgres_url):
    await migrated(postgres_url)
    async with FakeBotAPI() as api:
        ports = [free_port(), free_port()]
        processes = [web_process(postgres_url, api, port) for port in ports]
        for process in processes:
            await process.start()
        secret = api.webhook_secret
        assert secret
        try:
            updates = [
                make_message_update(70_000 + woman, "hello", update_id=1 + n * WOMEN + woman)
                for n in range(MESSAGES_EACH)
                for woman in range(WOMEN)
            ]
            limits = httpx.Limits(max_connections=80)
            async with httpx.AsyncClient(limits=limits, timeout=60) as client:
                gate = asyncio.Semaphore(80)

                async def post(i: int, update: dict) -> int:
                    # Her messages go to both processes, as a load balancer would spread them.
                    url = f"http://127.0.0.1:{ports[i % 2]}{WEBHOOK_PATH}"
                    async with gate:
                        for attempt in range(3):  # no answer: Telegram sends it again
                            try:
                                response = await client.post(
                                    url, json=update, headers={SECRET_HEADER: secret}
                                )
                                break
                            except httpx.TransportError:
                                if attempt == 2:
                                    raise
                    return response.status_code

                statuses = await asyncio.gather(*(post(i, u) for i, u in enumerate(updates)))
            assert set(statuses) == {200}
            await wait_until_processed(postgres_url, WOMEN * MESSAGES_EACH)
        finally:
            for process in processes:
                await process.stop()

    people, per_person, processed, apologies = await effects(postgres_url)
    assert people == WOMEN
    assert processed == WOMEN * MESSAGES_EACH  # each message reached the router, once
    assert apologies == 0
    assert len(set(per_person.values())) == 1  # every woman's three messages did the same
    assert [p.errors() for p in processes] == [[], []]


async def test_three_whatsapp_messages_from_a_new_number_at_once_are_all_handled(postgres_url):
    async with FakeTwilioAPI() as tw, running_edge(postgres_url, twilio=tw) as edge:
        numbers = [f"whatsapp:+4860010{n:04d}" for n in range(10)]
        forms = [tw.make_inbound(number, "hello") for number in numbers for _ in range(3)]
        statuses = await asyncio.gather(
            *(tw.deliver_webhook(edge.url + INBOUND_PATH, form) for form in forms)
        )
        assert set(statuses) == {200}
        await edge.drain()
        async with edge.service.session_factory() as session:
            people = (await session.execute(select(func.count(Participant.id)))).scalar_one()
            handled = (
                await session.execute(
                    select(func.count()).where(ProcessedInbound.participant_id.is_not(None))
                )
            ).scalar_one()
            apologies = (
                await session.execute(
                    select(func.count()).where(OutboxMessage.text_id == "error.generic")
                )
            ).scalar_one()
        assert (people, handled, apologies) == (10, 30, 0)


async def test_first_messages_raced_straight_into_the_router_register_her_once(postgres_url):
    async with running_service(postgres_url) as service:
        router = echo_router(service)
        events = [
            text(f"9{woman:03d}", "hi", f"r{woman}-{n}") for woman in range(20) for n in range(3)
        ]
        outcomes = await asyncio.gather(*(router.handle(event) for event in events))
        assert Counter(outcomes) == {Outcome.HANDLED: 60}
        async with service.session_factory() as session:
            people = (await session.execute(select(func.count(Participant.id)))).scalar_one()
        assert people == 20
