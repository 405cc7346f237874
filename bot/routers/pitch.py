"""During a roadshow: the pitch on stage now (/pitch) and the investors' taps on it (感兴趣 / 约谈 / 评分),
and the project's "interested too" back. Every rule is in ``events.services.roadshows.pitch_interest``."""

from __future__ import annotations

import contextlib
from html import escape

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import PitchBack, PitchTap
from bot.i18n import Translate
from events.errors import N_, PitchNotOnStage
from events.models import Person, Pitch, PitchReactionKind
from events.services.roadshows import lineup, pitch_interest

KINDS = {"i": PitchReactionKind.INTEREST, "m": PitchReactionKind.MEET, "s": PitchReactionKind.SCORE}


def tap_keyboard(pitch: Pitch, t: Translate, *, score_only: bool = False) -> InlineKeyboardMarkup:
    """The buttons of the push (``notifications.roadshows.tap_buttons``), for /pitch; a judge scores only."""
    kb = InlineKeyboardBuilder()
    if not score_only:
        kb.button(text=t(N_("👍 Interested")), callback_data=PitchTap(kind="i", pitch_id=pitch.id))
        kb.button(text=t(N_("🤝 Let's meet")), callback_data=PitchTap(kind="m", pitch_id=pitch.id))
    for n in range(1, 6):
        kb.button(text=f"{'⭐' if n == 1 else ''}{n}", callback_data=PitchTap(kind="s", pitch_id=pitch.id, score=n))
    kb.adjust(*((5,) if score_only else (2, 5)))
    return kb.as_markup()


async def show_on_stage(target: Message, person: Person, t: Translate) -> None:
    """The pitch on stage now at the person's roadshows, with the buttons when they are an investor there."""
    pitches = await pitch_interest.on_stage_for(person.id)
    if not pitches:
        await target.answer(t(N_("No pitch is on stage at your roadshows right now.")))
        return
    for pitch in pitches:
        text = "🎤 " + t(N_("On stage now:")) + f" <b>{escape(pitch.project.title)}</b>\n{escape(pitch.event.title)}"
        markup = None
        if await pitch_interest.investor_at(pitch.event_id, person.id) is not None:
            markup = tap_keyboard(pitch, t)
        elif await pitch_interest.judge_at(pitch.event_id, person.id):
            markup = tap_keyboard(pitch, t, score_only=True)
        await target.answer(text, reply_markup=markup)


async def pitch_command(message: Message, person: Person, t: Translate) -> None:
    await show_on_stage(message, person, t)


def _reply(tapped: pitch_interest.Tapped, kind: PitchReactionKind, t: Translate) -> str:
    if tapped.mutual:
        return t(N_("You both said yes: you are connected, and the organizers will follow it up."))
    if kind == PitchReactionKind.SCORE:
        return t(N_("Score %(score)s noted."), score=tapped.reaction.score)
    if not tapped.created:
        return t(N_("Noted already."))
    if kind == PitchReactionKind.MEET:
        return t(N_("Noted: we told the project you would like to meet."))
    return t(N_("Noted: we told the project you are interested."))


async def tap(
    query: CallbackQuery,
    message: Message,
    callback_data: PitchTap,
    person: Person,
    t: Translate,
    callback_answer: CallbackAnswer,
) -> None:
    kind = KINDS.get(callback_data.kind, PitchReactionKind.INTEREST)
    try:
        tapped = await pitch_interest.react(
            callback_data.pitch_id, person_id=person.id, kind=kind,
            score=callback_data.score if kind == PitchReactionKind.SCORE else None, origin="bot",
            actor=f"telegram:{person.telegram_id}",
        )  # fmt: skip
    except PitchNotOnStage:
        # The way on: the buttons of this pitch go, and the pitch on stage now (if any) is shown instead.
        callback_answer.text = t(N_("That pitch is no longer on stage."))
        with contextlib.suppress(TelegramBadRequest):
            await message.edit_reply_markup(reply_markup=None)
        await show_on_stage(message, person, t)
        return
    text = _reply(tapped, kind, t)
    callback_answer.text = text[:200]
    if tapped.mutual:
        await message.answer(text)


async def back(
    query: CallbackQuery,
    message: Message,
    callback_data: PitchBack,
    person: Person,
    t: Translate,
    callback_answer: CallbackAnswer,
) -> None:
    answer = await pitch_interest.answer_interest(
        callback_data.pitch_id, callback_data.investor_id, person_id=person.id, origin="bot",
        actor=f"telegram:{person.telegram_id}",
    )  # fmt: skip
    if answer.mutual:
        text = t(N_("You both said yes: you are connected, and the organizers will follow it up."))
    else:
        text = t(N_("Noted: we told them you are interested."))
    callback_answer.text = text[:200]
    with contextlib.suppress(TelegramBadRequest):
        await message.edit_reply_markup(reply_markup=None)
    await message.answer(text)


def lineup_text(pitches: list[Pitch], t: Translate) -> str:
    """The line-up under an event's card (at most 15 lines; Telegram caps a message)."""
    if not pitches:
        return ""
    lines = ["", "🎤 <b>" + t(N_("Line-up")) + "</b>"]
    for pitch in pitches[:15]:
        mark = " ▶️" if pitch.status == "on_stage" else ""
        lines.append(escape(lineup.describe(pitch)) + mark)
    if len(pitches) > 15:
        lines.append(t(N_("… and %(n)s more"), n=len(pitches) - 15))
    return "\n".join(lines)


def make_router() -> Router:
    router = Router(name="pitch")
    router.message.register(pitch_command, Command("pitch"))
    router.callback_query.register(tap, PitchTap.filter())
    router.callback_query.register(back, PitchBack.filter())
    return router
