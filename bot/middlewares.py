"""Loads (or creates) the person behind each update and the texts in their language."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User

from bot.i18n import translator
from events.i18n import normalize_locale
from events.services.people import person_for_telegram


class PersonMiddleware(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None or user.is_bot:
            return await handler(event, data)
        name = " ".join(part for part in (user.first_name, user.last_name) if part)
        person = await person_for_telegram(telegram_id=user.id, name=name, language_code=user.language_code)
        locale = normalize_locale(person.language) or "zh"
        data["person"] = person
        data["locale"] = locale
        data["t"] = translator(locale)
        return await handler(event, data)
