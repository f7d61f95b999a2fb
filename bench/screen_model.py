"""What the sentence model costs the danger screen: cold start, memory, speed on one core.

Run: .venv/bin/python -m bench.screen_model [MESSAGES]  (default 300 labelled messages)
The model runs on one thread (OMP_NUM_THREADS=1, the service's default), as in one process.
"""

import asyncio
import os
import statistics
import sys
import time

from flows.safety.evaluation import load_examples
from flows.safety.layered import DangerScreen


def rss_mb() -> float:
    """Resident memory now (not the peak), from /proc."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def cuts(timings: list[float]) -> str:
    q = statistics.quantiles(timings, n=100)
    return f"p50 {q[49]:.1f} ms, p99 {q[98]:.1f} ms, max {max(timings):.1f} ms"


async def burst(layers: DangerScreen, texts: list[str]) -> tuple[list[float], int, float]:
    """Every message arrives at once; each waits its turn in the worker's batches."""
    batching = layers._model.batching  # type: ignore[union-attr]
    before = batching.batches

    async def one(text: str) -> float:
        started = time.perf_counter()
        await layers.screen(text)
        return (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    latencies = await asyncio.gather(*(one(text) for text in texts))
    return list(latencies), batching.batches - before, time.perf_counter() - started


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    examples = load_examples()
    step = max(1, len(examples) // count)
    texts = [e.text for e in examples[::step]][:count]
    base = rss_mb()

    layers = DangerScreen()
    started = time.perf_counter()
    status = layers.load()
    layers.screen_many([texts[0]])
    cold = (time.perf_counter() - started) * 1000
    if not status.loaded:
        raise SystemExit(f"the model did not load: {status.detail}")
    print(f"model: {status.detail}; cold start to the first verdict {cold:.0f} ms")

    timings: list[float] = []
    started = time.perf_counter()
    for text in texts:
        t0 = time.perf_counter()
        layers.screen_many([text])
        timings.append((time.perf_counter() - t0) * 1000)
    elapsed = time.perf_counter() - started
    print(f"one at a time: {len(texts)} messages in {elapsed:.1f} s = "
          f"{len(texts) / elapsed:.0f} messages/s; {cuts(timings)}")  # fmt: skip

    started = time.perf_counter()
    for i in range(0, len(texts), 32):
        layers.screen_many(texts[i : i + 32])
    elapsed = time.perf_counter() - started
    print(f"batches of 32: {len(texts) / elapsed:.0f} messages/s")

    latencies, batches, elapsed = asyncio.run(burst(layers, texts))
    print(f"a burst of {len(texts)} at once through the worker thread: {batches} batches, "
          f"{len(texts) / elapsed:.0f} messages/s; waiting included {cuts(latencies)}")  # fmt: skip
    print(f"resident memory: {base:.0f} MB before, {rss_mb():.0f} MB after "
          f"(+{rss_mb() - base:.0f} MB for the model and its vectors)")  # fmt: skip


if __name__ == "__main__":
    main()
