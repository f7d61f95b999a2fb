"""Relay through the real router: copies both ways, masking, several conversations, endings."""

from sqlalchemy import select

from bot.app import Peerline
from models import HelpRequest, Match, MatchStatus, Offer, OfferStatus, OutboxMessage, RequestStatus
from tests.support import RecordingChannel, World, make_settings, running_service


async def connected(world: World, *, note: str | None = None, supporter: str = "s1",
                    seeker: str = "h1", **profile):  # fmt: skip
    """A seeker and a supporter in an open conversation."""
    people = {p.address: p for p in world.__dict__.get("_people", [])}
    helper = people.get(supporter) or await world.supporter(supporter, alias=f"Sup {supporter}",
                                                            **profile)  # fmt: skip
    world.__dict__.setdefault("_people", []).append(helper)
    her = await world.seeker(seeker, alias=f"Her {seeker}")
    await world.ask_for_help(her, note=note)
    await helper.tap(helper.choices("offer:accept")[-1])
    return her, helper


async def test_both_are_introduced_and_text_goes_both_ways_with_aliases(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        her, helper = await connected(world, note="I can't sleep")

        intro_her, intro_helper = her.texts[-1], helper.texts[-1]
        assert "Sup s1" in intro_her and "English" in intro_her and "/end" in intro_her
        assert "I can't sleep" not in intro_her
        assert "Her h1" in intro_helper and "I can't sleep" in intro_helper
        assert intro_helper.count("•") == 3

        await her.text("hello, is anyone there?")
        assert helper.texts[-1] == "Her h1: hello, is anyone there?"
        await helper.text("Yes, I'm here.")
        assert her.texts[-1] == "Sup s1: Yes, I'm here."
        # The relayed words leave the database once delivered.
        async with service.session_factory() as session:
            params = (await session.execute(select(OutboxMessage.params))).scalars().all()
        assert not any(p and "anyone there" in str(p) for p in params)


async def test_contact_details_are_masked_and_the_sender_is_told_gently(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        her, helper = await connected(world)

        await her.text("call me +48 600 123 456 or write anna@example.com, wa.me/48600123456")

        relayed = helper.texts[-1]
        assert "600" not in relayed and "anna@" not in relayed and "wa.me" not in relayed
        assert relayed.startswith("Her h1: call me [•••]")
        assert "keep you both safe" in her.texts[-1]


async def test_masking_can_be_switched_off_per_deployment(database_url):
    async with running_service(database_url, mask_contact_details=False) as service:
        world = World.around(service)
        her, helper = await connected(world)
        await her.text("my number is +48 600 123 456")
        assert helper.texts[-1] == "Her h1: my number is +48 600 123 456"


async def test_telegram_media_is_copied_never_forwarded_with_her_alias_as_caption(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        her, helper = await connected(world)
        before = len(helper.received)

        sent_id = await her.media("voice", "voice-file-1")

        [copy] = [d.message for d in helper.received[before:]]  # one message, not two
        assert copy.text == "Her h1:" and copy.extra["_caption"] is True
        assert copy.kind == "relay"
        assert copy.extra["_copy_message_id"] == sent_id
        assert copy.extra["copy_from_address"] == "h1"  # resolved only at send time
        async with service.session_factory() as session:
            rows = (await session.execute(select(OutboxMessage))).scalars().all()
        assert all("h1" not in str(row.params) for row in rows if row.params)


async def test_a_caption_with_contact_details_is_replaced_by_the_masked_one(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        her, helper = await connected(world)
        sent_id = await her.media("photo", "photo-file", caption="my insta @anna_k99")

        sent = helper.received[-1].message
        assert sent.extra["_copy_message_id"] == sent_id and sent.extra["_caption"] is True
        assert sent.text == "Her h1: my insta [•••]"  # the copy's own caption never goes


async def test_across_channels_text_and_voice_cross_and_other_media_gets_a_clear_notice(
    database_url,
):
    async with running_service(database_url) as service:
        world = World.around(service)
        whatsapp = RecordingChannel("whatsapp", service.clock)
        service.add_channel(whatsapp)
        helper = await world.supporter("s1", alias="Sup s1")
        her = await world.seeker("+48600000001", channel="whatsapp", alias="Her wa")
        await world.ask_for_help(her)
        await helper.tap(helper.choices("offer:accept")[0])

        await helper.text("hello from Telegram")
        await helper.media("voice", "voice-x")
        await helper.media("sticker", "sticker-x")

        texts = [d.message.text for d in whatsapp.deliveries]
        assert "Sup s1: hello from Telegram" in texts
        [voice] = [d.message for d in whatsapp.deliveries if d.message.media is not None]
        assert voice.media.kind == "voice" and voice.media.ref == "voice-x"
        assert any("sent a sticker, but it cannot reach this app" in t for t in texts)
        assert "could not reach her" in helper.texts[-1]


async def test_edits_are_relayed_as_edits_of_the_copy(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        her, helper = await connected(world)
        original = await her.text("I live in Krakow")
        copy_id = helper.delivery_id("I live in Krakow")

        await her.edit(original, "I live near Krakow")

        edit = helper.received[-1].message
        assert edit.kind == "edit" and edit.extra["_edit_of"] == copy_id
        assert edit.text == "Her h1: I live near Krakow"


async def test_a_photo_crosses_as_one_message_and_an_edited_caption_edits_that_caption(
    database_url,
):
    async with running_service(database_url) as service:
        world = World.around(service)
        her, helper = await connected(world)
        before = len(helper.received)
        photo = await her.media("photo", "p1", caption="my room")
        [copy] = [d.message for d in helper.received[before:]]
        assert copy.text == "Her h1: my room" and copy.extra["_caption"] is True
        assert copy.extra["_copy_message_id"] == photo
        copy_id = helper.delivery_id("Her h1: my room")
        await her.edit(photo, "my new room")
        edit = helper.received[-1].message
        assert edit.kind == "edit" and edit.extra["_edit_of"] == copy_id
        assert edit.text == "Her h1: my new room" and edit.extra["_caption"] is True


async def test_a_paused_match_relays_nothing_and_says_so(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        her, helper = await connected(world)
        async with service.session_factory() as session, session.begin():
            match = (await session.execute(select(Match))).scalar_one()
            match.status = MatchStatus.PAUSED
        before = len(helper.received)

        await her.text("are you there?")

        assert len(helper.received) == before
        assert "paused" in her.texts[-1]


async def test_what_she_writes_while_waiting_reaches_the_supporter_who_accepts(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        helper = await world.supporter("s1", alias="Sup s1")
        her = await world.seeker("h1", alias="Her h1")
        async with service.session_factory() as session, session.begin():
            from models import SupporterProfile

            (await session.execute(select(SupporterProfile))).scalar_one().on_duty = False
        await world.ask_for_help(her)
        await her.text("I am scared of my landlord")
        assert "Kept" in her.texts[-1]
        async with service.session_factory() as session, session.begin():
            from models import SupporterProfile

            (await session.execute(select(SupporterProfile))).scalar_one().on_duty = True
        await world.run_jobs(after_seconds=25 * 60)  # the unmatched alert offers it again
        await helper.tap(helper.choices("offer:accept")[-1])

        assert "Her h1: I am scared of my landlord" in helper.texts


async def test_a_supporter_with_two_conversations_routes_by_reply_switch_and_asks_when_unsure(
    database_url,
):
    async with running_service(database_url) as service:
        world = World.around(service)
        first, helper = await connected(world, seeker="h1")
        second, _ = await connected(world, seeker="h2")
        await first.text("first woman here")
        await second.text("second woman here")

        # A reply to a relayed message goes to that conversation.
        await helper.text("answer to the first", reply_to=helper.delivery_id("first woman here"))
        assert first.texts[-1] == "Sup s1: answer to the first"
        await helper.text("answer to the second", reply_to=helper.delivery_id("second woman"))
        assert second.texts[-1] == "Sup s1: answer to the second"

        # No reply and no choice yet: held, and she is asked whom it is for.
        before = (len(first.received), len(second.received))
        await helper.text("which one gets this?")
        assert (len(first.received), len(second.received)) == before
        assert "Whom is this message for?" in helper.texts[-1]
        picks = helper.choices("switch:")
        assert len(picks) == 2
        await helper.tap(picks[1])
        assert second.texts[-1] == "Sup s1: which one gets this?"
        assert "which one" not in " ".join(first.texts)
        assert "Sent to Her h2" in helper.texts[-1]

        # /switch sets whom she writes to.
        await helper.command("switch")
        await helper.tap(helper.choices("switch:")[0])
        await helper.text("now to the first")
        assert first.texts[-1] == "Sup s1: now to the first"

        # Each relayed message shows whose it is.
        assert all(t.startswith(("Her h1", "Her h2")) for t in helper.texts
                   if "woman here" in t)  # fmt: skip


async def test_a_held_message_is_not_kept_in_the_database_after_it_is_sent(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        _, helper = await connected(world, seeker="h1")
        await connected(world, seeker="h2")
        await helper.text("a private thought")
        await helper.tap(helper.choices("switch:")[0])
        from models import FlowState

        async with service.session_factory() as session:
            states = (await session.execute(select(FlowState.data))).scalars().all()
        assert not any("private thought" in str(d) for d in states)


async def test_end_by_the_seeker_ends_for_both_deletes_her_note_and_asks_feedback(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        her, helper = await connected(world, note="my private sentence")

        await her.command("end")

        assert any("You ended the conversation with Sup s1" in t for t in her.texts)
        assert "How helpful" in her.texts[-1]
        assert any("Her h1 has ended the conversation" in t for t in helper.texts)
        assert "How are you feeling" in helper.texts[-1]
        async with service.session_factory() as session:
            request = (await session.execute(select(HelpRequest))).scalar_one()
            match = (await session.execute(select(Match))).scalar_one()
        assert request.note is None and request.status == RequestStatus.ENDED
        assert match.status == MatchStatus.ENDED and match.ended_by == "seeker"

        before = len(helper.received)
        await her.text("one more thing")
        assert len(helper.received) == before


async def test_end_by_the_supporter_and_the_seeker_writing_afterwards(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        her, helper = await connected(world)
        await helper.command("end")
        assert any("Sup s1 has ended the conversation" in t for t in her.texts)
        before = len(helper.received)
        await her.text("hello?")
        assert "This conversation has ended." in her.texts
        assert len(helper.received) == before


async def test_seeker_hand_over_goes_to_another_supporter_excluding_the_first(database_url):
    async with running_service(database_url, offer_top_k=1) as service:
        world = World.around(service)
        her, first = await connected(world, note="about my papers")
        other = await world.supporter("s2", alias="Sup s2")

        await her.command("handover")

        assert any("asked to continue with another supporter" in t for t in first.texts)
        assert "Can you take" in other.texts[-1]
        await other.tap(other.choices("offer:accept")[0])
        assert "about my papers" in other.texts[-1]
        assert "Sup s2" in her.texts[-1]
        async with service.session_factory() as session:
            offers = (await session.execute(select(Offer).order_by(Offer.id))).scalars().all()
        first_id = (await first.participant()).id
        assert [o.status for o in offers if o.supporter_id == first_id] == [
            OfferStatus.ACCEPTED, OfferStatus.WITHDRAWN]  # fmt: skip


async def test_supporter_hand_over_alerts_a_coordinator_and_tells_her_kindly(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        coordinator = await world.supporter("c1", role="coordinator", alias="Coord")
        her, helper = await connected(world)

        await helper.command("handover")

        assert any("handed over request" in t for t in coordinator.texts)
        assert "Her" not in coordinator.texts[-1]
        assert any("asked a coordinator to help" in t for t in her.texts)
        async with service.session_factory() as session:
            waiting = (await session.execute(
                select(HelpRequest).where(HelpRequest.status == RequestStatus.WAITING)
            )).scalar_one()  # fmt: skip
        assert waiting.urgent


async def test_idle_conversation_is_asked_then_closed(database_url):
    async with running_service(database_url, idle_check_after_hours=24,
                               idle_close_after_hours=24) as service:  # fmt: skip
        world = World.around(service)
        her, helper = await connected(world)
        await world.run_jobs(after_seconds=23 * 3600)
        assert "quiet" not in her.texts[-1]
        await world.run_jobs(after_seconds=3600 + 1)
        assert "keep this conversation open" in her.texts[-1]
        assert "keep this conversation open" in helper.texts[-1]

        await world.run_jobs(after_seconds=24 * 3600 + 1)

        assert any("was quiet for a long time" in t for t in her.texts)
        assert "How helpful" in her.texts[-1]
        async with service.session_factory() as session:
            assert (await session.execute(select(Match.status))).scalar_one() == MatchStatus.ENDED


async def test_idle_conversation_stays_open_when_she_wants_to_continue(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        her, helper = await connected(world)
        await world.run_jobs(after_seconds=24 * 3600 + 1)
        await her.tap(her.choices("idle:continue")[0])
        assert "stays open" in her.texts[-1]
        await world.run_jobs(after_seconds=24 * 3600 + 1)
        async with service.session_factory() as session:
            assert (await session.execute(select(Match.status))).scalar_one() == MatchStatus.ACTIVE


async def test_a_restart_in_the_middle_of_a_conversation_loses_nothing(database_url):
    settings = make_settings(database_url)
    async with running_service(database_url) as service:
        world = World.around(service)
        her, helper = await connected(world)
        await her.text("before the restart")
        clock = service.clock
    # The old process is gone; a new one starts on the same database.
    service = Peerline(settings, clock=clock)
    try:
        world2 = World.around(service)
        her.world = helper.world = world2
        await her.text("after the restart")
        await helper.text("still here")
        assert world2.channel.texts_to("s1") == ["Her h1: after the restart"]
        assert world2.channel.texts_to("h1") == ["Sup s1: still here"]
    finally:
        await service.stop()


async def test_a_reply_to_an_ended_conversation_never_reaches_the_other_woman(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        first, helper = await connected(world, seeker="h1")
        second, _ = await connected(world, seeker="h2")
        await first.text("goodbye from the first")
        copy = helper.delivery_id("goodbye from the first")
        await first.command("end")
        before = len(second.received)

        await helper.text("are you still there?", reply_to=copy)

        assert len(second.received) == before
        assert "has ended, so this was not sent" in helper.texts[-1]


async def test_a_held_message_for_a_conversation_that_ended_meanwhile_is_not_sent(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        first, helper = await connected(world, seeker="h1")
        second, _ = await connected(world, seeker="h2")
        await helper.text("for someone")
        picks = helper.choices("switch:")
        await first.command("end")
        before = len(second.received)

        await helper.tap(picks[0])

        assert len(second.received) == before
        assert "Whom is this message for?" in helper.texts[-1]
        assert helper.choices("switch:") == picks[1:]


async def test_ending_while_waiting_cancels_her_request_and_withdraws_offers(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        helper = await world.supporter("s1", alias="Sup s1")
        her = await world.seeker("h1")
        await world.ask_for_help(her, note="private")

        await her.command("end")

        assert any("Your request is cancelled" in t for t in her.texts)
        assert "no longer needed" in helper.texts[-1]
        async with service.session_factory() as session:
            request = (await session.execute(select(HelpRequest))).scalar_one()
            offer = (await session.execute(select(Offer))).scalar_one()
        assert request.status == RequestStatus.CANCELLED and request.note is None
        assert offer.status == OfferStatus.WITHDRAWN


async def test_a_button_from_an_earlier_conversation_never_ends_the_current_one(database_url):
    async with running_service(database_url, offer_top_k=1) as service:
        world = World.around(service)
        her, first = await connected(world)
        old_end = her.choices("relay:end")[0]
        other = await world.supporter("s2", alias="Sup s2")
        await her.tap(her.choices("relay:handover")[0])
        await other.tap(other.choices("offer:accept")[0])

        await her.tap(old_end)

        assert "already ended" in her.texts[-1]
        async with service.session_factory() as session:
            statuses = (await session.execute(select(Match.status).order_by(Match.id))).all()
        assert [s for (s,) in statuses] == [MatchStatus.ENDED, MatchStatus.ACTIVE]


async def test_when_she_blocks_the_bot_the_conversation_ends_and_the_supporter_is_told(
    database_url,
):
    from handlers.base import RecipientUnreachable

    async with running_service(database_url) as service:
        world = World.around(service)
        her, helper = await connected(world)
        world.channel.fail_next(RecipientUnreachable("blocked by the user"), address=her.address)
        await helper.text("How are you today?")  # the copy to her fails: she blocked the bot
        await world.run_jobs()

        assert helper.texts[-2] == "The conversation with Her h1 has ended."
        assert "ended suddenly" in helper.texts[-1]  # and she is asked how she is
        async with service.session_factory() as session:
            match = (await session.execute(select(Match))).scalar_one()
        assert match.status == MatchStatus.ENDED
        before = len(helper.texts)
        await helper.text("hello?")
        assert all("hello?" not in d.message.text for d in her.received)
        assert len(helper.texts) > before  # she is answered, not left in silence


async def test_a_seeker_who_blocks_the_bot_while_waiting_has_her_request_withdrawn(database_url):
    from flows.events import EventKind, InboundEvent

    async with running_service(database_url) as service:
        world = World.around(service)
        helper = await world.supporter("s1", alias="Sup s1")
        her = await world.seeker("h1", alias="Her h1")
        await world.ask_for_help(her)
        assert helper.choices("offer:accept")
        await service.router.handle(InboundEvent("telegram", "h1", EventKind.BLOCKED, "u-block"))
        await world.run_jobs()

        async with service.session_factory() as session:
            request = (await session.execute(select(HelpRequest))).scalar_one()
            offer = (await session.execute(select(Offer))).scalar_one()
        assert request.status == RequestStatus.CANCELLED and request.note is None
        assert offer.status == OfferStatus.WITHDRAWN
