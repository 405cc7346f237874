"""Event cards and browsing upcoming events by kind, district or keyword."""

from __future__ import annotations

from html import escape
from typing import cast

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import Browse, BrowseMenu, EventCard
from bot.i18n import Translate, when
from bot.routers.pitch import lineup_text
from bot.views import KIND_NAMES, SERIES_NAMES, cancel_button, event_card, event_keyboard
from events import clock, districts
from events.districts import DISTRICTS
from events.errors import N_
from events.i18n import Locale
from events.models import Event, EventKind, EventStatus, Person
from events.services import calendar, catalog, courses
from events.services.registration import find_active_registration
from events.services.roadshows import lineup
from events.settings import Settings


class BrowseFlow(StatesGroup):
    keyword = State()


async def search(message: Message, t: Translate, locale: Locale, state: FSMContext) -> None:
    keyword = " ".join((message.text or "").replace(":", " ").split())[:12]
    if not keyword or keyword.startswith("/"):
        await message.answer(t(N_("Please send a keyword.")), reply_markup=cancel_button(t))
        return
    await state.clear()
    text, markup = await _page(Browse(scope=f"q={keyword}", page=0), t, locale)
    await message.answer(text, reply_markup=markup)


PAGE = 5


async def show_event(
    target: Message, event: Event, *, person: Person, t: Translate, locale: Locale, settings: Settings
) -> None:
    registered = await find_active_registration(event.id, telegram_id=person.telegram_id or 0) is not None
    calendar_url = settings.base_url + calendar.event_feed_path(event.id)
    training = await courses.training_context(event, person_id=person.id)
    card = event_card(event, t, locale, training) + lineup_text(await lineup.public_lineup(event.id), t)
    await target.answer(
        card,
        reply_markup=event_keyboard(
            event,
            t,
            calendar_url=calendar_url,
            registered=registered,
            training=training,
            # Telegram refuses a URL button to a local address (the default PUBLIC_URL).
            page_url=settings.base_url + catalog.event_page_path(event.id)
            if settings.base_url.startswith("https://")
            else None,
        ),
        disable_web_page_preview=True,
    )


async def event_details(
    query: CallbackQuery,
    message: Message,
    callback_data: EventCard,
    person: Person,
    t: Translate,
    locale: Locale,
    settings: Settings,
) -> None:
    event = await catalog.get_event(callback_data.event_id)
    await show_event(message, event, person=person, t=t, locale=locale, settings=settings)


async def events_command(message: Message, t: Translate, locale: Locale) -> None:
    await show_page(message, Browse(scope="all", page=0), t, locale)


async def show_page(target: Message, spec: Browse, t: Translate, locale: Locale) -> None:
    text, markup = await _page(spec, t, locale)
    await target.answer(text, reply_markup=markup)


async def show_browse_menu(target: Message, by: str, t: Translate, locale: Locale, state: FSMContext) -> None:
    """The choices of one way to browse (kind, series, district), or the question for a keyword."""
    kb = InlineKeyboardBuilder()
    if by == "keyword":
        await state.set_state(BrowseFlow.keyword)
        await target.answer(t(N_("Send a keyword, e.g. 人工智能 or 光谷:")), reply_markup=cancel_button(t))
        return
    if by == "series":
        upcoming = cast(
            "list[str | None]",
            await Event.filter(status=EventStatus.PUBLISHED, ends_at__gt=clock.now())
            .distinct()
            .values_list("series", flat=True),
        )
        for series in sorted({s for s in upcoming if s}):
            label = t(SERIES_NAMES[series]) if series in SERIES_NAMES else series
            kb.button(text=label, callback_data=Browse(scope=f"series={series}"))
        kb.adjust(1)
    elif by == "kind":
        for kind in EventKind:
            kb.button(text=t(KIND_NAMES[kind.value]), callback_data=Browse(scope=f"kind={kind.value}"))
        kb.adjust(1)
    else:
        for district in DISTRICTS:
            kb.button(
                text=districts.label(district.code, locale, short=True)[:30],
                callback_data=Browse(scope=f"district={district.code}"),
            )
        kb.adjust(2)
    await target.answer(t(N_("Choose:")), reply_markup=kb.as_markup())


async def browse_menu(
    query: CallbackQuery, message: Message, callback_data: BrowseMenu, t: Translate, locale: Locale, state: FSMContext
) -> None:
    await show_browse_menu(message, callback_data.by, t, locale, state)


async def browse(
    query: CallbackQuery, message: Message, callback_data: Browse, person: Person, t: Translate, locale: Locale
) -> None:
    if callback_data.scope == "my":
        from bot.routers.my import show_my

        await show_my(message, person=person, t=t, locale=locale)
        return
    text, markup = await _page(callback_data, t, locale)
    if callback_data.page > 0 or message.text and message.text.startswith("🔎"):
        await message.edit_text(text, reply_markup=markup)
    else:
        await message.answer(text, reply_markup=markup)


def make_router() -> Router:
    router = Router(name="events")
    router.message.register(search, BrowseFlow.keyword, F.text)
    router.callback_query.register(event_details, EventCard.filter())
    router.message.register(events_command, Command("events"))
    router.callback_query.register(browse_menu, BrowseMenu.filter())
    router.callback_query.register(browse, Browse.filter())
    return router


async def _page(spec: Browse, t: Translate, locale: Locale) -> tuple[str, InlineKeyboardMarkup]:
    kind = district = series = keyword = None
    name, _, value = spec.scope.partition("=")
    if name == "kind" and value in {k.value for k in EventKind}:
        kind = EventKind(value)
    elif name == "district":
        district = value
    elif name == "series":
        series = value
    elif name == "q":
        keyword = value
    rows: list[Event] = []
    cursor = None
    # Keyset pages of the service, walked to the requested page (pages are short and few).
    for _ in range(spec.page + 1):
        page = await catalog.list_events(
            catalog.EventQuery(
                kind=kind,
                district=district,
                series=series,
                q=keyword,
                starts_from=clock.now(),
                limit=PAGE,
                cursor=cursor,
            )
        )
        rows, cursor = page.items, page.next_cursor
        if cursor is None:
            break
    kb = InlineKeyboardBuilder()
    for event in rows:
        kb.button(text=f"{event.title[:42]}", callback_data=EventCard(event_id=event.id))
    nav = []
    if spec.page > 0:
        nav.append(("⬅️", Browse(scope=spec.scope, page=spec.page - 1)))
    if cursor is not None:
        nav.append(("➡️", Browse(scope=spec.scope, page=spec.page + 1)))
    for label, data in nav:
        kb.button(text=label, callback_data=data)
    kb.adjust(*([1] * len(rows)), max(1, len(nav)))
    if not rows:
        return "🔎 " + t(N_("No upcoming events match.")), kb.as_markup()
    lines = ["🔎 " + t(N_("Upcoming events (page %(page)s):"), page=spec.page + 1)]
    lines += [f"• {escape(e.title)}\n  {when(e.starts_at, e.ends_at, locale)}" for e in rows]
    return "\n".join(lines), kb.as_markup()
