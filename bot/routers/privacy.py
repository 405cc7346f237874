"""/mydata: a file of everything the platform holds about me; /delete: erase it, after a confirmation."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import EraseMyData
from bot.i18n import Translate
from events import localtime
from events.errors import N_
from events.models import Person
from events.services import privacy
from events.settings import Settings


async def my_data(message: Message, person: Person, t: Translate, settings: Settings) -> None:
    found = await privacy.export_person(person.id)
    stamp = f"{localtime.local(found.exported_at):%Y%m%d}"
    await message.answer_document(
        BufferedInputFile(found.model_dump_json(indent=2).encode(), filename=f"wuchuang-my-data-{stamp}.json"),
        caption=t(N_("Everything we hold about you, as a JSON file. How we use it: %(url)s"), url=_notice(settings)),
    )


def _notice(settings: Settings) -> str:
    return f"{settings.base_url}/privacy"


async def delete_command(message: Message, t: Translate, settings: Settings) -> None:
    kb = InlineKeyboardBuilder()
    kb.button(text="🗑 " + t(N_("Yes, delete my data")), callback_data=EraseMyData(confirmed=True))
    kb.button(text=t(N_("No, keep my data")), callback_data=EraseMyData(confirmed=False))
    kb.adjust(1)
    lines = [
        t(N_("Delete everything we hold about you?")),
        "• " + t(N_("Your registrations for events still to come are cancelled; your seat goes to the waitlist.")),
        "• " + t(N_("Past registrations stay without your details, for the events' counts.")),
        "• " + t(N_("Training credits and certificates, if you have any, stay under a pseudonym.")),
        "• " + t(N_("This cannot be undone. Send /mydata first for a copy.")),
        t(N_("Privacy notice: %(url)s"), url=_notice(settings)),
    ]
    await message.answer("\n".join(lines), reply_markup=kb.as_markup())


async def delete_answer(
    query: CallbackQuery, message: Message, callback_data: EraseMyData, person: Person, t: Translate
) -> None:
    if not callback_data.confirmed:
        await message.edit_text(t(N_("Nothing was deleted.")))
        return
    # The Telegram id goes with the data: the fact names the person by id only.
    done = await privacy.erase_person(person.id, actor=f"person:{person.id}")
    await message.edit_text(
        t(N_("Your data has been deleted."))
        + "\n"
        + t(
            N_("Registrations for events still to come that were cancelled: %(count)s."),
            count=done.registrations_cancelled,
        )
    )


def make_router() -> Router:
    router = Router(name="privacy")
    router.message.register(my_data, Command("mydata"))
    router.message.register(delete_command, Command("delete"))
    router.callback_query.register(delete_answer, EraseMyData.filter())
    return router
