"""The e-mail channel against a real SMTP server on 127.0.0.1 (aiosmtpd): what a mail holds, how each
SMTP answer is handled, who gets mail rather than Telegram, unsubscribing, the "lost my link" mail."""

from __future__ import annotations

import io
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from events.models import Category, OutboxMessage, OutboxStatus, Person, Registration
from events.services import access_links, broadcasts, catalog, tickets
from events.services import registration as reg
from events.settings import Settings
from notifications.channels import ConsoleChannel, SendResult
from notifications.dispatcher import Dispatcher, ticket_photo_loader
from notifications.mail import email_channel, smtp_result
from notifications.producers import Producer
from tests.factories import make_event, make_registration


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    at: float


@dataclass
class Mailbox:
    """An aiosmtpd handler: keeps what it accepts; answers from a script first (``rcpt``/``data``: one
    answer per command, ``"drop"`` closes the connection in the middle of DATA)."""

    received: list[Received] = field(default_factory=list)
    rcpt: list[str] = field(default_factory=list)
    data: list[str] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if self.rcpt:
            return self.rcpt.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.data:
            answer = self.data.pop(0)
            if answer == "drop":
                server.transport.abort()  # gone before the final answer: nothing was accepted
                return "250 OK"
            return answer
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message, time.monotonic()))
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    """A local SMTP server on a free port."""
    mailbox = Mailbox()
    port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


class FakeChat:
    """Telegram as far as the dispatcher can tell (it needs a chat id); keeps what it was given."""

    requires_chat_id = True

    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []

    async def send(self, *, chat_id: int, text: str, buttons: Any, photo: Any, info: Any = None, pace: Any = None):
        self.sent.append((chat_id, text))
        return SendResult.sent(len(self.sent))


def mail_settings(db: Settings, port: int, **extra: Any) -> Settings:
    return db.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_tls": "none", "smtp_rate": 50.0} | extra
    )


def sender(settings: Settings, chat: Any = None, **extra: Any) -> Dispatcher:
    channel = email_channel(settings)
    return Dispatcher(
        chat or FakeChat(),
        channels=[channel] if channel is not None else [],
        photo_loader=ticket_photo_loader(tickets.signer_for(settings.data_dir.resolve())),
        idle_interval=0.05,
        per_chat_interval=0,
        **extra,
    )


async def register_by_mail(event: Any, address: str, **fields: Any) -> Registration:
    return (await make_registration(event, email=address, **fields)).registration


def parts(message: EmailMessage) -> dict[str, list[EmailMessage]]:
    found: dict[str, list[EmailMessage]] = {}
    for part in message.walk():
        found.setdefault(part.get_content_type(), []).append(part)  # type: ignore[arg-type]
    return found


def ics_of(message: EmailMessage) -> str:
    (attachment,) = parts(message)["text/calendar"]
    return attachment.get_content() if isinstance(attachment.get_content(), str) else attachment.get_content().decode()


def line(ics: str, name: str) -> str:
    return next(row for row in ics.splitlines() if row.startswith(name + ":")).split(":", 1)[1]


# --- what a mail holds -------------------------------------------------------------------------------------


async def test_a_confirmation_mail_has_html_text_the_qr_inline_the_ics_and_the_access_link(db, frozen_clock, smtp):
    mailbox, port = smtp
    settings = mail_settings(db, port)
    event = await make_event(capacity=10)
    registration = await register_by_mail(event, "Li.Hua@Example.org")
    await Producer().drain()

    done = await sender(settings).drain(timeout=30)

    assert done["sent"] == 1
    (mail,) = mailbox.received
    message = mail.message
    assert mail.recipients == ["li.hua@example.org"]
    assert event.title in str(message["Subject"]) and "报名成功" in str(message["Subject"])
    assert message["Message-ID"] and message["Date"]
    assert message["List-Unsubscribe"] is None  # a seat one holds is not something to unsubscribe from
    found = parts(message)
    (text,) = found["text/plain"]
    (html,) = found["text/html"]
    (qr,) = found["image/png"]
    assert qr["Content-ID"] == "<ticket-qr>" and 'src="cid:ticket-qr"' in html.get_content()
    assert qr.get_content()[:8] == b"\x89PNG\r\n\x1a\n"
    link = await access_links.access_url(await Registration.get(id=registration.id))
    assert link in text.get_content() and f'href="{link}"' in html.get_content()
    assert (await access_links.registration_by_token(link.rsplit("/", 1)[1])).id == registration.id
    assert "光谷科技会展中心" in text.get_content() and "<b>" not in text.get_content()
    assert f'/events/{event.id}"' in html.get_content()  # the event's public page
    ics = ics_of(message)
    assert "METHOD:PUBLISH" in ics
    assert line(ics, "UID") == f"event-{event.public_id}@wuchuang"
    row = await OutboxMessage.get(person_id=registration.person_id)
    assert (row.status, row.channel, row.attempts) == (OutboxStatus.SENT, "email", 1)
    assert "/r/" not in str(row.mail) and "/r/" not in row.text  # no capability kept in the outbox


async def test_a_time_change_sends_the_same_uid_with_a_higher_sequence(db, frozen_clock, smtp):
    mailbox, port = smtp
    settings = mail_settings(db, port)
    event = await make_event(capacity=10)
    await register_by_mail(event, "wang@example.org")
    producer, dispatcher = Producer(), sender(settings)
    await producer.drain()
    await dispatcher.drain(timeout=30)
    later = event.starts_at + timedelta(days=1)
    await catalog.update_event(
        event.id, catalog.EventPatch(starts_at=later, ends_at=later + timedelta(hours=2)), actor="org"
    )
    await producer.drain()
    await dispatcher.drain(timeout=30)

    first, changed = (ics_of(m.message) for m in mailbox.received)
    assert line(changed, "UID") == line(first, "UID")
    assert int(line(changed, "SEQUENCE")) > int(line(first, "SEQUENCE"))
    assert "有变更" in str(mailbox.received[1].message["Subject"])
    assert "METHOD:PUBLISH" in changed


async def test_the_language_follows_the_person(db, frozen_clock, smtp):
    mailbox, port = smtp
    event = await make_event(capacity=10)
    zh = await register_by_mail(event, "zh@example.org")
    en = await register_by_mail(event, "en@example.org")
    await Person.filter(id=en.person_id).update(language="en")
    await Producer().drain()
    await sender(mail_settings(db, port)).drain(timeout=30)

    by_address = {m.recipients[0]: m.message for m in mailbox.received}
    english, chinese = by_address["en@example.org"], by_address["zh@example.org"]
    assert str(english["Subject"]).startswith("Registered: ")
    assert "You are registered for" in parts(english)["text/plain"][0].get_content()
    assert "报名成功" in str(chinese["Subject"]) and "您已成功报名" in parts(chinese)["text/plain"][0].get_content()
    assert zh.person_id != en.person_id


async def test_waitlist_promotion_and_cancellations_reach_people_by_mail(db, frozen_clock, smtp):
    mailbox, port = smtp
    event = await make_event(capacity=1)
    first = await register_by_mail(event, "first@example.org")
    second = await register_by_mail(event, "second@example.org")
    producer, dispatcher = Producer(), sender(mail_settings(db, port))
    await reg.cancel_registration(first.id, actor=f"registrant:{first.id}")
    await reg.cancel_registration(second.id, actor="token:organizer")
    await producer.drain()
    await dispatcher.drain(timeout=30)

    subjects = [(m.recipients[0], str(m.message["Subject"])) for m in mailbox.received]
    to_second = [s for a, s in subjects if a == "second@example.org"]
    assert any("候补" in s for s in to_second)  # waitlisted
    assert any("为您留了座位" in s or "座位" in s for s in to_second)  # promoted
    bodies = {
        (m.recipients[0], parts(m.message)["text/plain"][0].get_content())
        for m in mailbox.received
        if "取消" in str(m.message["Subject"])
    }
    assert any(a == "first@example.org" and "已按您的要求取消" in b for a, b in bodies)
    assert any(a == "second@example.org" and "主办方取消了您" in b for a, b in bodies)


async def test_a_reminder_reaches_a_mail_registrant_and_can_be_unsubscribed(db, frozen_clock, smtp):
    from notifications.scheduler import produce_reminders

    mailbox, port = smtp
    event = await make_event(capacity=10, starts_in=timedelta(hours=20))
    registration = await register_by_mail(event, "remind@example.org")
    bounced = await register_by_mail(event, "bounced@example.org")
    await Person.filter(id=bounced.person_id).update(email_bounced="bounced@example.org")
    await Producer().drain()
    dispatcher = sender(mail_settings(db, port))
    await dispatcher.drain(timeout=30)
    mailbox.received.clear()

    await produce_reminders()
    await dispatcher.drain(timeout=30)

    (mail,) = [m.message for m in mailbox.received]
    assert "活动提醒" in str(mail["Subject"]) and "20 小时后开始" in parts(mail)["text/plain"][0].get_content()
    assert "/r/" in parts(mail)["text/plain"][0].get_content()  # the ticket is on the registration page
    assert mail["List-Unsubscribe"] and "reminder" in str(mail["List-Unsubscribe"])
    assert await OutboxMessage.filter(person_id=bounced.person_id, category=Category.REMINDER).count() == 0
    assert registration.person_id != bounced.person_id


async def test_approval_and_rejection_are_told_by_mail(db, frozen_clock, smtp):
    mailbox, port = smtp
    event = await make_event(capacity=10, requires_approval=True)
    yes = await register_by_mail(event, "yes@example.org")
    no = await register_by_mail(event, "no@example.org")
    producer, dispatcher = Producer(), sender(mail_settings(db, port))
    await producer.drain()
    await dispatcher.drain(timeout=30)
    assert sorted(m.recipients[0] for m in mailbox.received if "已收到报名" in str(m.message["Subject"])) == [
        "no@example.org",
        "yes@example.org",
    ]
    mailbox.received.clear()

    await reg.approve_registration(yes.id, actor="token:organizer")
    await reg.reject_registration(no.id, actor="token:organizer", reason="名额仅限企业")
    await producer.drain()
    await dispatcher.drain(timeout=30)

    by_address = {m.recipients[0]: m.message for m in mailbox.received}
    approved, rejected = by_address["yes@example.org"], by_address["no@example.org"]
    assert "已通过审核" in parts(approved)["text/plain"][0].get_content()
    assert parts(approved)["image/png"] and "METHOD:PUBLISH" in ics_of(approved)
    assert "未通过审核" in str(rejected["Subject"]) and "名额仅限企业" in parts(rejected)["text/plain"][0].get_content()
    assert "image/png" not in parts(rejected) and "text/calendar" not in parts(rejected)


def test_the_smtp_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from events.settings import SettingsError, load_settings

    for name, value in {
        "WUCHUANG_SMTP_HOST": "smtp.example.cn",
        "WUCHUANG_SMTP_PORT": "465",
        "WUCHUANG_SMTP_TLS": "tls",
        "WUCHUANG_SMTP_USER": "wuchuang",
        "WUCHUANG_SMTP_PASSWORD": "s3cret",
        "WUCHUANG_MAIL_FROM": "武创荟 <noreply@example.cn>",
    }.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_tls, settings.smtp_user) == (
        "smtp.example.cn",
        465,
        "tls",
        "wuchuang",
    )
    assert settings.smtp_password is not None and settings.smtp_password.get_secret_value() == "s3cret"
    assert settings.mail_enabled and settings.mail_sender == "武创荟 <noreply@example.cn>"
    assert "s3cret" not in repr(settings)
    monkeypatch.setenv("WUCHUANG_SMTP_TLS", "ssl")
    with pytest.raises(SettingsError, match="WUCHUANG_SMTP_TLS"):
        load_settings()
    monkeypatch.delenv("WUCHUANG_SMTP_HOST")
    monkeypatch.delenv("WUCHUANG_SMTP_TLS")
    monkeypatch.delenv("WUCHUANG_MAIL_FROM")
    defaults = load_settings()
    assert not defaults.mail_enabled and defaults.smtp_port == 465
    assert load_settings(smtp_port=587).smtp_tls == "starttls"
    assert load_settings(public_url="https://events.example.cn").mail_sender == "noreply@events.example.cn"


# --- who gets mail -----------------------------------------------------------------------------------------


async def test_a_person_with_telegram_gets_telegram_not_mail(db, frozen_clock, smtp):
    mailbox, port = smtp
    event = await make_event(capacity=10)
    linked = await register_by_mail(event, "tg@example.org", telegram_id=777001)
    await Producer().drain()
    chat = FakeChat()

    await sender(mail_settings(db, port), chat=chat).drain(timeout=30)

    assert mailbox.received == []
    assert [chat_id for chat_id, _ in chat.sent] == [777001]
    row = await OutboxMessage.get(person_id=linked.person_id)
    assert (row.status, row.channel) == (OutboxStatus.SENT, "telegram")


async def test_a_person_who_blocked_the_bot_gets_mail(db, frozen_clock, smtp):
    mailbox, port = smtp
    event = await make_event(capacity=10)
    registration = await register_by_mail(event, "blocked@example.org", telegram_id=777002)
    await Person.filter(id=registration.person_id).update(telegram_blocked_at=frozen_clock.now)
    await Producer().drain()
    await sender(mail_settings(db, port)).drain(timeout=30)
    assert [m.recipients for m in mailbox.received] == [["blocked@example.org"]]


class BlockedChat(FakeChat):
    """Telegram answering 403: the person blocked the bot."""

    async def send(self, *, chat_id: int, text: str, buttons: Any, photo: Any, info: Any = None, pace: Any = None):
        self.sent.append((chat_id, text))
        return SendResult.unreachable("Forbidden: bot was blocked by the user")


async def test_a_403_from_telegram_sends_the_same_row_by_mail(db, frozen_clock, smtp):
    mailbox, port = smtp
    event = await make_event(capacity=10)
    registration = await register_by_mail(event, "fallback@example.org", telegram_id=777004)
    await Producer().drain()
    chat = BlockedChat()

    done = await sender(mail_settings(db, port), chat=chat).drain(timeout=30)

    assert done["blocked_people"] == 1 and len(chat.sent) == 1
    assert (await Person.get(id=registration.person_id)).telegram_blocked_at is not None
    (row,) = await OutboxMessage.filter(person_id=registration.person_id)
    assert (row.status, row.channel) == (OutboxStatus.SENT, "email")
    assert [m.recipients for m in mailbox.received] == [["fallback@example.org"]]


async def test_without_smtp_there_is_no_mail_channel(db, frozen_clock, smtp):
    mailbox, _ = smtp
    assert db.smtp_host is None and email_channel(db) is None
    event = await make_event(capacity=10)
    registration = await register_by_mail(event, "nobody@example.org")
    await Producer().drain()
    (row,) = await OutboxMessage.filter(person_id=registration.person_id)

    await sender(db).drain(timeout=30)  # the bot is on, e-mail is not

    row = await OutboxMessage.get(id=row.id)
    assert row.status == OutboxStatus.SKIPPED
    assert "no Telegram chat" in (row.last_error or "") and "WUCHUANG_SMTP_HOST" in (row.last_error or "")
    assert mailbox.received == []

    # in development (no bot either) the console shows it, as before
    await OutboxMessage.filter(id=row.id).update(status=OutboxStatus.QUEUED, last_error=None)
    out = io.StringIO()
    await Dispatcher(ConsoleChannel(stream=out), idle_interval=0.05).drain(timeout=10)
    assert event.title in out.getvalue() and (await OutboxMessage.get(id=row.id)).channel == "console"


# --- SMTP answers ------------------------------------------------------------------------------------------


async def test_a_4xx_answer_is_retried_and_sent_once_later(db, frozen_clock, smtp):
    mailbox, port = smtp
    mailbox.rcpt.append("451 4.3.0 Try again later")
    event = await make_event(capacity=10)
    registration = await register_by_mail(event, "later@example.org")
    await Producer().drain()
    dispatcher = sender(mail_settings(db, port))

    await dispatcher.drain(timeout=30)
    row = await OutboxMessage.get(person_id=registration.person_id)
    assert (row.status, row.attempts) == (OutboxStatus.QUEUED, 1) and "451" in (row.last_error or "")
    assert row.not_before > frozen_clock.now and mailbox.received == []

    frozen_clock.set(frozen_clock.now + timedelta(minutes=1))
    await dispatcher.drain(timeout=30)
    await dispatcher.drain(timeout=30)

    row = await OutboxMessage.get(id=row.id)
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 2)
    assert len(mailbox.received) == 1


async def test_a_5xx_answer_fails_for_good(db, frozen_clock, smtp):
    mailbox, port = smtp
    mailbox.data.append("554 5.6.0 Message content rejected")
    event = await make_event(capacity=10)
    registration = await register_by_mail(event, "strict@example.org")
    await Producer().drain()

    await sender(mail_settings(db, port)).drain(timeout=30)

    row = await OutboxMessage.get(person_id=registration.person_id)
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 1) and "554" in (row.last_error or "")
    assert (await Person.get(id=registration.person_id)).email_bounced is None  # the message, not the address


async def test_a_550_marks_the_address_bouncing_until_it_changes(db, frozen_clock, smtp):
    mailbox, port = smtp
    mailbox.rcpt.append("550 5.1.1 <gone@example.org>: no such user")
    event = await make_event(capacity=10)
    registration = await register_by_mail(event, "gone@example.org")
    producer, dispatcher = Producer(), sender(mail_settings(db, port))
    await producer.drain()

    done = await dispatcher.drain(timeout=30)

    person = await Person.get(id=registration.person_id)
    assert person.email_bounced == "gone@example.org" and person.email_bounced_at == frozen_clock.now
    row = await OutboxMessage.get(person_id=person.id)
    assert row.status == OutboxStatus.SKIPPED and "bounces" in (row.last_error or "")
    assert done["unreachable_email"] == 1
    # nothing more goes to that address: the next message is not even queued
    await broadcasts.create_broadcast(event.id, "会场改到三楼", actor="org")
    await producer.drain()
    assert await OutboxMessage.filter(person_id=person.id).count() == 1
    # a new address is tried afresh
    await Person.filter(id=person.id).update(email="new@example.org")
    await broadcasts.create_broadcast(event.id, "请带身份证", actor="org")
    await producer.drain()
    await dispatcher.drain(timeout=30)
    assert [m.recipients for m in mailbox.received] == [["new@example.org"]]


async def test_a_connection_dropped_in_data_is_retried_and_not_doubled(db, frozen_clock, smtp):
    mailbox, port = smtp
    mailbox.data.append("drop")
    event = await make_event(capacity=10)
    registration = await register_by_mail(event, "flaky@example.org")
    await Producer().drain()
    dispatcher = sender(mail_settings(db, port))

    await dispatcher.drain(timeout=30)
    row = await OutboxMessage.get(person_id=registration.person_id)
    assert (row.status, row.attempts) == (OutboxStatus.QUEUED, 1) and mailbox.received == []

    frozen_clock.set(frozen_clock.now + timedelta(minutes=1))
    await dispatcher.drain(timeout=30)
    frozen_clock.set(frozen_clock.now + timedelta(minutes=10))
    await dispatcher.drain(timeout=30)  # a sent row is never claimed again

    assert (await OutboxMessage.get(id=row.id)).status == OutboxStatus.SENT
    assert len(mailbox.received) == 1
    assert mailbox.received[0].message["Message-ID"] == f"<outbox-{row.id}@localhost>"


def test_smtp_answers_map_to_results() -> None:
    import aiosmtplib

    assert smtp_result(aiosmtplib.SMTPServerDisconnected("gone")).outcome == "transient"
    assert smtp_result(aiosmtplib.SMTPConnectError("refused")).outcome == "transient"
    assert smtp_result(aiosmtplib.SMTPTimeoutError("slow")).outcome == "transient"
    assert smtp_result(aiosmtplib.SMTPDataError(451, "later")).outcome == "transient"
    assert smtp_result(aiosmtplib.SMTPDataError(552, "too big")).outcome == "permanent"
    refused = aiosmtplib.SMTPRecipientRefused(550, "no such user", "a@b.c")
    assert smtp_result(aiosmtplib.SMTPRecipientsRefused([refused])).outcome == "blocked"
    full = aiosmtplib.SMTPRecipientRefused(552, "mailbox full", "a@b.c")
    assert smtp_result(aiosmtplib.SMTPRecipientsRefused([full])).outcome == "permanent"
    assert smtp_result(aiosmtplib.SMTPAuthenticationError(535, "bad password")).outcome == "transient"


async def test_mail_keeps_to_its_own_rate(db, frozen_clock, smtp):
    mailbox, port = smtp
    event = await make_event(capacity=10)
    for n in range(5):
        await register_by_mail(event, f"rate{n}@example.org")
    await Producer().drain()

    dispatcher = sender(mail_settings(db, port, smtp_rate=4.0))
    # When the bucket let each mail go, not when the server took it: a slow first connection on a busy
    # machine would shorten the span the server sees without the rate being broken.
    channel = next(route for route in dispatcher.routes if route.name == "email")
    started: list[float] = []
    deliver = channel.deliver

    async def timed(row: Any, **kwargs: Any) -> Any:
        started.append(time.monotonic())
        return await deliver(row, **kwargs)

    channel.deliver = timed  # type: ignore[method-assign]
    await dispatcher.drain(timeout=30)

    assert len(mailbox.received) == 5 and len(started) == 5
    assert started[-1] - started[0] >= 0.9  # 5 mails at 4/s: at least 4 intervals of 0.25 s


# --- unsubscribing ---------------------------------------------------------------------------------------


async def test_list_unsubscribe_works_end_to_end(db, frozen_clock, smtp, client):
    mailbox, port = smtp
    event = await make_event(capacity=10)
    registration = await register_by_mail(event, "quiet@example.org")
    other = await register_by_mail(event, "keen@example.org")
    producer, dispatcher = Producer(), sender(mail_settings(db, port))
    await producer.drain()
    await dispatcher.drain(timeout=30)
    mailbox.received.clear()
    await broadcasts.create_broadcast(event.id, "下午茶歇改为 15:30", actor="org")
    await producer.drain()
    await dispatcher.drain(timeout=30)

    mail = next(m.message for m in mailbox.received if m.recipients == ["quiet@example.org"])
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = str(mail["List-Unsubscribe"]).strip("<>")
    assert url in parts(mail)["text/plain"][0].get_content()
    path = url.split("://", 1)[1].split("/", 1)[1]

    page = await client.get(f"/{path}")  # the page asks first; a link checker changes nothing
    assert page.status_code == 200 and 'method="post"' in page.text
    assert page.headers["content-security-policy"]
    assert (await Person.get(id=registration.person_id)).opted_out == []

    # what a mail program sends for a one-click unsubscribe (RFC 8058)
    done = await client.post(f"/{path}", content="List-Unsubscribe=One-Click",
                             headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert done.status_code == 200 and 'id="unsubscribed"' in done.text
    assert (await Person.get(id=registration.person_id)).opted_out == ["broadcast"]
    again = await client.post(f"/{path}")
    assert again.status_code == 200 and (await Person.get(id=registration.person_id)).opted_out == ["broadcast"]

    mailbox.received.clear()
    await broadcasts.create_broadcast(event.id, "停车场在 B2", actor="org")
    await producer.drain()
    await dispatcher.drain(timeout=30)
    assert [m.recipients for m in mailbox.received] == [["keen@example.org"]]
    assert other.person_id != registration.person_id

    forged = path[:-4] + ("0000" if not path.endswith("0000") else "1111")
    assert (await client.post(f"/{forged}")).status_code == 404
    assert (await client.get(f"/{forged}")).status_code == 404
    essential = path.replace(".broadcast.", ".event_cancelled.")
    assert (await client.post(f"/{essential}")).status_code == 404


# --- "lost my link" --------------------------------------------------------------------------------------


async def test_a_lost_link_is_mailed_even_to_a_person_with_telegram_and_is_rate_limited(db, frozen_clock, smtp):
    mailbox, port = smtp
    first, second = await make_event(capacity=10), await make_event(capacity=10)
    web = await register_by_mail(first, "me@example.org")
    also = await register_by_mail(second, "me@example.org", telegram_id=777003)
    producer, chat = Producer(), FakeChat()
    dispatcher = sender(mail_settings(db, port), chat=chat)
    await producer.drain()
    await dispatcher.drain(timeout=30)
    mailbox.received.clear()

    assert await access_links.request_link(" ME@example.org ", actor="web") == 2
    assert await access_links.request_link("stranger@example.org", actor="web") == 0
    assert await access_links.request_link("me@example.org", first.id, actor="web") == 1
    await producer.drain()
    await dispatcher.drain(timeout=30)

    rows = await OutboxMessage.filter(dedup_key__startswith="link:").order_by("id")
    assert [(r.channel, r.status) for r in rows] == [("email", OutboxStatus.SENT)] * 3
    assert {m.recipients[0] for m in mailbox.received} == {"me@example.org"}
    links = {await access_links.access_url(r) for r in (web, also)}
    texts = [parts(m.message)["text/plain"][0].get_content() for m in mailbox.received]
    assert all(any(link in text for link in links) for text in texts)
    assert all(link in "".join(texts) for link in links)
    assert not any("/r/" in text for _, text in chat.sent)

    # the form cannot be used to flood a mailbox: 3 an hour per registration
    assert await access_links.request_link("me@example.org", first.id, actor="web") == 1
    assert await access_links.request_link("me@example.org", first.id, actor="web") == 0
    assert await access_links.request_link("me@example.org", actor="web") == 1  # only the other one
    frozen_clock.set(frozen_clock.now + timedelta(hours=1, minutes=1))
    assert await access_links.request_link("me@example.org", first.id, actor="web") == 1

    # a cancelled registration's link is not sent
    await reg.cancel_registration(web.id, actor=f"registrant:{web.id}")
    assert await access_links.request_link("me@example.org", first.id, actor="web") == 0
    assert Category.REGISTRATION_CONFIRMED == rows[0].category
