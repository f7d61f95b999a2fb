"""Guards that see every event before any flow: bans, floods and danger signals.

A banned person reaches no one; a flood is slowed with a polite word instead of silence; a message
that may tell of violence or self-harm puts help in front of her at once, while the conversation
goes on as before. Only the screening label and cue ids are ever logged or stored, never her words.
"""

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from flows import metrics
from flows.alerts import alert_coordinators
from flows.context import FlowContext, outbox_row
from flows.conversation.lookups import OPEN_MATCH, open_request_of
from flows.events import (
    NOTICE_KIND,
    TEXT_ONLY_CHANNELS,
    Button,
    EventKind,
    InboundEvent,
    OutboundMessage,
    msgid,
)
from flows.safety.boundaries import boundary_kind
from flows.safety.help_lines import kinds_for_signal, services_text
from flows.safety.layered import danger_screen
from flows.safety.screening import Screening
from i18n import N_
from models import (
    GuardMark,
    HelpRequest,
    Match,
    MatchStatus,
    OutboxMessage,
    OutboxStatus,
    Participant,
    ParticipantStatus,
    Role,
)
from models.stats import increment

# Built as f"safety.kind_{label}", f"safety.boundary_{kind}", f"safety.help_paths_{label}",
# f"safety.supporter_note_{label}".
SIGNAL_TEXTS = (
    N_("safety.kind_violence"),
    N_("safety.kind_self_harm"),
    N_("safety.boundary_meet"),
    N_("safety.boundary_off_bot"),
    N_("safety.help_paths_violence"),
    N_("safety.help_paths_self_harm"),
    N_("safety.supporter_note_violence"),
    N_("safety.supporter_note_self_harm"),
)

log = logging.getLogger(__name__)

ONCE_A_DAY = timedelta(days=1)
# The guidance note reaches the supporter just after the message that raised it, not before.
NOTE_DELAY = timedelta(seconds=2)


# --- Shared look-ups -----------------------------------------------------------------------------


async def guard_mark(ctx: FlowContext) -> GuardMark:
    mark = await ctx.own_row(GuardMark)
    if mark is None:
        mark = GuardMark(participant_id=ctx.participant.id, flood_count=0, flood_noticed=False)
        ctx.session.add(mark)
    return mark


async def live_matches(ctx: FlowContext, person: Participant) -> list[Match]:
    """Her conversations that are going on or paused, whichever side she is on."""
    query = (
        select(Match)
        .where(
            Match.status.in_(OPEN_MATCH),
            (Match.seeker_id == person.id) | (Match.supporter_id == person.id),
        )
        .order_by(Match.last_activity_at.desc(), Match.id.desc())
    )
    return list((await ctx.session.execute(query)).scalars())


def other_side(match: Match, person: Participant) -> int:
    return match.supporter_id if match.seeker_id == person.id else match.seeker_id


def reference(person: Participant, request: HelpRequest | None) -> str:
    """What a coordinator can act on, without a name, an alias or her words."""
    return f"R{request.id}" if request is not None else f"P{person.id}"


def queue_notice(
    ctx: FlowContext, recipient: Participant, text_id: str, **params: Any
) -> OutboxMessage:
    """A message that reaches her even when she is banned (the one neutral line she gets)."""
    row = outbox_row(recipient, OutboundMessage(text_id, params, kind=NOTICE_KIND), ctx.now)
    row.status, row.error, row.params = OutboxStatus.PENDING, None, dict(params)
    ctx.session.add(row)
    ctx.queued.append(row)
    return row


def due(last: datetime | None, now: datetime, every: timedelta = ONCE_A_DAY) -> bool:
    return last is None or now - last >= every


# --- Ban -----------------------------------------------------------------------------------------


async def ban_guard(ctx: FlowContext, event: InboundEvent) -> bool:
    """A banned participant hears one neutral line a day at most, and nothing she sends goes on."""
    if ctx.participant.status != ParticipantStatus.BLOCKED:
        return False
    mark = await guard_mark(ctx)
    if due(mark.ban_notice_at, ctx.now):
        mark.ban_notice_at = ctx.now
        queue_notice(ctx, ctx.participant, "safety.banned_notice")
    return True


# --- Flood ---------------------------------------------------------------------------------------


async def flood_guard(ctx: FlowContext, event: InboundEvent) -> bool:
    """Too many messages in the window: she is told once, the rest wait for the next window."""
    if ctx.participant.role == Role.COORDINATOR:
        return False
    limit = getattr(ctx.config, "flood_max_messages", 8)
    window = timedelta(seconds=getattr(ctx.config, "flood_window_seconds", 10.0))
    mark = await guard_mark(ctx)
    if mark.flood_window_start is None or ctx.now - mark.flood_window_start >= window:
        mark.flood_window_start, mark.flood_count, mark.flood_noticed = ctx.now, 1, False
        return False
    mark.flood_count += 1
    if mark.flood_count <= limit:
        return False
    if not mark.flood_noticed:
        mark.flood_noticed = True
        ctx.reply("safety.flood_notice", seconds=int(window.total_seconds()))
    return True


# --- Danger signals ------------------------------------------------------------------------------

SCREENED_KINDS = (EventKind.TEXT, EventKind.MEDIA, EventKind.EDIT)


async def danger_guard(ctx: FlowContext, event: InboundEvent) -> bool:
    """Screen what a help-seeker writes; on a signal, help paths for her; nothing is blocked."""
    if event.kind not in SCREENED_KINDS or not event.text.strip():
        return False
    if ctx.participant.role == Role.SUPPORTER:
        await screen_supporter_words(ctx, event.text)
        return False
    if ctx.participant.role != Role.SEEKER:
        return False
    verdict = await _screen(event.text)
    if verdict is None or not verdict.flagged:
        return False
    log.info(
        "danger signal: label=%s source=%s score=%.2f cues=%s",
        verdict.label, verdict.source, verdict.score, ",".join(verdict.cues),
    )  # fmt: skip
    await respond_to_danger(ctx, verdict.label, verdict.score)
    return False  # the flow still runs: her message is still relayed


async def _screen(text: str) -> Screening | None:
    try:
        return await danger_screen().screen(text)
    except Exception:  # no layer could screen: counted and logged, the message still goes on
        metrics.screening_errors.labels("all").inc()
        log.exception("danger screening is unavailable")
        return None


async def screen_supporter_words(ctx: FlowContext, text: str) -> None:
    """A supporter relaying a disclosure, or proposing to meet or leave the bot: a coordinator
    hears of it (once a day each), the words still go to her, and nothing of them is kept."""
    supporter = ctx.participant
    matches = [
        m
        for m in await live_matches(ctx, supporter)
        if m.supporter_id == supporter.id and m.status == MatchStatus.ACTIVE
    ]
    if not matches:
        return
    ref = f"R{matches[0].request_id}"
    mark = await guard_mark(ctx)
    kind = boundary_kind(text)
    if kind is not None and due(mark.boundary_alert_at, ctx.now):
        mark.boundary_alert_at = ctx.now
        log.info("supporter boundary: kind=%s ref=%s", kind, ref)
        await alert_coordinators(
            ctx, "safety.alert_boundary", ref=ref, kind=msgid(f"safety.boundary_{kind}")
        )
    verdict = await _screen(text)
    if verdict is not None and verdict.flagged and due(mark.words_alert_at, ctx.now):
        mark.words_alert_at = ctx.now
        log.info("danger in a supporter's words: label=%s source=%s", verdict.label, verdict.source)
        await alert_coordinators(
            ctx, "safety.alert_supporter_words", ref=ref, kind=msgid(f"safety.kind_{verdict.label}")
        )


async def respond_to_danger(ctx: FlowContext, label: str, score: float = 1.0) -> None:
    """Help paths once per request (or daily without one), a supporter note, an alert."""
    seeker = ctx.participant
    request = await open_request_of(ctx, seeker.id)
    mark = await guard_mark(ctx)
    first_time = False
    if request is not None:
        request.urgent = True
        request.danger_score = max(request.danger_score or 0.0, score)
        if request.danger_signal_at is None and not due(mark.danger_notice_at, ctx.now):
            # Shown a moment ago, before this request existed: that showing counts for it.
            request.danger_signal_at = mark.danger_notice_at
        elif request.danger_signal_at is None:
            request.danger_signal_at = mark.danger_notice_at = ctx.now
            first_time = True
    elif due(mark.danger_notice_at, ctx.now):
        mark.danger_notice_at = ctx.now
        first_time = True
    if first_time:
        await increment(ctx.session, ctx.now.date(), f"danger.{label}")  # once per request
        await send_help_paths(ctx, label)
        await alert_coordinators(
            ctx,
            "safety.alert_danger",
            ref=reference(seeker, request),
            kind=msgid(f"safety.kind_{label}"),
            score=f"{score:.2f}",  # how sure the screen is, never her words
        )
    for match in await live_matches(ctx, seeker):
        if match.seeker_id != seeker.id or match.status != MatchStatus.ACTIVE:
            continue
        if mark.noted_match_id == match.id:
            continue  # one note per conversation is guidance; more would be alarm
        supporter = await ctx.session.get(Participant, match.supporter_id)
        if supporter is None:
            continue
        mark.noted_match_id = match.id
        ctx.send(supporter, OutboundMessage(f"safety.supporter_note_{label}", kind="alert"))
        ctx.queued[-1].available_at = ctx.now + NOTE_DELAY


async def send_help_paths(ctx: FlowContext, label: str) -> None:
    """The emergency number and the lines for what she seems to be living, in her language."""
    params = {"services": services_text(ctx, kinds_for_signal(label))}
    text_id = f"safety.help_paths_{label}"
    if ctx.participant.channel in TEXT_ONLY_CHANNELS:
        # There a typed "1" answers the question she was asked before: the ways on are
        # written as commands instead of numbered choices.
        ctx.send(ctx.participant, OutboundMessage(text_id, params))
        ctx.send(ctx.participant, OutboundMessage("referral.tips_short"))
        return
    # Sent, not replied: buttons here must not change what a typed "1" means in her conversation.
    buttons = (Button("safety.btn_more_help", "referral:open"), Button("exit.btn", "exit:now"))
    ctx.send(ctx.participant, OutboundMessage(text_id, params, buttons))


GUARDS = (ban_guard, flood_guard, danger_guard)
