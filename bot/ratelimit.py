"""Pacing for outbound messages: a bot-wide rate per channel and a rate per recipient."""

import math
from dataclasses import dataclass, field

US = 1_000_000  # lanes count whole microseconds, so spacing never erodes in float sums


@dataclass
class RatePolicy:
    per_second: float  # for the whole channel (one bot, one WhatsApp sender)
    per_recipient_per_second: float | None = None


@dataclass
class _Lane:
    interval: int  # microseconds
    next_free: int = 0  # microseconds since the epoch


@dataclass
class RateLimiter:
    """Spaces sends evenly: at most `per_second` a second, never two closer than 1/rate.

    Time is a float of seconds on the caller's clock, so tests can use a virtual one.
    """

    policies: dict[str, RatePolicy]
    _channels: dict[str, _Lane] = field(default_factory=dict)
    _recipients: dict[tuple[str, str], _Lane] = field(default_factory=dict)

    def earliest(self, channel: str, recipient: str, now: float) -> float:
        """When a message to `recipient` may leave, without reserving the slot."""
        policy = self.policies.get(channel)
        if policy is None:
            return now
        when = max(_us(now), self._channel_lane(channel, policy).next_free)
        if policy.per_recipient_per_second:
            when = max(when, self._recipient_lane(channel, recipient, policy).next_free)
        return when / US

    def chat_bound(self, channel: str, recipient: str, now: float) -> bool:
        """Whether her own pace, not the channel's, is what makes this message wait."""
        policy = self.policies.get(channel)
        if policy is None or not policy.per_recipient_per_second:
            return False
        mine = self._recipient_lane(channel, recipient, policy).next_free
        return mine > max(_us(now), self._channel_lane(channel, policy).next_free)

    def take(self, channel: str, recipient: str, at: float) -> None:
        """Record a send at time `at`."""
        policy = self.policies.get(channel)
        if policy is None:
            return
        lane = self._channel_lane(channel, policy)
        lane.next_free = max(lane.next_free, _us(at)) + lane.interval
        if policy.per_recipient_per_second:
            rlane = self._recipient_lane(channel, recipient, policy)
            rlane.next_free = max(rlane.next_free, _us(at)) + rlane.interval

    def sent(self, channel: str, recipient: str, at: float) -> None:
        """A reserved send really left at `at` (later than its slot): nothing follows it sooner
        than the spacing, on the channel or to her."""
        policy = self.policies.get(channel)
        if policy is None:
            return
        lane = self._channel_lane(channel, policy)
        lane.next_free = max(lane.next_free, _us(at) + lane.interval)
        if policy.per_recipient_per_second:
            rlane = self._recipient_lane(channel, recipient, policy)
            rlane.next_free = max(rlane.next_free, _us(at) + rlane.interval)

    def hold_recipient(self, channel: str, recipient: str, until: float) -> None:
        """The API told us to wait for this recipient (a 429): nothing goes to her before then."""
        policy = self.policies.get(channel) or RatePolicy(per_second=1e9)
        rlane = self._recipient_lane(channel, recipient, policy)
        rlane.next_free = max(rlane.next_free, _us(until))

    def _channel_lane(self, channel: str, policy: RatePolicy) -> _Lane:
        return self._channels.setdefault(channel, _Lane(_interval(policy.per_second)))

    def _recipient_lane(self, channel: str, recipient: str, policy: RatePolicy) -> _Lane:
        rate = policy.per_recipient_per_second or 1e9
        lane = self._recipients.setdefault((channel, recipient), _Lane(_interval(rate)))
        if len(self._recipients) > 50_000:  # old lanes are in the past; drop them
            horizon = max(lane.next_free for lane in self._channels.values()) - 60 * US
            self._recipients = {k: v for k, v in self._recipients.items() if v.next_free > horizon}
            self._recipients[(channel, recipient)] = lane
        return lane


def _us(seconds: float) -> int:
    return round(seconds * US)


def _interval(per_second: float) -> int:
    return max(0, math.ceil(US / per_second))
