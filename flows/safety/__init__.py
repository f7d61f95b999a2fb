"""Safety: screening, help lines, referral, reports and bans, quick exit, erasure, retention.

Uses the kernel and flows.conversation (ending conversations); never supporters, outreach, bot.
"""
