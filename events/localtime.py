"""The one display time zone (``WUCHUANG_TIMEZONE``) and how a person reads a moment in it.

Moments are stored in UTC; whatever a person reads (API messages, the bot, mails, posters, pages,
exports) is local. ``init_db`` sets the configured zone, so every process that touches the data
shows the same clock; nothing else names a zone.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime

DEFAULT_TIMEZONE = "Asia/Shanghai"  # Settings.timezone's default

_zone = zoneinfo.ZoneInfo(DEFAULT_TIMEZONE)


def use(name: str) -> None:
    """Set the display zone (start-up). Settings validated the name already."""
    global _zone
    _zone = zoneinfo.ZoneInfo(name)


def zone() -> zoneinfo.ZoneInfo:
    return _zone


def local(moment: datetime) -> datetime:
    """The same moment on the local clock (aware, with the local offset)."""
    return moment.astimezone(_zone)


def stamp(moment: datetime | None, *, seconds: bool = False) -> str:
    """'2026-12-10 00:00' (local): how a person reads a moment in a message, an export or a page."""
    if moment is None:
        return ""
    return local(moment).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
