"""After a conversation: the seeker's score (1-5, optional words), the supporter's check-in.

Only the score, the check-in answer and whether words were given are stored. Her words, if she
writes some, go to the coordinators once (contact details masked) through the outbox, which
wipes them on delivery; they are not kept, so nothing she wrote stays beside her conversation.

```mermaid
stateDiagram-v2
    [*] --> score: conversation ended (question with buttons 1-5)
    score --> words: score chosen (stored)
    words --> [*]: words written (sent to coordinators, not stored) or "no, thanks"
    state "supporter" as supporter {
        [*] --> asked: conversation ended (check-in question)
        asked --> [*]: ok (stored)
        asked --> [*]: heavy / talk (stored; a talk with a coordinator asked, supporters/talk)
        [*] --> asked: a coordinator took her conversation over (answer stored apart from it)
    }
```
"""

from sqlalchemy import select

from flows.alerts import alert_coordinators
from flows.commands import unknown_command
from flows.context import FlowContext
from flows.conversation.lifecycle import go_home
from flows.conversation.lookups import is_seeker
from flows.conversation.masking import mask_contacts
from flows.events import Button, EventKind, InboundEvent
from i18n import N_
from models import AuditEntry, Feedback, Match, Participant

# The thanks for each check-in answer, built as f"feedback.checkin_reply_{answer}".
CHECKIN_REPLY_TEXTS = (
    N_("feedback.checkin_reply_ok"),
    N_("feedback.checkin_reply_heavy"),
    N_("feedback.checkin_reply_talk"),
)

NAME = "feedback"
MAX_WORDS = 1000
CHECKIN_ANSWERS = ("ok", "heavy", "talk")


async def _existing(ctx: FlowContext, match_id: int, side: str) -> Feedback | None:
    return (
        await ctx.session.execute(
            select(Feedback).where(Feedback.match_id == match_id, Feedback.side == side)
        )
    ).scalar_one_or_none()


class FeedbackFlow:
    name = NAME

    async def handle(self, ctx: FlowContext, event: InboundEvent) -> None:
        if event.kind == EventKind.CHOICE and event.choice:
            return await self._choice(ctx, event.choice)
        if event.kind == EventKind.COMMAND:
            return await unknown_command(ctx)
        if ctx.state.step == "words" and event.kind == EventKind.TEXT:
            return await self._words(ctx, event.text)
        if ctx.state.step == "words":
            ctx.reply("feedback.words_only", buttons=[self._skip_button(ctx)])
            return
        # Anything else after a conversation: the menu, the question stays on its buttons.
        await go_home(ctx)

    def _skip_button(self, ctx: FlowContext) -> Button:
        return Button("feedback.no_thanks", f"feedback:skip:{ctx.state.data.get('match_id', 0)}")

    async def _choice(self, ctx: FlowContext, choice: str) -> None:
        parts = choice.split(":")
        if len(parts) < 3 or not parts[2].isdigit():
            return ctx.reply("relay.button_old")
        what, match_id = parts[1], int(parts[2])
        answer = parts[3] if len(parts) > 3 else ""
        match = await ctx.session.get(Match, match_id)
        me = ctx.participant
        if what == "skip":
            ctx.reply("feedback.thanks")
            return await go_home(ctx)
        if match is None and what == "checkin" and answer in CHECKIN_ANSWERS and not is_seeker(me):
            # The conversation is gone (she erased herself): the supporter is still answered.
            return await self._checkin_without_match(ctx, match_id, answer)
        if match is None:
            return ctx.reply("relay.button_old")
        if what == "score" and match.seeker_id == me.id and answer in ("1", "2", "3", "4", "5"):
            return await self._score(ctx, match, int(answer))
        if what == "checkin" and match.supporter_id == me.id and answer in CHECKIN_ANSWERS:
            return await self._checkin(ctx, match, answer)
        if what == "checkin" and answer in CHECKIN_ANSWERS and await _taken_off(ctx, match):
            # A coordinator took it over: the match's check-in is hers now, this one is kept apart.
            return await self._checkin_without_match(ctx, match_id, answer, match.request_id)
        ctx.reply("relay.button_old")

    async def _score(self, ctx: FlowContext, match: Match, score: int) -> None:
        if await _existing(ctx, match.id, "seeker") is not None:
            return ctx.reply("feedback.already")
        ctx.session.add(Feedback(match_id=match.id, side="seeker", score=score, created_at=ctx.now))
        ctx.go(NAME, "words", match_id=match.id, score=score)
        ctx.reply("feedback.ask_words", buttons=[self._skip_button(ctx)])

    async def _words(self, ctx: FlowContext, text: str) -> None:
        match_id = ctx.state.data.get("match_id")
        feedback = await _existing(ctx, int(match_id or 0), "seeker")
        if feedback is not None:
            feedback.gave_words = True
        words = mask_contacts(text[:MAX_WORDS]).text
        match = await ctx.session.get(Match, int(match_id or 0))
        supporter = await ctx.session.get(Participant, match.supporter_id) if match else None
        await alert_coordinators(
            ctx,
            "feedback.alert_words",
            score=ctx.state.data.get("score", "?"),
            text=words,
            supporter=supporter.alias if supporter is not None else "–",
        )
        ctx.reply("feedback.thanks")
        await go_home(ctx)

    async def _checkin(self, ctx: FlowContext, match: Match, answer: str) -> None:
        if await _existing(ctx, match.id, "supporter") is not None:
            return ctx.reply("feedback.already")
        ctx.session.add(
            Feedback(match_id=match.id, side="supporter", checkin=answer, created_at=ctx.now)
        )
        await _to_a_coordinator(ctx, answer, match.request_id)

    async def _checkin_without_match(
        self, ctx: FlowContext, match_id: int, answer: str, ref: object = "–"
    ) -> None:
        answered = list((ctx.state.data or {}).get("checked_in", []))
        if match_id in answered:
            return ctx.reply("feedback.already")
        ctx.remember(checked_in=[*answered[-9:], match_id])
        ctx.session.add(Feedback(side="supporter", checkin=answer, created_at=ctx.now))
        await _to_a_coordinator(ctx, answer, ref)


async def _taken_off(ctx: FlowContext, match: Match) -> bool:
    """Was she the supporter a coordinator took this conversation from (the audit says)?"""
    rows = await ctx.session.execute(
        select(AuditEntry.details).where(
            AuditEntry.at >= match.started_at,
            AuditEntry.action == "conversation.take_over",
            AuditEntry.target == f"match:{match.id}",
        )
    )
    me = f"participant:{ctx.participant.id}"
    return any((details or {}).get("supporter") == me for details in rows.scalars())


async def _to_a_coordinator(ctx: FlowContext, answer: str, ref: object) -> None:
    """ "Heavy" and "I'd like to talk" open a talk with a coordinator (supporters/talk)."""
    talk = ctx.flows.get("talk")
    asked = ""
    if answer in ("heavy", "talk") and talk is not None:
        asked = await talk.ask(ctx, f"checkin_{answer}", ref)
    elif answer == "talk":
        await alert_coordinators(ctx, "feedback.alert_checkin", ref=ref,
                                 alias=ctx.participant.alias)  # fmt: skip
    ctx.reply(f"feedback.checkin_reply_{answer}")
    if answer == "heavy" and asked == "asked":
        ctx.reply("talk.requested")
