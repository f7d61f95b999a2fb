"""A first conversation: choose a language, then a small menu.

```mermaid
stateDiagram-v2
    [*] --> choose_language: any message
    choose_language --> menu: language chosen
    choose_language --> choose_language: anything else (asked again)
    menu --> menu: about / help now / anything
    menu --> choose_language: change language or /language
```
"""

from enum import StrEnum

from flows.context import FlowContext
from flows.events import Button, EventKind, InboundEvent
from i18n import LANGUAGES


class Step(StrEnum):
    CHOOSE_LANGUAGE = "choose_language"
    MENU = "menu"


NAME = "welcome"


def language_buttons() -> list[Button]:
    return [Button(f"language.{code}", f"lang:{code}") for code in LANGUAGES]


def menu_buttons() -> list[Button]:
    return [
        Button("menu.help_now", "menu:help_now"),
        Button("menu.about", "menu:about"),
        Button("menu.language", "menu:language"),
    ]


class WelcomeFlow:
    name = NAME

    async def handle(self, ctx: FlowContext, event: InboundEvent) -> None:
        if event.kind == EventKind.COMMAND and event.command in ("start", "language"):
            return self._ask_language(ctx)
        if event.kind == EventKind.COMMAND and event.command in ("menu", "help"):
            return self._show_menu(ctx)
        if ctx.state.step == Step.CHOOSE_LANGUAGE:
            if event.choice and event.choice.startswith("lang:"):
                code = event.choice.removeprefix("lang:")
                if code in LANGUAGES:
                    ctx.participant.language = code
                    ctx.reply("welcome.hello")
                    return self._show_menu(ctx)
            return self._ask_language(ctx)
        match event.choice:
            case "menu:help_now":
                ctx.reply("welcome.help_now")
            case "menu:about":
                ctx.reply("welcome.about")
            case "menu:language":
                return self._ask_language(ctx)
            case _:
                ctx.reply("welcome.not_understood")
        self._show_menu(ctx)

    def _ask_language(self, ctx: FlowContext) -> None:
        ctx.go(NAME, Step.CHOOSE_LANGUAGE)
        ctx.reply("welcome.choose_language", buttons=language_buttons())

    def _show_menu(self, ctx: FlowContext) -> None:
        ctx.go(NAME, Step.MENU)
        ctx.reply("welcome.menu", buttons=menu_buttons())
