"""Registering by chat: only the details the event needs, the phone by Telegram's contact button."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message, ReplyKeyboardRemove
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import AbortFlow, AnswerChoice, Browse, ConfirmRegistration, StartRegistration
from bot.i18n import Translate, when
from bot.views import (
    cancel_button,
    contact_keyboard,
    map_link,
    meeting_lines,
    registration_keyboard,
    registration_line,
)
from events.errors import N_, AlreadyRegistered, InvalidInput
from events.i18n import Locale
from events.models import Event, Person, Registration, RegistrationStatus
from events.services import catalog, people, ticket_card, tickets
from events.services import registration as registrations
from events.services.roadshows import personal
from events.services.roadshows.sessions import ROADSHOW_KINDS
from events.services.tickets import TicketSigner
from events.settings import Settings


class RegisterFlow(StatesGroup):
    name = State()
    organization = State()
    phone = State()
    answer = State()
    confirm = State()


async def begin(
    query: CallbackQuery,
    message: Message,
    callback_data: StartRegistration,
    person: Person,
    t: Translate,
    locale: Locale,
    state: FSMContext,
) -> None:
    event = await catalog.get_event(callback_data.event_id)
    # A second tap (an older card, a forwarded link): say where the registration stands, ask nothing.
    if await _already_registered(message, event, person, t, locale):
        return
    registrations.check_open(event)  # a stale button of a cancelled or closed event ends here
    await state.set_data({"event_id": event.id})
    if person.phone:  # details known from an earlier registration: on to the event's questions
        await _next_step(message, event, person, t, locale, state)
        return
    await state.set_state(RegisterFlow.name)
    await message.answer(
        t(N_("Registering for %(title)s.\nWhat is your full name?"), title=escape(event.title)),
        reply_markup=cancel_button(t),
    )


async def _already_registered(message: Message, event: Event, person: Person, t: Translate, locale: Locale) -> bool:
    """Tell the person they are registered already, with the way to their ticket; False if they are not."""
    if person.telegram_id is None:
        return False
    registration = await registrations.find_active_registration(event.id, telegram_id=person.telegram_id)
    if registration is None:
        return False
    registration.event = event
    position = await registrations.waitlist_position(registration)
    kb = InlineKeyboardBuilder.from_markup(registration_keyboard(registration, t))
    kb.row()
    kb.button(text="🎫 " + t(N_("My registrations")), callback_data=Browse(scope="my"))
    await message.answer(
        t(N_("You are already registered for this event."))
        + "\n\n"
        + registration_line(registration, t, locale, position),
        reply_markup=kb.as_markup(),
    )
    return True


async def got_name(message: Message, person: Person, t: Translate, state: FSMContext) -> None:
    name = (message.text or "").strip()
    if not 1 <= len(name) <= 100 or name.startswith("/"):
        await message.answer(t(N_("Please send your name (up to 100 characters).")), reply_markup=cancel_button(t))
        return
    await people.update_contact(person, name=name)
    await state.set_state(RegisterFlow.organization)
    await message.answer(t(N_("Which organization are you with? Send “-” if none.")), reply_markup=cancel_button(t))


async def got_organization(message: Message, person: Person, t: Translate, state: FSMContext) -> None:
    organization = (message.text or "").strip()
    if len(organization) > 200 or organization.startswith("/"):
        await message.answer(
            t(N_("Please send the organization's name (up to 200 characters).")), reply_markup=cancel_button(t)
        )
        return
    await people.update_contact(person, organization="" if organization in ("-", "—", "无") else organization)
    await state.set_state(RegisterFlow.phone)
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
    event = await catalog.get_event((await state.get_data())["event_id"])
    await message.answer(t(N_("Thank you.")), reply_markup=ReplyKeyboardRemove())
    await _next_step(message, event, person, t, locale, state)


async def _next_step(
    message: Message, event: Event, person: Person, t: Translate, locale: Locale, state: FSMContext
) -> None:
    """Ask the event's next unanswered question, or show the summary when all are answered."""
    answers: dict[str, str] = (await state.get_data()).get("answers", {})
    for index, question in enumerate(event.questions or []):
        if question["key"] in answers:
            continue
        await state.update_data(asking=index)
        await state.set_state(RegisterFlow.answer)
        label: str = question["label_en"] if locale == "en" and question.get("label_en") else question["label"]
        kb = InlineKeyboardBuilder()
        for choice_index, choice in enumerate(question.get("choices") or []):
            kb.button(text=choice, callback_data=AnswerChoice(index=choice_index))
        if not question.get("required", True):
            kb.button(text=t(N_("Skip")), callback_data=AnswerChoice(index=-1))
        kb.adjust(2)
        kb.row()
        kb.button(text="✖️ " + t(N_("Cancel")), callback_data=AbortFlow())
        hint = "" if question.get("choices") else "\n" + t(N_("(reply with text)"))
        await message.answer(f"❓ {escape(label)}{hint}", reply_markup=kb.as_markup())
        return
    await _ask_confirmation(message, event, person, t, state)


async def _save_answer(
    message: Message, person: Person, t: Translate, locale: Locale, state: FSMContext, value: str | None
) -> None:
    data = await state.get_data()
    event = await catalog.get_event(data["event_id"])
    questions = event.questions or []
    index = data.get("asking")
    if index is None or index >= len(questions):
        await _next_step(message, event, person, t, locale, state)
        return
    answers = dict(data.get("answers", {}))
    answers[questions[index]["key"]] = value or ""
    await state.update_data(answers=answers, asking=None)
    await _next_step(message, event, person, t, locale, state)


async def got_answer(message: Message, person: Person, t: Translate, locale: Locale, state: FSMContext) -> None:
    text = (message.text or "").strip()
    data = await state.get_data()
    event = await catalog.get_event(data["event_id"])
    question = (event.questions or [])[data.get("asking") or 0]
    if question.get("choices"):
        await message.answer(t(N_("Please tap one of the choices above.")), reply_markup=cancel_button(t))
        return
    if not text or len(text) > 500 or text.startswith("/"):
        await message.answer(
            t(N_("Please reply with a short text (up to 500 characters).")), reply_markup=cancel_button(t)
        )
        return
    await _save_answer(message, person, t, locale, state, text)


async def got_choice(
    query: CallbackQuery,
    message: Message,
    callback_data: AnswerChoice,
    person: Person,
    t: Translate,
    locale: Locale,
    state: FSMContext,
) -> None:
    data = await state.get_data()
    event = await catalog.get_event(data["event_id"])
    question = (event.questions or [])[data.get("asking") or 0]
    choices = question.get("choices") or []
    value = (
        None
        if callback_data.index < 0
        else choices[callback_data.index]
        if callback_data.index < len(choices)
        else None
    )
    await _save_answer(message, person, t, locale, state, value)


async def phone_typed(message: Message, t: Translate) -> None:
    await message.answer(
        t(N_("Please use the button to share your phone number; typed numbers are not accepted.")),
        reply_markup=contact_keyboard(t),
    )


async def expected_text(message: Message, t: Translate) -> None:
    await message.answer(
        t(N_("Please answer with text, or tap a button above. /cancel to leave.")), reply_markup=cancel_button(t)
    )


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
        phone=escape(people.display_phone(person.phone) or "-"),
    )
    answers = (await state.get_data()).get("answers", {})
    labels = {q["key"]: q["label"] for q in event.questions or []}
    extra = "".join(f"\n{escape(labels.get(k, k))}: {escape(v)}" for k, v in answers.items() if v)
    await message.answer(summary + extra, reply_markup=kb.as_markup())


async def confirm(
    query: CallbackQuery,
    message: Message,
    callback_data: ConfirmRegistration,
    person: Person,
    t: Translate,
    locale: Locale,
    state: FSMContext,
    settings: Settings,
    signer: TicketSigner,
) -> None:
    data = await state.get_data()
    # A second tap, or the summary of a flow that was left, has no answers: the service then asks
    # for any that are required, and a registration made meanwhile is reported below.
    answers = (
        {k: v for k, v in data.get("answers", {}).items() if v}
        if data.get("event_id") == callback_data.event_id
        else {}
    )
    await state.clear()
    try:
        result = await registrations.register(
            callback_data.event_id,
            registrations.Applicant(
                name=person.name,
                phone=person.phone,
                organization=person.organization,
                telegram_id=person.telegram_id,
                answers=answers,
            ),
            actor=f"telegram:{person.telegram_id}",
            source="bot",
            issue_secret=False,
        )
    except AlreadyRegistered:
        # A double tap, or a second try: not an error for the person.
        event = await catalog.get_event(callback_data.event_id)
        if not await _already_registered(message, event, person, t, locale):
            await message.answer(t(N_("You are already registered for this event. /my shows your ticket.")))
        return
    registration = result.registration
    event = await catalog.get_event(callback_data.event_id)
    if registration.status == RegistrationStatus.CONFIRMED:
        await send_ticket(message, registration, event, t=t, locale=locale, settings=settings, signer=signer)
    elif registration.status == RegistrationStatus.WAITLISTED:
        await message.answer(
            t(
                N_(
                    "The event is full. You are number %(position)s on the waitlist; "
                    "we will tell you as soon as a seat frees up."
                ),
                position=result.waitlist_position,
            )
        )
    else:
        await message.answer(
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
    if event.kind in ROADSHOW_KINDS:  # the person's 1:1 meetings there: time, table, the other side
        lines += meeting_lines(
            await personal.at_event(registration.person_id, event.id), registration.person_id, t, locale
        )
    card = await ticket_card.card_of_registration(registration, signer, locale=locale)
    assert card is not None  # the code above says it holds a ticket
    await message.answer_photo(BufferedInputFile(card, filename="ticket.png"), caption="\n".join(lines))


def make_router() -> Router:
    router = Router(name="register")
    router.callback_query.register(begin, StartRegistration.filter())
    router.message.register(got_name, RegisterFlow.name, F.text)
    router.message.register(got_organization, RegisterFlow.organization, F.text)
    router.message.register(got_contact, RegisterFlow.phone, F.contact)
    router.message.register(got_answer, RegisterFlow.answer, F.text)
    router.callback_query.register(got_choice, RegisterFlow.answer, AnswerChoice.filter())
    router.message.register(phone_typed, RegisterFlow.phone)
    router.message.register(
        expected_text,
        StateFilter(RegisterFlow.name, RegisterFlow.organization, RegisterFlow.answer, RegisterFlow.confirm),
    )
    router.callback_query.register(confirm, ConfirmRegistration.filter())
    return router
