"""The public site in headless Chromium on a phone-sized screen: find an event on the home page,
register (the page's script does the proof of work), see the confirmation with the ticket QR, open
the access link, cancel. Also in English, and without JavaScript (the sum instead of the work).

Screenshots: /tmp/site-*.png and test-artifacts/browser/site-*.png, for a person to look at.
"""

from __future__ import annotations

import re
import shutil
from datetime import timedelta
from typing import Any

import pytest

from events.db import close_db, init_db
from tests.browser.conftest import PHONE
from tests.browser.helpers import run_async
from tests.factories import make_event, make_registration

pytestmark = pytest.mark.browser
UNIT_QUESTION = {"key": "unit", "label": "单位性质", "label_en": "Kind of unit", "choices": ["企业", "高校"]}


def seed(server: Any) -> dict[str, int]:
    async def work() -> dict[str, int]:
        await init_db(server.settings)
        try:
            main = await make_event(
                title="武创荟·光谷人工智能成果对接专场",
                host="武汉市科学技术局",
                address="武汉市东湖高新区光谷大道77号",
                description="聚焦人工智能成果转化。\n\n企业、高校、投资机构现场对接。",
                capacity=30,
                tags=["人工智能", "成果转化"],
                starts_in=timedelta(days=3),
                questions=[UNIT_QUESTION],
            )
            full = await make_event(title="英雄杯创新创业大赛路演", kind="roadshow", capacity=1, series="yingxiongbei")
            await make_registration(full)
            await make_event(title="技术经理人培训·第三期", kind="training", series="jishu-jingliren", capacity=None)
            return {"main": main.id, "full": full.id}
        finally:
            await close_db()

    return run_async(work)


def snap(page: Any, artifacts: Any, name: str) -> None:
    path = artifacts(page, f"site-{name}")
    page.screenshot(path=str(path), full_page=True)
    shutil.copy(path, f"/tmp/site-{name}.png")


def fill_and_send(page: Any, *, name: str, email: str, unit: str) -> None:
    page.fill("input[name=name]", name)
    page.fill("input[name=phone]", "13800138000")
    page.fill("input[name=email]", email)
    page.fill("input[name=organization]", "华中科技大学")
    page.select_option("select[name=q_unit]", unit)
    page.check("input[name=consent]")
    page.click("form[data-pow-form] button[type=submit]")
    page.wait_for_url(re.compile(r"/r/[A-Za-z0-9_-]{40,}"), timeout=20_000)


def test_find_register_see_the_ticket_open_the_link_and_cancel(server, launch, artifacts, console_log):
    ids = seed(server)
    browser = launch()
    context = browser.new_context(**PHONE, locale="zh-CN")
    page = context.new_page()
    page.on("console", lambda m: console_log.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console_log.append(f"pageerror: {e}"))

    page.goto(server.url + "/")
    assert page.locator("h1").inner_text() == "近期活动"
    assert page.locator("text=候补").count() >= 1  # the full roadshow
    snap(page, artifacts, "home-zh")
    page.click("text=武创荟·光谷人工智能成果对接专场")
    page.wait_for_url(f"**/events/{ids['main']}")
    assert "Asia/Shanghai" in page.inner_text("dl.facts") and "还剩 30 个名额" in page.inner_text("dl.facts")
    # The script did the proof of work: the sum question is hidden.
    page.wait_for_selector("[data-challenge]", state="hidden", timeout=20_000)
    snap(page, artifacts, "event-zh")

    fill_and_send(page, name="王芳", email="wangfang@example.cn", unit="高校")
    assert "报名成功" in page.inner_text("p.banner")
    page.wait_for_function("document.querySelector('.ticket img').naturalWidth > 0")
    link = page.input_value("section.link input")
    assert link.startswith(server.url + "/r/")
    snap(page, artifacts, "confirmation-zh")

    mine = context.new_page()
    mine.goto(link)
    assert "报名成功" in mine.inner_text("dl.facts") and "王芳" in mine.inner_text("dl.facts")
    snap(mine, artifacts, "mine-zh")
    mine.click("a.danger-link")
    mine.wait_for_selector("text=确定取消这场活动的报名吗？")
    mine.click("section.cancel button[type=submit]")
    mine.wait_for_url(re.compile(r"done=cancelled"))
    assert "已取消" in mine.inner_text("dl.facts")
    snap(mine, artifacts, "cancelled-zh")
    # A mistyped link: a clear page with the "lost my link" form.
    wrong = mine.goto(link[:-3] + "xyz")
    assert wrong is not None and wrong.status == 404
    assert mine.locator("form[action='/r/lost'] input[name=email]").count() == 1
    snap(mine, artifacts, "bad-link-zh")
    mine.goto(server.url + "/series/wuchuanghui")
    assert mine.locator("section.month").count() >= 1
    snap(mine, artifacts, "series-zh")
    context.close()


def test_in_english_and_a_full_event_puts_you_on_the_waitlist(server, launch, artifacts, console_log):
    ids = seed(server)
    browser = launch()
    context = browser.new_context(**PHONE, locale="en-GB", extra_http_headers={"Accept-Language": "en-GB,en;q=0.9"})
    page = context.new_page()
    page.on("pageerror", lambda e: console_log.append(f"pageerror: {e}"))
    page.goto(server.url + "/")
    assert page.locator("h1").inner_text() == "Upcoming events"
    snap(page, artifacts, "home-en")
    page.goto(server.url + f"/events/{ids['main']}")
    assert "Kind of unit" in page.content()
    page.wait_for_selector("[data-challenge]", state="hidden", timeout=20_000)
    snap(page, artifacts, "event-en")
    page.goto(server.url + f"/events/{ids['full']}")
    assert page.locator("form[data-pow-form] button[type=submit]").inner_text() == "Join the waitlist"
    page.fill("input[name=name]", "Li Lei")
    page.fill("input[name=email]", "lilei@example.com")
    page.check("input[name=consent]")
    page.click("form[data-pow-form] button[type=submit]")
    page.wait_for_url(re.compile(r"/r/"), timeout=20_000)
    assert "You are on the waitlist" in page.inner_text("p.banner")
    assert "number 1" in page.inner_text("dl.facts")
    snap(page, artifacts, "confirmation-en")
    context.close()


def test_without_javascript_the_form_asks_a_sum(server, launch, artifacts, console_log):
    ids = seed(server)
    browser = launch()
    context = browser.new_context(**PHONE, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    page.goto(server.url + f"/events/{ids['main']}")
    # Sent empty first: the form comes back with its errors beside the fields.
    page.fill("input[name=organization]", "<b>光谷</b>实验室")
    page.click("form[data-pow-form] button[type=submit]")
    page.wait_for_selector("p.notice.error")
    assert page.input_value("input[name=organization]") == "<b>光谷</b>实验室"
    assert page.locator(".has-error").count() >= 3  # name, contact, consent (and the unanswered question)
    snap(page, artifacts, "event-errors")
    question = page.inner_text("[data-challenge] span")
    first, second = (int(n) for n in re.findall(r"\d", question)[:2])
    page.fill("input[name=name]", "赵六")
    page.fill("input[name=email]", "zhaoliu@example.cn")
    page.select_option("select[name=q_unit]", "企业")
    page.check("input[name=consent]")
    page.fill("input[name=answer]", str(first + second))
    snap(page, artifacts, "event-nojs")
    page.click("form[data-pow-form] button[type=submit]")
    page.wait_for_url(re.compile(r"/r/"), timeout=20_000)
    assert "报名成功" in page.inner_text("p.banner")
    context.close()
