"""Scheduled rows: each due row runs once across workers; a failing job comes back later."""

import asyncio
from datetime import timedelta

from sqlalchemy import select

from bot.scheduler import JobRunner
from models import ScheduledJob
from tests.support import running_service


async def add_jobs(service, count: int, kind: str = "ping", due_in: float = 0) -> None:
    due = service.clock.now() + timedelta(seconds=due_in)
    async with service.session_factory() as session, session.begin():
        session.add_all(ScheduledJob(kind=kind, due_at=due, target_id=i) for i in range(count))


def runner(service, seen: list[int], fail_first: bool = False) -> JobRunner:
    failed: set[int] = set()

    async def ping(session, job, now) -> None:
        if fail_first and job.target_id not in failed:
            failed.add(job.target_id)
            raise RuntimeError("transient")
        seen.append(job.target_id)

    jobs = JobRunner(service.session_factory, clock=service.clock)
    jobs.register("ping", ping)
    return jobs


async def test_a_due_job_runs_once_and_a_future_one_waits(database_url):
    async with running_service(database_url) as service:
        seen: list[int] = []
        await add_jobs(service, 3)
        await add_jobs(service, 1, due_in=600)
        jobs = runner(service, seen)
        assert await jobs.tick() == 3
        assert await jobs.tick() == 0
        service.clock.advance(601)
        assert await jobs.tick() == 1
        assert sorted(seen) == [0, 0, 1, 2]


async def test_a_failing_job_is_retried_later(database_url):
    async with running_service(database_url) as service:
        seen: list[int] = []
        await add_jobs(service, 1)
        jobs = runner(service, seen, fail_first=True)
        await jobs.tick()
        assert seen == []
        service.clock.advance(3600)
        await jobs.tick()
        assert seen == [0]
        async with service.session_factory() as session:
            job = (await session.execute(select(ScheduledJob))).scalar_one()
        assert job.done_at is not None and job.attempts == 2


async def test_workers_ticking_at_once_share_no_job(postgres_url):
    async with running_service(postgres_url) as service:
        seen: list[int] = []
        await add_jobs(service, 40)
        workers = [runner(service, seen) for _ in range(4)]
        await asyncio.gather(*(w.tick(limit=15) for w in workers))
        await asyncio.gather(*(w.tick(limit=15) for w in workers))
        assert sorted(seen) == list(range(40))


async def test_a_job_that_always_fails_gives_up_after_about_a_day(database_url):
    async with running_service(database_url) as service:
        await add_jobs(service, 1)

        async def broken(session, job, now) -> None:
            raise RuntimeError("a bug")

        jobs = JobRunner(service.session_factory, clock=service.clock)
        jobs.register("ping", broken)
        for _ in range(40):
            await jobs.tick()
            service.clock.advance(3601)
        async with service.session_factory() as session:
            job = (await session.execute(select(ScheduledJob))).scalar_one()
        assert job.done_at is not None and job.payload["failed"] is True
        assert job.attempts == 30
