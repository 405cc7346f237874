"""The contract of the training, outbox, broadcast and activity routes: every answer typed in
/openapi.json, and every list paged one way (keyset cursors: forged and foreign ones refused, stale
ones page on, a walk through the pages returns each row once)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from tortoise.transactions import in_transaction

from events.models import Activity, Broadcast, Category, Course, OutboxMessage, OutboxStatus, Person
from events.services import activity as log
from events.services import catalog, organizations, tokens, transcripts
from tests.factories import bearer, make_event, make_token
from tests.test_api_training import admin, assert_error, new_broker, new_course, org  # noqa: F401

pytestmark = pytest.mark.usefixtures("frozen_clock")

# The routes this contract covers (path prefixes in /openapi.json).
OWNED = (
    "/api/v1/brokers",
    "/api/v1/courses",
    "/api/v1/notifications",
    "/api/v1/broadcasts",
    "/api/v1/events/{event_id}/broadcasts",
    "/api/v1/activity",
)


async def walk(client, url: str, headers: dict, params: dict | None = None, limit: int = 2) -> list[int]:
    """Every id of a list, page by page; no page is longer than ``limit``."""
    seen: list[int] = []
    query = (params or {}) | {"limit": limit}
    while True:
        response = await client.get(url, params=query, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= limit
        seen += [row["id"] for row in page["items"]]
        if page["next_cursor"] is None:
            return seen
        query = query | {"cursor": page["next_cursor"]}


def forge(cursor: str) -> str:
    """The same cursor with its position moved, keeping the old signature."""
    body, _, mac = cursor.partition(".")
    name, order, values = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    values[-1] = values[-1] + 1 if isinstance(values[-1], int) else 1
    forged = base64.urlsafe_b64encode(json.dumps([name, order, values], separators=(",", ":")).encode()).decode()
    return forged.rstrip("=") + "." + mac


async def first_cursor(client, url: str, headers: dict, params: dict | None = None) -> str:
    page = (await client.get(url, params=(params or {}) | {"limit": 1}, headers=headers)).json()
    assert page["next_cursor"], page
    return page["next_cursor"]


async def assert_refused(client, url: str, headers: dict, cursor: str, params: dict | None = None) -> None:
    response = await client.get(url, params=(params or {}) | {"cursor": cursor}, headers=headers)
    assert_error(response, 422, "invalid_input", field="cursor")


# --- the schema -----------------------------------------------------------------------------------


async def test_every_answer_of_these_routes_is_typed_in_openapi(client):
    spec = (await client.get("/openapi.json")).json()
    checked = 0
    for path, operations in spec["paths"].items():
        if not path.startswith(OWNED):
            continue
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert operation.get("summary") and operation.get("description"), where
            statuses = set(operation["responses"])
            assert statuses & {"401", "404", "422"}, where
            for status, response in operation["responses"].items():
                if status.startswith("4"):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, where
                if status in ("200", "201"):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema and schema != {}, where
                    assert "$ref" in schema, (where, schema)
                    checked += 1
    assert checked >= 25
    # Spreadsheets and pages say what they are.
    brokers = spec["paths"]["/api/v1/brokers"]["get"]["responses"]["200"]["content"]
    assert {"text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"} <= set(brokers)
    transcript = spec["paths"]["/api/v1/brokers/{broker_id}/transcript"]["get"]["responses"]["200"]["content"]
    assert "text/html" in transcript
    page = spec["components"]["schemas"]["Page_BrokerStanding_"]
    assert set(page["properties"]) == {"items", "next_cursor", "total"}


# --- brokers ----------------------------------------------------------------------------------------


async def _brokers(client, org, admin) -> list[dict]:  # noqa: F811
    """Six brokers with ties in hours (and none certified), so keysets must break ties by id."""
    made = [await new_broker(client, org, n, organization=f"机构{7 - n}") for n in range(1, 7)]
    for broker, hours in zip(made, (5, 5, 0, 9, 5, 0), strict=True):
        if hours:
            body = {"hours": hours, "reason": "r"}
            response = await client.post(f"/api/v1/brokers/{broker['id']}/credits", json=body, headers=admin)
            assert response.status_code == 201, response.text
    return made


async def test_broker_pages_return_every_broker_once_under_each_sort(client, org, admin):  # noqa: F811
    made = await _brokers(client, org, admin)
    for sort in transcripts.SORTS:
        whole = (await client.get("/api/v1/brokers", params={"sort": sort, "limit": 500}, headers=org)).json()
        assert whole["total"] == 6 and whole["next_cursor"] is None
        expected = [row["id"] for row in whole["items"]]
        assert sorted(expected) == sorted(b["id"] for b in made)
        for limit in (1, 2, 4):
            assert await walk(client, "/api/v1/brokers", org, {"sort": sort}, limit) == expected, (sort, limit)
    # Ties in hours go by id, whichever way the sort runs.
    ids = [b["id"] for b in made]
    assert await walk(client, "/api/v1/brokers", org, {"sort": "-hours"}) == [
        ids[3],
        ids[0],
        ids[1],
        ids[4],
        ids[2],
        ids[5],
    ]
    assert await walk(client, "/api/v1/brokers", org, {"sort": "hours"}) == [
        ids[2],
        ids[5],
        ids[0],
        ids[1],
        ids[4],
        ids[3],
    ]
    # With a filter the total counts the matches, not the page.
    page = (await client.get("/api/v1/brokers", params={"limit": 1, "q": "机构"}, headers=org)).json()
    assert page["total"] == 6 and len(page["items"]) == 1


async def test_broker_cursors_forged_foreign_and_stale(client, org, admin):  # noqa: F811
    made = await _brokers(client, org, admin)
    ids = [b["id"] for b in made]
    cursor = await first_cursor(client, "/api/v1/brokers", org)
    for bad in (forge(cursor), cursor[:-2] + "AA", "garbage!!", "eyJvIjogMX0", cursor + "x"):
        await assert_refused(client, "/api/v1/brokers", org, bad)
    # Another sort's cursor, another list's cursor.
    await assert_refused(client, "/api/v1/brokers", org, cursor, {"sort": "name"})
    await new_course(client, org, code="JR-1")
    await new_course(client, org, code="JR-2")
    await assert_refused(client, "/api/v1/brokers", org, await first_cursor(client, "/api/v1/courses", org))

    # Stale: the last broker of the first page gains hours (it would now lead); the next pages go on
    # from where the first page ended, and every broker that stayed put comes once.
    page1 = (await client.get("/api/v1/brokers", params={"limit": 2}, headers=org)).json()
    assert [r["id"] for r in page1["items"]] == [ids[3], ids[0]]
    granted = await client.post(f"/api/v1/brokers/{ids[0]}/credits", json={"hours": 20, "reason": "r"}, headers=admin)
    assert granted.status_code == 201
    rest = (
        await client.get("/api/v1/brokers", params={"limit": 10, "cursor": page1["next_cursor"]}, headers=org)
    ).json()
    assert [r["id"] for r in rest["items"]] == [ids[1], ids[4], ids[2], ids[5]]


async def test_broker_exports_ignore_paging(client, org, admin):  # noqa: F811
    await _brokers(client, org, admin)
    cursor = await first_cursor(client, "/api/v1/brokers", org)
    response = await client.get("/api/v1/brokers", params={"format": "csv", "limit": 1, "cursor": cursor}, headers=org)
    assert response.status_code == 200 and response.text.count("\n") == 7  # the header and every broker


# --- courses ----------------------------------------------------------------------------------------


async def test_course_pages_forged_foreign_and_stale_cursors(client, org):  # noqa: F811
    made = [await new_course(client, org, code=f"C-{n}") for n in range(5)]
    draft = await new_course(client, org, code="DRAFT", publish=False)
    everyone = await walk(client, "/api/v1/courses", {}, limit=2)
    assert sorted(everyone) == sorted(c["id"] for c in made)  # anonymous: no draft
    assert sorted(await walk(client, "/api/v1/courses", org, limit=2)) == sorted(
        [c["id"] for c in made] + [draft["id"]]
    )
    listing = (await client.get("/api/v1/courses", params={"limit": 2})).json()
    assert listing["total"] == 5 and listing["items"][0]["items"]  # courses come with their items

    cursor = await first_cursor(client, "/api/v1/courses", {})
    await assert_refused(client, "/api/v1/courses", {}, forge(cursor))
    await assert_refused(client, "/api/v1/courses", {}, "bm90IGEgY3Vyc29y.AAAA")
    # A cursor of the notifications list is not one of courses.
    event = await make_event()
    await _messages(event.id, 3)
    await assert_refused(client, "/api/v1/courses", {}, await first_cursor(client, "/api/v1/notifications", org))

    # Stale: the course the first page ended on is gone; the next page starts after it all the same.
    page1 = (await client.get("/api/v1/courses", params={"limit": 2})).json()
    assert [r["id"] for r in page1["items"]] == everyone[:2]
    await Course.filter(id=everyone[1]).delete()
    rest = (await client.get("/api/v1/courses", params={"limit": 10, "cursor": page1["next_cursor"]})).json()
    assert [r["id"] for r in rest["items"]] == everyone[2:]


# --- the outbox and broadcasts ----------------------------------------------------------------------


async def _messages(event_id: int, n: int) -> list[int]:
    person = await Person.create(name="收信人", phone=None)
    ids = []
    for i in range(n):
        row = await OutboxMessage.create(
            person_id=person.id,
            category=Category.BROADCAST,
            status=OutboxStatus.SENT,
            event_id=event_id,
            text=f"消息{i}",
            locale="zh",
            not_before=catalog.clock.now(),
            dedup_key=f"lists:{event_id}:{i}:{person.id}",
        )
        ids.append(row.id)
    return ids


async def test_notification_pages_newest_first_with_cursors(client, org):  # noqa: F811
    event = await make_event()
    ids = await _messages(event.id, 5)
    assert await walk(client, "/api/v1/notifications", org) == ids[::-1]
    assert await walk(client, "/api/v1/notifications", org, {"status": "failed"}) == []
    cursor = await first_cursor(client, "/api/v1/notifications", org)
    await assert_refused(client, "/api/v1/notifications", org, forge(cursor))
    await assert_refused(client, "/api/v1/notifications", org, await first_cursor(client, "/api/v1/activity", org))
    # Stale: the row the page ended on is gone.
    page1 = (await client.get("/api/v1/notifications", params={"limit": 2}, headers=org)).json()
    await OutboxMessage.filter(id=page1["items"][-1]["id"]).delete()
    rest = (await client.get("/api/v1/notifications", params={"cursor": page1["next_cursor"]}, headers=org)).json()
    assert [r["id"] for r in rest["items"]] == ids[:3][::-1]
    assert "next_before_id" not in rest and rest["next_cursor"] is None


async def test_broadcast_list_pages_and_is_scoped(client, org):  # noqa: F811
    mine = await make_event()
    made = []
    for n in range(4):
        response = await client.post(f"/api/v1/events/{mine.id}/broadcasts", json={"text": f"通知{n}"}, headers=org)
        assert response.status_code == 201, response.text
        assert {"id", "event_id", "text", "author", "created_at", "cancelled_at"} <= set(response.json())
        made.append(response.json()["id"])
    assert await walk(client, "/api/v1/broadcasts", org) == made[::-1]
    listing = (await client.get("/api/v1/broadcasts", params={"event_id": mine.id, "limit": 1}, headers=org)).json()
    assert listing["total"] == 4 and listing["items"][0]["text"] == "通知3"
    cancelled = await client.post(f"/api/v1/broadcasts/{made[0]}/cancel", headers=org)
    assert cancelled.json() == {"id": made[0], "stopped": 0}

    other = (await organizations.find_or_create_organization("别的单位")).id
    outsider = bearer((await tokens.create_token(role="organizer", name="外人", organization_id=other)).plaintext)
    assert (await client.get("/api/v1/broadcasts", headers=outsider)).json() == {
        "items": [],
        "next_cursor": None,
        "total": 0,
    }
    cursor = await first_cursor(client, "/api/v1/broadcasts", org)
    await assert_refused(client, "/api/v1/broadcasts", org, forge(cursor))
    await _messages(mine.id, 2)
    await assert_refused(client, "/api/v1/broadcasts", org, await first_cursor(client, "/api/v1/notifications", org))
    # Stale: the broadcast the page ended on is gone.
    page1 = (await client.get("/api/v1/broadcasts", params={"limit": 2}, headers=org)).json()
    await Broadcast.filter(id=page1["items"][-1]["id"]).delete()
    rest = (await client.get("/api/v1/broadcasts", params={"cursor": page1["next_cursor"]}, headers=org)).json()
    assert [r["id"] for r in rest["items"]] == made[:2][::-1]


# --- the activity log -------------------------------------------------------------------------------


async def test_activity_is_scoped_filtered_and_paged(client, frozen_clock):
    a = (await organizations.find_or_create_organization("甲单位")).id
    b = (await organizations.find_or_create_organization("乙单位")).id
    admin_h = bearer(await make_token(role="admin", name="管理员"))
    org_a = bearer((await tokens.create_token(role="organizer", name="甲", organization_id=a)).plaintext)
    org_b = bearer((await tokens.create_token(role="organizer", name="乙", organization_id=b)).plaintext)

    async def event_of(organization_id: int, title: str):
        data = catalog.EventInput(
            title=title,
            kind="session",
            venue="光谷",
            starts_at=catalog.clock.now() + timedelta(days=3),
            ends_at=catalog.clock.now() + timedelta(days=3, hours=2),
            capacity=10,
        )
        event = await catalog.create_event(data, actor="token:甲", organization_id=organization_id)
        return await catalog.publish_event(event.id, actor="token:甲")

    first_a = await event_of(a, "甲的活动")
    for text in ("一", "二"):
        sent = await client.post(f"/api/v1/events/{first_a.id}/broadcasts", json={"text": text}, headers=org_a)
        assert sent.status_code == 201
    frozen_clock.set(frozen_clock.now + timedelta(hours=2))
    later = frozen_clock.now
    second_a = await event_of(a, "甲的第二场")
    event_b = await event_of(b, "乙的活动")
    # A fact about no event: admins only.
    async with in_transaction() as conn:
        await log.record("role.granted", actor="system", using_db=conn, person_id=1)

    everything = (await client.get("/api/v1/activity", params={"limit": 200}, headers=admin_h)).json()["items"]
    assert [row["id"] for row in everything] == sorted((row["id"] for row in everything), reverse=True)
    assert {row["event_id"] for row in everything} == {first_a.id, second_a.id, event_b.id, None}
    assert {"id", "type", "actor", "event_id", "registration_id", "person_id", "payload", "created_at"} <= set(
        everything[0]
    )

    seen_a = (await client.get("/api/v1/activity", params={"limit": 200}, headers=org_a)).json()["items"]
    assert seen_a and {row["event_id"] for row in seen_a} == {first_a.id, second_a.id}
    seen_b = (await client.get("/api/v1/activity", params={"limit": 200}, headers=org_b)).json()["items"]
    assert seen_b and {row["event_id"] for row in seen_b} == {event_b.id}
    # Another organization's event named in the filter shows nothing, not an error that tells it exists.
    assert (await client.get("/api/v1/activity", params={"event_id": event_b.id}, headers=org_a)).json()["items"] == []

    def ids(rows):
        return [row["id"] for row in rows]

    published = (await client.get("/api/v1/activity", params={"type": "event.published"}, headers=org_a)).json()
    assert [row["event_id"] for row in published["items"]] == [second_a.id, first_a.id]
    by_event = (await client.get("/api/v1/activity", params={"event_id": first_a.id}, headers=org_a)).json()["items"]
    assert by_event and {row["event_id"] for row in by_event} == {first_a.id}
    assert ids((await client.get("/api/v1/activity", params={"actor": "system"}, headers=admin_h)).json()["items"]) == [
        everything[0]["id"]
    ]
    since = (await client.get("/api/v1/activity", params={"from": later.isoformat()}, headers=org_a)).json()["items"]
    assert {row["event_id"] for row in since} == {second_a.id}
    until = (await client.get("/api/v1/activity", params={"to": later.isoformat()}, headers=org_a)).json()["items"]
    assert {row["event_id"] for row in until} == {first_a.id}
    backwards = await client.get(
        "/api/v1/activity",
        params={"from": later.isoformat(), "to": (later - timedelta(hours=1)).isoformat()},
        headers=org_a,
    )
    assert_error(backwards, 422, "invalid_input", field="to")

    # Pages: each fact once, newest first; forged, foreign and stale cursors.
    assert await walk(client, "/api/v1/activity", admin_h, limit=3) == ids(everything)
    assert await walk(client, "/api/v1/activity", org_a, limit=1) == ids(seen_a)
    cursor = await first_cursor(client, "/api/v1/activity", org_a)
    await assert_refused(client, "/api/v1/activity", org_a, forge(cursor))
    await assert_refused(client, "/api/v1/activity", org_a, await first_cursor(client, "/api/v1/broadcasts", org_a))
    await assert_refused(client, "/api/v1/activity", org_a, "x.y")
    page1 = (await client.get("/api/v1/activity", params={"limit": 2}, headers=admin_h)).json()
    await Activity.filter(id=page1["items"][-1]["id"]).delete()
    rest = (
        await client.get("/api/v1/activity", params={"limit": 200, "cursor": page1["next_cursor"]}, headers=admin_h)
    ).json()
    assert ids(rest["items"]) == ids(everything)[2:]

    assert (await client.get("/api/v1/activity")).status_code == 401
    checker = bearer(await make_token(role="checker", name="门岗"))
    assert (await client.get("/api/v1/activity", headers=checker)).status_code == 403
