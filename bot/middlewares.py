"""Loads (or creates) the person behind each update and the texts in their language; leaves a flow on a
command or a menu button; answers every button press once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.flags import get_flag
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, TelegramObject, User
from aiogram.utils.callback_answer import CallbackAnswer

from bot.i18n import translator
from bot.views import is_menu_callback, menu_item_for_text
from events.errors import N_
from events.i18n import locale_of
from events.services.people import person_for_telegram

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class PersonMiddleware(BaseMiddleware):
    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None or user.is_bot:
            return await handler(event, data)
        name = " ".join(part for part in (user.first_name, user.last_name) if part)
        person = await person_for_telegram(telegram_id=user.id, name=name, language_code=user.language_code)
        locale = locale_of(person.language)
        data["person"] = person
        data["locale"] = locale
        data["t"] = translator(locale)
        return await handler(event, data)


def leaves_flow(event: TelegramObject) -> bool:
    """A command, a main-menu label typed, or a main-menu button: the person wants out of any flow."""
    if isinstance(event, Message):
        text = (event.text or "").strip()
        return text.startswith("/") or menu_item_for_text(text) is not None
    if isinstance(event, CallbackQuery):
        return is_menu_callback(event.data or "")
    return False


class LeaveFlowMiddleware(BaseMiddleware):
    """Outer middleware of messages and callback queries: runs before any state filter is checked.

    Without it a flow's step reads whatever comes next (``/my`` typed while registering was taken
    for the person's name), so a person could only get out by knowing ``/start``.
    """

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        state: FSMContext | None = data.get("state")
        if state is not None and data.get("raw_state") is not None and leaves_flow(event):
            await state.clear()
            data["raw_state"] = None  # what the state filters read
            data["left_flow"] = True
        return await handler(event, data)


class CallbackAnswerMiddleware(BaseMiddleware):
    """Inner middleware of callback queries: stops the button's spinner once the handler is done.

    A handler that wants a toast sets ``callback_answer.text``. Unlike aiogram's own middleware of
    this name it does not answer when the handler raised: the errors router answers then, with the
    reason as an alert, and a query can be answered only once. The handler gets ``message``, the
    message the button sits on; a button on a message the bot can no longer see only gets a toast.
    """

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, CallbackQuery):
            return await handler(event, data)
        answer = data["callback_answer"] = CallbackAnswer(
            answered=False, disabled=bool(get_flag(data, "callback_answer_disabled"))
        )
        if not isinstance(event.message, Message):
            t = data.get("t") or translator("zh")
            await event.answer(t(N_("This button has expired; send /start for the menu.")), show_alert=True)
            return None
        data["message"] = event.message
        result = await handler(event, data)
        if not answer.disabled:
            await event.answer(text=answer.text, show_alert=answer.show_alert)
        return result
