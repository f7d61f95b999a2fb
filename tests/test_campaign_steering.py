"""Steering a campaign: segments and consent, her hours and the send time, preview and test send,
pause, resume and cancel, one-tap opt-out, and 403s that mark recipients stopped."""

import asyncio
from datetime import UTC, datetime, timedelta

import yaml
from sqlalchemy import select, update
from typer.testing import CliRunner

from bot.cli import app
from bot.clock import VirtualClock
from flows.events import EventKind, InboundEvent
from flows.outreach import steering
from flows.outreach.campaigns import create_campaign, enqueue_campaign
from handlers.base import RecipientUnreachable
from i18n import translate
from models import Campaign, CampaignStatus, OutboxMessage, OutboxStatus, Participant
from tests.support import TEST_SECRET, RecordingChannel, World, drain, running_service
from tests.test_campaigns import add_people, sender_for

ACTIVE = "active"
TEXTS = {
    "en": "Free legal advice on Saturday, 10:00-14:00.",
    "pl": "Bezpłatna porada prawna w sobotę, 10:00-14:00.",
    "uk": "Безкоштовна юридична консультація в суботу, 10:00-14:00.",
    "ru": "Бесплатная юридическая консультация в субботу, 10:00-14:00.",
    "fa": "مشاورهٔ حقوقی رایگان، شنبه ساعت 10:00 تا 14:00.",
    "ar": "استشارة قانونية مجانية يوم السبت من 10:00 إلى 14:00.",
}
NOON = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)  # 12:00 in Warsaw


async def campaign_with(service, **options) -> int:
    async with service.session_factory() as session, session.begin():
        campaign = await create_campaign(session, "Spring", TEXTS, service.clock.now(), **options)
    return campaign.id


async def queue(service, campaign_id: int, **options) -> int:
    async with service.session_factory() as session:
        return await enqueue_campaign(session, campaign_id, service.clock.now(),
                                      config=service.settings, **options)  # fmt: skip


async def rows(service, campaign_id: int) -> list[OutboxMessage]:
    async with service.session_factory() as session:
        query = select(OutboxMessage).where(
            OutboxMessage.dedupe_key.startswith(f"campaign:{campaign_id}:")
        )
        return list((await session.execute(query.order_by(OutboxMessage.id))).scalars())


async def steer(service, action: str, campaign_id: int) -> int:
    async with service.session_factory() as session, session.begin():
        return await getattr(steering, action)(session, campaign_id, service.clock.now(), "t")


async def counts(service, campaign_id: int) -> dict[str, int]:
    async with service.session_factory() as session:
        return await steering.delivery_counts(session, campaign_id)


async def test_a_segment_narrows_only_the_women_who_agreed_to_news(database_url):
    async with running_service(database_url, clock=VirtualClock(NOON)) as service:
        ids = await add_people(
            service,
            ("1", "uk", True, ACTIVE), ("2", "ru", True, ACTIVE), ("3", "pl", True, ACTIVE),
            ("4", "uk", False, ACTIVE), ("5", "uk", True, "stopped"), ("6", "ru", True, ACTIVE),
        )  # fmt: skip
        async with service.session_factory() as session, session.begin():
            await session.execute(update(Participant).values(last_inbound_at=NOON))
            old = NOON - timedelta(days=60)
            await session.execute(update(Participant).where(Participant.id == ids[5])
                                  .values(last_inbound_at=old))  # fmt: skip
            await session.execute(update(Participant).where(Participant.id == ids[1])
                                  .values(role="supporter"))  # fmt: skip
        segment = {"languages": ["uk", "ru"], "active_days": 30, "roles": ["seeker", "supporter"]}
        campaign_id = await campaign_with(service, segment=segment)
        assert await queue(service, campaign_id) == 2
        assert sorted(r.participant_id for r in await rows(service, campaign_id)) == ids[:2]


def test_a_wrong_segment_is_refused_in_one_line():
    for raw, words in (({"languages": ["xx"]}, "unknown language 'xx'"),
                       ({"region": "north"}, "unknown segment key 'region'"),
                       ({"active_days": 0}, "active_days")):  # fmt: skip
        try:
            steering.validate_segment(raw)
        except steering.SteeringError as error:
            assert words in str(error)
        else:
            raise AssertionError(raw)


async def test_send_time_then_her_own_hours_and_never_first_is_left_out(database_url):
    async with running_service(database_url, clock=VirtualClock(NOON)) as service:
        ids = await add_people(service, ("1", "en", True, ACTIVE), ("2", "en", True, ACTIVE),
                               ("3", "en", True, ACTIVE))  # fmt: skip
        async with service.session_factory() as session, session.begin():
            await session.execute(update(Participant).where(Participant.id == ids[1])
                                  .values(timezone="Asia/Kabul"))  # fmt: skip
            await session.execute(update(Participant).where(Participant.id == ids[2])
                                  .values(reach_hours="never"))  # fmt: skip
        at = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)  # 17:00 Warsaw, 20:30 Kabul
        campaign_id = await campaign_with(service, send_at=at)
        assert await queue(service, campaign_id) == 2
        due = {
            r.participant_id: r.available_at.astimezone(UTC)
            for r in await rows(service, campaign_id)
        }
        assert due[ids[0]] == at
        assert due[ids[1]] >= at and due[ids[1]] < at + timedelta(seconds=1)  # 20:30 in Kabul
        later = await campaign_with(service, send_at=datetime(2026, 3, 2, 17, 0, tzinfo=UTC))
        await queue(service, later)
        kabul = [r for r in await rows(service, later) if r.participant_id == ids[1]][0]
        # 21:30 in Kabul is past her hours: the next morning at 09:00 Kabul (04:30 UTC).
        assert kabul.available_at.astimezone(UTC) == datetime(2026, 3, 3, 4, 30, tzinfo=UTC)


async def test_preview_in_each_language_and_a_test_send_to_the_coordinator(database_url):
    async with running_service(database_url, clock=VirtualClock(NOON)) as service:
        world = World.around(service)
        coordinator = await world.supporter("c1", role="coordinator", alias="Coord")
        campaign_id = await campaign_with(service)
        async with service.session_factory() as session, session.begin():
            campaign = await session.get(Campaign, campaign_id)
            shown = steering.preview(campaign)
            me = await session.execute(select(Participant).where(Participant.alias == "Coord"))
            await steering.test_send(session, campaign, me.scalar_one(), service.clock.now())
        assert sorted(shown) == sorted(TEXTS)
        assert shown["pl"].startswith(TEXTS["pl"]) and "/news off" in shown["en"]
        assert TEXTS["ar"] in shown["ar"]
        assert translate("en", "news.btn_off") in shown["en"]
        await world.deliver()
        assert coordinator.texts[-1].startswith(TEXTS["en"])
        assert coordinator.choices("news:") == ["news:off"]
        assert sum((await counts(service, campaign_id)).values()) == 0  # not the campaign's


async def test_pause_keeps_back_resume_goes_on_cancel_drops_for_good(database_url):
    async with running_service(database_url, clock=VirtualClock(NOON)) as service:
        await add_people(service, *[(str(100 + i), "en", True, ACTIVE) for i in range(12)])
        campaign_id = await campaign_with(service)
        assert await queue(service, campaign_id, rates={"telegram": 1.0}) == 12  # one a second
        channel = RecordingChannel("telegram", service.clock)
        sender = sender_for(service, channel)
        await sender.run_once()
        sent_first = len(channel.deliveries)
        assert sent_first >= 1

        assert await steer(service, "pause", campaign_id) == 12 - sent_first
        service.clock.advance(3600)
        await drain(sender, service.clock)
        assert len(channel.deliveries) == sent_first
        assert (await counts(service, campaign_id))["paused"] == 12 - sent_first

        assert await steer(service, "resume", campaign_id) == 12 - sent_first
        waiting = [r.available_at for r in await rows(service, campaign_id)
                   if r.status == OutboxStatus.PENDING]  # fmt: skip
        assert min(waiting) >= service.clock.now() - timedelta(seconds=1)  # shifted by the pause
        service.clock.advance(2)
        await sender.run_once()
        sent_second = len(channel.deliveries)
        assert sent_second > sent_first

        dropped = await steer(service, "cancel", campaign_id)
        assert dropped == 12 - sent_second
        await drain(sender, service.clock)
        assert len(channel.deliveries) == sent_second
        tally = await counts(service, campaign_id)
        assert (tally["sent"], tally["dropped"], tally["queued"]) == (sent_second, dropped, 0)
        assert len({d.address for d in channel.deliveries}) == sent_second  # each at most once
        async with service.session_factory() as session:
            assert (await session.get(Campaign, campaign_id)).status == CampaignStatus.CANCELLED


async def test_one_tap_on_the_campaign_message_stops_the_news(database_url):
    async with running_service(database_url, clock=VirtualClock(NOON)) as service:
        world = World.around(service)
        her = await world.seeker("h1")
        async with service.session_factory() as session, session.begin():
            await session.execute(update(Participant).values(consent_campaigns=True))
        first, second = await campaign_with(service), await campaign_with(service)
        await queue(service, first)
        await world.deliver()
        assert her.choices("news:") == ["news:off"]
        await queue(service, second, rates={"telegram": 0.001})  # still waiting for her
        await her.tap("news:off")
        assert her.texts[-1] == translate("en", "news.turned_off")
        assert (await her.participant()).consent_campaigns is False
        assert (await counts(service, second))["opted_out"] == 1


async def test_a_403_marks_her_stopped_and_counts_as_blocked(database_url):
    async with running_service(database_url, clock=VirtualClock(NOON)) as service:
        ids = await add_people(service, ("1", "en", True, ACTIVE), ("2", "en", True, ACTIVE))
        campaign_id = await campaign_with(service)
        await queue(service, campaign_id)
        channel = RecordingChannel("telegram", service.clock)
        channel.fail_next(RecipientUnreachable("blocked by the user"), address="1")
        await drain(sender_for(service, channel), service.clock)
        tally = await counts(service, campaign_id)
        assert (tally["sent"], tally["blocked"]) == (1, 1)
        async with service.session_factory() as session:
            assert (await session.get(Participant, ids[0])).status == "stopped"


def test_the_cli_previews_tests_pauses_resumes_cancels_and_reports(
    database_url, monkeypatch, tmp_path
):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET)
    runner = CliRunner()

    async def prepare() -> None:
        async with running_service(database_url) as service:
            world = World.around(service)
            await world.supporter("c1", role="coordinator", alias="Coord")
            await add_people(service, *[(str(100 + i), "en", True, ACTIVE) for i in range(5)])

    asyncio.run(prepare())
    path = tmp_path / "texts.yaml"
    path.write_text(yaml.safe_dump(TEXTS, allow_unicode=True), encoding="utf-8")
    made = runner.invoke(app, ["campaign", "create", "Advice", "--file", str(path),
                               "--language", "en", "--channel", "telegram"])  # fmt: skip
    assert made.exit_code == 0, made.output
    shown = runner.invoke(app, ["campaign", "preview", "1"])
    assert "--- uk" in shown.output and TEXTS["uk"] in shown.output
    assert "telegram: 5 women, about 0 s at our own pace" in shown.output
    assert "a test copy is on its way" in runner.invoke(
        app, ["campaign", "test", "1", "--to", "Coord"]).output  # fmt: skip
    assert runner.invoke(app, ["campaign", "test", "1", "--to", "Nobody"]).exit_code == 1
    assert runner.invoke(app, ["campaign", "send", "1"]).exit_code == 0
    paused = runner.invoke(app, ["campaign", "pause", "1"])
    assert "paused: 5 messages wait" in paused.output, paused.output
    assert "paused 5" in runner.invoke(app, ["campaign", "status", "1"]).output
    assert "resumed: 5 messages go on" in runner.invoke(app, ["campaign", "resume", "1"]).output
    cancelled = runner.invoke(app, ["campaign", "cancel", "1"])
    assert "cancelled: 5 messages will not be sent" in cancelled.output
    again = runner.invoke(app, ["campaign", "resume", "1"])
    assert again.exit_code == 1 and "is cancelled, not paused" in again.output


async def coordinator_says(service, address: str, words: str) -> None:
    service.clock.advance(3)
    name, _, args = words.removeprefix("/").partition(" ")
    event = InboundEvent("telegram", address, EventKind.COMMAND, f"c{service.clock.now()}",
                         text=words, command=name, args=args)  # fmt: skip
    await service.router.handle(event)


async def test_a_coordinator_steers_from_her_chat_and_the_status_message_keeps_up(database_url):
    async with running_service(database_url, clock=VirtualClock(NOON)) as service:
        world = World.around(service)
        coordinator = await world.supporter("c1", role="coordinator", alias="Coord")
        seeker = await world.seeker("h1")
        await add_people(service, *[(str(100 + i), "en", True, ACTIVE) for i in range(6)])
        campaign_id = await campaign_with(service)
        await queue(service, campaign_id, rates={"telegram": 0.1})  # one every 10 s
        sender = service.sender

        await coordinator_says(service, "c1", f"/campaign status {campaign_id}")
        await sender.run_once()
        status = coordinator.received[-1]
        assert status.message.text.startswith(f"Campaign {campaign_id} “Spring”: fully queued.")
        assert "Queued: 6" in status.message.text or "Queued: 5" in status.message.text

        service.clock.advance(31)
        await service.jobs.tick()
        await sender.run_once()
        edit = coordinator.received[-1]
        assert edit.message.kind == "edit"
        assert edit.message.extra["_edit_of"] == str(coordinator.world.channel.deliveries
                                                     .index(status) + 1)  # fmt: skip
        assert "sent: " in edit.message.text and "Queued: 6" not in edit.message.text

        await coordinator_says(service, "c1", f"/campaign pause {campaign_id}")
        await coordinator_says(service, "c1", f"/campaign resume {campaign_id}")
        await coordinator_says(service, "c1", f"/campaign cancel {campaign_id}")
        await coordinator_says(service, "c1", f"/campaign cancel {campaign_id}")
        await coordinator_says(service, "c1", "/campaign")
        await drain(sender, service.clock)
        texts = coordinator.texts
        assert any(t.startswith(f"Campaign {campaign_id} paused. Messages waiting:") for t in texts)
        assert any(t.startswith(f"Campaign {campaign_id} resumed.") for t in texts)
        assert any(t.startswith(f"Campaign {campaign_id} cancelled.") for t in texts)
        assert translate("en", "campaign.chat_cannot",
                         {"id": campaign_id, "state": {"msgid": "campaign.state_cancelled"}}
                         ) in texts  # fmt: skip
        assert texts[-1] == translate("en", "campaign.chat_usage")

        await seeker.command("campaign", f"cancel {campaign_id}")
        assert "Campaign" not in seeker.texts[-1]  # not a command for her


async def test_the_expected_duration_is_shown_per_channel_at_our_own_pace(database_url):
    async with running_service(database_url, clock=VirtualClock(NOON)) as service:
        await add_people(service, *[(f"+4860000{i:04d}", "pl", True, ACTIVE)
                                    for i in range(300)], channel="whatsapp")  # fmt: skip
        campaign_id = await campaign_with(service)
        async with service.session_factory() as session:
            campaign = await session.get(Campaign, campaign_id)
            rates = {"whatsapp": 5.0, "telegram": 15.0}
            assert await steering.expected_duration(session, campaign, rates) == {
                "whatsapp": (300, 60.0)
            }
