"""How fast danger-signal screening runs: every inbound message waits for it.

Run: .venv/bin/python -m bench.screening_speed [ROUNDS]  (screens the labelled set ROUNDS times)
"""

import json
import statistics
import sys
import time
from pathlib import Path

from flows.safety.screening import DEFAULT_LEXICON_DIR, load_lexicons

LABELLED = Path(__file__).resolve().parent.parent / "tests" / "data" / "danger_signals.jsonl"


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    texts = [json.loads(line)["text"] for line in LABELLED.read_text("utf-8").splitlines() if line]

    started = time.perf_counter()
    lexicons = load_lexicons(DEFAULT_LEXICON_DIR)
    load_ms = (time.perf_counter() - started) * 1000

    lexicons.screen(texts[0])  # warm-up
    timings: list[float] = []
    started = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            t0 = time.perf_counter_ns()
            lexicons.screen(text)
            timings.append((time.perf_counter_ns() - t0) / 1000)
    elapsed = time.perf_counter() - started

    cuts = statistics.quantiles(timings, n=100)
    print(f"lexicons: {len(lexicons.entries)} entries in {len(lexicons.languages)} languages, "
          f"loaded and compiled in {load_ms:.0f} ms")  # fmt: skip
    print(f"screened {len(timings)} messages ({len(texts)} x {rounds}) in {elapsed:.2f} s")
    print(f"throughput: {len(timings) / elapsed:,.0f} messages/second")
    print(f"per message: p50 {cuts[49]:.0f} µs, p99 {cuts[98]:.0f} µs, max {max(timings):.0f} µs")


if __name__ == "__main__":
    main()
