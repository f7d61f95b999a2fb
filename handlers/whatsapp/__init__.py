"""WhatsApp through Twilio: signed webhooks in, twilio's async client out, the 24-hour window."""

from handlers.whatsapp.channel import WhatsAppChannel

__all__ = ["WhatsAppChannel"]
