"""The console's competitions in real headless Chromium, without JavaScript: an organizer signs in on a
laptop, opens the competition and its 初赛, assigns the judges (the plan and the entries short of judges
shown), sees the ranking once the judges have scored (the disagreement flagged, another aggregation to
compare), closes the round and finds it under public notice; the same pages on a phone fit its width.
A second test opens the demo's 英雄杯 and 武创源 as the demo builds them. Screenshots go to
test-artifacts/browser/console-comp-*.png."""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

import httpx
import pytest

from events.db import close_db, init_db
from events.models import Person, Role, Round, RoundStatus
from events.services import accounts, organizations, staff
from tests.browser.conftest import PHONE
from tests.browser.helpers import ARTIFACTS, run_async
from tests.competition_console_kit import Contest, make_contest, score_all

pytestmark = pytest.mark.browser

PASSWORD = "光谷 spring 2026 secret"
LAPTOP = {"viewport": {"width": 1280, "height": 900}, "device_scale_factor": 1}


def _in_db(server: Any, work: Any) -> Any:
    async def run() -> Any:
        await init_db(server.settings)
        try:
            return await work()
        finally:
            await close_db()

    return run_async(run)


def seed(server: Any, email: str, organization_id: int | None = None) -> Contest | None:
    async def work() -> Contest | None:
        org = organization_id or (await organizations.find_or_create_organization("东湖新技术开发区科技创新局")).id
        person = await Person.create(name="张晓燕", email=email)
        await staff.grant_role(person, role=Role.ORGANIZER, event_ids=None, actor="test", organization_id=org)
        await accounts.create_account(person, actor="test", password=PASSWORD)
        return None if organization_id else await make_contest(org)

    result: Contest | None = _in_db(server, work)
    return result


def sign_in(page: Any, url: str, email: str) -> None:
    page.goto(f"{url}/console/signin")
    page.fill("#password-form input[name=login]", email)
    page.fill("#password-form input[name=password]", PASSWORD)
    page.click("#password-form button[type=submit]")
    assert page.url.endswith("/console")


def fits(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]


def test_assign_a_round_see_the_ranking_and_close_it(server, launch, artifacts, console_log):
    contest = seed(server, "zhang.comp@example.cn")
    assert contest is not None
    browser = launch()
    laptop = browser.new_context(**LAPTOP, locale="zh-CN", java_script_enabled=False).new_page()
    laptop.on("console", lambda m: console_log.append(f"{m.type}: {m.text}"))
    sign_in(laptop, server.url, "zhang.comp@example.cn")

    laptop.click("nav.menu >> text=赛事")
    listed = laptop.locator("#competitions").inner_text()
    assert "武创源·2026" in listed and "评分中" in listed
    laptop.click("#competitions >> text=武创源·2026")
    assert laptop.locator("h1").inner_text().startswith("武创源·2026")
    artifacts(laptop, "console-comp-overview-laptop")
    laptop.click("#rounds >> text=初赛")
    laptop.click("#assign button[type=submit]")
    assert "分配完成：新增 8 个" in laptop.locator("#done").inner_text()
    plan = laptop.locator("#plan").inner_text()
    assert "光谷量子芯片" in plan and "陈评委" in laptop.locator("#loads").inner_text()
    assert "所有评审中的项目均已配齐评委" in laptop.locator("#assign").inner_text()
    artifacts(laptop, "console-comp-round-laptop")

    _in_db(server, lambda: score_all(contest))
    laptop.click("nav.subnav >> text=排名")
    table = laptop.locator("#ranking table").inner_text()
    assert table.index("光谷量子芯片") < table.index("江城细胞治疗") < table.index("珞珈新材料")
    assert "评委分歧大" in laptop.locator("tr.disagree").inner_text()
    artifacts(laptop, "console-comp-ranking-laptop")
    laptop.click("#ranking >> text=标准分（Z 分数）")
    assert "仅供比较" in laptop.locator("#comparing").inner_text()

    laptop.click("nav.subnav >> text=评委分配")
    laptop.fill("#close input[name=notice_days]", "5")
    laptop.click("#close button[type=submit]")
    assert "本轮已结束：晋级 2 个，淘汰 2 个" in laptop.locator("#done").inner_text()
    assert "公示中" in laptop.locator("h1").inner_text()
    artifacts(laptop, "console-comp-closed-laptop")
    status = _in_db(server, lambda: Round.get(competition_id=contest.cid, code="r1"))
    assert status.status == RoundStatus.NOTICE and status.notice_days == 5
    laptop.click("nav.subnav >> text=公示与异议")
    assert "暂无异议" in laptop.locator("#objections").inner_text()

    phone = browser.new_context(**PHONE, locale="zh-CN", java_script_enabled=False).new_page()
    sign_in(phone, server.url, "zhang.comp@example.cn")
    base = f"{server.url}/console/competitions/{contest.cid}"
    for name, path in (
        ("overview", ""),
        ("round", "/rounds/r1"),
        ("ranking", "/rounds/r1/ranking"),
        ("entries", "/entries"),
        ("judges", "/judges"),
    ):
        phone.goto(base + path)
        assert phone.locator("h1").count() == 1
        fits(phone)
        artifacts(phone, f"console-comp-{name}-phone")


def test_the_demo_competitions_in_the_console(server, launch, artifacts, console_log):
    from events.services.organizations import default_organization_id
    from wuchuang.demo import _competitions_only

    summary = _in_db(server, _competitions_only)
    organization = _in_db(server, default_organization_id)
    seed(server, "demo.comp@example.cn", organization)
    browser = launch()
    laptop = browser.new_context(**LAPTOP, locale="zh-CN", java_script_enabled=False).new_page()
    sign_in(laptop, server.url, "demo.comp@example.cn")
    base = f"{server.url}/console/competitions/{summary.hero_id}"
    laptop.goto(base)
    assert "英雄杯" in laptop.locator("h1").inner_text()
    artifacts(laptop, "console-comp-demo-hero-laptop")
    laptop.goto(f"{base}/rounds/semifinal/objections")
    assert laptop.locator("#objections article").count() >= 1
    artifacts(laptop, "console-comp-demo-objections-laptop")
    laptop.goto(f"{base}/rounds/preliminary/ranking")
    every = laptop.locator("#ranking tbody tr").count()
    assert every > 50
    laptop.select_option("#ranking-filters select[name=track]", index=1)
    laptop.click("#ranking-filters button[type=submit]")
    in_track = laptop.locator("#ranking tbody tr").count()
    assert 10 <= in_track < every and "track=" in laptop.url
    artifacts(laptop, "console-comp-demo-ranking-laptop")
    laptop.goto(f"{base}/judges")
    artifacts(laptop, "console-comp-demo-judges-laptop")
    laptop.click("#judges details summary >> nth=0")
    laptop.locator("#judges details a").first.click()
    assert laptop.locator("#conflicts li").count() >= 1 and laptop.locator("#scores tbody tr").count() >= 1
    artifacts(laptop, "console-comp-demo-entry-laptop")
    laptop.goto(f"{base}/rounds/semifinal/ranking?lang=en")
    assert laptop.locator("#ranking h2").inner_text() == "Ranking"
    artifacts(laptop, "console-comp-demo-ranking-en-laptop")
    laptop.goto(f"{server.url}/console/competitions/{summary.wuchuangyuan_id}/rounds/final")
    artifacts(laptop, "console-comp-demo-wcy-final-laptop")
    # How long the demo's pages take on this SQLite server (printed and kept, never asserted: the wall clock).
    cookie = next(c for c in laptop.context.cookies() if c["name"] == "wc_console")
    timings: dict[str, list[float]] = {}
    with httpx.Client(base_url=server.url, cookies={"wc_console": cookie["value"]}) as http:
        for path in (
            "",
            "/entries",
            "/judges",
            "/rounds/preliminary",
            "/rounds/preliminary/ranking",
            "/rounds/semifinal/objections",
        ):
            for _ in range(5):
                started = time.perf_counter()
                assert http.get(base.removeprefix(server.url) + path).status_code == 200
                timings.setdefault(path or "/", []).append((time.perf_counter() - started) * 1000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "console-comp-demo-timings.json").write_text(json.dumps(timings, indent=2))
    for path, ms in timings.items():
        print(f"[console competitions, demo] {path}: median {statistics.median(ms):.0f} ms, max {max(ms):.0f} ms")
    phone = browser.new_context(**PHONE, locale="zh-CN", java_script_enabled=False).new_page()
    sign_in(phone, server.url, "demo.comp@example.cn")
    phone.goto(f"{base}/entries?round=preliminary")
    fits(phone)
    artifacts(phone, "console-comp-demo-entries-phone")
