"""/my: my registrations, tickets again, cancelling (the waitlist moves), my calendar feed."""

from __future__ import annotations

from html import escape

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import CancelRegistration, MyCalendar, MyRegistration, ResendTicket
from bot.i18n import Translate
from bot.routers.register import send_ticket
from bot.views import main_menu, my_list_keyboard, registration_keyboard, registration_line
from events.errors import N_, RegistrationNotFound
from events.i18n import Locale
from events.models import MeetingRequest, Person, Registration
from events.services import calendar
from events.services import registration as registrations
from events.services.roadshows import personal
from events.services.roadshows.sessions import ROADSHOW_KINDS
from events.services.tickets import TicketSigner
from events.settings import Settings


async def meetings_at(registration: Registration) -> list[MeetingRequest]:
    """The person's 1:1 meetings at a roadshow or fair they registered for (none elsewhere)."""
    if registration.event.kind not in ROADSHOW_KINDS:
        return []
    return await personal.at_event(registration.person_id, registration.event_id)


async def show_my(target: Message, *, person: Person, t: Translate, locale: Locale) -> None:
    mine = await registrations.registrations_of_person(person.id)
    if not mine:
        await target.answer(t(N_("You have no upcoming registrations.")), reply_markup=main_menu(t))
        return
    lines = ["🎫 " + t(N_("My registrations:"))]
    for registration in mine:
        position = await registrations.waitlist_position(registration)
        lines.append(registration_line(registration, t, locale, position, await meetings_at(registration)))
    await target.answer("\n\n".join(lines), reply_markup=my_list_keyboard(mine, t))


async def my_command(message: Message, person: Person, t: Translate, locale: Locale) -> None:
    await show_my(message, person=person, t=t, locale=locale)


async def _mine(registration_id: int, person: Person) -> Registration:
    """The registration if it is this person's; stale or foreign buttons find nothing."""
    registration = await Registration.get_or_none(id=registration_id).select_related("event")
    if registration is None or registration.person_id != person.id:
        raise RegistrationNotFound()
    return registration


async def show_registration(target: Message, registration: Registration, *, t: Translate, locale: Locale) -> None:
    position = await registrations.waitlist_position(registration)
    await target.answer(
        registration_line(registration, t, locale, position, await meetings_at(registration)),
        reply_markup=registration_keyboard(registration, t),
    )


async def one_registration(
    query: CallbackQuery, message: Message, callback_data: MyRegistration, person: Person, t: Translate, locale: Locale
) -> None:
    registration = await _mine(callback_data.registration_id, person)
    await show_registration(message, registration, t=t, locale=locale)


async def resend(
    query: CallbackQuery,
    message: Message,
    callback_data: ResendTicket,
    person: Person,
    t: Translate,
    locale: Locale,
    settings: Settings,
    signer: TicketSigner,
) -> None:
    registration = await _mine(callback_data.registration_id, person)
    await send_ticket(message, registration, registration.event, t=t, locale=locale, settings=settings, signer=signer)


async def cancel(
    query: CallbackQuery, message: Message, callback_data: CancelRegistration, person: Person, t: Translate
) -> None:
    registration = await _mine(callback_data.registration_id, person)
    if not callback_data.confirmed:
        kb = InlineKeyboardBuilder()
        kb.button(
            text="✅ " + t(N_("Yes, cancel it")),
            callback_data=CancelRegistration(registration_id=registration.id, confirmed=True),
        )
        kb.button(text=t(N_("No, keep it")), callback_data=MyRegistration(registration_id=registration.id))
        await message.answer(
            t(
                N_("Cancel your registration for %(title)s? Your seat goes to the next person on the waitlist."),
                title=escape(registration.event.title),
            ),
            reply_markup=kb.as_markup(),
        )
        return
    await registrations.cancel_registration(registration.id, actor=f"telegram:{person.telegram_id}")
    await message.answer(t(N_("Your registration is cancelled.")), reply_markup=main_menu(t))


async def show_calendar(target: Message, *, person: Person, t: Translate, settings: Settings, rotate: bool) -> None:
    if rotate:
        token = await calendar.rotate_calendar_token(person.id)
    else:
        token = await calendar.calendar_token(person.id)
    links = calendar.feed_links(settings.base_url, calendar.person_feed_path(token))
    kb = InlineKeyboardBuilder()
    kb.button(text="🔄 " + t(N_("New link (the old one stops working)")), callback_data=MyCalendar(rotate=True))
    await target.answer(
        t(
            N_(
                "Subscribe to your own calendar of registrations in any calendar app:\n%(webcal)s\n\n"
                "Or download it: %(url)s\nKeep this link to yourself."
            ),
            webcal=links["webcal_url"],
            url=links["url"],
        ),
        reply_markup=kb.as_markup(),
        disable_web_page_preview=True,
    )


async def my_calendar(
    query: CallbackQuery, message: Message, callback_data: MyCalendar, person: Person, t: Translate, settings: Settings
) -> None:
    await show_calendar(message, person=person, t=t, settings=settings, rotate=callback_data.rotate)


def make_router() -> Router:
    router = Router(name="my")
    router.message.register(my_command, Command("my"))
    router.callback_query.register(one_registration, MyRegistration.filter())
    router.callback_query.register(resend, ResendTicket.filter())
    router.callback_query.register(cancel, CancelRegistration.filter())
    router.callback_query.register(my_calendar, MyCalendar.filter())
    return router
