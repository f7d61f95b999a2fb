"""Which flows exist, and which one a new participant starts in."""

from flows.context import Flow
from flows.welcome import WelcomeFlow


def all_flows() -> dict[str, Flow]:
    flows: list[Flow] = [WelcomeFlow()]
    return {flow.name: flow for flow in flows}


FIRST_FLOW = WelcomeFlow.name
