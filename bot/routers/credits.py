"""/credits: a broker's credit hours, level and progress to the next one, and the printable transcript."""

from __future__ import annotations

from decimal import Decimal
from html import escape

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import Browse, MyCredits
from bot.i18n import Translate
from events import clock, labels, localtime
from events.errors import N_
from events.i18n import Locale, format_date
from events.models import LEVEL_ORDER, Broker, CreditEntry, CreditSource, Person, RegistrationStatus
from events.services import brokers, transcripts
from events.services.certification import LEVEL_NAMES, Assessment, certificate_status
from events.settings import Settings

RECENT = 5
MAX_COURSES = 10
BAR = 10
# Telegram refuses messages over 4,096 characters; stay clear of it.
MAX_TEXT = 4000
TRAINING = Browse(scope="kind=training")


def hours(value: Decimal) -> str:
    """3, 3.5, 40 (no trailing zeros, no exponent)."""
    return f"{value.normalize():f}"


def signed(value: Decimal) -> str:
    return ("+" if value > 0 else "") + hours(value)


def bar(ratio: float) -> str:
    # Rounded down: the bar is full only when the level is really within reach.
    filled = max(0, min(BAR, int(ratio * BAR)))
    return "▓" * filled + "░" * (BAR - filled) + f" {int(ratio * 100)}%"


def standing_lines(record: transcripts.Transcript, t: Translate, locale: Locale) -> list[str]:
    assessment: Assessment = record.assessment
    if assessment.status == "certified" and assessment.level is not None:
        level = t(LEVEL_NAMES[assessment.level])
        status = (
            t(N_("certified until %(date)s"), date=format_date(assessment.expires_at, locale))
            if assessment.expires_at
            else t(N_("certified"))
        )
    elif assessment.status == "expired" and record.certifications and assessment.expires_at:
        # The highest level that lapsed (its dates are the assessment's), so the broker knows what renewing brings back.
        top = max(record.certifications, key=lambda c: LEVEL_ORDER.index(c.level))
        level = t(LEVEL_NAMES[top.level])
        status = t(N_("expired on %(date)s"), date=format_date(assessment.expires_at, locale))
    elif assessment.status in CERTIFICATE_STATES and record.certifications:
        top = max(record.certifications, key=lambda c: LEVEL_ORDER.index(c.level))
        level = t(LEVEL_NAMES[top.level])
        status = t(CERTIFICATE_STATES[assessment.status])
    else:
        level, status = "—", t(N_("in training"))
    lines = [t(N_("Level: %(level)s · %(status)s"), level=level, status=status)]
    progress = assessment.next
    if progress is None:
        if assessment.status == "certified":
            lines.append("🏅 " + t(N_("You hold the highest level there is.")))
        return lines
    name = t(LEVEL_NAMES[progress.level])
    toward = N_("Toward renewing %(level)s:") if progress.renewal else N_("Toward %(level)s:")
    lines.append(t(toward, level=name))
    lines.append(bar(progress.ratio))
    wanted = (
        N_("Hours since certification: %(have)s / %(need)s") if progress.renewal else N_("Hours: %(have)s / %(need)s")
    )
    lines.append(t(wanted, have=hours(progress.hours_have), need=hours(progress.hours_required)))
    if progress.courses_required:
        marks = " · ".join(
            ("✅ " if code in progress.courses_done else "▫️ ") + escape(code) for code in progress.courses_required
        )
        lines.append(
            t(
                N_("Required courses done: %(done)s / %(all)s"),
                done=len(progress.courses_done),
                all=len(progress.courses_required),
            )
            + f"\n{marks}"
        )
    return lines


CERTIFICATE_STATES = {"suspended": N_("suspended"), "revoked": N_("revoked")}


def certificate_lines(record: transcripts.Transcript, t: Translate, locale: Locale) -> list[str]:
    """Each certificate with its number and what it is worth today."""
    if not record.certifications:
        return []
    lines = ["", "📜 " + t(N_("Certificates"))]
    for cert in reversed(record.certifications):
        status = certificate_status(cert.state, cert.expires_at, record.generated_at)
        if status == "valid":
            worth = (
                t(N_("valid until %(date)s"), date=format_date(cert.expires_at, locale))
                if cert.expires_at
                else t(N_("valid"))
            )
        elif status == "expired":
            worth = t(N_("expired on %(date)s"), date=format_date(cert.expires_at, locale))  # type: ignore[arg-type]
        else:
            worth = t(CERTIFICATE_STATES[status])
        lines.append(f"{t(LEVEL_NAMES[cert.level])} · <code>{escape(cert.number or '')}</code> · {worth}")
    return lines


def course_lines(record: transcripts.Transcript, t: Translate, locale: Locale) -> list[str]:
    if not record.courses:
        return []
    lines = ["", "📚 " + t(N_("Courses"))]
    for standing in record.courses[:MAX_COURSES]:
        mark = "✅" if standing.completed else "▫️"
        done = t(N_("%(have)s / %(offered)s hours"), have=hours(standing.hours), offered=hours(standing.hours_offered))
        line = f"{mark} {escape(standing.course.title[:40])} — {done}"
        status = standing.enrollment_status
        if status and status != RegistrationStatus.CONFIRMED:
            line += " · " + labels.status(status, locale, capitalized=True)
        lines.append(line)
    if len(record.courses) > MAX_COURSES:
        lines.append(t(N_("… and %(n)s more"), n=len(record.courses) - MAX_COURSES))
    return lines


def entry_label(entry: CreditEntry, t: Translate) -> str:
    what = entry.item.title if entry.item is not None else (entry.course.title if entry.course is not None else "")
    reason = entry.reason.strip()[:60]
    if entry.source == CreditSource.GRANT:
        what = t(N_("Granted")) + (f": {reason}" if reason else "") + (f" ({what})" if what else "")
    elif entry.source == CreditSource.CORRECTION:
        what = t(N_("Correction")) + (f": {reason}" if reason else "") + (f" ({what})" if what else "")
    return escape(what[:90])


def ledger_lines(record: transcripts.Transcript, t: Translate) -> list[str]:
    if not record.entries:
        return []
    lines = ["", "🧾 " + t(N_("Latest entries"))]
    for entry in reversed(record.entries[-RECENT:]):
        day = localtime.local(entry.earned_at).strftime("%Y-%m-%d")
        lines.append(f"{day}  <b>{signed(Decimal(entry.hours_tenths) / 10)}</b> · {entry_label(entry, t)}")
    return lines


def credits_text(record: transcripts.Transcript, t: Translate, locale: Locale) -> str:
    year = localtime.local(clock.now()).year
    this_year = record.balances.by_year.get(year, Decimal(0))
    lines = [
        "🎓 <b>" + t(N_("My training credits")) + "</b>",
        t(N_("Total: %(total)s hours"), total=f"<b>{hours(record.balances.total)}</b>")
        + " · "
        + t(N_("this year: %(hours)s"), hours=hours(this_year)),
        *standing_lines(record, t, locale),
        *certificate_lines(record, t, locale),
        *course_lines(record, t, locale),
        *ledger_lines(record, t),
    ]
    text = "\n".join(lines)
    while len(text) > MAX_TEXT and len(lines) > 1:  # only with absurdly many long lines; drop from the end
        lines.pop()
        text = "\n".join(lines)
    return text


def broker_keyboard(broker: Broker, t: Translate, settings: Settings) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text="📄 " + t(N_("Printable transcript")),
        url=f"{settings.base_url}/transcripts/{brokers.transcript_token(broker)}",
    )
    kb.button(text="🔎 " + t(N_("Training courses")), callback_data=TRAINING)
    kb.adjust(1)
    return kb.as_markup()


async def show_credits(message: Message, *, person: Person, t: Translate, locale: Locale, settings: Settings) -> None:
    broker = await brokers.broker_of_person(person.id)
    if broker is None:
        kb = InlineKeyboardBuilder()
        kb.button(text="🔎 " + t(N_("Training courses")), callback_data=TRAINING)
        await message.answer(
            t(
                N_(
                    "Credit hours are kept for technology brokers in training. Enroll in a training course: "
                    "each session you attend and each module you complete counts toward certification."
                )
            ),
            reply_markup=kb.as_markup(),
        )
        return
    record = await transcripts.transcript(broker.id)
    await message.answer(
        credits_text(record, t, locale),
        reply_markup=broker_keyboard(broker, t, settings),
        disable_web_page_preview=True,
    )


async def credits_command(message: Message, person: Person, t: Translate, locale: Locale, settings: Settings) -> None:
    await show_credits(message, person=person, t=t, locale=locale, settings=settings)


async def credits_button(
    query: CallbackQuery, message: Message, person: Person, t: Translate, locale: Locale, settings: Settings
) -> None:
    await show_credits(message, person=person, t=t, locale=locale, settings=settings)


def make_router() -> Router:
    router = Router(name="credits")
    router.message.register(credits_command, Command("credits"))
    router.callback_query.register(credits_button, MyCredits.filter())
    return router
