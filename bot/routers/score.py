"""/score: a judge scores in the chat during an on-site final — the entry on stage (the organizer sets
it), else a list of their entries; one message per criterion with buttons (0 to the maximum in even
steps) or a typed number; then confirm. The same scoring service as the API and the judge's page; its
refusals (round closed, a conflict, not assigned) come back as a short reply through the errors router.

Only ids, the criterion reached and the values go into the FSM data, so the flow survives a restart.
"""

from __future__ import annotations

import math
from html import escape

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import AbortFlow, ScoreConfirm, ScorePick, ScoreValue
from bot.i18n import Translate
from events.errors import N_, NotAssigned
from events.models import Criterion, Entry, Person
from events.services.competitions import judges, public, scoring
from events.services.competitions.config import load_config

MAX_BUTTONS = 11
NICE_STEPS = (0.5, 1, 2, 2.5, 5, 10, 20, 25, 50, 100)


class ScoreFlow(StatesGroup):
    criterion = State()
    confirm = State()


def steps(maximum: float) -> list[float]:
    """0 … max in the smallest even step giving at most 11 buttons (0–10 by 1, 0–100 by 10)."""
    step = next((s for s in NICE_STEPS if maximum / s <= MAX_BUTTONS - 1), math.ceil(maximum / (MAX_BUTTONS - 1)))
    values = [round(i * step, 2) for i in range(int(maximum / step) + 1)]
    if values[-1] < maximum:
        values.append(maximum)
    return values


def _num(value: float) -> str:
    return f"{value:g}"


async def score_command(message: Message, person: Person, t: Translate, state: FSMContext) -> None:
    await state.clear()
    queue = await public.to_score(person.id)
    if not queue:
        await message.answer(t(N_("You have nothing to score now.")))
        return
    stage = next((q for q in queue if q.on_stage), None)
    if stage is not None:
        await _begin(message, person, t, state, stage.competition_id, stage.round, stage.entry_id)
        return
    kb = InlineKeyboardBuilder()
    for q in queue[:30]:
        mark = "✅ " if q.submitted else ""
        kb.button(
            text=f"{mark}{q.entry_id} · {q.title}"[:60],
            callback_data=ScorePick(competition_id=q.competition_id, round=q.round, entry_id=q.entry_id),
        )
    kb.adjust(1)
    await message.answer(t(N_("Which entry do you score?")), reply_markup=kb.as_markup())


async def picked(
    query: CallbackQuery, message: Message, callback_data: ScorePick, person: Person, t: Translate, state: FSMContext
) -> None:
    await _begin(message, person, t, state, callback_data.competition_id, callback_data.round, callback_data.entry_id)


async def _begin(
    message: Message,
    person: Person,
    t: Translate,
    state: FSMContext,
    competition_id: int,
    round_code: str,
    entry_id: int,
) -> None:
    judge = await judges.judge_of_person(person.id, competition_id)
    if judge is None:
        raise NotAssigned()
    config = await load_config(competition_id)
    rnd = config.round(round_code)
    entry = await Entry.get_or_none(id=entry_id, competition_id=competition_id)
    if entry is None:
        raise NotAssigned()
    await state.set_data({"competition_id": competition_id, "round": rnd.code, "entry_id": entry_id, "values": {}})
    await state.set_state(ScoreFlow.criterion)
    await message.answer(
        t(N_("Scoring %(title)s (%(round)s)."), title=f"<b>{escape(entry.title)}</b>", round=escape(rnd.name))
    )
    await _ask(message, config.criteria, t, {})


def _keyboard(criterion: Criterion, t: Translate) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for value in steps(criterion.max):
        kb.button(text=_num(value), callback_data=ScoreValue(value=_num(value)))
    kb.adjust(6)
    kb.row()
    kb.button(text="✖️ " + t(N_("Cancel")), callback_data=AbortFlow())
    return kb.as_markup()


async def _ask(message: Message, criteria: list[Criterion], t: Translate, values: dict[str, float]) -> bool:
    """Ask the next criterion without a value; False when all have one."""
    for c in criteria:
        if c.key not in values:
            await message.answer(
                t(
                    N_("%(name)s (0–%(max)s): tap a value or type a number."),
                    name=f"<b>{escape(c.name)}</b>",
                    max=_num(c.max),
                ),
                reply_markup=_keyboard(c, t),
            )
            return True
    return False


async def _take(message: Message, t: Translate, state: FSMContext, raw: str) -> None:
    data = await state.get_data()
    config = await load_config(int(data["competition_id"]))
    values: dict[str, float] = dict(data.get("values", {}))
    current = next((c for c in config.criteria if c.key not in values), None)
    if current is None:
        return
    try:
        value = float(raw.replace(",", ".").replace("，", "."))
    except ValueError:
        value = -1.0
    if not math.isfinite(value) or not 0 <= value <= current.max:
        await message.answer(
            t(N_("Send a number from 0 to %(max)s for %(name)s."), max=_num(current.max), name=escape(current.name)),
            reply_markup=_keyboard(current, t),
        )
        return
    values[current.key] = value
    await state.update_data(values=values)
    if await _ask(message, config.criteria, t, values):
        return
    total = scoring.weighted_total(config.criteria, values)
    lines = [f"{escape(c.name)}: <b>{_num(values[c.key])}</b> / {_num(c.max)}" for c in config.criteria]
    lines.append(t(N_("Weighted total: %(total)s"), total=f"<b>{_num(round(total, 2))}</b>"))
    kb = InlineKeyboardBuilder()
    kb.button(text="✅ " + t(N_("Submit the score")), callback_data=ScoreConfirm())
    kb.button(text="✖️ " + t(N_("Cancel")), callback_data=AbortFlow())
    await state.set_state(ScoreFlow.confirm)
    await message.answer("\n".join(lines), reply_markup=kb.as_markup())


async def tapped(
    query: CallbackQuery, message: Message, callback_data: ScoreValue, t: Translate, state: FSMContext
) -> None:
    await _take(message, t, state, callback_data.value)


async def typed(message: Message, t: Translate, state: FSMContext) -> None:
    await _take(message, t, state, (message.text or "").strip()[:20])


async def confirm(query: CallbackQuery, message: Message, person: Person, t: Translate, state: FSMContext) -> None:
    data = await state.get_data()
    await state.clear()
    judge = await judges.judge_of_person(person.id, int(data["competition_id"]))
    if judge is None:
        raise NotAssigned()
    saved = await scoring.submit_score(
        int(data["competition_id"]),
        str(data["round"]),
        int(data["entry_id"]),
        scoring.ScoreInput(scores=data["values"], submit=True),
        judge=judge,
        actor=f"telegram:{person.telegram_id}",
        via="bot",
    )
    await message.answer(
        t(N_("Score submitted (total %(total)s). Send /score for the next entry."), total=_num(round(saved.total, 2)))
    )


def make_router() -> Router:
    router = Router(name="score")
    router.message.register(score_command, Command("score"))
    router.callback_query.register(picked, ScorePick.filter())
    router.callback_query.register(tapped, ScoreFlow.criterion, ScoreValue.filter())
    router.message.register(typed, ScoreFlow.criterion, F.text)
    router.callback_query.register(confirm, ScoreFlow.confirm, ScoreConfirm.filter())
    return router
