"""The ticket card: the event, its local time and place, the holder's name and the ticket's QR in one
PNG, to show at the door or keep in a phone's photos. The QR is the same as the bare one (its text is
exactly the ticket code), drawn large with its quiet zone, so any scanner reads it off the card.
"""

from __future__ import annotations

import asyncio
import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from PIL import Image, ImageDraw

from events.errors import NotFound
from events.i18n import Locale, format_when, gettext
from events.models import Registration, RegistrationStatus
from events.services import fonts
from events.services.tickets import TicketSigner, qr_modules, ticket_code

WIDTH = 720
MARGIN = 48
QR_SIZE = 560
BRAND = (176, 30, 35)
INK = (31, 35, 40)
MUTED = (91, 100, 112)
HEADER = {"zh": "武创荟 · 电子门票", "en": "Wuchuang · Ticket"}
NO_LINE_START = frozenset("，。、：；！？）》」』】,.:;!?)")
SHOW_AT_DOOR = "Show this QR code at the door."


@dataclass(frozen=True, slots=True)
class CardFacts:
    code: str
    title: str
    starts_at: datetime
    ends_at: datetime
    venue: str
    name: str
    registration_id: int


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: fonts.Font, width: int) -> list[str]:
    lines, line = [], ""
    for char in text:
        # A closing mark never starts a line (it stays with the character before it).
        if line and char not in NO_LINE_START and draw.textlength(line + char, font=font) > width:
            lines.append(line)
            line = char.lstrip()
        else:
            line += char
    return [*lines, line] if line else lines


def card_png(facts: CardFacts, *, locale: Locale = "zh") -> bytes:
    """The card as PNG; times on the display zone's clock. Without a CJK font its own words are English."""
    if fonts.cjk_font() is None:
        locale = "en"
    modules = qr_modules(facts.code)
    scale = QR_SIZE // modules.width  # whole pixels per module: every module drawn the same size
    qr = Image.new("RGB", (QR_SIZE, QR_SIZE), "white")
    side = modules.width * scale
    offset = (QR_SIZE - side) // 2
    qr.paste(modules.convert("RGB").resize((side, side), Image.Resampling.NEAREST), (offset, offset))
    scratch = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    title_font, info_font, name_font, small = fonts.font(40), fonts.font(28), fonts.font(34), fonts.font(22)
    text_width = WIDTH - 2 * MARGIN
    blocks: list[tuple[list[str], fonts.Font, tuple[int, int, int], int]] = []

    def block(text: str, font: fonts.Font, fill: tuple[int, int, int], limit: int, gap: int) -> None:
        shown = fonts.drawable(text)
        if shown:
            blocks.append((_wrap(scratch, shown, font, text_width)[:limit], font, fill, gap))

    block(facts.title, title_font, INK, 3, 10)
    block(format_when(facts.starts_at, facts.ends_at, locale), info_font, MUTED, 2, 6)
    block(facts.venue, info_font, MUTED, 2, 6)
    block(facts.name, name_font, INK, 1, 10)

    def height_of(font: fonts.Font) -> int:
        box = font.getbbox("国Ag")
        return int(box[3] - box[1]) + 12

    body = sum(len(lines) * height_of(font) + gap for lines, font, _, gap in blocks)
    height = 110 + 36 + body + 24 + QR_SIZE + 90
    image = Image.new("RGB", (WIDTH, height), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, 110), fill=BRAND)
    header = fonts.drawable(HEADER[locale]) or HEADER["en"]
    draw.text((MARGIN, 55), header, font=fonts.font(36), fill="white", anchor="lm")
    y = 110 + 36
    for lines, font, fill, gap in blocks:
        for line in lines:
            draw.text((MARGIN, y), line, font=font, fill=fill)
            y += height_of(font)
        y += gap
    y += 24
    image.paste(qr, ((WIDTH - QR_SIZE) // 2, y))
    y += QR_SIZE + 20
    footer = fonts.drawable(gettext(locale, SHOW_AT_DOOR)) or SHOW_AT_DOOR
    footer = f"{footer}  No. {facts.registration_id}"
    width = draw.textlength(footer, font=small)
    draw.text(((WIDTH - width) / 2, y), footer, font=small, fill=MUTED)
    out = io.BytesIO()
    # Every confirmation carries a card: zlib level 3 is ~10 ms where optimize=True was ~100 ms, for a
    # file a third larger (~31 KB).
    image.save(out, format="PNG", compress_level=3)
    return out.getvalue()


async def card_facts(code: str, signer: TicketSigner) -> CardFacts:
    """What the card of a current ticket shows. Raises ``not_found`` for a code not signed here, one
    re-issued since (its card would show a name on a dead ticket), or a registration without a seat."""
    claims = signer.verify(code)
    if claims is None:
        raise NotFound()
    registration = await Registration.get_or_none(id=claims.registration_id).select_related("event")
    if (
        registration is None
        or registration.event_id != claims.event_id
        or registration.status != RegistrationStatus.CONFIRMED
        or registration.ticket_version != claims.version
    ):
        raise NotFound()
    event = registration.event
    return CardFacts(
        code=code,
        title=event.title,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        venue=event.venue + (f"（{event.address}）" if event.address else ""),
        name=registration.name,
        registration_id=registration.id,
    )


# Cards are drawn one at a time, off the event loop: drawing holds the GIL, so parallel threads add
# no speed on two cores, only memory (six at once kept ~30 MB more in the sender's process).
_DRAWER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ticket-card")


async def draw_card(facts: CardFacts, *, locale: Locale = "zh") -> bytes:
    """``card_png`` in the one drawing thread."""
    return await asyncio.get_running_loop().run_in_executor(_DRAWER, partial(card_png, facts, locale=locale))


async def card_of_registration(registration: Registration, signer: TicketSigner, *, locale: Locale) -> bytes | None:
    """The card of a registration's current ticket; None when it holds none."""
    code = ticket_code(registration, signer)
    if code is None:
        return None
    return await draw_card(await card_facts(code, signer), locale=locale)
