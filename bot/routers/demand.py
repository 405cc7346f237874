"""/demand: posting a demand step by step (kind, title and problem, indicators, district, budget,
deadline, contact by Telegram's contact button, confirmation), /mydemands, and a broker's claim.

The flow's answers live in the FSM storage (the database by default), so a restart mid-flow leaves
the chat where it was. The demand is made by the same service as the API's, with source ``bot``.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import escape
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, ReplyKeyboardRemove
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import (
    AbortFlow,
    ClaimDemand,
    DemandBudget,
    DemandConfirm,
    DemandDistrict,
    DemandKindPick,
    DemandSkip,
)
from bot.i18n import Translate
from bot.views import cancel_button, contact_keyboard
from events import districts, labels, localtime
from events.errors import N_, InvalidInput
from events.i18n import Locale
from events.models import DemandKind, DemandSource, Person
from events.services import brokers, demand_status, demands, people
from events.settings import Settings

MIN_TEXT = 10
MAX_TEXT = 4000  # a Telegram message holds 4,096 characters
MAX_INDICATORS = 2000
DISTRICTS_PER_PAGE = 8
MAX_DEADLINE = timedelta(days=5 * 366)
# Budget buttons: (low, high) in yuan, and their labels.
BUDGETS: tuple[tuple[int | None, int | None, str], ...] = (
    (None, 500_000, N_("under 0.5 million yuan")),
    (500_000, 2_000_000, N_("0.5–2 million yuan")),
    (2_000_000, 10_000_000, N_("2–10 million yuan")),
    (10_000_000, None, N_("over 10 million yuan")),
)
SKIP_WORDS = {"跳过", "skip", "-", "—", "无"}
_DATE = re.compile(r"^(\d{4})[-./年](\d{1,2})[-./月](\d{1,2})日?$")
_SPAN = re.compile(r"^(\d{1,3})\s*(个月|月|months?|周|个星期|星期|weeks?|天|日|days?)$", re.IGNORECASE)


class DemandFlow(StatesGroup):
    kind = State()
    text = State()
    indicators = State()
    district = State()
    budget = State()
    deadline = State()
    contact = State()
    confirm = State()


def _skip_keyboard(t: Translate) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text="⏭ " + t(N_("Skip")), callback_data=DemandSkip())
    kb.button(text="✖️ " + t(N_("Cancel")), callback_data=AbortFlow())
    return kb.as_markup()


async def start_demand(message: Message, t: Translate, locale: Locale, state: FSMContext) -> None:
    await state.set_state(DemandFlow.kind)
    await state.set_data({})
    kb = InlineKeyboardBuilder()
    for kind in DemandKind:
        kb.button(text=labels.demand_kind(kind.value, locale), callback_data=DemandKindPick(kind=kind.value))
    kb.button(text="✖️ " + t(N_("Cancel")), callback_data=AbortFlow())
    kb.adjust(2, 2, 1)
    await message.answer(
        t(N_("Post a demand. What do you need?\n(/cancel leaves at any step)")), reply_markup=kb.as_markup()
    )


async def got_kind(
    query: CallbackQuery, message: Message, callback_data: DemandKindPick, t: Translate, state: FSMContext
) -> None:
    if callback_data.kind not in {k.value for k in DemandKind}:
        await message.answer(t(N_("Please tap one of the choices above.")))
        return
    await state.update_data(kind=callback_data.kind)
    await state.set_state(DemandFlow.text)
    await message.answer(
        t(
            N_(
                "Describe the demand: the first line is its title (up to %(title)s characters), the lines after "
                "it the problem you need solved."
            ),
            title=demands.MAX_TITLE,
        ),
        reply_markup=cancel_button(t),
    )


async def got_text(message: Message, t: Translate, state: FSMContext) -> None:
    text = (message.text or "").strip()
    title, _, description = text.partition("\n")
    title, description = title.strip(), description.strip()
    if len(text) < MIN_TEXT:
        await message.answer(
            t(N_("That is too short: please say what you need in at least %(n)s characters."), n=MIN_TEXT),
            reply_markup=cancel_button(t),
        )
        return
    if len(text) > MAX_TEXT:
        await message.answer(
            t(N_("That is too long: please keep it under %(n)s characters."), n=MAX_TEXT),
            reply_markup=cancel_button(t),
        )
        return
    if len(title) > demands.MAX_TITLE:
        await message.answer(
            t(N_("The first line is the title: please keep it under %(n)s characters."), n=demands.MAX_TITLE),
            reply_markup=cancel_button(t),
        )
        return
    await state.update_data(title=title, description=description)
    await state.set_state(DemandFlow.indicators)
    await message.answer(
        t(N_("Core indicators: what must a solution reach (e.g. “thermal resistance down 30%”)? Or skip.")),
        reply_markup=_skip_keyboard(t),
    )


async def got_indicators(message: Message, t: Translate, locale: Locale, state: FSMContext) -> None:
    text = (message.text or "").strip()
    if text.casefold() in SKIP_WORDS:
        text = ""
    if len(text) > MAX_INDICATORS:
        await message.answer(
            t(N_("That is too long: please keep it under %(n)s characters."), n=MAX_INDICATORS),
            reply_markup=_skip_keyboard(t),
        )
        return
    await state.update_data(indicators=text)
    await _ask_district(message, t, locale, state, page=0)


def _district_keyboard(t: Translate, locale: Locale, page: int) -> InlineKeyboardMarkup:
    pages = (len(districts.DISTRICTS) + DISTRICTS_PER_PAGE - 1) // DISTRICTS_PER_PAGE
    page = max(0, min(page, pages - 1))
    kb = InlineKeyboardBuilder()
    for district in districts.DISTRICTS[page * DISTRICTS_PER_PAGE : (page + 1) * DISTRICTS_PER_PAGE]:
        kb.button(
            text=districts.label(district.code, locale, short=True), callback_data=DemandDistrict(code=district.code)
        )
    kb.adjust(2)
    nav = InlineKeyboardBuilder()
    if page > 0:
        nav.button(text="⬅️", callback_data=DemandDistrict(page=page - 1))
    if page < pages - 1:
        nav.button(text="➡️", callback_data=DemandDistrict(page=page + 1))
    nav.button(text="⏭ " + t(N_("Skip")), callback_data=DemandSkip())
    nav.button(text="✖️ " + t(N_("Cancel")), callback_data=AbortFlow())
    kb.attach(nav)
    return kb.as_markup()


async def _ask_district(message: Message, t: Translate, locale: Locale, state: FSMContext, *, page: int) -> None:
    await state.set_state(DemandFlow.district)
    await message.answer(t(N_("Which district is it in?")), reply_markup=_district_keyboard(t, locale, page))


async def got_district(
    query: CallbackQuery,
    message: Message,
    callback_data: DemandDistrict,
    t: Translate,
    locale: Locale,
    state: FSMContext,
) -> None:
    if not callback_data.code:  # a page turn
        await message.edit_reply_markup(reply_markup=_district_keyboard(t, locale, callback_data.page))
        return
    if not districts.is_known(callback_data.code):
        await message.answer(t(N_("Please tap one of the choices above.")))
        return
    await state.update_data(district=callback_data.code)
    await _ask_budget(message, t, state)


async def _ask_budget(message: Message, t: Translate, state: FSMContext) -> None:
    await state.set_state(DemandFlow.budget)
    kb = InlineKeyboardBuilder()
    for index, (_, _, label) in enumerate(BUDGETS):
        kb.button(text=t(label), callback_data=DemandBudget(index=index))
    kb.adjust(2)
    kb.attach(InlineKeyboardBuilder.from_markup(_skip_keyboard(t)))
    await message.answer(t(N_("What budget do you have in mind?")), reply_markup=kb.as_markup())


async def got_budget(
    query: CallbackQuery, message: Message, callback_data: DemandBudget, t: Translate, state: FSMContext
) -> None:
    if not 0 <= callback_data.index < len(BUDGETS):
        await message.answer(t(N_("Please tap one of the choices above.")))
        return
    await state.update_data(budget=callback_data.index)
    await _ask_deadline(message, t, state)


async def _ask_deadline(message: Message, t: Translate, state: FSMContext) -> None:
    await state.set_state(DemandFlow.deadline)
    await message.answer(
        t(N_("By when do you need it? A date like 2027-03-31, or a span like “3个月” / “3 months”; or skip.")),
        reply_markup=_skip_keyboard(t),
    )


def parse_deadline(text: str, today: date) -> date | None:
    """A date ("2027-03-31", "2027年3月31日") or a span from today ("3个月", "2 weeks", "10天");
    None when the text is neither. Months are counted as 30 days."""
    text = text.strip()
    if found := _DATE.match(text):
        try:
            return date(int(found[1]), int(found[2]), int(found[3]))
        except ValueError:
            return None
    if found := _SPAN.match(text):
        n, unit = int(found[1]), found[2].casefold()
        days = 30 * n if unit in ("个月", "月") or unit.startswith("month") else n
        if unit in ("周", "个星期", "星期") or unit.startswith("week"):
            days = 7 * n
        return today + timedelta(days=days)
    return None


async def got_deadline(message: Message, person: Person, t: Translate, state: FSMContext) -> None:
    text = (message.text or "").strip()
    if text.casefold() in SKIP_WORDS:
        await state.update_data(deadline=None)
        await _ask_contact(message, t, state)
        return
    today = demand_status.local_today()
    deadline = parse_deadline(text, today)
    if deadline is None:
        await message.answer(
            t(N_("Please send a date like 2027-03-31 or a span like “3个月”, or skip.")), reply_markup=_skip_keyboard(t)
        )
        return
    if deadline < today:
        await message.answer(
            t(N_("That date has passed: please send a date from today on.")), reply_markup=_skip_keyboard(t)
        )
        return
    if deadline > today + MAX_DEADLINE:
        await message.answer(
            t(N_("That is more than five years away: please send a nearer date.")), reply_markup=_skip_keyboard(t)
        )
        return
    await state.update_data(deadline=deadline.isoformat())
    await _ask_contact(message, t, state)


async def _ask_contact(message: Message, t: Translate, state: FSMContext) -> None:
    await state.set_state(DemandFlow.contact)
    await message.answer(
        t(N_("Who should a broker or a partner call? Please share your phone number with the button below.")),
        reply_markup=contact_keyboard(t),
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
    await message.answer(t(N_("Thank you.")), reply_markup=ReplyKeyboardRemove())
    await _ask_confirmation(message, person, t, locale, state)


async def phone_typed(message: Message, t: Translate) -> None:
    await message.answer(
        t(N_("Please use the button to share your phone number; typed numbers are not accepted.")),
        reply_markup=contact_keyboard(t),
    )


def _budget_label(data: dict[str, Any], t: Translate) -> str:
    index = data.get("budget")
    return t(BUDGETS[index][2]) if isinstance(index, int) and 0 <= index < len(BUDGETS) else "-"


async def _ask_confirmation(message: Message, person: Person, t: Translate, locale: Locale, state: FSMContext) -> None:
    data = await state.get_data()
    await state.set_state(DemandFlow.confirm)
    lines = [
        t(N_("Please confirm your demand:")),
        f"<b>{escape(data.get('title', ''))}</b> · {labels.demand_kind(data.get('kind', ''), locale)}",
    ]
    if data.get("description"):
        lines.append(escape(data["description"][:1000]))
    if data.get("indicators"):
        lines.append(t(N_("Core indicators: %(text)s"), text=escape(data["indicators"][:500])))
    lines.append(t(N_("District: %(district)s"), district=districts.label(data.get("district"), locale) or "-"))
    lines.append(t(N_("Budget: %(budget)s"), budget=_budget_label(data, t)))
    lines.append(t(N_("Deadline: %(date)s"), date=data.get("deadline") or "-"))
    lines.append(
        t(N_("Contact: %(name)s, %(phone)s"), name=escape(person.name), phone=people.display_phone(person.phone))
    )
    kb = InlineKeyboardBuilder()
    kb.button(text="✅ " + t(N_("Post it")), callback_data=DemandConfirm())
    kb.button(text="✖️ " + t(N_("Cancel")), callback_data=AbortFlow())
    await message.answer("\n".join(lines), reply_markup=kb.as_markup())


async def skipped(query: CallbackQuery, message: Message, person: Person, t: Translate, locale: Locale,
                  state: FSMContext) -> None:  # fmt: skip
    step = await state.get_state()
    if step == DemandFlow.indicators.state:
        await state.update_data(indicators="")
        await _ask_district(message, t, locale, state, page=0)
    elif step == DemandFlow.district.state:
        await state.update_data(district=None)
        await _ask_budget(message, t, state)
    elif step == DemandFlow.budget.state:
        await state.update_data(budget=None)
        await _ask_deadline(message, t, state)
    elif step == DemandFlow.deadline.state:
        await state.update_data(deadline=None)
        await _ask_contact(message, t, state)


async def confirm(
    query: CallbackQuery, message: Message, person: Person, t: Translate, locale: Locale, state: FSMContext
) -> None:
    data = await state.get_data()
    await state.clear()
    budget = data.get("budget")
    low, high = (BUDGETS[budget][0], BUDGETS[budget][1]) if isinstance(budget, int) else (None, None)
    demand = await demands.create_demand(
        demands.DemandInput(
            kind=data["kind"],
            title=data["title"],
            description=data.get("description") or "",
            indicators=data.get("indicators") or "",
            district=data.get("district"),
            budget_min_cny=low,
            budget_max_cny=high,
            deadline=date.fromisoformat(data["deadline"]) if data.get("deadline") else None,
            source=DemandSource.BOT,
        ),
        actor=f"telegram:{person.telegram_id}",
        contact_person_id=person.id,
    )
    lines = [
        "✅ " + t(N_("Your demand is posted as number %(id)s. We will tell you here when it is matched."), id=demand.id)
    ]
    if demand.duplicate_of is not None:
        lines.append(
            t(
                N_("It resembles demand #%(id)s “%(title)s” already open; a broker will look at both."),
                id=demand.duplicate_of.id,
                title=escape(demand.duplicate_of.title),
            )
        )
    await message.answer("\n".join(lines))


async def stale_confirm(query: CallbackQuery, message: Message, t: Translate) -> None:
    """The confirm button of a flow that was left or already posted."""
    await message.answer(t(N_("This demand was already posted or cancelled. /demand starts a new one.")))


async def expected_button(message: Message, t: Translate) -> None:
    await message.answer(t(N_("Please tap one of the choices above. /cancel to leave.")))


async def my_demands(message: Message, person: Person, t: Translate, locale: Locale) -> None:
    mine = await demands.demands_of_person(person.id)
    if not mine:
        await message.answer(t(N_("You have not posted any demand yet. /demand posts one.")))
        return
    lines = [t(N_("My demands"))]
    for demand in mine:
        lines.append(
            f"#{demand.id} {labels.demand_kind(demand.kind, locale)} · {escape(demand.title)} — "
            f"{labels.status(demand.status, locale)}"
        )
    await message.answer("\n".join(lines))


def claim_keyboard(demand_id: int, t: Translate) -> InlineKeyboardMarkup:
    """The button that goes with a demand shown to a broker (a push, a list)."""
    kb = InlineKeyboardBuilder()
    kb.button(text="🤝 " + t(N_("I will take it on")), callback_data=ClaimDemand(demand_id=demand_id))
    return kb.as_markup()


async def claim(
    query: CallbackQuery,
    message: Message,
    callback_data: ClaimDemand,
    person: Person,
    t: Translate,
    settings: Settings,
) -> None:
    broker = await brokers.broker_of_person(person.id)
    if broker is None:
        await message.answer(t(N_("Only technology brokers can take a demand on.")))
        return
    demand = await demands.claim_demand(
        callback_data.demand_id,
        broker.id,
        actor=f"telegram:{person.telegram_id}",
        follow_up=timedelta(days=settings.demand_follow_up_days),
    )
    assert demand.follow_up_due is not None
    await message.answer(
        t(
            N_("You hold demand #%(id)s now. Please follow it up by %(date)s."),
            id=demand.id,
            date=localtime.stamp(demand.follow_up_due),
        )
    )


def make_router() -> Router:
    router = Router(name="demand")
    router.message.register(start_demand, Command("demand"))
    router.message.register(my_demands, Command("mydemands"))
    router.callback_query.register(got_kind, DemandFlow.kind, DemandKindPick.filter())
    router.message.register(got_text, DemandFlow.text, F.text)
    router.message.register(got_indicators, DemandFlow.indicators, F.text)
    router.callback_query.register(got_district, DemandFlow.district, DemandDistrict.filter())
    router.callback_query.register(got_budget, DemandFlow.budget, DemandBudget.filter())
    router.message.register(got_deadline, DemandFlow.deadline, F.text)
    router.message.register(got_contact, DemandFlow.contact, F.contact)
    router.message.register(phone_typed, DemandFlow.contact)
    router.callback_query.register(
        skipped,
        StateFilter(DemandFlow.indicators, DemandFlow.district, DemandFlow.budget, DemandFlow.deadline),
        DemandSkip.filter(),
    )
    router.callback_query.register(confirm, DemandFlow.confirm, DemandConfirm.filter())
    router.callback_query.register(stale_confirm, DemandConfirm.filter())
    router.message.register(expected_button, StateFilter(DemandFlow.kind, DemandFlow.district, DemandFlow.budget,
                                                         DemandFlow.confirm))  # fmt: skip
    router.message.register(expected_button, DemandFlow.text)  # a photo or a sticker where text was asked
    router.callback_query.register(claim, ClaimDemand.filter())
    return router
