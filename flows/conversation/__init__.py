"""Conversation: intake, matching, relay and feedback, from her first message to the last goodbye.

It may use only the flows kernel, models and i18n; never safety, supporters, outreach or above.
"""
