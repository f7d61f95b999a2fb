"""Media between two women on Telegram, through the real Application and the fake Bot API: a
voice note or photo is one message with her alias as its caption, an edited caption edits that
caption, and a document arrives under a neutral file name."""

from tests.channel_support import running_edge
from tests.fakes.telegram_api import FakeBotAPI, make_message_update
from tests.test_stale_buttons import ready_pair


def photo_update(chat: int, user: dict, message_id: int, caption: str, *, edited: bool = False):
    update = make_message_update(chat, None, user=user, message_id=message_id)
    message = update.pop("message")
    message["photo"] = [{"file_id": "photo-1", "file_unique_id": "up1", "width": 9, "height": 9}]
    message["caption"] = caption
    return {"edited_message" if edited else "message": message}


async def test_a_photo_is_one_message_with_her_alias_and_its_edited_caption_is_edited(
    database_url,
):
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api) as edge:
        dalia, leyla = await ready_pair(api, edge)
        await dalia.press("offer:accept:")
        before = len(api.calls)
        await leyla._deliver(photo_update(leyla.chat, leyla.user, 501,
                                          "my room, call 600 123 456"))  # fmt: skip
        to_dalia = [c for c in api.calls[before:] if c.params.get("chat_id") == dalia.chat]
        assert [c.method for c in to_dalia] == ["copyMessage"]  # one message, not two
        caption = to_dalia[0].params["caption"]
        assert caption.endswith(": my room, call [•••]") and "600" not in caption
        copy_id = to_dalia[0].result["message_id"]

        await leyla._deliver(photo_update(leyla.chat, leyla.user, 501, "my new room",
                                          edited=True))  # fmt: skip
        [edit] = api.calls_to("editMessageCaption")
        assert edit.params["message_id"] == copy_id
        assert edit.params["caption"].endswith(": my new room")
        assert not any("(edited)" in t for t in dalia.texts())


async def test_a_document_arrives_under_a_neutral_name(database_url):
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api) as edge:
        dalia, leyla = await ready_pair(api, edge)
        await dalia.press("offer:accept:")
        api.add_file("doc-1", b"%PDF-1.4 residence card", "application/pdf")
        update = make_message_update(leyla.chat, None, user=leyla.user, message_id=601)
        update["message"]["document"] = {
            "file_id": "doc-1", "file_unique_id": "ud1", "file_name": "Leyla_Haddad_passport.pdf",
            "mime_type": "application/pdf",
        }  # fmt: skip
        await leyla._deliver(update)
        [sent] = [c for c in api.calls_to("sendDocument") if c.params["chat_id"] == dalia.chat]
        upload = sent.params["document"]
        assert upload.filename == "document.pdf" and upload.data.startswith(b"%PDF")
        assert "Leyla" not in str(sent.params)
        assert api.calls_to("copyMessage") == []
