"""/prefs: the districts, topics and kinds I want invitations for, quiet hours, message opt-outs."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import Language, PrefMenu, PrefToggle, QuietHours
from bot.i18n import Translate
from bot.views import KIND_NAMES, main_menu
from events import districts
from events.districts import DISTRICTS
from events.errors import N_
from events.i18n import Locale
from events.models import EventKind, Person
from events.services import preferences as prefs

CATEGORY_NAMES = {
    "invitation": N_("Invitations to new events"),
    "reminder": N_("Reminders before my events"),
    "matched_opportunity": N_("Matched opportunities"),
    "credits": N_("Training credits"),
    "broadcast": N_("Organizers' announcements"),
}
QUIET_CHOICES = {
    "default": (None, None),
    "off": ("00:00", "00:00"),
    "2100-0900": ("21:00", "09:00"),
    "2300-0700": ("23:00", "07:00"),
}


def _mark(on: bool) -> str:
    return "✅ " if on else "▫️ "


def root_keyboard(person: Person, t: Translate) -> InlineKeyboardMarkup:
    p = prefs.preferences_of(person)
    quiet = p.quiet_hours
    kb = InlineKeyboardBuilder()
    kb.button(
        text=t(N_("Districts (%(n)s)"), n=len(p.districts) or t(N_("all"))), callback_data=PrefMenu(section="districts")
    )
    kb.button(text=t(N_("Topics (%(n)s)"), n=len(p.topics) or t(N_("all"))), callback_data=PrefMenu(section="topics"))
    kb.button(text=t(N_("Kinds (%(n)s)"), n=len(p.kinds) or t(N_("all"))), callback_data=PrefMenu(section="kinds"))
    kb.button(
        text=t(N_("Quiet hours: %(hours)s"), hours=f"{quiet[0]}–{quiet[1]}" if quiet else t(N_("off"))),
        callback_data=PrefMenu(section="quiet"),
    )
    kb.button(text=t(N_("Messages I receive")), callback_data=PrefMenu(section="opted_out"))
    kb.button(text="🌐 中文 / English", callback_data=PrefMenu(section="language"))
    kb.button(text="✅ " + t(N_("Done")), callback_data=PrefMenu(section="done"))
    kb.adjust(1)
    return kb.as_markup()


def section_keyboard(section: str, person: Person, t: Translate, locale: Locale) -> InlineKeyboardMarkup:
    p = prefs.preferences_of(person)
    kb = InlineKeyboardBuilder()
    if section == "districts":
        for d in DISTRICTS:
            label = districts.label(d.code, locale, short=True)
            kb.button(
                text=_mark(d.code in p.districts) + label, callback_data=PrefToggle(field="districts", value=d.code)
            )
        kb.adjust(2)
    elif section == "topics":
        for index, topic in enumerate(prefs.TOPICS):
            kb.button(text=_mark(topic in p.topics) + topic, callback_data=PrefToggle(field="topics", value=str(index)))
        kb.adjust(2)
    elif section == "kinds":
        for kind in EventKind:
            kb.button(
                text=_mark(kind.value in p.kinds) + t(KIND_NAMES[kind.value]),
                callback_data=PrefToggle(field="kinds", value=kind.value),
            )
        kb.adjust(1)
    elif section == "opted_out":
        for category, name in CATEGORY_NAMES.items():
            kb.button(
                text=_mark(category not in p.opted_out) + t(name),
                callback_data=PrefToggle(field="opted_out", value=category),
            )
        kb.adjust(1)
    elif section == "quiet":
        labels = {
            "default": t(N_("Default 22:00–08:00")),
            "off": t(N_("No quiet hours")),
            "2100-0900": "21:00–09:00",
            "2300-0700": "23:00–07:00",
        }
        current = (p.quiet_start, p.quiet_end)
        for choice, label in labels.items():
            kb.button(text=_mark(QUIET_CHOICES[choice] == current) + label, callback_data=QuietHours(choice=choice))
        kb.adjust(1)
    elif section == "language":
        kb.button(text="简体中文", callback_data=Language(code="zh"))
        kb.button(text="English", callback_data=Language(code="en"))
    kb.row()
    kb.button(text="⬅️ " + t(N_("Back")), callback_data=PrefMenu(section="root"))
    return kb.as_markup()


SECTION_HINTS = {
    "districts": N_("Invite me to events in these districts (none chosen: all):"),
    "topics": N_("Invite me to events on these topics (none chosen: all):"),
    "kinds": N_("Invite me to these kinds of events (none chosen: all):"),
    "opted_out": N_("Messages I receive (tap to switch; confirmations and changes to my events always come):"),
    "quiet": N_("No invitations or announcements during these hours (Wuhan time):"),
    "language": N_("Choose your language:"),
}


async def prefs_command(message: Message, person: Person, t: Translate) -> None:
    await message.answer(t(N_("What would you like to hear about?")), reply_markup=root_keyboard(person, t))


async def open_section(
    query: CallbackQuery, message: Message, callback_data: PrefMenu, person: Person, t: Translate, locale: Locale
) -> None:
    if callback_data.section == "root":
        await message.edit_text(t(N_("What would you like to hear about?")), reply_markup=root_keyboard(person, t))
        return
    hint = SECTION_HINTS.get(callback_data.section, SECTION_HINTS["kinds"])
    await message.edit_text(t(hint), reply_markup=section_keyboard(callback_data.section, person, t, locale))


async def toggle(
    query: CallbackQuery,
    message: Message,
    callback_data: PrefToggle,
    person: Person,
    t: Translate,
    locale: Locale,
    callback_answer: CallbackAnswer,
) -> None:
    value = callback_data.value
    if callback_data.field == "topics":
        value = prefs.TOPICS[int(value)] if value.isdigit() and int(value) < len(prefs.TOPICS) else value
    await prefs.toggle_preference(person, field=callback_data.field, value=value)
    callback_answer.text = t(N_("Saved."))
    await message.edit_reply_markup(reply_markup=section_keyboard(callback_data.field, person, t, locale))


async def quiet(
    query: CallbackQuery,
    message: Message,
    callback_data: QuietHours,
    person: Person,
    t: Translate,
    locale: Locale,
    callback_answer: CallbackAnswer,
) -> None:
    start, end = QUIET_CHOICES.get(callback_data.choice, (None, None))
    await prefs.set_quiet_hours(person, start=start, end=end)
    callback_answer.text = t(N_("Saved."))
    await message.edit_reply_markup(reply_markup=section_keyboard("quiet", person, t, locale))


async def done(query: CallbackQuery, message: Message, t: Translate) -> None:
    await message.answer(t(N_("Saved. What next?")), reply_markup=main_menu(t))


def make_router() -> Router:
    router = Router(name="prefs")
    router.message.register(prefs_command, Command("prefs"))
    router.callback_query.register(done, PrefMenu.filter(F.section == "done"))
    router.callback_query.register(open_section, PrefMenu.filter())
    router.callback_query.register(toggle, PrefToggle.filter())
    router.callback_query.register(quiet, QuietHours.filter())
    return router
