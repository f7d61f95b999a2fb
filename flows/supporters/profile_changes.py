"""Changes to an approved supporter's profile: applied at once, or held for a coordinator's OK.

The programme names what waits (`PROFILE_REAPPROVAL`, by default languages and topics); taking on
less (fewer languages or topics, fewer conversations at once) never waits. While a change waits
she is matched on what she had; an approval puts it into her profile, and matching uses it from
then on. Each change, request, approval and refusal is audited (field names only).

```mermaid
stateDiagram-v2
    [*] --> saved: nothing to approve (not named, or taking on less)
    [*] --> waiting: named by PROFILE_REAPPROVAL (coordinators alerted, Approve / Keep buttons)
    waiting --> waiting: she changes it again (the newer change waits, alerted again)
    waiting --> saved: a coordinator approves (she is told)
    waiting --> [*]: a coordinator keeps it as it was (she is told)
    waiting --> waiting: a coordinator's /pending (one card each, the same buttons)
    waiting --> [*]: she sets it back (nothing left to approve)
```
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select

from flows.alerts import alert_coordinators
from flows.audit import audit
from flows.context import FlowContext, outbox_row
from flows.events import Button, OutboundMessage
from i18n import N_
from models import Participant, ParticipantStatus, Role, SupporterProfile

REAPPROVABLE = ("languages", "topics", "capacity", "hours")
DEFAULT_REAPPROVAL = "languages,topics"
# Her profile's column for each field she edits; the rather-not topics only ever protect her.
COLUMNS = {
    "languages": "languages",
    "topics": "topics",
    "excluded": "excluded_topics",
    "capacity": "capacity",
    "hours": "weekly_hours",
}
# Built as f"profile.field_{field}".
FIELD_TEXTS = (
    N_("profile.field_languages"), N_("profile.field_topics"), N_("profile.field_excluded"),
    N_("profile.field_capacity"), N_("profile.field_hours"),
)  # fmt: skip
REVIEW_TEXTS = {
    True: (N_("profile.change_approved"), N_("coord.profile_change_approved")),
    False: (N_("profile.change_kept"), N_("coord.profile_change_kept")),
}


class Outcome(StrEnum):
    SAVED = "saved"
    WAITING = "waiting"  # for a coordinator's OK
    UNCHANGED = "unchanged"


def reapproval(config: object) -> set[str]:
    value = str(getattr(config, "profile_reapproval", DEFAULT_REAPPROVAL) or "")
    return {w.strip() for w in value.split(",") if w.strip() in REAPPROVABLE}


def takes_on_more(field: str, old: Any, new: Any) -> bool:
    """Whether the change widens what she may be offered (only that can need an OK)."""
    if field in ("languages", "topics"):
        return not set(new) <= set(old or [])
    if field == "capacity":
        return int(new) > int(old)
    return new != old  # her hours: any change


def current(profile: SupporterProfile, field: str) -> Any:
    return getattr(profile, COLUMNS[field])


def waiting_value(profile: SupporterProfile, field: str) -> Any:
    """What she asked for and waits for, else what she has."""
    entry = (profile.pending_change or {}).get(field)
    return entry["value"] if entry else current(profile, field)


def shown(field: str, value: Any) -> Any:
    """A field's value as a text parameter, in the reader's language."""
    if field == "languages":
        return {"msgids": [f"language.{c}" for c in value]}
    if field in ("topics", "excluded"):
        return {"msgids": [f"topic.{t}" for t in value]} if value else {"msgid": N_("profile.none")}
    if field == "hours":
        return ", ".join(value) if value else {"msgid": "onboard.hours_any"}
    return str(value)


async def propose(ctx: FlowContext, profile: SupporterProfile, field: str, value: Any) -> Outcome:
    """Her change to one field: saved, or held for a coordinator (who is alerted)."""
    who = f"participant:{ctx.participant.id}"
    pending = dict(profile.pending_change or {})
    old = current(profile, field)
    if value == old:
        if pending.pop(field, None) is None:
            return Outcome.UNCHANGED
        profile.pending_change = pending or None  # set back: nothing left to approve
        audit(ctx.session, ctx.now, who, "supporter.profile_change_withdrawn", who, field=field)
        return Outcome.SAVED
    if field in reapproval(ctx.config) and takes_on_more(field, old, value):
        pending[field] = {"value": value, "at": ctx.now.isoformat()}
        profile.pending_change = pending
        audit(ctx.session, ctx.now, who, "supporter.profile_change_request", who, field=field)
        await alert_coordinators(
            ctx, "coord.alert_profile_change", alias=ctx.participant.alias,
            what={"msgid": f"profile.field_{field}"}, before=shown(field, old),
            after=shown(field, value), buttons=review_buttons(ctx.participant, field, ctx.now),
        )  # fmt: skip
        return Outcome.WAITING
    pending.pop(field, None)
    profile.pending_change = pending or None
    _apply(profile, field, value)
    audit(ctx.session, ctx.now, who, "supporter.profile_change", who, field=field)
    return Outcome.SAVED


async def show_waiting_changes(ctx: FlowContext) -> int:
    """For a coordinator's /pending: one card per change waiting for an OK, with its buttons."""
    rows = await ctx.session.execute(
        select(Participant, SupporterProfile)
        .join(SupporterProfile, SupporterProfile.participant_id == Participant.id)
        .where(Participant.role == Role.SUPPORTER, Participant.status == ParticipantStatus.ACTIVE)
        .order_by(Participant.id)
    )
    shown_count = 0
    for supporter, profile in rows.all():
        for field, entry in (profile.pending_change or {}).items():
            ctx.reply(
                "coord.alert_profile_change", alias=supporter.alias,
                what={"msgid": f"profile.field_{field}"},
                before=shown(field, current(profile, field)), after=shown(field, entry["value"]),
                buttons=review_buttons(supporter, field, datetime.fromisoformat(entry["at"])),
            )  # fmt: skip
            shown_count += 1
    return shown_count


def review_buttons(supporter: Participant, field: str, at: datetime) -> tuple[Button, ...]:
    tag = f"{supporter.id}:{field}:{_stamp(at.isoformat())}"
    return (
        Button("profile.approve_button", f"profile:approve:{tag}"),
        Button("profile.decline_button", f"profile:decline:{tag}"),
    )


async def review(ctx: FlowContext, approve: bool, tag: str) -> None:
    """A coordinator's Approve / Keep as it was on a waiting change (the button's own change:
    one she has changed since is not approved by an older button)."""
    if ctx.participant.role != Role.COORDINATOR:
        ctx.reply("relay.button_old")
        return
    supporter_id, _, rest = tag.partition(":")
    field, _, stamp = rest.partition(":")
    supporter = (
        await ctx.session.get(Participant, int(supporter_id)) if supporter_id.isdigit() else None
    )
    profile = await ctx.session.get(SupporterProfile, supporter.id) if supporter else None
    entry = (profile.pending_change or {}).get(field) if profile else None
    if supporter is None or profile is None or not entry or stamp != _stamp(entry["at"]):
        ctx.reply("coord.profile_change_gone")
        return
    pending = dict(profile.pending_change or {})
    pending.pop(field)
    profile.pending_change = pending or None
    if approve:
        _apply(profile, field, entry["value"])
    what = {"msgid": f"profile.field_{field}"}
    action = "supporter.profile_change_approve" if approve else "supporter.profile_change_keep"
    audit(ctx.session, ctx.now, f"participant:{ctx.participant.id}", action,
          f"participant:{supporter.id}", field=field)  # fmt: skip
    told, answer = REVIEW_TEXTS[approve]
    ctx.session.add(outbox_row(supporter, OutboundMessage(told, {"what": what}), ctx.now))
    ctx.reply(answer, alias=supporter.alias, what=what)


def _stamp(at: str) -> str:
    return str(int(datetime.fromisoformat(at).timestamp()))


def _apply(profile: SupporterProfile, field: str, value: Any) -> None:
    setattr(profile, COLUMNS[field], list(value) if isinstance(value, list) else value)
    # A topic she takes is never also one she would rather not take, and the other way round.
    if field == "topics":
        profile.excluded_topics = [t for t in profile.excluded_topics or [] if t not in value]
    if field == "excluded":
        profile.topics = [t for t in profile.topics or [] if t not in value]
        pending = dict(profile.pending_change or {})
        if "topics" in pending:
            wanted = [t for t in pending["topics"]["value"] if t not in value]
            pending["topics"] = {**pending["topics"], "value": wanted}
            profile.pending_change = pending
