"""Gettext catalogues (Babel) shared by every transport. English msgids; Simplified Chinese first.

Locale codes are chosen here, not by a library: anything starting with ``zh`` (zh, zh-CN, zh-Hans,
zh-hant, …) is Chinese, anything starting with ``en`` is English, the rest falls back to Chinese.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from babel.dates import format_datetime, format_time
from babel.support import NullTranslations, Translations

from events import localtime

Locale = Literal["zh", "en"]
DEFAULT_LOCALE: Locale = "zh"
LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "wuchuang"
_CATALOGUE = {"zh": "zh_CN", "en": "en"}


def normalize_locale(code: str | None) -> Locale | None:
    if not code:
        return None
    code = code.strip().lower().replace("_", "-")
    if code.startswith("zh"):
        return "zh"
    if code.startswith("en"):
        return "en"
    return None


def locale_of(language: str | None, *, accept_language: str | None = None) -> Locale:
    """The one locale fallback: a stored or asked-for language wins, then Accept-Language, then Chinese."""
    return normalize_locale(language) or negotiate(accept_language)


def negotiate(accept_language: str | None) -> Locale:
    """The best supported locale for an Accept-Language header (q-values honoured)."""
    if not accept_language:
        return DEFAULT_LOCALE
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, index, tag))
    for neg_quality, _, tag in sorted(ranked):
        locale = normalize_locale(tag)
        if locale is not None and neg_quality < 0:
            return locale
    return DEFAULT_LOCALE


@lru_cache(maxsize=4)
def translations(locale: Locale) -> NullTranslations:
    loaded = Translations.load(str(LOCALES_DIR), [_CATALOGUE[locale]], domain=DOMAIN)
    return loaded


def gettext(locale: Locale, message: str, **params: Any) -> str:
    text = translations(locale).gettext(message)
    if params:
        try:
            return text % params
        except (KeyError, TypeError, ValueError):
            return text
    return text


_BABEL = {"zh": "zh_CN", "en": "en_GB"}


def format_when(starts: datetime, ends: datetime, locale: Locale, tz: zoneinfo.ZoneInfo | None = None) -> str:
    """'2026年12月2日 周三 09:30–12:00' / 'Wed 2 Dec 2026, 09:30–12:00' in local time; multi-day spans both dates."""
    zone = tz or localtime.zone()
    start, end = starts.astimezone(zone), ends.astimezone(zone)
    pattern = "yyyy年M月d日 EEE HH:mm" if locale == "zh" else "EEE d MMM yyyy, HH:mm"
    first = format_datetime(start, pattern, locale=_BABEL[locale])
    if start.date() == end.date():
        return f"{first}–{format_time(end, 'HH:mm', locale=_BABEL[locale])}"
    return f"{first} – {format_datetime(end, pattern, locale=_BABEL[locale])}"


def format_date(moment: datetime, locale: Locale, tz: zoneinfo.ZoneInfo | None = None) -> str:
    """'2027年6月1日' / '1 Jun 2027': the local calendar day of a moment."""
    pattern = "yyyy年M月d日" if locale == "zh" else "d MMM yyyy"
    return format_datetime(moment.astimezone(tz or localtime.zone()), pattern, locale=_BABEL[locale])
