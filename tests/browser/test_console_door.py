"""The organizer at the door, in real headless Chromium on a phone (JavaScript on): the live door view
updating itself as people come in, an announcement composed, previewed and sent with a double tap (one
announcement), its progress; a door-staff link whose QR code signs a second phone in to /scan on that
event. Screenshots go to test-artifacts/browser/console-door-*.png."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from events import clock
from events.db import close_db, init_db
from events.models import Broadcast, Person, Registration, Role
from events.services import accounts, brokers, catalog, checkin, courses, credits, organizations, staff, tickets
from events.services.registration import Applicant, register
from tests.browser.conftest import PHONE
from tests.browser.helpers import run_async

pytestmark = pytest.mark.browser

PASSWORD = "光谷 door 2026 secret"
GATES = ("东门", "东门", "西门", "东门")


def seed(server: Any) -> tuple[int, list[int]]:
    async def work() -> tuple[int, list[int]]:
        await init_db(server.settings)
        try:
            org = await organizations.find_or_create_organization("东湖新技术开发区科技创新局")
            person = await Person.create(name="张晓燕", email="zhang.xy@example.cn")
            await staff.grant_role(person, role=Role.ORGANIZER, event_ids=None, actor="test", organization_id=org.id)
            await accounts.create_account(person, actor="test", password=PASSWORD)
            start = clock.now() + timedelta(minutes=20)
            event = await catalog.create_event(
                catalog.EventInput(
                    title="武创荟·光谷人工智能专场",
                    kind="session",
                    series="wuchuanghui",
                    district="donghu_gaoxin",
                    venue="光谷科技会展中心",
                    starts_at=start,
                    ends_at=start + timedelta(hours=3),
                    capacity=80,
                ),
                actor="test",
                organization_id=org.id,
            )
            await catalog.publish_event(event.id, actor="test")
            people = []
            for i, name in enumerate(("李明", "王磊", "陈静", "刘洋", "赵敏", "孙浩", "周婷")):
                applicant = Applicant(
                    name=name,
                    phone=f"1390000{i:04d}",
                    organization="光谷实验室" if i % 2 else "武汉大学",
                    telegram_id=880_000 + i if i < 4 else None,
                    email=f"p{i}@example.cn" if i in (4, 5) else None,
                )
                people.append((await register(event.id, applicant, actor="test")).registration.id)
            # A course with an enrolled broker who finished its module (the training pages' screenshots).
            course = await courses.create_course(
                courses.CourseInput(
                    code="GG-101",
                    event=catalog.EventInput(
                        title="技术经理人初级班（光谷）",
                        kind="training",
                        venue="光谷",
                        starts_at=start + timedelta(days=2),
                        ends_at=start + timedelta(days=2, hours=3),
                    ),
                    items=[courses.ItemInput(kind="module", code="M1", title="技术转移概论", hours=6)],
                ),
                actor="test",
                organization_id=org.id,
            )
            await catalog.publish_event(course.event_id, actor="test")
            broker = await brokers.create_broker(
                brokers.BrokerInput(name="黄志强", phone="13712340001", organization="光谷技术转移中心"),
                actor="test",
                organization_id=org.id,
            )
            await courses.enroll(course.id, broker.id, actor="test")
            await credits.complete_module(
                course.id, "M1", broker_id=broker.id, external_id="seed", completed_at=None, actor="test"
            )
            return event.id, people
        finally:
            await close_db()

    return run_async(work)


def check_in(server: Any, event_id: int, registration_id: int, gate: str, checker: str) -> str:
    async def work() -> str:
        await init_db(server.settings)
        try:
            signer = tickets.signer_for(server.settings.data_dir)
            registration = await Registration.get(id=registration_id)
            code = tickets.ticket_code(registration, signer)
            assert code is not None
            scan = checkin.Scan(code=code, event_id=event_id, gate=gate)
            return str((await checkin.redeem(scan, signer=signer, actor=checker)).result)
        finally:
            await close_db()

    return run_async(work)


def broadcasts_made(server: Any) -> list[Broadcast]:
    async def work() -> list[Broadcast]:
        await init_db(server.settings)
        try:
            return await Broadcast.all()
        finally:
            await close_db()

    return run_async(work)


def test_door_view_broadcast_and_a_door_link_on_a_phone(server, launch, artifacts, console_log):
    from playwright.sync_api import expect

    event_id, people = seed(server)
    for registration_id, gate in zip(people, GATES, strict=False):
        assert check_in(server, event_id, registration_id, gate, "token:3:东门 小李") == "ok"
    browser = launch()
    context = browser.new_context(**PHONE, locale="zh-CN")
    page = context.new_page()
    page.on("console", lambda m: console_log.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console_log.append(f"pageerror: {e}"))

    page.goto(f"{server.url}/console/signin")
    page.fill("#password-form input[name=login]", "zhang.xy@example.cn")
    page.fill("#password-form input[name=password]", PASSWORD)
    page.click("#password-form button[type=submit]")
    assert page.url.endswith("/console")

    # The live door view: 4 of 7 in, then a fifth arrives and the page shows it by itself.
    page.goto(f"{server.url}/console/events/{event_id}/door")
    assert page.locator("[data-figure=checked_in]").inner_text() == "4"
    assert page.locator("[data-figure=confirmed]").inner_text() == "7"
    assert page.locator("svg.arrivals rect").count() >= 1
    assert "东门 小李" in page.locator("#door-live").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
    artifacts(page, "console-door-view")
    assert check_in(server, event_id, people[4], "西门", "token:4:西门") == "ok"
    expect(page.locator("[data-figure=checked_in]")).to_have_text("5", timeout=15_000)  # refreshed every 10 s
    assert "赵敏" in page.locator("#last-arrivals").inner_text()
    page.screenshot(path=str(artifacts(page, "console-door-view-updated")), full_page=True)

    # An announcement: who it reaches, the preview, a double tap on send → one announcement.
    page.goto(f"{server.url}/console/events/{event_id}/broadcasts")
    assert page.locator("[data-reach=telegram]").inner_text() == "4"
    assert page.locator("[data-reach=email]").inner_text() == "2"
    assert page.locator("[data-reach=none]").inner_text() == "1"
    assert page.locator("#send").is_disabled()  # preview first
    page.fill("textarea[name=text]", "各位来宾：会场改到 B 厅，请从西门进场。")
    page.click("button:has-text('预览')")
    assert "会场改到 B 厅" in page.locator("#preview").inner_text()
    assert "发送给 6 人" in page.locator("#send").inner_text()
    page.screenshot(path=str(artifacts(page, "console-door-broadcast-preview")), full_page=True)
    page.locator("#send").dblclick()
    page.wait_for_url("**/console/broadcasts/*")
    assert "通知已排队" in page.locator(".notice.ok").inner_text()
    page.reload()  # a reload GETs the page: nothing is posted again
    made = broadcasts_made(server)
    assert [b.text for b in made] == ["各位来宾：会场改到 B 厅，请从西门进场。"]
    page.screenshot(path=str(artifacts(page, "console-door-broadcast-progress")), full_page=True)

    # Door staff: a link for a second phone; its QR code's address signs the scanner in on this event.
    page.goto(f"{server.url}/console/events/{event_id}/staff")
    page.fill("input[name=name]", "西门 小王")
    page.click("text=生成登录链接")
    link = page.locator("#new-link").inner_text()
    assert "/scan#token=wch_" in link and link.endswith(f"&event={event_id}")
    assert page.locator(".qr svg").count() == 1
    page.screenshot(path=str(artifacts(page, "console-door-staff-link")), full_page=True)

    phone = browser.new_context(**PHONE, locale="zh-CN").new_page()
    phone.on("pageerror", lambda e: console_log.append(f"pageerror: {e}"))
    phone.goto(link)
    phone.locator("#view-scan").wait_for(state="visible", timeout=15_000)
    assert "#token" not in phone.url
    assert "光谷人工智能专场" in phone.locator("#event-title").inner_text()
    artifacts(phone, "console-door-scanner-from-link")

    # Revoked, the link lists as such.
    page.goto(f"{server.url}/console/events/{event_id}/staff")
    page.click("table.grid button")
    assert "链接已撤销" in page.locator(".notice.ok").inner_text()
    assert "已撤销" in page.locator("table.grid").inner_text()

    # Courses and brokers: the course's enrolment with the module's hours, the broker's page.
    page.goto(f"{server.url}/console/courses")
    page.click("text=GG-101")
    assert "黄志强" in page.locator("#enrolled").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
    page.screenshot(path=str(artifacts(page, "console-door-course")), full_page=True)
    page.click("#enrolled >> text=黄志强")
    assert "6" in page.locator("#standing").inner_text()
    page.screenshot(path=str(artifacts(page, "console-door-broker")), full_page=True)
    context.close()
