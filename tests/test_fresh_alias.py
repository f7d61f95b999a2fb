"""A fresh alias for her in every conversation, so no supporter recognises her from before."""

from tests.support import World, running_service


async def test_each_new_conversation_gives_her_a_new_name(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        helper = await world.supporter("s1", alias="Sup s1", capacity=3)
        her = await world.seeker("h1", alias="Her h1")
        await world.ask_for_help(her)
        await helper.tap(helper.choices("offer:accept")[0])
        await her.text("first time")
        assert helper.texts[-1] == "Her h1: first time"  # the name she was given on arrival
        await her.command("end")

        await world.ask_for_help(her)
        await helper.tap(helper.choices("offer:accept")[0])
        await her.text("second time")
        second = (await her.participant()).alias
        assert second != "Her h1"
        assert helper.texts[-1] == f"{second}: second time"
        assert not any("Her h1" in t for t in helper.texts[-4:])
