"""Steering a campaign: who it is for, a preview and a test send, pause, resume, cancel, counts.

A segment only narrows the women who agreed to news; it never widens it. Pausing keeps every
row that has not gone out (status "paused"), resuming shifts them by the time spent paused so
the pacing stays as it was, cancelling drops them for good. Counts are over delivery, never names.

```mermaid
stateDiagram-v2
    [*] --> draft: create (texts and segment validated)
    draft --> sending: send
    sending --> paused: pause (waiting rows kept back)
    sent --> paused: pause
    paused --> sending: resume (queuing had not finished)
    paused --> sent: resume
    sending --> cancelled: cancel (waiting rows dropped)
    sent --> cancelled: cancel
    paused --> cancelled: cancel
```
"""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from flows.audit import audit
from flows.context import outbox_row
from flows.events import Button, OutboundMessage
from i18n import LANGUAGES, translate
from models import (
    DELIVERY,
    Campaign,
    CampaignStatus,
    OutboxMessage,
    OutboxStatus,
    Participant,
    ParticipantStatus,
    Role,
    delivery_bucket,
)

ROLES = tuple(role.value for role in Role)
CHANNELS = ("telegram", "whatsapp", "console")
SEGMENT_KEYS = ("roles", "languages", "channels", "active_days")
OPT_OUT = Button("news.btn_off", "news:off")  # on every campaign message: one tap, no more news
MESSAGE_ID = "campaign.message"
BATCH = 1000


class SteeringError(ValueError):
    """A step that cannot be taken now; the message is one line for a coordinator."""


def validate_segment(raw: Any) -> dict[str, Any]:
    """A segment as stored, or a SteeringError naming the one thing that is wrong."""
    if raw in (None, {}):
        return {}
    if not isinstance(raw, dict):
        raise SteeringError("the segment maps roles, languages, channels or active_days")
    unknown = sorted(set(raw) - set(SEGMENT_KEYS))
    if unknown:
        raise SteeringError(f"unknown segment key {unknown[0]!r}; known: {', '.join(SEGMENT_KEYS)}")
    segment: dict[str, Any] = {}
    for key, known in (("roles", ROLES), ("languages", LANGUAGES), ("channels", CHANNELS)):
        values = raw.get(key)
        if values in (None, []):
            continue
        values = [values] if isinstance(values, str) else list(values)
        wrong = [v for v in values if v not in known]
        if wrong:
            raise SteeringError(f"unknown {key[:-1]} {wrong[0]!r}; known: {', '.join(known)}")
        segment[key] = sorted(set(values))
    if raw.get("active_days") is not None:
        days = raw["active_days"]
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            raise SteeringError("active_days must be a whole number of days, 1 or more")
        segment["active_days"] = days
    return segment


def segment_conditions(campaign: Campaign) -> list[ColumnElement[bool]]:
    """Consent and standing first, then the segment's own narrowing."""
    segment = campaign.segment or {}
    conditions: list[ColumnElement[bool]] = [
        Participant.consent_campaigns.is_(True),
        Participant.status == ParticipantStatus.ACTIVE,
        # "Never write to me first" holds for campaigns too.
        Participant.reach_hours.is_(None) | (Participant.reach_hours != "never"),
    ]
    if segment.get("roles"):
        conditions.append(Participant.role.in_(segment["roles"]))
    if segment.get("languages"):
        conditions.append(Participant.language.in_(segment["languages"]))
    if segment.get("channels"):
        conditions.append(Participant.channel.in_(segment["channels"]))
    if segment.get("active_days"):
        # Counted from the campaign's creation, so a resumed campaign has the same audience.
        since = campaign.created_at - timedelta(days=int(segment["active_days"]))
        conditions.append(Participant.last_inbound_at >= since)
    return conditions


async def expected_duration(
    session: AsyncSession, campaign: Campaign, rates: dict[str, float]
) -> dict[str, tuple[int, float]]:
    """Per channel, how many women it is for and how many seconds pacing them will take.

    Peerline paces WhatsApp itself, so nothing waits in Twilio's own queue (which fails what
    waits there longer than 4 hours); the duration shown is that pacing's.
    """
    query = (
        select(Participant.channel, func.count(Participant.id))
        .where(*segment_conditions(campaign))
        .group_by(Participant.channel)
    )
    result = {}
    for channel, count in (await session.execute(query)).all():
        rate = rates.get(channel) or 0.0
        result[channel] = (int(count), count / rate if rate > 0 else 0.0)
    return result


def preview(campaign: Campaign) -> dict[str, str]:
    """What each language's women will read, footer and opt-out button included."""
    shown = {}
    for language in LANGUAGES:
        text = (campaign.texts or {}).get(language)
        if text is None:
            continue
        body = translate(language, MESSAGE_ID, {"text": text})
        shown[language] = f"{body}\n[{translate(language, OPT_OUT.text_id)}]"
    return shown


async def test_send(
    session: AsyncSession, campaign: Campaign, coordinator: Participant, now: datetime
) -> None:
    """One copy to the coordinator herself, in her language; not counted as the campaign's."""
    if coordinator.role != Role.COORDINATOR:
        raise SteeringError("a test send goes to a coordinator only")
    language = coordinator.language or "en"
    text = (campaign.texts or {}).get(language) or next(iter((campaign.texts or {}).values()))
    message = OutboundMessage(MESSAGE_ID, {"text": text}, (OPT_OUT,))
    session.add(outbox_row(coordinator, message, now))
    audit(session, now, "cli", "campaign.test", f"campaign:{campaign.id}")


def _rows_of(campaign_id: int) -> ColumnElement[bool]:
    return OutboxMessage.dedupe_key.startswith(f"campaign:{campaign_id}:", autoescape=True)


async def _campaign(session: AsyncSession, campaign_id: int) -> Campaign:
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise SteeringError(f"there is no campaign {campaign_id}")
    return campaign


async def pause(session: AsyncSession, campaign_id: int, now: datetime, actor: str) -> int:
    """Keep back what has not gone out; returns how many messages wait."""
    campaign = await _campaign(session, campaign_id)
    if campaign.status not in (CampaignStatus.SENDING, CampaignStatus.SENT):
        raise SteeringError(f"campaign {campaign_id} is {campaign.status}: nothing to pause")
    campaign.status, campaign.paused_at = CampaignStatus.PAUSED, now
    result = await session.execute(
        update(OutboxMessage)
        .where(_rows_of(campaign_id), OutboxMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.PAUSED, lease_until=None)
    )
    audit(session, now, actor, "campaign.pause", f"campaign:{campaign_id}")
    return result.rowcount or 0


async def resume(session: AsyncSession, campaign_id: int, now: datetime, actor: str) -> int:
    """Send on from where it stopped, each row as much later as the pause lasted."""
    campaign = await _campaign(session, campaign_id)
    if campaign.status != CampaignStatus.PAUSED:
        raise SteeringError(f"campaign {campaign_id} is {campaign.status}, not paused")
    shift = now - (campaign.paused_at or now)
    campaign.status = CampaignStatus.SENT if campaign.queued_at else CampaignStatus.SENDING
    campaign.paused_at = None
    moved, last_id = 0, 0
    while True:
        rows = (
            await session.execute(
                select(OutboxMessage.id, OutboxMessage.available_at)
                .where(_rows_of(campaign_id), OutboxMessage.status == OutboxStatus.PAUSED,
                       OutboxMessage.id > last_id)
                .order_by(OutboxMessage.id)
                .limit(BATCH)
            )
        ).all()  # fmt: skip
        if not rows:
            break
        await session.execute(
            update(OutboxMessage),
            [{"id": row_id, "status": OutboxStatus.PENDING,
              "available_at": max(now, at + shift)} for row_id, at in rows],
        )  # fmt: skip
        moved, last_id = moved + len(rows), rows[-1][0]
    audit(session, now, actor, "campaign.resume", f"campaign:{campaign_id}")
    return moved


async def cancel(session: AsyncSession, campaign_id: int, now: datetime, actor: str) -> int:
    """Drop what has not gone out, for good; returns how many messages were dropped."""
    campaign = await _campaign(session, campaign_id)
    if campaign.status in (CampaignStatus.CANCELLED, CampaignStatus.DRAFT):
        raise SteeringError(f"campaign {campaign_id} is {campaign.status}: nothing to cancel")
    campaign.status, campaign.paused_at = CampaignStatus.CANCELLED, None
    result = await session.execute(
        update(OutboxMessage)
        .where(_rows_of(campaign_id),
               OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.PAUSED]))
        .values(status=OutboxStatus.DROPPED, params=None, error="campaign cancelled")
    )  # fmt: skip
    audit(session, now, actor, "campaign.cancel", f"campaign:{campaign_id}")
    return result.rowcount or 0


async def delivery_counts(session: AsyncSession, campaign_id: int) -> dict[str, int]:
    """Queued → sent → delivered / failed / blocked / opted out; kept back and dropped apart."""
    query = (
        select(OutboxMessage.status, OutboxMessage.error, func.count(OutboxMessage.id))
        .where(_rows_of(campaign_id))
        .group_by(OutboxMessage.status, OutboxMessage.error)
    )
    counts = dict.fromkeys(DELIVERY, 0)
    for status, error, count in (await session.execute(query)).all():
        counts[delivery_bucket(status, error)] += count
    return counts
