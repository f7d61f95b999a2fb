"""Intake's questions: its steps in order, the words and buttons of each, and the one way to move.

Intake (the flow) decides what an answer means; here is what each step asks and where it leads.
"""

import re
from enum import StrEnum
from typing import Any

from flows.context import FlowContext
from flows.events import Button
from i18n import LANGUAGE_NAMES, LANGUAGES, N_, language_named
from models import Role

INTAKE = "intake"
NOTE_MAX_CHARS = 300


class Step(StrEnum):
    CHOOSE_LANGUAGE = "choose_language"
    CONSENT_TERMS = "consent_terms"
    CONSENT_CAMPAIGNS = "consent_campaigns"
    SAFETY = "safety"
    TOPIC = "topic"
    NOTE = "note"
    MENU = "menu"


# The path toward a request, in order: where each answer leads (the one place transitions live).
NEXT: dict[Step, Step] = {
    Step.CHOOSE_LANGUAGE: Step.CONSENT_TERMS,
    Step.CONSENT_TERMS: Step.CONSENT_CAMPAIGNS,
    Step.CONSENT_CAMPAIGNS: Step.SAFETY,
    Step.SAFETY: Step.TOPIC,
    Step.TOPIC: Step.NOTE,
}

TOPICS = ("emotional", "violence", "documents", "housing", "work", "health", "children", "other")
SAFE_ANSWERS = ("yes", "no", "unsure")
HELP_TEXTS = {
    Role.SUPPORTER: N_("intake.help_supporter"),
    Role.COORDINATOR: N_("intake.help_coordinator"),
}
# A supporter's invite typed where deep links do not exist; spaces and dashes are forgiven.
# Only a code's shape counts, so "join the group" is still her own words.
INVITE_TEXT = re.compile(r"^\s*(?:/start|join)\s+((?:[A-Za-z0-9][\s_-]?){12})\s*$", re.I)


# --- Buttons -------------------------------------------------------------------------------------


def language_buttons(hint: str | None = None) -> list[Button]:
    """Every language named in itself, always in the same order (a typed "1" stays English);
    the one her app uses is marked where it stands."""
    return [
        Button("intake.language_suggested", f"lang:{code}", {"name": LANGUAGE_NAMES[code]})
        if code == hint
        else Button(f"language.{code}", f"lang:{code}")
        for code in LANGUAGES
    ]


def menu_buttons(role: str = Role.SEEKER) -> list[Button]:
    if role == Role.SEEKER:
        first = [Button("menu.talk", "menu:talk")]
    else:
        first = [Button("menu.available", "menu:available"), Button("menu.away", "menu:away")]
        if role == Role.COORDINATOR:
            first.append(Button("menu.pending", "coord:pending"))
    return [
        *first,
        Button("menu.help_now", "menu:help_now"),
        Button("menu.about", "menu:about"),
        Button("menu.language", "menu:language"),
        Button("exit.btn", "exit:now"),
    ]


def prompt(ctx: FlowContext, step: Step) -> None:
    """Ask the question of `step` (the only place each step's words and buttons are chosen)."""
    match step:
        case Step.CHOOSE_LANGUAGE:
            # Her app's language (or the one she uses) was put on her as a preselection.
            ctx.reply("intake.choose_language", buttons=language_buttons(ctx.participant.language))
        case Step.CONSENT_TERMS:
            ctx.reply("intake.ask_terms", buttons=[
                Button("intake.terms_yes", "intake:terms:yes"),
                Button("intake.terms_no", "intake:terms:no"),
            ])  # fmt: skip
        case Step.CONSENT_CAMPAIGNS:
            ctx.reply("intake.ask_campaigns", buttons=[
                Button("intake.campaigns_yes", "intake:campaigns:yes"),
                Button("intake.campaigns_no", "intake:campaigns:no"),
            ])  # fmt: skip
        case Step.SAFETY:
            ctx.reply("intake.ask_safe", buttons=[
                Button("intake.safe_yes", "intake:safe:yes"),
                Button("intake.safe_no", "intake:safe:no"),
                Button("intake.safe_unsure", "intake:safe:unsure"),
            ])  # fmt: skip
        case Step.TOPIC:
            buttons = [Button(f"topic.{t}", f"intake:topic:{t}") for t in TOPICS]
            buttons.append(Button("intake.not_now", "intake:menu"))
            ctx.reply("intake.ask_topic", buttons=buttons)
        case Step.NOTE:
            ctx.reply("intake.ask_note", buttons=[Button("intake.skip", "intake:note:skip")])
        case Step.MENU:
            ctx.reply("intake.menu", buttons=menu_buttons(ctx.participant.role))


def step_of(ctx: FlowContext) -> Step | None:
    """Her intake step, or None when she is elsewhere (or on a step that no longer exists)."""
    if ctx.state.flow != INTAKE or ctx.state.step not in Step.__members__.values():
        return None
    return Step(ctx.state.step)


def go_to(ctx: FlowContext, step: Step, **data: Any) -> None:
    """Move within intake, carrying what the path has gathered (topic, urgency)."""
    carried = {k: ctx.state.data[k] for k in ("topic", "urgent") if k in ctx.state.data}
    ctx.go(INTAKE, step, **{**carried, **data})


def typed_language(text: str) -> str | None:
    return language_named(text)  # "فارسی", "دری" and "فارسی / دری" all mean Persian
