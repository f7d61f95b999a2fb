"""`peerline` with every SQL statement counted, for the benchmarks (never used in production).

Run: python -m bench.sql_counts OUT.json run ...   (the rest are `peerline`'s own arguments)
SQLAlchemy's engine events count each statement by its kind and by its text (parameters never
appear), and each commit and rollback; the counts are written to OUT.json when the process
stops, and on SIGUSR1 (so a benchmark can take them between a warm-up and its burst).
"""

import atexit
import json
import signal
import sys
from collections import Counter

from sqlalchemy import event
from sqlalchemy.engine import Engine

statements: Counter[str] = Counter()
kinds: Counter[str] = Counter()


def _kind(statement: str) -> str:
    words = statement.lstrip("( \n").split(None, 1)
    return words[0].upper() if words else "?"


@event.listens_for(Engine, "before_cursor_execute")
def _count(_conn, _cursor, statement, _params, _context, executemany) -> None:  # type: ignore[no-untyped-def]
    kinds[_kind(statement)] += 1
    statements[" ".join(statement.split())[:160]] += 1


@event.listens_for(Engine, "commit")
def _commit(_conn) -> None:  # type: ignore[no-untyped-def]
    kinds["COMMIT"] += 1


@event.listens_for(Engine, "rollback")
def _rollback(_conn) -> None:  # type: ignore[no-untyped-def]
    kinds["ROLLBACK"] += 1


def _dump(path: str) -> None:
    with open(path, "w") as out:
        json.dump({"kinds": kinds, "statements": statements}, out)


def main() -> None:
    path = sys.argv.pop(1)
    atexit.register(_dump, path)
    signal.signal(signal.SIGUSR1, lambda *_: _dump(path))
    from bot.cli import main as peerline

    peerline()


if __name__ == "__main__":
    main()
