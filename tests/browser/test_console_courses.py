"""An organizer creates a course on a phone in headless Chromium: the new-course form with two module rows
(one row left blank), a mistake kept on the page, then the draft course published and an item added from its
page. Screenshots go to test-artifacts/browser/console-courses-*.png."""

from __future__ import annotations

from typing import Any

import pytest

from events.db import close_db, init_db
from events.models import Course, CourseItem, Person, Role
from events.services import accounts, organizations, staff
from tests.browser.conftest import PHONE
from tests.browser.helpers import run_async

pytestmark = pytest.mark.browser

PASSWORD = "光谷 courses 2026 secret"


def seed(server: Any) -> int:
    async def work() -> int:
        await init_db(server.settings)
        try:
            org = await organizations.find_or_create_organization("武汉市科技成果转化局")
            person = await Person.create(name="陈佳", email="chen.jia@example.cn")
            await staff.grant_role(person, role=Role.ORGANIZER, event_ids=None, actor="test", organization_id=org.id)
            await accounts.create_account(person, actor="test", password=PASSWORD)
            return org.id
        finally:
            await close_db()

    return run_async(work)


def stored(server: Any, code: str) -> tuple[Course, list[CourseItem]]:
    async def work() -> tuple[Course, list[CourseItem]]:
        await init_db(server.settings)
        try:
            course = await Course.get(code=code).select_related("event")
            return course, await CourseItem.filter(course_id=course.id).order_by("position")
        finally:
            await close_db()

    return run_async(work)


def test_create_publish_and_extend_a_course_on_a_phone(server, launch, artifacts, console_log):
    org_id = seed(server)
    browser = launch()
    context = browser.new_context(**PHONE, locale="zh-CN")
    page = context.new_page()
    page.on("pageerror", lambda e: console_log.append(f"pageerror: {e}"))
    page.goto(f"{server.url}/console/signin")
    page.fill("#password-form input[name=login]", "chen.jia@example.cn")
    page.fill("#password-form input[name=password]", PASSWORD)
    page.click("#password-form button[type=submit]")
    assert page.url.endswith("/console")

    page.goto(f"{server.url}/console/courses")
    page.click("#new-course")
    page.fill("input[name=code]", "WH-201")
    page.fill("input[name=venue]", "武汉科技大市场")
    page.fill("input[name=starts_at]", "2030-06-03T09:00")
    page.fill("input[name=ends_at]", "2030-06-03T08:00")  # before the start: refused
    for n, (code, title, hours) in ((0, ("M1", "技术转移概论", "4")), (2, ("M2", "技术合同登记", "2.5"))):
        page.fill(f"input[name=item{n}_code]", code)
        page.fill(f"input[name=item{n}_title]", title)
        page.fill(f"input[name=item{n}_hours]", hours)
    page.click("#course-form button[type=submit]")
    assert page.locator("#problem-title").count() == 1  # no title
    page.screenshot(path=str(artifacts(page, "console-courses-new-refused")), full_page=True)
    assert page.locator("input[name=item2_title]").input_value() == "技术合同登记"  # kept
    page.fill("input[name=title]", "技术经理人中级班（武汉）")
    page.click("#course-form button[type=submit]")
    assert page.locator("#problem-ends_at").count() == 1  # the catalog's rule, beside its field
    page.fill("input[name=ends_at]", "2030-06-03T17:00")
    page.click("#course-form button[type=submit]")
    page.wait_for_url("**/console/courses/*")
    assert "草稿" in page.locator(".notice.ok").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
    page.screenshot(path=str(artifacts(page, "console-courses-created")), full_page=True)

    page.click("#draft button[type=submit]")
    assert page.locator("#draft").count() == 0
    page.fill("#add-item input[name=code]", "M3")
    page.fill("#add-item input[name=title]", "路演与谈判")
    page.fill("#add-item input[name=hours]", "1.5")
    page.click("#add-item button[type=submit]")
    assert "路演与谈判" in page.locator("#items").inner_text()
    page.screenshot(path=str(artifacts(page, "console-courses-item-added")), full_page=True)

    course, items = stored(server, "WH-201")
    assert course.event.organization_id == org_id and course.event.status == "published"
    assert [(i.code, i.hours_tenths) for i in items] == [("M1", 40), ("M2", 25), ("M3", 15)]
    assert not console_log
