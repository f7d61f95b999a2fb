"""Intake: the first conversation of every newcomer, from her language to an open help request.

It says plainly what Peerline is, asks for consent, asks early whether she is safe (handing over
to the violence-help referral when she is not), then her topic and, if she wants, one sentence,
and opens the request. The menu, `/start`, `/menu`, `/language` and `/help` work from any state;
menu and language buttons are routed here by their prefix, so answering them never breaks a
running conversation in another flow.

```mermaid
stateDiagram-v2
    [*] --> choose_language: first message (her app's language first, ticked)
    [*] --> onboarding: /start CODE or join CODE (a supporter's invite)
    choose_language --> consent_terms: language chosen (welcome shown)
    consent_terms --> consent_terms: declined (kind explanation + help numbers)
    consent_terms --> consent_campaigns: agreed
    consent_campaigns --> safety: yes / no thanks
    safety --> topic: safe
    safety --> referral: not safe / not sure (her request will be urgent)
    referral --> topic: back, or talk to a supporter now (urgent)
    topic --> note: topic chosen (violence: the help paths offered too)
    topic --> menu: not now
    note --> note: too long (asked again)
    note --> relay: one sentence or skip (open_request)
    menu --> safety: talk to someone
    menu --> referral: I need help now
    menu --> menu: about
    menu --> choose_language: change language
    state "any state" as any
    any --> any: /language, a language button (back where she was)
    any --> menu: /menu, /help (a conversation elsewhere keeps its state)
    any --> any: /start with a request or match open (asked first)
    any --> menu: /start yes (request cancelled or match ended)
```
"""

import re
from enum import StrEnum
from typing import Any

from sqlalchemy import or_, select, update

from flows.commands import unknown_command
from flows.context import FlowContext
from flows.events import Button, EventKind, InboundEvent
from i18n import LANGUAGE_NAMES, LANGUAGES, normalise_language
from models import (
    HelpRequest,
    Match,
    MatchStatus,
    Offer,
    OfferStatus,
    RequestStatus,
    Role,
)

NAME = "intake"
NOTE_MAX_CHARS = 300


class Step(StrEnum):
    CHOOSE_LANGUAGE = "choose_language"
    CONSENT_TERMS = "consent_terms"
    CONSENT_CAMPAIGNS = "consent_campaigns"
    SAFETY = "safety"
    TOPIC = "topic"
    NOTE = "note"
    MENU = "menu"


# The path toward a request, in order: where each answer leads (the one place transitions live).
NEXT: dict[Step, Step] = {
    Step.CHOOSE_LANGUAGE: Step.CONSENT_TERMS,
    Step.CONSENT_TERMS: Step.CONSENT_CAMPAIGNS,
    Step.CONSENT_CAMPAIGNS: Step.SAFETY,
    Step.SAFETY: Step.TOPIC,
    Step.TOPIC: Step.NOTE,
}

TOPICS = ("emotional", "violence", "documents", "housing", "work", "health", "children", "other")
SAFE_ANSWERS = ("yes", "no", "unsure")
HELP_TEXTS = {Role.SUPPORTER: "intake.help_supporter", Role.COORDINATOR: "intake.help_coordinator"}
# The menu's "I need help now", as the referral flow sees it from inside a conversation.
_HELP_NOW = InboundEvent("internal", "", EventKind.CHOICE, choice="menu:help_now")
# A supporter's invite typed where deep links do not exist; spaces and dashes are forgiven.
# Only a code's shape counts, so "join the group" is still her own words.
INVITE_TEXT = re.compile(r"^\s*(?:/start|join)\s+((?:[A-Za-z0-9][\s_-]?){12})\s*$", re.I)


# --- Buttons -------------------------------------------------------------------------------------


def language_buttons(hint: str | None = None) -> list[Button]:
    """Every language named in itself; the one her app uses comes first, marked."""
    order = list(LANGUAGES)
    buttons: list[Button] = []
    if hint in LANGUAGES:
        order.remove(hint)
        buttons.append(Button("intake.language_suggested", f"lang:{hint}",
                              {"name": LANGUAGE_NAMES[hint]}))  # fmt: skip
    buttons.extend(Button(f"language.{code}", f"lang:{code}") for code in order)
    return buttons


def menu_buttons(role: str = Role.SEEKER) -> list[Button]:
    if role == Role.SEEKER:
        first = [Button("menu.talk", "menu:talk")]
    else:
        first = [Button("menu.available", "menu:available"), Button("menu.away", "menu:away")]
        if role == Role.COORDINATOR:
            first.append(Button("menu.pending", "coord:pending"))
    return [
        *first,
        Button("menu.help_now", "menu:help_now"),
        Button("menu.about", "menu:about"),
        Button("menu.language", "menu:language"),
        Button("exit.btn", "exit:now"),
    ]


def _prompt(ctx: FlowContext, step: Step) -> None:
    """Ask the question of `step` (the only place each step's words and buttons are chosen)."""
    match step:
        case Step.CHOOSE_LANGUAGE:
            # Her app's language (or the one she uses) was put on her as a preselection.
            ctx.reply("intake.choose_language", buttons=language_buttons(ctx.participant.language))
        case Step.CONSENT_TERMS:
            ctx.reply("intake.ask_terms", buttons=[
                Button("intake.terms_yes", "intake:terms:yes"),
                Button("intake.terms_no", "intake:terms:no"),
            ])  # fmt: skip
        case Step.CONSENT_CAMPAIGNS:
            ctx.reply("intake.ask_campaigns", buttons=[
                Button("intake.campaigns_yes", "intake:campaigns:yes"),
                Button("intake.campaigns_no", "intake:campaigns:no"),
            ])  # fmt: skip
        case Step.SAFETY:
            ctx.reply("intake.ask_safe", buttons=[
                Button("intake.safe_yes", "intake:safe:yes"),
                Button("intake.safe_no", "intake:safe:no"),
                Button("intake.safe_unsure", "intake:safe:unsure"),
            ])  # fmt: skip
        case Step.TOPIC:
            buttons = [Button(f"topic.{t}", f"intake:topic:{t}") for t in TOPICS]
            buttons.append(Button("intake.not_now", "intake:menu"))
            ctx.reply("intake.ask_topic", buttons=buttons)
        case Step.NOTE:
            ctx.reply("intake.ask_note", buttons=[Button("intake.skip", "intake:note:skip")])
        case Step.MENU:
            ctx.reply("intake.menu", buttons=menu_buttons(ctx.participant.role))


# --- Facts about her that decide where she stands ------------------------------------------------


async def open_conversation(ctx: FlowContext) -> tuple[HelpRequest | None, Match | None]:
    """Her waiting or matched request, and any match she is in (as seeker or supporter)."""
    me = ctx.participant.id
    request = (
        await ctx.session.execute(
            select(HelpRequest)
            .where(
                HelpRequest.seeker_id == me,
                HelpRequest.status.in_((RequestStatus.WAITING, RequestStatus.MATCHED)),
            )
            .order_by(HelpRequest.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    match = (
        await ctx.session.execute(
            select(Match)
            .where(
                or_(Match.seeker_id == me, Match.supporter_id == me),
                Match.status.in_((MatchStatus.ACTIVE, MatchStatus.PAUSED)),
            )
            .order_by(Match.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return request, match


# --- The flow ------------------------------------------------------------------------------------


class IntakeFlow:
    name = NAME

    async def handle(self, ctx: FlowContext, event: InboundEvent) -> None:
        if event.kind == EventKind.COMMAND:
            return await self._command(ctx, event)
        if event.choice:
            return await self._choice(ctx, event.choice)
        if event.kind == EventKind.TEXT and (invite := INVITE_TEXT.match(event.text or "")):
            return await self._redeem(ctx, invite.group(1), event.language_hint)
        step = self._step(ctx)
        if step is None:
            if ctx.participant.consent_terms:  # she knows us; her place was not kept
                return self._menu(ctx)
            return self._start_fresh(ctx, event.language_hint)  # her very first message
        if event.kind in (EventKind.MEDIA, EventKind.UNSUPPORTED, EventKind.EDIT):
            ctx.reply("intake.buttons_please")
            return _prompt(ctx, step)
        if step == Step.CHOOSE_LANGUAGE and event.kind == EventKind.TEXT:
            typed = _typed_language(event.text)
            if typed:
                return await self._choose_language(ctx, typed)
        if step == Step.NOTE and event.kind == EventKind.TEXT:
            return await self._take_note(ctx, event.text)
        if step == Step.MENU:
            ctx.reply("intake.menu_hint")
            return _prompt(ctx, step)
        ctx.reply("intake.not_understood")
        _prompt(ctx, step)

    # Seams for other flows ---------------------------------------------------------------------

    async def enter(self, ctx: FlowContext, urgent: bool = False, **_: Any) -> None:
        """Start or continue toward a request; `urgent` when she comes from the help paths."""
        if ctx.participant.role != Role.SEEKER:
            return self._menu(ctx)  # supporters and coordinators are not matched as seekers
        if ctx.participant.language is None or not ctx.participant.consent_terms:
            step = Step.CHOOSE_LANGUAGE if ctx.participant.language is None else Step.CONSENT_TERMS
            ctx.go(NAME, step, urgent=urgent)
            return _prompt(ctx, step)
        request, match = await open_conversation(ctx)
        if request is not None or match is not None:
            return await self._already_open(ctx, request, match)
        # Coming from the help paths she has just said how she is; no need to ask again.
        self._go(ctx, Step.TOPIC if urgent else Step.SAFETY, urgent=urgent)
        _prompt(ctx, self._step(ctx) or Step.SAFETY)

    async def resume(self, ctx: FlowContext) -> None:
        """Back from another flow (the help paths): repeat where she was, else the way forward."""
        step = self._step(ctx)
        if ctx.state.flow == NAME and step is not None:
            return _prompt(ctx, step)
        if ctx.participant.language is None or not ctx.participant.consent_terms:
            return await self.enter(ctx)
        request, match = await open_conversation(ctx)
        if request is not None or match is not None:
            return await self._back_to_conversation(ctx)
        if ctx.participant.role != Role.SEEKER:
            return self._menu(ctx)
        # She has seen the help paths: a supporter is the next thing to offer, not the question
        # whether she is safe again.
        ctx.go(NAME, Step.TOPIC, urgent=bool(ctx.state.data.get("urgent")))
        _prompt(ctx, Step.TOPIC)

    # Commands ----------------------------------------------------------------------------------

    async def _command(self, ctx: FlowContext, event: InboundEvent) -> None:
        match event.command:
            case "start":
                if event.args.strip():
                    return await self._redeem(ctx, event.args.strip(), event.language_hint)
                return await self._restart(ctx, event.language_hint)
            case "menu":
                return self._menu(ctx)
            case "help":
                ctx.reply(HELP_TEXTS.get(ctx.participant.role, "intake.help"))
                return self._menu(ctx)
            case "language":
                return self._ask_language(ctx)
        await unknown_command(ctx)
        if self._step(ctx) is not None and ctx.state.flow == NAME:
            _prompt(ctx, self._step(ctx))  # type: ignore[arg-type]

    async def _restart(self, ctx: FlowContext, hint: str | None) -> None:
        request, match = await open_conversation(ctx)
        if ctx.participant.role == Role.SEEKER and (request is not None or match is not None):
            # Never throw a running conversation away on a stray /start: ask first.
            ctx.reply("intake.restart_confirm", buttons=[
                Button("intake.restart_yes", "intake:restart:yes"),
                Button("intake.restart_no", "intake:restart:no"),
            ])  # fmt: skip
            return
        if not ctx.participant.consent_terms:
            return self._start_fresh(ctx, hint)
        ctx.reply("intake.welcome_back")
        if ctx.state.flow == "onboarding" and "onboarding" in ctx.flows:
            return await ctx.resume("onboarding")  # her profile, or her duty, where she left it
        if request is None and match is None:
            ctx.go(NAME, Step.MENU)  # nothing running: a clean start
        self._menu(ctx)  # a supporter's open conversations keep their state

    def _start_fresh(self, ctx: FlowContext, hint: str | None) -> None:
        known = normalise_language(hint, default="") or None
        if known and ctx.participant.language is None:
            ctx.participant.language = known  # preselected; she confirms it with one tap
        ctx.go(NAME, Step.CHOOSE_LANGUAGE)
        _prompt(ctx, Step.CHOOSE_LANGUAGE)

    # Choices -----------------------------------------------------------------------------------

    async def _choice(self, ctx: FlowContext, choice: str) -> None:
        prefix, _, rest = choice.partition(":")
        if prefix == "lang":
            return await self._choose_language(ctx, rest)
        if prefix == "menu":
            return await self._menu_choice(ctx, rest)
        key, _, value = rest.partition(":")
        step = self._step(ctx)
        match key:
            case "restart":
                return await self._confirm_restart(ctx, value == "yes")
            case "menu":
                return self._menu(ctx)
            case "terms" if step == Step.CONSENT_TERMS:
                if value != "yes":
                    ctx.reply("intake.terms_declined")
                    return _prompt(ctx, Step.CONSENT_TERMS)
                ctx.participant.consent_terms = True
                return self._advance(ctx, Step.CONSENT_TERMS)
            case "campaigns" if step == Step.CONSENT_CAMPAIGNS:
                ctx.participant.consent_campaigns = value == "yes"
                return self._advance(ctx, Step.CONSENT_CAMPAIGNS)
            case "safe" if step == Step.SAFETY and value in SAFE_ANSWERS:
                if value == "yes":
                    return self._advance(ctx, Step.SAFETY)
                return await self._not_safe(ctx)
            case "topic" if step == Step.TOPIC and value in TOPICS:
                self._go(ctx, Step.NOTE, topic=value)
                if value == "violence":
                    ctx.reply("intake.violence_help_offer",
                              buttons=[Button("menu.help_now", "menu:help_now")])  # fmt: skip
                return _prompt(ctx, Step.NOTE)
            case "note" if step == Step.NOTE:
                return await self._open_request(ctx, note=None)
        # An old button from a step she has left: say so and ask what is asked now.
        if step is not None and ctx.state.flow == NAME:
            ctx.reply("intake.old_button")
            return _prompt(ctx, step)
        self._menu(ctx)

    async def _choose_language(self, ctx: FlowContext, code: str) -> None:
        if code not in LANGUAGES:
            return self._ask_language(ctx)
        ctx.participant.language = code
        if ctx.state.flow == NAME and self._step(ctx) == Step.CHOOSE_LANGUAGE:
            if not ctx.participant.consent_terms:
                ctx.reply("intake.welcome", days=getattr(ctx.config, "retention_days", 90))
                return self._advance(ctx, Step.CHOOSE_LANGUAGE)
            ctx.reply("intake.language_changed")
            return await self._continue_after_language(ctx)
        ctx.reply("intake.language_changed")
        flow = ctx.flows.get(ctx.state.flow)
        if ctx.state.flow != NAME and flow is not None and hasattr(flow, "resume"):
            await ctx.resume(ctx.state.flow)
        elif self._step(ctx) is not None and ctx.state.flow == NAME:
            _prompt(ctx, self._step(ctx))  # type: ignore[arg-type]

    async def _continue_after_language(self, ctx: FlowContext) -> None:
        back = ctx.state.data.get("back")
        if back in Step.__members__.values() and back != Step.CHOOSE_LANGUAGE:
            self._go(ctx, Step(back))
            return _prompt(ctx, Step(back))
        self._menu(ctx)

    async def _menu_choice(self, ctx: FlowContext, what: str) -> None:
        match what:
            case "talk":
                return await self.enter(ctx)
            case "help_now":
                return await self._help_now(ctx, return_to=self._return_point(ctx))
            case "about":
                ctx.reply("intake.about", days=getattr(ctx.config, "retention_days", 90))
                return self._menu(ctx)
            case "language":
                return self._ask_language(ctx)
            case "available" | "away" if "onboarding" in ctx.flows:
                return await ctx.flows["onboarding"].set_duty(ctx, on=what == "available")
        self._menu(ctx)

    @staticmethod
    def _return_point(ctx: FlowContext) -> str:
        """Where she goes back to after the help paths: the flow she is in, if it can resume."""
        if ctx.state.flow == "referral":  # already there: keep the way back it knows
            return ctx.state.data.get("return_to") or NAME
        here = ctx.flows.get(ctx.state.flow)
        return ctx.state.flow if here is not None and hasattr(here, "resume") else NAME

    async def _not_safe(self, ctx: FlowContext) -> None:
        # Whatever she does next, a request she opens now goes first.
        self._go(ctx, Step.TOPIC, urgent=True)
        await self._help_now(ctx, return_to=NAME)

    async def _help_now(self, ctx: FlowContext, return_to: str | None) -> None:
        if "referral" in ctx.flows:
            if ctx.state.flow == "relay":
                # In a conversation her words must keep reaching her supporter: the referral
                # answers with the numbers and leaves the state alone.
                return await ctx.flows["referral"].handle(ctx, _HELP_NOW)
            return await ctx.enter("referral", return_to=return_to)
        # Without the referral flow the numbers themselves are the help path.
        ctx.reply("intake.help_numbers")
        if ctx.state.flow == NAME and self._step(ctx) == Step.TOPIC:
            return _prompt(ctx, Step.TOPIC)
        self._menu(ctx)

    async def _take_note(self, ctx: FlowContext, text: str) -> None:
        note = " ".join(text.split())
        if not note:
            return _prompt(ctx, Step.NOTE)
        if len(note) > NOTE_MAX_CHARS:
            ctx.reply("intake.note_too_long", limit=NOTE_MAX_CHARS)
            return _prompt(ctx, Step.NOTE)
        await self._open_request(ctx, note=note)

    async def _open_request(self, ctx: FlowContext, note: str | None) -> None:
        topic = ctx.state.data.get("topic") or "other"
        urgent = bool(ctx.state.data.get("urgent"))
        try:
            from flows.conversation.matching import open_request
        except ImportError:
            # Matching is not part of this deployment yet: be honest instead of pretending.
            ctx.reply("intake.no_matching_yet")
            return self._menu(ctx)
        await open_request(ctx, topic=topic, note=note, urgent=urgent)

    async def _already_open(
        self, ctx: FlowContext, request: HelpRequest | None, match: Match | None
    ) -> None:
        ctx.reply("intake.already_connected" if match is not None else "intake.already_waiting")
        await self._back_to_conversation(ctx)

    async def _back_to_conversation(self, ctx: FlowContext) -> None:
        relay = ctx.flows.get("relay")
        if relay is not None and hasattr(relay, "resume"):
            return await ctx.resume("relay")

    async def _confirm_restart(self, ctx: FlowContext, confirmed: bool) -> None:
        if not confirmed:
            ctx.reply("intake.restart_kept")
            return await self._back_to_conversation(ctx)
        request, match = await open_conversation(ctx)
        if match is not None:
            await _end_match(ctx, match)
        if request is not None:
            await _cancel_request(ctx, request)
        ctx.reply("intake.restart_done")
        ctx.go(NAME, Step.MENU)
        _prompt(ctx, Step.MENU)

    # Moving ------------------------------------------------------------------------------------

    def _ask_language(self, ctx: FlowContext) -> None:
        if ctx.state.flow == NAME:
            back = self._step(ctx)
            self._go(ctx, Step.CHOOSE_LANGUAGE, back=back.value if back else None)
        # Elsewhere (in a conversation) the state stays: the buttons find their way here.
        _prompt(ctx, Step.CHOOSE_LANGUAGE)

    def _menu(self, ctx: FlowContext) -> None:
        if ctx.state.flow in (NAME, "", None) or ctx.state.flow not in ctx.flows:
            ctx.go(NAME, Step.MENU)
        _prompt(ctx, Step.MENU)

    def _advance(self, ctx: FlowContext, step: Step) -> None:
        following = NEXT[step]
        self._go(ctx, following)
        _prompt(ctx, following)

    @staticmethod
    def _go(ctx: FlowContext, step: Step, **data: Any) -> None:
        """Move within intake, carrying what the path has gathered (topic, urgency)."""
        carried = {k: ctx.state.data[k] for k in ("topic", "urgent") if k in ctx.state.data}
        ctx.go(NAME, step, **{**carried, **data})

    @staticmethod
    def _step(ctx: FlowContext) -> Step | None:
        if ctx.state.flow != NAME or ctx.state.step not in Step.__members__.values():
            return None
        return Step(ctx.state.step)

    async def _redeem(self, ctx: FlowContext, code: str, hint: str | None) -> None:
        if "onboarding" not in ctx.flows:
            return await unknown_command(ctx)
        await ctx.enter("onboarding", code=code, language_hint=hint)
        if ctx.state.flow != NAME:
            return  # she is a supporter now, building her profile
        step = self._step(ctx)  # the code did not work: carry on where she was
        if step is not None:
            _prompt(ctx, step)
        elif ctx.participant.consent_terms:
            self._menu(ctx)
        else:
            self._start_fresh(ctx, hint)


def _typed_language(text: str) -> str | None:
    typed = text.strip().casefold()
    for code, name in LANGUAGE_NAMES.items():
        if typed in (code, name.casefold()):
            return code
    return None


async def _end_match(ctx: FlowContext, match: Match) -> None:
    try:
        from flows.conversation.relay import end_match
    except ImportError:
        match.status, match.ended_at, match.ended_by = MatchStatus.ENDED, ctx.now, "seeker"
        return
    await end_match(ctx, match, by=ctx.participant, reason="ended")


async def _cancel_request(ctx: FlowContext, request: HelpRequest) -> None:
    """She started over: her words go, supporters still holding an offer see it withdrawn."""
    if request.status == RequestStatus.WAITING:
        request.status = RequestStatus.CANCELLED
    request.note = None
    request.ended_at = request.ended_at or ctx.now
    try:
        from flows.conversation.matching import withdraw_offers
    except ImportError:
        await ctx.session.execute(
            update(Offer)
            .where(Offer.request_id == request.id, Offer.status == OfferStatus.PENDING)
            .values(status=OfferStatus.WITHDRAWN)
        )
        return
    await withdraw_offers(ctx, request, "match.offer_withdrawn")
