"""Issue 12, points 1, 2 and 5 for events, registrations, tickets, check-in, calendars, meta, tokens
and roles: a typed contract in /openapi.json, one way to page (signed keyset cursors), the upcoming
default, search and filters of an event's registrations, and the organizer's exports in zh and en.
"""

from __future__ import annotations

import csv
import importlib
import io
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from openpyxl import load_workbook

from api.app import create_app
from events import clock, localtime
from events.models import Attendance, Registration
from events.services import staff
from events.services.people import person_for_telegram
from tests.factories import bearer, make_event, make_registration, make_token

# The routers this contract covers (issue 12 K1); each of their operations is checked below.
MODULES = {
    f"api.routers.{name}"
    for name in (
        "events",
        "registrations",
        "tickets",
        "checkins",
        "calendar",
        "meta",
        "tokens",
        "roles",
        "webapp",
        "accounts",
    )
}


def _tamper(cursor: str) -> str:
    body, _, mac = cursor.partition(".")
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    return f"{flipped}.{mac}"


def assert_bad_cursor(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("invalid_input", "cursor")


async def walk(client: httpx.AsyncClient, url: str, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    """Every item of a list, page by page."""
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        response = await client.get(url, params=params | ({"cursor": cursor} if cursor else {}), headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


# -- 1. The typed contract --------------------------------------------------------------------------


async def test_openapi_types_every_answer_of_these_routes(db):
    app = create_app(db, manage_db=False)
    spec = app.openapi()
    checked = 0
    routes = [route for module in sorted(MODULES) for route in importlib.import_module(module).router.routes]
    for route in routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods - {"HEAD"}:
            operation = spec["paths"][route.path_format][method.lower()]
            label = f"{method} {route.path_format}"
            assert operation.get("summary") and operation.get("description"), label
            successes = {code: r for code, r in operation["responses"].items() if code in ("200", "201")}
            assert successes, label
            for answer in successes.values():
                assert answer.get("content"), label
                for media_type, content in answer["content"].items():
                    assert content.get("schema") not in (None, {}), f"{label} {media_type}"
            # Every error it declares has the error shape.
            for code, answer in operation["responses"].items():
                if code.startswith("4"):
                    ref = answer["content"]["application/json"]["schema"]["$ref"]
                    assert ref.endswith("/ErrorResponse"), f"{label} {code}"
            checked += 1
    assert checked >= 35
    # The shape those references name is in the document, as API.md gives it.
    shape = spec["components"]["schemas"]
    assert shape["ErrorResponse"]["properties"] == {"error": {"$ref": "#/components/schemas/ErrorDetail"}}
    assert shape["ErrorDetail"]["required"] == ["code", "message"]
    assert set(shape["ErrorDetail"]["properties"]) == {"code", "message", "field"}
    paths = spec["paths"]
    # Named models, not anonymous objects: clients generate types from these.
    assert paths["/api/v1/events/{event_id}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"][
        "$ref"
    ].endswith("/EventPublic")
    listed = paths["/api/v1/events/{event_id}/registrations"]["get"]["responses"]["200"]["content"]
    assert {"application/json", "text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"} <= set(
        listed
    )
    assert "image/png" in paths["/api/v1/tickets/{code}.png"]["get"]["responses"]["200"]["content"]
    assert "text/calendar" in paths["/calendar/events.ics"]["get"]["responses"]["200"]["content"]
    event_fields = spec["components"]["schemas"]["EventPublic"]["properties"]
    # API.md's fixed Event fields stay.
    assert {
        "id",
        "title",
        "kind",
        "series",
        "url",
        "status",
        "starts_at",
        "ends_at",
        "venue",
        "district",
        "capacity",
        "seats_taken",
        "waitlist_length",
        "tags",
    } <= set(event_fields)


def test_openapi_has_no_untyped_answer_anywhere() -> None:
    """Every operation the document lists (all routers, present and future): a summary, a description,
    a schema for each JSON answer and a media type for each 2xx; 4xx answers in the error shape."""
    spec = create_app(manage_db=False).openapi()
    wrong = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            if not operation.get("summary") or not operation.get("description"):
                wrong.append(f"{where}: no summary or description")
            for status, answer in operation["responses"].items():
                content = answer.get("content", {})
                if status.startswith("2") and status not in ("204", "304") and not content:
                    wrong.append(f"{where} {status}: no media type")
                json_schema = content.get("application/json", {}).get("schema")
                if "application/json" in content and not json_schema:
                    wrong.append(f"{where} {status}: untyped JSON")
                if status.startswith("4") and json_schema != {"$ref": "#/components/schemas/ErrorResponse"}:
                    wrong.append(f"{where} {status}: not the error shape")
    assert len(spec["paths"]) >= 50
    assert wrong == []


async def test_answers_keep_their_shape(client, frozen_clock):
    token = bearer(await make_token())
    event = await make_event(capacity=1)
    url = f"/api/v1/events/{event.id}/registrations"
    first = await client.post(url, json={"name": "陈静", "phone": "13700000001"})
    assert first.status_code == 201 and first.headers["location"] == f"/api/v1/registrations/{first.json()['id']}"
    body = first.json()
    assert body["status"] == "confirmed" and body["ticket"]["code"] and body["access_token"]
    assert body["created_at"].endswith("+08:00") and body["phone_display"] == "137 0000 0001"
    created = await client.post(
        "/api/v1/events",
        json={
            "title": "路演",
            "kind": "roadshow",
            "starts_at": (clock.now() + timedelta(days=3)).isoformat(),
            "ends_at": (clock.now() + timedelta(days=3, hours=2)).isoformat(),
            "venue": "光谷",
        },
        headers=token,
    )
    assert created.status_code == 201 and created.headers["location"] == f"/api/v1/events/{created.json()['id']}"
    assert (await client.get("/health")).json() == {"status": "ok", "database": "ok"}
    stats = (await client.get(f"/api/v1/events/{event.id}/stats", headers=token)).json()
    assert (stats["capacity"], stats["confirmed"], stats["checked_in"]) == (1, 1, 0)
    tokens = (await client.get("/api/v1/tokens", headers=bearer(await make_token(role="admin")))).json()
    assert tokens["total"] == 2 and "token" not in tokens["items"][0]


# -- 2. One way to page -----------------------------------------------------------------------------


async def test_events_default_to_upcoming_soonest_first_and_past_on_request(client, frozen_clock):
    ended_long_ago = await make_event(starts_in=-timedelta(days=10))
    ended = await make_event(starts_in=-timedelta(days=2))
    running = await make_event(starts_in=-timedelta(hours=1))  # three hours long: not over yet
    later = await make_event(starts_in=timedelta(days=20))
    soon = await make_event(starts_in=timedelta(days=1))
    default = (await client.get("/api/v1/events")).json()
    assert [e["id"] for e in default["items"]] == [running.id, soon.id, later.id]
    assert default["total"] == 3
    past = (await client.get("/api/v1/events", params={"when": "past"})).json()
    assert [e["id"] for e in past["items"]] == [ended.id, ended_long_ago.id]
    assert {e["status"] for e in past["items"]} == {"finished"}
    everything = (await client.get("/api/v1/events", params={"when": "all"})).json()["items"]
    assert [e["id"] for e in everything] == [ended_long_ago.id, ended.id, running.id, soon.id, later.id]
    # API.md's from/to keep working: a window, in start order, ended events included.
    window = await client.get(
        "/api/v1/events",
        params={
            "from": (clock.now() - timedelta(days=3)).isoformat(),
            "to": (clock.now() + timedelta(days=2)).isoformat(),
        },
    )
    assert [e["id"] for e in window.json()["items"]] == [ended.id, running.id, soon.id]
    # Paging the past newest first returns each once.
    assert [e["id"] for e in await walk(client, "/api/v1/events", {}, when="past", limit=1)] == [
        ended.id,
        ended_long_ago.id,
    ]
    bad = await client.get("/api/v1/events", params={"when": "someday"})
    assert bad.status_code == 422


async def test_event_cursors_forged_foreign_and_stale(client, frozen_clock):
    token = bearer(await make_token())
    events = [await make_event(starts_in=timedelta(days=i + 1)) for i in range(5)]
    first = (await client.get("/api/v1/events", params={"limit": 2})).json()
    assert [e["id"] for e in first["items"]] == [events[0].id, events[1].id] and first["next_cursor"]
    assert_bad_cursor(await client.get("/api/v1/events", params={"cursor": _tamper(first["next_cursor"])}))
    assert_bad_cursor(await client.get("/api/v1/events", params={"cursor": "garbage!!"}))
    # Another ordering's cursor (the past, newest first), another list's (tokens).
    assert_bad_cursor(await client.get("/api/v1/events", params={"cursor": first["next_cursor"], "when": "past"}))
    tokens = (
        await client.get("/api/v1/tokens", params={"limit": 1}, headers=bearer(await make_token(role="admin")))
    ).json()
    assert tokens["next_cursor"]
    assert_bad_cursor(await client.get("/api/v1/events", params={"cursor": tokens["next_cursor"]}))
    # Stale: the cursor's row moves away; the next page starts after where it was.
    await client.patch(
        f"/api/v1/events/{events[1].id}",
        json={
            "starts_at": (events[4].starts_at + timedelta(days=1)).isoformat(),
            "ends_at": (events[4].ends_at + timedelta(days=1)).isoformat(),
        },
        headers=token,
    )
    rest = (await client.get("/api/v1/events", params={"limit": 10, "cursor": first["next_cursor"]})).json()
    assert [e["id"] for e in rest["items"]] == [events[2].id, events[3].id, events[4].id, events[1].id]


async def _registrations(event: Any, count: int) -> list[Registration]:
    names = ["王芳", "李强", "张伟", "刘洋", "陈静", "杨帆", "赵敏", "黄磊", "周婷"]
    return [
        (
            await make_registration(
                event, name=names[i % len(names)], phone=f"1390000{i:04d}", organization=f"单位{i % 3}"
            )
        ).registration
        for i in range(count)
    ]


@pytest.mark.parametrize("sort", ["created", "-created", "name"])
async def test_paging_through_all_registrations_returns_each_once(client, frozen_clock, sort):
    token = bearer(await make_token())
    event = await make_event(capacity=4)
    made = await _registrations(event, 9)
    url = f"/api/v1/events/{event.id}/registrations"
    first = (await client.get(url, params={"limit": 2, "sort": sort}, headers=token)).json()
    assert first["total"] == 9
    seen = await walk(client, url, token, limit=2, sort=sort)
    assert sorted(r["id"] for r in seen) == sorted(r.id for r in made) and len(seen) == 9
    if sort == "created":
        assert [r["id"] for r in seen] == [r.id for r in made]
    elif sort == "-created":
        assert [r["id"] for r in seen] == [r.id for r in reversed(made)]
    else:
        assert [r["name"] for r in seen] == sorted(r["name"] for r in seen)
    assert [r["waitlist_position"] for r in seen if r["status"] == "waitlisted"]


async def test_registration_cursors_forged_foreign_and_stale(client, frozen_clock):
    token = bearer(await make_token())
    event, other = await make_event(), await make_event()
    made = await _registrations(event, 6)
    await _registrations(other, 3)
    url = f"/api/v1/events/{event.id}/registrations"
    first = (await client.get(url, params={"limit": 2}, headers=token)).json()
    cursor = first["next_cursor"]
    assert_bad_cursor(await client.get(url, params={"cursor": _tamper(cursor)}, headers=token))
    # Foreign: another sort of the same list, the same sort of another event's list, the events list.
    assert_bad_cursor(await client.get(url, params={"cursor": cursor, "sort": "name"}, headers=token))
    assert_bad_cursor(
        await client.get(f"/api/v1/events/{other.id}/registrations", params={"cursor": cursor}, headers=token)
    )
    assert_bad_cursor(await client.get("/api/v1/events", params={"cursor": cursor}))
    # Stale: the row the cursor names is gone, the next one changed its name; paging goes on.
    await Registration.filter(id=made[1].id).delete()
    await Registration.filter(id=made[2].id).update(name="改名")
    rest = (await client.get(url, params={"cursor": cursor, "limit": 10}, headers=token)).json()
    assert [r["id"] for r in rest["items"]] == [r.id for r in made[2:]]
    assert rest["next_cursor"] is None and rest["total"] == 5
    by_name = (await client.get(url, params={"limit": 1, "sort": "name"}, headers=token)).json()
    await Registration.filter(id=by_name["items"][0]["id"]).delete()
    after = await walk(client, url, token, sort="name", cursor=by_name["next_cursor"])
    assert len(after) == 4


async def test_token_and_role_cursors(client, frozen_clock):
    admin = bearer(await make_token(role="admin"))
    for n in range(4):
        await make_token(name=f"t{n}")
    listed = await walk(client, "/api/v1/tokens", admin, limit=2)
    assert len(listed) == 5 and [t["id"] for t in listed] == sorted(t["id"] for t in listed)
    page = (await client.get("/api/v1/tokens", params={"limit": 2}, headers=admin)).json()
    assert page["total"] == 5
    assert_bad_cursor(
        await client.get("/api/v1/tokens", params={"cursor": _tamper(page["next_cursor"])}, headers=admin)
    )
    assert_bad_cursor(await client.get("/api/v1/roles", params={"cursor": page["next_cursor"]}, headers=admin))
    event = await make_event()
    people = [await person_for_telegram(telegram_id=7000 + n, name=f"门岗{n}", language_code="zh") for n in range(3)]
    for person in people:
        await staff.grant_role(person, role="checker", event_ids=[event.id], actor="test")
    await staff.grant_role(people[0], role="organizer", event_ids=None, actor="test")
    roles = await walk(client, "/api/v1/roles", admin, limit=1)
    assert len(roles) == 4 and len({r["id"] for r in roles}) == 4
    first = (await client.get("/api/v1/roles", params={"limit": 2}, headers=admin)).json()
    assert first["total"] == 4
    # One person's roles are another list than everyone's.
    mine = f"/api/v1/people/{people[0].id}/roles"
    assert_bad_cursor(await client.get(mine, params={"cursor": first["next_cursor"]}, headers=admin))
    assert [r["role"] for r in await walk(client, mine, admin, limit=1)] == ["checker", "organizer"]
    # Stale: the grant under the cursor is revoked; the rest still come.
    await staff.revoke_role(people[1], role="checker", actor="test")
    rest = (await client.get("/api/v1/roles", params={"cursor": first["next_cursor"]}, headers=admin)).json()
    assert [r["person_id"] for r in rest["items"]] == [people[2].id, people[0].id]


async def _check_in(client: httpx.AsyncClient, token: dict[str, str], event_id: int, code: str, gate: str) -> None:
    answer = await client.post(
        "/api/v1/checkins", json={"code": code, "event_id": event_id, "gate": gate}, headers=token
    )
    assert answer.json()["result"] == "ok", answer.text


async def test_registrations_search_and_filters(client, frozen_clock):
    token = bearer(await make_token())
    event = await make_event(capacity=3)
    url = f"/api/v1/events/{event.id}/registrations"
    bodies = [
        {"name": "王芳", "phone": "13800138000", "organization": "华中科技大学"},
        {"name": "李强", "phone": "+86 139 0000 0002", "organization": "武汉大学"},
        {"name": "王强", "phone": "13700000003", "organization": "光谷实验室", "email": "wq@example.cn"},
        {"name": "Alice Chen", "phone": "13600000004", "organization": "Wuhan University"},
    ]
    made = [(await client.post(url, json=body)).json() for body in bodies]
    assert [m["status"] for m in made] == ["confirmed", "confirmed", "confirmed", "waitlisted"]

    async def ids(**params: Any) -> list[int]:
        response = await client.get(url, params=params, headers=token)
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()["items"]]

    assert await ids(q="王") == [made[0]["id"], made[2]["id"]]
    assert await ids(q="alice") == [made[3]["id"]]
    assert await ids(q="武汉大学") == [made[1]["id"]]
    assert await ids(q="university") == [made[3]["id"]]
    assert await ids(q="wq@example") == [made[2]["id"]]
    # The phone in any form people write it.
    for form in ("13800138000", "138 0013 8000", "+86 138-0013-8000", "0086 13800138000", "0013 8000"):
        assert await ids(q=form) == [made[0]["id"]], form
    assert await ids(q="139") == [made[1]["id"]]
    assert await ids(q="12") == []  # too few digits to be a phone; no name has them
    assert await ids(status="waitlisted") == [made[3]["id"]]
    assert await ids(status="confirmed", q="强") == [made[1]["id"], made[2]["id"]]
    # Checked in: at the door of the event.
    frozen_clock.set(event.starts_at - timedelta(minutes=30))
    await _check_in(client, token, event.id, made[1]["ticket"]["code"], "东门")
    assert await ids(checked_in="true") == [made[1]["id"]]
    assert await ids(checked_in="false") == [made[0]["id"], made[2]["id"], made[3]["id"]]
    assert await ids(checked_in="false", status="confirmed", q="王") == [made[0]["id"], made[2]["id"]]
    listed = (await client.get(url, params={"checked_in": "true"}, headers=token)).json()
    item = listed["items"][0]
    assert item["gate"] == "东门" and item["checked_in_at"].endswith("+08:00") and listed["total"] == 1
    assert (await client.get(url, params={"checked_in": "maybe"}, headers=token)).status_code == 422
    assert (await client.get(url, params={"sort": "phone"}, headers=token)).status_code == 422


# -- 5. The organizer's exports ---------------------------------------------------------------------


async def _export_world(client: httpx.AsyncClient, frozen_clock: Any) -> tuple[Any, dict[str, str], list[Any]]:
    token = bearer(await make_token())
    event = await make_event(
        capacity=2,
        questions=[
            {"key": "field", "label": "技术领域", "label_en": "Field", "choices": ["光电", "生物"]},
            {"key": "need", "label": "需求", "required": False},
        ],
    )
    url = f"/api/v1/events/{event.id}/registrations"
    made = [
        (await client.post(url, json=body)).json()
        for body in (
            {"name": "王芳", "phone": "13800138000", "organization": "华中科技大学", "answers": {"field": "光电"}},
            {"name": "李强", "phone": "13900000002", "answers": {"field": "生物", "need": "=投资"}},
            {"name": "张伟", "phone": "13700000003", "answers": {"field": "光电"}},
        )
    ]
    frozen_clock.set(event.starts_at - timedelta(minutes=20))
    await _check_in(client, token, event.id, made[0]["ticket"]["code"], "东门")
    return event, token, made


def _csv(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))


def _xlsx(response: httpx.Response) -> list[list[Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert ".xlsx" in response.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


async def test_export_in_chinese(client, frozen_clock):
    event, token, made = await _export_world(client, frozen_clock)
    url = f"/api/v1/events/{event.id}/registrations"
    arrived = await Attendance.get(registration_id=made[0]["id"])
    rows = _csv(await client.get(url, params={"format": "csv"}, headers=token))
    assert list(rows[0]) == [
        "编号",
        "状态",
        "候补序号",
        "姓名",
        "单位",
        "手机号",
        "邮箱",
        "Telegram ID",
        "来源",
        "报名时间",
        "签到时间",
        "入口",
        "技术领域",
        "需求",
    ]
    assert [r["姓名"] for r in rows] == ["王芳", "李强", "张伟"]
    assert [r["状态"] for r in rows] == ["报名成功", "报名成功", "候补中"]
    assert rows[2]["候补序号"] == "1" and rows[0]["候补序号"] == ""
    assert rows[0]["手机号"] == "138 0013 8000"
    assert rows[0]["签到时间"] == localtime.stamp(arrived.checked_in_at) and rows[0]["入口"] == "东门"
    assert rows[1]["签到时间"] == "" and rows[1]["入口"] == ""
    registered = await Registration.get(id=made[0]["id"])
    assert rows[0]["报名时间"] == localtime.stamp(registered.created_at)  # local, to the minute
    assert (rows[0]["技术领域"], rows[1]["需求"]) == ("光电", "'=投资")  # a formula stays text
    # The same filters as the list.
    checked = _csv(await client.get(url, params={"format": "csv", "checked_in": "true"}, headers=token))
    assert [r["姓名"] for r in checked] == ["王芳"]
    searched = _csv(await client.get(url, params={"format": "csv", "q": "139 0000"}, headers=token))
    assert [r["姓名"] for r in searched] == ["李强"]
    sheet = _xlsx(await client.get(url, params={"format": "xlsx"}, headers=token))
    assert sheet[0][:4] == ["编号", "状态", "候补序号", "姓名"] and sheet[0][-2:] == ["技术领域", "需求"]
    assert [row[3] for row in sheet[1:]] == ["王芳", "李强", "张伟"]
    assert sheet[1][1] == "报名成功" and sheet[1][10] == localtime.stamp(arrived.checked_in_at)
    assert sheet[2][13] == "=投资"  # a text cell in XLSX, not a formula
    waitlisted = _xlsx(await client.get(url, params={"format": "xlsx", "status": "waitlisted"}, headers=token))
    assert [row[3] for row in waitlisted[1:]] == ["张伟"]


async def test_export_in_english(client, frozen_clock):
    event, token, made = await _export_world(client, frozen_clock)
    url = f"/api/v1/events/{event.id}/registrations"
    english = {"Accept-Language": "en-US,en;q=0.9"}
    rows = _csv(await client.get(url, params={"format": "csv"}, headers=token | english))
    assert list(rows[0])[:6] == ["ID", "Status", "Waitlist position", "Name", "Organization", "Phone"]
    assert list(rows[0])[-4:] == ["Checked in at", "Gate", "Field", "需求"]  # no English label: the Chinese one
    assert [r["Status"] for r in rows] == ["Confirmed", "Confirmed", "Waitlisted"]
    assert rows[0]["Gate"] == "东门" and rows[0]["Checked in at"]
    # ?lang= wins over Accept-Language (a link that says its language).
    by_param = _xlsx(await client.get(url, params={"format": "xlsx", "lang": "en"}, headers=token))
    assert by_param[0][:4] == ["ID", "Status", "Waitlist position", "Name"]
    assert [row[1] for row in by_param[1:]] == ["Confirmed", "Confirmed", "Waitlisted"]
    chinese = _csv(await client.get(url, params={"format": "csv", "lang": "zh"}, headers=token | english))
    assert "姓名" in chinese[0]
    assert (await client.get(url, params={"format": "pdf"}, headers=token)).status_code == 422
    # Another organization's event: 404, as if it did not exist; no token: 401.
    assert (await client.get(url, params={"format": "csv"})).status_code == 401
