"""/enter: an entry to an open competition, step by step — competition, track (buttons), project name,
summary, organization, team, contact (Telegram's contact button), confirm — through the same entries
service as the API and the web form. The entrant gets the entry number; files sent as documents after
that are checked like any upload and added to the entry.

The flow keeps only ids and texts in the FSM data (JSON), so with Redis storage it survives a restart.
"""

from __future__ import annotations

import io
from html import escape

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import AbortFlow, EnterCompetition, EnterConfirm, EnterTrack
from bot.i18n import Translate
from bot.views import cancel_button, contact_keyboard
from events import labels
from events.errors import N_, DomainError, EntriesClosed, InvalidInput
from events.i18n import Locale
from events.models import EntrySource, Person
from events.services import people
from events.services.competitions import attachments, entries, public
from events.services.competitions.config import load_config
from events.services.competitions.storage import storage_for
from events.settings import Settings

SKIP = ("-", "—", "无", "none", "no")


class EnterFlow(StatesGroup):
    track = State()
    title = State()
    summary = State()
    organization = State()
    team = State()
    contact = State()
    confirm = State()
    files = State()  # after submitting: documents sent now are the entry's files


async def enter_command(message: Message, t: Translate, state: FSMContext) -> None:
    await state.clear()
    open_now = await public.open_competitions()
    if not open_now:
        await message.answer(t(N_("No competition takes entries at the moment.")))
        return
    kb = InlineKeyboardBuilder()
    for competition in open_now[:20]:
        kb.button(text=competition.title[:60], callback_data=EnterCompetition(competition_id=competition.id))
    kb.button(text="✖️ " + t(N_("Cancel")), callback_data=AbortFlow())
    kb.adjust(1)
    await message.answer(t(N_("Which competition do you enter?")), reply_markup=kb.as_markup())


async def chose_competition(
    query: CallbackQuery, message: Message, callback_data: EnterCompetition, t: Translate, state: FSMContext
) -> None:
    config = await load_config(callback_data.competition_id)
    if not public.takes_entries(config.competition):
        raise EntriesClosed()
    await state.set_data({"competition_id": config.competition.id})
    await state.set_state(EnterFlow.track)
    kb = InlineKeyboardBuilder()
    for track in config.tracks:
        kb.button(text=track.name, callback_data=EnterTrack(code=track.code))
    kb.adjust(2)
    kb.row()
    kb.button(text="✖️ " + t(N_("Cancel")), callback_data=AbortFlow())
    await message.answer(
        t(N_("%(title)s\nWhich track?"), title=f"<b>{escape(config.competition.title)}</b>"),
        reply_markup=kb.as_markup(),
    )


async def chose_track(
    query: CallbackQuery, message: Message, callback_data: EnterTrack, t: Translate, state: FSMContext
) -> None:
    await state.update_data(track=callback_data.code[:32])
    await state.set_state(EnterFlow.title)
    await message.answer(t(N_("The project's name?")), reply_markup=cancel_button(t))


def _text(message: Message, limit: int) -> str | None:
    text = (message.text or "").strip()
    return text if 1 <= len(text) <= limit and not text.startswith("/") else None


async def got_title(message: Message, t: Translate, state: FSMContext) -> None:
    title = _text(message, 200)
    if title is None:
        await message.answer(t(N_("Please send the project's name (up to 200 characters).")))
        return
    await state.update_data(title=title)
    await state.set_state(EnterFlow.summary)
    await message.answer(
        t(N_("A short summary of the project (up to 2000 characters). Send “-” to skip.")),
        reply_markup=cancel_button(t),
    )


async def got_summary(message: Message, t: Translate, state: FSMContext) -> None:
    summary = _text(message, 2000)
    if summary is None:
        await message.answer(t(N_("Please send the summary as text (up to 2000 characters), or “-”.")))
        return
    await state.update_data(summary="" if summary.lower() in SKIP else summary)
    await state.set_state(EnterFlow.organization)
    await message.answer(
        t(N_("Which organization does the project come from? Send “-” if none.")), reply_markup=cancel_button(t)
    )


async def got_organization(message: Message, t: Translate, state: FSMContext) -> None:
    organization = _text(message, 200)
    if organization is None:
        await message.answer(t(N_("Please send the organization's name (up to 200 characters).")))
        return
    await state.update_data(organization=None if organization.lower() in SKIP else organization)
    await state.set_state(EnterFlow.team)
    await message.answer(
        t(N_("Who else is in the team? Names separated by commas or lines; “-” if you enter alone.")),
        reply_markup=cancel_button(t),
    )


async def got_team(message: Message, t: Translate, state: FSMContext) -> None:
    text = _text(message, 1000)
    if text is None:
        await message.answer(t(N_("Please send the names as text, or “-”.")))
        return
    names = (
        []
        if text.lower() in SKIP
        else [n.strip() for n in text.replace("，", ",").replace("、", ",").replace("\n", ",").split(",")]
    )
    await state.update_data(team=[n[:100] for n in names if n][:30])
    await state.set_state(EnterFlow.contact)
    await message.answer(
        t(N_("Please share your phone number with the button below.")), reply_markup=contact_keyboard(t)
    )


async def got_contact(message: Message, person: Person, t: Translate, locale: Locale, state: FSMContext) -> None:
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
    await state.update_data(phone=person.phone)
    await state.set_state(EnterFlow.confirm)
    await message.answer(t(N_("Thank you.")), reply_markup=ReplyKeyboardRemove())
    await _ask_confirmation(message, person, t, state)


async def contact_typed(message: Message, t: Translate) -> None:
    await message.answer(t(N_("Please use the button below to share your number.")), reply_markup=contact_keyboard(t))


async def _ask_confirmation(message: Message, person: Person, t: Translate, state: FSMContext) -> None:
    data = await state.get_data()
    config = await load_config(int(data["competition_id"]))
    track = next((tr.name for tr in config.tracks if tr.code == data["track"]), data["track"])
    lines = [
        f"<b>{escape(config.competition.title)}</b> · {escape(track)}",
        f"{t(N_('Project'))}: {escape(data['title'])}",
        f"{t(N_('Team leader'))}: {escape(person.name)}",
    ]
    if data.get("organization"):
        lines.append(f"{t(N_('Organization'))}: {escape(data['organization'])}")
    if data.get("team"):
        lines.append(f"{t(N_('Team members'))}: {escape('、'.join(data['team']))}")
    lines.append(f"📱 {escape(str(data.get('phone') or ''))}")
    if data.get("summary"):
        lines.append("\n" + escape(data["summary"][:500]))
    kb = InlineKeyboardBuilder()
    kb.button(text="✅ " + t(N_("Send the entry")), callback_data=EnterConfirm())
    kb.button(text="✖️ " + t(N_("Cancel")), callback_data=AbortFlow())
    await message.answer("\n".join(lines), reply_markup=kb.as_markup())


async def confirm(query: CallbackQuery, message: Message, person: Person, t: Translate, state: FSMContext) -> None:
    data = await state.get_data()
    if "title" not in data or "phone" not in data:  # a stale button of a flow already finished
        await message.answer(t(N_("This entry was already sent or cancelled. Send /enter to start again.")))
        return
    team = [{"name": person.name[:100], "role": ""}] + [{"name": n, "role": ""} for n in data.get("team", [])]
    entry = await entries.submit_entry(
        int(data["competition_id"]),
        entries.EntryInput(
            title=data["title"],
            track=data["track"],
            leader_name=person.name[:100] or "—",
            organization=data.get("organization"),
            summary=data.get("summary", ""),
            team=team[:30],
            contact_phone=data["phone"],
        ),
        actor=f"telegram:{person.telegram_id}",
        scope=None,
        source=EntrySource.BOT,
        submitted_by_person_id=person.id,
    )
    await state.set_data({"competition_id": entry.competition_id, "entry_id": entry.id})
    await state.set_state(EnterFlow.files)
    await message.answer(
        t(
            N_(
                "Your entry is in: No. %(number)s.\nYou can send the business plan or slides now as files "
                "(PDF, PPTX, PPT, DOCX or DOC). Send /cancel when you are done."
            ),
            number=f"<b>{entry.id}</b>",
        )
    )


async def got_document(
    message: Message, bot: Bot, person: Person, t: Translate, locale: Locale, settings: Settings, state: FSMContext
) -> None:
    document = message.document
    assert document is not None
    data = await state.get_data()
    if document.file_size is not None and document.file_size > settings.attachment_max_bytes:
        await message.answer(
            t(N_("The file is larger than %(limit)s MB."), limit=f"{settings.attachment_max_bytes / 1_048_576:g}")
        )
        return
    buffer = io.BytesIO()
    await bot.download(document, destination=buffer)
    try:
        added = await attachments.add_attachment(
            int(data["competition_id"]),
            int(data["entry_id"]),
            filename=document.file_name,
            data=buffer.getvalue(),
            who=attachments.Uploader(actor=f"telegram:{person.telegram_id}", person_id=person.id),
            storage=storage_for(settings.data_dir),
            max_bytes=settings.attachment_max_bytes,
        )
    except DomainError as error:
        # Short and in place: the entrant stays in the flow and can send the right file.
        await message.answer("⚠️ " + labels.message(locale, error.message, error.params))
        return
    await message.answer(
        t(N_("Added %(name)s to entry No. %(number)s."), name=escape(added.filename), number=data["entry_id"])
    )


async def not_a_document(message: Message, t: Translate) -> None:
    await message.answer(t(N_("Send a file (as a document), or /cancel when you are done.")))


async def expected_text(message: Message, t: Translate) -> None:
    await message.answer(t(N_("Please reply with text.")), reply_markup=cancel_button(t))


def make_router() -> Router:
    router = Router(name="enter")
    router.message.register(enter_command, Command("enter"))
    router.callback_query.register(chose_competition, EnterCompetition.filter())
    router.callback_query.register(chose_track, EnterFlow.track, EnterTrack.filter())
    router.message.register(got_title, EnterFlow.title, F.text)
    router.message.register(got_summary, EnterFlow.summary, F.text)
    router.message.register(got_organization, EnterFlow.organization, F.text)
    router.message.register(got_team, EnterFlow.team, F.text)
    router.message.register(got_contact, EnterFlow.contact, F.contact)
    router.message.register(contact_typed, EnterFlow.contact)
    router.callback_query.register(confirm, EnterFlow.confirm, EnterConfirm.filter())
    router.message.register(got_document, EnterFlow.files, F.document)
    router.message.register(not_a_document, EnterFlow.files)
    router.message.register(
        expected_text, StateFilter(EnterFlow.title, EnterFlow.summary, EnterFlow.organization, EnterFlow.team)
    )
    return router
