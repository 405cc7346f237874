"""Door staff in the bot: pick the event, then scan in the Mini App or send a photo of a ticket."""

from __future__ import annotations

import io
from html import escape

import zxingcpp
from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, WebAppInfo
from aiogram.utils.keyboard import InlineKeyboardBuilder
from PIL import Image, UnidentifiedImageError

from bot.callbacks import AbortFlow, ScanEvent
from bot.i18n import Translate
from events.errors import N_
from events.models import Person
from events.services import checkin, staff
from events.services.tickets import TicketSigner
from events.settings import Settings

MAX_PHOTO_BYTES = 10 * 1024 * 1024
ICONS = {"ok": "🟢", "already_checked_in": "🟡", "not_open_yet": "🟡", "closed": "🟡"}


async def scan_command(message: Message, person: Person, t: Translate) -> None:
    if not await staff.is_door_staff(person):
        await message.answer(t(N_("Scanning is for door staff. Ask the organizer to add you.")))
        return
    allowed = await staff.scannable_events_of(person)
    if not allowed:
        await message.answer(t(N_("None of your events has its door open soon.")))
        return
    kb = InlineKeyboardBuilder()
    for event in allowed[:20]:
        kb.button(text=event.title[:50], callback_data=ScanEvent(event_id=event.id))
    kb.button(text="✖️ " + t(N_("Cancel")), callback_data=AbortFlow())
    kb.adjust(1)
    await message.answer(t(N_("Which event are you checking people in to?")), reply_markup=kb.as_markup())


async def choose_event(
    query: CallbackQuery,
    message: Message,
    callback_data: ScanEvent,
    person: Person,
    t: Translate,
    state: FSMContext,
    settings: Settings,
) -> None:
    if not await staff.may_check_in(person, callback_data.event_id):
        await message.answer(t(N_("This token may not act on this event.")))
        return
    await state.update_data(scan_event_id=callback_data.event_id)
    kb = InlineKeyboardBuilder()
    # Telegram opens Mini Apps only from https URLs.
    if settings.base_url.startswith("https://"):
        kb.button(
            text="📷 " + t(N_("Open the scanner")),
            web_app=WebAppInfo(url=f"{settings.base_url}/scan/telegram?event={callback_data.event_id}"),
        )
    kb.button(text="✖️ " + t(N_("Stop scanning")), callback_data=AbortFlow())
    kb.adjust(1)
    await message.answer(
        t(N_("Ready. Scan with the scanner, or send me a photo of a ticket's QR code.")), reply_markup=kb.as_markup()
    )


async def ticket_photo(
    message: Message, bot: Bot, person: Person, t: Translate, state: FSMContext, signer: TicketSigner
) -> None:
    event_id = (await state.get_data()).get("scan_event_id")
    if event_id is None or not await staff.may_check_in(person, event_id):
        await message.answer(t(N_("To check someone in, send /scan first and pick the event.")))
        return
    assert message.photo
    photo = message.photo[-1]
    if photo.file_size and photo.file_size > MAX_PHOTO_BYTES:
        await message.answer(t(N_("That photo is too large.")))
        return
    buffer = io.BytesIO()
    await bot.download(photo, destination=buffer)
    try:
        found = zxingcpp.read_barcodes(Image.open(io.BytesIO(buffer.getvalue())))
    except (UnidentifiedImageError, OSError):
        found = []
    codes = [b.text for b in found if b.text]
    if not codes:
        await message.answer(t(N_("I found no QR code in this photo. Try again closer, in good light.")))
        return
    outcome = await checkin.redeem(
        checkin.Scan(
            code=codes[0],
            event_id=event_id,
            scan_id=f"tg-photo-{message.chat.id}-{message.message_id}",
            gate="telegram",
            device=f"telegram:{person.telegram_id}",
        ),
        signer=signer,
        actor=f"telegram:{person.telegram_id}",
    )
    name = escape(outcome.registration.name) + " · " if outcome.registration else ""
    reason = t(outcome.reason, **{key: escape(str(value)) for key, value in outcome.params.items()})
    await message.answer(f"{ICONS.get(str(outcome.result), '🔴')} {name}{reason}")


def make_router() -> Router:
    router = Router(name="scan")
    router.message.register(scan_command, Command("scan"))
    router.callback_query.register(choose_event, ScanEvent.filter())
    router.message.register(ticket_photo, F.photo)
    return router
