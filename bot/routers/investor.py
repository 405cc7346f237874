"""/investor: an investor's own profile, step by step (name or fund, organization, fields of interest,
rounds, ticket size in 万元, districts, confirmation), shown and changed again later; and 想约谈 on a
matched pitch.

The profile is made by the same service as the API's (``investors.save_own_investor``): unverified, linked
to the person, until an organizer verifies it. The flow's answers live in the FSM storage like /demand's.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import AbortFlow, InvestorConfirm, InvestorEdit, InvestorSkip, InvestorToggle, PitchInterest
from bot.i18n import Translate
from events import districts, supply_fields
from events.errors import N_, InvalidInput, ParticipantNotFound
from events.i18n import Locale, gettext
from events.models import Investor, Person
from events.services import investors
from events.services.roadshows import pitches

MAX_NAME = 200
WAN = 10_000  # yuan in one 万元
MAX_WAN = investors.MAX_TICKET // WAN
_RANGE = re.compile(r"^(\d+(?:\.\d+)?)\s*(?:-|~|～|–|—|至|到|to)\s*(\d+(?:\.\d+)?)\s*(?:万元?)?$", re.IGNORECASE)
SKIP_WORDS = {"跳过", "skip", "-", "—", "无"}
# The choices of each toggled step: its state-data key and its codes.
CHOICES: dict[str, tuple[str, tuple[str, ...]]] = {
    "f": ("fields", tuple(f.code for f in supply_fields.FIELDS)),
    "s": ("stages", tuple(investors.ROUNDS)),
    "d": ("districts", tuple(d.code for d in districts.DISTRICTS)),
}


class InvestorFlow(StatesGroup):
    name = State()
    organization = State()
    fields = State()
    stages = State()
    ticket = State()
    districts = State()
    confirm = State()


def parse_ticket(text: str) -> tuple[int, int] | None:
    """A range in 万元 ("50-500", "50～500万", "50 到 500") as yuan; None when it is not one."""
    found = _RANGE.match(text.strip().replace(",", "").replace("，", ""))
    if found is None:
        return None
    return round(float(found[1]) * WAN), round(float(found[2]) * WAN)


def _label(step: str, code: str, locale: Locale) -> str:
    if step == "f":
        return supply_fields.label(code, locale) or code
    if step == "s":
        return gettext(locale, investors.ROUNDS.get(code, code))
    return districts.label(code, locale, short=True) or code


def _skip_keyboard(t: Translate) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text="⏭ " + t(N_("Skip")), callback_data=InvestorSkip())
    kb.button(text="✖️ " + t(N_("Cancel")), callback_data=AbortFlow())
    return kb.as_markup()


def _toggle_keyboard(step: str, chosen: list[str], t: Translate, locale: Locale) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for code in CHOICES[step][1]:
        mark = "✅ " if code in chosen else ""
        kb.button(text=mark + _label(step, code, locale), callback_data=InvestorToggle(step=step, value=code))
    kb.adjust(2)
    end = InlineKeyboardBuilder()
    end.button(text="➡️ " + t(N_("Done")), callback_data=InvestorToggle(step=step))
    end.button(text="✖️ " + t(N_("Cancel")), callback_data=AbortFlow())
    kb.attach(end)
    return kb.as_markup()


def _money(low: int | None, high: int | None, t: Translate) -> str:
    if low is None and high is None:
        return "-"
    return t(N_("%(low)s–%(high)s 万元"), low=f"{(low or 0) / WAN:g}", high=f"{(high or 0) / WAN:g}")


def profile_text(investor: Investor, t: Translate, locale: Locale) -> str:
    """A profile as the bot shows it (also the confirmation's body)."""
    return _summary(
        {
            "name": investor.name,
            "organization": investor.organization.name if investor.organization else None,
            "fields": investor.fields_of_interest,
            "stages": investor.stages,
            "ticket": [investor.ticket_min_cny, investor.ticket_max_cny],
            "districts": investor.districts,
        },
        t,
        locale,
    )


def _summary(data: dict[str, Any], t: Translate, locale: Locale) -> str:
    sep = "、" if locale == "zh" else ", "

    def names(step: str) -> str:
        return sep.join(_label(step, c, locale) for c in data.get(CHOICES[step][0]) or []) or "-"

    low, high = (data.get("ticket") or [None, None])[:2]
    return "\n".join(
        [
            f"<b>{escape(data.get('name') or '')}</b>",
            t(N_("Organization: %(name)s"), name=escape(data.get("organization") or "-")),
            t(N_("Fields: %(names)s"), names=names("f")),
            t(N_("Rounds: %(names)s"), names=names("s")),
            t(N_("Ticket size: %(range)s"), range=_money(low, high, t)),
            t(N_("Districts: %(names)s"), names=names("d")),
        ]
    )


async def investor_command(message: Message, person: Person, t: Translate, locale: Locale, state: FSMContext) -> None:
    found = await investors.investor_of_person(person.id)
    if found is None:
        await _start(message, t, state, None)
        return
    status = (
        t(N_("Verified by the organizers.")) if found.verified else t(N_("Waiting to be verified by the organizers."))
    )
    kb = InlineKeyboardBuilder()
    kb.button(text="✏️ " + t(N_("Edit my profile")), callback_data=InvestorEdit())
    await message.answer(
        "💼 " + t(N_("My investor profile")) + "\n" + profile_text(found, t, locale) + "\n" + status,
        reply_markup=kb.as_markup(),
    )


async def edit_profile(query: CallbackQuery, message: Message, person: Person, t: Translate, state: FSMContext) -> None:
    await _start(message, t, state, await investors.investor_of_person(person.id))


async def _start(message: Message, t: Translate, state: FSMContext, current: Investor | None) -> None:
    """Ask every step; when a profile exists its values are what ⏭ keeps and what the toggles start from."""
    data: dict[str, Any] = {"editing": current is not None}
    if current is not None:
        data |= {
            "name": current.name,
            "organization": current.organization.name if current.organization else None,
            "fields": list(current.fields_of_interest), "stages": list(current.stages),
            "ticket": [current.ticket_min_cny, current.ticket_max_cny], "districts": list(current.districts),
        }  # fmt: skip
    await state.set_state(InvestorFlow.name)
    await state.set_data(data)
    intro = t(N_("Your investor profile. Projects that fit it reach you before each roadshow you take part in."))
    ask = t(N_("Your name, or your fund's name? (/cancel leaves at any step)"))
    await message.answer(f"💼 {intro}\n{ask}", reply_markup=_skip_keyboard(t) if current else None)


async def got_name(message: Message, t: Translate, state: FSMContext) -> None:
    name = (message.text or "").strip()
    if not name or len(name) > MAX_NAME or name.startswith("/"):
        await message.answer(t(N_("Please send a name of up to %(n)s characters."), n=MAX_NAME))
        return
    await state.update_data(name=name)
    await _ask_organization(message, t, state)


async def _ask_organization(message: Message, t: Translate, state: FSMContext) -> None:
    await state.set_state(InvestorFlow.organization)
    await message.answer(t(N_("Which organization do you invest for (a fund, a company)? Or skip.")),
                         reply_markup=_skip_keyboard(t))  # fmt: skip


async def got_organization(message: Message, t: Translate, locale: Locale, state: FSMContext) -> None:
    text = (message.text or "").strip()
    if len(text) > MAX_NAME:
        await message.answer(t(N_("Please send a name of up to %(n)s characters."), n=MAX_NAME),
                             reply_markup=_skip_keyboard(t))  # fmt: skip
        return
    await state.update_data(organization=None if text.casefold() in SKIP_WORDS else text)
    await _ask_toggles(message, t, locale, state, "f")


ASK = {
    "f": N_("Which fields do you invest in? Tap all that apply, then Done."),
    "s": N_("Which rounds do you invest in? Tap all that apply, then Done."),
    "d": N_("Which districts do you invest in? Tap all that apply, then Done (none: anywhere)."),
}
STATE_OF = {"f": InvestorFlow.fields, "s": InvestorFlow.stages, "d": InvestorFlow.districts}


async def _ask_toggles(message: Message, t: Translate, locale: Locale, state: FSMContext, step: str) -> None:
    await state.set_state(STATE_OF[step])
    chosen = (await state.get_data()).get(CHOICES[step][0]) or []
    await message.answer(t(ASK[step]), reply_markup=_toggle_keyboard(step, chosen, t, locale))


async def toggled(
    query: CallbackQuery, message: Message, callback_data: InvestorToggle, t: Translate, locale: Locale,
    state: FSMContext, callback_answer: CallbackAnswer,
) -> None:  # fmt: skip
    step, value = callback_data.step, callback_data.value
    current = await state.get_state()
    if step not in STATE_OF or current != STATE_OF[step].state:
        callback_answer.text = t(N_("Please tap one of the choices above."))
        return
    key, codes = CHOICES[step]
    chosen: list[str] = list((await state.get_data()).get(key) or [])
    if value:
        if value not in codes:
            callback_answer.text = t(N_("Please tap one of the choices above."))
            return
        chosen = [c for c in chosen if c != value] if value in chosen else [*chosen, value]
        await state.update_data({key: chosen})
        await message.edit_reply_markup(reply_markup=_toggle_keyboard(step, chosen, t, locale))
        return
    if step in ("f", "s") and not chosen:
        callback_answer.text = t(N_("Please choose at least one."))
        await message.answer(t(N_("Please choose at least one.")))
        return
    if step == "f":
        await _ask_toggles(message, t, locale, state, "s")
    elif step == "s":
        await _ask_ticket(message, t, state)
    else:
        await _ask_confirmation(message, t, locale, state)


async def _ask_ticket(message: Message, t: Translate, state: FSMContext) -> None:
    await state.set_state(InvestorFlow.ticket)
    await message.answer(
        t(N_("How much do you invest per deal, in 万元 (10,000 yuan)? Send a range like “50-500”.")),
        reply_markup=_skip_keyboard(t),
    )


async def got_ticket(message: Message, t: Translate, locale: Locale, state: FSMContext) -> None:
    text = (message.text or "").strip()
    if text.casefold() in SKIP_WORDS:
        await _ask_toggles(message, t, locale, state, "d")
        return
    found = parse_ticket(text)
    if found is None:
        await message.answer(t(N_("Please send a range in 万元 like “50-500”.")), reply_markup=_skip_keyboard(t))
        return
    low, high = found
    if low > high:
        await message.answer(
            t(N_("The smallest ticket must not be above the largest: please send the range again.")),
            reply_markup=_skip_keyboard(t),
        )
        return
    if high > investors.MAX_TICKET:
        await message.answer(t(N_("That is more than %(n)s 万元: please check the range."), n=MAX_WAN),
                             reply_markup=_skip_keyboard(t))  # fmt: skip
        return
    await state.update_data(ticket=[low, high])
    await _ask_toggles(message, t, locale, state, "d")


async def skipped(query: CallbackQuery, message: Message, t: Translate, locale: Locale, state: FSMContext) -> None:
    step = await state.get_state()
    data = await state.get_data()
    if step == InvestorFlow.name.state and data.get("name"):
        await _ask_organization(message, t, state)
    elif step == InvestorFlow.organization.state:
        await _ask_toggles(message, t, locale, state, "f")
    elif step == InvestorFlow.ticket.state:
        await _ask_toggles(message, t, locale, state, "d")


async def _ask_confirmation(message: Message, t: Translate, locale: Locale, state: FSMContext) -> None:
    await state.set_state(InvestorFlow.confirm)
    data = await state.get_data()
    kb = InlineKeyboardBuilder()
    kb.button(text="✅ " + t(N_("Save")), callback_data=InvestorConfirm())
    kb.button(text="✖️ " + t(N_("Cancel")), callback_data=AbortFlow())
    await message.answer(t(N_("Please confirm your investor profile:")) + "\n" + _summary(data, t, locale),
                         reply_markup=kb.as_markup())  # fmt: skip


async def confirm(query: CallbackQuery, message: Message, person: Person, t: Translate, state: FSMContext) -> None:
    data = await state.get_data()
    await state.clear()
    low, high = (data.get("ticket") or [None, None])[:2]
    found, created = await investors.save_own_investor(
        investors.InvestorInput(
            name=data["name"], organization=data.get("organization") or None, fields_of_interest=data.get("fields"),
            stages=data.get("stages"), ticket_min_cny=low, ticket_max_cny=high, districts=data.get("districts"),
        ),
        person=person, actor=f"telegram:{person.telegram_id}",
    )  # fmt: skip
    if found.verified:
        text = t(N_("Your investor profile is saved."))
    elif created:
        text = t(N_("Your investor profile is saved. The organizers will verify it; we will tell you here."))
    else:
        text = t(N_("Your investor profile is saved; it waits to be verified again by the organizers."))
    await message.answer("✅ " + text)


async def stale_confirm(query: CallbackQuery, message: Message, t: Translate) -> None:
    await message.answer(t(N_("This profile was already saved or cancelled. /investor shows it.")))


async def expected_button(message: Message, t: Translate) -> None:
    await message.answer(t(N_("Please tap one of the choices above. /cancel to leave.")))


async def want_meeting(
    query: CallbackQuery, message: Message, callback_data: PitchInterest, person: Person, t: Translate,
    callback_answer: CallbackAnswer,
) -> None:  # fmt: skip
    try:
        new = await pitches.want_meeting(person, callback_data.source, callback_data.target,
                                         actor=f"telegram:{person.telegram_id}")  # fmt: skip
    except (ParticipantNotFound, InvalidInput):
        callback_answer.text = t(N_("This match is no longer available."))
        return
    text = (
        t(N_("Noted: the organizers will try to schedule a meeting with this project."))
        if new
        else t(N_("You asked for this meeting already."))
    )
    callback_answer.text = text
    await message.answer("🤝 " + text)


def make_router() -> Router:
    router = Router(name="investor")
    router.message.register(investor_command, Command("investor"))
    router.callback_query.register(edit_profile, InvestorEdit.filter())
    router.message.register(got_name, InvestorFlow.name, F.text)
    router.message.register(got_organization, InvestorFlow.organization, F.text)
    router.callback_query.register(toggled, InvestorToggle.filter())
    router.message.register(got_ticket, InvestorFlow.ticket, F.text)
    router.callback_query.register(
        skipped, StateFilter(InvestorFlow.name, InvestorFlow.organization, InvestorFlow.ticket), InvestorSkip.filter()
    )
    router.callback_query.register(confirm, InvestorFlow.confirm, InvestorConfirm.filter())
    router.callback_query.register(stale_confirm, InvestorConfirm.filter())
    router.message.register(
        expected_button, StateFilter(InvestorFlow.fields, InvestorFlow.stages, InvestorFlow.districts,
                                     InvestorFlow.confirm),
    )  # fmt: skip
    router.message.register(expected_button, StateFilter(InvestorFlow.name, InvestorFlow.organization,
                                                         InvestorFlow.ticket))  # fmt: skip
    router.callback_query.register(want_meeting, PitchInterest.filter())
    return router
