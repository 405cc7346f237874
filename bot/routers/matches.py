"""Matched opportunities in the chat: the answers to a push (感兴趣 / 请技术经理人联系 / 不相关) and /matches,
a person's current matches with their reasons and the connections (对接) they are part of."""

from __future__ import annotations

import contextlib
from html import escape

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import MatchAnswer, MatchesPage
from bot.i18n import Translate
from events import labels
from events.errors import N_, InvalidInput, MatchNotAvailable
from events.i18n import Locale
from events.models import Connection, MatchVerdict, Person
from events.services import connections
from events.services.connections import VERDICT_CODES, Answer, Ref

# Telegram refuses messages over 4,096 characters; a page stays well clear of it.
MAX_TEXT = 3500
PER_PAGE = 4  # records (with their matches) per page
CHOSEN = {
    MatchVerdict.INTERESTED: "✅ " + N_("Interested"),
    MatchVerdict.WANTS_BROKER: "✅ " + N_("Ask a broker to contact me"),
    MatchVerdict.NOT_RELEVANT: "🚫 " + N_("Not relevant"),
}
NOT_AVAILABLE = N_("This match is no longer available.")


def reply_for(answer: Answer, t: Translate) -> str:
    if answer.outcome == "already_connected":
        return t(N_("You are already connected on this one; /matches shows its status."))
    if answer.outcome == "connected":
        if answer.verdict == MatchVerdict.WANTS_BROKER:
            return t(N_("Connection requested: we told the other side, and a technology broker will contact you."))
        return t(N_("Connection requested: we told the other side and the broker. /matches shows its status."))
    if answer.verdict == MatchVerdict.NOT_RELEVANT:
        return t(N_("Noted: we will not suggest this one again."))
    return t(N_("Noted: we told them you are interested."))


def chosen_keyboard(data: MatchAnswer, verdict: MatchVerdict, t: Translate) -> InlineKeyboardMarkup:
    """What was chosen, in place of the three answers; pressing it again is answered as a repeat."""
    icon, label = CHOSEN[verdict].split(" ", 1)
    kb = InlineKeyboardBuilder()
    kb.button(text=f"{icon} {t(label)}", callback_data=data)
    return kb.as_markup()


async def answer_match(
    query: CallbackQuery,
    message: Message,
    callback_data: MatchAnswer,
    person: Person,
    t: Translate,
    callback_answer: CallbackAnswer,
) -> None:
    try:
        subject, item = Ref.parse(callback_data.subject), Ref.parse(callback_data.item)
        verdict = VERDICT_CODES[callback_data.verdict]
        answer = await connections.answer_push(
            person, subject=subject, item=item, verdict=verdict, actor=f"telegram:{person.telegram_id}"
        )
    except (InvalidInput, KeyError, MatchNotAvailable):
        callback_answer.text = t(NOT_AVAILABLE)
        with contextlib.suppress(TelegramBadRequest):  # the buttons may be gone already
            await message.edit_reply_markup(reply_markup=None)
        return
    text = reply_for(answer, t)
    callback_answer.text = text[:200]
    with contextlib.suppress(TelegramBadRequest):  # "message is not modified" on a repeated tap
        await message.edit_reply_markup(reply_markup=chosen_keyboard(callback_data, verdict, t))
    await message.answer(text)


def _record_block(record: connections.HeldRecord, t: Translate, locale: Locale) -> str:
    kind = t(N_("Demand")) if record.ref.kind == "demand" else t(N_("Achievement"))
    lines = [f"<b>{escape(record.title[:80])}</b> · {kind} · {labels.status(record.status, locale)}"]
    if not record.matches:
        lines.append("  " + t(N_("No match yet; we will tell you when one comes.")))
    for match in record.matches:
        lines.append(f"• {escape(match.title[:80])}")
        if match.reasons:
            lines.append("  " + escape(" · ".join(match.reasons))[:300])
        if match.missing:
            lines.append("  ⚠️ " + escape(" · ".join(match.missing))[:200])
    return "\n".join(lines)


def _connection_line(connection: Connection, locale: Locale) -> str:
    titles = " ⇄ ".join(escape(title[:50]) for _, title in connections.sides_of(connection))
    return f"🤝 {titles} · <i>{labels.status(connection.status, locale)}</i>"


def pages_of(overview: connections.Overview, t: Translate, locale: Locale) -> list[str]:
    """The /matches text in pages: the connections first (what is under way), then each record with its
    matches; at most ``PER_PAGE`` blocks and ``MAX_TEXT`` characters a page."""
    blocks = []
    if overview.connections:
        lines = ["<b>" + t(N_("My connections")) + "</b>"]
        lines += [_connection_line(connection, locale) for connection in overview.connections]
        blocks.append("\n".join(lines)[:MAX_TEXT])
    blocks += [_record_block(record, t, locale)[:MAX_TEXT] for record in overview.records]
    pages: list[list[str]] = []
    for block in blocks:
        if pages and len(pages[-1]) < PER_PAGE and len("\n\n".join([*pages[-1], block])) <= MAX_TEXT:
            pages[-1].append(block)
        else:
            pages.append([block])
    return ["\n\n".join(page) for page in pages]


async def render_matches(person: Person, page: int, t: Translate, locale: Locale) -> tuple[str, InlineKeyboardMarkup]:
    overview = await connections.overview(person, locale=locale)
    pages = pages_of(overview, t, locale)
    if not pages:
        text = "🔗 " + t(
            N_(
                "You have no matches yet. Post a demand with /demand and we will look for achievements that fit "
                "it; choose your topics with /prefs to hear of new demands and achievements."
            )
        )
        return text, InlineKeyboardBuilder().as_markup()
    page = max(0, min(page, len(pages) - 1))
    header = "🔗 <b>" + t(N_("My matches")) + "</b>"
    if len(pages) > 1:
        header += " " + t(N_("(page %(page)s of %(pages)s)"), page=page + 1, pages=len(pages))
    kb = InlineKeyboardBuilder()
    if page > 0:
        kb.button(text="⬅️", callback_data=MatchesPage(page=page - 1))
    if page < len(pages) - 1:
        kb.button(text="➡️", callback_data=MatchesPage(page=page + 1))
    return f"{header}\n\n{pages[page]}", kb.as_markup()


async def matches_command(message: Message, person: Person, t: Translate, locale: Locale) -> None:
    text, markup = await render_matches(person, 0, t, locale)
    await message.answer(text, reply_markup=markup, disable_web_page_preview=True)


async def matches_page(
    query: CallbackQuery, message: Message, callback_data: MatchesPage, person: Person, t: Translate, locale: Locale
) -> None:
    text, markup = await render_matches(person, callback_data.page, t, locale)
    with contextlib.suppress(TelegramBadRequest):  # the same page again: "message is not modified"
        await message.edit_text(text, reply_markup=markup, disable_web_page_preview=True)


def make_router() -> Router:
    router = Router(name="matches")
    router.message.register(matches_command, Command("matches"))
    router.callback_query.register(answer_match, MatchAnswer.filter())
    router.callback_query.register(matches_page, MatchesPage.filter())
    return router
