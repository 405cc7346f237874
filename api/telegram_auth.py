"""Telegram Mini App callers: initData checked by its signature and by its age.

aiogram's ``safe_parse_webapp_init_data`` checks the HMAC but not ``auth_date``; an initData string
captured once would otherwise work forever.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from events import clock
from events.errors import N_, Unauthorized
from events.settings import Settings

MAX_AGE = timedelta(hours=12)


class InvalidInitData(Unauthorized):
    code = "invalid_init_data"
    message = N_("The Telegram sign-in is not valid or has expired; reopen the app from the bot.")


@dataclass(frozen=True, slots=True)
class TelegramUser:
    id: int
    name: str
    language_code: str | None


def verify_init_data(settings: Settings, init_data: str) -> TelegramUser:
    """Raises ``invalid_init_data`` for a forged, malformed or stale initData, or when the bot is off."""
    if settings.bot_token is None or not init_data or len(init_data) > 8192:
        raise InvalidInitData()
    # Imported here: aiogram costs ~160 MB, and only Mini App calls need it.
    from aiogram.utils.web_app import safe_parse_webapp_init_data

    try:
        parsed = safe_parse_webapp_init_data(settings.bot_token.get_secret_value(), init_data)
    except (ValueError, KeyError, TypeError):
        raise InvalidInitData() from None
    age = clock.now() - parsed.auth_date
    if parsed.user is None or age > MAX_AGE or age < -timedelta(minutes=5):
        raise InvalidInitData()
    name = " ".join(p for p in (parsed.user.first_name, parsed.user.last_name) if p)
    return TelegramUser(parsed.user.id, name, parsed.user.language_code)
