"""A new supporter's profile, one question at a time: alias, languages, topics, capacity, hours.

Each step's question is asked in `ask` and answered in `answer_text` or `answer_choice`; a
finished profile waits for a coordinator's approval, and the coordinators are alerted.

```mermaid
stateDiagram-v2
    [*] --> alias: invite accepted (onboarding)
    alias --> alias: too short or long, looks like a phone, e-mail, @name or link, or taken
    alias --> languages: supporter
    alias --> ready: coordinator (approved by her invite)
    languages --> languages: a language ticked or unticked (the question edited in place)
    languages --> topics: done (at least one)
    topics --> topics: a topic ticked or unticked
    topics --> excluded: done (at least one)
    excluded --> excluded: a topic she does not take ticked or unticked
    excluded --> capacity: done (none is fine)
    capacity --> hours: 1 to 5
    hours --> hours: not readable (example shown)
    hours --> timezone: preset or typed hours
    hours --> waiting: any time (no time zone needed; coordinators alerted)
    timezone --> timezone: not a known zone
    timezone --> waiting: kept or a valid zone typed (coordinators alerted)
    waiting --> [*]: approval
```
"""

import re
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from flows.alerts import alert_coordinators
from flows.audit import audit
from flows.commands import unknown_command
from flows.context import FlowContext
from flows.conversation.questions import TOPICS
from flows.events import Button, msgid
from flows.weekly_hours import HoursError, parse_weekly_hours
from i18n import LANGUAGE_NAMES, LANGUAGES, N_
from models import Participant, Role, SupporterProfile

# Built as f"onboard.ask_{key}" for the two lists she ticks.
ASK_TEXTS = (
    N_("onboard.ask_topics"),
    N_("onboard.ask_excluded"),
)

NAME = "onboarding"  # the flow her state names while she writes her profile and after
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
# The steps of a profile still being written; anyone past them waits for approval.
PROFILE_STEPS = tuple(step.value for step in NEXT)
TYPED_STEPS = (Step.ALIAS, Step.HOURS, Step.TIMEZONE)
# Her place in the programme, never purged as a forgotten state: a profile half written, or one
# waiting for approval (without it she would look finished, or lose the words "still waiting").
KEPT_PLACES = ((NAME, (*PROFILE_STEPS, Step.WAITING.value)),)

# --- Checks --------------------------------------------------------------------------------------

_CONTACT_LIKE = re.compile(r"@|https?:|www\.|t\.me|\.(com|pl|ua|ru|org|net)\b|(\d\D?){5,}", re.I)
_ALIAS_CHARS = re.compile(r"^[\w .'\u200c-]+$")  # ZWNJ is part of Persian spelling


async def alias_problem(session: AsyncSession, alias: str, me: int) -> str | None:
    """The text id that kindly explains what is wrong with a chosen alias, or None."""
    if not ALIAS_MIN <= len(alias) <= ALIAS_MAX:
        return "onboard.alias_length"
    if _CONTACT_LIKE.search(alias):
        return N_("onboard.alias_contact")
    if not _ALIAS_CHARS.match(alias) or alias.replace(" ", "").isdigit():
        return N_("onboard.alias_chars")
    taken = await session.execute(
        select(Participant.id)
        .where(func.lower(Participant.alias) == alias.lower(), Participant.id != me)
        .limit(1)
    )
    return N_("onboard.alias_taken") if taken.first() else None


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


# --- Answers -------------------------------------------------------------------------------------


def current_step(ctx: FlowContext) -> Step:
    if ctx.state.flow == NAME and ctx.state.step in Step.__members__.values():
        return Step(ctx.state.step)
    return Step.READY


async def go(ctx: FlowContext, step: Step, *, prompt: bool = True) -> None:
    ctx.go(NAME, step)
    if prompt:
        await ask(ctx, step)


async def answer_text(ctx: FlowContext, step: Step, text: str) -> None:
    """What she typed at a step that takes words: her alias, her hours, her time zone."""
    profile = await _profile(ctx)
    match step:
        case Step.ALIAS:
            problem = await alias_problem(ctx.session, text, ctx.participant.id)
            if problem:
                ctx.reply(problem, low=ALIAS_MIN, high=ALIAS_MAX)
                return await ask(ctx, step)
            ctx.participant.alias = text
            if ctx.participant.role == Role.COORDINATOR:
                ctx.reply("onboard.coordinator_ready", alias=text)
                return await go(ctx, Step.READY, prompt=False)
            ctx.reply("onboard.alias_ok", alias=text)
            profile.languages = [ctx.participant.language or "en"]
        case Step.HOURS:
            try:
                profile.weekly_hours = parse_weekly_hours(text)
            except HoursError:
                ctx.reply("onboard.hours_invalid")
                return await ask(ctx, step)
        case Step.TIMEZONE:
            zone = known_timezone(text)
            if zone is None:
                ctx.reply("onboard.timezone_invalid")
                return await ask(ctx, step)
            profile.timezone = zone
            return await _finish(ctx)
    await go(ctx, NEXT[step])


async def answer_choice(ctx: FlowContext, step: Step, choice: str) -> None:
    """A button she pressed: a tick, "done", a capacity, an hours preset, keeping the zone."""
    profile = await _profile(ctx)
    key, _, value = choice.partition(":")
    if profile is None:
        return await unknown_command(ctx)
    in_place = False  # a tick rewrites the question she is answering, never a new message
    match (step, key):
        case (Step.LANGUAGES, "lang") if value in LANGUAGES:
            profile.languages = _toggle(profile.languages, value, LANGUAGES)
            in_place = True
        case (Step.TOPICS, "topic") if value in TOPICS:
            profile.topics = _toggle(profile.topics, value, TOPICS)
            in_place = True
        case (Step.EXCLUDED, "topic") if value in TOPICS and value not in profile.topics:
            profile.excluded_topics = _toggle(profile.excluded_topics, value, TOPICS)
            in_place = True
        case (Step.LANGUAGES, "done") if profile.languages:
            return await go(ctx, NEXT[step])
        case (Step.TOPICS, "done") if profile.topics:
            return await go(ctx, NEXT[step])
        case (Step.EXCLUDED, "done"):
            # A topic she protects herself from is never also one she takes.
            profile.topics = [t for t in profile.topics if t not in profile.excluded_topics]
            return await go(ctx, NEXT[step])
        case (Step.LANGUAGES | Step.TOPICS, "done"):
            ctx.reply("onboard.pick_one")
        case (Step.CAPACITY, "capacity") if value.isdigit() and int(value) in CAPACITY_CHOICES:
            profile.capacity = int(value)
            return await go(ctx, NEXT[step])
        case (Step.HOURS, "hours") if value == "any" or value in HOURS_PRESETS:
            profile.weekly_hours = parse_weekly_hours(HOURS_PRESETS.get(value, "any"))
            if value == "any":
                return await _finish(ctx)  # any time of day: her time zone changes nothing
            return await go(ctx, NEXT[step])
        case (Step.TIMEZONE, "tz"):
            return await _finish(ctx)
        case _:
            ctx.reply("onboard.old_button")
    await ask(ctx, step, in_place=in_place)


async def _finish(ctx: FlowContext) -> None:
    await go(ctx, Step.WAITING, prompt=False)
    ctx.reply("onboard.profile_done")
    who = f"participant:{ctx.participant.id}"
    audit(ctx.session, ctx.now, who, "supporter.profile_complete", who)
    await alert_coordinators(
        ctx, "coord.alert_new_supporter", alias=ctx.participant.alias,
        buttons=(Button("coord.approve_button", f"coord:approve:{ctx.participant.id}",
                        {"alias": ctx.participant.alias}),),
    )  # fmt: skip


# --- Questions -----------------------------------------------------------------------------------


async def ask(ctx: FlowContext, step: Step, *, in_place: bool = False) -> None:
    """Each step's question, in one place; her ticks so far ride on the buttons (`in_place`:
    the question she ticked on is rewritten instead of asked again)."""
    chosen = _profile_lists(await _profile(ctx))
    done = Button("onboard.done", "onboard:done")
    match step:
        case Step.ALIAS:
            ctx.reply("onboard.ask_alias", low=ALIAS_MIN, high=ALIAS_MAX)
        case Step.LANGUAGES:
            ctx.reply("onboard.ask_languages", in_place=in_place, buttons=[
                *(_checked(LANGUAGE_NAMES[c], c in chosen["languages"], f"onboard:lang:{c}",
                           f"language.{c}") for c in LANGUAGES), done,
            ])  # fmt: skip
        case Step.TOPICS | Step.EXCLUDED:
            key = "topics" if step == Step.TOPICS else "excluded"
            # Under "rather not take", only topics she has not just chosen to help with.
            offered = [t for t in TOPICS if key == "topics" or t not in chosen["topics"]]
            ctx.reply(f"onboard.ask_{key}", in_place=in_place, buttons=[
                *(_checked(msgid(f"topic.{t}"), t in chosen[key], f"onboard:topic:{t}",
                           f"topic.{t}") for t in offered), done,
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


async def _profile(ctx: FlowContext) -> SupporterProfile | None:
    return await ctx.session.get(SupporterProfile, ctx.participant.id)


def _checked(name: Any, on: bool, choice: str, text_id: str) -> Button:
    if on:
        return Button("onboard.checked", choice, {"name": name})
    return Button(text_id, choice)


def _toggle(current: list[str], value: str, order: tuple[str, ...]) -> list[str]:
    chosen = set(current or [])
    chosen ^= {value}
    return [item for item in order if item in chosen]  # a new list, so the JSON column is saved


def _profile_lists(profile: SupporterProfile | None) -> dict[str, list[str]]:
    if profile is None:
        return {"languages": [], "topics": [], "excluded": []}
    return {"languages": profile.languages or [], "topics": profile.topics or [],
            "excluded": profile.excluded_topics or []}  # fmt: skip
