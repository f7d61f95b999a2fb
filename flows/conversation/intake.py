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
    safety --> referral: not safe (the numbers first) / not sure (her request will be urgent)
    referral --> topic: back, or talk to a supporter now (urgent)
    referral --> note: talk to a supporter now, after she said what it is about (urgent)
    topic --> note: topic chosen (violence: the help paths offered too)
    topic --> menu: not now
    note --> note: too long (asked again)
    note --> relay: one sentence or skip (submit_request)
    menu --> safety: talk to someone (urgent kept if she said she is not safe)
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

from typing import Any

from flows.commands import unknown_command
from flows.context import FlowContext
from flows.conversation.lifecycle import end_match
from flows.conversation.lookups import open_conversation
from flows.conversation.questions import (
    HELP_TEXTS,
    INTAKE,
    INVITE_TEXT,
    NEXT,
    NOTE_MAX_CHARS,
    SAFE_ANSWERS,
    TOPICS,
    Step,
    go_to,
    prompt,
    step_of,
    typed_language,
)
from flows.conversation.requests import cancel_request, submit_request
from flows.events import Button, EventKind, InboundEvent
from i18n import LANGUAGES, N_, normalise_language
from models import HelpRequest, Match, Role

NAME = INTAKE
# The menu's "I need help now", as the referral flow sees it from inside a conversation.
_HELP_NOW = InboundEvent("internal", "", EventKind.CHOICE, choice="menu:help_now")


class IntakeFlow:
    name = NAME

    async def handle(self, ctx: FlowContext, event: InboundEvent) -> None:
        if event.kind == EventKind.COMMAND:
            return await self._command(ctx, event)
        if event.choice:
            return await self._choice(ctx, event.choice)
        if event.kind == EventKind.TEXT and (invite := INVITE_TEXT.match(event.text or "")):
            return await self._redeem(ctx, invite.group(1), event.language_hint)
        step = step_of(ctx)
        if step is None:
            if ctx.participant.consent_terms:  # she knows us; her place was not kept
                return self._menu(ctx)
            return self._start_fresh(ctx, event.language_hint)  # her very first message
        if event.kind in (EventKind.MEDIA, EventKind.UNSUPPORTED, EventKind.EDIT):
            ctx.reply("intake.buttons_please")
            return prompt(ctx, step)
        if step == Step.CHOOSE_LANGUAGE and event.kind == EventKind.TEXT:
            typed = typed_language(event.text)
            if typed:
                return await self._choose_language(ctx, typed)
        if step == Step.NOTE and event.kind == EventKind.TEXT:
            return await self._take_note(ctx, event.text)
        if step == Step.MENU:
            ctx.reply("intake.menu_hint")
            return prompt(ctx, step)
        ctx.reply("intake.not_understood")
        prompt(ctx, step)

    # Seams for other flows ---------------------------------------------------------------------

    async def enter(
        self, ctx: FlowContext, urgent: bool = False, topic: str | None = None, **_: Any
    ) -> None:
        """Start or continue toward a request; `urgent` when she comes from the help paths,
        `topic` when she has already said there what it is about (not asked again)."""
        urgent = urgent or bool(ctx.state.flow == INTAKE and ctx.state.data.get("urgent"))
        if ctx.participant.role != Role.SEEKER:
            return self._menu(ctx)  # supporters and coordinators are not matched as seekers
        if ctx.participant.language is None or not ctx.participant.consent_terms:
            step = Step.CHOOSE_LANGUAGE if ctx.participant.language is None else Step.CONSENT_TERMS
            ctx.go(INTAKE, step, urgent=urgent)
            return prompt(ctx, step)
        request, match = await open_conversation(ctx)
        if request is not None or match is not None:
            return await self._already_open(ctx, request, match)
        if urgent and topic in TOPICS:
            go_to(ctx, Step.NOTE, urgent=True, topic=topic)
            return prompt(ctx, Step.NOTE)
        # Coming from the help paths she has just said how she is; no need to ask again.
        go_to(ctx, Step.TOPIC if urgent else Step.SAFETY, urgent=urgent)
        prompt(ctx, step_of(ctx) or Step.SAFETY)

    async def resume(self, ctx: FlowContext) -> None:
        """Back from another flow (the help paths): repeat where she was, else the way forward."""
        step = step_of(ctx)
        if ctx.state.flow == INTAKE and step is not None:
            return prompt(ctx, step)
        if ctx.participant.language is None or not ctx.participant.consent_terms:
            return await self.enter(ctx)
        request, match = await open_conversation(ctx)
        if request is not None or match is not None:
            return await self._back_to_conversation(ctx)
        if ctx.participant.role != Role.SEEKER:
            return self._menu(ctx)
        # She has seen the help paths: a supporter is the next thing to offer, not the question
        # whether she is safe again.
        ctx.go(INTAKE, Step.TOPIC, urgent=bool(ctx.state.data.get("urgent")))
        prompt(ctx, Step.TOPIC)

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
                ctx.reply(HELP_TEXTS.get(ctx.participant.role, N_("intake.help")))
                return self._menu(ctx)
            case "language":
                return self._ask_language(ctx)
        await unknown_command(ctx)
        if step_of(ctx) is not None and ctx.state.flow == INTAKE:
            prompt(ctx, step_of(ctx))  # type: ignore[arg-type]

    async def _restart(self, ctx: FlowContext, hint: str | None) -> None:
        request, match = await open_conversation(ctx)
        if ctx.participant.role == Role.SEEKER and (request is not None or match is not None):
            # Never throw a running conversation away on a stray /start: ask first.
            tag = _conversation_tag(request, match)
            ctx.reply("intake.restart_confirm", buttons=[
                Button("intake.restart_yes", f"intake:restart:yes:{tag}"),
                Button("intake.restart_no", f"intake:restart:no:{tag}"),
            ])  # fmt: skip
            return
        if not ctx.participant.consent_terms:
            return self._start_fresh(ctx, hint)
        ctx.reply("intake.welcome_back")
        if ctx.state.flow == "onboarding" and "onboarding" in ctx.flows:
            return await ctx.resume("onboarding")  # her profile, or her duty, where she left it
        if request is None and match is None:
            ctx.go(INTAKE, Step.MENU)  # nothing running: a clean start
        self._menu(ctx)  # a supporter's open conversations keep their state

    def _start_fresh(self, ctx: FlowContext, hint: str | None) -> None:
        known = normalise_language(hint, default="") or None
        if known and ctx.participant.language is None:
            ctx.participant.language = known  # preselected; she confirms it with one tap
        ctx.go(INTAKE, Step.CHOOSE_LANGUAGE)
        prompt(ctx, Step.CHOOSE_LANGUAGE)

    # Choices -----------------------------------------------------------------------------------

    async def _choice(self, ctx: FlowContext, choice: str) -> None:
        prefix, _, rest = choice.partition(":")
        if prefix == "lang":
            return await self._choose_language(ctx, rest)
        if prefix == "menu":
            return await self._menu_choice(ctx, rest)
        key, _, value = rest.partition(":")
        step = step_of(ctx)
        match key:
            case "restart":
                answer, _, tag = value.partition(":")
                return await self._confirm_restart(ctx, answer == "yes", tag)
            case "menu":
                return self._menu(ctx)
            case "terms" if step == Step.CONSENT_TERMS:
                if value != "yes":
                    ctx.reply("intake.terms_declined")
                    return prompt(ctx, Step.CONSENT_TERMS)
                ctx.participant.consent_terms = True
                return self._advance(ctx, Step.CONSENT_TERMS)
            case "campaigns" if step == Step.CONSENT_CAMPAIGNS:
                ctx.participant.consent_campaigns = value == "yes"
                return self._advance(ctx, Step.CONSENT_CAMPAIGNS)
            case "safe" if step == Step.SAFETY and value in SAFE_ANSWERS:
                if value == "yes":
                    return self._advance(ctx, Step.SAFETY)
                return await self._not_safe(ctx, value)
            case "topic" if step == Step.TOPIC and value in TOPICS:
                go_to(ctx, Step.NOTE, topic=value)
                if value == "violence":
                    ctx.reply("intake.violence_help_offer",
                              buttons=[Button("menu.help_now", "menu:help_now")])  # fmt: skip
                return prompt(ctx, Step.NOTE)
            case "note" if step == Step.NOTE:
                return await self._submit_request(ctx, note=None)
        # An old button from a step she has left: say so and ask what is asked now.
        if step is not None and ctx.state.flow == INTAKE:
            ctx.reply("intake.old_button")
            return prompt(ctx, step)
        self._menu(ctx)

    async def _choose_language(self, ctx: FlowContext, code: str) -> None:
        if code not in LANGUAGES:
            return self._ask_language(ctx)
        ctx.participant.language = code
        if ctx.state.flow == INTAKE and step_of(ctx) == Step.CHOOSE_LANGUAGE:
            if not ctx.participant.consent_terms:
                ctx.reply("intake.welcome", days=getattr(ctx.config, "retention_days", 90))
                return self._advance(ctx, Step.CHOOSE_LANGUAGE)
            ctx.reply("intake.language_changed")
            return await self._continue_after_language(ctx)
        ctx.reply("intake.language_changed")
        flow = ctx.flows.get(ctx.state.flow)
        if ctx.state.flow != INTAKE and flow is not None and hasattr(flow, "resume"):
            await ctx.resume(ctx.state.flow)
        elif step_of(ctx) is not None and ctx.state.flow == INTAKE:
            prompt(ctx, step_of(ctx))  # type: ignore[arg-type]

    async def _continue_after_language(self, ctx: FlowContext) -> None:
        back = ctx.state.data.get("back")
        if back in Step.__members__.values() and back != Step.CHOOSE_LANGUAGE:
            go_to(ctx, Step(back))
            return prompt(ctx, Step(back))
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
            return ctx.state.data.get("return_to") or INTAKE
        here = ctx.flows.get(ctx.state.flow)
        return ctx.state.flow if here is not None and hasattr(here, "resume") else INTAKE

    async def _not_safe(self, ctx: FlowContext, value: str) -> None:
        # Whatever she does next, a request she opens now goes first.
        go_to(ctx, Step.TOPIC, urgent=True)
        if value == "no" and "referral" in ctx.flows:
            # She has just said she is not safe: the numbers come first, not the same question.
            return await ctx.enter("referral", return_to=INTAKE, immediate=True)
        await self._help_now(ctx, return_to=INTAKE)

    async def _help_now(self, ctx: FlowContext, return_to: str | None) -> None:
        if "referral" in ctx.flows:
            if ctx.state.flow == "relay":
                # In a conversation her words must keep reaching her supporter: the referral
                # answers with the numbers and leaves the state alone.
                return await ctx.flows["referral"].handle(ctx, _HELP_NOW)
            return await ctx.enter("referral", return_to=return_to)
        # Without the referral flow the numbers themselves are the help path.
        ctx.reply("intake.help_numbers")
        if ctx.state.flow == INTAKE and step_of(ctx) == Step.TOPIC:
            return prompt(ctx, Step.TOPIC)
        self._menu(ctx)

    async def _take_note(self, ctx: FlowContext, text: str) -> None:
        note = " ".join(text.split())
        if not note:
            return prompt(ctx, Step.NOTE)
        if len(note) > NOTE_MAX_CHARS:
            ctx.reply("intake.note_too_long", limit=NOTE_MAX_CHARS)
            return prompt(ctx, Step.NOTE)
        await self._submit_request(ctx, note=note)

    async def _submit_request(self, ctx: FlowContext, note: str | None) -> None:
        topic = ctx.state.data.get("topic") or "other"
        urgent = bool(ctx.state.data.get("urgent"))
        await submit_request(ctx, topic=topic, note=note, urgent=urgent)

    async def _already_open(
        self, ctx: FlowContext, request: HelpRequest | None, match: Match | None
    ) -> None:
        relay = ctx.flows.get("relay")
        if relay is None or not hasattr(relay, "resume"):
            ctx.reply("intake.already_connected" if match else "intake.already_waiting")
        await self._back_to_conversation(ctx)  # which says where she stands, once

    async def _back_to_conversation(self, ctx: FlowContext) -> None:
        relay = ctx.flows.get("relay")
        if relay is not None and hasattr(relay, "resume"):
            return await ctx.resume("relay")

    async def _confirm_restart(self, ctx: FlowContext, confirmed: bool, tag: str) -> None:
        request, match = await open_conversation(ctx)
        if tag != _conversation_tag(request, match):
            # The question was about a request or a conversation that is no longer the one
            # open: an old "yes" never ends the conversation she is in now.
            ctx.reply("intake.old_button")
            return await self._back_to_conversation(ctx) if request or match else self._menu(ctx)
        if not confirmed:
            ctx.reply("intake.restart_kept")
            return await self._back_to_conversation(ctx)
        if match is not None:
            await end_match(ctx, match, by=ctx.participant, reason="ended")
        if request is not None:
            await cancel_request(ctx, request)
        ctx.reply("intake.restart_done")
        ctx.go(INTAKE, Step.MENU)
        prompt(ctx, Step.MENU)

    # Moving ------------------------------------------------------------------------------------

    def _ask_language(self, ctx: FlowContext) -> None:
        if ctx.state.flow == INTAKE:
            back = step_of(ctx)
            go_to(ctx, Step.CHOOSE_LANGUAGE, back=back.value if back else None)
        # Elsewhere (in a conversation) the state stays: the buttons find their way here.
        prompt(ctx, Step.CHOOSE_LANGUAGE)

    def _menu(self, ctx: FlowContext) -> None:
        if ctx.state.flow in (INTAKE, "", None) or ctx.state.flow not in ctx.flows:
            # She said she is not safe: the request she may open from the menu still goes first.
            urgent = ctx.state.flow == INTAKE and bool(ctx.state.data.get("urgent"))
            ctx.go(INTAKE, Step.MENU, **({"urgent": True} if urgent else {}))
        prompt(ctx, Step.MENU)

    def _advance(self, ctx: FlowContext, step: Step) -> None:
        following = NEXT[step]
        go_to(ctx, following)
        prompt(ctx, following)

    async def _redeem(self, ctx: FlowContext, code: str, hint: str | None) -> None:
        if "onboarding" not in ctx.flows:
            return await unknown_command(ctx)
        await ctx.enter("onboarding", code=code, language_hint=hint)
        if ctx.state.flow != INTAKE:
            return  # she is a supporter now, building her profile
        step = step_of(ctx)  # the code did not work: carry on where she was
        if step is not None:
            prompt(ctx, step)
        elif ctx.participant.consent_terms:
            self._menu(ctx)
        else:
            self._start_fresh(ctx, hint)


def _conversation_tag(request: HelpRequest | None, match: Match | None) -> str:
    """Names what a restart question was about, so its answer is judged against the same."""
    if match is not None:
        return f"m{match.id}"
    return f"r{request.id}" if request is not None else ""
