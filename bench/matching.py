"""Matching at scale: 10,000 supporters, 1,000 waiting requests, time and SQL per match.

Run: .venv/bin/python -m bench.matching [SUPPORTERS] [WAITING]  (SQLite, and PostgreSQL if
reachable). The seed is varied and fixed (random.Random(12)): six languages, eight topics, some
topics set aside, weekly hours in several time zones, capacity 1-4, some off duty, paused,
unapproved, suspended or already at capacity with open conversations, a few blocks and reports.

Measured, each in its own transaction and committed (so supporters fill up as in life):
- a new request: what `submit_request` does after creating it (make_offers, and the true reason
  when nobody could be offered it), for the newest MEASURED of the waiting requests;
- a supporter coming on duty: `offer_waiting_requests` over the whole queue (rolled back).
Statements are counted with SQLAlchemy's engine events; p50/p99 are per call.
"""

import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import migrate
from bot.app import Peerline
from bot.settings import Settings
from flows.context import FlowContext
from flows.conversation.eligibility import why_unmatched
from flows.conversation.offers import make_offers, offer_waiting_requests
from flows.conversation.questions import TOPICS
from models import (
    FlowState,
    HelpRequest,
    Match,
    MatchStatus,
    Participant,
    ParticipantBlock,
    Report,
    RequestStatus,
    SupporterProfile,
)

PG_ADMIN = os.environ.get("TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
LANGUAGES = ("en", "pl", "uk", "ru", "fa", "ar")
LANGUAGE_WEIGHTS = (30, 20, 20, 15, 8, 7)
ZONES = ("Europe/Warsaw", "Europe/Kyiv", "Asia/Tehran", "UTC", "Europe/London")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A Wednesday evening in Warsaw: many supporters within their hours, many not.
NOW = datetime(2026, 12, 2, 18, 30, tzinfo=UTC)
MEASURED = 300  # new requests timed (the newest of the queue; the others keep waiting)


def _hours(rng: random.Random) -> list[str]:
    if rng.random() < 0.35:
        return []  # any time
    entries = set()
    for _ in range(rng.randint(1, 5)):
        start = rng.randint(6, 21)
        end = min(24, start + rng.randint(2, 5))
        entries.add(f"{rng.choice(DAYS)} {start:02d}:00-{end:02d}:00")
    return sorted(entries)


def _languages(rng: random.Random) -> list[str]:
    return sorted(set(rng.choices(LANGUAGES, LANGUAGE_WEIGHTS, k=rng.randint(1, 3))))


async def _insert(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    ids: list[int] = []
    for start in range(0, len(rows), 2000):
        result = await session.execute(
            insert(model).returning(model.id, sort_by_parameter_order=True),
            rows[start : start + 2000],
        )
        ids.extend(result.scalars().all())
    return ids


async def seed(
    session_factory: async_sessionmaker[AsyncSession],
    cipher: bytes,
    *,
    supporters: int,
    waiting: int,
    busy: float = 0.15,
    seed_value: int = 12,
    any_time: bool = False,
) -> list[int]:
    """Seed supporters and waiting requests (the ids of the waiting requests, oldest first).

    `busy` of the supporters hold open conversations up to their capacity; `any_time` gives
    every supporter empty weekly hours (what the statement-count test uses, for a fixed count).
    """
    rng = random.Random(seed_value)
    tag = uuid.uuid4().hex[:8]

    def person(role: str, i: int, language: str) -> dict[str, Any]:
        return {"role": role, "channel": "telegram", "address_hash": f"{tag}-{role}-{i}",
                "address_cipher": cipher, "alias": f"{role.title()} {i}", "language": language,
                "consent_terms": True, "created_at": NOW - timedelta(days=30)}  # fmt: skip

    async with session_factory() as session, session.begin():
        supporter_ids = await _insert(session, Participant, [
            person("supporter", i, "en") for i in range(supporters)])  # fmt: skip
        profiles = []
        for sid in supporter_ids:
            paused = rng.random() < 0.08
            profiles.append({
                "participant_id": sid,
                "approved": rng.random() < 0.95, "suspended": rng.random() < 0.01,
                "on_duty": rng.random() < 0.7, "capacity": rng.randint(1, 4),
                "languages": _languages(rng),
                "topics": sorted(set(rng.sample(TOPICS, rng.randint(0, 3)))),
                "excluded_topics": ["violence"] if rng.random() < 0.12 else [],
                "weekly_hours": [] if any_time else _hours(rng),
                "timezone": rng.choice(ZONES),
                "last_matched_at": None if rng.random() < 0.3
                else NOW - timedelta(minutes=rng.randint(5, 60 * 24 * 30)),
                "paused_until": NOW + timedelta(hours=2) if paused else None,
            })  # fmt: skip
        await session.execute(insert(SupporterProfile), profiles)
        # Some supporters are at capacity: open conversations on requests already matched.
        full = [p for p in profiles if rng.random() < busy]
        pairs = [(p["participant_id"], n) for p in full for n in range(p["capacity"])]
        seekers = await _insert(session, Participant, [
            person("seeker", i, "en") for i in range(len(pairs) + waiting)])  # fmt: skip
        matched = await _insert(session, HelpRequest, [
            {"seeker_id": seekers[i], "status": RequestStatus.MATCHED, "topic": "emotional",
             "language": "en", "created_at": NOW - timedelta(days=2),
             "matched_at": NOW - timedelta(days=2)}
            for i in range(len(pairs))
        ])  # fmt: skip
        await session.execute(insert(Match), [
            {"request_id": matched[i], "seeker_id": seekers[i], "supporter_id": sid,
             "status": MatchStatus.ACTIVE, "started_at": NOW - timedelta(days=rng.randint(0, 9)),
             "last_activity_at": NOW - timedelta(hours=1)}
            for i, (sid, _) in enumerate(pairs)
        ] or [])  # fmt: skip
        waiting_seekers = seekers[len(pairs) :]
        await session.execute(insert(FlowState), [
            {"participant_id": s, "flow": "relay", "step": "waiting", "data": {}}
            for s in waiting_seekers
        ])  # fmt: skip
        request_ids = await _insert(session, HelpRequest, [
            {"seeker_id": s, "status": RequestStatus.WAITING, "topic": rng.choice(TOPICS),
             "language": rng.choices(LANGUAGES, LANGUAGE_WEIGHTS)[0],
             "urgent": rng.random() < 0.05, "danger_score": round(rng.random(), 2),
             "created_at": NOW - timedelta(minutes=waiting - i)}
            for i, s in enumerate(waiting_seekers)
        ])  # fmt: skip
        # A few seekers blocked or reported a supporter.
        for s in rng.sample(waiting_seekers, min(len(waiting_seekers), waiting // 10)):
            target = rng.choice(supporter_ids)
            if rng.random() < 0.5:
                session.add(ParticipantBlock(blocker_id=s, blocked_id=target))
            else:
                session.add(Report(reporter_id=s, reported_id=target, reason="abuse"))
    return request_ids


class StatementCounter:
    """Counts the SQL statements an engine runs while `counting()` is open."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0
        self.active = False
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        if self.active:
            self.count += 1

    @contextmanager
    def counting(self) -> Iterator[None]:
        self.count, self.active = 0, True
        try:
            yield
        finally:
            self.active = False


async def new_request_matching(
    session: AsyncSession, request_id: int, settings: Any, now: datetime = NOW
) -> int:
    """What submit_request does once her request exists: offers, or the true reason for none."""
    request = await session.get(HelpRequest, request_id)
    assert request is not None
    seeker = await session.get(Participant, request.seeker_id)
    state = await session.get(FlowState, request.seeker_id)
    assert seeker is not None and state is not None
    ctx = FlowContext(session, seeker, state, now, settings, {})
    offered = await make_offers(ctx, request)
    if not offered:
        await why_unmatched(ctx, request)
    return offered


async def on_duty_matching(
    session: AsyncSession, supporter_id: int, settings: Any, now: datetime = NOW
) -> int:
    supporter = await session.get(Participant, supporter_id)
    assert supporter is not None
    ctx = FlowContext(session, supporter, FlowState(participant_id=supporter_id), now, settings)
    return await offer_waiting_requests(ctx, supporter)


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def measure(label: str, url: str, supporters: int, waiting: int) -> None:
    settings = Settings(_env_file=None, database_url=url, secret_key="bench", env="test")
    service = Peerline(settings)
    await migrate.upgrade(service.engine)
    factory = service.session_factory
    started = time.perf_counter()
    cipher = service.vault.encrypt("telegram", "100200300")
    request_ids = await seed(factory, cipher, supporters=supporters, waiting=waiting)
    async with service.engine.begin() as connection:
        # Fresh statistics, as autovacuum (PostgreSQL) would have them in a running deployment.
        await connection.exec_driver_sql("ANALYZE")
    print(f"{label}: seeded {supporters} supporters, {waiting} waiting requests "
          f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
    counter = StatementCounter(service.engine)
    async with factory() as session:
        on_duty = (await session.execute(
            select(SupporterProfile.participant_id).where(SupporterProfile.approved.is_(True))
            .order_by(SupporterProfile.participant_id).limit(200)
        )).scalars().all()  # fmt: skip

    # A supporter comes on duty with the whole queue waiting (rolled back: the queue stays).
    times, counts, offered = [], [], 0
    for sid in on_duty[:100]:
        async with factory() as session:
            with counter.counting():
                begun = time.perf_counter()
                offered += await on_duty_matching(session, sid, settings)
                times.append(time.perf_counter() - begun)
            counts.append(counter.count)
            await session.rollback()
    print(f"{label}: on duty, {waiting} waiting: p50 {_ms(times, 0.5):6.1f} ms  "
          f"p99 {_ms(times, 0.99):6.1f} ms  statements/call median {statistics.median(counts)} "
          f"max {max(counts)}  ({offered} offers in {len(times)} calls)")  # fmt: skip

    times, counts, offered = [], [], 0
    for request_id in request_ids[-MEASURED:]:
        async with factory() as session, session.begin():
            with counter.counting():
                begun = time.perf_counter()
                offered += await new_request_matching(session, request_id, settings)
                times.append(time.perf_counter() - begun)
            counts.append(counter.count)
    print(f"{label}: new request: p50 {_ms(times, 0.5):6.1f} ms  p99 {_ms(times, 0.99):6.1f} ms  "
          f"statements/match median {statistics.median(counts)} max {max(counts)}  "
          f"({offered} offers for {len(times)} requests, {waiting} waiting)")  # fmt: skip
    await service.stop()


async def main(supporters: int, waiting: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        await measure("SQLite    ", f"sqlite+aiosqlite:///{tmp}/bench.db", supporters, waiting)
    try:
        import asyncpg

        admin = await asyncpg.connect(PG_ADMIN.replace("+asyncpg", ""))
        name = f"peerline_bench_{uuid.uuid4().hex[:8]}"
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
            await measure("PostgreSQL", url, supporters, waiting)
        finally:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            await admin.close()
    except (OSError, ImportError) as error:
        print(f"PostgreSQL not reachable, skipped ({type(error).__name__})")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    asyncio.run(main(*(args + [10_000, 1_000][len(args) :])))
