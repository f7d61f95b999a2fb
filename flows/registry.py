"""Which flows exist, which one a new participant starts in, and what reaches a flow from anywhere.

Each feature adds its lines here: a flow, the commands it answers in any state, the prefixes of
button choices it owns (buttons on older messages still work), and guards that see every event
first (bans, flood control, danger screening).
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from flows.context import Flow, FlowContext
from flows.conversation.care import CareFlow
from flows.conversation.feedback import FeedbackFlow
from flows.conversation.intake import IntakeFlow
from flows.conversation.matching import MatchingFlow
from flows.conversation.relay import RelayFlow
from flows.events import InboundEvent
from flows.outreach.campaigns import NewsFlow
from flows.outreach.chat import CampaignChatFlow
from flows.safety.erasure import ErasureFlow
from flows.safety.guard import GUARDS as SAFETY_GUARDS
from flows.safety.lifting import LiftingFlow
from flows.safety.moderation import ModerationFlow
from flows.safety.quick_exit import QuickExitFlow, back_after_exit, typed_answer
from flows.safety.referral import ReferralFlow
from flows.safety.typed_help import typed_help
from flows.statistics.command import StatisticsFlow
from flows.supporters.coordination import CoordinationFlow
from flows.supporters.onboarding import OnboardingFlow
from flows.supporters.profile_edit import ProfileEditFlow
from flows.supporters.supervision import SupervisionFlow
from flows.supporters.talk import TalkFlow
from flows.supporters.wellbeing import WellbeingFlow

# A guard returns True when it has dealt with the event and no flow should see it.
Guard = Callable[[FlowContext, InboundEvent], Awaitable[bool]]


@dataclass
class Routes:
    flows: dict[str, Flow]
    first_flow: str
    commands: dict[str, str] = field(default_factory=dict)
    choice_prefixes: dict[str, str] = field(default_factory=dict)
    guards: list[Guard] = field(default_factory=list)

    def flow_for(self, event: InboundEvent, current: str) -> Flow:
        here = self.flows.get(current)
        if event.command and event.command in getattr(here, "own_commands", ()):
            return here  # type: ignore[return-value]  # e.g. /end inside a coordinator talk
        if event.command and event.command in self.commands:
            return self.flows[self.commands[event.command]]
        if event.choice:
            prefix = event.choice.split(":", 1)[0]
            if prefix in self.choice_prefixes:
                return self.flows[self.choice_prefixes[prefix]]
        return self.flows.get(current) or self.flows[self.first_flow]


def build_routes() -> Routes:
    intake = IntakeFlow()
    flows: list[Flow] = [
        intake,
        OnboardingFlow(),
        CoordinationFlow(),
        ReferralFlow(),
        ModerationFlow(),
        QuickExitFlow(),
        ErasureFlow(),
        MatchingFlow(),
        RelayFlow(),
        FeedbackFlow(),
        NewsFlow(),
        CareFlow(),
        StatisticsFlow(),
        CampaignChatFlow(),
        WellbeingFlow(),
        LiftingFlow(),
        SupervisionFlow(),
        ProfileEditFlow(),
        TalkFlow(),
    ]
    return Routes(
        flows={flow.name: flow for flow in flows},
        first_flow=intake.name,
        commands={
            "start": "intake",
            "menu": "intake",
            "language": "intake",
            "help": "intake",
            "available": "onboarding",
            "away": "onboarding",
            "invite": "coordination",
            "approve": "coordination",
            "pending": "coordination",
            "report": "moderation",
            "block": "moderation",
            "reports": "moderation",
            "ban": "moderation",
            "suspend": "moderation",
            "exit": "quick_exit",
            "forget": "erasure",
            "sos": "referral",
            "end": "relay",
            "switch": "relay",
            "handover": "relay",
            "news": "news",
            "hours": "care",
            "stats": "statistics",
            "pause": "wellbeing",
            "profile": "profile_edit",
            "unban": "lifting",
            "warn": "lifting",
            "unsuspend": "lifting",
            "live": "supervision",
            "queue": "supervision",
            "load": "supervision",
            "join": "supervision",
            "leave": "supervision",
            "takeover": "supervision",
            "coordinator": "talk",
            "where": "care",
            "campaign": "campaign_chat",
        },
        choice_prefixes={
            "lang": "intake",
            "menu": "intake",
            "intake": "intake",
            "onboard": "onboarding",
            "coord": "coordination",
            "referral": "referral",
            "report": "moderation",
            "mod": "moderation",
            "exit": "quick_exit",
            "forget": "erasure",
            "offer": "matching",
            "relay": "relay",
            "switch": "relay",
            "idle": "relay",
            "feedback": "feedback",
            "news": "news",
            "care": "care",
            "wellbeing": "wellbeing",
            "profile": "profile_edit",
            "talk": "talk",
        },
        # Back after a quick exit (the hold ends, kept words offered), then ban, flood, danger,
        # then a plea for help she typed.
        guards=[back_after_exit, typed_answer, *SAFETY_GUARDS, typed_help],
    )
