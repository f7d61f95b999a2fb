"""Coordinator commands in the chat and on the command line; nobody else can use them."""

import asyncio

from sqlalchemy import select
from typer.testing import CliRunner

from bot import migrate
from bot.cli import app
from models import AuditEntry, Invite, SupporterProfile
from models.db import make_engine
from tests.support import TEST_SECRET, ChatUser, running_service
from tests.test_onboarding import a_coordinator, build_profile, new_invite


def choices(messages) -> list[str]:
    return [b.choice for m in messages for b in m.buttons]


async def waiting_supporter(service, address: str, alias: str) -> ChatUser:
    user = ChatUser(service, address)
    await user.command("start", await new_invite(service))
    await build_profile(user, alias=alias)
    return user


async def approved(service, user: ChatUser) -> bool:
    me = await user.participant()
    async with service.session_factory() as session:
        return (await session.get(SupporterProfile, me.id)).approved


async def test_invite_gives_a_one_time_deep_link_that_works(database_url):
    async with running_service(database_url, telegram_bot_username="peerline_bot") as service:
        coordinator = await a_coordinator(service, "900")
        [shown] = await coordinator.command("invite", "48")
        assert "https://t.me/peerline_bot?start=" in shown.text and "48 hours" in shown.text
        code = shown.text.split("?start=")[1].split()[0]
        newcomer = ChatUser(service, "901")
        await newcomer.command("start", code)
        assert (await newcomer.participant()).role == "supporter"
        async with service.session_factory() as session:
            query = select(Invite).where(Invite.created_by != "cli")
            invite = (await session.execute(query)).scalar_one()
        assert (invite.expires_at - invite.created_at).total_seconds() == 48 * 3600


async def test_invite_without_a_bot_username_gives_the_code_to_type(database_url):
    async with running_service(database_url) as service:
        coordinator = await a_coordinator(service, "902")
        [shown] = await coordinator.command("invite", "coordinator")
        assert "join " in shown.text and "t.me" not in shown.text
        [usage] = await coordinator.command("invite", "forever")
        assert "/invite 48" in usage.text


async def test_pending_lists_waiting_supporters_and_a_tap_approves_and_tells_her(database_url):
    async with running_service(database_url) as service:
        coordinator = await a_coordinator(service, "903")
        sunny = await waiting_supporter(service, "904", "Sunny")
        count, card = await coordinator.command("pending")
        assert "1" in count.text and "Sunny" in card.text and "English" in card.text
        [approve] = choices([card])
        [done] = await coordinator.tap(approve)
        assert "Sunny is approved" in done.text
        assert await approved(service, sunny)
        assert "approved as a supporter" in (await sunny.inbox())[-1].text
        [again] = await coordinator.tap(approve)
        assert "already approved" in again.text
        [empty] = await coordinator.command("pending")
        assert "Nobody is waiting" in empty.text


async def test_approve_by_alias_and_a_kind_answer_for_an_unknown_one(database_url):
    async with running_service(database_url) as service:
        coordinator = await a_coordinator(service, "905")
        lina = await waiting_supporter(service, "906", "Lina")
        [unknown] = await coordinator.command("approve", "Nobody")
        assert "found no supporter" in unknown.text
        await coordinator.command("approve", "lina")
        assert await approved(service, lina)
        async with service.session_factory() as session:
            actions = (await session.execute(select(AuditEntry.action))).scalars().all()
        assert "supporter.approve" in actions


async def test_coordinator_commands_refuse_supporters_and_seekers(database_url):
    async with running_service(database_url) as service:
        lina = await waiting_supporter(service, "907", "Lina")
        seeker = ChatUser(service, "908")
        await seeker.text("hi")
        target = (await lina.participant()).id
        for person in (lina, seeker):
            for command, args in (("invite", ""), ("pending", ""), ("approve", "Lina")):
                [answer] = await person.command(command, args)
                assert "do not know that command" in answer.text
            [answer] = await person.tap(f"coord:approve:{target}")
            assert "do not know that command" in answer.text
        assert not await approved(service, lina)
        async with service.session_factory() as session:
            makers = set((await session.execute(select(Invite.created_by))).scalars())
        assert makers == {"cli"}  # only the test's own invite: nobody else could make one


def test_the_cli_creates_invites_lists_and_approves_supporters(database_url, monkeypatch, tmp_path):
    """The first coordinator of a deployment comes from `peerline invite create --role ...`."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "peerline_bot")
    runner = CliRunner()

    async def prepare() -> None:
        engine = make_engine(database_url)
        await migrate.upgrade(engine)
        await engine.dispose()

    asyncio.run(prepare())
    made = runner.invoke(app, ["invite", "create", "--role", "coordinator", "--hours", "5"])
    assert made.exit_code == 0, made.output
    assert "coordinator" in made.output and "https://t.me/peerline_bot?start=" in made.output
    assert runner.invoke(app, ["invite", "create", "--role", "boss"]).exit_code == 2

    empty = runner.invoke(app, ["supporter", "list"])
    assert "No supporters yet" in empty.output

    async def join_and_wait() -> None:
        async with running_service(database_url) as service:
            await waiting_supporter(service, "910", "Mira")

    asyncio.run(join_and_wait())
    listed = runner.invoke(app, ["supporter", "list"])
    assert "Mira" in listed.output and "WAITING" in listed.output
    done = runner.invoke(app, ["supporter", "approve", "Mira"])
    assert done.exit_code == 0 and "approved" in done.output
    assert "WAITING" not in runner.invoke(app, ["supporter", "list"]).output
    missing = runner.invoke(app, ["supporter", "approve", "Nobody"])
    assert missing.exit_code == 1


async def test_a_profile_still_being_written_cannot_be_approved(database_url):
    async with running_service(database_url) as service:
        coordinator = await a_coordinator(service, "911")
        half = ChatUser(service, "912")
        await half.command("start", await new_invite(service))
        await half.text("Nadia")
        [answer] = await coordinator.command("approve", "Nadia")
        assert "not finished her profile" in answer.text
        assert not await approved(service, half)
        [empty] = await coordinator.command("pending")
        assert "Nobody is waiting" in empty.text
