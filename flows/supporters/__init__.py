"""Supporters: invites, her profile, approval, duty switch, coordinator commands.

Uses the kernel and flows.conversation (topics, open conversations, offers); not safety, outreach.
"""
