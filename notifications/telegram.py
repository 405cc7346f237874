"""Sending outbox messages through Telegram (aiogram); imported only when a bot token is set."""

from __future__ import annotations

import aiohttp
from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from events import metrics
from notifications.channels import (
    Buttons,
    MessageInfo,
    Pace,
    SendResult,
    _describe,
    fits_caption,
)


def keyboard(buttons: Buttons | None) -> InlineKeyboardMarkup | None:
    """The inline keyboard for stored buttons; ValueError if they are malformed."""
    if not buttons:
        return None
    try:
        rows = [[InlineKeyboardButton(**dict(button)) for button in row] for row in buttons]
    except (TypeError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
        raise ValueError(f"malformed buttons: {exc}".splitlines()[0]) from exc
    return InlineKeyboardMarkup(inline_keyboard=rows)


class TelegramChannel:
    """Sends through an aiogram ``Bot`` with parse_mode HTML; a photo goes by sendPhoto with the text
    as its caption when it fits (1,024 characters), else the photo first and the text after it."""

    requires_chat_id = True

    def __init__(self, bot: Bot, *, photo_filename: str = "ticket.png") -> None:
        self.bot = bot
        self.photo_filename = photo_filename

    async def send(
        self,
        *,
        chat_id: int,
        text: str,
        buttons: Buttons | None,
        photo: bytes | None,
        info: MessageInfo | None = None,
        pace: Pace | None = None,
    ) -> SendResult:
        try:
            markup = keyboard(buttons)
        except ValueError as exc:
            return SendResult.refused(str(exc))
        try:
            if photo is None:
                message = await self.bot.send_message(
                    chat_id=chat_id, text=text, parse_mode=ParseMode.HTML, reply_markup=markup
                )
            elif fits_caption(text):
                message = await self.bot.send_photo(
                    chat_id=chat_id,
                    photo=BufferedInputFile(photo, filename=self.photo_filename),
                    caption=text or None,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                )
            else:
                await self.bot.send_photo(chat_id=chat_id, photo=BufferedInputFile(photo, filename=self.photo_filename))
                if pace is not None:
                    await pace()
                message = await self.bot.send_message(
                    chat_id=chat_id, text=text, parse_mode=ParseMode.HTML, reply_markup=markup
                )
        except TelegramRetryAfter as exc:
            metrics.TELEGRAM_FLOOD.inc()
            return SendResult.flood(exc.retry_after, _describe(exc))
        except TelegramForbiddenError as exc:
            return SendResult.unreachable(exc.message)
        except (TelegramBadRequest, TelegramNotFound, TelegramMigrateToChat, TelegramEntityTooLarge) as exc:
            return SendResult.refused(_describe(exc))
        except (TelegramUnauthorizedError, TelegramConflictError) as exc:
            # The token, not the message: retrying (with backoff) is all a row can do about it.
            return SendResult.failed(_describe(exc))
        except (TelegramServerError, TelegramNetworkError, ClientDecodeError, aiohttp.ClientError, OSError) as exc:
            return SendResult.failed(_describe(exc))
        except TimeoutError as exc:
            return SendResult.failed(f"TimeoutError: {exc or 'request timed out'}")
        except TelegramAPIError as exc:  # a status aiogram has no class for
            return SendResult.failed(_describe(exc))
        return SendResult.sent(message.message_id)
