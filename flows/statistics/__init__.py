"""Statistics and the funders' report: aggregates only, small cells hidden, in any language.

It reads models and the kernel (and the topic list of flows.conversation); no other feature.
"""

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from flows.statistics.figures import gather
from flows.statistics.tables import Statistics, build


async def statistics(session: AsyncSession, start: date, end: date) -> Statistics:
    """The published figures for the whole UTC days from `start` to `end`."""
    return build(await gather(session, start, end))
