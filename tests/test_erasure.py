"""`/forget` erases everything about her: no row anywhere refers to her, the file keeps nothing."""

from pathlib import Path

from sqlalchemy import String, select

from models import AuditEntry, Base, DailyCount, Participant
from tests.support import World, running_service
from tests.test_safety_guard import connect

HER_ADDRESS = "7700123456"
HER_ALIAS = "Quokka 77"
HER_WORDS = "my landlord kept the zebra-striped umbrella"


async def rows_referring_to(service, person_id: int, address_hash: str) -> list[str]:
    """Every row in every table that points at her by id, by address hash or by mention."""
    found = []
    participants = Base.metadata.tables["participants"]
    async with service.session_factory() as session:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                points_at_people = any(
                    key.column.table is participants for key in column.foreign_keys
                )
                if (
                    points_at_people
                    or column.name == "target_id"
                    or (table is participants and column.name == "id")
                ):
                    query = select(table).where(column == person_id)
                    if (await session.execute(query)).first() is not None:
                        found.append(f"{table.name}.{column.name}")
                if isinstance(column.type, String) and not column.primary_key:
                    for value in (address_hash, f"participant:{person_id}", HER_ALIAS):
                        query = select(table).where(column == value)
                        if (await session.execute(query)).first() is not None:
                            found.append(f"{table.name}.{column.name}={value!r}")
    return found


async def test_forget_leaves_no_row_that_refers_to_her_and_tells_the_other_side_neutrally(
    database_url,
):
    async with running_service(database_url) as service:
        world = World.around(service)
        await world.supporter("c1", role="coordinator", alias="Coord One")
        supporter = await world.supporter("s1", alias="Sup One")
        her = await world.seeker(HER_ADDRESS, alias=HER_ALIAS)
        await connect(world, her, supporter)
        await her.text(HER_WORDS)
        await her.text("He hits me every night")  # a danger signal: marks, alerts, notes
        await supporter.text("I am here with you")
        await her.command("report")
        await her.tap("report:reason:other")
        await her.tap("report:excerpt:no")
        me = await her.participant()
        her_id, her_hash = me.id, me.address_hash
        async with service.session_factory() as session, session.begin():
            session.add(AuditEntry(actor="cli", action="unban", target=f"participant:{her_id}"))
        supporter_before = len(supporter.texts)

        await her.command("forget")
        assert "delete everything about you" in her.texts[-1]
        assert await rows_referring_to(service, her_id, her_hash) != []  # nothing yet
        await her.tap("forget:yes")

        assert her.texts[-1].startswith("Your data has been deleted.")
        told = supporter.texts[supporter_before:]
        assert told and all("deleted" not in t and "forget" not in t for t in told)
        await world.run_jobs(after_seconds=120)  # the tombstone goes once its message is out
        assert await rows_referring_to(service, her_id, her_hash) == []
        async with service.session_factory() as session:
            left = (await session.execute(select(Participant.alias))).scalars().all()
            counts = (await session.execute(select(DailyCount.name, DailyCount.value))).all()
            audit = (await session.execute(select(AuditEntry.target))).scalars().all()
        assert sorted(left) == ["Coord One", "Sup One"]
        assert audit == ["erased"]
        assert ("erasures", 1) in counts

    if database_url.startswith("sqlite"):
        # Only after the engine closed: the write-ahead log is folded into the file by then.
        path = Path(database_url.split("///", 1)[1])
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        for secret in (HER_ADDRESS, HER_ALIAS, "zebra-striped", her_hash):
            assert secret.encode() not in raw, f"{secret!r} is still in the database file"


async def test_forget_can_be_called_off_and_nothing_changes(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        her = await world.seeker("h1")
        await her.command("forget")
        await her.tap("forget:no")
        assert "nothing was deleted" in " ".join(her.texts)
        assert await her.participant() is not None


async def test_the_last_message_reaches_her_even_though_she_is_gone(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        her = await world.seeker("h1", language="pl")
        await her.command("forget")
        await her.tap("forget:yes")
        assert her.texts[-1].startswith("Twoje dane zostały usunięte.")
        async with service.session_factory() as session:
            people = (await session.execute(select(Participant))).scalars().all()
        assert [(p.status, p.alias) for p in people] == [("erased", "")]  # the tombstone
        await world.run_jobs(after_seconds=120)
        async with service.session_factory() as session:
            assert (await session.execute(select(Participant))).first() is None


async def test_a_request_offered_to_a_supporter_who_forgets_herself_goes_on_to_another(
    database_url,
):
    from models import Match

    async with running_service(database_url, offer_top_k=1) as service:
        world = World.around(service)
        first = await world.supporter("s1", alias="Sup One")
        her = await world.seeker("h1", alias="Fern 12")
        await world.ask_for_help(her)
        assert len(first.choices("offer:accept")) == 1
        second = await world.supporter("s2", alias="Sup Two")

        await first.command("forget")
        await first.tap("forget:yes")

        assert second.choices("offer:accept"), "the request must not wait for the erased offer"
        await second.tap(second.choices("offer:accept")[0])
        async with service.session_factory() as session:
            match = (await session.execute(select(Match))).scalar_one()
        assert match.supporter_id == (await second.participant()).id
