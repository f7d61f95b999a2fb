"""Where each side stands, read from the database, and the names the conversation modules share.

Nothing here changes a conversation: these are the facts (her request, her matches, the other
woman) that intake, matching and relay decide by, and the one way to send a message with buttons.
"""

from dataclasses import replace
from enum import StrEnum

from sqlalchemy import or_, select

from flows.context import FlowContext
from flows.events import TEXT_ONLY_CHANNELS, Button, OutboundMessage, msgid
from i18n import N_
from models import FlowState, HelpRequest, Match, MatchStatus, Participant, RequestStatus, Role

# Topic names, built as f"topic.{topic}".
TOPIC_TEXTS = (
    N_("topic.emotional"),
    N_("topic.violence"),
    N_("topic.documents"),
    N_("topic.housing"),
    N_("topic.work"),
    N_("topic.health"),
    N_("topic.children"),
    N_("topic.other"),
)

RELAY = "relay"
# A conversation that is going on or paused by a report: both sides still belong to it.
OPEN_MATCH = (MatchStatus.ACTIVE, MatchStatus.PAUSED)
# A request that is still waiting for a supporter or in conversation.
OPEN_REQUEST = (RequestStatus.WAITING, RequestStatus.MATCHED)


class RelayStep(StrEnum):
    WAITING = "waiting"
    CONNECTED = "connected"
    HELD = "held"


def topic_param(topic: str) -> dict[str, str]:
    return msgid(f"topic.{topic}")


def language_param(code: str) -> dict[str, str]:
    return msgid(f"language.{code}")


def is_seeker(person: Participant) -> bool:
    return person.role == Role.SEEKER


# --- Her request -----------------------------------------------------------------------------


async def waiting_request_of(ctx: FlowContext, seeker_id: int) -> HelpRequest | None:
    return (
        await ctx.session.execute(
            select(HelpRequest)
            .where(HelpRequest.seeker_id == seeker_id, HelpRequest.status == RequestStatus.WAITING)
            .order_by(HelpRequest.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def open_request_of(ctx: FlowContext, seeker_id: int) -> HelpRequest | None:
    """Her newest request that is still waiting or in conversation."""
    return (
        await ctx.session.execute(
            select(HelpRequest)
            .where(HelpRequest.seeker_id == seeker_id, HelpRequest.status.in_(OPEN_REQUEST))
            .order_by(HelpRequest.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


# --- Her conversations -----------------------------------------------------------------------


async def seeker_match(ctx: FlowContext, seeker_id: int) -> Match | None:
    return (
        await ctx.session.execute(
            select(Match)
            .where(Match.seeker_id == seeker_id, Match.status.in_(OPEN_MATCH))
            .order_by(Match.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def supporter_matches(ctx: FlowContext, supporter_id: int) -> list[Match]:
    return list(
        (
            await ctx.session.execute(
                select(Match)
                .where(Match.supporter_id == supporter_id, Match.status.in_(OPEN_MATCH))
                .order_by(Match.id)
            )
        ).scalars()
    )


async def writer_matches(ctx: FlowContext, participant_id: int) -> list[Match]:
    """The open conversations she writes into as a supporter, or as a coordinator who joined."""
    return list(
        (
            await ctx.session.execute(
                select(Match)
                .where(
                    or_(Match.supporter_id == participant_id, Match.joined_by == participant_id),
                    Match.status.in_(OPEN_MATCH),
                )
                .order_by(Match.id)
            )
        ).scalars()
    )


async def open_conversation(ctx: FlowContext) -> tuple[HelpRequest | None, Match | None]:
    """Her waiting or matched request, and any match she is in (as seeker or supporter)."""
    me = ctx.participant.id
    match = (
        await ctx.session.execute(
            select(Match)
            .where(
                or_(Match.seeker_id == me, Match.supporter_id == me), Match.status.in_(OPEN_MATCH)
            )
            .order_by(Match.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return await open_request_of(ctx, me), match


async def my_open_match(ctx: FlowContext, match_id: int | None) -> Match | None:
    """The open conversation `match_id` if she is one of its two sides (buttons can be old)."""
    if match_id is None:
        return None
    match = await ctx.session.get(Match, match_id)
    if match is None or ctx.participant.id not in (
        match.seeker_id,
        match.supporter_id,
        match.joined_by,
    ):
        return None
    return match if match.status in OPEN_MATCH else None


async def other_side(ctx: FlowContext, match: Match, me: Participant) -> Participant:
    other_id = match.supporter_id if me.id == match.seeker_id else match.seeker_id
    other = await ctx.session.get(Participant, other_id)
    assert other is not None
    return other


async def others_in(ctx: FlowContext, match: Match, me: Participant) -> list[Participant]:
    """Everyone who reads what she writes: the other woman, and a coordinator who joined."""
    ids = [match.seeker_id, match.supporter_id, match.joined_by]
    others = [await ctx.session.get(Participant, i) for i in ids if i is not None and i != me.id]
    return [person for person in others if person is not None]


async def lock_state(ctx: FlowContext, model: type, participant_id: int):  # type: ignore[no-untyped-def]
    """Her row of `model` (state or profile), locked and freshly read for this transaction."""
    column = model.participant_id  # type: ignore[attr-defined]
    return (
        await ctx.session.execute(
            select(model)
            .where(column == participant_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


# --- Sending with buttons ---------------------------------------------------------------------


async def send_with_choices(
    ctx: FlowContext,
    recipient: Participant,
    message: OutboundMessage,
    *,
    after: tuple[Button, ...] = (),
    **extra: object,
) -> None:
    """Queue a message with buttons to anyone; on text-only channels a typed "1" must pick them.

    The router maps typed numbers to the choices in her state, so they are written there too.
    `after`: the choices of the message just sent before it, which stay typeable; this one's
    are numbered on from them (1–5 there, 6 and 7 here).
    Her state is taken only if nobody holds it (SKIP LOCKED): if she is writing at this very
    moment her own flow sets her choices, and waiting here could deadlock two writers.
    """
    text_only = recipient.channel in TEXT_ONLY_CHANNELS
    if text_only and after and message.buttons:
        message = replace(message, params={**message.params, "_number_from": len(after) + 1})
    ctx.send(recipient, message, **extra)

    if not text_only or not message.buttons:
        return
    choices = [b.to_json() for b in (*after, *message.buttons)]
    if recipient.id == ctx.participant.id:
        ctx.state.data = {**(ctx.state.data or {}), "choices": choices}
        return
    query = select(FlowState).where(FlowState.participant_id == recipient.id)
    if ctx.session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    state = (await ctx.session.execute(query)).scalar_one_or_none()
    if state is not None:
        state.data = {**(state.data or {}), "choices": choices}
