"""Ways out and ways in from anywhere: /cancel, 取消 and the main menu's labels typed as text.

Registered before the flows' routers: a flow's step never reads these as its answer. (Commands and
menu buttons have already cleared the flow in ``LeaveFlowMiddleware``.)
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove

from bot.callbacks import AbortFlow, Browse, BrowseMenu, MyCalendar, MyCredits, PrefMenu
from bot.i18n import Translate
from bot.routers import credits, events, my, prefs
from bot.views import MenuItem, is_cancel_text, main_menu, menu_item_for_text
from events.errors import N_
from events.i18n import Locale
from events.models import Person
from events.settings import Settings


async def cancel_command(message: Message, t: Translate, state: FSMContext, left_flow: bool = False) -> None:
    """/cancel or 取消 typed (or tapped on the phone step's keyboard, which sends its label)."""
    left = left_flow or await state.get_state() is not None or bool(await state.get_data())
    await state.clear()
    # The phone step's reply keyboard would otherwise stay under the input field.
    await message.answer(
        t(N_("Cancelled.")) if left else t(N_("Nothing to cancel.")), reply_markup=ReplyKeyboardRemove()
    )
    await message.answer(t(N_("What would you like to do?")), reply_markup=main_menu(t))


async def cancel_button(query: CallbackQuery, message: Message, t: Translate, state: FSMContext) -> None:
    await state.clear()
    await message.answer(t(N_("Cancelled.")), reply_markup=main_menu(t))


async def menu_text(
    message: Message,
    item: MenuItem,
    person: Person,
    t: Translate,
    locale: Locale,
    settings: Settings,
    state: FSMContext,
) -> None:
    """A main-menu label typed (or pasted) does what the button does."""
    data = item.callback
    if isinstance(data, Browse) and data.scope == "my":
        await my.show_my(message, person=person, t=t, locale=locale)
    elif isinstance(data, Browse):
        await events.show_page(message, data, t, locale)
    elif isinstance(data, BrowseMenu):
        await events.show_browse_menu(message, data.by, t, locale, state)
    elif isinstance(data, MyCalendar):
        await my.show_calendar(message, person=person, t=t, settings=settings, rotate=False)
    elif isinstance(data, MyCredits):
        await credits.show_credits(message, person=person, t=t, locale=locale, settings=settings)
    elif isinstance(data, PrefMenu):
        await prefs.prefs_command(message, person, t)


def make_router() -> Router:
    router = Router(name="menu")
    router.message.register(cancel_command, Command("cancel"))
    router.message.register(cancel_command, F.text.func(is_cancel_text))
    router.callback_query.register(cancel_button, AbortFlow.filter())
    router.message.register(menu_text, F.text.func(menu_item_for_text).as_("item"))
    return router
