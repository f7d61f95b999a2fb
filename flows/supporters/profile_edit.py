"""`/profile`: an approved supporter sees her profile and changes it in place.

She steps aside from where she was (a conversation keeps its place) into her profile's summary;
each field opens its question in the same message (languages, topics, topics she would rather not
take, how many at once, hours: a preset or typed), and saving brings the summary back with what
became of the change (see `profile_changes`: saved at once, or waiting for a coordinator).
"Done" takes her back to where she was. A coordinator's Approve / Keep buttons land here too.

```mermaid
stateDiagram-v2
    [*] --> summary: /profile (approved supporter; else still waiting / unknown command)
    summary --> field: a field chosen (its question, in place)
    field --> field: a language or topic ticked or unticked (in place)
    field --> field: hours not readable (example shown)
    field --> summary: saved (at once, or sent for a coordinator's OK), or Back
    summary --> [*]: Done (back to where she was)
```
"""

from enum import StrEnum
from typing import Any

from flows.commands import unknown_command
from flows.context import FlowContext
from flows.conversation.questions import TOPICS
from flows.detour import go_back, step_aside
from flows.events import Button, EventKind, InboundEvent, msgid
from flows.supporters.profile import CAPACITY_CHOICES, HOURS_PRESETS
from flows.supporters.profile_changes import (
    COLUMNS,
    Outcome,
    propose,
    review,
    shown,
    waiting_value,
)
from flows.weekly_hours import HoursError, parse_weekly_hours
from i18n import LANGUAGE_NAMES, LANGUAGES, N_
from models import Role, SupporterProfile

NAME = "profile_edit"


class Step(StrEnum):
    SUMMARY = "summary"
    LANGUAGES = "languages"
    TOPICS = "topics"
    EXCLUDED = "excluded"
    CAPACITY = "capacity"
    HOURS = "hours"


TICKED = (Step.LANGUAGES, Step.TOPICS, Step.EXCLUDED)
FIELDS = tuple(step.value for step in Step if step != Step.SUMMARY)
# Built as f"profile.edit_{field}" and f"profile.{outcome}".
BUILT_TEXTS = (
    N_("profile.edit_languages"), N_("profile.edit_topics"), N_("profile.edit_excluded"),
    N_("profile.edit_capacity"), N_("profile.edit_hours"), N_("profile.saved"),
    N_("profile.waiting"),
)  # fmt: skip


class ProfileEditFlow:
    name = NAME

    async def handle(self, ctx: FlowContext, event: InboundEvent) -> None:
        key, _, value = (event.choice or "").removeprefix("profile:").partition(":")
        if event.choice and key in ("approve", "decline"):
            return await review(ctx, key == "approve", value)
        profile = await ctx.session.get(SupporterProfile, ctx.participant.id)
        if ctx.participant.role != Role.SUPPORTER or profile is None:
            return await unknown_command(ctx)
        if not profile.approved:
            ctx.reply("onboard.still_waiting")
            return
        if event.kind == EventKind.COMMAND:
            step_aside(ctx, NAME, Step.SUMMARY)
            return _summary(ctx, profile)
        if ctx.state.flow != NAME:  # a button from a profile she has closed since
            ctx.reply("relay.button_old")
            return
        step = Step(ctx.state.step) if ctx.state.step in FIELDS else Step.SUMMARY
        if event.choice:
            return await self._choice(ctx, profile, step, key, value)
        if event.kind == EventKind.TEXT and step == Step.HOURS:
            try:
                hours = parse_weekly_hours(" ".join((event.text or "").split()))
            except HoursError:
                ctx.reply("onboard.hours_invalid")
                return _ask(ctx, profile, step)
            return await self._save(ctx, profile, step, hours, in_place=False)
        ctx.reply("profile.buttons_please")
        if step == Step.SUMMARY:
            return _summary(ctx, profile)
        _ask(ctx, profile, step)

    async def resume(self, ctx: FlowContext) -> None:
        profile = await ctx.session.get(SupporterProfile, ctx.participant.id)
        if profile is not None:
            _summary(ctx, profile)

    async def _choice(
        self, ctx: FlowContext, profile: SupporterProfile, step: Step, key: str, value: str
    ) -> None:
        draft = list(ctx.state.data.get("draft") or [])
        match (step, key):
            case (Step.SUMMARY, "edit") if value in FIELDS:
                ctx.state.step = value
                ctx.remember(draft=_start_value(profile, Step(value)))
                return _ask(ctx, profile, Step(value), in_place=True)
            case (Step.SUMMARY, "done"):
                go_back(ctx, NAME)
                ctx.reply("profile.closed")
                return
            case (Step.LANGUAGES, "lang") if value in LANGUAGES:
                ctx.remember(draft=_toggle(draft, value, LANGUAGES))
            case (Step.TOPICS | Step.EXCLUDED, "topic") if value in TOPICS:
                ctx.remember(draft=_toggle(draft, value, TOPICS))
            case (Step.LANGUAGES | Step.TOPICS, "save") if not draft:
                ctx.reply("onboard.pick_one")
                return _ask(ctx, profile, step)
            case (Step.LANGUAGES | Step.TOPICS | Step.EXCLUDED, "save"):
                return await self._save(ctx, profile, step, draft)
            case (Step.CAPACITY, "capacity") if value.isdigit() and int(value) in CAPACITY_CHOICES:
                return await self._save(ctx, profile, step, int(value))
            case (Step.HOURS, "hours") if value == "any" or value in HOURS_PRESETS:
                hours = parse_weekly_hours(HOURS_PRESETS.get(value, "any"))
                return await self._save(ctx, profile, step, hours)
            case (_, "back"):
                ctx.go(NAME, Step.SUMMARY, back=ctx.state.data.get("back"))
                return _summary(ctx, profile, in_place=True)
            case _:
                ctx.reply("onboard.old_button")
                if step == Step.SUMMARY:
                    return _summary(ctx, profile)
                return _ask(ctx, profile, step)
        _ask(ctx, profile, step, in_place=True)

    async def _save(self, ctx: FlowContext, profile: SupporterProfile, step: Step, value: Any,
                    *, in_place: bool = True) -> None:  # fmt: skip
        outcome = await propose(ctx, profile, step.value, value)
        ctx.go(NAME, Step.SUMMARY, back=ctx.state.data.get("back"))
        _summary(ctx, profile, in_place=in_place)
        if outcome != Outcome.UNCHANGED:
            ctx.reply(f"profile.{outcome}", what={"msgid": f"profile.field_{step.value}"})


def _start_value(profile: SupporterProfile, step: Step) -> Any:
    """What a ticked question starts from: what she asked for if it waits, else what she has."""
    value = waiting_value(profile, step.value)
    return list(value or []) if step in TICKED else None


def _summary(ctx: FlowContext, profile: SupporterProfile, *, in_place: bool = False) -> None:
    values = {field: shown(field, getattr(profile, COLUMNS[field])) for field in FIELDS}
    buttons = [Button(f"profile.edit_{field}", f"profile:edit:{field}") for field in FIELDS]
    buttons.append(Button("onboard.done", "profile:done"))
    waiting = list(profile.pending_change or {})
    if waiting:
        what = {"msgids": [f"profile.field_{field}" for field in waiting]}
        ctx.reply("profile.summary_waiting", in_place=in_place, buttons=buttons, what=what,
                  **values)  # fmt: skip
    else:
        ctx.reply("profile.summary", in_place=in_place, buttons=buttons, **values)


def _ask(
    ctx: FlowContext, profile: SupporterProfile, step: Step, *, in_place: bool = False
) -> None:
    """A field's question, her ticks so far on the buttons."""
    draft = list(ctx.state.data.get("draft") or [])
    save, back = Button("onboard.done", "profile:save"), Button("profile.back", "profile:back")
    match step:
        case Step.LANGUAGES:
            ctx.reply("onboard.ask_languages", in_place=in_place, buttons=[
                *(_checked(LANGUAGE_NAMES[c], c in draft, f"profile:lang:{c}", f"language.{c}")
                  for c in LANGUAGES), save,
            ])  # fmt: skip
        case Step.TOPICS | Step.EXCLUDED:
            # Under "rather not take", only topics she does not take.
            taken = profile.topics or []
            offered = [t for t in TOPICS if step == Step.TOPICS or t not in taken]
            ctx.reply(f"onboard.ask_{step.value}", in_place=in_place, buttons=[
                *(_checked(msgid(f"topic.{t}"), t in draft, f"profile:topic:{t}", f"topic.{t}")
                  for t in offered), save,
            ])  # fmt: skip
        case Step.CAPACITY:
            ctx.reply("onboard.ask_capacity", in_place=in_place, buttons=[
                *(Button("onboard.capacity_n", f"profile:capacity:{n}", {"n": n})
                  for n in CAPACITY_CHOICES), back,
            ])  # fmt: skip
        case Step.HOURS:
            ctx.reply("onboard.ask_hours", in_place=in_place, buttons=[
                Button("onboard.hours_evenings", "profile:hours:evenings"),
                Button("onboard.hours_weekends", "profile:hours:weekends"),
                Button("onboard.hours_any", "profile:hours:any"), back,
            ])  # fmt: skip


def _checked(name: Any, on: bool, choice: str, text_id: str) -> Button:
    return Button("onboard.checked", choice, {"name": name}) if on else Button(text_id, choice)


def _toggle(current: list[str], value: str, order: tuple[str, ...]) -> list[str]:
    chosen = set(current) ^ {value}
    return [item for item in order if item in chosen]
