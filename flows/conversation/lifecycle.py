"""How a conversation starts and ends, for both sides, and where each woman goes afterwards.

An accept starts it (introductions, her kept words delivered); an end by either side, an idle
close, a hand-over, a block, a ban or an erasure ends it, each with the words that fit.
"""

from datetime import timedelta
from typing import Any

from sqlalchemy import update

from flows.context import FlowContext
from flows.conversation.checkins import after_conversation, again_question, cancel_checkins
from flows.conversation.delivery import deliver, distinct_alias, masking
from flows.conversation.lookups import (
    OPEN_MATCH,
    RELAY,
    RelayStep,
    language_param,
    seeker_match,
    send_with_choices,
    supporter_matches,
    topic_param,
    waiting_request_of,
)
from flows.conversation.masking import mask_contacts
from flows.conversation.offers import withdraw_offers
from flows.events import TEXT_ONLY_CHANNELS, Button, OutboundMessage
from i18n import N_
from models import FlowState, HelpRequest, Match, MatchStatus, Participant, RequestStatus

# The check-in answers, built as f"feedback.checkin_{answer}".
CHECKIN_TEXTS = (
    N_("feedback.checkin_ok"),
    N_("feedback.checkin_heavy"),
    N_("feedback.checkin_talk"),
)
# Endings where the supporter herself is the one who left (banned, erased, unreachable).
SHE_LEFT = ("banned", "erased", "unreachable")


async def start_conversation(
    ctx: FlowContext, match: Match, request: HelpRequest, seeker_state: FlowState | None
) -> None:
    """Introduce them, hand over what she left while waiting, and set both sides up."""
    supporter = ctx.participant
    seeker = await ctx.session.get(Participant, match.seeker_id)
    assert seeker is not None
    await distinct_alias(ctx, supporter, seeker, match)
    language, topic = language_param(request.language), topic_param(request.topic)
    kept = list((seeker_state.data or {}).get("kept", [])) if seeker_state else []
    if seeker_state is None:
        seeker_state = FlowState(participant_id=seeker.id, flow=RELAY, step="", data={})
        ctx.session.add(seeker_state)
    seeker_state.flow, seeker_state.step = RELAY, RelayStep.CONNECTED
    seeker_state.data = {"match_id": match.id}
    # Plain buttons: in a conversation a typed "2" is her words, never "end" on a text channel.
    ctx.send(
        seeker,
        OutboundMessage(
            "relay.intro_seeker",
            {"alias": supporter.alias, "language": language, "topic": topic},
            (
                Button("relay.button_other_supporter", f"relay:handover:{match.id}"),
                Button("relay.button_end", f"relay:end:{match.id}"),
            ),  # fmt: skip
        ),
    )
    params: dict[str, Any] = {"alias": seeker.alias, "language": language, "topic": topic}
    if request.note:
        params["note"] = mask_contacts(request.note).text if masking(ctx) else request.note
    ctx.send(
        supporter,
        OutboundMessage(
            "relay.intro_supporter_note" if request.note else "relay.intro_supporter",
            params,
            kind="relay",
        ),
        match_id=match.id,
    )
    for item in kept:
        await deliver(ctx, match, seeker, supporter, item, notify_sender=False)
    # Her own side: with two or more conversations open nothing is sent until she chooses.
    open_now = await supporter_matches(ctx, supporter.id)
    data = dict(ctx.state.data or {}) if ctx.state.flow == RELAY else {}
    data.pop("choices", None)
    data["active_match"] = match.id if len(open_now) == 1 else None
    ctx.go(RELAY, RelayStep.CONNECTED, **data)
    idle_after = timedelta(hours=float(ctx.config.idle_check_after_hours))
    ctx.schedule("idle_check", ctx.now + idle_after, match.id)


async def end_match(ctx: FlowContext, match: Match, *, by: Participant | None, reason: str) -> bool:
    """End a conversation for both sides; returns False when it had already ended.

    "ended" and "idle" say goodbye kindly and ask for feedback (the seeker) and how she is (the
    supporter); "handover" tells the supporter neutrally; "blocked", "erased" and "banned" give
    the other side a neutral notice only, and the supporter is asked how she is after every hard
    ending she did not cause by leaving herself. Her note is deleted with the request.
    """
    done = await ctx.session.execute(
        update(Match)
        .where(Match.id == match.id, Match.status.in_(OPEN_MATCH))
        .values(
            status=MatchStatus.ENDED,
            ended_at=ctx.now,
            ended_by=(
                "system" if by is None else "seeker" if by.id == match.seeker_id else "supporter"
            ),
        )
    )
    if done.rowcount != 1:
        return False
    await ctx.session.refresh(match)
    await ctx.session.execute(
        update(HelpRequest)
        .where(HelpRequest.id == match.request_id)
        .values(status=RequestStatus.ENDED, ended_at=ctx.now, note=None)
    )
    seeker = await ctx.session.get(Participant, match.seeker_id)
    supporter = await ctx.session.get(Participant, match.supporter_id)
    assert seeker is not None and supporter is not None
    by_id = by.id if by is not None else None
    if reason in ("ended", "idle"):
        for person, other in ((seeker, supporter), (supporter, seeker)):
            if reason == "idle":
                text_id = "relay.closed_idle"
            else:
                text_id = "relay.you_ended" if person.id == by_id else "relay.other_ended"
            ctx.send(person, OutboundMessage(text_id, {"alias": other.alias}))
            question = (
                _feedback_question(match)
                if person is seeker
                else _checkin_question(match, "feedback.checkin_ask")
            )
            again = again_question(match, person, other)
            if person.channel in TEXT_ONLY_CHANNELS:
                # Typed numbers: her answer first (1–5), then "again" numbered on (6, 7).
                await send_with_choices(ctx, person, question)
                await send_with_choices(ctx, person, again, after=question.buttons)
            else:
                ctx.send(person, again)
                await send_with_choices(ctx, person, question)
        await after_conversation(ctx, seeker, match.id)
    elif reason == "handover":
        if by_id == seeker.id:
            ctx.send(supporter, OutboundMessage("relay.handed_over", {"alias": seeker.alias}))
    else:
        for person, other in ((seeker, supporter), (supporter, seeker)):
            if person.id != by_id:
                ctx.send(person, OutboundMessage("relay.ended_neutral", {"alias": other.alias}))
    if match.joined_by is not None and match.joined_by != by_id:
        # A coordinator who joined is told too; she was only ever a guest in it.
        coordinator = await ctx.session.get(Participant, match.joined_by)
        if coordinator is not None:
            ctx.send(coordinator, OutboundMessage("join.ended", {
                "ref": match.request_id, "seeker": seeker.alias, "supporter": supporter.alias,
            }))  # fmt: skip
    if reason not in ("ended", "idle") and not (by_id == supporter.id and reason in SHE_LEFT):
        # A hard ending stays with a supporter: she is asked how she is, as after any other.
        await send_with_choices(ctx, supporter, _checkin_question(match, "feedback.checkin_hard"))
    await _after_end(ctx, match, reason)
    return True


def _feedback_question(match: Match) -> OutboundMessage:
    buttons = tuple(
        Button("feedback.score_label", f"feedback:score:{match.id}:{n}", {"n": str(n)})
        for n in range(1, 6)
    )
    return OutboundMessage("feedback.ask_score", {}, buttons)


async def ask_taken_off(ctx: FlowContext, match: Match, supporter: Participant) -> None:
    """A supporter a coordinator took a (flagged) conversation from is asked how she is, as
    after any other hard ending; her answer is taken by the feedback flow (audit: take-over)."""
    await send_with_choices(ctx, supporter, _checkin_question(match, "feedback.checkin_hard"))


def _checkin_question(match: Match, text_id: str) -> OutboundMessage:
    buttons = tuple(
        Button(f"feedback.checkin_{answer}", f"feedback:checkin:{match.id}:{answer}")
        for answer in ("ok", "heavy", "talk")
    )
    return OutboundMessage(text_id, {}, buttons, kind="checkin")


async def _after_end(ctx: FlowContext, match: Match, reason: str) -> None:
    """Only the state of whoever is writing moves; the other side's is read from the database."""
    me = ctx.participant
    # The buttons just sent to her (feedback, check-in) stay typeable as numbers.
    choices = {"choices": ctx.state.data["choices"]} if "choices" in (ctx.state.data or {}) else {}
    if me.id == match.seeker_id and ctx.state.flow == RELAY:
        if reason in ("ended", "idle"):
            ctx.go("feedback", "score", match_id=match.id, **choices)
    elif me.id == match.supporter_id and ctx.state.flow == RELAY:
        data = dict(ctx.state.data or {})
        if data.get("active_match") == match.id:
            data["active_match"] = None
        if not await supporter_matches(ctx, me.id):
            data = dict(choices)
            if "intake" in ctx.flows:
                ctx.go("intake", "menu", **choices)
                return
        ctx.state.data = data


async def go_home(ctx: FlowContext) -> None:
    """Back to the menu (intake's), or nothing more to say when there is no menu."""
    if "intake" in ctx.flows:
        ctx.go("intake", "menu")
        await ctx.resume("intake")
    else:
        ctx.go(RELAY, "")


async def participant_unreachable(ctx: FlowContext) -> None:
    """She blocked the bot or opted out: her conversations end, so nobody writes into the void.

    The other side gets the neutral notice; a request still waiting is withdrawn.
    """
    me = ctx.participant
    await cancel_checkins(ctx, me.id)
    matches = await supporter_matches(ctx, me.id)
    if (mine := await seeker_match(ctx, me.id)) is not None:
        matches.append(mine)
    for match in matches:
        await end_match(ctx, match, by=me, reason="unreachable")
    request = await waiting_request_of(ctx, me.id)
    if request is not None:
        request.status, request.ended_at, request.note = RequestStatus.CANCELLED, ctx.now, None
        await withdraw_offers(ctx, request, "match.offer_withdrawn")
