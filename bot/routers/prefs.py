"""/prefs: the districts, topics and kinds I want invitations for, quiet hours, message opt-outs."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import Language, PrefMenu, PrefToggle, QuietHours
from bot.i18n import Translate
from bot.views import KIND_NAMES
from events import districts
from events.districts import DISTRICTS
from events.errors import N_
from events.i18n import Locale
from events.models import EventKind, Person
from events.services import preferences as prefs

router = Router(name="prefs")

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


@router.message(Command("prefs"))
async def prefs_command(message: Message, person: Person, t: Translate) -> None:
    await message.answer(t(N_("What would you like to hear about?")), reply_markup=root_keyboard(person, t))


@router.callback_query(PrefMenu.filter())
async def open_section(
    query: CallbackQuery, callback_data: PrefMenu, person: Person, t: Translate, locale: Locale
) -> None:
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if callback_data.section == "root":
        await query.message.edit_text(
            t(N_("What would you like to hear about?")), reply_markup=root_keyboard(person, t)
        )
        return
    hint = SECTION_HINTS.get(callback_data.section, SECTION_HINTS["kinds"])
    await query.message.edit_text(t(hint), reply_markup=section_keyboard(callback_data.section, person, t, locale))


@router.callback_query(PrefToggle.filter())
async def toggle(query: CallbackQuery, callback_data: PrefToggle, person: Person, t: Translate, locale: Locale) -> None:
    value = callback_data.value
    if callback_data.field == "topics":
        value = prefs.TOPICS[int(value)] if value.isdigit() and int(value) < len(prefs.TOPICS) else value
    await prefs.toggle_preference(person, field=callback_data.field, value=value)
    await query.answer(t(N_("Saved.")))
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=section_keyboard(callback_data.field, person, t, locale))


@router.callback_query(QuietHours.filter())
async def quiet(query: CallbackQuery, callback_data: QuietHours, person: Person, t: Translate, locale: Locale) -> None:
    start, end = QUIET_CHOICES.get(callback_data.choice, (None, None))
    await prefs.set_quiet_hours(person, start=start, end=end)
    await query.answer(t(N_("Saved.")))
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=section_keyboard("quiet", person, t, locale))
