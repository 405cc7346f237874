"""Organizers in the bot: /broadcast an announcement to an event's registrants."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import AbortFlow, BroadcastEvent, BroadcastSend
from bot.i18n import Translate
from bot.views import cancel_button
from events.errors import N_
from events.models import ACTIVE_STATUSES, Person, Registration
from events.services import broadcasts, staff


class BroadcastFlow(StatesGroup):
    text = State()
    confirm = State()


async def broadcast_command(message: Message, person: Person, t: Translate, state: FSMContext) -> None:
    if not await staff.is_organizer(person):
        await message.answer(t(N_("Announcements are for organizers.")))
        return
    await state.clear()
    upcoming = await staff.broadcastable_events(person)
    if not upcoming:
        await message.answer(t(N_("No upcoming events.")))
        return
    kb = InlineKeyboardBuilder()
    for event in upcoming:
        kb.button(text=event.title[:50], callback_data=BroadcastEvent(event_id=event.id))
    kb.button(text="✖️ " + t(N_("Cancel")), callback_data=AbortFlow())
    kb.adjust(1)
    await message.answer(t(N_("Announce to the registrants of which event?")), reply_markup=kb.as_markup())


async def choose_event(
    query: CallbackQuery,
    message: Message,
    callback_data: BroadcastEvent,
    person: Person,
    t: Translate,
    state: FSMContext,
) -> None:
    if not await staff.may_broadcast(person, callback_data.event_id):
        return
    await state.set_state(BroadcastFlow.text)
    await state.set_data({"event_id": callback_data.event_id})
    await message.answer(t(N_("Send the announcement text (up to 3500 characters).")), reply_markup=cancel_button(t))


async def got_text(message: Message, t: Translate, state: FSMContext) -> None:
    text = (message.text or "").strip()
    if not text or len(text) > 3500 or text.startswith("/"):
        await message.answer(t(N_("An announcement needs 1 to 3500 characters.")), reply_markup=cancel_button(t))
        return
    event_id = (await state.get_data())["event_id"]
    count = await Registration.filter(event_id=event_id, status__in=ACTIVE_STATUSES).count()
    await state.update_data(text=text)
    await state.set_state(BroadcastFlow.confirm)
    kb = InlineKeyboardBuilder()
    kb.button(
        text="📢 " + t(N_("Send to %(count)s people"), count=count), callback_data=BroadcastSend(event_id=event_id)
    )
    kb.button(text=t(N_("Cancel")), callback_data=AbortFlow())
    await message.answer(escape(text), reply_markup=kb.as_markup())


async def send(
    query: CallbackQuery,
    message: Message,
    callback_data: BroadcastSend,
    person: Person,
    t: Translate,
    state: FSMContext,
) -> None:
    data = await state.get_data()
    await state.clear()
    if "text" not in data or data.get("event_id") != callback_data.event_id:
        return
    if not await staff.may_broadcast(person, callback_data.event_id):
        return
    await broadcasts.create_broadcast(callback_data.event_id, data["text"], actor=f"telegram:{person.telegram_id}")
    await message.answer(t(N_("Queued. It goes out at the allowed pace; quiet hours are respected.")))


def make_router() -> Router:
    router = Router(name="organizer")
    router.message.register(broadcast_command, Command("broadcast"))
    router.callback_query.register(choose_event, BroadcastEvent.filter())
    router.message.register(got_text, BroadcastFlow.text, F.text)
    router.callback_query.register(send, BroadcastFlow.confirm, BroadcastSend.filter())
    return router
