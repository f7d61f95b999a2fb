"""The layered danger screen: the lexicons for explicit phrases, the sentence model for the rest.

Policy (also in the labelled data's README): violence against her, her children, or someone she
asks how to help is ``violence``; news, school projects, history and idioms are ``none``;
method-seeking, goodbye messages, giving things away and "they'd be better off without me" are
``self_harm``; explicit negation is ``none``; when both, ``self_harm``.

Either layer can flag a message. The lexicons give explainable cue ids and take coordinators'
edits at once; the model (``embedding`` + ``classifier``) catches what no phrase list can
enumerate. When the model cannot load, start-up says so in one line, /healthz reports it and the
lexicons carry on alone; an error in either layer is counted in a metric and logged, never skipped
in silence.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from flows import metrics
from flows.safety.classifier import Classifier, Verdict, WeightsError, load_classifier
from flows.safety.embedding import (
    PREFIX,
    BatchingEmbedder,
    Embedder,
    ModelStatus,
    ModelUnavailable,
    load_embedder,
)
from flows.safety.evaluation import combine
from flows.safety.screening import NONE, Screening, load_lexicons

log = logging.getLogger(__name__)

# Fewer letters than this ("2", "ok", "yes") say nothing the model could read; the lexicons
# still screen them.
MIN_LETTERS = 5
SKIPPED = Verdict("none", 0.0)
# An update never waits longer than this for the model (a burst beyond what one core embeds);
# past it the lexicons decide alone and the miss is counted.
MODEL_WAIT_SECONDS = 3.0


def worth_embedding(text: str) -> bool:
    return sum(c.isalpha() for c in text) >= MIN_LETTERS


@dataclass(frozen=True)
class _Model:
    embedder: Embedder
    batching: BatchingEmbedder
    classifier: Classifier


class DangerScreen:
    """Screens messages with every layer that is available; build one per process."""

    def __init__(
        self,
        *,
        lexicon_dir: Path | None = None,
        weights: Path | None = None,
        use_model: bool = True,
        model_wait: float = MODEL_WAIT_SECONDS,
    ) -> None:
        self.lexicon_dir = lexicon_dir
        self.weights = weights
        self.use_model = use_model
        self.model_wait = model_wait
        self._model: _Model | None = None
        self._status: ModelStatus | None = None
        self._lock = threading.Lock()

    # --- Loading ---------------------------------------------------------------------------------

    def load(self) -> ModelStatus:
        """Load the model once; on failure say so in one loud line and go on with lexicons."""
        with self._lock:
            if self._status is not None:
                return self._status
            if not self.use_model:
                self._status = ModelStatus(False, "switched off (SCREEN_MODEL=false)")
                log.warning("danger screening: lexicons only, the sentence model is switched off")
                return self._status
            try:
                classifier = load_classifier(self.weights)
                embedder = load_embedder()
                if embedder.dim != classifier.dim:
                    raise WeightsError(
                        f"weights for {classifier.dim}-number vectors, model gives {embedder.dim}"
                    )
                if classifier.prefix != PREFIX:
                    raise WeightsError(
                        f"weights for {classifier.prefix!r} vectors, the model gives {PREFIX!r}"
                    )
            except (ModelUnavailable, WeightsError) as error:
                self._status = ModelStatus(False, str(error))
                metrics.screening_model_loaded.set(0)
                log.error("danger screening: LEXICONS ONLY, the sentence model is off: %s", error)
                return self._status
            self._model = _Model(embedder, BatchingEmbedder(embedder), classifier)
            self._status = ModelStatus(True, str(classifier.info.get("model", "loaded")))
            metrics.screening_model_loaded.set(1)
            log.info("danger screening: lexicons and %s", self._status.detail)
            return self._status

    @property
    def status(self) -> ModelStatus:
        return self._status or ModelStatus(False, "not loaded yet")

    def health(self) -> dict[str, object]:
        status = self.status
        return {"model": status.loaded, "detail": status.detail}

    # --- Screening -------------------------------------------------------------------------------

    async def screen(self, text: str) -> Screening:
        """Both layers on one message; the model's share runs in its worker thread."""
        with metrics.screening_seconds.time():
            return await self._screen(text)

    async def _screen(self, text: str) -> Screening:
        lexicon = self._lexicon_verdict(text)
        model = self._model if self._status is not None else self._loaded_model()
        verdict: Verdict | None = None
        if model is not None and not worth_embedding(text):
            verdict = SKIPPED
        elif model is not None:
            try:
                vector = await asyncio.wait_for(model.batching.embed(text), self.model_wait)
                verdict = model.classifier.classify(vector)[0]
            except TimeoutError:  # overloaded: her update goes on with the lexicons' verdict
                metrics.screening_errors.labels("model_timeout").inc()
                log.warning(
                    "danger screening: the model took over %.1f s, lexicons only", self.model_wait
                )
            except Exception:
                metrics.screening_errors.labels("model").inc()
                log.exception("danger screening: the sentence model failed on one message")
        return self._merge(lexicon, verdict)

    def screen_many(self, texts: Sequence[str]) -> list[Screening]:
        """Blocking batch screening, for the command line, the benchmark and training checks."""
        lexicons = [self._lexicon_verdict(text) for text in texts]
        model = self._loaded_model()
        verdicts: list[Verdict | None] = [None] * len(texts)
        wanted = [i for i, text in enumerate(texts) if worth_embedding(text)]
        if model is not None:
            verdicts = [SKIPPED] * len(texts)
        if model is not None and wanted:
            try:
                vectors = model.embedder.embed([texts[i] for i in wanted])
                for i, verdict in zip(wanted, model.classifier.classify(vectors), strict=True):
                    verdicts[i] = verdict
            except Exception:
                verdicts = [None] * len(texts)
                metrics.screening_errors.labels("model").inc()
                log.exception("danger screening: the sentence model failed on a batch")
        return [self._merge(lex, v) for lex, v in zip(lexicons, verdicts, strict=True)]

    def _loaded_model(self) -> _Model | None:
        self.load()
        return self._model

    def _lexicon_verdict(self, text: str) -> Screening | None:
        try:
            return load_lexicons(self.lexicon_dir).screen(text)
        except Exception:  # a broken lexicon: the model still screens, and the error is seen
            metrics.screening_errors.labels("lexicon").inc()
            log.exception("danger screening: the lexicons failed")
            return None

    def _merge(self, lexicon: Screening | None, model: Verdict | None) -> Screening:
        if lexicon is None and model is None:
            raise ScreeningUnavailable("neither the lexicons nor the model could screen")
        lexicon_label = lexicon.label if lexicon is not None else NONE
        model_label = model.label if model is not None else NONE
        label = combine(lexicon_label, model_label)
        sources = [
            name
            for name, flagged in (
                ("lexicon", lexicon_label != NONE),
                ("model", model_label != NONE),
            )
            if flagged
        ]
        source = "both" if len(sources) == 2 else sources[0] if sources else ""
        if model is not None:
            score = model.score
            if lexicon_label != NONE:  # an explicit phrase ranks with the model's own flags
                score = max(score, self._model.classifier.danger_threshold if self._model else 0.5)
        else:
            score = 1.0 if lexicon_label != NONE else 0.0
        base = lexicon or Screening(NONE)
        return replace(base, label=label, score=round(float(score), 4), source=source)


class ScreeningUnavailable(RuntimeError):
    """No layer could screen a message; the caller counts it and goes on."""


_default: DangerScreen | None = None
_default_lock = threading.Lock()


def danger_screen() -> DangerScreen:
    """The process's screen (lexicons and, where it loads, the model)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = DangerScreen()
        return _default


def set_danger_screen(screen: DangerScreen | None) -> None:
    """Replace the process's screen (the service at start-up with its settings; tests)."""
    global _default
    with _default_lock:
        _default = screen
