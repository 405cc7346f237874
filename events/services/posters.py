"""Printable invitation posters: the event, and a QR of its web page, where anyone registers (the
page also offers the bot's deep link); the caption says both ways."""

from __future__ import annotations

import io
import zoneinfo
from functools import lru_cache

import qrcode
from PIL import Image, ImageDraw, ImageFont

from events import localtime
from events.models import Event
from events.services import fonts

WIDTH, HEIGHT = 1240, 1754  # A4 at 150 dpi
_FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)


def deep_link(bot_username: str, event: Event) -> str:
    return f"https://t.me/{bot_username}?start=ev_{event.public_id}"


@lru_cache(maxsize=1)
def _font_path() -> str | None:
    for path in _FONT_CANDIDATES:  # the bold face first: a poster is read from afar
        try:
            ImageFont.truetype(path, 20)
            return path
        except OSError:
            continue
    return fonts.cjk_font_path()


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = _font_path()
    return ImageFont.truetype(path, size) if path else ImageFont.load_default(size)


def _wrap(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int
) -> list[str]:
    lines, line = [], ""
    for char in text:
        if draw.textlength(line + char, font=font) > width:
            lines.append(line)
            line = char
        else:
            line += char
    return [*lines, line] if line else lines


def poster_when(event: Event, tz: zoneinfo.ZoneInfo | None = None) -> str:
    """The poster's time line, on the display zone's clock: '2026年12月10日 14:00–16:00'."""
    zone = tz or localtime.zone()
    start, end = event.starts_at.astimezone(zone), event.ends_at.astimezone(zone)
    if start.date() == end.date():
        return f"{start:%Y年%m月%d日 %H:%M}–{end:%H:%M}"
    return f"{start:%Y年%m月%d日 %H:%M} – {end:%m月%d日 %H:%M}"


def poster_caption(bot_username: str | None) -> list[str]:
    """The lines under the QR: register on the web by scanning, or in the bot when there is one."""
    if bot_username:
        return [
            f"扫码在网页报名，或在 Telegram 找 @{bot_username}",
            f"Scan to register on the web, or in Telegram: @{bot_username}",
        ]
    return ["扫码在网页报名", "Scan to register on the web"]


def poster_png(event: Event, link: str, *, timezone: str | None = None, bot_username: str | None = None) -> bytes:
    """An A4 poster (PNG, 150 dpi): title, time, place, and a large QR of ``link`` (the event's web page);
    times in the display zone."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, 220), fill=(176, 30, 35))
    draw.text((80, 70), "武创荟 · 科技创新供应链", font=_font(64), fill="white")
    y = 290
    title_font = _font(72)
    for line in _wrap(draw, event.title, title_font, WIDTH - 160)[:4]:
        draw.text((80, y), line, font=title_font, fill=(20, 20, 20))
        y += 96
    when = poster_when(event, zoneinfo.ZoneInfo(timezone) if timezone else localtime.zone())
    info_font = _font(44)
    for line in [
        when,
        *(_wrap(draw, event.venue + (f"（{event.address}）" if event.address else ""), info_font, WIDTH - 160)[:2]),
    ]:
        y += 20
        draw.text((80, y), line, font=info_font, fill=(60, 60, 60))
        y += 52
    qr = qrcode.make(link, box_size=20, border=2, error_correction=qrcode.constants.ERROR_CORRECT_M).get_image()
    qr = qr.convert("RGB").resize((760, 760), Image.Resampling.NEAREST)
    image.paste(qr, ((WIDTH - 760) // 2, max(y + 60, 820)))
    caption_font = _font(36)
    for row, caption in enumerate(poster_caption(bot_username)):
        width = draw.textlength(caption, font=caption_font)
        draw.text(((WIDTH - width) / 2, HEIGHT - 150 + row * 52), caption, font=caption_font, fill=(90, 90, 90))
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(150, 150))
    return out.getvalue()
