"""Supporter onboarding: a one-time invite, her profile, a coordinator's approval, the duty switch.

A coordinator makes an invite (`peerline invite create`, or `/invite` in the chat). On Telegram
it is a deep link `https://t.me/<bot>?start=<code>`, which arrives as `/start <code>`; on WhatsApp
and the console she types `join <code>` (or `/start <code>`). Only a hash of the code is stored;
it expires and works once. She then builds her profile and waits: nobody is offered to her
until a coordinator approves her. `/available` and `/away` switch her duty.

```mermaid
stateDiagram-v2
    [*] --> alias: invite code accepted (intake hands over)
    [*] --> [*]: code unknown, used or expired, or her own conversation open (told kindly)
    alias --> alias: too short or long, looks like a phone, e-mail, @name or link, or taken
    alias --> languages: supporter
    alias --> ready: coordinator (approved by her invite)
    languages --> languages: a language ticked or unticked
    languages --> topics: done (at least one)
    topics --> topics: a topic ticked or unticked
    topics --> excluded: done (at least one)
    excluded --> excluded: a topic ticked or unticked
    excluded --> capacity: done (none is fine)
    capacity --> hours: 1 to 5
    hours --> hours: not readable (example shown)
    hours --> timezone: preset, typed hours or any time
    timezone --> timezone: not a known zone
    timezone --> waiting: kept or a valid zone typed (coordinators alerted)
    waiting --> ready: a coordinator approves (/approve, /pending, CLI)
    ready --> ready: /available, /away
```
"""

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from flows.alerts import alert_coordinators
from flows.audit import audit
from flows.commands import unknown_command
from flows.context import FlowContext, outbox_row
from flows.conversation.intake import TOPICS, open_conversation
from flows.conversation.matching import offer_waiting_requests
from flows.events import Button, EventKind, InboundEvent, OutboundMessage, msgid
from flows.weekly_hours import HoursError, parse_weekly_hours
from i18n import LANGUAGE_NAMES, LANGUAGES, normalise_language
from models import (
    FlowState,
    Participant,
    ParticipantStatus,
    Role,
    SupporterProfile,
)
from models.invite import Invite

NAME = "onboarding"
# No 0/O, 1/I/L: codes are read aloud and typed on small phones.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12
ALIAS_MIN, ALIAS_MAX = 2, 20
CAPACITY_CHOICES = range(1, 6)
HOURS_PRESETS = {"evenings": "mon-fri 18-22", "weekends": "sat-sun 10-18"}


class Step(StrEnum):
    ALIAS = "alias"
    LANGUAGES = "languages"
    TOPICS = "topics"
    EXCLUDED = "excluded"
    CAPACITY = "capacity"
    HOURS = "hours"
    TIMEZONE = "timezone"
    WAITING = "waiting"  # profile complete, approval pending
    READY = "ready"  # approved: /available and /away


NEXT: dict[Step, Step] = {
    Step.ALIAS: Step.LANGUAGES,
    Step.LANGUAGES: Step.TOPICS,
    Step.TOPICS: Step.EXCLUDED,
    Step.EXCLUDED: Step.CAPACITY,
    Step.CAPACITY: Step.HOURS,
    Step.HOURS: Step.TIMEZONE,
    Step.TIMEZONE: Step.WAITING,
}


# --- Invites -------------------------------------------------------------------------------------


def new_invite_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    """Typed codes forgive case, spaces and dashes."""
    return re.sub(r"[\s_-]+", "", code).upper()


def hash_code(code: str) -> str:
    # The code is random and long enough that a plain hash cannot be guessed back.
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def invite_link(settings: Any, code: str) -> str | None:
    username = getattr(settings, "telegram_bot_username", None)
    return f"https://t.me/{username.lstrip('@')}?start={code}" if username else None


async def create_invite(
    session: AsyncSession, *, role: str, hours: float, actor: str, now: datetime
) -> tuple[str, Invite]:
    """A new one-time code (returned once, never stored) and its row."""
    if role not in (Role.SUPPORTER, Role.COORDINATOR):
        raise ValueError("an invite is for a supporter or a coordinator")
    code = new_invite_code()
    invite = Invite(code_hash=hash_code(code), role=role, created_by=actor, created_at=now,
                    expires_at=now + timedelta(hours=hours))  # fmt: skip
    session.add(invite)
    await session.flush()
    audit(session, now, actor, "invite.create", f"invite:{invite.id}", role=role, hours=hours)
    return code, invite


async def redeem_invite(
    session: AsyncSession, code: str, participant_id: int, now: datetime
) -> Invite | None:
    """Use the code once: a conditional update, so of two people at once exactly one wins."""
    result = await session.execute(
        update(Invite)
        .where(
            Invite.code_hash == hash_code(code), Invite.used_at.is_(None), Invite.expires_at > now
        )  # fmt: skip
        .values(used_at=now, used_by_id=participant_id)
        .returning(Invite.id, Invite.role)
    )
    row = result.first()
    if row is None:
        return None
    audit(session, now, f"participant:{participant_id}", "invite.use", f"invite:{row.id}",
          role=row.role)  # fmt: skip
    return await session.get(Invite, row.id)


# --- Profile checks ------------------------------------------------------------------------------

_CONTACT_LIKE = re.compile(r"@|https?:|www\.|t\.me|\.(com|pl|ua|ru|org|net)\b|(\d\D?){5,}", re.I)
_ALIAS_CHARS = re.compile(r"^[\w .'\u200c-]+$")  # ZWNJ is part of Persian spelling


async def alias_problem(session: AsyncSession, alias: str, me: int) -> str | None:
    """The text id that kindly explains what is wrong with a chosen alias, or None."""
    if not ALIAS_MIN <= len(alias) <= ALIAS_MAX:
        return "onboard.alias_length"
    if _CONTACT_LIKE.search(alias):
        return "onboard.alias_contact"
    if not _ALIAS_CHARS.match(alias) or alias.replace(" ", "").isdigit():
        return "onboard.alias_chars"
    taken = await session.execute(
        select(Participant.id)
        .where(func.lower(Participant.alias) == alias.lower(), Participant.id != me)
        .limit(1)
    )
    return "onboard.alias_taken" if taken.first() else None


def known_timezone(typed: str) -> str | None:
    """The IANA zone she means ("europe/kyiv" is Europe/Kyiv), or None."""
    wanted = typed.strip().replace(" ", "_")
    try:
        ZoneInfo(wanted)
        return wanted
    except (ZoneInfoNotFoundError, ValueError):
        pass
    by_lower = {zone.lower(): zone for zone in available_timezones()}
    return by_lower.get(wanted.lower())


# --- Approval (shared with the coordinator commands and the CLI) ---------------------------------


# The steps of a profile still being written; anyone past them waits for approval.
PROFILE_STEPS = tuple(step.value for step in NEXT)


async def profile_unfinished(session: AsyncSession, participant_id: int) -> bool:
    state = await session.get(FlowState, participant_id)
    return state is not None and state.flow == NAME and state.step in PROFILE_STEPS


async def pending_supporters(session: AsyncSession) -> list[Participant]:
    """Supporters who finished their profile and wait for a coordinator, oldest first."""
    query = (
        select(Participant)
        .join(SupporterProfile, SupporterProfile.participant_id == Participant.id)
        .outerjoin(FlowState, FlowState.participant_id == Participant.id)
        .where(
            Participant.role == Role.SUPPORTER,
            SupporterProfile.approved.is_(False),
            Participant.status == ParticipantStatus.ACTIVE,
        )  # fmt: skip
        .order_by(Participant.id)
    )
    found = list((await session.execute(query)).scalars())
    return [p for p in found if not await profile_unfinished(session, p.id)]


async def find_supporter(session: AsyncSession, alias: str) -> Participant | None:
    query = select(Participant).where(
        func.lower(Participant.alias) == alias.strip().lower(),
        Participant.role.in_((Role.SUPPORTER, Role.COORDINATOR)),
    )
    return (await session.execute(query)).scalars().first()


class Approval(StrEnum):
    APPROVED = "approved"
    ALREADY = "already"  # approved before: nothing changes
    UNFINISHED = "unfinished"  # her profile is not complete yet: nothing to approve
    NOT_A_SUPPORTER = "not_a_supporter"


async def approve_supporter(
    session: AsyncSession, supporter: Participant, *, actor: str, now: datetime
) -> Approval:
    """Approve her and tell her, when her profile is complete and not yet approved."""
    profile = await session.get(SupporterProfile, supporter.id)
    if profile is None or supporter.role not in (Role.SUPPORTER, Role.COORDINATOR):
        return Approval.NOT_A_SUPPORTER
    if profile.approved:
        return Approval.ALREADY
    if await profile_unfinished(session, supporter.id):
        return Approval.UNFINISHED
    profile.approved, profile.approved_at = True, now
    state = await session.get(FlowState, supporter.id)
    if state is not None and state.flow == NAME and state.step == Step.WAITING:
        state.step, state.data = Step.READY, {}
    session.add(outbox_row(supporter, OutboundMessage("onboard.approved"), now))
    audit(session, now, actor, "supporter.approve", f"participant:{supporter.id}")
    return Approval.APPROVED


# --- The flow ------------------------------------------------------------------------------------


def _checked(name: Any, on: bool, choice: str, text_id: str) -> Button:
    if on:
        return Button("onboard.checked", choice, {"name": name})
    return Button(text_id, choice)


class OnboardingFlow:
    name = NAME

    async def enter(
        self, ctx: FlowContext, code: str = "", language_hint: str | None = None, **_: Any
    ) -> None:
        """Intake hands over `/start <code>` or `join <code>`."""
        me = ctx.participant
        if me.role != Role.SEEKER:
            ctx.reply("onboard.already_member")
            return
        if any(await open_conversation(ctx)):
            # Her own conversation as a help-seeker comes first; the code keeps until then.
            ctx.reply("onboard.finish_conversation_first")
            return
        invite = await redeem_invite(ctx.session, code, me.id, ctx.now)
        if invite is None:
            ctx.reply("onboard.invite_invalid")
            return
        me.role = invite.role
        me.consent_terms = True  # supporters agree to the terms in their training
        if me.language is None:
            me.language = normalise_language(
                language_hint, getattr(ctx.config, "default_language", "en")
            )
        coordinator = invite.role == Role.COORDINATOR
        profile = await ctx.session.get(SupporterProfile, me.id) or SupporterProfile(
            participant_id=me.id
        )
        profile.approved, profile.approved_at = coordinator, ctx.now if coordinator else None
        profile.timezone = getattr(ctx.config, "timezone", "Europe/Warsaw")
        ctx.session.add(profile)
        ctx.reply("onboard.welcome_coordinator" if coordinator else "onboard.welcome")
        await self._go(ctx, Step.ALIAS)

    async def resume(self, ctx: FlowContext) -> None:
        await self._prompt(ctx, self._step(ctx))

    async def handle(self, ctx: FlowContext, event: InboundEvent) -> None:
        step = self._step(ctx)
        if event.kind == EventKind.COMMAND:
            if event.command in ("available", "away"):
                return await self.set_duty(ctx, on=event.command == "available")
            await unknown_command(ctx)
            return await self._prompt(ctx, step)
        if event.choice and event.choice.startswith("onboard:"):
            return await self._choice(ctx, step, event.choice.removeprefix("onboard:"))
        if event.kind == EventKind.TEXT and step in (Step.ALIAS, Step.HOURS, Step.TIMEZONE):
            return await self._typed(ctx, step, " ".join(event.text.split()))
        if step in (Step.WAITING, Step.READY) and event.kind != EventKind.CHOICE:
            ctx.reply("onboard.still_waiting" if step == Step.WAITING else "onboard.ready_hint")
            return
        ctx.reply("onboard.buttons_please")
        await self._prompt(ctx, step)

    async def set_duty(self, ctx: FlowContext, *, on: bool) -> None:
        """`/available` and `/away`: only an approved supporter's duty means anything."""
        me = ctx.participant
        profile = await ctx.session.get(SupporterProfile, me.id)
        if me.role == Role.SEEKER or profile is None:
            return await unknown_command(ctx)
        if not profile.approved:
            ctx.reply("onboard.not_approved_yet")
            return
        if on and profile.suspended:
            ctx.reply("onboard.duty_suspended")
            return
        profile.on_duty = on
        who = f"participant:{me.id}"
        audit(ctx.session, ctx.now, who, "duty.on" if on else "duty.off", who)
        ctx.reply("onboard.on_duty" if on else "onboard.off_duty")
        if on:
            await offer_waiting_requests(ctx, me)

    # Steps -------------------------------------------------------------------------------------

    async def _typed(self, ctx: FlowContext, step: Step, text: str) -> None:
        profile = await self._profile(ctx)
        match step:
            case Step.ALIAS:
                problem = await alias_problem(ctx.session, text, ctx.participant.id)
                if problem:
                    ctx.reply(problem, low=ALIAS_MIN, high=ALIAS_MAX)
                    return await self._prompt(ctx, step)
                ctx.participant.alias = text
                if ctx.participant.role == Role.COORDINATOR:
                    ctx.reply("onboard.coordinator_ready", alias=text)
                    return await self._go(ctx, Step.READY, prompt=False)
                ctx.reply("onboard.alias_ok", alias=text)
                profile.languages = [ctx.participant.language or "en"]
            case Step.HOURS:
                try:
                    profile.weekly_hours = parse_weekly_hours(text)
                except HoursError:
                    ctx.reply("onboard.hours_invalid")
                    return await self._prompt(ctx, step)
            case Step.TIMEZONE:
                zone = known_timezone(text)
                if zone is None:
                    ctx.reply("onboard.timezone_invalid")
                    return await self._prompt(ctx, step)
                profile.timezone = zone
                return await self._finish(ctx)
        await self._go(ctx, NEXT[step])

    async def _choice(self, ctx: FlowContext, step: Step, choice: str) -> None:
        profile = await self._profile(ctx)
        key, _, value = choice.partition(":")
        if profile is None:
            return await unknown_command(ctx)
        match (step, key):
            case (Step.LANGUAGES, "lang") if value in LANGUAGES:
                profile.languages = _toggle(profile.languages, value, LANGUAGES)
            case (Step.TOPICS, "topic") if value in TOPICS:
                profile.topics = _toggle(profile.topics, value, TOPICS)
            case (Step.EXCLUDED, "topic") if value in TOPICS:
                profile.excluded_topics = _toggle(profile.excluded_topics, value, TOPICS)
            case (Step.LANGUAGES, "done") if profile.languages:
                return await self._go(ctx, NEXT[step])
            case (Step.TOPICS, "done") if profile.topics:
                return await self._go(ctx, NEXT[step])
            case (Step.EXCLUDED, "done"):
                # A topic she protects herself from is never also one she takes.
                profile.topics = [t for t in profile.topics if t not in profile.excluded_topics]
                return await self._go(ctx, NEXT[step])
            case (Step.LANGUAGES | Step.TOPICS, "done"):
                ctx.reply("onboard.pick_one")
            case (Step.CAPACITY, "capacity") if value.isdigit() and int(value) in CAPACITY_CHOICES:
                profile.capacity = int(value)
                return await self._go(ctx, NEXT[step])
            case (Step.HOURS, "hours") if value == "any" or value in HOURS_PRESETS:
                profile.weekly_hours = parse_weekly_hours(HOURS_PRESETS.get(value, "any"))
                return await self._go(ctx, NEXT[step])
            case (Step.TIMEZONE, "tz"):
                return await self._finish(ctx)
            case _:
                ctx.reply("onboard.old_button")
        await self._prompt(ctx, step)

    async def _finish(self, ctx: FlowContext) -> None:
        await self._go(ctx, Step.WAITING, prompt=False)
        ctx.reply("onboard.profile_done")
        who = f"participant:{ctx.participant.id}"
        audit(ctx.session, ctx.now, who, "supporter.profile_complete", who)
        await alert_coordinators(
            ctx, "coord.alert_new_supporter", alias=ctx.participant.alias,
            buttons=(Button("coord.approve_button", f"coord:approve:{ctx.participant.id}",
                            {"alias": ctx.participant.alias}),),
        )  # fmt: skip

    # Prompts -----------------------------------------------------------------------------------

    async def _go(self, ctx: FlowContext, step: Step, *, prompt: bool = True) -> None:
        ctx.go(NAME, step)
        if prompt:
            await self._prompt(ctx, step)

    async def _prompt(self, ctx: FlowContext, step: Step) -> None:
        """Each step's question, in one place; her ticks so far ride on the buttons."""
        profile = await self._profile(ctx)
        chosen = _profile_lists(profile)
        done = Button("onboard.done", "onboard:done")
        match step:
            case Step.ALIAS:
                ctx.reply("onboard.ask_alias", low=ALIAS_MIN, high=ALIAS_MAX)
            case Step.LANGUAGES:
                ctx.reply("onboard.ask_languages", buttons=[
                    *(_checked(LANGUAGE_NAMES[c], c in chosen["languages"], f"onboard:lang:{c}",
                               f"language.{c}") for c in LANGUAGES), done,
                ])  # fmt: skip
            case Step.TOPICS | Step.EXCLUDED:
                key = "topics" if step == Step.TOPICS else "excluded"
                ctx.reply(f"onboard.ask_{key}", buttons=[
                    *(_checked(msgid(f"topic.{t}"), t in chosen[key], f"onboard:topic:{t}",
                               f"topic.{t}") for t in TOPICS), done,
                ])  # fmt: skip
            case Step.CAPACITY:
                ctx.reply("onboard.ask_capacity", buttons=[
                    Button("onboard.capacity_n", f"onboard:capacity:{n}", {"n": n})
                    for n in CAPACITY_CHOICES
                ])  # fmt: skip
            case Step.HOURS:
                ctx.reply("onboard.ask_hours", buttons=[
                    Button("onboard.hours_evenings", "onboard:hours:evenings"),
                    Button("onboard.hours_weekends", "onboard:hours:weekends"),
                    Button("onboard.hours_any", "onboard:hours:any"),
                ])  # fmt: skip
            case Step.TIMEZONE:
                zone = getattr(ctx.config, "timezone", "Europe/Warsaw")
                ctx.reply("onboard.ask_timezone", zone=zone, buttons=[
                    Button("onboard.timezone_keep", "onboard:tz:keep", {"zone": zone}),
                ])  # fmt: skip
            case Step.WAITING:
                ctx.reply("onboard.still_waiting")
            case Step.READY:
                ctx.reply("onboard.ready_hint")

    async def _profile(self, ctx: FlowContext) -> SupporterProfile | None:
        return await ctx.session.get(SupporterProfile, ctx.participant.id)

    @staticmethod
    def _step(ctx: FlowContext) -> Step:
        if ctx.state.flow == NAME and ctx.state.step in Step.__members__.values():
            return Step(ctx.state.step)
        return Step.READY


def _toggle(current: list[str], value: str, order: tuple[str, ...]) -> list[str]:
    chosen = set(current or [])
    chosen ^= {value}
    return [item for item in order if item in chosen]  # a new list, so the JSON column is saved


def _profile_lists(profile: SupporterProfile | None) -> dict[str, list[str]]:
    if profile is None:
        return {"languages": [], "topics": [], "excluded": []}
    return {"languages": profile.languages or [], "topics": profile.topics or [],
            "excluded": profile.excluded_topics or []}  # fmt: skip
