"""Choosing the locale ourselves and rendering texts with an explicit one.

aiogram's SimpleI18nMiddleware maps odd Telegram codes (zh-hans, zh-hant) to the wrong catalogue
(aiogram #1896); here the person's stored language wins, and any zh* is Chinese.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from events.i18n import Locale, format_when, gettext

Translate = Callable[..., str]


def translator(locale: Locale) -> Translate:
    def t(message: str, **params: Any) -> str:
        return gettext(locale, message, **params)

    return t


def when(starts: datetime, ends: datetime, locale: Locale) -> str:
    """On the display zone's clock (WUCHUANG_TIMEZONE)."""
    return format_when(starts, ends, locale)
