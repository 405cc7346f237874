"""The programme office in real headless Chromium, over the demo's data (loaded once for the module):

- an admin signs in to the console, opens the dashboard (the charts drawn by the vendored ECharts, no CSP
  violation, on a laptop and a phone), follows a figure to its records, and downloads November's brief,
  read back with python-docx;
- the printable brief fetched with an admin token: its charts decoded by the browser, no CSP violation,
  Chinese and English, screen and print.

Screenshots go to test-artifacts/browser/ (console-dashboard-*.png, console-briefs.png, brief-*.png) and the
brief's, with WUCHUANG_BRIEF_SHOTS=DIR, to DIR too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from docx import Document

from events import clock, localtime
from events.db import close_db, init_db
from events.models import Person, Role
from events.services import accounts, brief, organizations, staff, tokens
from tests.browser.conftest import PHONE
from tests.browser.helpers import ARTIFACTS, run_async

pytestmark = pytest.mark.browser

PASSWORD = "光谷 spring 2026 briefing"
LOGIN = "office@example.cn"


@pytest.fixture(scope="module")
def demo(server: Any) -> tuple[str, str]:
    """The demo loaded into the module's server, the office's account; an admin token and the last whole
    month of the programme."""

    async def work() -> tuple[str, str]:
        from wuchuang.demo import load_demo

        await init_db(server.settings)
        try:
            await load_demo()
            org = await organizations.find_or_create_organization("武汉市科技创新供应链建设领导小组办公室")
            person = await Person.create(name="陈主任", email=LOGIN)
            await staff.grant_role(person, role=Role.ADMIN, event_ids=None, actor="test", organization_id=org.id)
            await accounts.create_account(person, actor="test", password=PASSWORD)
            month = brief.previous_month(clock.now()).key  # a whole month of the demo's programme
            return (await tokens.create_token(role=Role.ADMIN, name="office")).plaintext, month
        finally:
            await close_db()

    return run_async(work)


# The dashboard and the brief are built from the whole demo programme just loaded, while the server's
# worker reads its backlog; on a slow host under the full suite's load that took longer than
# Playwright's default 30 s (CI saw it twice, the module alone passed). A bound, not a speed claim.
PAGE_TIMEOUT_MS = 120_000


def last_november() -> str:
    """The latest November that has begun (this year's from November on, else last year's)."""
    today = localtime.local(clock.now())
    return f"{today.year if today.month >= 11 else today.year - 1}-11"


def test_the_office_reads_the_dashboard_and_downloads_novembers_brief(server, demo, launch, artifacts, console_log):
    browser = launch()
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN", accept_downloads=True)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda m: console_log.append(f"{m.type}: {m.text}"))
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: console_log.append(f"pageerror: {e}"))

    page.goto(f"{server.url}/console/signin")
    page.fill("#password-form input[name=login]", LOGIN)
    page.fill("#password-form input[name=password]", PASSWORD)
    page.click("#password-form button[type=submit]")
    assert page.url.endswith("/console")

    page.goto(f"{server.url}/console/dashboard")
    assert page.locator("h1").inner_text().startswith("规划办公室看板")
    page.wait_for_selector('[data-chart="funnel-1"][data-drawn="1"] canvas')
    drawn = page.eval_on_selector_all(
        "[data-chart]", "els => els.map(e => [e.dataset.chart, !e.hidden, !!e.querySelector('canvas')])"
    )
    assert drawn and all(visible and canvas for _, visible, canvas in drawn), drawn
    assert {name for name, _, _ in drawn} == {"targets", "districts", "months", "funnel-0", "funnel-1"}
    # Something is painted: the targets chart's canvas is not blank.
    painted = page.evaluate(
        """() => { const c = document.querySelector('[data-chart="targets"] canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 0; i < d.length; i += 4) { if (d[i + 3] && (d[i] < 200 || d[i + 2] < 200)) n++; }
        return n; }"""
    )
    assert painted > 1000
    assert page.locator("#district-table tbody tr").count() >= 17  # every district and zone
    artifacts(page, "console-dashboard-laptop")
    page.screenshot(path=str(artifacts(page, "console-dashboard-laptop-full")), full_page=True)

    phone = browser.new_context(**PHONE, locale="zh-CN", storage_state=context.storage_state())
    phone.set_default_timeout(PAGE_TIMEOUT_MS)
    small = phone.new_page()
    small.on("pageerror", lambda e: console_log.append(f"pageerror: {e}"))
    small.goto(f"{server.url}/console/dashboard")
    small.wait_for_selector('[data-chart="months"][data-drawn="1"] canvas')
    assert small.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
    artifacts(small, "console-dashboard-phone")
    small.locator("#month-table").scroll_into_view_if_needed()
    artifacts(small, "console-dashboard-phone-months")

    # A figure is a link to its records: the demands of a district.
    link = page.locator("#district-table tbody tr").first.locator("td").nth(5).locator("a")
    href = link.get_attribute("href") or ""
    assert href.startswith("/console/demands?district=")
    link.click()
    assert "/console/demands?district=" in page.url and page.locator("h1").inner_text() == "需求"

    # From the list to a demand's page (review, broker, matches, connections), on a phone.
    small.goto(f"{server.url}/console/demands")
    assert small.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
    artifacts(small, "console-demands-phone")
    small.locator("tbody tr a").first.click()
    assert small.locator("h1").inner_text().startswith("#")
    assert small.locator("#review-h").count() == 1 and small.locator("#matches-h").count() == 1
    small.screenshot(path=str(artifacts(small, "console-demand-phone-full")), full_page=True)

    page.goto(f"{server.url}/console/briefs")
    november = last_november()
    page.fill("input[name=month]", november)
    page.click("form.filters button[type=submit]")
    assert page.locator("#brief-docx").get_attribute("href") == f"/console/briefs/{november}.docx"
    artifacts(page, "console-briefs")
    with page.expect_download() as got:
        page.click("#brief-docx")
    download = got.value
    assert download.suggested_filename == f"brief-{november}.docx"
    document = Document(download.path())
    paragraphs = [p.text for p in document.paragraphs]
    year = november[:4]
    assert paragraphs[0] == "武汉科技创新供应链 · 每月简报"
    assert f"{year}年11月" in paragraphs
    kpi = [[c.text for c in row.cells] for row in document.tables[0].rows]
    assert kpi[0][0] == "目标" and len(kpi) == 8  # the header and every target
    assert not violations, violations


def test_the_brief_prints_with_its_charts_in_both_languages(server, demo, launch, console_log):
    token, month = demo
    browser = launch()
    page = browser.new_page(
        viewport={"width": 1000, "height": 1400},
        locale="zh-CN",
        extra_http_headers={"Authorization": f"Bearer {token}"},
    )
    page.set_default_timeout(PAGE_TIMEOUT_MS)
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
