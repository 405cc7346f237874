"""The judge's page and the hall's scoreboard in real headless Chromium.

The judge signs in by the link, fills a criterion form on a phone, saves, submits, meets a server-side
error, steps aside; the scoreboard updates itself when the last judge of an entry submits. Screenshots
go to test-artifacts/browser/ (judge-*.png, scoreboard-*.png) for a person to look at.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from events.db import close_db, init_db
from events.services import organizations, tokens
from events.services.competitions import judges, public, scoring
from tests.browser.conftest import PHONE
from tests.browser.helpers import query, run_async
from tests.test_competitions_pages import Contest, make_contest

pytestmark = pytest.mark.browser


def seed(server: Any) -> Contest:
    async def work() -> Contest:
        await init_db(server.settings)
        try:
            return await make_contest()
        finally:
            await close_db()

    return run_async(work)


def score(server: Any, c: Contest, token: str, entry_id: int, tech: float, market: float) -> None:
    async def work() -> None:
        await init_db(server.settings)
        try:
            judge = await judges.judge_of_token(await tokens.authenticate(token), c.id)
            data = scoring.ScoreInput(scores={"tech": tech, "market": market})
            await scoring.submit_score(c.id, "final", entry_id, data, judge=judge, actor="test")
        finally:
            await close_db()

    run_async(work)


def on_stage(server: Any, c: Contest, entry_id: int) -> None:
    async def work() -> None:
        await init_db(server.settings)
        try:
            await public.set_on_stage(c.id, "final", entry_id, scope=organizations.Scope(c.org), actor="test")
        finally:
            await close_db()

    run_async(work)


def test_a_judge_signs_in_by_link_scores_on_a_phone_and_sees_errors(server, launch, artifacts, console_log):
    from playwright.sync_api import expect

    c = seed(server)
    browser = launch()
    context = browser.new_context(base_url=server.url, locale="zh-CN", **PHONE)
    page = context.new_page()
    page.on("console", lambda m: console_log.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console_log.append(f"pageerror: {e}"))

    page.goto(f"/judge?token={c.judge_a}")
    assert page.url == f"{server.url}/judge"  # the token left the address bar
    expect(page.locator("#judge-heading")).to_contain_text("评委甲")
    cookie = next(k for k in context.cookies() if k["name"] == "wc_judge")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/judge"
    card = page.locator(f"#entry-final-{c.ai}")
    expect(card.locator(".pill.status")).to_have_text("未开始")
    artifacts(page, "judge-1-list")

    card.locator('input[name="score.tech"]').fill("8")
    card.locator('input[name="score.market"]').fill("6.5")
    card.locator('textarea[name="comment"]').fill("技术扎实，市场待验证")
    card.locator('button[value="save"]').click()
    card = page.locator(f"#entry-final-{c.ai}")
    expect(card.locator(".notice")).to_have_text("草稿已保存。")
    expect(card.locator(".pill.status")).to_have_text("已保存，未提交")
    expect(card.locator('input[name="score.market"]')).to_have_value("6.5")

    card.locator('button[value="submit"]').click()
    card = page.locator(f"#entry-final-{c.ai}")
    expect(card.locator(".pill.status")).to_have_text("已提交")
    expect(card.locator(".total strong")).to_have_text("7.4")
    artifacts(page, "judge-2-submitted")

    # The browser stops 11 itself (max=10); an old browser would send it: the server says why in the page.
    tech = card.locator('input[name="score.tech"]')
    tech.fill("11")
    assert page.evaluate("el => el.validity.rangeOverflow", tech.element_handle())
    card.locator("form.score").evaluate("form => { form.noValidate = true; }")
    card.locator('button[value="submit"]').click()
    card = page.locator(f"#entry-final-{c.ai}")
    expect(card.locator(".field-error")).to_contain_text("技术先进性")
    expect(card.locator('input[name="score.tech"]')).to_have_attribute("aria-invalid", "true")
    expect(card.locator('input[name="score.tech"]')).to_have_value("11")
    card.scroll_into_view_if_needed()
    artifacts(page, "judge-3-error")
    rows = query(
        server.settings,
        "SELECT version, submitted, via FROM competition_score WHERE round_id IN "
        "(SELECT id FROM competition_round WHERE competition_id = ?) ORDER BY version",
        c.id,
    )
    assert rows == [(1, 0, "web"), (2, 1, "web")]  # the refused one left nothing

    other = page.locator(f"#entry-final-{c.bio}")
    other.locator("details.recuse summary").click()
    other.locator('textarea[name="reason"]').fill("曾担任该项目顾问")
    other.locator("button.danger").click()
    other = page.locator(f"#entry-final-{c.bio}")
    expect(other.locator(".pill.status")).to_have_text("已回避")
    expect(other.locator("form.score")).to_have_count(0)
    artifacts(page, "judge-4-recused")
    context.close()


def test_the_scoreboard_updates_itself_when_an_entry_is_complete(server, launch, artifacts, console_log):
    from playwright.sync_api import expect

    c = seed(server)
    made = httpx.post(
        f"{server.url}/api/v1/competitions/{c.id}/rounds/final/scoreboard",
        json={"public": True},
        headers={"Authorization": f"Bearer {c.organizer}"},
    )
    assert made.status_code == 200, made.text
    on_stage(server, c, c.ai)
    score(server, c, c.judge_a, c.bio, 9, 9)
    score(server, c, c.judge_b, c.bio, 8, 7)  # 靶向新药 complete: (9 + 7.6) / 2 = 8.3
    score(server, c, c.judge_a, c.ai, 8, 6.5)  # 光量子芯片: one of two judges

    browser = launch()
    context = browser.new_context(base_url=server.url, locale="zh-CN", viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.on("console", lambda m: console_log.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console_log.append(f"pageerror: {e}"))
    page.goto(f"/competitions/{c.id}/rounds/final/scoreboard")
    expect(page.locator("#stage-title")).to_have_text("光量子芯片")
    expect(page.locator(f'tr[data-entry="{c.bio}"] td.score')).to_have_text("8.30")
    expect(page.locator(f'tr[data-entry="{c.ai}"] td.score')).to_contain_text("已评 1 / 2 位评委")
    artifacts(page, "scoreboard-1-scoring")

    score(server, c, c.judge_b, c.ai, 10, 10)  # the last judge: (7.4 + 10) / 2 = 8.7, now first
    expect(page.locator(f'tr[data-entry="{c.ai}"] td.score')).to_have_text("8.70", timeout=15_000)
    expect(page.locator("#rows tr").first).to_have_attribute("data-entry", str(c.ai))
    expect(page.locator("#stage-progress")).to_have_text("已评 2 / 2 位评委")
    assert page.evaluate("window.__board.refreshes") >= 1
    shown = page.locator("#updated").inner_text()  # the deployment's time of day (Wuhan), not the browser's (UTC)
    wuhan = datetime.now(ZoneInfo("Asia/Shanghai"))
    stamp = datetime.combine(wuhan.date(), time.fromisoformat(shown), tzinfo=wuhan.tzinfo)
    assert abs((wuhan - stamp).total_seconds()) < 120 or abs((wuhan - stamp).total_seconds()) > 86_000
    artifacts(page, "scoreboard-2-complete")
    context.close()

    # Without JavaScript: the same table, and the page reloads itself.
    plain = browser.new_context(base_url=server.url, java_script_enabled=False, **PHONE)
    still = plain.new_page()
    still.goto(f"/competitions/{c.id}/rounds/final/scoreboard")
    expect(still.locator(f'tr[data-entry="{c.ai}"] td.score')).to_have_text("8.70")
    assert still.locator("noscript").count() == 1
    artifacts(still, "scoreboard-3-phone-no-js")
    plain.close()


def under_notice(server: Any, c: Contest) -> None:
    from tests.test_competitions_pages import _under_notice

    async def work() -> None:
        await init_db(server.settings)
        try:
            await _under_notice(c)
        finally:
            await close_db()

    run_async(work)


def test_the_results_page_takes_an_objection_on_a_phone(server, launch, artifacts, console_log):
    """The 公示 on a phone: the table fits, the link under the notice jumps to the form, a wrong contact
    is said beside its field (what was typed stays), the objection is received with its number."""
    from playwright.sync_api import expect

    c = seed(server)
    under_notice(server, c)
    browser = launch()
    context = browser.new_context(base_url=server.url, locale="zh-CN", **PHONE)
    page = context.new_page()
    page.on("console", lambda m: console_log.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console_log.append(f"pageerror: {e}"))

    page.goto(f"/competitions/{c.id}/results")
    expect(page.locator(".notice-period.open")).to_contain_text("公示期至")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing runs off the phone's screen
    artifacts(page, "results-1-notice")
    page.click("a[href='#objection-form']")
    expect(page.locator("#objection-form")).to_be_in_viewport()
    page.select_option("#entry_id", str(c.ai))
    page.fill("#name", "王实名")
    page.fill("#contact", "12345")
    page.fill("#reason", "样品数据与公开论文不一致")
    page.click("#objection-form button[type=submit]")
    expect(page.locator("#err-contact")).to_have_text("请填写手机号码或电子邮箱。")
    expect(page.locator("#contact")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#reason")).to_have_value("样品数据与公开论文不一致")
    page.locator("#err-contact").scroll_into_view_if_needed()
    artifacts(page, "results-2-error")
    page.fill("#contact", "13800000009")
    page.click("#objection-form button[type=submit]")
    expect(page.locator("#objection-filed")).to_contain_text("已收到")
    artifacts(page, "results-3-filed")
    context.close()
