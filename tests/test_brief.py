"""The monthly brief: November's DOCX read back, the same figures on the HTML page, the routes' scope
and bad input, the job that makes it once on the 1st and tells the office, and its download link."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime

import pytest
from docx import Document

from events.models import Category, OutboxMessage, Person, PersonRole, Role, StoredBrief
from events.services import brief, tokens
from events.services.organizations import Scope
from notifications.briefs import produce_monthly_brief
from reports.render import brief_docx, brief_html
from tests.brief_world import AS_OF, build_world
from tests.factories import bearer

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _tables(document) -> list[list[list[str]]]:
    return [[[cell.text for cell in row.cells] for row in table.rows] for table in document.tables]


async def test_novembers_brief_reads_back_from_the_docx(db, frozen_clock):
    frozen_clock.set(AS_OF)
    await build_world()
    november = await brief.gather(brief.parse_period("2026-11"))
    document = Document(io.BytesIO(await brief_docx(november, "zh")))

    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[0] == "武汉科技创新供应链 · 每月简报"
    assert "2026年11月" in paragraphs
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == [
        "规划目标进展",
        "活动与参会",
        "需求、对接与成交",
        "各区情况",
        "技术经理人培训",
        "赛事进展",
        "值得关注",
    ]

    kpi, sessions, contracts, grid, contests = _tables(document)
    assert kpi[0] == ["目标", "规划", "本期", "年内累计", "完成比例", "全年预测", "进度"]
    assert kpi[1] == ["已举办“武创荟”系列活动（场）", "60", "2", "3", "5%", "3", "落后"]
    assert kpi[6] == ["技术合同成交额（万元）", "27,000,000", "1,100", "1,150", "<0.1%", "1,257", "落后"]
    by_key = {k.key: k for k in november.kpis}
    assert (by_key["contract_turnover"].period, by_key["contract_turnover"].year_to_date) == (1100, 1150)
    assert sessions[1:] == [
        ["2026年11月10日", "武创荟·光电子信息专场", "东湖新技术开发区", "4", "3", "75%"],
        ["2026年11月20日", "武创荟·人工智能专场", "东湖新技术开发区", "3", "3", "100%"],
        ["2026年11月21日", "研修班·第1讲", "武昌区", "2", "1", "50%"],  # the course's enrollees, by pass
    ]
    assert [row[3] for row in contracts[1:]] == ["300", "800"] and contracts[1][4] == "★"
    assert grid[1:] == [["武昌区", "0", "2", "50%", "1", "0"], ["东湖新技术开发区", "2", "7", "86%", "4", "2"]]
    assert contests[1] == ["第三届武创源颠覆性技术大赛", "1 / 2", "1", "3", "1"]
    assert len(document.inline_shapes) == 2  # the targets chart and the months chart, as pictures
    assert any("武创荟·人工智能专场，3 人中 3 人签到" in p for p in paragraphs)  # the best-attended session


async def test_the_html_page_shows_the_same_figures(db, frozen_clock):
    frozen_clock.set(AS_OF)
    await build_world()
    november = await brief.gather(brief.parse_period("2026-11"))
    page = await brief_html(november, "zh")
    for text in (
        "2026年11月",
        "已举办“武创荟”系列活动（场）",
        "武创荟·光电子信息专场",
        "75%",
        "86%",
        "第三届武创源颠覆性技术大赛",
    ):
        assert text in page
    assert page.count('src="data:image/png;base64,') == 2
    assert "<script" not in page
    english = await brief_html(november, "en")
    assert "November 2026" in english and "Monthly brief" in english


async def test_an_organizers_brief_holds_only_its_organization(db, frozen_clock):
    frozen_clock.set(AS_OF)
    world = await build_world()
    mine = await brief.gather(brief.parse_period("2026-11"), scope=Scope(world.org_b))
    assert [e.title for e in mine.sessions] == ["武创荟·人工智能专场"]
    assert [t.title for t in mine.transfers] == ["B-1"] and mine.competitions == []


@pytest.mark.parametrize(("text", "key"), [("2026-11", "2026-11"), ("2026-H1", "2026-H1"), ("2026", "2026")])
def test_periods(text, key):
    period = brief.parse_period(text)
    assert period.key == key
    assert period.starts_at.utcoffset().total_seconds() == 8 * 3600


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-H3", "26-11", "2026-1", "", "1999", "2026-11x"])
def test_bad_periods_are_refused(text):
    with pytest.raises(brief.InvalidPeriod):
        brief.parse_period(text)


async def test_brief_routes_scope_and_refuse_bad_input(client, frozen_clock):
    frozen_clock.set(AS_OF)
    world = await build_world()
    admin = bearer((await tokens.create_token(role=Role.ADMIN, name="office")).plaintext)
    org_b = bearer((await tokens.create_token(role=Role.ORGANIZER, name="b", organization_id=world.org_b)).plaintext)

    got = await client.get("/api/v1/briefs/2026-11.docx", headers=admin)
    assert got.status_code == 200 and got.headers["content-type"] == DOCX
    assert 'filename="brief-2026-11.docx"' in got.headers["content-disposition"]
    assert len(_tables(Document(io.BytesIO(got.content)))[1]) == 4  # header + the month's three events

    theirs = await client.get("/api/v1/briefs/2026-11.docx", headers=org_b)
    assert [row[1] for row in _tables(Document(io.BytesIO(theirs.content)))[1][1:]] == ["武创荟·人工智能专场"]

    page = await client.get("/api/v1/briefs/2026-11.html?lang=en", headers=admin)
    assert page.status_code == 200 and "November 2026" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]

    bad = await client.get("/api/v1/briefs/2026-13.docx", headers=admin)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_period"
    assert (await client.get("/api/v1/briefs/2026-11.docx")).status_code == 401
    half = await client.get("/api/v1/briefs/2026-H2.html", headers=admin)
    assert half.status_code == 200 and "2026年下半年" in half.text


async def _office(n: int) -> list[Person]:
    people = []
    for i in range(n):
        person = await Person.create(name=f"办公室{i}", telegram_id=7000 + i, language="zh" if i else "en")
        await PersonRole.create(person=person, role=Role.ADMIN, granted_by="test")
        people.append(person)
    organizer = await Person.create(name="组织者", telegram_id=7999)
    await PersonRole.create(person=organizer, role=Role.ORGANIZER, granted_by="test")
    return people


async def test_the_first_of_the_month_makes_the_brief_once_and_tells_the_office(client, frozen_clock):
    frozen_clock.set(AS_OF)
    await build_world()
    office = await _office(2)
    frozen_clock.set(datetime(2026, 11, 30, 16, 5, tzinfo=UTC))  # 00:05 on 1 December in Wuhan
    # Two processes at once, then a pass after a restart: one brief, one message per member.
    passes = await asyncio.gather(*(produce_monthly_brief(public_url="https://wch.example") for _ in range(2)))
    assert await produce_monthly_brief(public_url="https://wch.example") is None
    assert sorted(p.queued for p in passes if p) == [2]
    (stored,) = await StoredBrief.all()
    assert stored.period == "2026-11"
    rows = await OutboxMessage.filter(category=Category.BRIEF).order_by("person_id")
    assert [r.person_id for r in rows] == [p.id for p in office]
    assert "Brief for November 2026" in rows[0].text or "November 2026" in rows[0].text
    assert "2026年11月" in rows[1].text
    url = rows[1].buttons[0][0]["url"]
    assert url.startswith("https://wch.example/briefs/") and url.endswith(".docx")

    download = await client.get(url.removeprefix("https://wch.example"))
    assert download.status_code == 200 and download.content == bytes(stored.docx)
    assert _tables(Document(io.BytesIO(download.content)))[1][1][1] == "武创荟·光电子信息专场"
    token = url.removeprefix("https://wch.example/briefs/").removesuffix(".docx")
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    page = await client.get(rows[1].buttons[1][0]["url"].removeprefix("https://wch.example"))
    assert page.status_code == 200 and "武创荟·光电子信息专场" in page.text and "2026年11月" in page.text
    assert (await client.get(f"/briefs/{forged}.docx")).status_code == 404
    assert (await client.get(f"/briefs/{forged}.html")).status_code == 404
    assert (await client.get(f"/briefs/{brief.secretbox.new_seed()}.docx")).status_code == 404
