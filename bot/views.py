"""Message texts and keyboards built from domain objects. HTML parse mode: user text is escaped."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from html import escape

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import (
    AbortFlow,
    Browse,
    BrowseMenu,
    CancelRegistration,
    EventCard,
    MyCalendar,
    MyCredits,
    MyRegistration,
    PrefMenu,
    ResendTicket,
    StartRegistration,
)
from bot.i18n import Translate, when
from events import districts, labels
from events.errors import N_
from events.i18n import Locale, gettext
from events.models import (
    Event,
    EventStatus,
    ItemKind,
    MeetingRequest,
    MeetingStatus,
    Participant,
    Registration,
    RegistrationStatus,
)
from events.services import courses
from events.services.catalog import effective_status
from events.services.catalog import map_url as catalog_map_url

KIND_NAMES = labels.EVENT_KINDS
SERIES_NAMES = labels.SERIES


def map_link(event: Event) -> str | None:
    if event.latitude is None or event.longitude is None:
        return None
    return catalog_map_url(event)


def event_card(event: Event, t: Translate, locale: Locale, training: courses.TrainingContext | None = None) -> str:
    status = effective_status(event)
    lines = [f"<b>{escape(event.title)}</b>", ""]
    lines.append("🗓 " + when(event.starts_at, event.ends_at, locale))
    place = escape(event.venue) + (f"（{escape(event.address)}）" if event.address else "")
    if district := districts.label(event.district, locale):
        place += f" · {district}"
    lines.append("📍 " + place)
    if event.host:
        lines.append("🏛 " + escape(event.host))
    lines.append(
        "🏷 " + t(KIND_NAMES[str(event.kind)]) + ("" if not event.tags else " · " + escape(" ".join(event.tags)))
    )
    if status == EventStatus.CANCELLED:
        lines.append("⛔ " + t(N_("This event was cancelled.")))
    elif status == EventStatus.FINISHED:
        lines.append(t(N_("This event is over.")))
    elif event.capacity is None:
        lines.append("🎟 " + t(N_("Open to all")))
    else:
        left = max(0, event.capacity - event.seats_taken)
        lines.append(
            "🎟 "
            + (
                t(N_("%(left)s of %(capacity)s seats left"), left=left, capacity=event.capacity)
                if left
                else t(N_("Full — %(waiting)s on the waitlist"), waiting=event.waitlist_length)
            )
        )
    if training is not None:
        lines += ["", *training_lines(training, t)]
    if event.description:
        lines += ["", escape(event.description[:600])]
    return "\n".join(lines)


def _hours(value: Decimal) -> str:
    return f"{value.normalize():f}"


def training_lines(training: courses.TrainingContext, t: Translate) -> list[str]:
    """A course's parts and hours on its card; on a session's card, its course and how to get in."""
    course = training.course
    if training.session is None:
        sessions = sum(1 for item in training.items if item.kind == ItemKind.SESSION)
        modules = len(training.items) - sessions
        return [
            "🎓 "
            + t(
                N_(
                    "Broker training course %(code)s: %(hours)s credit hours"
                    " (%(sessions)s sessions, %(modules)s online modules)."
                ),
                code=escape(course.code),
                hours=_hours(training.hours),
                sessions=sessions,
                modules=modules,
            ),
            t(
                N_(
                    "Your enrollment ticket is your pass to every session;"
                    " each attended session counts toward certification."
                )
            ),
        ]
    item = training.session
    lines = [
        "🎓 "
        + t(
            N_("Session of the course %(course)s · %(hours)s credit hours."),
            course=escape(course.title),
            hours=_hours(Decimal(item.hours_tenths) / 10),
        )
    ]
    if item.requires_checkout:
        lines.append(
            t(
                N_("Scan in and out: the hours count after %(minutes)s minutes inside."),
                minutes=item.min_stay_minutes or 0,
            )
        )
    lines.append(
        t(N_("You are enrolled: your course ticket is your pass."))
        if training.enrolled
        else t(N_("Enroll in the course to earn its hours; your course ticket is the pass."))
    )
    return lines


def event_keyboard(
    event: Event,
    t: Translate,
    *,
    calendar_url: str,
    registered: bool,
    training: courses.TrainingContext | None = None,
    page_url: str | None = None,
) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    if training is not None and training.session is not None and not training.enrolled:
        kb.button(text="🎓 " + t(N_("The course")), callback_data=EventCard(event_id=training.course.event_id))
    if effective_status(event) == EventStatus.PUBLISHED and not registered:
        full = event.capacity is not None and event.seats_taken >= event.capacity
        label = t(N_("Join the waitlist")) if full and event.waitlist_enabled else t(N_("Register"))
        kb.button(text="✍️ " + label, callback_data=StartRegistration(event_id=event.id))
    if registered:
        kb.button(text="🎫 " + t(N_("My registrations")), callback_data=Browse(scope="my"))
    kb.button(text="📅 " + t(N_("Add to calendar")), url=calendar_url)
    if page_url:
        kb.button(text="🌐 " + t(N_("Event page")), url=page_url)
    kb.adjust(1)
    return kb.as_markup()


@dataclass(frozen=True, slots=True)
class MenuItem:
    icon: str
    label: str  # msgid
    callback: CallbackData


MENU = (
    MenuItem("🔎", N_("Upcoming events"), Browse(scope="all")),
    MenuItem("🗂", N_("By kind"), BrowseMenu(by="kind")),
    MenuItem("🏆", N_("By series"), BrowseMenu(by="series")),
    MenuItem("🔤", N_("Search"), BrowseMenu(by="keyword")),
    MenuItem("🗺", N_("By district"), BrowseMenu(by="district")),
    MenuItem("🎫", N_("My registrations"), Browse(scope="my")),
    MenuItem("📅", N_("My calendar"), MyCalendar()),
    MenuItem("🎓", N_("My training credits"), MyCredits()),
    MenuItem("⚙️", N_("Preferences"), PrefMenu(section="root")),
)
MENU_CALLBACKS = frozenset(item.callback.pack() for item in MENU)
# A label typed as text, in either language, with or without its icon.
MENU_TEXTS = {
    " ".join(gettext(locale, item.label).casefold().split()): item for item in MENU for locale in ("zh", "en")
}
CANCEL_TEXTS = frozenset(gettext(locale, N_("Cancel")).casefold() for locale in ("zh", "en"))


def main_menu(t: Translate) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for item in MENU:
        kb.button(text=f"{item.icon} {t(item.label)}", callback_data=item.callback)
    kb.adjust(1, 2, 2, 1, 2, 1)
    return kb.as_markup()


def _bare(text: str) -> str:
    """The words of a typed button label: its icon and spacing dropped, case folded."""
    words = text.split()
    if words and not any(ch.isalnum() for ch in words[0]):
        words = words[1:]
    return " ".join(words).casefold()


def is_menu_callback(data: str) -> bool:
    return data in MENU_CALLBACKS


def menu_item_for_text(text: str | None) -> MenuItem | None:
    return MENU_TEXTS.get(_bare(text)) if text and len(text) <= 60 else None


def is_cancel_text(text: str | None) -> bool:
    """取消 / Cancel typed, or tapped on a reply keyboard (which sends its label as text)."""
    return bool(text) and len(text or "") <= 20 and _bare(text or "") in CANCEL_TEXTS


def cancel_button(t: Translate) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text="✖️ " + t(N_("Cancel")), callback_data=AbortFlow())
    return kb.as_markup()


def registration_line(
    registration: Registration,
    t: Translate,
    locale: Locale,
    position: int | None,
    meetings: list[MeetingRequest] | None = None,
) -> str:
    event = registration.event
    status = labels.status(registration.status, locale, capitalized=True)
    if registration.status == RegistrationStatus.WAITLISTED and position:
        status = t(N_("Waitlist position %(position)s"), position=position)
    text = f"<b>{escape(event.title)}</b>\n🗓 {when(event.starts_at, event.ends_at, locale)}\n{status}"
    return "\n".join([text, *meeting_lines(meetings or [], registration.person_id, t, locale)])


def registration_keyboard(registration: Registration, t: Translate) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    if registration.status == RegistrationStatus.CONFIRMED:
        kb.button(
            text="🎫 " + t(N_("Send my ticket again")), callback_data=ResendTicket(registration_id=registration.id)
        )
    kb.button(
        text="❌ " + t(N_("Cancel registration")), callback_data=CancelRegistration(registration_id=registration.id)
    )
    kb.button(text="ℹ️ " + t(N_("Event details")), callback_data=EventCard(event_id=registration.event_id))
    kb.adjust(1)
    return kb.as_markup()


def my_list_keyboard(registrations: list[Registration], t: Translate) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for registration in registrations[:20]:
        kb.button(text=registration.event.title[:40], callback_data=MyRegistration(registration_id=registration.id))
    kb.adjust(1)
    return kb.as_markup()


def contact_keyboard(t: Translate) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text="📱 " + t(N_("Share my phone number")), request_contact=True)],
            [KeyboardButton(text="✖️ " + t(N_("Cancel")))],
        ],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def meeting_other(meeting: MeetingRequest, person_id: int) -> Participant:
    return meeting.recipient if meeting.requester.person_id == person_id else meeting.requester


def meeting_state(meeting: MeetingRequest, person_id: int, t: Translate) -> str:
    if meeting.status == MeetingStatus.ACCEPTED:
        return "✅ " + t(N_("meeting confirmed"))
    if meeting.recipient.person_id == person_id:
        return "❓ " + t(N_("asks to meet you; please answer"))
    return "⏳ " + t(N_("waiting for their answer"))


def meeting_line(meeting: MeetingRequest, person_id: int, t: Translate, locale: Locale) -> str:
    """'🤝 2026年6月2日 周二 10:00–10:20 · 第 3 桌 · 光谷基金（张三） · ✅ 已确认'"""
    other = meeting_other(meeting, person_id)
    name = other.person.name if other.person and other.person.name != other.title else ""
    side = escape(other.title) + (f"（{escape(name)}）" if name else "")
    table = t(N_("Table %(table)s"), table=meeting.table_no)
    return (
        f"🤝 {when(meeting.slot.starts_at, meeting.slot.ends_at, locale)} · {table} · {side}"
        f" · {meeting_state(meeting, person_id, t)}"
    )


def meeting_lines(meetings: list[MeetingRequest], person_id: int, t: Translate, locale: Locale) -> list[str]:
    """A person's meetings at one event, for their ticket and /my (at most five, then a pointer)."""
    if not meetings:
        return []
    lines = [t(N_("Your 1:1 meetings here:"))]
    lines += [meeting_line(m, person_id, t, locale) for m in meetings[:5]]
    if len(meetings) > 5:
        lines.append(t(N_("… and %(more)s more: /meetings"), more=len(meetings) - 5))
    return lines
