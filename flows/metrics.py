"""Prometheus metrics: counts and durations only, never anything that points to a person."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

registry = CollectorRegistry()

updates_in = Counter(
    "peerline_updates_in_total", "Inbound events by channel and outcome",
    ["channel", "outcome"], registry=registry,
)  # fmt: skip
messages_out = Counter(
    "peerline_messages_out_total", "Outbound sends by channel and result",
    ["channel", "result"], registry=registry,
)  # fmt: skip
queue_depth = Gauge(
    "peerline_outbox_queue_depth", "Outbox rows waiting to be sent", registry=registry
)
match_wait = Histogram(
    "peerline_match_wait_seconds", "Time from a help request to its match",
    buckets=(30, 60, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600, 24 * 3600), registry=registry,
)  # fmt: skip
