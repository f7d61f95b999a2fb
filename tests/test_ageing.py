"""Retention that finishes the job: silent people erased as by /forget, old marks, blocks and
audit lines purged on their own schedules, and nothing left of them but counts."""

from datetime import timedelta

from sqlalchemy import func, select, update

from flows.safety.retention import KIND
from models import (
    AuditEntry,
    DailyCount,
    FlowState,
    GuardMark,
    HelpRequest,
    Participant,
    ParticipantBlock,
    ParticipantStatus,
    ScheduledJob,
    SupporterProfile,
)
from tests.support import World, running_service


async def test_the_daily_job_erases_the_silent_and_ages_out_marks_blocks_and_audit(database_url):
    async with running_service(database_url, inactive_erase_days=180) as service:
        world = World.around(service)
        now = service.clock.now()
        silent = await (await world.seeker("h1", alias="Silent 1")).participant()
        waiting = await world.seeker("h2", alias="Waiting 2")
        await world.ask_for_help(waiting)
        waiting = await waiting.participant()
        recent = await (await world.seeker("h3", alias="Recent 3")).participant()
        banned = await (await world.seeker("h4", alias="Banned 4")).participant()
        helper = await (await world.supporter("s1", alias="Quiet Sup")).participant()
        coordinator = await (await world.supporter("c1", role="coordinator")).participant()
        long_ago, lately = now - timedelta(days=200), now - timedelta(days=10)
        async with service.session_factory() as session, session.begin():
            for person, last in ((silent, long_ago), (waiting, long_ago), (recent, lately),
                                 (banned, long_ago), (helper, long_ago),
                                 (coordinator, long_ago)):  # fmt: skip
                await session.execute(update(Participant).where(Participant.id == person.id)
                                      .values(last_inbound_at=last))  # fmt: skip
            await session.execute(update(Participant).where(Participant.id == banned.id)
                                  .values(status=ParticipantStatus.BLOCKED))  # fmt: skip
            await session.execute(update(HelpRequest).values(created_at=long_ago))
            session.add(GuardMark(participant_id=recent.id, flood_window_start=now - timedelta(40)))
            session.add(GuardMark(participant_id=banned.id, ban_notice_at=now - timedelta(days=1)))
            session.add(ParticipantBlock(blocker_id=recent.id, blocked_id=banned.id,
                                         created_at=now - timedelta(days=400)))  # fmt: skip
            session.add(ParticipantBlock(blocker_id=waiting.id, blocked_id=banned.id,
                                         created_at=now - timedelta(days=5)))  # fmt: skip
            session.add(AuditEntry(at=now - timedelta(days=800), actor="cli", action="ban",
                                   target=f"participant:{banned.id}"))  # fmt: skip
            session.add(AuditEntry(at=now - timedelta(days=3), actor="cli", action="unban",
                                   target=f"participant:{banned.id}"))  # fmt: skip
            session.add(ScheduledJob(kind=KIND, due_at=now, payload={}))
        await world.run_jobs()

        async with service.session_factory() as session:
            left = set((await session.execute(select(Participant.alias))).scalars())
            marks = (await session.execute(select(GuardMark.participant_id))).scalars().all()
            blocks = (await session.execute(select(ParticipantBlock.blocker_id))).scalars().all()
            audit = (await session.execute(select(AuditEntry.action))).scalars().all()
            counts = dict((await session.execute(select(DailyCount.name, DailyCount.value))).all())
            requests = (await session.execute(select(func.count(HelpRequest.id)))).scalar_one()
        assert "Silent 1" not in left and "Quiet Sup" not in left  # erased, as by /forget
        assert {"Waiting 2", "Recent 3", "Banned 4"} <= left  # open request, recent, banned
        assert "Supporter c1" in left  # coordinators stay
        assert marks == [banned.id] and blocks == [waiting.id] and audit == ["unban"]
        assert requests == 1  # her waiting request is untouched
        assert counts["purged.inactive"] == 2 and counts["purged.guard_marks"] == 1
        assert counts["purged.blocks"] == 1 and counts["purged.audit"] == 1
        # Nobody who was erased for silence is written to: it could expose her on a shared phone.
        assert not [d for d in world.channel.deliveries if d.address in ("h1", "s1")]


async def test_flow_states_nobody_touched_are_forgotten_but_live_and_kept_places_stay(
    database_url,
):
    async with running_service(
        database_url, flow_state_days=30, request_expiry_hours=10_000
    ) as service:
        world = World.around(service)
        gone = await world.seeker("h1", alias="Gone 1")
        waiting = await world.seeker("h2", alias="Waiting 2")
        await world.ask_for_help(waiting)
        back = await world.seeker("h3", alias="Back 3")
        ready = await world.supporter("s1", alias="Ready Sup", on_duty=False)
        writing = await world.supporter("s2", alias="Writing Sup", approved=False)
        async with service.session_factory() as session, session.begin():
            await session.execute(update(FlowState).where(
                FlowState.participant_id == (await writing.participant()).id
            ).values(step="topics"))  # fmt: skip
        service.clock.advance(31 * 24 * 3600)
        await back.text("hello again")  # she wrote lately: her state is not left behind
        async with service.session_factory() as session, session.begin():
            session.add(ScheduledJob(kind=KIND, due_at=service.clock.now(), payload={}))
        await world.run_jobs()

        async with service.session_factory() as session:
            states = dict((await session.execute(
                select(Participant.alias, FlowState.step)
                .join(FlowState, FlowState.participant_id == Participant.id)
            )).all())  # fmt: skip
            counts = dict((await session.execute(select(DailyCount.name, DailyCount.value))).all())
            left = set((await session.execute(select(Participant.alias))).scalars())
        assert "Gone 1" not in states and "Ready Sup" not in states
        assert {"Waiting 2", "Back 3"} <= set(states) and states["Writing Sup"] == "topics"
        assert counts["purged.flow_states"] == 2
        assert {"Gone 1", "Ready Sup"} <= left  # only the state goes, never the person

        # Her next message finds the menu; a supporter finds hers and can go on duty.
        await gone.text("hi")
        assert gone.choices("menu:")
        await ready.command("available")
        async with service.session_factory() as session:
            profile = await session.get(SupporterProfile, (await ready.participant()).id)
        assert profile.on_duty


async def test_flow_state_days_zero_keeps_every_state(database_url):
    async with running_service(database_url, flow_state_days=0, inactive_erase_days=0) as service:
        world = World.around(service)
        await world.seeker("h1", alias="Gone 1")
        service.clock.advance(400 * 24 * 3600)
        async with service.session_factory() as session, session.begin():
            session.add(ScheduledJob(kind=KIND, due_at=service.clock.now(), payload={}))
        await world.run_jobs()
        async with service.session_factory() as session:
            count = await session.execute(select(func.count()).select_from(FlowState))
            assert count.scalar_one() == 1
