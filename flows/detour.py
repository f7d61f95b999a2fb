"""Stepping aside to a short sub-flow (help lines, a report, /forget) and coming back after.

The sub-flow keeps where she was under ``back`` in its own step data, so leaving it puts her
back at the same flow, step and answers, and the buttons she saw there still mean what they said.
"""

from typing import Any

from flows.context import FlowContext

MENU = "intake"  # where she lands when there is nowhere to come back to


def where_she_is(ctx: FlowContext) -> dict[str, Any]:
    """Her flow, step and step data, without the buttons of the last prompt."""
    data = {k: v for k, v in (ctx.state.data or {}).items() if k != "choices"}
    return {"flow": ctx.state.flow, "step": ctx.state.step, "data": data}


def step_aside(ctx: FlowContext, flow: str, step: str, **data: Any) -> None:
    """Move to `flow`/`step`, remembering where she was (kept as it is if she is already there)."""
    back = ctx.state.data.get("back") if ctx.state.flow == flow else where_she_is(ctx)
    ctx.go(flow, step, back=back, **data)


def go_back(ctx: FlowContext, flow: str) -> None:
    """Leave `flow` for where she was before it, or for the menu; elsewhere nothing moves."""
    if ctx.state.flow != flow:
        return
    back = ctx.state.data.get("back")
    if isinstance(back, dict) and back.get("flow") and back["flow"] != flow:
        ctx.go(back["flow"], back.get("step") or "", **(back.get("data") or {}))
    else:
        ctx.go(MENU, "")


async def come_back(ctx: FlowContext, flow: str) -> None:
    """`go_back`, then the flow she is back in repeats its prompt."""
    go_back(ctx, flow)
    target = ctx.flows.get(ctx.state.flow)
    if target is not None and hasattr(target, "resume"):
        await ctx.resume(ctx.state.flow)
