"""Statistics from a seeded database: hand-computed figures, small cells hidden, nothing personal.

The seed: 13 live requests in the two weeks from Monday 2 November 2026 and 6 purged ones (only
the retention purge's counters left), plus rows outside the period that must not count.
"""

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.cli import app
from flows.safety.retention import purge_once
from flows.statistics import statistics
from flows.statistics.disclosure import HIDDEN, SMALL, protect
from flows.statistics.export import as_text
from flows.statistics.figures import Raw
from flows.statistics.tables import build
from i18n import LANGUAGES
from models import (
    AuditEntry,
    Campaign,
    DailyCount,
    Feedback,
    HelpRequest,
    Match,
    Participant,
    RequestStatus,
    Role,
)
from tests.support import ChatUser, World, running_service
from tests.test_onboarding import a_coordinator
from tests.test_safety_guard import VIOLENT

START, END = date(2026, 11, 2), date(2026, 11, 15)
# What must never appear in any output: aliases, addresses, her words, a number she typed.
SECRETS = ("Iris 37", "Rose 12", "Dorota 5", "Lena 44", "Maja 61", "addr-hash-", "marmalade",
           "Marszałkowska", "+48601234567", "601 234 567")  # fmt: skip

# (day of November, hour, topic, language, channel, urgent, wait minutes or outcome,
#  conversation: (supporter, length minutes or None while open, ended by)).
LIVE = [
    (2, 9, "housing", "en", "telegram", True, 2, (0, 10, "seeker")),
    (3, 9, "housing", "en", "telegram", True, 4, (0, 20, "seeker")),
    (4, 9, "housing", "uk", "telegram", False, 8, (0, 30, "seeker")),
    (5, 9, "housing", "uk", "whatsapp", True, 10, (0, 40, "seeker")),
    (6, 9, "housing", "fa", "telegram", False, 12, (0, 50, "seeker")),
    (7, 9, "housing", "en", "telegram", False, 20, (1, 70, "supporter")),
    (8, 9, "documents", "uk", "telegram", True, 30, (1, 100, "supporter")),
    (9, 9, "documents", "en", "whatsapp", False, 45, (1, 200, "supporter")),
    (10, 9, "documents", "uk", "whatsapp", True, 90, (2, 2000, "system")),
    (11, 9, "documents", "en", "telegram", False, 300, (2, None, None)),
    (12, 9, "documents", "fa", "whatsapp", True, "expired", None),
    (13, 9, "violence", "uk", "telegram", False, "expired", None),
    (14, 9, "violence", "en", "telegram", False, "cancelled", None),
]


async def seed(service) -> None:
    async with service.session_factory() as session, session.begin():
        supporters = []
        for index, alias in enumerate(("Dorota 5", "Lena 44", "Maja 61")):
            person = Participant(
                role=Role.SUPPORTER, channel="telegram", alias=alias,
                address_hash=f"addr-hash-s{index}", address_cipher=b"+48601234567",
            )  # fmt: skip
            session.add(person)
            supporters.append(person)
        await session.flush()
        for number, (day, hour, topic, lang, channel, urgent, wait, talk) in enumerate(LIVE):
            seeker = Participant(
                channel=channel, alias="Iris 37" if number % 2 else "Rose 12",
                address_hash=f"addr-hash-{number}", address_cipher=b"x",
            )  # fmt: skip
            session.add(seeker)
            await session.flush()
            created = datetime(2026, 11, day, hour, tzinfo=UTC)
            request = HelpRequest(
                seeker_id=seeker.id, topic=topic, language=lang, urgent=urgent,
                created_at=created, note="marmalade at Marszałkowska, call +48601234567",
                status=RequestStatus(wait) if isinstance(wait, str) else RequestStatus.MATCHED,
                matched_at=None if isinstance(wait, str) else created + timedelta(minutes=wait),
            )  # fmt: skip
            session.add(request)
            await session.flush()
            if talk is None:
                request.ended_at = created + timedelta(hours=2)
                continue
            who, length, ended_by = talk
            started = request.matched_at
            match = Match(
                request_id=request.id, seeker_id=seeker.id, supporter_id=supporters[who].id,
                started_at=started, last_activity_at=started,
                status="active" if length is None else "ended", ended_by=ended_by,
                ended_at=None if length is None else started + timedelta(minutes=length),
            )  # fmt: skip
            session.add(match)
            if match.ended_at is not None:
                request.status, request.ended_at = RequestStatus.ENDED, match.ended_at
            await session.flush()
        # Feedback inside the period: scores 5 x6, 4 x4, 3 x1; supporters ok x6, heavy x2.
        at = datetime(2026, 11, 12, 12, tzinfo=UTC)
        for score, times in ((5, 6), (4, 4), (3, 1)):
            session.add_all(Feedback(side="seeker", score=score, created_at=at)
                            for _ in range(times))  # fmt: skip
        for checkin, times in (("ok", 6), ("heavy", 2)):
            session.add_all(Feedback(side="supporter", checkin=checkin, created_at=at)
                            for _ in range(times))  # fmt: skip
        # What the purge left of five requests made on 3 November, and counts taken as they came.
        purged = {
            "requests.housing.ended": 4, "requests.documents.expired": 1,
            "requests.violence.cancelled": 1,
            "requests.language.en": 3, "requests.channel.telegram": 5,
            "matches.ended_by.seeker": 4, "match_wait.5_15": 4, "match_length.15_60": 4,
            "feedback.score.5": 3, "danger.violence": 6, "referral.home": 2, "quick_exits": 1,
        }  # fmt: skip
        session.add_all(DailyCount(day=date(2026, 11, 3), name=n, value=v)
                        for n, v in purged.items())  # fmt: skip
        # Outside the period: none of these may count.
        session.add(DailyCount(day=date(2026, 11, 16), name="requests.housing.ended", value=50))
        outside = Participant(channel="telegram", alias="Rose 12", address_hash="addr-hash-out",
                              address_cipher=b"x")  # fmt: skip
        session.add(outside)
        await session.flush()
        session.add(HelpRequest(seeker_id=outside.id, topic="work", language="ru",
                                created_at=datetime(2026, 11, 16, 0, 0, tzinfo=UTC)))  # fmt: skip
        session.add(Feedback(side="seeker", score=1, created_at=datetime(2026, 11, 1, tzinfo=UTC)))
        session.add(Campaign(name="winter coats", texts={"en": "x"}, status="sent", queued=40,
                             queued_at=datetime(2026, 11, 10, tzinfo=UTC)))  # fmt: skip
        session.add(Campaign(name="spring", texts={"en": "x"}, status="sent", queued=70,
                             queued_at=datetime(2026, 10, 10, tzinfo=UTC)))  # fmt: skip


def shown(stats, key: str) -> dict[str, str]:
    table = stats.table(key)
    cells = {c.key: c.shown for c in table.cells}
    if table.total is not None:
        cells["total"] = table.total.shown
    return cells


def headline(stats) -> dict[str, str]:
    return {m.key: m.shown for m in stats.headline}


async def seeded_statistics(database_url):
    async with running_service(database_url) as service:
        await seed(service)
        async with service.session_factory() as session:
            return await statistics(session, START, END)


def test_a_single_small_cell_is_not_left_to_subtraction():
    cells, total = protect({"a": 20, "b": 7, "c": 3})
    assert [c.shown for c in cells] == ["20", HIDDEN, SMALL] and total.shown == "30"
    cells, total = protect({"a": 20, "b": 3, "c": 2})
    assert [c.shown for c in cells] == ["20", SMALL, SMALL]  # 3 + 2 hidden are already five
    cells, total = protect({"a": 2, "b": 1})
    assert [c.shown for c in cells] == [SMALL, SMALL] and total.shown == SMALL


def test_hidden_cells_of_any_group_add_up_to_five_or_more():
    """Whatever the counts, subtracting the shown cells from the total leaves five or more."""
    rng = random.Random(14)
    for _ in range(2000):
        counts = {
            f"k{i}": rng.choice((0, 1, 2, 3, 4, 5, 6, 9, 30)) for i in range(rng.randint(1, 7))
        }
        cells, total = protect(counts)
        hidden = [counts[c.key] for c in cells if not c.published]
        assert all(not c.published for c in cells if counts[c.key] < 5)
        if total.published:
            assert not hidden or sum(hidden) >= 5, counts
        else:
            assert len(hidden) == len(counts)


def test_a_hidden_match_count_hides_every_table_that_adds_up_to_it():
    raw = Raw(START, END, topics=Counter(housing=13), outcomes=Counter(matched=10, expired=3),
              wait_buckets=Counter({"5_15": 10}), ended_by=Counter(seeker=10),
              length_buckets=Counter({"15_60": 10}), waits=[10.0] * 10)  # fmt: skip
    stats = build(raw)
    assert shown(stats, "requests_by_outcome")["matched"] == HIDDEN
    for key in ("time_to_match", "conversations_by_ending", "conversation_length"):
        assert all(not c.published for c in stats.table(key).cells), key
    assert headline(stats)["wait_median"] == HIDDEN and headline(stats)["share_matched"] == HIDDEN


async def test_figures_match_the_hand_computed_ones(database_url):
    stats = await seeded_statistics(database_url)
    assert shown(stats, "requests_by_week") == {"2026-11-02": "13", "2026-11-09": "6",
                                                "total": "19"}  # fmt: skip
    topics = shown(stats, "requests_by_topic")
    # housing 6+4, documents 5+1, violence 2+1: documents is hidden so violence cannot be derived.
    assert topics["housing"] == "10" and topics["documents"] == HIDDEN
    assert topics["violence"] == SMALL and topics["work"] == SMALL and topics["total"] == "19"
    languages = shown(stats, "requests_by_language")
    # en 6+3, uk 5, fa 2, and 3 purged before languages were counted: the small ones add to 5.
    assert languages == {"en": "9", "pl": SMALL, "uk": "5", "ru": SMALL, "fa": SMALL,
                         "ar": SMALL, "unknown": SMALL, "total": "19"}  # fmt: skip
    assert shown(stats, "requests_by_channel") == {"telegram": "14", "whatsapp": SMALL,
                                                   "console": SMALL, "unknown": SMALL,
                                                   "total": "19"}  # fmt: skip
    assert shown(stats, "requests_by_outcome") == {"matched": "14", "waiting": SMALL,
                                                   "expired": SMALL, "cancelled": SMALL,
                                                   "total": "19"}  # fmt: skip
    assert shown(stats, "time_to_match") == {"lt5": SMALL, "5_15": "7", "15_60": SMALL,
                                             "60_240": SMALL, "240_1440": SMALL,
                                             "ge1440": SMALL, "total": "14"}  # fmt: skip
    assert shown(stats, "conversations_by_ending") == {"seeker": "9", "supporter": SMALL,
                                                       "system": SMALL, "open": SMALL,
                                                       "total": "14"}  # fmt: skip
    assert shown(stats, "conversation_length") == {"lt15": SMALL, "15_60": "8", "60_180": SMALL,
                                                   "180_1440": SMALL, "ge1440": SMALL,
                                                   "total": "13"}  # fmt: skip
    assert shown(stats, "feedback_scores") == {"1": SMALL, "2": SMALL, "3": SMALL, "4": SMALL,
                                               "5": "9", "total": "14"}  # fmt: skip
    assert shown(stats, "supporter_checkins") == {"ok": HIDDEN, "heavy": SMALL, "talk": SMALL,
                                                  "total": "8"}  # fmt: skip
    assert shown(stats, "danger_signals") == {"violence": HIDDEN, "self_harm": SMALL,
                                              "total": "6"}  # fmt: skip
    assert shown(stats, "referrals_by_kind")["total"] == SMALL
    assert shown(stats, "supporter_load") == {"1": SMALL, "2_3": SMALL, "4_6": SMALL,
                                              "ge7": SMALL, "total": SMALL}  # fmt: skip
    # Waits, sorted: 2 4 8 10 10 10 10 10 12 20 30 45 90 300 (the purged four at 10, their
    # bucket's middle): nearest-rank median the 7th, 90th percentile the 13th.
    assert headline(stats) == {
        "requests": "19", "urgent": "6", "share_matched": "74%", "wait_median": "10",
        "wait_p90": "90", "length_median": "38", "active_supporters": SMALL,
        "average_score": HIDDEN, "quick_exits": SMALL, "erasures": SMALL, "campaigns": SMALL,
        "campaign_reach": "40",
    }  # fmt: skip


async def test_the_text_names_no_one_and_no_words(database_url):
    stats = await seeded_statistics(database_url)
    for language in LANGUAGES:
        text = as_text(stats, language)
        assert not [s for s in SECRETS if s.casefold() in text.casefold()]
        assert "stats." not in text, "a label has no translation"


async def test_a_coordinator_asks_for_statistics_in_the_chat_and_it_is_audited(database_url):
    async with running_service(database_url) as service:
        await seed(service)
        coordinator = await a_coordinator(service, "950")
        [reply] = await coordinator.command("stats", "2026-11-02 2026-11-15")
        assert "2026-11-02" in reply.text and "Requests by topic:" in reply.text
        assert (
            "Housing 10" in reply.text
            and "<5" in reply.text
            and not [s for s in SECRETS if s.casefold() in reply.text.casefold()]
        )
        assert len(reply.text) < 4000  # one Telegram message
        [usage] = await coordinator.command("stats", "last week")
        assert "/stats 2026-11-01 2026-11-30" in usage.text
        seeker = ChatUser(service, "951")
        await seeker.command("start")
        [refused] = await seeker.command("stats")
        assert "Requests" not in refused.text
        async with service.session_factory() as session:
            rows = (await session.execute(select(AuditEntry).where(
                AuditEntry.action == "stats.view"))).scalars().all()  # fmt: skip
        assert [(r.details["start"], r.details["end"]) for r in rows] == [
            ("2026-11-02", "2026-11-15")
        ]
        assert rows[0].actor == f"participant:{(await coordinator.participant()).id}"


def test_a_wrong_date_on_the_command_line_says_how_to_write_it():
    result = CliRunner().invoke(app, ["stats", "--from", "1 November"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output
    result = CliRunner().invoke(app, ["report", "--from", "2026-11-30", "--to", "2026-11-01"])
    assert result.exit_code == 2 and "--from is after --to" in result.output


async def test_the_retention_purge_leaves_the_published_figures_as_they_were(database_url):
    """Purged requests live on as counters: topic, outcome, language, channel, wait, length."""
    async with running_service(database_url) as service:
        await seed(service)
        async with service.session_factory() as session:
            before = await statistics(session, START, END)
        async with service.session_factory() as session, session.begin():
            later = datetime(2027, 6, 1, tzinfo=UTC)
            counts = await purge_once(session, later, days=90)
        assert counts["requests"] == 12  # all but the conversation still going
        async with service.session_factory() as session:
            after = await statistics(session, START, END)
            assert (await session.execute(select(func.count()).select_from(HelpRequest))
                    ).scalar_one() == 2  # fmt: skip
    for table in before.tables:
        if table.key != "supporter_load":  # who carried a purged conversation is not kept
            assert shown(after, table.key) == shown(before, table.key), table.key
    assert headline(after)["requests"] == headline(before)["requests"] == "19"
    assert headline(after)["share_matched"] == "74%"


async def test_danger_signals_and_help_paths_are_counted_as_they_happen(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        await world.supporter("c1", role="coordinator", alias="Coord One")
        her = await world.seeker("h1")
        await her.text(VIOLENT)
        await her.text("He hit me again, I am so scared of him")  # the same request: once
        await her.tap("menu:help_now")
        await her.tap("referral:danger:yes")
        await her.tap("referral:danger:yes")  # a second tap is not a second emergency
        await her.tap("referral:kind:home")
        today = service.clock.now().date()
        async with service.session_factory() as session:
            rows = (await session.execute(select(DailyCount.name, DailyCount.value))).all()
            stats = await statistics(session, today, today)
        assert dict(rows) == {"danger.violence": 1, "referral.emergency": 1, "referral.home": 1}
        assert shown(stats, "referrals_by_kind")["home"] == SMALL
