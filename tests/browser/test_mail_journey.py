"""#16's whole journey for someone who never opens Telegram, in headless Chromium against the real server
and a local SMTP server: find the event, register on the web, get the confirmation mail (ticket QR inline,
.ics attached, the registration link); a second person joins the waitlist; the first cancels from the
link in their mail; the second is promoted, told by mail with a ticket, and opens their page from it.

Screenshots: /tmp/journey-*.png and test-artifacts/browser/journey-*.png.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from events.db import close_db, init_db
from tests.browser.conftest import PHONE, serving
from tests.browser.helpers import free_port, run_async
from tests.factories import make_event

pytestmark = pytest.mark.browser


class Inbox:
    """What the SMTP server was given, by recipient."""

    def __init__(self) -> None:
        self.mails: list[tuple[str, EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        for rcpt in envelope.rcpt_tos:
            self.mails.append((rcpt, message))
        return "250 Message accepted"

    def wait_for(self, rcpt: str, subject_part: str, timeout: float = 45) -> EmailMessage:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for to, message in self.mails:
                if to == rcpt and subject_part in str(message["Subject"]):
                    return message
            time.sleep(0.2)
        seen = [(to, str(m["Subject"])) for to, m in self.mails]
        raise AssertionError(f"no mail to {rcpt} about {subject_part!r} in {timeout} s; got {seen}")


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    box, port = Inbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def parts(message: EmailMessage) -> dict[str, list[EmailMessage]]:
    found: dict[str, list[EmailMessage]] = {}
    for part in message.walk():
        if not part.is_multipart():
            found.setdefault(part.get_content_type(), []).append(part)  # type: ignore[arg-type]
    return found


def link_in(message: EmailMessage, base: str) -> str:
    text = parts(message)["text/plain"][0].get_content()
    match = re.search(re.escape(base) + r"/r/[A-Za-z0-9_-]{40,}", text)
    assert match, text
    return match.group(0)


def snap(page: Any, artifacts: Any, name: str) -> None:
    path = artifacts(page, f"journey-{name}")
    page.screenshot(path=str(path), full_page=True)
    shutil.copy(path, f"/tmp/journey-{name}.png")


def register(page: Any, url: str, *, name: str, email: str) -> None:
    page.goto(url)
    page.wait_for_selector("[data-challenge]", state="hidden", timeout=20_000)  # the proof of work is done
    page.fill("input[name=name]", name)
    page.fill("input[name=email]", email)
    page.check("input[name=consent]")
    page.click("form[data-pow-form] button[type=submit]")
    page.wait_for_url(re.compile(r"/r/[A-Za-z0-9_-]{40,}"), timeout=20_000)


def test_register_on_the_web_be_mailed_promoted_and_cancel(browser_available, tmp_path, inbox, launch, artifacts):
    box, smtp_port = inbox
    mail_env = {
        "WUCHUANG_SMTP_HOST": "127.0.0.1",
        "WUCHUANG_SMTP_PORT": str(smtp_port),
        "WUCHUANG_SMTP_TLS": "none",
        "WUCHUANG_MAIL_FROM": "wuchuang@example.cn",
    }
    with serving(tmp_path, mail_env) as server:

        async def seed() -> int:
            await init_db(server.settings)
            try:
                title = "武创荟·生物医药成果对接专场"
                event = await make_event(title=title, capacity=1, starts_in=timedelta(days=5), host="武汉市科学技术局")
                return event.id
            finally:
                await close_db()

        event_id = run_async(seed)
        browser = launch()
        first = browser.new_context(**PHONE, locale="zh-CN").new_page()
        first.goto(server.url + "/")
        first.click("text=武创荟·生物医药成果对接专场")
        first.wait_for_url(f"**/events/{event_id}")
        register(first, first.url, name="陈静", email="chenjing@example.cn")
        assert "报名成功" in first.inner_text("p.banner")
        snap(first, artifacts, "1-confirmed")

        confirmation = box.wait_for("chenjing@example.cn", "报名成功")
        found = parts(confirmation)
        assert found["image/png"][0]["Content-ID"] == "<ticket-qr>"  # the ticket, inline
        (ics,) = found["text/calendar"]
        content = ics.get_content()
        assert "METHOD:PUBLISH" in (content.decode() if isinstance(content, bytes) else content)
        first_link = link_in(confirmation, server.url)

        second = browser.new_context(**PHONE, locale="zh-CN").new_page()
        register(second, f"{server.url}/events/{event_id}", name="刘洋", email="liuyang@example.cn")
        assert "候补" in second.inner_text("p.banner")
        snap(second, artifacts, "2-waitlisted")
        waitlisted = box.wait_for("liuyang@example.cn", "候补")
        second_link = link_in(waitlisted, server.url)

        # The first person cancels from the link in their mail.
        first.goto(first_link)
        first.click("a.danger-link")
        first.click("section.cancel button[type=submit]")
        first.wait_for_url(re.compile(r"done=cancelled"))
        assert "已取消" in first.inner_text("dl.facts")
        snap(first, artifacts, "3-cancelled")
        box.wait_for("chenjing@example.cn", "取消")

        # The second is promoted and told by mail, with the ticket; their page shows it.
        promoted = box.wait_for("liuyang@example.cn", "为您留了座位")
        assert "image/png" in parts(promoted)
        second.goto(link_in(promoted, server.url))
        assert second.url.startswith(second_link)
        assert "报名成功" in second.inner_text("dl.facts")
        second.wait_for_function("document.querySelector('.ticket img').naturalWidth > 0")
        snap(second, artifacts, "4-promoted")
