"""Registering by chat: only the details the event needs, the phone by Telegram's contact button."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message, ReplyKeyboardRemove
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import AbortFlow, ConfirmRegistration, StartRegistration
from bot.i18n import Translate, when
from bot.views import contact_keyboard, main_menu, map_link
from events.errors import N_, AlreadyRegistered, InvalidInput
from events.i18n import Locale
from events.models import Event, Person, Registration, RegistrationStatus
from events.services import catalog, people, tickets
from events.services import registration as registrations
from events.services.tickets import TicketSigner
from events.settings import Settings

router = Router(name="register")


class RegisterFlow(StatesGroup):
    name = State()
    organization = State()
    phone = State()
    confirm = State()


@router.callback_query(StartRegistration.filter())
async def begin(
    query: CallbackQuery, callback_data: StartRegistration, person: Person, t: Translate, state: FSMContext
) -> None:
    event = await catalog.get_event(callback_data.event_id)
    await query.answer()
    if not isinstance(query.message, Message):
        return
    await state.set_data({"event_id": event.id})
    if person.phone:  # details known from an earlier registration: straight to the summary
        await _ask_confirmation(query.message, event, person, t, state)
        return
    await state.set_state(RegisterFlow.name)
    await query.message.answer(t(N_("Registering for %(title)s.\nWhat is your full name?"), title=escape(event.title)))


@router.message(RegisterFlow.name, F.text)
async def got_name(message: Message, person: Person, t: Translate, state: FSMContext) -> None:
    name = (message.text or "").strip()
    if not 1 <= len(name) <= 100 or name.startswith("/"):
        await message.answer(t(N_("Please send your name (up to 100 characters).")))
        return
    await people.update_contact(person, name=name)
    await state.set_state(RegisterFlow.organization)
    await message.answer(t(N_("Which organization are you with? Send “-” if none.")))


@router.message(RegisterFlow.organization, F.text)
async def got_organization(message: Message, person: Person, t: Translate, state: FSMContext) -> None:
    organization = (message.text or "").strip()
    if len(organization) > 200 or organization.startswith("/"):
        await message.answer(t(N_("Please send the organization's name (up to 200 characters).")))
        return
    await people.update_contact(person, organization="" if organization in ("-", "—", "无") else organization)
    await state.set_state(RegisterFlow.phone)
    await message.answer(
        t(N_("Please share your phone number with the button below.")), reply_markup=contact_keyboard(t)
    )


@router.message(RegisterFlow.phone, F.contact)
async def got_contact(message: Message, person: Person, t: Translate, state: FSMContext) -> None:
    contact = message.contact
    assert contact is not None
    if message.from_user is None or contact.user_id != message.from_user.id:
        await message.answer(
            t(N_("Please share your own number with the button below.")), reply_markup=contact_keyboard(t)
        )
        return
    try:
        person = await people.update_contact(person, phone=contact.phone_number)
    except InvalidInput:
        await message.answer(t(N_("That number cannot be used; please try again.")), reply_markup=contact_keyboard(t))
        return
    event = await catalog.get_event((await state.get_data())["event_id"])
    await message.answer(t(N_("Thank you.")), reply_markup=ReplyKeyboardRemove())
    await _ask_confirmation(message, event, person, t, state)


@router.message(RegisterFlow.phone)
async def phone_typed(message: Message, t: Translate) -> None:
    await message.answer(
        t(N_("Please use the button to share your phone number; typed numbers are not accepted.")),
        reply_markup=contact_keyboard(t),
    )


@router.message(RegisterFlow.name)
@router.message(RegisterFlow.organization)
@router.message(RegisterFlow.confirm)
async def expected_text(message: Message, t: Translate) -> None:
    await message.answer(t(N_("Please answer with text, or tap a button above. /start to leave.")))


async def _ask_confirmation(message: Message, event: Event, person: Person, t: Translate, state: FSMContext) -> None:
    await state.set_state(RegisterFlow.confirm)
    kb = InlineKeyboardBuilder()
    kb.button(text="✅ " + t(N_("Confirm")), callback_data=ConfirmRegistration(event_id=event.id))
    kb.button(text=t(N_("Cancel")), callback_data=AbortFlow())
    summary = t(
        N_("Please confirm:\n%(title)s\nName: %(name)s\nOrganization: %(organization)s\nPhone: %(phone)s"),
        title=escape(event.title),
        name=escape(person.name),
        organization=escape(person.organization or "-"),
        phone=escape(person.phone or "-"),
    )
    await message.answer(summary, reply_markup=kb.as_markup())


@router.callback_query(AbortFlow.filter())
async def abort(query: CallbackQuery, t: Translate, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(t(N_("Stopped. Nothing was registered.")), reply_markup=main_menu(t))


@router.callback_query(ConfirmRegistration.filter())
async def confirm(
    query: CallbackQuery,
    callback_data: ConfirmRegistration,
    person: Person,
    t: Translate,
    locale: Locale,
    state: FSMContext,
    settings: Settings,
    signer: TicketSigner,
) -> None:
    await state.clear()
    await query.answer()
    if not isinstance(query.message, Message):
        return
    try:
        result = await registrations.register(
            callback_data.event_id,
            registrations.Applicant(
                name=person.name, phone=person.phone, organization=person.organization, telegram_id=person.telegram_id
            ),
            actor=f"telegram:{person.telegram_id}",
            source="bot",
            issue_secret=False,
        )
    except AlreadyRegistered:
        # A double tap, or a second try: not an error for the person.
        await query.message.answer(t(N_("You are already registered for this event. /my shows your ticket.")))
        return
    registration = result.registration
    event = await catalog.get_event(callback_data.event_id)
    if registration.status == RegistrationStatus.CONFIRMED:
        await send_ticket(query.message, registration, event, t=t, locale=locale, settings=settings, signer=signer)
    elif registration.status == RegistrationStatus.WAITLISTED:
        await query.message.answer(
            t(
                N_(
                    "The event is full. You are number %(position)s on the waitlist; "
                    "we will tell you as soon as a seat frees up."
                ),
                position=result.waitlist_position,
            )
        )
    else:
        await query.message.answer(
            t(N_("Thank you! Your registration awaits the organizer's approval; we will tell you the decision here."))
        )


async def send_ticket(
    message: Message,
    registration: Registration,
    event: Event,
    *,
    t: Translate,
    locale: Locale,
    settings: Settings,
    signer: TicketSigner,
) -> None:
    code = tickets.ticket_code(registration, signer)
    if code is None:
        await message.answer(t(N_("This registration has no ticket (yet).")))
        return
    lines = [
        "🎫 " + t(N_("Your ticket for %(title)s"), title=escape(event.title)),
        "🗓 " + when(event.starts_at, event.ends_at, locale),
        "📍 " + escape(event.venue) + (f"（{escape(event.address)}）" if event.address else ""),
    ]
    link = map_link(event)
    if link:
        lines.append(f'🗺 <a href="{escape(link)}">' + t(N_("Map")) + "</a>")
    lines.append(
        f'📅 <a href="{settings.base_url}/calendar/events/{event.id}.ics">' + t(N_("Add to calendar")) + "</a>"
    )
    lines.append(t(N_("Show this QR code at the door.")))
    await message.answer_photo(
        BufferedInputFile(tickets.qr_png(code, box_size=8), filename="ticket.png"), caption="\n".join(lines)
    )
