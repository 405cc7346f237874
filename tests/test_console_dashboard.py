"""The programme office's dashboard and the monthly brief in the console (issue 17, items 3 and 4).

The figures come from ``tests.brief_world`` (exact, as of 1 December 2026 in Wuhan) beside the
console's own world; the brief is read back from the downloaded DOCX.
"""

from __future__ import annotations

import io
import json
import re
from html import unescape

import httpx
import pytest
from docx import Document

from tests.brief_world import AS_OF, build_world
from tests.console_kit import as_, build_console_world
from tests.test_console_matrix import console_client

__all__ = ["console_client"]
pytestmark = pytest.mark.usefixtures("frozen_clock")


def _cell(html: str, row_attr: str, column: int) -> str:
    """The text of a table cell in the row marked ``row_attr`` (e.g. ``data-district="wuchang"``)."""
    row = re.search(rf"<tr {row_attr}>(.*?)</tr>", html, re.S)
    assert row, f"no row {row_attr}"
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    return re.sub(r"<[^>]+>", "", cells[column]).strip()


def _link(html: str, row_attr: str, column: int) -> str:
    row = re.search(rf"<tr {row_attr}>(.*?)</tr>", html, re.S)
    assert row
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    found = re.search(r'href="([^"]+)"', cells[column])
    return unescape(found.group(1)) if found else ""


def _data(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="dashboard-data">(.*?)</script>', html, re.S)
    assert found, "the page embeds its chart data"
    return json.loads(found.group(1))


async def test_the_admin_sees_the_programme_with_every_figure_linked(console_client: httpx.AsyncClient, frozen_clock):
    frozen_clock.set(AS_OF)
    await build_world()
    w = await build_console_world()

    page = await as_(console_client, w, "admin", "GET", "/console/dashboard")

    assert page.status_code == 200
    html = page.text
    assert "<h1>规划办公室看板 · 2026</h1>" in html and "全市数据" in html
    # The targets: 3 sessions held of 60, linked to the year's 武创荟 sessions.
    target = re.search(r'data-target="wuchuanghui_sessions">(.*?)</div>', html, re.S)
    assert target
    link = re.search(r'<b><a href="([^"]+)">3</a> <small>/ 60</small>', target.group(1))
    assert link, target.group(1)
    assert unescape(link.group(1)) == ("/console/events?series=wuchuanghui&from=2026-01-01&to=2026-12-01")
    assert '<progress max="60" value="3">' in target.group(1)
    # The district grid: 东湖 held 2 sessions, 7 registrations, 86% checked in, 4 demands, 2 brokers.
    row = 'data-district="donghu_gaoxin"'
    assert [_cell(html, row, i) for i in range(1, 7)] == ["2", "7", "6", "85.7%", "4", "2"]
    assert _link(html, row, 5) == "/console/demands?district=donghu_gaoxin&from=2026-01-01&to=2026-12-01"
    assert _link(html, row, 6) == "/console/brokers?certified=1&district=donghu_gaoxin"
    # 武昌: March's session held; its registrations and the course session's 2 (1 came); 2 demands; 1 broker.
    assert [_cell(html, 'data-district="wuchang"', i) for i in range(1, 7)] == ["1", "4", "2", "50.0%", "2", "1"]
    # The months: November's demands link to the demands entered in November.
    assert _link(html, 'data-month="2026-11"', 4) == "/console/demands?from=2026-11-01&to=2026-11-30"
    assert len(re.findall(r"<tr data-month=", html)) == 12  # January to December, which has begun
    # The funnels, each step linked.
    assert _cell(html, 'data-step="registered"', 1) == "11"  # 7 + 4, the districts' registrations
    assert _link(html, 'data-step="contracted"', 1).startswith("/console/demands?status=contracted")
    # The charts' data is the same figures, and the page loads the vendored library and its script.
    data = _data(html)
    assert sorted(d["sessions"] for d in data["districts"] if d["sessions"]) == [1, 2]
    assert data["targets"][0]["percent"] == 5.0
    assert [f["steps"][0]["value"] for f in data["funnels"]] == [11, 6]
    assert "/static/vendor/echarts.min.js?v=" in html and "/static/console_dashboard.js?v=" in html
    assert "<script>" not in html and " style=" not in html  # the CSP forbids inline code and styles


async def test_an_organizer_sees_their_organizations_records_only(console_client: httpx.AsyncClient, frozen_clock):
    frozen_clock.set(AS_OF)
    await build_world()
    w = await build_console_world()

    html = (await as_(console_client, w, "organizer_a", "GET", "/console/dashboard")).text

    target = re.search(r'data-target="wuchuanghui_sessions">(.*?)</div>', html, re.S)
    assert target and re.search(r">0</a> <small>/ 60</small>", target.group(1))
    assert _cell(html, 'data-district="donghu_gaoxin"', 1) == "0"
    assert "本单位的记录：本单位举办的活动" in html


async def test_as_of_a_day_and_a_bad_day(console_client: httpx.AsyncClient, frozen_clock):
    frozen_clock.set(AS_OF)
    await build_world()
    w = await build_console_world()

    june = await as_(
        console_client, w, "admin", "GET", "/console/dashboard", params={"as_of": "2026-06-30", "lang": "en"}
    )
    assert june.status_code == 200
    assert "Programme office dashboard" in june.text
    assert len(re.findall(r"<tr data-month=", june.text)) == 6
    assert 'value="2026-06-30"' in june.text
    for bad in ("2026-13-01", "yesterday", "2026-06-30T00:00"):
        refused = await as_(console_client, w, "admin", "GET", "/console/dashboard", params={"as_of": bad})
        assert refused.status_code == 422, bad


async def test_the_office_downloads_novembers_brief(console_client: httpx.AsyncClient, frozen_clock):
    frozen_clock.set(AS_OF)
    await build_world()
    w = await build_console_world()

    page = await as_(console_client, w, "admin", "GET", "/console/briefs")
    assert page.status_code == 200
    # Default: last month, November.
    assert 'id="brief-docx" href="/console/briefs/2026-11.docx"' in page.text
    assert 'href="/console/briefs/2026-H2.docx"' in page.text and 'href="/console/briefs/2026.html"' in page.text

    download = await as_(console_client, w, "admin", "GET", "/console/briefs/2026-11.docx")
    assert download.status_code == 200
    assert download.headers["content-disposition"] == 'attachment; filename="brief-2026-11.docx"'
    document = Document(io.BytesIO(download.content))
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[0] == "武汉科技创新供应链 · 每月简报"
    assert "2026年11月" in paragraphs
    kpi = [[c.text for c in r.cells] for r in document.tables[0].rows]
    assert kpi[1] == ["已举办“武创荟”系列活动（场）", "60", "2", "3", "5%", "3", "落后"]

    printable = await as_(console_client, w, "admin", "GET", "/console/briefs/2026-11.html")
    assert printable.status_code == 200 and "每月简报" in printable.text
    assert "default-src 'none'" in printable.headers["content-security-policy"]

    chosen = await as_(console_client, w, "admin", "GET", "/console/briefs", params={"month": "2026-06"})
    assert 'id="brief-docx" href="/console/briefs/2026-06.docx"' in chosen.text
    june = await as_(console_client, w, "admin", "GET", "/console/briefs", params={"month": "june"})
    assert june.status_code == 400
    assert (await as_(console_client, w, "admin", "GET", "/console/briefs/2026-13.docx")).status_code == 400


async def test_an_organizers_brief_counts_their_records(console_client: httpx.AsyncClient, frozen_clock):
    frozen_clock.set(AS_OF)
    await build_world()
    w = await build_console_world()

    download = await as_(console_client, w, "organizer_b", "GET", "/console/briefs/2026-11.docx")
    kpi = [[c.text for c in r.cells] for r in Document(io.BytesIO(download.content)).tables[0].rows]
    assert kpi[1][2:4] == ["0", "0"]  # none of the programme's sessions are B's (江岸区科技局)
    signed_out = await console_client.get("/console/briefs/2026-11.docx")
    assert signed_out.status_code == 303 and signed_out.headers["location"].startswith("/console/signin")
