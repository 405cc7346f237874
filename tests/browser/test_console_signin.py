"""The console's sign-in in real headless Chromium on a phone, without JavaScript: a wrong password,
the right one, the landing page (who, organization, role, sessions, history), a token made and shown
once, sign out. Screenshots go to /tmp/accounts-*.png and test-artifacts/browser/."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from events.db import close_db, init_db
from events.models import ApiToken, Person, Role
from events.services import accounts, organizations, staff
from tests.browser.conftest import PHONE
from tests.browser.helpers import run_async

pytestmark = pytest.mark.browser

PASSWORD = "光谷 spring 2026 secret"


def seed(server: Any) -> None:
    async def work() -> None:
        await init_db(server.settings)
        try:
            org = await organizations.find_or_create_organization("东湖新技术开发区科技创新局")
            person = await Person.create(name="张晓燕", email="zhang.xy@example.cn")
            await staff.grant_role(person, role=Role.ORGANIZER, event_ids=None, actor="test", organization_id=org.id)
            await accounts.create_account(person, actor="test", password=PASSWORD)
        finally:
            await close_db()

    run_async(work)


def tokens_made(server: Any) -> list[ApiToken]:
    async def work() -> list[ApiToken]:
        await init_db(server.settings)
        try:
            return await ApiToken.filter(account_id__not_isnull=True)
        finally:
            await close_db()

    return run_async(work)


def test_sign_in_see_the_console_make_a_token_and_sign_out_on_a_phone(server, launch, artifacts, console_log):
    seed(server)
    browser = launch()
    context = browser.new_context(**PHONE, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    page.on("console", lambda m: console_log.append(f"{m.type}: {m.text}"))

    page.goto(f"{server.url}/console")
    assert page.url.endswith("/console/signin")
    assert page.locator("h1").inner_text() == "登录控制台"
    page.fill("#password-form input[name=login]", "zhang.xy@example.cn")
    page.fill("#password-form input[name=password]", "not the password")
    page.click("#password-form button[type=submit]")
    assert "账户或密码错误" in page.locator(".notice.error").inner_text()
    shutil.copy(artifacts(page, "accounts-wrong-password"), "/tmp/accounts-wrong-password.png")

    page.fill("#password-form input[name=login]", "zhang.xy@example.cn")
    page.fill("#password-form input[name=password]", PASSWORD)
    page.click("#password-form button[type=submit]")
    assert page.url.endswith("/console")
    assert page.locator("h1").inner_text() == "张晓燕"
    facts = page.locator(".facts").inner_text()
    assert "东湖新技术开发区科技创新局" in facts and "组织者" in facts
    assert page.locator("#sessions .tag.ok").inner_text() == "当前设备"
    assert "通过密码登录" in page.locator("#history").inner_text()
    assert "密码错误" in page.locator("#history").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
    shutil.copy(artifacts(page, "accounts-console"), "/tmp/accounts-console.png")
    page.screenshot(path="/tmp/accounts-console-full.png", full_page=True)

    page.fill("#tokens input[name=name]", "报名导出脚本")
    page.click("#tokens button[type=submit]")
    shown = page.locator("#new-token").inner_text()
    assert shown.startswith("wch_")
    page.locator("#tokens").scroll_into_view_if_needed()
    page.screenshot(path="/tmp/accounts-token.png", full_page=True)
    made = tokens_made(server)
    assert [t.name for t in made] == ["报名导出脚本"]
    page.goto(f"{server.url}/console")
    assert shown not in page.content() and "报名导出脚本" in page.locator("#tokens").inner_text()

    page.click(".top-actions button")
    assert "/console/signin" in page.url and "您已退出登录" in page.locator(".notice").inner_text()
    shutil.copy(artifacts(page, "accounts-signed-out"), "/tmp/accounts-signed-out.png")
    page.goto(f"{server.url}/console")
    assert page.url.endswith("/console/signin")
    # English too, on the sign-in page.
    page.goto(f"{server.url}/console/signin?lang=en")
    assert page.locator("h1").inner_text() == "Sign in to the console"
    page.screenshot(path="/tmp/accounts-signin-en.png", full_page=True)
    context.close()
    # The wrong password's page is a 401 (Chromium logs that status); nothing else may fail.
    errors = [line for line in console_log if line.startswith("error") and "status of 401" not in line]
    assert not errors, console_log


def link_in_outbox(server: Any) -> str:
    async def work() -> str:
        from events.models import Category, OutboxMessage
        from notifications.signin import materialize

        await init_db(server.settings)
        try:
            row = await OutboxMessage.filter(category=Category.SIGNIN).order_by("-id").first()
            assert row is not None
            sent = await materialize(row)
            url = sent.text.split('href="', 1)[1].split('"', 1)[0]
            # This process's PUBLIC_URL made the address; the server's dispatcher uses the server's.
            return "/console/signin/" + url.rsplit("/console/signin/", 1)[1]
        finally:
            await close_db()

    return run_async(work)


def test_a_one_time_link_on_a_phone_confirm_then_refused_when_used_again(server, launch, artifacts):
    async def seed_link_user() -> None:
        await init_db(server.settings)
        try:
            org = await organizations.find_or_create_organization("江汉区科技局")
            person = await Person.create(name="李娜", email="lina@example.cn", telegram_id=990001)
            await staff.grant_role(person, role=Role.ORGANIZER, event_ids=None, actor="test", organization_id=org.id)
            await accounts.create_account(person, actor="test")  # links only
        finally:
            await close_db()

    run_async(seed_link_user)
    browser = launch()
    context = browser.new_context(**PHONE, locale="en-GB", java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{server.url}/console/signin?lang=en")
    page.fill("#link-form input[name=login]", "lina@example.cn")
    page.click("#link-form button[type=submit]")
    assert "on its way" in page.locator("#link .notice.ok").inner_text()
    url = server.url + link_in_outbox(server)
    page.goto(url + "?lang=en")
    assert page.locator("h1").inner_text() == "Sign in with this link?"
    page.screenshot(path="/tmp/accounts-link-confirm.png", full_page=True)
    page.click("form button[type=submit]")
    assert page.url.endswith("/console?lang=en")
    assert page.locator("h1").inner_text() == "李娜" and "link" in page.locator("#sessions").inner_text()
    page.goto(url + "?lang=en")
    assert "already used" in page.locator(".notice.error").inner_text()
    shutil.copy(artifacts(page, "accounts-link-used"), "/tmp/accounts-link-used.png")
    context.close()
