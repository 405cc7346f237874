"""An organizer runs a session in the console, in real headless Chromium: signs in on a phone, creates
an event, publishes it, sees registrations arrive (made through the registration service), approves
one in bulk, checks one in by hand and undoes it, edits an attendee; then on a laptop looks at the
table and cancels another event with a message. Screenshots: test-artifacts/browser/console-events-*.png.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from events import clock, localtime
from events.db import close_db, init_db
from events.models import Activity, Attendance, Event, Person, Registration, RegistrationStatus, Role
from events.services import accounts, catalog, organizations, staff
from events.services.registration import Applicant, register
from tests.browser.conftest import PHONE
from tests.browser.helpers import run_async

pytestmark = pytest.mark.browser

PASSWORD = "光谷 console 2026 secret"
LOGIN = "chen.organizer@example.cn"
LAPTOP = {"viewport": {"width": 1280, "height": 900}, "device_scale_factor": 1}


def db(server: Any, work: Any) -> Any:
    async def run() -> Any:
        await init_db(server.settings)
        try:
            return await work()
        finally:
            await close_db()

    return run_async(run)


def seed(server: Any) -> int:
    """The organizer's account, and another published event of theirs with a registrant (to cancel)."""

    async def work() -> int:
        org = await organizations.find_or_create_organization("洪山区科技局")
        person = await Person.create(name="陈组织", email=LOGIN)
        await staff.grant_role(person, role=Role.ORGANIZER, event_ids=None, actor="test", organization_id=org.id)
        await accounts.create_account(person, actor="test", password=PASSWORD)
        start = clock.now() + timedelta(days=10)
        other = await catalog.create_event(
            catalog.EventInput(
                title="武创荟·洪山专场（将取消）",
                kind="session",
                venue="洪山创意大厦",
                starts_at=start,
                ends_at=start + timedelta(hours=2),
            ),
            actor="test",
            organization_id=org.id,
        )
        await catalog.publish_event(other.id, actor="test")
        await register(other.id, Applicant(name="周明", email="zhou@example.cn"), actor="test")
        return other.id

    return int(db(server, work))


def registrations_arrive(server: Any, title: str) -> list[int]:
    async def work() -> list[int]:
        event = await Event.get(title=title)
        made = []
        for n, (name, org) in enumerate((("李娜", "华中科技大学"), ("王强", "武汉大学"), ("赵敏", "东湖实验室"))):
            applicant = Applicant(name=name, phone=f"1390000{n:04d}", organization=org, email=f"r{n}@example.cn")
            made.append((await register(event.id, applicant, actor="test")).registration.id)
        return made

    return list(db(server, work))


def statuses(server: Any, ids: list[int]) -> list[str]:
    async def work() -> list[str]:
        return [str((await Registration.get(id=i)).status) for i in ids]

    return list(db(server, work))


def test_an_organizer_runs_a_session_in_the_console(server, launch, artifacts, console_log):
    other_id = seed(server)
    browser = launch()
    phone = browser.new_context(**PHONE, locale="zh-CN")
    page = phone.new_page()
    page.on("console", lambda m: console_log.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console_log.append(f"pageerror: {e}"))

    page.goto(f"{server.url}/console/signin")
    page.fill("#password-form input[name=login]", LOGIN)
    page.fill("#password-form input[name=password]", PASSWORD)
    page.click("#password-form button[type=submit]")
    assert page.url.endswith("/console")

    # Create: a mistake first (ends before it starts), kept as typed with the error beside the field.
    page.goto(f"{server.url}/console/events")
    page.click("text=新建活动")
    starts = localtime.local(clock.now() + timedelta(minutes=40)).replace(second=0, microsecond=0)
    page.fill("input[name=title]", "武创荟·光谷人工智能专场")
    page.fill("input[name=venue]", "光谷科技会展中心")
    page.fill("input[name=starts_at]", starts.strftime("%Y-%m-%dT%H:%M"))
    page.fill("input[name=ends_at]", (starts - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.check("input[name=requires_approval]")
    page.click("#event-form button[type=submit]")
    assert "结束" in page.locator("#problem-ends_at").inner_text()
    assert page.input_value("input[name=title]") == "武创荟·光谷人工智能专场"
    artifacts(page, "console-events-form-error-phone")
    page.fill("input[name=ends_at]", (starts + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"))
    page.click("#event-form button[type=submit]")
    assert "草稿已创建" in page.locator("#notice").inner_text()
    assert page.locator("#status").inner_text() == "草稿"
    page.click("#publish")
    assert "已发布" in page.locator("#notice").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
    page.screenshot(path=str(artifacts(page, "console-events-published-phone")), full_page=True)

    # Registrations arrive (the registration service, as the site and the bot make them).
    ids = registrations_arrive(server, "武创荟·光谷人工智能专场")
    page.reload()
    assert page.locator("#n-pending").inner_text() == "3"
    page.click("#to-registrations")
    assert page.locator("#registrations tbody tr").count() == 3
    # Approve one in bulk: tick its box, press Approve.
    page.check(f'#registrations input[name=ids][value="{ids[0]}"]')
    page.click("#bulk-approve")
    assert "已处理：1" in page.locator("#notice").inner_text()
    assert statuses(server, ids) == ["confirmed", "pending", "pending"]
    page.screenshot(path=str(artifacts(page, "console-events-table-phone")), full_page=True)
    page.goto(page.url.split("?")[0] + "?lang=en")
    page.screenshot(path=str(artifacts(page, "console-events-table-phone-en")), full_page=True)
    # Select all on the page (the script) ticks every box.
    page.check("#select-all")
    assert page.locator("#registrations input[name=ids]:checked").count() == 3
    page.uncheck("#select-all")

    # One attendee: check in by hand, undo, edit.
    page.click("text=李娜")
    page.click("#checkin")
    assert page.locator("#notice").inner_text() == "Checked in."
    assert db(server, lambda: Attendance.filter(registration_id=ids[0]).count()) == 1
    page.screenshot(path=str(artifacts(page, "console-events-attendee-phone")), full_page=True)
    page.goto(page.url.split("?")[0] + "?lang=en")  # the machine has no CJK font: a readable shot too
    page.screenshot(path=str(artifacts(page, "console-events-attendee-phone-en")), full_page=True)
    page.click("#undo-checkin")
    assert page.locator("#notice").inner_text() == "The check-in is undone."
    assert db(server, lambda: Attendance.filter(registration_id=ids[0]).count()) == 0
    page.fill("input[name=organization]", "华中科技大学 计算机学院")
    page.fill("input[name=phone]", "1380013")  # not a phone number: refused beside the field, kept
    page.click("#save-attendee")
    assert page.locator(".field.error .problem").count() == 1
    assert page.input_value("input[name=organization]") == "华中科技大学 计算机学院"
    page.fill("input[name=phone]", "138 0013 8000")
    page.click("#save-attendee")
    assert page.locator("#notice").inner_text() == "Saved."

    async def edited() -> tuple[str | None, str | None]:
        reg = await Registration.get(id=ids[0])
        return reg.organization, reg.phone

    assert db(server, edited) == ("华中科技大学 计算机学院", "+8613800138000")
    phone.close()

    # On a laptop: the table, then cancel the other event with a message to its registrants.
    laptop = browser.new_context(**LAPTOP, locale="zh-CN")
    page = laptop.new_page()
    page.on("pageerror", lambda e: console_log.append(f"pageerror: {e}"))
    page.goto(f"{server.url}/console/signin")
    page.fill("#password-form input[name=login]", LOGIN)
    page.fill("#password-form input[name=password]", PASSWORD)
    page.click("#password-form button[type=submit]")
    page.goto(f"{server.url}/console/events")
    page.screenshot(path=str(artifacts(page, "console-events-list-laptop")), full_page=True)
    page.click("text=武创荟·光谷人工智能专场")
    page.click("#to-registrations")
    page.screenshot(path=str(artifacts(page, "console-events-table-laptop")), full_page=True)
    page.goto(page.url.split("?")[0] + "?lang=en")
    page.screenshot(path=str(artifacts(page, "console-events-table-laptop-en")), full_page=True)
    page.goto(page.url.replace("/registrations?lang=en", "?lang=en"))
    page.screenshot(path=str(artifacts(page, "console-events-page-laptop-en")), full_page=True)
    page.goto(f"{server.url}/console/events/{other_id}")
    page.fill("#cancel textarea[name=message]", "因场地调整，本期活动取消，下期再见。")
    page.click("#cancel-event")
    assert "活动已取消" in page.locator("#notice").inner_text()
    assert page.locator("#status").inner_text() == "已取消"
    page.screenshot(path=str(artifacts(page, "console-events-cancelled-laptop")), full_page=True)

    async def cancelled() -> tuple[str, str]:
        event = await Event.get(id=other_id)
        fact = await Activity.get(kind="event.cancelled", event_id=other_id)
        return str(event.status), str(fact.payload.get("reason"))

    assert db(server, cancelled) == ("cancelled", "因场地调整，本期活动取消，下期再见。")
    # English on the laptop.
    page.goto(f"{server.url}/console/events/{other_id}/registrations?lang=en")
    assert page.locator("h1").inner_text() == "Registrations"
    laptop.close()
    assert RegistrationStatus.CONFIRMED  # the enum is the one the pages label
