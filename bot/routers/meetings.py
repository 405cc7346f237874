"""1:1 meetings at roadshows in the chat: /meetings (my meetings and pending requests, a page at a time,
with accept / decline / withdraw), asking for a meeting (whom, when, an optional message), and afterwards
the rating and the follow-up — 已签约 leading to the amount (and an investment's round).

Every rule is the services' (``requests``, ``outcomes``, ``roadshows.personal``); a button whose request
is no longer pending, has expired or whose slot has passed gets a short answer with a way on.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal, InvalidOperation
from html import escape
from typing import Any

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import ValidationError

from bot.callbacks import (
    AbortFlow,
    DealRound,
    MeetingAnswer,
    MeetingAsk,
    MeetingFollowUp,
    MeetingNoMessage,
    MeetingRate,
    MeetingsPage,
)
from bot.i18n import Translate, when
from bot.views import cancel_button, meeting_line, meeting_other
from events import labels, localtime
from events.errors import (
    N_,
    DomainError,
    MeetingNotFound,
    MeetingNotHeld,
    NotYourMeeting,
    RequestExpired,
    RequestNotPending,
    SlotPassed,
)
from events.i18n import Locale
from events.models import FollowUpAnswer, MeetingRequest, MeetingStatus, ParticipantRole, Person, TransferKind
from events.services.roadshows import outcomes, personal, requests
from events.services.roadshows.outcomes import FOLLOW_UP_CODES, FOLLOW_UP_LABELS, RATING_CODES, RATING_LABELS
from events.services.roadshows.requests import Acting, MeetingRequestInput

ROUNDS = ("天使", "Pre-A", "A", "B", "C", "D+")
ROLE_LABELS = {
    ParticipantRole.INVESTOR: N_("Investor side"),
    ParticipantRole.PROJECT: N_("Project side"),
    ParticipantRole.GUEST: N_("Guest"),
}
WAY_ON = N_("Your meetings and requests: /meetings")
# What a stale button is answered (the error's own message said the rest).
STALE = (MeetingNotFound, NotYourMeeting, RequestNotPending, RequestExpired, SlotPassed, MeetingNotHeld)


class AskFlow(StatesGroup):
    message = State()


class DealFlow(StatesGroup):
    amount = State()
    round = State()


def acting(person: Person) -> Acting:
    return Acting(actor=f"telegram:{person.telegram_id}", person_id=person.id)


# A request no longer pending, said for what it became (the shared status labels speak of registrations).
NOT_PENDING = {
    MeetingStatus.ACCEPTED: N_("This request was accepted already."),
    MeetingStatus.DECLINED: N_("This request was declined."),
    MeetingStatus.WITHDRAWN: N_("This request was withdrawn."),
    MeetingStatus.EXPIRED: N_("This request has expired."),
    MeetingStatus.CANCELLED: N_("This meeting was cancelled."),
}


def error_text(error: DomainError, t: Translate, locale: Locale) -> str:
    if isinstance(error, RequestNotPending) and error.params.get("meeting_request") in NOT_PENDING:
        return t(NOT_PENDING[MeetingStatus(error.params["meeting_request"])])
    return t(error.message, **{k: escape(str(v)) for k, v in labels.params_for(locale, error.params).items()})


async def stale(
    error: DomainError, message: Message, t: Translate, locale: Locale, callback_answer: CallbackAnswer
) -> None:
    """A button that no longer applies: a toast and a short reply with the way on; its buttons go."""
    text = error_text(error, t, locale)
    callback_answer.text = text[:200]
    with contextlib.suppress(TelegramBadRequest):  # the buttons may be gone already
        await message.edit_reply_markup(reply_markup=None)
    await message.answer(f"{text}\n{t(WAY_ON)}")


# -------------------------------------------------------------------------------------------- /meetings


def _short(meeting: MeetingRequest, person_id: int) -> str:
    return meeting_other(meeting, person_id).title[:24]


async def render_meetings(
    person: Person, cursor: str, t: Translate, locale: Locale
) -> tuple[str, InlineKeyboardMarkup]:
    page = await personal.page_of_person(person.id, cursor=cursor or None)
    mine = await personal.roadshows_of(person.id)
    kb = InlineKeyboardBuilder()
    if page.items:
        lines = ["🤝 <b>" + t(N_("My meetings and requests")) + "</b>"]
        for meeting in page.items:
            lines.append(f"{meeting_line(meeting, person.id, t, locale)}\n   {escape(meeting.session.event.title)}")
            if meeting.message and meeting.status == MeetingStatus.PENDING:
                lines.append("   💬 " + escape(meeting.message[:200]))
            who = _short(meeting, person.id)
            accept, decline, withdraw = t(N_("Accept")), t(N_("Decline")), t(N_("Withdraw"))
            if meeting.status == MeetingStatus.ACCEPTED:
                call_off = t(N_("Cancel the meeting"))
                kb.button(text=f"⛔ {call_off} · {who}", callback_data=MeetingAnswer(action="c", request_id=meeting.id))
            elif meeting.recipient.person_id == person.id:
                kb.button(text=f"✅ {accept} · {who}", callback_data=MeetingAnswer(action="a", request_id=meeting.id))
                kb.button(text=f"✖️ {decline} · {who}", callback_data=MeetingAnswer(action="d", request_id=meeting.id))
            else:
                kb.button(
                    text=f"↩️ {withdraw} · {who}",
                    callback_data=MeetingAnswer(action="w", request_id=meeting.id),
                )
        text = "\n\n".join([lines[0], "\n".join(lines[1:])])
    elif cursor:
        text = t(N_("No more meetings."))
    else:
        text = "🤝 " + t(N_("You have no meetings or requests."))
    if page.next_cursor:
        kb.button(text="➡️ " + t(N_("More")), callback_data=MeetingsPage(cursor=page.next_cursor))
    for participation in mine[:5]:
        label = t(N_("Ask for a meeting at %(title)s"), title=participation.event.title[:30])
        kb.button(text="➕ " + label, callback_data=MeetingAsk(me=participation.id))
    kb.adjust(1)
    return text, kb.as_markup()


async def meetings_command(message: Message, person: Person, t: Translate, locale: Locale) -> None:
    text, markup = await render_meetings(person, "", t, locale)
    await message.answer(text, reply_markup=markup)


async def meetings_page(
    query: CallbackQuery, message: Message, callback_data: MeetingsPage, person: Person, t: Translate, locale: Locale
) -> None:
    text, markup = await render_meetings(person, callback_data.cursor, t, locale)
    await message.answer(text, reply_markup=markup)


ANSWERS = {"a": requests.accept, "d": requests.decline, "w": requests.withdraw, "x": requests.cancel}
DONE = {
    "a": N_("Accepted: the meeting is on."),
    "d": N_("Declined; the slot is free again."),
    "w": N_("Withdrawn; the slot is free again."),
    "x": N_("The meeting is cancelled; we told the other side."),
}


async def confirm_cancel(message: Message, request_id: int, person: Person, t: Translate, locale: Locale) -> None:
    """Calling a meeting off asks once more (``c``); the answer (``x``) cancels."""
    meeting = await requests.get_request(request_id, person_id=person.id)
    kb = InlineKeyboardBuilder()
    kb.button(
        text="✅ " + t(N_("Yes, cancel the meeting")), callback_data=MeetingAnswer(action="x", request_id=meeting.id)
    )
    kb.button(text=t(N_("No, keep the meeting")), callback_data=MeetingsPage())
    kb.adjust(1)
    line = meeting_line(meeting, person.id, t, locale)
    await message.answer(
        t(N_("Cancel this meeting? The other side will be told.")) + "\n" + line, reply_markup=kb.as_markup()
    )


async def answer(
    query: CallbackQuery,
    message: Message,
    callback_data: MeetingAnswer,
    person: Person,
    t: Translate,
    locale: Locale,
    callback_answer: CallbackAnswer,
) -> None:
    if callback_data.action == "c":
        try:
            await confirm_cancel(message, callback_data.request_id, person, t, locale)
        except MeetingNotFound as error:
            await stale(error, message, t, locale, callback_answer)
        return
    act = ANSWERS.get(callback_data.action)
    if act is None:
        await stale(MeetingNotFound(), message, t, locale, callback_answer)
        return
    try:
        meeting = await act(callback_data.request_id, acting(person))
    except STALE as error:
        await stale(error, message, t, locale, callback_answer)
        return
    done = t(DONE[callback_data.action])
    callback_answer.text = done
    with contextlib.suppress(TelegramBadRequest):
        await message.edit_reply_markup(reply_markup=None)
    await message.answer(f"{done}\n{meeting_line(meeting, person.id, t, locale)}\n{t(WAY_ON)}")


# ---------------------------------------------------------------------------------------- asking for one


async def ask(
    query: CallbackQuery,
    message: Message,
    callback_data: MeetingAsk,
    person: Person,
    t: Translate,
    locale: Locale,
    state: FSMContext,
) -> None:
    me = await personal.participation(person.id, callback_data.me)
    kb = InlineKeyboardBuilder()
    if not callback_data.other:
        others = await personal.candidates(me)
        if not others:
            await message.answer(t(N_("Nobody at this event is free to ask right now.")) + "\n" + t(WAY_ON))
            return
        for other in others[:30]:
            label = f"{other.title[:36]} · {t(ROLE_LABELS[other.role])}"
            kb.button(text=label, callback_data=MeetingAsk(me=me.id, other=other.id))
        kb.button(text="✖️ " + t(N_("Cancel")), callback_data=AbortFlow())
        kb.adjust(1)
        await message.answer(
            t(N_("Whom would you like to meet at %(title)s?"), title=escape(me.event.title)),
            reply_markup=kb.as_markup(),
        )
        return
    other = await personal.participation_at(me.event_id, callback_data.other)
    if not callback_data.slot:
        slots = await personal.free_slots(me, other)
        if not slots:
            await message.answer(t(N_("No slot is free for you both any more.")) + "\n" + t(WAY_ON))
            return
        for slot in slots:
            kb.button(
                text=when(slot.starts_at, slot.ends_at, locale),
                callback_data=MeetingAsk(me=me.id, other=other.id, slot=slot.id),
            )
        kb.button(text="✖️ " + t(N_("Cancel")), callback_data=AbortFlow())
        kb.adjust(2)
        await message.answer(
            t(N_("When? Slots free for you both with %(who)s:"), who=escape(other.title)), reply_markup=kb.as_markup()
        )
        return
    await state.set_state(AskFlow.message)
    await state.update_data(me=me.id, other=other.id, slot=callback_data.slot)
    kb.button(text="➡️ " + t(N_("Send without a message")), callback_data=MeetingNoMessage())
    kb.button(text="✖️ " + t(N_("Cancel")), callback_data=AbortFlow())
    kb.adjust(1)
    await message.answer(
        t(
            N_("Add a short message for %(who)s (what you would like to talk about), or send it without one."),
            who=escape(other.title),
        ),
        reply_markup=kb.as_markup(),
    )


async def _send_request(
    target: Message, person: Person, state: FSMContext, text: str, t: Translate, locale: Locale
) -> None:
    data = await state.get_data()
    await state.clear()
    if not data.get("slot"):
        await target.answer(t(N_("Nothing to send.")) + "\n" + t(WAY_ON))
        return
    made = await requests.request_meeting(
        MeetingRequestInput(
            slot_id=data["slot"], requester_id=data["me"], recipient_id=data["other"], message=text[:1000]
        ),
        actor=f"telegram:{person.telegram_id}",
        origin="bot",
        person_id=person.id,
    )
    meeting = await requests.get_request(made.id)
    await target.answer(
        "📨 "
        + t(
            N_("Request sent. The slot is held for you both until they answer (by %(expires)s)."),
            expires=localtime.stamp(meeting.expires_at),
        )
        + "\n"
        + meeting_line(meeting, person.id, t, locale)
        + "\n"
        + t(WAY_ON)
    )


async def ask_message(message: Message, person: Person, t: Translate, locale: Locale, state: FSMContext) -> None:
    await _send_request(message, person, state, (message.text or "").strip(), t, locale)


async def ask_no_message(
    query: CallbackQuery, message: Message, person: Person, t: Translate, locale: Locale, state: FSMContext
) -> None:
    await _send_request(message, person, state, "", t, locale)


# ------------------------------------------------------------------------------------------- afterwards


async def _my_side(request_id: int, person: Person) -> tuple[MeetingRequest, int]:
    meeting = await requests.get_request(request_id, person_id=person.id)
    side = meeting.requester if meeting.requester.person_id == person.id else meeting.recipient
    return meeting, side.id


def _chosen(label: str, data: MeetingRate | MeetingFollowUp) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text="✅ " + label, callback_data=data)
    return kb.as_markup()


async def rate(
    query: CallbackQuery,
    message: Message,
    callback_data: MeetingRate,
    person: Person,
    t: Translate,
    locale: Locale,
    callback_answer: CallbackAnswer,
) -> None:
    rating = RATING_CODES.get(callback_data.answer)
    try:
        if rating is None:
            raise MeetingNotFound()
        meeting, side = await _my_side(callback_data.request_id, person)
        await outcomes.rate(meeting.id, side, rating, acting(person))
    except STALE as error:
        await stale(error, message, t, locale, callback_answer)
        return
    callback_answer.text = t(N_("Thank you, noted."))
    with contextlib.suppress(TelegramBadRequest):  # "not modified" on a repeated tap
        await message.edit_reply_markup(reply_markup=_chosen(t(RATING_LABELS[rating]), callback_data))


async def follow_up(
    query: CallbackQuery,
    message: Message,
    callback_data: MeetingFollowUp,
    person: Person,
    t: Translate,
    locale: Locale,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    said = FOLLOW_UP_CODES.get(callback_data.answer)
    try:
        if said is None:
            raise MeetingNotFound()
        meeting, side = await _my_side(callback_data.request_id, person)
        await outcomes.follow_up(meeting.id, side, said, acting(person))
    except STALE as error:
        await stale(error, message, t, locale, callback_answer)
        return
    callback_answer.text = t(N_("Thank you, noted."))
    with contextlib.suppress(TelegramBadRequest):
        await message.edit_reply_markup(reply_markup=_chosen(t(FOLLOW_UP_LABELS[said]), callback_data))
    if said != FollowUpAnswer.SIGNED:
        return
    if await outcomes.deal_of(meeting.id) is not None:  # the other side (or the organizer) recorded it
        await _record(message, person, state, "", t, data={"request": meeting.id, "side": side})
        return
    investment = outcomes.deal_kind(meeting) == TransferKind.INVESTMENT
    await state.set_state(DealFlow.amount)
    await state.update_data(request=meeting.id, side=side, investment=investment)
    question = (
        N_("Congratulations! How much was invested, in 万元 (10,000 CNY)? E.g. 500")
        if investment
        else N_("Congratulations! What is the contract worth, in 万元 (10,000 CNY)? E.g. 120")
    )
    await message.answer(t(question), reply_markup=cancel_button(t))


def _amount(text: str) -> Decimal | None:
    cleaned = text.replace(",", "").replace("，", "").replace("万元", "").replace("万", "").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() and value > 0 else None


async def deal_amount(message: Message, person: Person, t: Translate, locale: Locale, state: FSMContext) -> None:
    amount = _amount(message.text or "")
    if amount is None:
        await message.answer(
            t(N_("Please send the amount as a number of 万元, e.g. 120.")), reply_markup=cancel_button(t)
        )
        return
    await state.update_data(amount=str(amount))
    if (await state.get_data()).get("investment"):
        await state.set_state(DealFlow.round)
        kb = InlineKeyboardBuilder()
        for name in ROUNDS:
            kb.button(text=name, callback_data=DealRound(round=name))
        kb.button(text="✖️ " + t(N_("Cancel")), callback_data=AbortFlow())
        kb.adjust(3, 3, 1)
        await message.answer(t(N_("Which round?")), reply_markup=kb.as_markup())
        return
    await _record(message, person, state, "", t)


async def deal_round(
    query: CallbackQuery, message: Message, callback_data: DealRound, person: Person, t: Translate, state: FSMContext
) -> None:
    await _record(message, person, state, callback_data.round, t)


async def _record(
    target: Message,
    person: Person,
    state: FSMContext,
    round_name: str,
    t: Translate,
    *,
    data: dict[str, Any] | None = None,
) -> None:
    """Record the deal of the flow's data (or of ``data``: linking one recorded already, no amount)."""
    if data is None:
        data = await state.get_data()
    await state.clear()
    try:
        deal_input = (
            outcomes.DealInput(amount_wan=Decimal(data["amount"]), investment_round=round_name)
            if "amount" in data
            else None
        )
    except (ValidationError, InvalidOperation):
        await target.answer(t(N_("Please send the amount as a number of 万元, e.g. 120.")) + "\n" + t(WAY_ON))
        return
    deal = await outcomes.record_deal(data["request"], data["side"], deal_input, acting(person))
    amount = f"{(deal.transfer.amount_cny / 10_000).normalize():f}"
    if not deal.recorded:
        text = t(
            N_("The other side has recorded this already (%(amount)s 万元); your answer is linked to it."),
            amount=amount,
        )
    elif deal.investment:
        text = t(
            N_("Recorded: an investment of %(amount)s 万元 (round %(round)s). Thank you!"),
            amount=amount,
            round=escape(deal.transfer.investment_round),
        )
    else:
        text = t(N_("Recorded: a technology contract of %(amount)s 万元. Thank you!"), amount=amount)
    await target.answer(text)


def make_router() -> Router:
    router = Router(name="meetings")
    router.message.register(meetings_command, Command("meetings"))
    router.callback_query.register(meetings_page, MeetingsPage.filter())
    router.callback_query.register(answer, MeetingAnswer.filter())
    router.callback_query.register(ask, MeetingAsk.filter())
    router.message.register(ask_message, AskFlow.message, F.text)
    router.callback_query.register(ask_no_message, AskFlow.message, MeetingNoMessage.filter())
    router.callback_query.register(rate, MeetingRate.filter())
    router.callback_query.register(follow_up, MeetingFollowUp.filter())
    router.message.register(deal_amount, DealFlow.amount, F.text)
    router.callback_query.register(deal_round, DealFlow.round, DealRound.filter())
    return router
