"""Per-campaign delivery in the funders' statistics: the text, the CSV and the HTML report, with
small cells hidden, and the same figures after the retention purge deleted the outbox rows."""

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from flows.safety.retention import purge_once
from flows.statistics import statistics
from flows.statistics.disclosure import HIDDEN, SMALL
from models import Campaign, OutboxMessage, OutboxStatus, Participant
from tests.support import running_service
from tests.test_report import peerline
from tests.test_statistics import shown

START, END = date(2026, 11, 2), date(2026, 11, 15)
AT = datetime(2026, 11, 10, 9, tzinfo=UTC)
# (status, error, how many): 12 sent, 9 delivered, 2 failed, 3 blocked, 1 opted out, 3 queued.
ROWS = (
    (OutboxStatus.SENT, None, 12),
    (OutboxStatus.DELIVERED, None, 6),
    (OutboxStatus.READ, None, 3),
    (OutboxStatus.FAILED, "permanent: twilio 21211", 2),
    (OutboxStatus.FAILED, "unreachable", 3),
    (OutboxStatus.DROPPED, "news off", 1),
    (OutboxStatus.PENDING, None, 3),
)


async def seed(service) -> None:
    async with service.session_factory() as session, session.begin():
        campaign = Campaign(name="winter coats", texts={"en": "x"}, status="sent", queued=30,
                            queued_at=AT)  # fmt: skip
        other = Campaign(name="legal advice", texts={"en": "x"}, status="sent", queued=2,
                         queued_at=AT)  # fmt: skip
        session.add_all([campaign, other])
        women = [Participant(channel="telegram", alias=f"W{i}", address_hash=f"h{i}",
                             address_cipher=b"x") for i in range(30)]  # fmt: skip
        session.add_all(women)
        await session.flush()
        statuses = [(status, error) for status, error, n in ROWS for _ in range(n)]
        for woman, (status, error) in zip(women, statuses, strict=True):
            session.add(OutboxMessage(participant_id=woman.id, channel="telegram",
                                      kind="campaign", text_id="campaign.message",
                                      dedupe_key=f"campaign:{campaign.id}:{woman.id}",
                                      status=status, error=error, created_at=AT,
                                      available_at=AT))  # fmt: skip
        for woman in women[:2]:
            session.add(OutboxMessage(participant_id=woman.id, channel="telegram",
                                      kind="campaign", text_id="campaign.message",
                                      dedupe_key=f"campaign:{other.id}:{woman.id}",
                                      status=OutboxStatus.SENT, created_at=AT,
                                      available_at=AT))  # fmt: skip


EXPECTED = {"queued": SMALL, "sent": "12", "delivered": "9", "failed": SMALL, "blocked": SMALL,
            "opted_out": SMALL, "dropped": SMALL, "total": "30"}  # fmt: skip


async def test_each_campaign_has_its_delivery_protected_and_kept_past_the_purge(database_url):
    async with running_service(database_url) as service:
        await seed(service)
        async with service.session_factory() as session:
            before = await statistics(session, START, END)
        async with service.session_factory() as session, session.begin():
            await purge_once(session, datetime(2027, 6, 1, tzinfo=UTC), days=90)
        async with service.session_factory() as session:
            left = (await session.execute(select(func.count(OutboxMessage.id)))).scalar_one()
            after = await statistics(session, START, END)
    assert left == 3  # only the queued rows outlive the purge
    assert shown(before, "campaign_1") == shown(after, "campaign_1") == EXPECTED
    # A campaign of two: every cell and the total hidden, as for any group under five.
    assert set(shown(after, "campaign_2").values()) <= {SMALL, HIDDEN}
    assert before.table("campaign_1").heading("en") == "Campaign “winter coats”: its messages"


async def test_the_report_and_csv_show_each_campaign(database_url, tmp_path):
    async with running_service(database_url) as service:
        await seed(service)
    period = ("--from", START.isoformat(), "--to", END.isoformat())
    await peerline(database_url, tmp_path, "report", *period, "--out", "r.html", "--csv", "csv")
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Campaign “winter coats”: its messages" in html and 'id="campaign_1"' in html
    rows = (tmp_path / "csv" / "campaign_1.csv").read_text(encoding="utf-8").splitlines()
    assert rows == [
        "key,label,value", "queued,Still queued,<5", "sent,Sent,12", "delivered,Delivered,9",
        "failed,Failed,<5", "blocked,Bot blocked,<5", "opted_out,Opted out of news,<5",
        "dropped,Not sent (cancelled or stopped),<5", "total,Total,30",
    ]  # fmt: skip
    printed = await peerline(database_url, tmp_path, "stats", *period)
    assert "Campaign “legal advice”: its messages" in printed
