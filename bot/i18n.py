"""Choosing the locale ourselves and rendering texts with an explicit one.

aiogram's SimpleI18nMiddleware maps odd Telegram codes (zh-hans, zh-hant) to the wrong catalogue
(aiogram #1896); here the person's stored language wins, and any zh* is Chinese.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from datetime import datetime
from typing import Any

from babel.dates import format_datetime, format_time

from events.i18n import Locale, gettext

Translate = Callable[..., str]
TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
_BABEL = {"zh": "zh_CN", "en": "en_GB"}


def translator(locale: Locale) -> Translate:
    def t(message: str, **params: Any) -> str:
        return gettext(locale, message, **params)

    return t


def when(starts: datetime, ends: datetime, locale: Locale) -> str:
    """'2026年12月2日 周三 09:30–12:00' / 'Wed 2 Dec 2026, 09:30–12:00' in Wuhan time; multi-day spans both dates."""
    start, end = starts.astimezone(TZ), ends.astimezone(TZ)
    pattern = "yyyy年M月d日 EEE HH:mm" if locale == "zh" else "EEE d MMM yyyy, HH:mm"
    first = format_datetime(start, pattern, locale=_BABEL[locale])
    if start.date() == end.date():
        return f"{first}–{format_time(end, 'HH:mm', locale=_BABEL[locale])}"
    return f"{first} – {format_datetime(end, pattern, locale=_BABEL[locale])}"
