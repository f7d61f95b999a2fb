"""No words at rest: after a conversation is delivered, the raw database bytes hold none of them.

SQLite: the database file and its WAL, read before any checkpoint. PostgreSQL: every heap file
of the test database after a CHECKPOINT, dead tuples included (no VACUUM ran).
"""

from pathlib import Path

import asyncpg
from sqlalchemy import select

from flows.safety import retention
from models import HelpRequest
from models.db import truncate_wal
from tests.support import PG_ADMIN_URL, World, running_service

# Distinctive words, so a match can only be a copy of them.
HER_SENTENCE = "Zorvath quillimane ate my passport"
HER_NUMBER = "+48 601 987 654"
RELAYED = ["Brindlewick the neighbour shouts", "Quenthara keeps my keys", "Yes I hear Plovdimar"]
DANGER = "Tarnuvel says he will kill me tonight"


async def a_delivered_conversation(service) -> None:
    world = World.around(service)
    helper = await world.supporter("s1", alias="Sup s1")
    her = await world.seeker("h1", alias="Her h1")
    await her.text(f"{HER_SENTENCE}, call {HER_NUMBER}")
    await helper.tap(helper.choices("offer:accept")[-1])
    await her.text(RELAYED[0])
    await her.text(RELAYED[1])
    await helper.text(RELAYED[2])
    await her.text(DANGER)
    await world.deliver()
    assert helper.texts, "the conversation did not happen"


def needles() -> list[bytes]:
    words = [
        HER_SENTENCE.split()[0],
        HER_NUMBER.replace(" ", "")[-6:],
        "987 654",
        DANGER.split()[0],
    ]
    words += [text.split()[0] if text[0] != "Y" else text.split()[-1] for text in RELAYED]
    found = []
    for word in words:
        found += [word.encode(), word.encode("utf-16-le")]
    return found


def read_all(data_dir: Path, relative: str) -> bytes:
    return b"".join(path.read_bytes() for path in data_dir.glob(relative + "*"))


def leaks(data: bytes) -> list[bytes]:
    return [needle for needle in needles() if needle in data]


async def test_sqlite_file_and_wal_hold_no_words(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/words.db"
    async with running_service(url) as service:
        await a_delivered_conversation(service)
        async with service.session_factory() as session:
            note = (await session.execute(select(HelpRequest.note))).scalars().first()
        files = [p for p in tmp_path.iterdir() if p.name.startswith("words.db")]
        raw = b"".join(p.read_bytes() for p in files)
        assert any(p.name.endswith("-wal") for p in files)
        assert leaks(raw) == []
    assert note is None or ("987" not in note and "Zorvath" in note)  # masked, then sealed


async def test_postgresql_heap_files_hold_no_words(postgres_url):
    async with running_service(postgres_url) as service:
        await a_delivered_conversation(service)
    name = postgres_url.rsplit("/", 1)[1]
    admin = PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(admin.rsplit("/", 1)[0] + "/" + name)
    try:
        await connection.execute("CHECKPOINT")
        data_dir = Path(await connection.fetchval("SHOW data_directory"))
        paths = await connection.fetch(
            "SELECT pg_relation_filepath(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname IN ('public', 'pg_toast') AND c.relkind IN ('r', 't', 'i')"
        )
    finally:
        await connection.close()
    raw = b"".join(read_all(data_dir, relative) for (relative,) in paths)
    assert raw, "no heap file was read"
    assert leaks(raw) == []


def wal_size(service) -> int:
    return Path(service.engine.url.database + "-wal").stat().st_size


async def truncate_then_note(service, checkpoints: list[int]) -> None:
    await truncate_wal(service.engine)
    checkpoints.append(wal_size(service))


async def test_a_purge_on_sqlite_leaves_the_wal_empty(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/purge.db"
    async with running_service(url) as service:
        await a_delivered_conversation(service)
        await retention.ensure_scheduled(service.session_factory, service.clock.now())
        wal = tmp_path / "purge.db-wal"
        assert wal.stat().st_size > 0
        service.clock.advance(2 * 86400)
        assert service.jobs.settle[retention.KIND].func is truncate_wal  # wired by the service
        checkpoints = []
        service.jobs.settle[retention.KIND] = lambda: truncate_then_note(service, checkpoints)
        while await service.jobs.tick():
            pass
        assert checkpoints == [0]  # the WAL was empty right after the purge committed
