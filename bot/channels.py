"""Attach the channels the settings ask for (Telegram, WhatsApp) to a service."""

from bot.app import Peerline


def attach_channels(service: Peerline) -> None:
    """The console is always there outside production; the others need their tokens."""
    settings = service.settings
    if settings.telegram_enabled:
        from handlers.telegram import TelegramChannel

        service.add_channel(TelegramChannel.from_settings(service))
    if settings.whatsapp_enabled:
        from handlers.whatsapp import WhatsAppChannel

        service.add_channel(WhatsAppChannel.from_settings(service))
