"""What an operator scrapes besides the flows' own counts: the process, the build, job failures.

Registered on the one registry `/metrics` serves; counts only, never anything about a person.
"""

from importlib import metadata

from prometheus_client import Counter, Info
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine

from flows.metrics import registry

ProcessCollector(registry=registry)
PlatformCollector(registry=registry)
GCCollector(registry=registry)

build = Info("peerline_build", "The running version of Peerline", registry=registry)
job_failures = Counter(
    "peerline_job_failures_total", "Scheduled jobs that raised, by kind", ["kind"],
    registry=registry,
)  # fmt: skip
database_errors = Counter(
    "peerline_database_errors_total", "Statements, commits and connections the database refused, "
    "by the driver's error class", ["kind"], registry=registry,
)  # fmt: skip


def count_database_errors(engine: AsyncEngine) -> None:
    """Every error the driver raises on this engine (a lock given up, a dropped connection, a
    constraint) is counted once where SQLAlchemy sees it, whoever retries or apologises."""

    @event.listens_for(engine.sync_engine, "handle_error")
    def _count(context: ExceptionContext) -> None:
        database_errors.labels(type(context.original_exception).__name__).inc()


def _version() -> str:
    try:
        return metadata.version("peerline")
    except metadata.PackageNotFoundError:
        return "unknown"


build.info({"version": _version()})
