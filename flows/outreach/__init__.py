"""Outreach: information campaigns to everyone who agreed to news, and her /news on|off switch.

Uses the kernel (flows.conversation is allowed too); never safety or supporters.
"""
