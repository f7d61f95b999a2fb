"""Attach the channels the settings ask for (Telegram, WhatsApp) to a service."""

from bot.app import Peerline
from handlers.telegram import TelegramChannel
from handlers.whatsapp import WhatsAppChannel


def attach_channels(service: Peerline) -> None:
    """The console is always there outside production; the others need their tokens."""
    settings = service.settings
    if settings.telegram_enabled:
        service.add_channel(TelegramChannel.from_settings(service))
    if settings.whatsapp_enabled:
        service.add_channel(WhatsAppChannel.from_settings(service))
