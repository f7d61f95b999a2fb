"""WhatsApp through the real web edge: signed Twilio webhooks in, the real twilio client out."""

import json

import httpx
from sqlalchemy import select

from handlers.whatsapp.webhooks import INBOUND_PATH, STATUS_PATH
from models import OutboxMessage, OutboxStatus, ParticipantStatus
from tests.channel_support import WHATSAPP_FROM, running_edge
from tests.fakes.twilio_api import FakeTwilioAPI, sign_twilio_request

HER = "whatsapp:+48600100200"


async def test_her_message_is_answered_on_whatsapp_from_our_number(database_url):
    async with FakeTwilioAPI() as tw, running_edge(database_url, twilio=tw) as edge:
        status = await tw.deliver_webhook(edge.url + INBOUND_PATH, tw.make_inbound(HER, "/start"))
        await edge.drain()

        assert status == 200
        assert tw.messages and all(m["To"] == HER for m in tw.messages)
        assert all(m["From"] == "whatsapp:" + WHATSAPP_FROM for m in tw.messages)
        assert all(m["StatusCallback"] == edge.url + STATUS_PATH for m in tw.messages)
        assert (await edge.participant("whatsapp", "+48600100200")) is not None


async def test_choices_are_numbered_and_a_typed_number_picks_one(database_url):
    async with FakeTwilioAPI() as tw, running_edge(database_url, twilio=tw) as edge:
        await tw.deliver_webhook(edge.url + INBOUND_PATH, tw.make_inbound(HER, "/start"))
        await edge.drain()
        with_choices = [b for b in tw.bodies(HER) if "\n1. " in b]
        assert with_choices, tw.bodies(HER)
        assert with_choices[-1].rstrip().endswith(".")
        assert "Reply with a number from 1 to" in with_choices[-1]
        before = len(tw.messages)

        await tw.deliver_webhook(edge.url + INBOUND_PATH, tw.make_inbound(HER, "1"))
        await edge.drain()
        assert len(tw.messages) > before
        assert tw.bodies(HER)[before] != with_choices[-1]  # she moved on, not asked again


async def test_the_same_message_sid_twice_is_handled_once(database_url):
    async with FakeTwilioAPI() as tw, running_edge(database_url, twilio=tw) as edge:
        form = tw.make_inbound(HER, "/start")
        await tw.deliver_webhook(edge.url + INBOUND_PATH, form)
        await tw.deliver_webhook(edge.url + INBOUND_PATH, form)
        await edge.drain()
        counts = await edge.counts()
        assert counts["processed"] == 1
        first = len(tw.messages)
        assert first == counts["outbox"]


async def test_a_wrong_signature_is_refused_and_nothing_is_written(database_url):
    async with FakeTwilioAPI() as tw, running_edge(database_url, twilio=tw) as edge:
        form = tw.make_inbound(HER, "hello")
        url = edge.url + INBOUND_PATH
        async with httpx.AsyncClient() as client:
            unsigned = await client.post(url, data=form)
            forged = await client.post(
                url, data=form, headers={"X-Twilio-Signature": sign_twilio_request("x", url, form)}
            )
            other_url = await client.post(
                url,
                data=form,
                headers={"X-Twilio-Signature": sign_twilio_request(tw.auth_token, url + "x", form)},
            )
            tampered = await client.post(
                url,
                data={**form, "Body": "changed"},
                headers={"X-Twilio-Signature": sign_twilio_request(tw.auth_token, url, form)},
            )
        assert {r.status_code for r in (unsigned, forged, other_url, tampered)} == {403}
        assert await edge.counts() == {"participants": 0, "outbox": 0, "processed": 0}


async def test_repeated_form_fields_are_all_part_of_the_signature(database_url):
    async with FakeTwilioAPI() as tw, running_edge(database_url, twilio=tw) as edge:
        url = edge.url + INBOUND_PATH
        pairs = [*tw.make_inbound(HER, "/start").items(), ("Extra", "a"), ("Extra", "b")]
        signature = sign_twilio_request(tw.auth_token, url, pairs)
        async with httpx.AsyncClient() as client:
            good = await client.post(
                url,
                content=httpx.QueryParams(pairs).__str__().encode(),
                headers={
                    "X-Twilio-Signature": signature,
                    "Content-Type": "application/x-www-form-urlencoded",
                },
            )
            dropped = await client.post(
                url,
                content=httpx.QueryParams(pairs[:-1]).__str__().encode(),
                headers={
                    "X-Twilio-Signature": signature,
                    "Content-Type": "application/x-www-form-urlencoded",
                },
            )
        assert (good.status_code, dropped.status_code) == (200, 403)


async def test_malformed_or_wrong_type_bodies_get_4xx_and_write_nothing(database_url):
    async with FakeTwilioAPI() as tw, running_edge(database_url, twilio=tw) as edge:
        url = edge.url + INBOUND_PATH
        async with httpx.AsyncClient() as client:
            as_json = await client.post(
                url, json={"Body": "x"}, headers={"X-Twilio-Signature": "abc"}
            )
            empty = {"NumMedia": "0"}
            missing = await client.post(
                url,
                data=empty,
                headers={"X-Twilio-Signature": sign_twilio_request(tw.auth_token, url, empty)},
            )
            not_utf8 = await client.post(
                url,
                content=b"Body=%FF%FE",
                headers={
                    "X-Twilio-Signature": "abc",
                    "Content-Type": "application/x-www-form-urlencoded",
                },
            )
        assert as_json.status_code == 415
        assert missing.status_code == 400
        assert not_utf8.status_code in (400, 403)
        assert await edge.counts() == {"participants": 0, "outbox": 0, "processed": 0}


async def test_stop_opts_her_out_and_nothing_more_is_sent(database_url):
    async with FakeTwilioAPI() as tw, running_edge(database_url, twilio=tw) as edge:
        await tw.deliver_webhook(edge.url + INBOUND_PATH, tw.make_inbound(HER, "/start"))
        await edge.drain()
        sent = len(tw.messages)
        await tw.deliver_webhook(edge.url + INBOUND_PATH, tw.make_inbound(HER, "STOP"))
        await edge.drain()
        assert (await edge.participant("whatsapp", "+48600100200")).status == "stopped"
        assert len(tw.messages) == sent


async def test_status_callbacks_move_a_row_to_delivered_and_read_but_never_back(database_url):
    async with FakeTwilioAPI() as tw, running_edge(database_url, twilio=tw) as edge:
        await tw.deliver_webhook(edge.url + INBOUND_PATH, tw.make_inbound(HER, "/start"))
        await edge.drain()
        async with edge.service.session_factory() as session:
            row = (await session.execute(select(OutboxMessage).limit(1))).scalar_one()
        sid = row.channel_message_id
        assert sid and sid.startswith("SM")
        for status in ("delivered", "read", "delivered"):
            answer = await tw.deliver_webhook(
                edge.url + STATUS_PATH, {"MessageSid": sid, "MessageStatus": status}
            )
            assert answer == 204
        async with edge.service.session_factory() as session:
            assert (await session.get(OutboxMessage, row.id)).status == OutboxStatus.READ


async def test_a_failed_status_for_an_opted_out_number_stops_her(database_url):
    async with FakeTwilioAPI() as tw, running_edge(database_url, twilio=tw) as edge:
        await tw.deliver_webhook(edge.url + INBOUND_PATH, tw.make_inbound(HER, "/start"))
        await edge.drain()
        async with edge.service.session_factory() as session:
            row = (await session.execute(select(OutboxMessage).limit(1))).scalar_one()
        form = {
            "MessageSid": row.channel_message_id,
            "MessageStatus": "failed",
            "ErrorCode": "63014",
            "To": HER,
        }
        await tw.deliver_webhook(edge.url + STATUS_PATH, form)
        person = await edge.participant("whatsapp", "+48600100200")
        assert person.status == ParticipantStatus.STOPPED
        async with edge.service.session_factory() as session:
            stored = await session.get(OutboxMessage, row.id)
        assert stored.status == OutboxStatus.FAILED and "63014" in stored.error


async def test_with_a_quick_reply_template_choices_go_as_buttons_and_come_back_as_payloads(
    database_url,
):
    async with (
        FakeTwilioAPI() as tw,
        running_edge(database_url, twilio=tw, twilio_quick_reply_sids={"2": "HXtwo"}) as edge,
    ):
        await tw.deliver_webhook(edge.url + INBOUND_PATH, tw.make_inbound(HER, "/start"))
        await edge.drain()
        async with edge.service.session_factory() as session, session.begin():
            from flows.context import outbox_row
            from flows.events import Button, OutboundMessage

            person = await edge.service.router.find_participant(session, "whatsapp", HER[9:])
            buttons = (Button("language.en", "lang:en"), Button("language.pl", "lang:pl"))
            message = OutboundMessage("welcome.menu", buttons=buttons)
            session.add(outbox_row(person, message, edge.service.clock.now()))
        tw.clear()
        await edge.drain()

        [sent] = tw.messages
        assert sent["ContentSid"] == "HXtwo"
        variables = json.loads(sent["ContentVariables"])
        assert variables["2"] == "English" and variables["3"] == "lang:en"
        assert variables["5"] == "lang:pl" and "\n1. " not in variables["1"]

        tapped = {**tw.make_inbound(HER, "Polski"), "ButtonPayload": "lang:pl"}
        assert await tw.deliver_webhook(edge.url + INBOUND_PATH, tapped) == 200
        await edge.drain()
        assert (await edge.participant("whatsapp", HER[9:])).language == "pl"
