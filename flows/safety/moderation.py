"""Reports, blocks, suspensions and bans: the ways out of a conversation that went wrong.

Either side can `/report` (the conversation pauses at once and a coordinator looks) or `/block`
(it ends and the two are never matched again). Coordinators see open reports with `/reports` and
act from buttons, or use `/suspend <alias>` and `/ban <alias>`. Every coordinator action leaves
an audit entry with ids only.

```mermaid
stateDiagram-v2
    [*] --> which: /report or /block with several conversations (which one?)
    which --> report_reason: a conversation chosen (report)
    which --> block_confirm: a conversation chosen (block)
    [*] --> report_reason: /report in a conversation
    report_reason --> report_excerpt: reason chosen
    report_excerpt --> report_excerpt_text: include words, yes
    report_excerpt --> [*]: no (report filed, match paused)
    report_excerpt_text --> [*]: her words (report filed, match paused)
    [*] --> block_confirm: /block in a conversation
    block_confirm --> [*]: yes (match ended, pair blocked) / no
    report_reason --> [*]: cancel (back where she was)
```
"""

from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, update

from flows.alerts import alert_coordinators
from flows.audit import audit
from flows.commands import unknown_command
from flows.context import FlowContext
from flows.conversation.lifecycle import end_match
from flows.conversation.offers import make_offers
from flows.detour import come_back, go_back, step_aside
from flows.events import Button, EventKind, InboundEvent, OutboundMessage, msgid
from flows.safety.guard import live_matches, other_side, queue_notice
from i18n import N_
from models import (
    GuardMark,
    HelpRequest,
    Match,
    MatchStatus,
    Offer,
    OfferStatus,
    Participant,
    ParticipantBlock,
    ParticipantStatus,
    Report,
    RequestStatus,
    Role,
    SupporterProfile,
)

# Built as f"report.reason_{reason}", f"mod.action_{action}", f"mod.usage_{command}".
REPORT_TEXTS = (
    N_("report.reason_unsafe"),
    N_("report.reason_disrespect"),
    N_("report.reason_contact"),
    N_("report.reason_other"),
    N_("mod.action_end"),
    N_("mod.action_suspend"),
    N_("mod.action_ban"),
    N_("mod.action_resume"),
    N_("mod.usage_ban"),
    N_("mod.usage_suspend"),
)

NAME = "moderation"
REASONS = ("disrespect", "contact", "unsafe", "other")
EXCERPT_MAX_CHARS = 300
REPORTS_SHOWN = 10


class Step(StrEnum):
    REPORT_REASON = "report_reason"
    REPORT_EXCERPT = "report_excerpt"
    REPORT_EXCERPT_TEXT = "report_excerpt_text"
    BLOCK_CONFIRM = "block_confirm"
    WHICH = "which"  # several conversations: she says which one it is about


# --- Actions shared with the command line --------------------------------------------------------


async def ban(ctx: FlowContext, target: Participant, actor: str) -> None:
    """Nothing from her reaches anyone any more; she hears one neutral line."""
    for match in await live_matches(ctx, target):
        await end_match(ctx, match, by=target, reason="banned")
    await _withdraw(ctx, target)
    queue_notice(ctx, target, "safety.banned_notice")
    mark = await ctx.session.get(GuardMark, target.id)
    if mark is None:
        ctx.session.add(GuardMark(participant_id=target.id, ban_notice_at=ctx.now))
    else:
        mark.ban_notice_at = ctx.now
    target.status = ParticipantStatus.BLOCKED
    audit(ctx.session, ctx.now, actor, "ban", f"participant:{target.id}")


async def unban(ctx: FlowContext, target: Participant, actor: str) -> None:
    target.status = ParticipantStatus.ACTIVE
    audit(ctx.session, ctx.now, actor, "unban", f"participant:{target.id}")


async def suspend(ctx: FlowContext, target: Participant, actor: str) -> bool:
    """A supporter stops receiving offers and her conversations end; False if she is none."""
    profile = await ctx.session.get(SupporterProfile, target.id)
    if profile is None:
        return False
    profile.suspended, profile.on_duty = True, False
    await ctx.session.flush()
    for match in await live_matches(ctx, target):
        if match.supporter_id == target.id:
            await end_match(ctx, match, by=target, reason="banned")
    await _withdraw_her_offers(ctx, target)
    ctx.send(target, _message("mod.suspended_notice"))
    audit(ctx.session, ctx.now, actor, "suspend", f"participant:{target.id}")
    return True


async def _withdraw_her_offers(ctx: FlowContext, target: Participant) -> None:
    """Her open offers are withdrawn and each request goes on to other supporters at once."""
    request_ids = (
        (
            await ctx.session.execute(
                update(Offer)
                .where(Offer.supporter_id == target.id, Offer.status == OfferStatus.PENDING)
                .values(status=OfferStatus.WITHDRAWN)
                .returning(Offer.request_id)
            )
        )
        .scalars()
        .all()
    )
    for request_id in sorted(set(request_ids)):
        request = await ctx.session.get(HelpRequest, request_id)
        if request is not None:
            await make_offers(ctx, request)


async def _withdraw(ctx: FlowContext, target: Participant) -> None:
    """Her waiting requests and open offers go away with the ban."""
    await ctx.session.execute(
        update(HelpRequest)
        .where(HelpRequest.seeker_id == target.id, HelpRequest.status == RequestStatus.WAITING)
        .values(status=RequestStatus.CANCELLED, ended_at=ctx.now, note=None)
    )
    profile = await ctx.session.get(SupporterProfile, target.id)
    if profile is not None:
        profile.on_duty = False  # first, so her requests are not offered back to her
    await ctx.session.flush()
    await _withdraw_her_offers(ctx, target)


async def find_by_alias(session: Any, alias: str) -> list[Participant]:
    wanted = " ".join(alias.split()).casefold()
    if not wanted:
        return []
    query = select(Participant).where(
        func.lower(Participant.alias) == wanted, Participant.status != ParticipantStatus.ERASED
    )
    return list((await session.execute(query)).scalars())


def _message(text_id: str, **params: Any) -> OutboundMessage:
    return OutboundMessage(text_id, params)


# --- The flow -------------------------------------------------------------------------------------


class ModerationFlow:
    name = NAME

    async def handle(self, ctx: FlowContext, event: InboundEvent) -> None:
        if event.kind == EventKind.COMMAND:
            return await self._command(ctx, event)
        choice = event.choice or ""
        if choice.startswith("mod:") and choice.split(":")[1] in (
            "resume",
            "end",
            "suspend",
            "ban",
        ):
            return await self._report_action(ctx, choice)
        if ctx.state.flow != NAME:
            # An old button from a finished report or block: nothing to do, say so kindly.
            ctx.reply("report.old_button")
            return await come_back(ctx, NAME)
        step = ctx.state.step
        if choice in ("report:cancel", "mod:block:no"):
            ctx.reply("report.cancelled")
            return await come_back(ctx, NAME)
        if step == Step.WHICH and choice.startswith("report:which:"):
            chosen = choice.rsplit(":", 1)[1]
            if chosen.isdigit() and int(chosen) in [m for m, _ in ctx.state.data.get("which", [])]:
                ctx.remember(match_id=int(chosen))
                ctx.state.step = ctx.state.data.get("then") or Step.REPORT_REASON
                return self._prompt(ctx)
        if step == Step.REPORT_REASON and choice.startswith("report:reason:"):
            reason = choice.rsplit(":", 1)[1]
            if reason in REASONS:
                ctx.remember(reason=reason)
                ctx.state.step = Step.REPORT_EXCERPT
                return ctx.reply("report.ask_excerpt", buttons=_excerpt_buttons())
        if step == Step.REPORT_EXCERPT and choice == "report:excerpt:yes":
            ctx.state.step = Step.REPORT_EXCERPT_TEXT
            return self._prompt(ctx)
        if (
            step in (Step.REPORT_EXCERPT, Step.REPORT_EXCERPT_TEXT)
            and choice == "report:excerpt:no"
        ):
            return await self._file_report(ctx, excerpt=None)
        if step == Step.REPORT_EXCERPT_TEXT and event.kind == EventKind.TEXT and event.text.strip():
            excerpt = " ".join(event.text.split())[:EXCERPT_MAX_CHARS]
            return await self._file_report(ctx, excerpt=excerpt)
        if step == Step.BLOCK_CONFIRM and choice == "mod:block:yes":
            return await self._block(ctx)
        self._prompt(ctx)

    # Her side ------------------------------------------------------------------------------------

    async def _command(self, ctx: FlowContext, event: InboundEvent) -> None:
        match event.command:
            case "report" | "block":
                matches = await live_matches(ctx, ctx.participant)
                if not matches:
                    return ctx.reply("report.no_conversation")
                step = Step.REPORT_REASON if event.command == "report" else Step.BLOCK_CONFIRM
                if len(matches) == 1:
                    step_aside(ctx, NAME, step, match_id=matches[0].id)
                    return self._prompt(ctx)
                which = [[m.id, await _alias(ctx, other_side(m, ctx.participant))] for m in matches]
                step_aside(ctx, NAME, Step.WHICH, then=step.value, which=which)
                return self._prompt(ctx)
            case "reports" | "ban" | "suspend" if ctx.participant.role == Role.COORDINATOR:
                return await self._coordinator_command(ctx, event)
        await _unknown(ctx)

    def _prompt(self, ctx: FlowContext) -> None:
        match ctx.state.step:
            case Step.WHICH:
                ctx.reply("report.which", buttons=[
                    *(Button("report.which_button", f"report:which:{m}", {"alias": alias})
                      for m, alias in ctx.state.data.get("which", [])),
                    _cancel(),
                ])  # fmt: skip
            case Step.REPORT_REASON:
                buttons = [Button(f"report.reason_{r}", f"report:reason:{r}") for r in REASONS]
                ctx.reply("report.ask_reason", buttons=[*buttons, _cancel()])
            case Step.REPORT_EXCERPT:
                ctx.reply("report.ask_excerpt", buttons=_excerpt_buttons())
            case Step.REPORT_EXCERPT_TEXT:
                ctx.reply("report.ask_excerpt_text", limit=EXCERPT_MAX_CHARS,
                          buttons=[Button("report.skip_excerpt", "report:excerpt:no")])  # fmt: skip
            case Step.BLOCK_CONFIRM:
                ctx.reply("report.ask_block", buttons=[
                    Button("report.block_yes", "mod:block:yes"),
                    Button("report.block_no", "mod:block:no"),
                ])  # fmt: skip

    async def _current_match(self, ctx: FlowContext) -> Match | None:
        match = await ctx.session.get(Match, ctx.state.data.get("match_id") or 0)
        if match is None or match.status == MatchStatus.ENDED:
            return None
        if ctx.participant.id not in (match.seeker_id, match.supporter_id):
            return None
        return match

    async def _file_report(self, ctx: FlowContext, excerpt: str | None) -> None:
        match = await self._current_match(ctx)
        if match is None:
            ctx.reply("report.conversation_gone")
            return await come_back(ctx, NAME)
        reason = ctx.state.data.get("reason") or "other"
        report = Report(
            reporter_id=ctx.participant.id, reported_id=other_side(match, ctx.participant),
            match_id=match.id, reason=reason, excerpt=excerpt, status="open", created_at=ctx.now,
        )  # fmt: skip
        ctx.session.add(report)
        await ctx.session.flush()
        match.status = MatchStatus.PAUSED
        params: dict[str, Any] = {
            "ref": f"#{report.id}",
            "reason": msgid(f"report.reason_{reason}"),
        }
        if excerpt:
            params["excerpt"] = excerpt
        await alert_coordinators(
            ctx, "report.alert_excerpt" if excerpt else "report.alert",
            buttons=_report_buttons(report.id), **params,
        )  # fmt: skip
        other = await ctx.session.get(Participant, report.reported_id)
        if other is not None:
            ctx.send(other, _message("report.paused_other"))
        ctx.reply("report.filed")
        go_back(ctx, NAME)

    async def _block(self, ctx: FlowContext) -> None:
        match = await self._current_match(ctx)
        if match is None:
            ctx.reply("report.conversation_gone")
            return await come_back(ctx, NAME)
        other_id = other_side(match, ctx.participant)
        await _record_block(ctx, ctx.participant.id, other_id)
        go_back(ctx, NAME)
        await end_match(ctx, match, by=ctx.participant, reason="blocked")
        ctx.reply("report.blocked_done")

    # Coordinators ------------------------------------------------------------------------------

    async def _coordinator_command(self, ctx: FlowContext, event: InboundEvent) -> None:
        if event.command == "reports":
            return await self._list_reports(ctx)
        if not event.args.strip():
            return ctx.reply(f"mod.usage_{event.command}")
        people = await find_by_alias(ctx.session, event.args)
        if not people:
            return ctx.reply("mod.not_found", alias=event.args.strip())
        if len(people) > 1:
            return ctx.reply("mod.ambiguous", alias=event.args.strip())
        [target] = people
        actor = f"participant:{ctx.participant.id}"
        if target.id == ctx.participant.id or target.role == Role.COORDINATOR:
            return ctx.reply("mod.not_allowed")
        if event.command == "ban":
            await ban(ctx, target, actor)
            return ctx.reply("mod.banned", alias=target.alias)
        if not await suspend(ctx, target, actor):
            return ctx.reply("mod.not_supporter", alias=target.alias)
        ctx.reply("mod.suspended", alias=target.alias)

    async def _list_reports(self, ctx: FlowContext) -> None:
        query = (
            select(Report).where(Report.status == "open").order_by(Report.id).limit(REPORTS_SHOWN)
        )
        reports = list((await ctx.session.execute(query)).scalars())
        if not reports:
            return ctx.reply("mod.no_reports")
        for report in reports:
            reason = msgid(f"report.reason_{report.reason}")
            params: dict[str, Any] = {"ref": f"#{report.id}", "reason": reason}
            text_id = "mod.report_item"
            if report.excerpt:
                params["excerpt"], text_id = report.excerpt, N_("mod.report_item_excerpt")
            ctx.reply(text_id, buttons=_report_buttons(report.id), **params)

    async def _report_action(self, ctx: FlowContext, choice: str) -> None:
        if ctx.participant.role != Role.COORDINATOR:
            return await _unknown(ctx)
        _, action, raw_id = (choice.split(":") + ["", ""])[:3]
        report = await ctx.session.get(Report, int(raw_id)) if raw_id.isdigit() else None
        if report is None or report.status != "open":
            return ctx.reply("mod.report_closed")
        actor = f"participant:{ctx.participant.id}"
        match = await ctx.session.get(Match, report.match_id) if report.match_id else None
        live = match is not None and match.status != MatchStatus.ENDED
        reported = await ctx.session.get(Participant, report.reported_id or 0)
        if action == "resume":
            if live and match is not None:
                match.status, match.last_activity_at = MatchStatus.ACTIVE, ctx.now
                for person_id in (match.seeker_id, match.supporter_id):
                    person = await ctx.session.get(Participant, person_id)
                    if person is not None:
                        ctx.send(person, _message("mod.resumed"))
        elif action == "end":
            await _record_block(ctx, report.reporter_id, report.reported_id)
            if live and match is not None:
                await end_match(ctx, match, by=None, reason="blocked")
        elif action == "suspend":
            supporter = await ctx.session.get(Participant, match.supporter_id) if match else None
            await _record_block(ctx, report.reporter_id, report.reported_id)
            if supporter is None or not await suspend(ctx, supporter, actor):
                return ctx.reply("mod.not_supporter", alias="—")
        elif action == "ban":
            if reported is None or reported.role == Role.COORDINATOR:
                return ctx.reply("mod.not_allowed")
            await ban(ctx, reported, actor)
        report.status, report.handled_at = "handled", ctx.now
        audit(ctx.session, ctx.now, actor, f"report.{action}", f"report:{report.id}")
        ctx.reply("mod.report_done", ref=f"#{report.id}", action=msgid(f"mod.action_{action}"))


async def _record_block(ctx: FlowContext, blocker_id: int, blocked_id: int | None) -> None:
    if blocked_id is None:
        return
    exists = await ctx.session.execute(
        select(ParticipantBlock.id).where(
            ParticipantBlock.blocker_id == blocker_id, ParticipantBlock.blocked_id == blocked_id
        )
    )
    if exists.first() is None:
        ctx.session.add(ParticipantBlock(blocker_id=blocker_id, blocked_id=blocked_id,
                                         created_at=ctx.now))  # fmt: skip


async def _unknown(ctx: FlowContext) -> None:
    await unknown_command(ctx)


async def _alias(ctx: FlowContext, person_id: int) -> str:
    person = await ctx.session.get(Participant, person_id)
    return person.alias if person is not None else ""


def _cancel() -> Button:
    return Button("report.cancel", "report:cancel")


def _excerpt_buttons() -> list[Button]:
    return [
        Button("report.excerpt_yes", "report:excerpt:yes"),
        Button("report.excerpt_no", "report:excerpt:no"),
        _cancel(),
    ]


def _report_buttons(report_id: int) -> tuple[Button, ...]:
    return tuple(
        Button(f"mod.action_{action}", f"mod:{action}:{report_id}")
        for action in ("resume", "end", "suspend", "ban")
    )
