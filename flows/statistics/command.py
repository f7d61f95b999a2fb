"""The coordinators' /stats in the chat: the same protected figures as `peerline stats`.

```mermaid
stateDiagram-v2
    state "any state (unchanged)" as any
    any --> any: /stats (last 30 days) or /stats FROM TO (figures, audited)
    any --> any: /stats with a wrong date (how to write it)
    any --> any: not a coordinator (unknown command)
```
"""

from datetime import date, timedelta

from flows.audit import audit
from flows.commands import unknown_command
from flows.context import FlowContext
from flows.events import EventKind, InboundEvent
from flows.statistics import statistics
from flows.statistics.export import compact
from models import Role

NAME = "statistics"
DEFAULT_DAYS = 30
LONGEST = 3 * 366  # days; a longer period is refused rather than scanned


def parse_period(args: str, today: date) -> tuple[date, date] | None:
    """`""` is the last 30 days; `FROM TO` (YYYY-MM-DD) any period; anything else None."""
    words = args.split()
    try:
        if not words:
            return today - timedelta(days=DEFAULT_DAYS - 1), today
        if len(words) == 2:
            first, last = date.fromisoformat(words[0]), date.fromisoformat(words[1])
            if first <= last and (last - first).days <= LONGEST:
                return first, last
    except ValueError:
        pass
    return None


class StatisticsFlow:
    name = NAME

    async def handle(self, ctx: FlowContext, event: InboundEvent) -> None:
        if ctx.participant.role != Role.COORDINATOR or event.kind != EventKind.COMMAND:
            return await unknown_command(ctx)
        period = parse_period(event.args, ctx.now.date())
        if period is None:
            ctx.reply("stats.usage", example="/stats 2026-11-01 2026-11-30")
            return
        first, last = period
        stats = await statistics(ctx.session, first, last)
        who = f"participant:{ctx.participant.id}"
        audit(ctx.session, ctx.now, who, "stats.view", "statistics",
              start=first.isoformat(), end=last.isoformat())  # fmt: skip
        ctx.reply("stats.summary", start=first.isoformat(), end=last.isoformat(),
                  figures=compact(stats, ctx.language))  # fmt: skip
