"""The privacy notice and a registrant's delete page in real headless Chromium, on a phone, in both
languages, without JavaScript. Screenshots go to /tmp/privacy-*.png and test-artifacts/browser/."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from events.db import close_db, init_db
from events.models import Registration
from events.services import access_links
from tests.browser.conftest import PHONE
from tests.browser.helpers import run_async
from tests.factories import make_event, make_registration

pytestmark = pytest.mark.browser


def seed(server: Any) -> tuple[str, int]:
    async def work() -> tuple[str, int]:
        await init_db(server.settings)
        try:
            event = await make_event(capacity=10, title="武创荟·人工智能专场 <b>第1期</b>")
            registration = (await make_registration(event, name="李明<script>", phone="13900001111")).registration
            return await access_links.access_token(registration), registration.id
        finally:
            await close_db()

    return run_async(work)


def registration_of(server: Any, registration_id: int) -> Registration:
    async def work() -> Registration:
        await init_db(server.settings)
        try:
            return await Registration.get(id=registration_id)
        finally:
            await close_db()

    return run_async(work)


def test_the_notice_and_deleting_on_a_phone(server, launch, artifacts, console_log):
    token, registration_id = seed(server)
    browser = launch()
    for lang, locale in (("zh", "zh-CN"), ("en", "en-GB")):
        context = browser.new_context(**PHONE, locale=locale, java_script_enabled=False)
        page = context.new_page()
        page.on("console", lambda m: console_log.append(f"{m.type}: {m.text}"))
        page.goto(f"{server.url}/privacy")
        assert page.locator("h1").inner_text() == ("隐私声明" if lang == "zh" else "Privacy notice")
        assert "730" in page.locator("#retention").inner_text()
        # Nothing is wider than the phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
        shutil.copy(artifacts(page, f"privacy-notice-{lang}"), f"/tmp/privacy-notice-{lang}.png")
        page.screenshot(path=f"/tmp/privacy-notice-{lang}-full.png", full_page=True)
        context.close()

    context = browser.new_context(**PHONE, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{server.url}/r/{token}/delete")
    assert "李明<script>" in page.locator(".lead").inner_text()  # shown as text, not run
    shutil.copy(artifacts(page, "privacy-delete-zh"), "/tmp/privacy-delete-zh.png")
    page.get_by_role("button", name="确认删除我的数据").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "您的数据已删除"
    shutil.copy(artifacts(page, "privacy-done-zh"), "/tmp/privacy-done-zh.png")
    page.go_back()
    page.reload()
    assert page.locator("h1").inner_text() == "链接无效"
    shutil.copy(artifacts(page, "privacy-gone-zh"), "/tmp/privacy-gone-zh.png")
    context.close()
    gone = registration_of(server, registration_id)
    assert gone.phone is None and gone.name.startswith("已删除用户#")
