"""The supply-chain library: organizations (credit codes, mail domains), technology fields, the achievements
library (validation, lists, imports of JSON/CSV/XLSX, exports), investors, technology contracts and the
goals they move — through the services and through HTTP, with the bad input clients send.
"""

from __future__ import annotations

import csv
import io
import time
from datetime import timedelta

import openpyxl
import pytest

from events import clock, localtime
from events.models import (
    Achievement,
    Activity,
    Demand,
    DemandKind,
    DemandStatus,
    DemandStatusChange,
    Organization,
)
from events.services import achievements, demand_status, organizations, supply_events
from events.services.organizations import credit_code_check_character, normalize_credit_code
from tests.factories import bearer, make_token

pytestmark = pytest.mark.usefixtures("frozen_clock")

VALID_CODE = "91350100M000100Y43"  # a published example of a 统一社会信用代码


@pytest.fixture
async def org_a(client):
    a = await organizations.find_or_create_organization("武汉大学", kind="university")
    from events.models import Role
    from events.services import tokens

    issued = await tokens.create_token(role=Role.ORGANIZER, name="a", organization_id=a.id)
    return bearer(issued.plaintext)


@pytest.fixture
async def org_b(client):
    b = await organizations.find_or_create_organization("华中科技大学", kind="university")
    from events.models import Role
    from events.services import tokens

    issued = await tokens.create_token(role=Role.ORGANIZER, name="b", organization_id=b.id)
    return bearer(issued.plaintext)


@pytest.fixture
async def admin(client):
    return bearer(await make_token(role="admin", name="管理员"))


def assert_error(response, status: int, code: str | None = None, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["message"]
    if code:
        assert error["code"] == code, error
    if field:
        assert error.get("field") == field, error
    return error


# --- organizations ------------------------------------------------------------------------------------


def test_credit_code_check_character():
    assert credit_code_check_character(VALID_CODE[:17]) == VALID_CODE[17]
    assert normalize_credit_code(" 91350100m000100y43 ") == VALID_CODE
    for bad in ("91350100M000100Y44", "91350100M000100Y4", "91350100M000100I43", "9135010OM000100Y43", "x" * 18):
        with pytest.raises(organizations.InvalidInput):
            normalize_credit_code(bad)


async def test_organizations_over_http(client, org_a, org_b, admin):
    made = await client.post(
        "/api/v1/organizations",
        json={
            "name": "光谷科技有限公司",
            "kind": "company",
            "district": "donghu_gaoxin",
            "credit_code": VALID_CODE.lower(),
            "email_domains": ["@OVC.com.cn"],
        },
        headers=org_a,
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["credit_code"] == VALID_CODE and body["email_domains"] == ["ovc.com.cn"]
    assert body["district_name"] == "东湖新技术开发区"
    again = await client.post(
        "/api/v1/organizations", json={"name": "另一家公司", "credit_code": VALID_CODE}, headers=org_a
    )
    assert_error(again, 409, "credit_code_taken")
    same_name = await client.post("/api/v1/organizations", json={"name": " 光谷科技有限公司"}, headers=org_b)
    assert_error(same_name, 409, "organization_name_taken")
    bad_code = await client.post(
        "/api/v1/organizations", json={"name": "甲", "credit_code": "91350100M000100Y44"}, headers=org_a
    )
    assert_error(bad_code, 422, "invalid_input", "credit_code")
    bad_district = await client.post("/api/v1/organizations", json={"name": "乙", "district": "mars"}, headers=org_a)
    assert_error(bad_district, 422, "invalid_input", "district")
    for domains in (["not a domain"], ["qq.com"], ["-a.com"]):
        response = await client.post(
            "/api/v1/organizations", json={"name": "丙", "email_domains": domains}, headers=org_a
        )
        assert_error(response, 422, "invalid_input", "email_domains")

    listed = (await client.get("/api/v1/organizations", params={"q": "光谷"}, headers=org_b)).json()
    assert [o["name"] for o in listed["items"]] == ["光谷科技有限公司"]  # the directory is shared
    by_kind = (
        await client.get("/api/v1/organizations", params={"kind": "university", "limit": 1}, headers=org_a)
    ).json()
    assert len(by_kind["items"]) == 1 and by_kind["next_cursor"]
    rest = await client.get(
        "/api/v1/organizations",
        params={"kind": "university", "limit": 1, "cursor": by_kind["next_cursor"]},
        headers=org_a,
    )
    assert {o["name"] for o in by_kind["items"] + rest.json()["items"]} == {"武汉大学", "华中科技大学"}

    # Only the organization's own organizer (or an admin) changes it.
    a_id = (await Organization.get(name="武汉大学")).id
    assert_error(await client.patch(f"/api/v1/organizations/{a_id}", json={"district": "wuchang"}, headers=org_b), 404)
    changed = await client.patch(
        f"/api/v1/organizations/{a_id}", json={"district": "wuchang", "email_domains": ["whu.edu.cn"]}, headers=org_a
    )
    assert changed.status_code == 200 and changed.json()["email_domains"] == ["whu.edu.cn"]
    taken = await client.patch(f"/api/v1/organizations/{a_id}", json={"credit_code": VALID_CODE}, headers=admin)
    assert_error(taken, 409, "credit_code_taken")
    # Tokens keep finding organizations by name as before.
    assert (await organizations.find_or_create_organization("武汉大学")).id == a_id
    # The default organization is found by its name: it keeps it (other fields change as any other's).
    default_id = await organizations.default_organization_id()
    renamed = await client.patch(f"/api/v1/organizations/{default_id}", json={"name": "武汉市科技局"}, headers=admin)
    assert_error(renamed, 422, "invalid_input", "name")
    same = await client.patch(
        f"/api/v1/organizations/{default_id}",
        json={"name": " Default  organization", "district": "jiangan"},
        headers=admin,
    )
    assert same.status_code == 200 and same.json()["district"] == "jiangan"
    organizations.forget_default()
    assert await organizations.default_organization_id() == default_id


# --- fields -------------------------------------------------------------------------------------------


async def test_fields_in_the_callers_language(client):
    zh = (await client.get("/api/v1/fields")).json()["items"]
    en = (await client.get("/api/v1/fields", headers={"Accept-Language": "en"})).json()["items"]
    codes = [f["code"] for f in zh]
    assert {"optoelectronics", "biomedicine", "ai", "nev", "beidou", "quantum", "synbio", "6g", "other"} <= set(codes)
    assert len(codes) >= 17 and len(set(codes)) == len(codes)
    assert {f["code"]: f["name"] for f in zh}["ai"] == "人工智能"
    assert {f["code"]: f["name"] for f in en}["ai"] == "Artificial intelligence"


# --- achievements: one at a time -----------------------------------------------------------------------

FULL = {
    "external_id": "WHU-001",
    "title": "高功率半导体激光芯片",
    "abstract": "面向工业加工的高功率激光芯片，电光转换效率超过 60%。",
    "keywords": ["激光", "芯片", "激光"],
    "field": "光电子信息",
    "tier": "key",
    "trl": 6,
    "stage": "pilot",
    "transfer_modes": ["license", "equity"],
    "patents": ["zl 2023 1 0123456.7", "CN114567890A"],
    "price_min_cny": 1_000_000,
    "price_max_cny": 5_000_000,
    "district": "东湖新技术开发区",
    "owner_organization": "武汉大学 光电学院",
    "team": ["张教授", "李博士"],
    "contact": {"name": "王老师", "phone": "138 0000 0001", "email": "Wang@whu.edu.cn"},
}


async def test_an_achievement_with_every_field(client, org_a, org_b, admin):
    seen: list[tuple[str, list[int]]] = []

    async def observer(kind: str, ids: list[int]) -> None:
        seen.append((kind, ids))

    supply_events.on_saved("achievement", observer)
    try:
        made = await client.post("/api/v1/achievements", json=FULL, headers=org_a)
    finally:
        supply_events.off_saved("achievement", observer)
    assert made.status_code == 201, made.text
    a = made.json()
    assert seen == [("achievement", [a["id"]])]
    assert a["keywords"] == ["激光", "芯片"] and a["field"] == "optoelectronics" and a["field_name"] == "光电子信息"
    assert a["patents"] == ["ZL202310123456.7", "CN114567890A"]
    assert a["district"] == "donghu_gaoxin" and a["owner_organization"]["name"] == "武汉大学 光电学院"
    assert a["contact"]["phone"] == "+8613800000001" and a["contact"]["email"] == "wang@whu.edu.cn"
    assert a["tier"] == "key" and a["status"] == "available" and a["trl"] == 6
    assert a["created_at"].endswith("+08:00")
    fact = await Activity.get(kind="achievement.created")
    assert fact.payload == {"achievement_id": a["id"], "managed_by": (await Organization.get(name="武汉大学")).id}

    assert_error(await client.get(f"/api/v1/achievements/{a['id']}", headers=org_b), 404, "achievement_not_found")
    assert (await client.get(f"/api/v1/achievements/{a['id']}", headers=admin)).status_code == 200
    assert_error(await client.patch(f"/api/v1/achievements/{a['id']}", json={"trl": 7}, headers=org_b), 404)
    patched = await client.patch(f"/api/v1/achievements/{a['id']}", json={"trl": 7, "tier": None}, headers=org_a)
    assert (
        patched.json()["trl"] == 7 and patched.json()["tier"] == "general" and patched.json()["title"] == FULL["title"]
    )
    assert await Activity.filter(kind="achievement.updated").count() == 1
    again = await client.post("/api/v1/achievements", json={"external_id": "WHU-001", "title": "x"}, headers=org_a)
    assert_error(again, 409, "external_id_taken")
    # Another organization may use the same external id for its own achievement.
    assert (
        await client.post("/api/v1/achievements", json={"external_id": "WHU-001", "title": "x"}, headers=org_b)
    ).status_code == 201


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"field": "astrology"}, "field"),
        ({"district": "mars"}, "district"),
        ({"trl": 0}, "trl"),
        ({"trl": 10}, "trl"),
        ({"abstract": "长" * 100_000}, "abstract"),
        ({"title": "  "}, "title"),
        ({"title": "t" * 301}, "title"),
        ({"keywords": ["k"] * 31}, "keywords"),
        ({"keywords": ["k" * 101]}, "keywords.0"),
        ({"transfer_modes": ["sell"]}, "transfer_modes.0"),
        ({"stage": "dreaming"}, "stage"),
        ({"tier": "gold"}, "tier"),
        ({"patents": ["hello"]}, "patents"),
        ({"price_min_cny": 10, "price_max_cny": 5}, "price_max_cny"),
        ({"owner_organization": 999_999}, "owner_organization"),
        ({"contact": {"name": "王"}}, "contact"),
        ({"contact": {"name": "王", "phone": "12"}}, "phone"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_bad_achievements_are_refused_with_the_field(client, org_a, change, field):
    response = await client.post("/api/v1/achievements", json={"title": "成果"} | change, headers=org_a)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
    assert await Achievement.all().count() == 0


async def test_lists_search_filter_and_page(client, org_a, org_b):
    rows = [
        {"title": "锂电池固态电解质", "field": "nev", "tier": "key", "district": "hongshan"},
        {"title": "北斗高精度定位模组", "field": "beidou", "keywords": ["厘米级定位"]},
        {"title": "基因编辑底盘细胞", "abstract": "合成生物学平台，可用于锂资源回收。", "field": "synbio"},
    ]
    for row in rows:
        assert (await client.post("/api/v1/achievements", json=row, headers=org_a)).status_code == 201
    await client.post("/api/v1/achievements", json={"title": "锂电池回收（B 的）"}, headers=org_b)

    def titles(page):
        return [a["title"] for a in page["items"]]

    get = lambda **p: client.get("/api/v1/achievements", params=p, headers=org_a)  # noqa: E731
    assert titles((await get(q="锂")).json()) == ["基因编辑底盘细胞", "锂电池固态电解质"]  # abstract too; only A's
    assert titles((await get(q="厘米级")).json()) == ["北斗高精度定位模组"]  # keywords
    assert titles((await get(field="nev", tier="key", district="hongshan")).json()) == ["锂电池固态电解质"]
    assert titles((await get(field="人工智能")).json()) == []
    assert_error(await get(field="astrology"), 422, "invalid_input", "field")
    assert_error(await get(district="mars"), 422, "invalid_input", "district")
    first = (await get(limit=2)).json()
    second = (await get(limit=2, cursor=first["next_cursor"])).json()
    assert len(titles(first) + titles(second)) == 3 and second["next_cursor"] is None
    assert_error(await get(cursor="forged.cursor"), 422, "invalid_input", "cursor")


# --- imports -------------------------------------------------------------------------------------------

HEADER = [
    "external_id",
    "title",
    "abstract",
    "keywords",
    "field",
    "tier",
    "trl",
    "transfer_modes",
    "district",
    "owner_organization",
]


def _csv(rows: list[list[object]], header: list[str] = HEADER) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _sheet_rows(n: int, start: int = 1) -> list[list[object]]:
    return [
        [
            f"E{i:04d}",
            f"成果{i}",
            f"摘要{i}：一种新型材料",
            "材料;涂层、防腐",
            "materials",
            "key" if i % 2 else "general",
            5,
            "transfer;license",
            "wuchang",
            "武汉理工大学",
        ]
        for i in range(start, start + n)
    ]


async def upload(client, headers, name: str, data: bytes, content_type: str = "text/csv"):
    return await client.post("/api/v1/achievements/import", files={"file": (name, data, content_type)}, headers=headers)


async def test_a_csv_with_a_broken_row_in_the_middle(client, org_a):
    rows = _sheet_rows(5)
    rows[1][6] = 10  # TRL 10 on data row 2
    rows[3][4] = "astrology"  # an unknown field on data row 4
    text = _csv(rows) + "E9999,多出来的,a,b,c,d,5,transfer,wuchang,x,EXTRA\n"  # row 6: too many cells
    response = await upload(client, org_a, "library.csv", ("\ufeff" + text).encode())
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["created"], report["updated"]) == (3, 0)
    assert [(e["row"], e["field"]) for e in report["errors"]] == [(2, "trl"), (4, "field"), (6, None)]
    assert all(e["code"] == "invalid_input" and e["message"] for e in report["errors"])
    assert report["errors"][0]["external_id"] == "E0002"
    assert set(await Achievement.all().values_list("external_id", flat=True)) == {"E0001", "E0003", "E0005"}
    first = await Achievement.get(external_id="E0001").select_related("owner_organization")
    assert first.keywords == ["材料", "涂层", "防腐"] and first.transfer_modes == ["transfer", "license"]
    assert first.owner_organization.name == "武汉理工大学"
    assert await Activity.filter(kind="achievement.created").count() == 3


async def test_the_same_file_twice_creates_nothing_new(client, org_a):
    data = _csv(_sheet_rows(20)).encode()
    first = (await upload(client, org_a, "a.csv", data)).json()
    assert (first["created"], first["updated"], first["errors"]) == (20, 0, [])
    again = (await upload(client, org_a, "a.csv", data)).json()
    assert (again["created"], again["updated"], again["unchanged"], again["errors"]) == (0, 20, 20, [])
    assert await Achievement.all().count() == 20
    assert await Activity.filter(kind="achievement.updated").count() == 0  # nothing changed, no fact
    rows = _sheet_rows(20)
    rows[0][1] = "成果1（修订）"
    changed = (await upload(client, org_a, "a.csv", _csv(rows).encode())).json()
    assert (changed["created"], changed["updated"], changed["unchanged"]) == (0, 20, 19)
    assert (await Achievement.get(external_id="E0001")).title == "成果1（修订）"
    assert await Activity.filter(kind="achievement.updated").count() == 1


async def test_gbk_csv_and_chinese_headings(client, org_a):
    header = [
        "成果编号",
        "成果名称",
        "关键词",
        "技术领域",
        "入库类别",
        "技术成熟度",
        "转化方式",
        "所在区",
        "联系人",
        "联系电话",
    ]
    rows = [
        ["G1", "光纤传感系统", "光纤，传感", "光电子信息", "重点", "7", "转让、许可", "洪山区", "赵工", "13800000002"]
    ]
    response = await upload(client, org_a, "gbk.csv", _csv(rows, header).encode("gbk"))
    assert response.json()["created"] == 1, response.text
    a = await Achievement.get(external_id="G1").select_related("contact")
    assert (a.title, a.field, a.tier, a.trl, a.district) == ("光纤传感系统", "optoelectronics", "key", 7, "hongshan")
    assert a.transfer_modes == ["transfer", "license"] and a.keywords == ["光纤", "传感"]
    assert a.contact.name == "赵工" and a.contact.phone == "+8613800000002"
    unknown = await upload(client, org_a, "x.csv", _csv([["1"]], ["颜色"]).encode())
    assert_error(unknown, 422, "invalid_input", "file")
    garbage = await upload(client, org_a, "x.xlsx", b"PK\x03\x04 not a workbook", "application/octet-stream")
    assert_error(garbage, 422, "invalid_input", "file")


async def test_xlsx_import_and_the_exports_read_back(client, org_a, org_b):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in _sheet_rows(3):
        sheet.append(row)
    sheet.append(["X4", "=危险公式", None, None, None, None, 3.0, None, None, None])
    sheet.cell(row=5, column=2).data_type = "s"  # text that looks like a formula, as people type it
    out = io.BytesIO()
    book.save(out)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    report = (await upload(client, org_a, "lib.xlsx", out.getvalue(), xlsx)).json()
    assert (report["created"], report["errors"]) == (4, []), report
    assert (await Achievement.get(external_id="X4")).trl == 3
    await client.post("/api/v1/achievements", json=FULL, headers=org_a)

    exported = await client.get("/api/v1/achievements", params={"format": "csv"}, headers=org_a)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "'=危险公式" in exported.text  # the formula guard
    # Another organization imports A's export: the same library, rows for rows.
    back = (await upload(client, org_b, "export.csv", exported.content)).json()
    assert (back["created"], back["errors"]) == (5, [])
    b_id = (await Organization.get(name="华中科技大学")).id
    copy = await Achievement.get(external_id="WHU-001", managed_by_id=b_id).select_related("contact")
    assert copy.patents == ["ZL202310123456.7", "CN114567890A"] and copy.contact.phone == "+8613800000001"
    assert (await Achievement.get(external_id="X4", managed_by_id=b_id)).title == "=危险公式"
    # Re-importing one's own export changes nothing.
    own = (await upload(client, org_a, "export.csv", exported.content)).json()
    assert (own["created"], own["updated"], own["unchanged"]) == (0, 5, 5)

    workbook = await client.get("/api/v1/achievements", params={"format": "xlsx"}, headers=org_a)
    assert workbook.headers["content-type"] == xlsx
    again = (await upload(client, org_a, "export.xlsx", workbook.content, xlsx)).json()
    assert (again["created"], again["unchanged"], again["errors"]) == (0, 5, [])


async def test_json_import_reports_each_bad_row(client, org_a):
    items = [
        {"external_id": "J1", "title": "好的"},
        {"external_id": "J2"},  # no title
        "not an object",
        {"external_id": "J1", "title": "重复"},
        {"external_id": "J3", "title": "坏领域", "field": "astrology"},
        {"title": "无编号的也可以"},
    ]
    report = (await client.post("/api/v1/achievements/import", json={"items": items}, headers=org_a)).json()
    assert report["created"] == 2
    assert [(e["row"], e["code"]) for e in report["errors"]] == [
        (2, "invalid_input"),
        (3, "invalid_input"),
        (4, "duplicate_external_id"),
        (5, "invalid_input"),
    ]
    english = await client.post(
        "/api/v1/achievements/import",
        json={"items": [{"title": "x", "trl": 0}]},
        headers=org_a | {"Accept-Language": "en"},
    )
    assert "at least 1" in english.json()["errors"][0]["message"]
    too_many = await client.post(
        "/api/v1/achievements/import", json={"items": [{"title": "x"}] * 10_001}, headers=org_a
    )
    assert_error(too_many, 422, "invalid_input", "items")
    assert_error(
        await client.post("/api/v1/achievements/import", json={"rows": []}, headers=org_a),
        422,
        "invalid_input",
        "items",
    )


async def test_import_speed(db):
    org = await organizations.find_or_create_organization("速度测试")
    items = [
        {
            "external_id": f"S{i}",
            "title": f"成果{i}",
            "abstract": "一种新的方法。" * 40,
            "keywords": ["a", "b"],
            "field": "ai",
            "trl": 5,
        }
        for i in range(1500)
    ]
    began = time.perf_counter()
    report = await achievements.import_achievements(items, organization_id=org.id, actor="test")
    took = time.perf_counter() - began
    assert report.created == 1500 and not report.errors
    assert took < 5, f"1,500 rows took {took:.1f} s"
    began = time.perf_counter()
    report = await achievements.import_achievements(items, organization_id=org.id, actor="test")
    assert report.unchanged == 1500 and time.perf_counter() - began < 5


# --- investors -----------------------------------------------------------------------------------------


async def test_investors(client, org_a, org_b):
    made = await client.post(
        "/api/v1/investors",
        json={
            "name": "光谷天使基金",
            "organization": "光谷创投",
            "fields_of_interest": ["ai", "量子"],
            "stages": ["天使轮", "pre_a"],
            "ticket_min_cny": 1_000_000,
            "ticket_max_cny": 5_000_000,
            "districts": ["donghu_gaoxin"],
        },
        headers=org_a,
    )
    assert made.status_code == 201, made.text
    investor = made.json()
    assert investor["fields_of_interest"] == ["ai", "quantum"] and investor["stages"] == ["angel", "pre_a"]
    assert investor["verified"] is False
    assert (await Organization.get(name="光谷创投")).kind == "investor"
    for bad, field in (
        ({"stages": ["Z轮"]}, "stages"),
        ({"fields_of_interest": ["x"]}, "field"),
        ({"ticket_min_cny": 9, "ticket_max_cny": 1}, "ticket_max_cny"),
    ):
        assert_error(await client.post("/api/v1/investors", json={"name": "x"} | bad, headers=org_a), 422, None, field)
    await client.post(
        "/api/v1/investors", json={"name": "生物医药基金", "fields_of_interest": ["biomedicine"]}, headers=org_a
    )
    by_field = (await client.get("/api/v1/investors", params={"field": "quantum"}, headers=org_a)).json()
    assert [i["name"] for i in by_field["items"]] == ["光谷天使基金"]
    by_district = (await client.get("/api/v1/investors", params={"district": "donghu_gaoxin"}, headers=org_a)).json()
    assert [i["name"] for i in by_district["items"]] == ["光谷天使基金"]
    assert (await client.get("/api/v1/investors", headers=org_b)).json()["items"] == []
    assert_error(
        await client.post(f"/api/v1/investors/{investor['id']}/verify", headers=org_b), 404, "investor_not_found"
    )
    verified = await client.post(f"/api/v1/investors/{investor['id']}/verify", headers=org_a)
    assert verified.json()["verified"] is True
    only = (await client.get("/api/v1/investors", params={"verified": "true"}, headers=org_a)).json()
    assert [i["id"] for i in only["items"]] == [investor["id"]]
    patched = await client.patch(
        f"/api/v1/investors/{investor['id']}", json={"description": "专注硬科技"}, headers=org_a
    )
    assert patched.json()["description"] == "专注硬科技" and patched.json()["stages"] == ["angel", "pre_a"]


# --- transfers, demands and goals ------------------------------------------------------------------------


async def _demand(org_id: int, **extra) -> Demand:
    company = await organizations.find_or_create_organization("武汉某光电公司", kind="company")
    return await Demand.create(
        kind=DemandKind.TECHNOLOGY,
        title="需要高功率激光芯片",
        organization_id=company.id,
        managed_by_id=org_id,
        created_by="test",
        **extra,
    )


async def test_transfers_move_the_goals_and_the_demand(client, org_a, org_b, admin, frozen_clock):
    a_id = (await Organization.get(name="武汉大学")).id
    key = (await client.post("/api/v1/achievements", json=FULL, headers=org_a)).json()
    demand = await _demand(a_id)
    await _demand(a_id)

    def goal_of(items, key):
        return next(g for g in items if g["key"] == key)

    before = (await client.get("/api/v1/goals")).json()["items"]
    assert goal_of(before, "key_achievements")["current"] == 1 and goal_of(before, "key_achievements")["tracked"]
    assert goal_of(before, "demands_collected")["current"] == 2
    assert goal_of(before, "major_transfers")["current"] == 0
    today = localtime.local(clock.now()).date()
    body = {
        "achievement_id": key["id"],
        "demand_id": demand.id,
        "mode": "transfer",
        "amount_cny": "12500000.50",
        "signed_on": today.isoformat(),
        "major": True,
        "contract_no": "2026420101000123",
    }
    assert_error(
        await client.post("/api/v1/transfers", json=body, headers=org_b), 422, "invalid_input", "achievement_id"
    )
    made = await client.post("/api/v1/transfers", json=body, headers=org_a)
    assert made.status_code == 201, made.text
    t = made.json()
    assert t["amount_cny"] == "12500000.50" and t["seller"]["name"] == "武汉大学 光电学院"
    assert t["buyer"]["name"] == "武汉某光电公司"
    assert (await Achievement.get(id=key["id"])).status == "transferred"
    demand = await Demand.get(id=demand.id)
    assert demand.status == DemandStatus.CONTRACTED and demand.first_response_at is not None
    step = await DemandStatusChange.get(demand_id=demand.id)
    assert (step.from_status, step.to_status) == (DemandStatus.OPEN, DemandStatus.CONTRACTED)
    assert await Activity.filter(kind="demand.status_changed").count() == 1
    assert await Activity.filter(kind="transfer.recorded").count() == 1

    after = (await client.get("/api/v1/goals", headers={"Accept-Language": "en"})).json()["items"]
    assert goal_of(after, "major_transfers")["current"] == 1
    assert goal_of(after, "key_achievements")["current"] == 1  # transferred, still in the key library
    turnover = goal_of(after, "contract_turnover")
    assert (turnover["current"], turnover["target"], turnover["tracked"]) == (1250, 27_000_000, True)

    assert_error(await client.post("/api/v1/transfers", json=body, headers=org_a), 409, "contract_no_taken")
    future = body | {"contract_no": "2", "signed_on": (today + timedelta(days=1)).isoformat()}
    assert_error(await client.post("/api/v1/transfers", json=future, headers=org_a), 422, "invalid_input", "signed_on")
    for bad in ({"amount_cny": "0"}, {"amount_cny": "-5"}, {"amount_cny": "1000000000001"}, {"mode": "gift"}):
        response = await client.post("/api/v1/transfers", json=body | {"contract_no": "3"} | bad, headers=org_a)
        assert response.status_code == 422, response.text
    # A licence leaves the achievement available; a second contract for a contracted demand is fine.
    other = (await client.post("/api/v1/achievements", json={"title": "软件著作权"}, headers=org_a)).json()
    licence = body | {
        "achievement_id": other["id"],
        "mode": "license",
        "contract_no": "4",
        "major": False,
        "amount_cny": "1",
    }
    assert (await client.post("/api/v1/transfers", json=licence, headers=org_a)).status_code == 201
    assert (await Achievement.get(id=other["id"])).status == "available"

    listed = (await client.get("/api/v1/transfers", params={"major": "true"}, headers=org_a)).json()
    assert [x["contract_no"] for x in listed["items"]] == ["2026420101000123"]
    assert (await client.get("/api/v1/transfers", headers=org_b)).json()["items"] == []
    assert_error(await client.get(f"/api/v1/transfers/{t['id']}", headers=org_b), 404, "transfer_not_found")
    sheet = await client.get("/api/v1/transfers", params={"format": "csv"}, headers=admin)
    assert sheet.text.count("\n") == 3 and "12500000.50" in sheet.text


async def test_a_closed_demand_cannot_be_contracted(db):
    org = await organizations.find_or_create_organization("区科技局")
    demand = await _demand(org.id, status=DemandStatus.CLOSED)
    achievement = await achievements.create_achievement(
        achievements.AchievementInput(title="成果"), organization_id=org.id, actor="test"
    )
    from events.errors import InvalidTransition
    from events.services import transfers

    data = transfers.TransferInput(
        achievement_id=achievement.id, demand_id=demand.id, mode="transfer", amount_cny="10", signed_on="2026-05-01"
    )
    with pytest.raises(InvalidTransition):
        await transfers.record_transfer(data, scope=organizations.EVERYTHING, organization_id=org.id, actor="t")
    # Nothing of it was written: the contract, the achievement's status and the fact go together.
    assert (await Achievement.get(id=achievement.id)).status == "available"
    assert await Activity.filter(kind="transfer.recorded").count() == 0


def test_the_demand_status_graph():
    allowed = demand_status.can_go
    S = DemandStatus
    assert allowed(S.OPEN, S.MATCHED) and allowed(S.MATCHED, S.IN_TALKS) and allowed(S.IN_TALKS, S.CONTRACTED)
    assert allowed(S.OPEN, S.CONTRACTED) and allowed(S.CONTRACTED, S.CLOSED)
    assert allowed(S.OPEN, S.EXPIRED) and allowed(S.IN_TALKS, S.CLOSED)
    assert not allowed(S.CONTRACTED, S.EXPIRED) and not allowed(S.IN_TALKS, S.MATCHED)
    assert not allowed(S.CLOSED, S.OPEN) and not allowed(S.EXPIRED, S.CLOSED) and not allowed(S.OPEN, S.OPEN)
