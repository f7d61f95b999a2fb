"""Telegram: python-telegram-bot for sending and polling, our web edge for webhooks."""

from handlers.telegram.channel import TelegramChannel

__all__ = ["TelegramChannel"]
