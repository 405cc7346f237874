"""The e-mail channel: an outbox row composed as a mail (HTML and text in the person's language, the
ticket's QR inline, the event as an ``.ics``) and handed to an SMTP server with aiosmtplib.

A mail is composed when it is sent, not when it is queued: the row keeps a recipe (``OutboxMessage.mail``:
the template, its context, the registration), and the access link, the QR code and the calendar file
are made from the registration and event as they are now. So the database holds no access link (a
capability, see ``events.services.access_links``), and an ``.ics`` sent after two changes carries the
latest SEQUENCE. A row without a recipe (a reminder, a broadcast) goes as its chat text in the same layout.

How an SMTP answer maps to a ``SendResult`` (the dispatcher acts on it, as for Telegram):

* accepted (250 after DATA) → sent; the row is marked sent once, like a Telegram row;
* 4xx at any step, a refused or dropped connection, a timeout → transient: retried with backoff. A
  server takes responsibility for a message only with its final 250 (RFC 5321 §4.1.1.4), so a mail
  whose connection dropped before that answer was not delivered and is sent again; its Message-ID is
  the row's, so a mail that did get through twice is recognisably the same one;
* 550/551/553 to RCPT (or an extended 5.1.x: no such mailbox) → the address bounces: the person is
  marked (``email_bounced``) and gets no more mail at that address;
* any other 5xx → permanent: the row fails with the server's answer.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any

import aiosmtplib
from jinja2 import TemplateNotFound
from markupsafe import Markup

from events import clock
from events.errors import N_
from events.i18n import Locale, format_when, gettext, locale_of
from events.models import Category, Event, OutboxMessage, Person, Registration, RegistrationStatus
from events.services import access_links, catalog, preferences
from events.services.calendar import FeedRenderer
from events.settings import Settings
from notifications.channels import Pace, SendResult, _describe
from notifications.outbox import EMAIL, MAIL_CATEGORIES, has_mailbox
from notifications.render import environment

NAME = EMAIL
QR_CID = "ticket-qr"
# Refusals of the address itself: no such user, not local, mailbox name not allowed (RFC 5321 §4.2.3).
BOUNCE_CODES = frozenset({550, 551, 553})
_BOUNCE_STATUS = re.compile(r"\b5\.1\.\d\b")

# The subject of each kind of mail (the mail's own template, else the row's category).
SUBJECTS: dict[str, str] = {
    "registration_confirmed": N_("Registered: %(title)s"),
    "registration_pending": N_("Registration received: %(title)s"),
    "registration_waitlisted": N_("On the waitlist: %(title)s"),
    "registration_rejected": N_("Registration not approved: %(title)s"),
    "waitlist_promoted": N_("A seat for you: %(title)s"),
    "event_changed": N_("Changed: %(title)s"),
    "event_cancelled": N_("Cancelled: %(title)s"),
    "registration_cancelled": N_("Registration cancelled: %(title)s"),
    "link_requested": N_("Your registration link: %(title)s"),
    "reminder": N_("Reminder: %(title)s"),
    "broadcast": N_("From the organizers: %(title)s"),
    "signin": N_("Your sign-in link to the 武创荟 console"),
}
DEFAULT_SUBJECT = N_("A message from 武创荟")
# Mails that carry the event as a calendar file: those that put it in (or change it in) a calendar.
ICS_TEMPLATES = frozenset(
    {"registration_confirmed", "registration_waitlisted", "waitlist_promoted", "event_changed", "event_cancelled"}
)

_BREAK = re.compile(r"<br\s*/?>|</li>|</div>", re.IGNORECASE)
_PARAGRAPH = re.compile(r"</p>|</h\d>", re.IGNORECASE)
_LINK = re.compile(r"""<a\s[^>]*?href\s*=\s*(["'])(.*?)\1[^>]*>(.*?)</a\s*>""", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


def html_to_text(markup: str) -> str:
    """The text part of a mail from its HTML: lines kept, links as "text (url)", tags dropped."""

    def link(match: re.Match[str]) -> str:
        url, label = html.unescape(match.group(2)), match.group(3)
        shown = html.unescape(_TAG.sub("", label)).strip()
        return url if not shown or shown == url else f"{label} ({url})"

    text = _LINK.sub(link, markup)
    text = text.replace("\n", " ") if "<br" in markup or "</p>" in markup else text
    text = _BREAK.sub("\n", _PARAGRAPH.sub("\n\n", text))
    text = html.unescape(_TAG.sub("", text))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


# --- composing -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Composed:
    subject: str
    html: str
    text: str
    qr: bytes | None
    ics: bytes | None
    unsubscribe_url: str | None


def _template(locale: Locale, name: str) -> Any:
    try:
        return environment(locale).get_template(f"mail/{name}.html.j2")
    except TemplateNotFound:
        return None


async def compose(
    row: OutboxMessage, person: Person, *, photo: bytes | None, base_url: str, calendar: FeedRenderer
) -> Composed:
    """The mail for an outbox row, as it should read now. Raises LookupError for a recipe that names
    no template of ours."""
    locale = locale_of(person.language)
    recipe = row.mail or {}
    kind = str(recipe.get("template") or row.category)
    context = dict(recipe.get("context") or {})
    event = await Event.get_or_none(id=row.event_id) if row.event_id is not None else None
    registration_id = recipe.get("registration_id")
    registration = await Registration.get_or_none(id=registration_id) if isinstance(registration_id, int) else None
    link = None
    if registration is not None and event is not None and event.ends_at + access_links.LINK_GRACE > clock.now():
        link = await access_links.access_url(registration)
    when = format_when(event.starts_at, event.ends_at, locale) if event is not None else ""
    hours = max(1, round((event.starts_at - clock.now()).total_seconds() / 3600)) if event is not None else 0
    template = _template(locale, kind) if recipe.get("template") else None
    if recipe.get("template") and template is None:
        raise LookupError(f"no mail template {kind!r}")
    if template is not None:
        context |= {"when": when, "hours": hours}  # as they are now
        event_url = f"{base_url}{catalog.event_page_path(event.id)}" if event is not None else None
        body = template.render(
            locale=locale, event=event, event_url=event_url, registration=registration, access_url=link, **context
        )
    else:
        body = Markup("<br>\n").join(Markup(line) for line in row.text.splitlines())  # our own Telegram HTML
    title = event.title if event is not None else ""
    needs_title = "%(title)s" in SUBJECTS.get(kind, "")
    subject = gettext(locale, SUBJECTS[kind], title=title) if kind in SUBJECTS and (title or not needs_title) else ""
    subject = subject or gettext(locale, DEFAULT_SUBJECT)
    category = str(row.category)
    unsubscribe_url = (
        f"{base_url}{preferences.UNSUBSCRIBE_PATH}{preferences.unsubscribe_token(person.id, category)}"
        if preferences.unsubscribable(category)
        else None
    )
    qr = photo if registration is not None and registration.status == RegistrationStatus.CONFIRMED else None
    layout = {
        "locale": locale,
        "subject": subject,
        "name": person.name,
        "access_url": None if kind == "link_requested" else link,  # that mail is the link itself
        "qr_cid": QR_CID if qr else None,
        "unsubscribe_url": unsubscribe_url,
        "category": category,
    }
    env = environment(locale)
    html_part = env.get_template("mail/layout.html.j2").render(body=Markup(body), **layout)
    text_part = env.get_template("mail/layout.txt.j2").render(body=html_to_text(str(body)), **layout)
    ics = None
    if event is not None and kind in ICS_TEMPLATES:
        status = RegistrationStatus(registration.status) if registration is not None else None
        ics = calendar.event_file(event, status)
    return Composed(subject, html_part, text_part.strip() + "\n", qr, ics, unsubscribe_url)


def message_id(row_id: int, sender: str) -> str:
    """The same for every attempt at one row, so a mail sent twice is recognisably one."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    return f"<outbox-{row_id}@{domain}>"


def build_message(composed: Composed, *, row_id: int, sender: str, to_name: str, to_address: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = composed.subject
    message["From"] = sender
    message["To"] = formataddr((to_name, to_address))
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = message_id(row_id, sender)
    message["Auto-Submitted"] = "auto-generated"
    if composed.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{composed.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(composed.text)
    message.add_alternative(composed.html, subtype="html")
    if composed.qr is not None:
        html_part = next(part for part in message.iter_parts() if part.get_content_type() == "text/html")
        assert isinstance(html_part, EmailMessage)
        html_part.add_related(
            composed.qr, "image", "png", cid=f"<{QR_CID}>", filename="ticket.png", disposition="inline"
        )
    if composed.ics is not None:
        message.add_attachment(
            composed.ics, "text", "calendar", filename="event.ics", params={"method": "PUBLISH", "charset": "utf-8"}
        )
    return message


# --- sending -------------------------------------------------------------------------------------------------


def smtp_result(exc: BaseException) -> SendResult:
    """What an aiosmtplib failure means for the row (see the module docstring)."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        refusals = exc.recipients
        first = refusals[0] if refusals else None
        if first is not None:
            return _refusal(first.code, f"RCPT refused: {first.code} {first.message}", recipient=True)
        return SendResult.refused(_describe(exc))
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused):
        return _refusal(exc.code, f"RCPT refused: {exc.code} {exc.message}", recipient=True)
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        # The settings, not the message: retrying (with backoff) is all a row can do about it.
        return SendResult.failed(f"authentication failed: {exc.code} {exc.message}")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return _refusal(exc.code, f"{type(exc).__name__}: {exc.code} {exc.message}", recipient=False)
    # Connection refused or dropped, timeouts, TLS failures: try again later.
    return SendResult.failed(_describe(exc))


def _refusal(code: int, description: str, *, recipient: bool) -> SendResult:
    if 400 <= code < 500 or code < 400:
        return SendResult.failed(description)
    if recipient and (code in BOUNCE_CODES or _BOUNCE_STATUS.search(description)):
        return SendResult.unreachable(f"the address bounces: {description}")
    return SendResult.refused(description)


class EmailChannel:
    """Sends outbox rows as mail through one SMTP server (``WUCHUANG_SMTP_*``); a ``PersonChannel``.

    One connection per mail: the dispatcher's rate (``SMTP_RATE``) and concurrency bound how many are
    open, and a connection kept open across idle minutes would only be dropped by the server."""

    name = NAME
    requires_chat_id = False

    def __init__(self, settings: Settings) -> None:
        if settings.smtp_host is None:
            raise ValueError("e-mail needs WUCHUANG_SMTP_HOST")
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self.tls = settings.smtp_tls
        self.user = settings.smtp_user
        self.password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        self.sender = settings.mail_sender
        self.envelope_from = parseaddr(self.sender)[1]
        self.timeout = settings.smtp_timeout
        self.rate_per_s = settings.smtp_rate
        self.base_url = settings.base_url
        self.calendar = FeedRenderer(base_url=settings.base_url, timezone=settings.timezone)

    def reaches(self, person: Person, row: OutboxMessage) -> bool:
        if row.channel not in (None, NAME):
            return False
        if row.channel is None and Category(row.category) not in MAIL_CATEGORIES:
            return False
        return has_mailbox(person)

    async def deliver(self, row: OutboxMessage, *, photo: bytes | None, pace: Pace) -> SendResult:
        person: Person = row.person
        address = person.email
        if not address:
            return SendResult.refused("the person has no e-mail address")
        try:
            composed = await compose(row, person, photo=photo, base_url=self.base_url, calendar=self.calendar)
        except (LookupError, TypeError, ValueError) as exc:
            return SendResult.refused(f"composing the mail: {_describe(exc)}")
        message = build_message(composed, row_id=row.id, sender=self.sender, to_name=person.name, to_address=address)
        return await self.transmit(message, address)

    async def transmit(self, message: EmailMessage, address: str) -> SendResult:
        try:
            await aiosmtplib.send(
                message,
                sender=self.envelope_from,
                recipients=[address],
                hostname=self.host,
                port=self.port,
                username=self.user,
                password=self.password,
                use_tls=self.tls == "tls",
                start_tls=True if self.tls == "starttls" else False,
                timeout=self.timeout,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            return smtp_result(exc)
        return SendResult.sent(None)

    async def mark_unreachable(self, person: Person, result: SendResult) -> None:
        """The address bounces: no more mail to it (a new address is tried afresh)."""
        if not person.email:
            return
        now = clock.now()
        await Person.filter(id=person.id, email=person.email).update(email_bounced=person.email, email_bounced_at=now)
        person.email_bounced, person.email_bounced_at = person.email, now


def email_channel(settings: Settings) -> EmailChannel | None:
    """The e-mail channel of a deployment, or None when ``WUCHUANG_SMTP_HOST`` is unset."""
    return EmailChannel(settings) if settings.mail_enabled else None
