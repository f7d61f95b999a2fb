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
screening_errors = Counter(
    "peerline_screening_errors_total", "Danger screening failures by layer (lexicon, model)",
    ["layer"], registry=registry,
)  # fmt: skip
screening_model_loaded = Gauge(
    "peerline_screening_model_loaded", "1 when the sentence model screens messages, 0 when only "
    "the lexicons do", registry=registry,
)  # fmt: skip
screening_seconds = Histogram(
    "peerline_screening_seconds", "Time to screen one message with every layer",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5), registry=registry,
)  # fmt: skip
send_seconds = Histogram(
    "peerline_send_seconds", "Time a channel took to send one outbox message, accepted or not",
    ["channel"], buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=registry,
)  # fmt: skip
