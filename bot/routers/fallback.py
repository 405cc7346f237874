"""Whatever no other handler took: a short hint and a way on, never silence.

Registered last. Inside a flow the flows answer themselves; what reaches here in a flow is a step
that expects a button (or a message kind no step reads).
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.i18n import Translate
from bot.views import cancel_button, main_menu
from events.errors import N_


async def outside_a_flow(message: Message, t: Translate) -> None:
    await message.answer(
        t(N_("I did not understand that. Choose from the menu below, or send /help.")), reply_markup=main_menu(t)
    )


async def inside_a_flow(message: Message, t: Translate) -> None:
    await message.answer(t(N_("Please use the buttons above, or tap Cancel to leave.")), reply_markup=cancel_button(t))


async def stale_button(query: CallbackQuery, t: Translate, callback_answer: CallbackAnswer) -> None:
    """A button of a flow that was left or finished (its step is over)."""
    callback_answer.text = t(N_("This button is no longer in use; send /start for the menu."))
    callback_answer.show_alert = True


def make_router() -> Router:
    router = Router(name="fallback")
    router.message.register(outside_a_flow, StateFilter(None))
    router.message.register(inside_a_flow)
    router.callback_query.register(stale_button)
    return router
