"""The router: exactly-once inbound, participants by keyed hash, typed choices, kind failures."""

from dataclasses import dataclass

from sqlalchemy import func, select

from bot.router import Outcome, Router
from flows.context import FlowContext
from flows.events import Button, EventKind, InboundEvent
from flows.registry import Routes
from models import OutboxMessage, Participant, ProcessedInbound
from tests.support import running_service


@dataclass
class EchoFlow:
    """A tiny flow for router tests: counts what it sees and offers two choices."""

    name: str = "echo"

    async def handle(self, ctx: FlowContext, event: InboundEvent) -> None:
        if event.text == "boom":
            raise RuntimeError("a bug in a flow")
        seen = ctx.state.data.get("seen", 0) + 1
        ctx.go("echo", "listening", seen=seen, last_choice=event.choice)
        ctx.reply("welcome.menu", buttons=[Button("menu.about", "a"), Button("menu.language", "b")])


def echo_router(service) -> Router:
    routes = Routes(flows={"echo": EchoFlow()}, first_flow="echo")
    return Router(service.session_factory, service.vault, routes, service.settings, service.clock)


def text(
    address: str, body: str, message_id: str | None, channel: str = "telegram"
) -> InboundEvent:
    return InboundEvent(channel, address, EventKind.TEXT, message_id, body)


async def count(service, model) -> int:
    async with service.session_factory() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def test_the_same_inbound_message_id_twice_is_processed_once(database_url):
    async with running_service(database_url) as service:
        router = echo_router(service)
        assert await router.handle(text("555", "hello", "u1")) == Outcome.HANDLED
        assert await router.handle(text("555", "hello", "u1")) == Outcome.DUPLICATE
        assert await count(service, OutboxMessage) == 1
        assert await count(service, ProcessedInbound) == 1


async def test_concurrent_deliveries_of_one_update_are_processed_once(postgres_url):
    import asyncio

    async with running_service(postgres_url) as service:
        router = echo_router(service)
        await router.handle(text("555", "first", "u0"))  # she exists already
        outcomes = await asyncio.gather(*(router.handle(text("555", "hi", "u9")) for _ in range(8)))
        assert sorted(outcomes) == sorted([Outcome.HANDLED] + [Outcome.DUPLICATE] * 7)
        assert await count(service, OutboxMessage) == 2


async def test_a_participant_is_found_again_by_her_address_and_stored_without_it(database_url):
    async with running_service(database_url) as service:
        router = echo_router(service)
        await router.handle(text("48600100200", "one", "m1", channel="whatsapp"))
        await router.handle(text("48600100200", "two", "m2", channel="whatsapp"))
        async with service.session_factory() as session:
            [person] = (await session.execute(select(Participant))).scalars().all()
        assert b"48600100200" not in person.address_cipher
        assert "48600100200" not in person.address_hash
        assert service.vault.decrypt("whatsapp", person.address_cipher) == "48600100200"
        assert person.alias and person.last_inbound_at is not None


async def test_a_typed_number_on_a_text_only_channel_is_the_offered_choice(database_url):
    async with running_service(database_url) as service:
        router = echo_router(service)
        await router.handle(text("ana", "hi", "c1", channel="console"))
        await router.handle(text("ana", "2", "c2", channel="console"))
        async with service.session_factory() as session:
            from models import FlowState

            [state] = (await session.execute(select(FlowState))).scalars().all()
        assert state.data["last_choice"] == "b"


async def test_a_typed_number_on_telegram_stays_text(database_url):
    async with running_service(database_url) as service:
        router = echo_router(service)
        await router.handle(text("777", "hi", "t1"))
        await router.handle(text("777", "2", "t2"))
        async with service.session_factory() as session:
            from models import FlowState

            [state] = (await session.execute(select(FlowState))).scalars().all()
        assert state.data["last_choice"] is None


async def test_a_failing_flow_rolls_back_and_she_gets_a_kind_message(database_url):
    async with running_service(database_url) as service:
        router = echo_router(service)
        await router.handle(text("555", "hello", "u1"))
        assert await router.handle(text("555", "boom", "u2")) == Outcome.FAILED
        async with service.session_factory() as session:
            rows = (await session.execute(select(OutboxMessage.text_id))).scalars().all()
            processed = (await session.execute(select(ProcessedInbound.message_id))).scalars().all()
        assert rows == ["welcome.menu", "error.generic"]
        assert processed == ["u1"]  # the failed one can be retried by the platform


async def test_a_typed_number_answers_buttons_someone_else_sent_her(database_url):
    from flows.context import outbox_row
    from flows.events import OutboundMessage

    async with running_service(database_url) as service:
        router = echo_router(service)
        await router.handle(text("lena", "hi", "c1", channel="console"))
        async with service.session_factory() as session, session.begin():
            from models import FlowState

            [state] = (await session.execute(select(FlowState))).scalars().all()
            state.data = {}  # her own flow offered nothing...
            lena = await session.get(Participant, state.participant_id)
            offer = OutboundMessage("welcome.menu", buttons=(Button("menu.about", "offer:7"),))
            session.add(outbox_row(lena, offer, service.clock.now()))  # ...another's action did
        await router.handle(text("lena", "1", "c2", channel="console"))
        async with service.session_factory() as session:
            [state] = (await session.execute(select(FlowState))).scalars().all()
        assert state.data["last_choice"] == "offer:7"


async def test_a_database_error_is_logged_without_the_values_it_carried(database_url, caplog):
    from models import AuditEntry

    class ClumsyFlow:
        name = "clumsy"

        async def handle(self, ctx: FlowContext, event: InboundEvent) -> None:
            for _ in range(2):  # the same primary key twice: the database refuses
                ctx.session.add(AuditEntry(id=7, actor="x", action="y", details={"w": event.text}))
                await ctx.session.flush()

    async with running_service(database_url) as service:
        routes = Routes(flows={"clumsy": ClumsyFlow()}, first_flow="clumsy")
        router = Router(service.session_factory, service.vault, routes, service.settings)
        outcome = await router.handle(text("555", "my secret words", "u1"))
        assert outcome == Outcome.FAILED
        assert "IntegrityError" in caplog.text
        assert "my secret words" not in caplog.text
