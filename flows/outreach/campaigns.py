"""Campaign broadcasts: one outbox row per woman who agreed to receive news, never two.

Each row carries the key `campaign:<id>:<participant id>`, which the outbox holds unique, so
queuing again after a crash skips whoever already has her row and adds only the rest. Queuing
goes in batches, each committed on its own, so a crash loses at most one uncommitted batch and
`send` resumes where it stopped. `/news off` and `/news on` let anyone switch campaigns off and on.

```mermaid
stateDiagram-v2
    [*] --> draft: campaign create (texts validated)
    draft --> sending: send (first batch committed)
    sending --> sending: crash, send again (who has her row is skipped)
    sending --> sent: every consenting woman has her row
    sent --> sent: send again (nothing more is queued)
```
"""

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import String, and_, cast, exists, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from flows.audit import audit
from flows.context import FlowContext
from flows.conversation.reach import next_reachable
from flows.events import Button, EventKind, InboundEvent, OutboundMessage
from flows.outreach.steering import OPT_OUT, SteeringError, segment_conditions, validate_segment
from i18n import LANGUAGES, N_, normalise_language
from models import (
    AuditEntry,
    Campaign,
    CampaignStatus,
    OutboxMessage,
    OutboxStatus,
    Participant,
)

NAME = "news"
KIND = "broadcast"  # WhatsApp sends this kind as an approved template outside her window
MESSAGE_ID = N_("campaign.message")  # her language's text, then how to stop the news
MAX_TEXT_CHARS = 3500  # leaves room for the footer within Telegram's 4096 characters
MAX_NAME_CHARS = 80
# Campaign rows are spread over time at this share of a channel's sending rate, so that a
# reply to a woman in the middle of a conversation never waits behind a campaign of 35,000.
RATE_SHARE = 0.5

ON_WORDS = frozenset({"on", "yes", "start"})
OFF_WORDS = frozenset({"off", "no", "stop"})
FALLBACK_KEY = "fallback"  # in a campaign file: the language each untranslated language gets


class CampaignError(ValueError):
    """A campaign that cannot be created or sent; the message is one line for a coordinator."""


def dedupe_prefix(campaign_id: int) -> str:
    return f"campaign:{campaign_id}:"


def broadcast_rates(settings: Any) -> dict[str, float]:
    """Rows per second to spread a campaign at, per channel, from the deployment's rates."""
    return {
        "telegram": settings.telegram_rate_per_second * RATE_SHARE,
        "whatsapp": settings.whatsapp_rate_per_second * RATE_SHARE,
    }


# --- Creating ------------------------------------------------------------------------------------


def validate_texts(raw: Any) -> dict[str, str]:
    """The campaign's text for every language, or a CampaignError saying in one line what is wrong.

    A language without a text of its own must be named in `fallback` (one language for all of
    them, or one per language): nobody is sent a language she did not choose by accident.
    """
    if not isinstance(raw, dict) or not raw:
        raise CampaignError("the file must map language codes to texts, e.g. en: ...")
    raw = dict(raw)
    fallback = raw.pop(FALLBACK_KEY, None)
    texts: dict[str, str] = {}
    for language, text in raw.items():
        if language not in LANGUAGES:
            known = ", ".join(LANGUAGES)
            raise CampaignError(f"unknown language {language!r}; known: {known}")
        if not isinstance(text, str) or not text.strip():
            raise CampaignError(f"the {language} text is empty or not text")
        text = text.strip()
        if len(text) > MAX_TEXT_CHARS:
            raise CampaignError(
                f"the {language} text has {len(text)} characters; at most {MAX_TEXT_CHARS}"
            )
        texts[language] = text
    for language, instead in fallbacks(texts, fallback).items():
        texts[language] = texts[instead]
    return texts


def fallbacks(texts: Mapping[str, str], fallback: Any) -> dict[str, str]:
    """Which written language each language without a text gets, as the file names it."""
    missing = [language for language in LANGUAGES if language not in texts]
    chosen = {language: fallback for language in missing} if isinstance(fallback, str) else {}
    if isinstance(fallback, dict):
        chosen = {str(k): v for k, v in fallback.items()}
    elif fallback is not None and not isinstance(fallback, str):
        raise CampaignError("fallback must be a language code, or map languages to one")
    for language, instead in chosen.items():
        if language not in LANGUAGES or language in texts:
            raise CampaignError(f"fallback for {language!r}: only a language without a text")
        if instead not in texts:
            raise CampaignError(f"fallback {language}: {instead!r} has no text in the file")
    unnamed = [language for language in missing if language not in chosen]
    if unnamed:
        raise CampaignError(
            f"no text for {', '.join(unnamed)}: write one, or say which language they get "
            f"instead, e.g. fallback: {{{unnamed[0]}: {next(iter(texts), 'en')}}}"
        )
    return chosen


async def create_campaign(
    session: AsyncSession, name: str, texts: Any, now: datetime, actor: str = "cli",
    *, segment: Any = None, send_at: datetime | None = None,
) -> Campaign:  # fmt: skip
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME_CHARS:
        raise CampaignError(f"the name must be 1 to {MAX_NAME_CHARS} characters")
    try:
        chosen = validate_segment(segment)
    except SteeringError as error:
        raise CampaignError(str(error)) from None
    campaign = Campaign(name=name, texts=validate_texts(texts), created_at=now, segment=chosen,
                        send_at=send_at)  # fmt: skip
    session.add(campaign)
    await session.flush()
    audit(
        session,
        now,
        actor,
        "campaign.create",
        f"campaign:{campaign.id}",
        languages=sorted(campaign.texts),
    )
    return campaign


# --- Queuing -------------------------------------------------------------------------------------


def _not_yet_queued(campaign: Campaign) -> Any:
    """Consenting, active people of its segment with no row of it yet (the unique key decides)."""
    key = literal(dedupe_prefix(campaign.id), String) + cast(Participant.id, String)
    return and_(*segment_conditions(campaign), ~exists().where(OutboxMessage.dedupe_key == key))


async def audience_left(session: AsyncSession, campaign_id: int) -> int:
    """How many consenting, active people of its segment still have no row of this campaign."""
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        return 0
    query = select(func.count(Participant.id)).where(_not_yet_queued(campaign))
    return int((await session.execute(query)).scalar_one())


async def queued_so_far(session: AsyncSession, campaign_id: int) -> int:
    query = select(func.count(OutboxMessage.id)).where(
        OutboxMessage.dedupe_key.startswith(dedupe_prefix(campaign_id), autoescape=True)
    )
    return int((await session.execute(query)).scalar_one())


async def enqueue_campaign(
    session: AsyncSession,
    campaign_id: int,
    now: datetime,
    batch_size: int = 1000,
    *,
    rates: Mapping[str, float] | None = None,
    progress: Callable[[int], None] | None = None,
    actor: str = "cli",
    config: Any = None,
) -> int:
    """Queue the campaign to everyone consenting who lacks it; returns how many rows were added.

    Commits after every batch (the session must not be inside `begin()`), so it may be stopped
    at any point and run again. `rates` spreads rows per channel (rows per second); channels not
    named there get all their rows at once. With the deployment's `config`, each row waits for
    the campaign's send time and then for the recipient's own hours. A pause or a cancel taken
    meanwhile stops it between batches.
    """
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise CampaignError(f"there is no campaign {campaign_id}")
    if campaign.status == CampaignStatus.SENT:
        return 0  # done before; older rows may have been purged, so nothing is queued again
    if campaign.status in (CampaignStatus.PAUSED, CampaignStatus.CANCELLED):
        raise CampaignError(f"campaign {campaign_id} is {campaign.status}")
    texts = dict(campaign.texts)
    start = max(now, campaign.send_at or now)
    if campaign.status == CampaignStatus.DRAFT:
        campaign.status = CampaignStatus.SENDING
        await session.commit()
    rates = dict(rates or {})
    next_at = await _resume_points(session, campaign_id, start, rates)
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    added, last_id = 0, 0
    while True:
        campaign = await session.get(Campaign, campaign_id)
        assert campaign is not None
        if campaign.status in (CampaignStatus.PAUSED, CampaignStatus.CANCELLED):
            return added  # paused or cancelled meanwhile: resuming continues from here
        people = (
            await session.execute(
                select(
                    Participant.id,
                    Participant.channel,
                    Participant.language,
                    Participant.timezone,
                    Participant.reach_hours,
                )
                .where(Participant.id > last_id, _not_yet_queued(campaign))
                .order_by(Participant.id)
                .limit(max(1, batch_size))
            )
        ).all()
        if not people:
            break
        rows = []
        for person_id, channel, language, zone, hours in people:
            at = next_at.get(channel, start)
            if channel in rates and rates[channel] > 0:
                next_at[channel] = at + timedelta(seconds=1 / rates[channel])
            if config is not None:
                her = SimpleNamespace(timezone=zone, reach_hours=hours)
                at = next_reachable(her, at, config) or at  # type: ignore[arg-type]
            text = texts.get(normalise_language(language)) or texts["en"]
            rows.append({
                "participant_id": person_id, "channel": channel, "kind": KIND,
                "text_id": MESSAGE_ID, "params": {"text": text}, "buttons": [OPT_OUT.to_json()],
                "dedupe_key": f"{dedupe_prefix(campaign_id)}{person_id}",
                "status": OutboxStatus.PENDING, "attempts": 0, "available_at": at,
                "created_at": now,
            })  # fmt: skip
        # One cached statement, sent as multi-row INSERTs; a row another run queued meanwhile
        # is skipped here, not doubled, and only inserted rows come back.
        statement = (
            insert(OutboxMessage.__table__)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(OutboxMessage.__table__.c.id)
        )
        added += len((await session.execute(statement, rows)).all())
        await session.commit()
        last_id = people[-1][0]
        if progress is not None:
            progress(len(people))
    campaign = await session.get(Campaign, campaign_id)
    assert campaign is not None
    campaign.status = CampaignStatus.SENT
    campaign.queued = await queued_so_far(session, campaign_id)
    campaign.queued_at = now
    session.add(AuditEntry(at=now, actor=actor, action="campaign.send",
                           target=f"campaign:{campaign_id}",
                           details={"added": added, "queued": campaign.queued}))  # fmt: skip
    await session.commit()
    return added


async def _resume_points(
    session: AsyncSession, campaign_id: int, now: datetime, rates: Mapping[str, float]
) -> dict[str, datetime]:
    """Per channel, the moment the next row may go: after the rows an earlier run spread out."""
    points = {channel: now for channel in rates}
    query = (
        select(OutboxMessage.channel, func.max(OutboxMessage.available_at))
        .where(OutboxMessage.dedupe_key.startswith(dedupe_prefix(campaign_id), autoescape=True))
        .group_by(OutboxMessage.channel)
    )
    for channel, latest in (await session.execute(query)).all():
        if channel in rates and rates[channel] > 0 and latest is not None:
            points[channel] = max(now, latest + timedelta(seconds=1 / rates[channel]))
    return points


async def campaign_counts(session: AsyncSession, campaign_id: int) -> dict[str, int]:
    """How its rows stand: queued (not yet sent), sent, failed, dropped; no one is named."""
    query = (
        select(OutboxMessage.status, func.count(OutboxMessage.id))
        .where(OutboxMessage.dedupe_key.startswith(dedupe_prefix(campaign_id), autoescape=True))
        .group_by(OutboxMessage.status)
    )
    counts = {"queued": 0, "sent": 0, "failed": 0, "dropped": 0}
    for status, count in (await session.execute(query)).all():
        if status in (OutboxStatus.PENDING, OutboxStatus.SENDING):
            counts["queued"] += count
        elif status in (OutboxStatus.SENT, OutboxStatus.DELIVERED, OutboxStatus.READ):
            counts["sent"] += count
        elif status == OutboxStatus.FAILED:
            counts["failed"] += count
        else:
            counts["dropped"] += count
    return counts


# --- /news: her own switch ---------------------------------------------------------------------


class NewsFlow:
    """Answers /news and its buttons from any state; her place in a conversation is untouched."""

    name = NAME

    async def handle(self, ctx: FlowContext, event: InboundEvent) -> None:
        if event.kind == EventKind.COMMAND:
            wanted = (event.args or "").strip().casefold()
        else:
            wanted = (event.choice or "").partition(":")[2]
        if wanted in ON_WORDS:
            return await set_news(ctx, on=True)
        if wanted in OFF_WORDS:
            return await set_news(ctx, on=False)
        # Sent, not replied: the button must not replace the choices her own flow offered.
        if ctx.participant.consent_campaigns:
            button = Button("news.btn_off", "news:off")
            message = OutboundMessage("news.is_on", {}, (button,))
        else:
            button = Button("news.btn_on", "news:on")
            message = OutboundMessage("news.is_off", {}, (button,))
        ctx.send(ctx.participant, message)


async def set_news(ctx: FlowContext, *, on: bool) -> None:
    ctx.participant.consent_campaigns = on
    if not on:
        # What is still waiting for her goes too: "off" means from now on, not after the queue.
        await ctx.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.participant_id == ctx.participant.id,
                OutboxMessage.kind == KIND,
                OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.PAUSED]),
                OutboxMessage.dedupe_key.startswith("campaign:"),
            )
            .values(status=OutboxStatus.DROPPED, params=None, error="news off")
        )
    ctx.send(ctx.participant, OutboundMessage("news.turned_on" if on else "news.turned_off"))
