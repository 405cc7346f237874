"""/start (with deep links from posters), /help, the main menu, /lang."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import Language
from bot.i18n import Translate, translator
from bot.routers.events import show_event
from bot.routers.register import send_ticket
from bot.views import main_menu
from events.errors import N_, DomainError
from events.i18n import Locale, locale_of
from events.models import Person, RegistrationStatus
from events.services import catalog, people
from events.services import registration as registrations
from events.services.tickets import TicketSigner
from events.settings import Settings


async def start_with_payload(
    message: Message,
    command: CommandObject,
    person: Person,
    t: Translate,
    locale: Locale,
    settings: Settings,
    state: FSMContext,
    signer: TicketSigner,
) -> None:
    await state.clear()
    payload = (command.args or "").strip()
    if payload.startswith(registrations.LINK_PREFIX):
        await link_registration(
            message, payload.removeprefix(registrations.LINK_PREFIX), person, t, locale, settings, signer
        )
        return
    if payload.startswith("ev_"):
        try:
            event = await catalog.get_event_by_public_id(payload[3:40])
        except DomainError:
            pass
        else:
            await show_event(message, event, person=person, t=t, locale=locale, settings=settings)
            return
    await message.answer(
        t(N_("That link is unknown or has expired. Here is what you can do:")), reply_markup=main_menu(t)
    )


async def link_registration(
    message: Message, code: str, person: Person, t: Translate, locale: Locale, settings: Settings, signer: TicketSigner
) -> None:
    """A registration made on the web joins this Telegram user's registrations: opening the link in
    their own chat is the proof. Raises ``link_code_invalid``, ``already_registered`` (replied by the
    errors router).
    """
    registration = await registrations.redeem_link_code(
        code, person_id=person.id, telegram_id=person.telegram_id, actor=f"telegram:{person.telegram_id}"
    )
    event = await catalog.get_event(registration.event_id, include_unpublished=True)
    await message.answer(
        t(
            N_("Your registration for %(title)s is now in this chat: /my shows it, reminders come here."),
            title=escape(event.title),
        ),
        reply_markup=main_menu(t),
    )
    if registration.status == RegistrationStatus.CONFIRMED:
        await send_ticket(message, registration, event, t=t, locale=locale, settings=settings, signer=signer)


async def start(message: Message, person: Person, t: Translate, state: FSMContext) -> None:
    await state.clear()
    await message.answer(
        t(
            N_(
                "Welcome to 武创荟, %(name)s! Find technology-transfer sessions, competitions and roadshows, "
                "register in two taps and get your ticket here."
            ),
            name=escape(person.name),
        ),
        reply_markup=main_menu(t),
    )


async def help_menu(message: Message, t: Translate) -> None:
    await message.answer(
        t(
            N_(
                "/events — upcoming events\n/my — my registrations and tickets\n/credits — my training credits\n"
                "/prefs — invitations I want\n/lang — language\n/scan — door staff: scan tickets\n"
                "/cancel — leave what you are doing"
            )
        ),
        reply_markup=main_menu(t),
    )


async def choose_language(message: Message, t: Translate) -> None:
    kb = InlineKeyboardBuilder()
    kb.button(text="简体中文", callback_data=Language(code="zh"))
    kb.button(text="English", callback_data=Language(code="en"))
    await message.answer(t(N_("Choose your language:")), reply_markup=kb.as_markup())


async def set_language(query: CallbackQuery, message: Message, callback_data: Language, person: Person) -> None:
    person = await people.set_language(person, callback_data.code)
    t = translator(locale_of(person.language))
    await message.answer(t(N_("Language set to English.")), reply_markup=main_menu(t))


async def noop(query: CallbackQuery) -> None:
    """A button that only labels (its press is answered by the middleware)."""


def make_router() -> Router:
    router = Router(name="start")
    router.message.register(start_with_payload, CommandStart(deep_link=True))
    router.message.register(start, CommandStart())
    router.message.register(help_menu, Command("help", "menu"))
    router.message.register(choose_language, Command("lang"))
    router.callback_query.register(set_language, Language.filter())
    router.callback_query.register(noop, F.data == "noop")
    return router
