"""What a flow sees while it handles one event: her, her state, the database, and an outbox."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import identity_key

from flows.events import (
    CHOSEN,
    EDITING_CHANNELS,
    Button,
    EventKind,
    InboundEvent,
    MediaRef,
    OutboundMessage,
)
from models import FlowState, OutboxMessage, OutboxStatus, Participant, ParticipantStatus
from models.schedule import ScheduledJob


class Flow(Protocol):
    """A finite-state conversation; `handle` moves `ctx.state` and queues replies.

    A flow that others hand over to also has `async enter(ctx, **kwargs)` (send its first
    prompt) and, if it can be returned to, `async resume(ctx)` (repeat its current prompt).
    """

    name: str

    async def handle(self, ctx: "FlowContext", event: InboundEvent) -> None: ...


# Kinds that still reach her while she is held after a quick exit: the exit's own line.
PASSES_HOLD = frozenset({"delete", "exit"})


def held_back(recipient: Participant, kind: str) -> bool:
    """After her quick exit nothing new may appear on her screen until she writes again."""
    return recipient.held_since is not None and kind not in PASSES_HOLD


def outbox_row(
    recipient: Participant, message: OutboundMessage, now: datetime, **extra: Any
) -> OutboxMessage:
    """The durable row for one message; a recipient who cannot receive gets a dropped row, one
    who is held after a quick exit a held one."""
    active = recipient.status == ParticipantStatus.ACTIVE
    status = OutboxStatus.PENDING if active else OutboxStatus.DROPPED
    if active and held_back(recipient, message.kind):
        status = OutboxStatus.HELD
    return OutboxMessage(
        participant_id=recipient.id,
        channel=recipient.channel,
        kind=message.kind,
        text_id=message.text_id,
        params=dict(message.params) if active else None,
        buttons=[b.to_json() for b in message.buttons] or None,
        media=_media_json(message.media) if active else None,
        status=status,
        error=None if active else f"recipient {recipient.status}",
        available_at=now,
        created_at=now,
        **extra,
    )


def _media_json(media: MediaRef | None) -> dict[str, Any] | None:
    if media is None:
        return None
    return {"kind": media.kind, "ref": media.ref, "mime_type": media.mime_type, "size": media.size}


# Answers that say the pressed button no longer means anything: its keyboard is removed, unticked.
OLD_BUTTON_ANSWERS = frozenset({
    "intake.old_button", "onboard.old_button", "forget.old_button", "report.old_button",
    "relay.button_old", "relay.already_ended",
})  # fmt: skip


class Settingsish(Protocol):
    default_language: str


@dataclass
class FlowContext:
    session: AsyncSession
    participant: Participant
    state: FlowState
    now: datetime
    config: Any = None  # the deployment's settings object; flows read their knobs from it
    flows: Mapping[str, Any] = field(default_factory=dict)
    queued: list[OutboxMessage] = field(default_factory=list)
    event: InboundEvent | None = None  # what she sent, when a flow answers her
    # What became of the keyboard she pressed: "chosen" (her choice shown), "edited" (the flow
    # rewrote that message) or "old" (the button no longer meant anything: keyboard removed).
    pressed: str = "chosen"
    # Said after the flow has answered her (a guard's offer that must come last).
    afterwards: list[OutboundMessage] = field(default_factory=list)
    # She was inserted by this very event: nothing keyed by her exists yet but what it adds.
    fresh: bool = False

    async def own_row(self, model: Any) -> Any:
        """Her row of a table keyed by participant id, or None; for a participant inserted by
        this very event nothing is looked up, since only what this event added can exist."""
        key = self.participant.id
        if not self.fresh:
            return await self.session.get(model, key)
        session = self.session.sync_session
        known = session.identity_map.get(identity_key(model, key))
        if known is not None:
            return known
        return next(
            (row for row in session.new if isinstance(row, model) and row.participant_id == key),
            None,
        )

    @property
    def language(self) -> str:
        return self.participant.language or getattr(self.config, "default_language", "en")

    def reply(
        self,
        text_id: str,
        *,
        buttons: tuple[Button, ...] | list[Button] = (),
        media: MediaRef | None = None,
        in_place: bool = False,
        **params: Any,
    ) -> None:
        """Queue a message to the participant who wrote; `in_place` rewrites the message whose
        button she pressed (a multi-choice question ticking), where the channel can edit."""
        if text_id in OLD_BUTTON_ANSWERS:
            self.button_was_old()
        message = OutboundMessage(text_id, params, tuple(buttons), media)
        pressed = self.pressed_message_id()
        if in_place and pressed is not None and media is None:
            message = OutboundMessage(text_id, {**params, "_edit_of": pressed}, tuple(buttons),
                                      kind="edit")  # fmt: skip
            self.pressed = "edited"
        self.send(self.participant, message)
        if buttons:
            self.state.data = {**self.state.data, "choices": [b.to_json() for b in buttons]}

    def pressed_message_id(self) -> str | None:
        """The chat message whose button she pressed, where the channel lets us edit it."""
        event = self.event
        if event is None or event.kind != EventKind.CHOICE or event.channel not in EDITING_CHANNELS:
            return None
        return event.reply_to if event.reply_to and event.reply_to.isdigit() else None

    def button_was_old(self) -> None:
        """The pressed button no longer meant anything here: its keyboard goes, with no tick."""
        if self.pressed == "chosen":
            self.pressed = "old"

    def finish(self) -> None:
        """After the flow: what was kept to be said last, then the pressed keyboard settled."""
        for message in self.afterwards:
            self.reply(message.text_id, buttons=message.buttons, **message.params)
        self.afterwards.clear()
        self.settle_keyboard()

    def settle_keyboard(self) -> None:
        """After an answer, the keyboard she pressed is replaced by her choice or removed, so an
        old button cannot be pressed again later."""
        pressed = self.pressed_message_id()
        if pressed is None or self.pressed == "edited" or self.event is None:
            return
        if any(row.kind == "delete" for row in self.queued):
            return  # a quick exit: the message goes with the rest of the chat
        label = str(self.event.extra.get("pressed_label") or "").removeprefix("✓").strip()
        buttons = (Button("button.chosen", CHOSEN, {"label": label}),)
        if self.pressed == "old" or not label:
            buttons = ()
        self.send(self.participant, OutboundMessage(
            "button.chosen", {"_edit_of": pressed, "label": label}, buttons, kind="markup"
        ))  # fmt: skip

    def send(self, recipient: Participant, message: OutboundMessage, **extra: Any) -> None:
        """Queue a message to anyone; it is written in the same transaction as the state."""
        row = outbox_row(recipient, message, self.now, **extra)
        self.session.add(row)
        self.queued.append(row)

    def go(self, flow: str, step: str, **data: Any) -> None:
        """Move to `flow`/`step`, replacing the step's data."""
        self.state.flow, self.state.step, self.state.data = flow, step, dict(data)

    async def enter(self, flow: str, **kwargs: Any) -> None:
        """Hand the conversation to another flow, which sends its first prompt."""
        await self.flows[flow].enter(self, **kwargs)

    async def resume(self, flow: str) -> None:
        """Return to a flow that handed over, which repeats where she was."""
        await self.flows[flow].resume(self)

    def remember(self, **data: Any) -> None:
        self.state.data = {**self.state.data, **data}

    def schedule(
        self, kind: str, due_at: datetime, target_id: int | None = None, **payload: Any
    ) -> None:
        self.session.add(
            ScheduledJob(kind=kind, due_at=due_at, target_id=target_id, payload=payload)
        )
