"""Campaign broadcasts: who receives them, in which language, exactly once, even across crashes."""

import asyncio
from collections import Counter

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bot import migrate
from bot.cli import app
from bot.outbox import OutboxSender
from flows.context import outbox_row
from flows.events import OutboundMessage
from flows.outreach.campaigns import (
    CampaignError,
    broadcast_rates,
    campaign_counts,
    create_campaign,
    enqueue_campaign,
)
from handlers.base import PermanentFailure
from i18n.bidi import strip_marks
from models import (
    AuditEntry,
    Campaign,
    CampaignStatus,
    FlowState,
    OutboxMessage,
    OutboxStatus,
    Participant,
    ParticipantStatus,
)
from models.db import make_engine
from tests.support import TEST_SECRET, RecordingChannel, World, drain, running_service

TEXTS = {
    "en": "Violence is never your fault. Free help, day and night: call 800 120 002.",
    "pl": "Przemoc nigdy nie jest Twoją winą. Bezpłatna pomoc całą dobę: 800 120 002.",
    "uk": "Насильство ніколи не є вашою провиною. Безкоштовна допомога: 800 120 002.",
    "fallback": {"ru": "en", "fa": "en", "ar": "en"},  # named, or the campaign is refused
}


class ProcessKilled(Exception):
    """The queuing process dies here (a deploy, the OOM killer, a pulled plug)."""


class DiesAtCommit:
    """A session that dies at its n-th commit, before the commit reaches the database."""

    def __init__(self, session, survives: int) -> None:
        self._session, self._survives = session, survives

    async def commit(self) -> None:
        if self._survives == 0:
            raise ProcessKilled
        self._survives -= 1
        await self._session.commit()

    def __getattr__(self, name):
        return getattr(self._session, name)


async def add_people(service, *specs, channel: str = "telegram") -> list[int]:
    """People by (address, language, consents to news, status)."""
    vault = service.vault
    async with service.session_factory() as session, session.begin():
        people = [
            Participant(
                channel=channel,
                address_hash=vault.lookup_hash(channel, address),
                address_cipher=vault.encrypt(channel, address),
                alias=f"P {address}",
                language=language,
                consent_terms=True,
                consent_campaigns=consents,
                status=status,
            )  # fmt: skip
            for address, language, consents, status in specs
        ]
        session.add_all(people)
    return [p.id for p in people]


async def many_consenting(service, count: int, start: int = 5000) -> list[str]:
    addresses = [str(start + i) for i in range(count)]
    languages = ("en", "pl", "uk", "ru", "fa", "ar")
    await add_people(service, *[(a, languages[i % 6], True, ParticipantStatus.ACTIVE)
                                for i, a in enumerate(addresses)])  # fmt: skip
    return addresses


async def new_campaign(service, texts=None, name: str = "Safe at home") -> int:
    async with service.session_factory() as session, session.begin():
        texts = texts or TEXTS
        texts = texts if "fallback" in texts else {**texts, "fallback": "en"}
        campaign = await create_campaign(session, name, texts, service.clock.now())
    return campaign.id


async def queue(service, campaign_id: int, **options) -> int:
    async with service.session_factory() as session:
        return await enqueue_campaign(session, campaign_id, service.clock.now(), **options)


def sender_for(service, channel) -> OutboxSender:
    service.channels[channel.name] = channel
    return OutboxSender(service.session_factory, service.vault, service.channels,
                        service.limiter, service.clock)  # fmt: skip


async def rows_per_person(service, campaign_id: int) -> Counter:
    async with service.session_factory() as session:
        owners = await session.execute(
            select(OutboxMessage.participant_id).where(
                OutboxMessage.dedupe_key.startswith(f"campaign:{campaign_id}:")
            )
        )
        return Counter(owners.scalars())


async def test_only_consenting_active_people_get_it_each_in_her_language(database_url):
    async with running_service(database_url) as service:
        active = ParticipantStatus.ACTIVE
        await add_people(
            service,
            ("101", "en", True, active),
            ("102", "pl", True, active),
            ("103", "fa", True, active),  # no Persian text: the English one, her footer
            ("104", None, True, active),  # never chose a language
            ("105", "uk", False, active),  # did not agree to news
            ("106", "en", True, ParticipantStatus.STOPPED),  # blocked the bot
            ("107", "ru", True, ParticipantStatus.BLOCKED),  # banned by a coordinator
        )
        campaign_id = await new_campaign(service)
        assert await queue(service, campaign_id) == 4
        channel = RecordingChannel("telegram", service.clock)
        await drain(sender_for(service, channel), service.clock)

        received = {d.address: d.message for d in channel.deliveries}
        assert sorted(received) == ["101", "102", "103", "104"]
        assert received["101"].text.startswith(TEXTS["en"]) and "/news off" in received["101"].text
        assert received["102"].text.startswith(TEXTS["pl"])
        assert "wyślij /news off" in received["102"].text  # the footer in her language too
        assert strip_marks(received["103"].text).startswith(TEXTS["en"])
        assert "بفرستید" in received["103"].text
        assert received["104"].text.startswith(TEXTS["en"])
        assert {m.kind for m in received.values()} == {"broadcast"}  # a template on WhatsApp
        async with service.session_factory() as session:
            campaign = await session.get(Campaign, campaign_id)
            leftover = (await session.execute(select(OutboxMessage.params))).scalars().all()
            audit = (await session.execute(select(AuditEntry.action, AuditEntry.details)
                                           .order_by(AuditEntry.id))).all()  # fmt: skip
        assert campaign.status == CampaignStatus.SENT and campaign.queued == 4
        assert leftover == [None] * 4  # the words leave the outbox once delivered
        assert [action for action, _ in audit] == ["campaign.create", "campaign.send"]
        assert audit[1][1] == {"added": 4, "queued": 4}


async def test_a_crash_while_queuing_then_send_again_gives_everyone_exactly_one(database_url):
    async with running_service(database_url) as service:
        addresses = await many_consenting(service, 25)
        campaign_id = await new_campaign(service)
        async with service.session_factory() as session:
            with pytest.raises(ProcessKilled):
                # Survives the draft→sending commit and two batches; dies in the third.
                await enqueue_campaign(DiesAtCommit(session, 3), campaign_id,
                                       service.clock.now(), batch_size=4)  # fmt: skip
        assert sum((await rows_per_person(service, campaign_id)).values()) == 8
        async with service.session_factory() as session:
            assert (await session.get(Campaign, campaign_id)).status == CampaignStatus.SENDING

        assert await queue(service, campaign_id, batch_size=4) == 17  # only the rest
        assert await queue(service, campaign_id, batch_size=4) == 0  # and never again
        per_person = await rows_per_person(service, campaign_id)
        assert len(per_person) == 25 and set(per_person.values()) == {1}

        channel = RecordingChannel("telegram", service.clock)
        killed = sender_for(service, channel)
        killed.batch_size = 10
        assert len(await killed.claim()) == 10  # ...and this sender dies before sending
        survivor = sender_for(service, channel)
        await drain(survivor, service.clock)
        service.clock.advance(service.settings.outbox_lease_seconds + 1)  # the lease runs out
        await drain(survivor, service.clock)
        await drain(survivor, service.clock)
        assert sorted(d.address for d in channel.deliveries) == addresses


async def test_the_crash_can_come_after_the_last_batch_before_the_campaign_is_marked_sent(
    database_url,
):
    async with running_service(database_url) as service:
        await many_consenting(service, 6)
        campaign_id = await new_campaign(service)
        async with service.session_factory() as session:
            with pytest.raises(ProcessKilled):  # all three batches in, the final mark lost
                await enqueue_campaign(DiesAtCommit(session, 4), campaign_id,
                                       service.clock.now(), batch_size=2)  # fmt: skip
        assert await queue(service, campaign_id) == 0
        async with service.session_factory() as session:
            campaign = await session.get(Campaign, campaign_id)
        assert (campaign.status, campaign.queued) == (CampaignStatus.SENT, 6)


async def test_sends_of_the_same_campaign_running_at_once_never_double_a_message(postgres_url):
    async with running_service(postgres_url) as service:
        await many_consenting(service, 120)
        campaign_id = await new_campaign(service)
        added = await asyncio.gather(*(queue(service, campaign_id, batch_size=7) for _ in range(3)))
        assert sum(added) == 120
        per_person = await rows_per_person(service, campaign_id)
        assert len(per_person) == 120 and set(per_person.values()) == {1}


async def test_a_campaign_is_spread_out_so_a_reply_never_waits_behind_it(database_url):
    async with running_service(database_url) as service:
        await many_consenting(service, 60)
        [seeker] = await add_people(service, ("777", "en", False, ParticipantStatus.ACTIVE))
        campaign_id = await new_campaign(service)
        rates = broadcast_rates(service.settings)  # half of Telegram's 30 a second
        async with service.session_factory() as session:
            with pytest.raises(ProcessKilled):
                await enqueue_campaign(DiesAtCommit(session, 2), campaign_id,
                                       service.clock.now(), batch_size=20,
                                       rates=rates)  # fmt: skip
        service.clock.advance(0.5)
        await queue(service, campaign_id, rates=rates)
        async with service.session_factory() as session:
            times = sorted((await session.execute(select(OutboxMessage.available_at))).scalars())
            her = await session.get(Participant, seeker)
            start = service.clock.now()
            session.add(outbox_row(her, OutboundMessage("error.generic"), start))
            await session.commit()
        gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
        assert min(gaps) >= 1 / rates["telegram"] - 1e-6  # the resumed run did not overlap

        channel = RecordingChannel("telegram", service.clock)
        await drain(sender_for(service, channel), service.clock)
        reply_at = next(d.at for d in channel.deliveries if d.address == "777")
        assert reply_at - start.timestamp() < 1.0
        assert len(channel.deliveries) == 61
        assert max(d.at for d in channel.deliveries) - start.timestamp() > 3.0


async def test_news_off_stops_further_campaigns_and_news_on_resumes_them(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        amina = await world.seeker("301", language="en")  # she said no to news at first
        await amina.command("news")
        assert "not receiving" in amina.texts[-1]
        assert amina.choices("news:") == ["news:on"]
        await amina.tap("news:on")
        assert "get our short news again" in amina.texts[-1]

        await queue(service, await new_campaign(service, name="First"))
        await world.deliver()
        assert amina.texts[-1].startswith(TEXTS["en"])

        waiting = await new_campaign(service, {"en": "Meeting on Friday at 5."}, name="Second")
        await queue(service, waiting)  # queued, not yet delivered, when she switches off
        await amina.command("news", "off")
        assert "will not send you news" in amina.texts[-1]
        await queue(service, await new_campaign(service, {"en": "A third one."}, name="Third"))
        await world.deliver()
        assert not any("Friday" in t or "third" in t for t in amina.texts)

        await amina.command("news", "on")
        await queue(service, await new_campaign(service, {"en": "The fourth."}, name="Fourth"))
        await world.deliver()
        assert amina.texts[-1].startswith("The fourth.")
        me = await amina.participant()
        async with service.session_factory() as session:
            state = await session.get(FlowState, me.id)
            counts = await campaign_counts(session, waiting)
        assert (state.flow, state.step) == ("intake", "note")  # her conversation is untouched
        assert counts == {"queued": 0, "sent": 0, "failed": 0, "dropped": 1}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("en: [unclosed\n", "not valid YAML at line"),
        ("pl: Tylko po polsku\n", "no text for en, uk, ru, fa, ar"),
        ("en: Hello\nde: Hallo\n", "unknown language 'de'"),
        ("en: " + "x" * 3501 + "\n", "at most 3500"),
        ("- en\n- pl\n", "must map language codes"),
    ],
)
def test_a_bad_campaign_file_is_refused_in_one_line(database_url, monkeypatch, tmp_path,
                                                    content, problem):  # fmt: skip
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET)
    path = tmp_path / "texts.yaml"
    path.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(app, ["campaign", "create", "Bad", "--file", str(path)])
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0 and problem in result.stderr
    assert "Traceback" not in result.output


def test_the_cli_creates_lists_sends_and_reports_a_campaign(database_url, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET)
    runner = CliRunner()

    async def prepare() -> None:
        engine = make_engine(database_url)
        await migrate.upgrade(engine)
        await engine.dispose()
        async with running_service(database_url) as service:
            await many_consenting(service, 9)
            await add_people(service, ("900", "en", False, ParticipantStatus.ACTIVE))

    asyncio.run(prepare())
    assert "No campaigns yet" in runner.invoke(app, ["campaign", "list"]).output
    path = tmp_path / "texts.yaml"
    path.write_text("en: |\n  Violence is never your fault.\npl: Przemoc nigdy nie jest Twoją "
                    "winą.\nfallback: {uk: pl, ru: en, fa: en, ar: en}\n",
                    encoding="utf-8")  # fmt: skip
    made = runner.invoke(app, ["campaign", "create", "Safe at home", "--file", str(path)])
    assert made.exit_code == 0, made.output
    assert "campaign 1 created (en, pl; uk gets pl; ru gets en; fa gets en; ar gets en)" in (
        made.output
    )
    listed = runner.invoke(app, ["campaign", "list"])
    assert "Safe at home" in listed.output and "draft" in listed.output

    async def crash_after_one_batch() -> None:
        async with running_service(database_url) as service:
            async with service.session_factory() as session:
                with pytest.raises(ProcessKilled):
                    await enqueue_campaign(DiesAtCommit(session, 2), 1, service.clock.now(),
                                           batch_size=4)  # fmt: skip

    asyncio.run(crash_after_one_batch())
    sent = runner.invoke(app, ["campaign", "send", "1"])
    assert sent.exit_code == 0, sent.output
    assert "5 queued now, 4 already queued before" in sent.output
    status = runner.invoke(app, ["campaign", "status", "1"])
    assert "sent" in status.output and "queued 9  paused 0  sent 0  delivered 0" in status.output
    again = runner.invoke(app, ["campaign", "send", "1"])
    assert again.exit_code == 0 and "nothing queued again" in again.output
    missing = runner.invoke(app, ["campaign", "send", "42"])
    assert missing.exit_code == 1 and "no campaign 42" in missing.stderr

    async def rows() -> int:
        engine = make_engine(database_url)
        try:
            async with engine.connect() as connection:
                query = select(func.count()).select_from(OutboxMessage.__table__)
                return (await connection.execute(query)).scalar_one()
        finally:
            await engine.dispose()

    assert asyncio.run(rows()) == 9


async def test_create_refuses_a_campaign_that_leaves_a_language_without_text(database_url):
    async with running_service(database_url) as service:
        with pytest.raises(CampaignError, match="no text for en, ru, fa, ar: write one"):
            await new_campaign(service, {"pl": "Tylko po polsku", "fallback": {"uk": "pl"}})
        with pytest.raises(CampaignError, match="fallback en: 'en' has no text"):
            await new_campaign(service, {"pl": "Tylko po polsku", "fallback": "en"})
        async with service.session_factory() as session:
            assert (await session.execute(select(func.count(Campaign.id)))).scalar_one() == 0


async def test_status_counts_follow_the_messages_without_naming_anyone(database_url):
    async with running_service(database_url) as service:
        await many_consenting(service, 4)
        campaign_id = await new_campaign(service)
        await queue(service, campaign_id)
        async with service.session_factory() as session:
            assert await campaign_counts(session, campaign_id) == {
                "queued": 4, "sent": 0, "failed": 0, "dropped": 0}  # fmt: skip
        channel = RecordingChannel("telegram", service.clock)
        channel.fail_next(PermanentFailure("Bad Request: chat not found"))
        await drain(sender_for(service, channel), service.clock)
        async with service.session_factory() as session:
            counts = await campaign_counts(session, campaign_id)
            statuses = Counter((await session.execute(select(OutboxMessage.status))).scalars())
        assert counts == {"queued": 0, "sent": 3, "failed": 1, "dropped": 0}
        assert statuses == {OutboxStatus.SENT: 3, OutboxStatus.FAILED: 1}
