"""Supporter onboarding: a one-time invite, her profile, a coordinator's approval, the duty switch.

Intake hands over `/start <code>` or `join <code>` (see `invites`); she then writes her profile
(`profile`) and waits: nobody is offered to her until a coordinator approves her (`approval`).
`/available` and `/away` switch her duty (`duty`).

```mermaid
stateDiagram-v2
    [*] --> profile: invite code accepted (intake hands over)
    [*] --> [*]: code unknown, used or expired, or her own conversation open (told kindly)
    profile --> waiting: alias, languages, topics, capacity, hours, time zone (see profile)
    profile --> ready: coordinator (approved by her invite)
    waiting --> waiting: anything typed (still waiting)
    waiting --> ready: a coordinator approves (/approve, /pending, CLI)
    ready --> ready: /available, /away
```
"""

from typing import Any

from flows.commands import unknown_command
from flows.context import FlowContext
from flows.conversation.lookups import open_conversation
from flows.events import EventKind, InboundEvent
from flows.supporters import duty
from flows.supporters.invites import redeem_invite
from flows.supporters.profile import (
    NAME,
    TYPED_STEPS,
    Step,
    answer_choice,
    answer_text,
    ask,
    current_step,
    go,
)
from i18n import normalise_language
from models import Role, SupporterProfile


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
        await go(ctx, Step.ALIAS)

    async def resume(self, ctx: FlowContext) -> None:
        await ask(ctx, current_step(ctx))

    async def handle(self, ctx: FlowContext, event: InboundEvent) -> None:
        step = current_step(ctx)
        if event.kind == EventKind.COMMAND:
            if event.command in ("available", "away"):
                return await self.set_duty(ctx, on=event.command == "available")
            await unknown_command(ctx)
            return await ask(ctx, step)
        if event.choice and event.choice.startswith("onboard:"):
            return await answer_choice(ctx, step, event.choice.removeprefix("onboard:"))
        if event.kind == EventKind.TEXT and step in TYPED_STEPS:
            return await answer_text(ctx, step, " ".join(event.text.split()))
        if step in (Step.WAITING, Step.READY) and event.kind != EventKind.CHOICE:
            ctx.reply("onboard.still_waiting" if step == Step.WAITING else "onboard.ready_hint")
            return
        ctx.reply("onboard.buttons_please")
        await ask(ctx, step)

    async def set_duty(self, ctx: FlowContext, *, on: bool) -> None:
        """`/available` and `/away`, also reached from the menu in intake."""
        await duty.set_duty(ctx, on=on)
