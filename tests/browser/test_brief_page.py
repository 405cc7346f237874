"""The printable brief in real headless Chromium: the demo's data, the page fetched with an admin token,
its charts decoded by the browser, no CSP violation, Chinese and English, screen and print.
Screenshots go to test-artifacts/browser/ (brief-*.png) and, with WUCHUANG_BRIEF_SHOTS=DIR, to DIR too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from events import clock
from events.db import close_db, init_db
from events.models import Role
from events.services import brief, tokens
from tests.browser.helpers import ARTIFACTS, run_async

pytestmark = pytest.mark.browser


def seed(server: Any) -> tuple[str, str]:
    async def work() -> tuple[str, str]:
        from wuchuang.demo import load_demo

        await init_db(server.settings)
        try:
            await load_demo()
            month = brief.previous_month(clock.now()).key  # a whole month of the demo's programme
            return (await tokens.create_token(role=Role.ADMIN, name="office")).plaintext, month
        finally:
            await close_db()

    return run_async(work)


def test_the_brief_prints_with_its_charts_in_both_languages(server, launch, console_log):
    token, month = seed(server)
    browser = launch()
    page = browser.new_page(
        viewport={"width": 1000, "height": 1400},
        locale="zh-CN",
        extra_http_headers={"Authorization": f"Bearer {token}"},
    )
    violations: list[str] = []
    page.on("console", lambda m: console_log.append(f"{m.type}: {m.text}"))
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: console_log.append(f"pageerror: {e}"))
    out = Path(os.environ.get("WUCHUANG_BRIEF_SHOTS", ARTIFACTS))
    out.mkdir(parents=True, exist_ok=True)

    answer = page.goto(f"{server.url}/api/v1/briefs/{month}.html")
    assert answer is not None and answer.status == 200
    assert page.locator("h1").inner_text().endswith("每月简报")
    assert page.locator("h2").count() == 7
    widths = page.eval_on_selector_all("figure img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
    assert len(widths) == 2 and all(w > 500 for w in widths)  # the browser decoded both charts
    assert page.locator("table").first.locator("tbody tr").count() == 7  # every target
    page.screenshot(path=str(out / "brief-html-zh.png"), full_page=True)
    page.emulate_media(media="print")
    page.screenshot(path=str(out / "brief-print-zh.png"), full_page=True)
    page.emulate_media(media="screen")

    page.click("a.lang")
    assert "Monthly brief" in page.locator("h1").inner_text()
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.screenshot(path=str(out / "brief-html-en-phone.png"), full_page=False)
    assert not violations, violations
    assert page.locator("section").nth(1).locator("tbody tr").count() > 0  # the month's events
