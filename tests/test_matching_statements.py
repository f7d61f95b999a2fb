"""Matching asks the database a bounded number of questions, however many supporters there are.

Counts, not time: the same match on a seeded database of 30 and of 600 supporters (and a queue
of 5 and of 150 waiting requests) runs the same number of SQL statements, so a return to one
query per supporter or per request fails here. bench/matching.py measures the time.
"""

from sqlalchemy import func, select

from bench.matching import NOW, StatementCounter, new_request_matching, on_duty_matching, seed
from models import HelpRequest, Match, Offer, OfferStatus, SupporterProfile
from tests.support import running_service


async def _counts(database_url: str, supporters: int, waiting: int) -> tuple[int, int, int, int]:
    """Statements for a new request, and for a supporter coming on duty; offers each made."""
    async with running_service(database_url, offer_top_k=3) as service:
        cipher = service.vault.encrypt("telegram", "100200300")
        requests = await seed(service.session_factory, cipher, supporters=supporters,
                              waiting=waiting, any_time=True)  # fmt: skip
        counter = StatementCounter(service.engine)
        async with service.session_factory() as session, session.begin():
            request = await session.get(HelpRequest, requests[-1])
            request.language, request.topic = "en", "emotional"
        async with service.session_factory() as session, session.begin():
            with counter.counting():
                offered = await new_request_matching(session, requests[-1], service.settings, NOW)
            new_request = counter.count
        async with service.session_factory() as session:
            # A supporter who may take requests, with no conversation or offer yet, speaking
            # every language and with room for two.
            supporter_id = (await session.execute(
                select(SupporterProfile.participant_id)
                .where(SupporterProfile.approved.is_(True), SupporterProfile.suspended.is_(False),
                       SupporterProfile.participant_id.not_in(select(Offer.supporter_id)),
                       SupporterProfile.participant_id.not_in(select(Match.supporter_id)))
                .order_by(SupporterProfile.participant_id).limit(1)
            )).scalar_one()  # fmt: skip
            profile = await session.get(SupporterProfile, supporter_id)
            profile.languages = ["en", "pl", "uk", "ru", "fa", "ar"]
            profile.excluded_topics, profile.capacity, profile.on_duty = [], 2, True
            profile.paused_until = None
            # She already declined every other waiting request: skipping them must cost nothing.
            session.add_all(
                Offer(request_id=r, supporter_id=supporter_id, status=OfferStatus.DECLINED,
                      created_at=NOW, expires_at=NOW)
                for r in requests[::2]
            )  # fmt: skip
            await session.flush()
            pending = select(func.count()).where(
                Offer.supporter_id == supporter_id, Offer.status == OfferStatus.PENDING
            )
            assert (await session.execute(pending)).scalar_one() == 0
            with counter.counting():
                taken = await on_duty_matching(session, supporter_id, service.settings, NOW)
            on_duty = counter.count
            await session.rollback()
    return new_request, offered, on_duty, taken


async def test_statements_per_match_do_not_grow_with_supporters_or_queue(database_url):
    small = await _counts(database_url, supporters=30, waiting=5)
    large = await _counts(database_url, supporters=600, waiting=150)
    new_small, offered_small, duty_small, taken_small = small
    new_large, offered_large, duty_large, taken_large = large
    # Full offers both times (3 supporters for the request, 2 requests for the supporter).
    assert offered_small == offered_large == 3
    assert taken_small == taken_large == 2
    assert new_large == new_small, (new_small, new_large)
    assert duty_large == duty_small, (duty_small, duty_large)
    # And few: reading the request, ranking, one write per offer and its message.
    assert new_large <= 16, new_large
    assert duty_large <= 16, duty_large
