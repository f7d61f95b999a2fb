"""python-telegram-bot's exceptions, translated into what the outbox should do about them."""

import datetime as dtm
import warnings

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from handlers.base import (
    DeliveryError,
    PermanentFailure,
    RecipientUnreachable,
    RetryLater,
    TemporaryFailure,
)

# Answers to a delete or an edit that mean "nothing left to do", not a failure.
HARMLESS = (
    "message is not modified",
    "message to delete not found",
    "message can't be deleted",
    "message identifier is not specified",
)


def retry_after_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB warns while it moves this attribute to timedelta
        warnings.simplefilter("ignore")
        value = error.retry_after
    if isinstance(value, dtm.timedelta):
        return value.total_seconds()
    return float(value)


def classify(error: TelegramError) -> DeliveryError:
    detail = str(error.message)[:200]
    match error:
        case RetryAfter():
            return RetryLater(retry_after_seconds(error), detail)
        case Forbidden():  # blocked by her, account deleted, never started the bot
            return RecipientUnreachable(detail)
        case ChatMigrated():
            return PermanentFailure(detail)
        case BadRequest():  # "chat not found", a bad file id: retrying would not help
            return PermanentFailure(detail)
        case NetworkError():  # time-outs, 5xx, a dropped connection
            return TemporaryFailure(detail)
        case _:  # an invalid token or a conflict: our configuration, retried with back-off
            return TemporaryFailure(detail)


def harmless(error: TelegramError) -> bool:
    return isinstance(error, BadRequest) and any(h in error.message.lower() for h in HARMLESS)
