"""Broker training through HTTP: brokers, courses, enrollment, module completions, grants, transcripts,
the organizer's list and the exports, and the bad input clients send.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import openpyxl
import pytest

from events.i18n import gettext
from events.models import CreditEntry
from events.services import certification
from events.settings import LevelRule
from tests.factories import bearer, make_event, make_token

pytestmark = pytest.mark.usefixtures("frozen_clock")


@pytest.fixture
async def org(client):
    return bearer(await make_token(name="教务"))


@pytest.fixture
async def admin(client):
    return bearer(await make_token(role="admin", name="管理员"))


@pytest.fixture
def rules(client):
    # After the client: building the app installs the settings' rules, these replace them.
    certification.use_rules(
        [
            LevelRule(level="junior", hours=10, courses=["JR-1"], valid_years=1, renewal_hours=4),
            LevelRule(level="intermediate", hours=20, valid_years=3),
        ]
    )
    yield
    certification.use_rules(None)


def assert_error(response, status: int, code: str | None = None, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["message"] and isinstance(error["code"], str)
    if code:
        assert error["code"] == code, error
    if field:
        assert error.get("field") == field, error
    return error


async def new_broker(client, headers, n: int = 1, **extra) -> dict:
    body = {"name": f"经理人{n}", "phone": f"1370000{n:04d}", "district": "donghu_gaoxin"} | extra
    response = await client.post("/api/v1/brokers", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def new_course(client, headers, *, code: str = "JR-1", capacity: int | None = 30, publish: bool = True) -> dict:
    """A course with one session (its door open now) and two online modules."""
    session = await make_event(kind="training", series=None, starts_in=timedelta(minutes=30))
    body = {
        "code": code,
        "title": "技术经理人初级班",
        "level": "junior",
        "event": {
            "title": "技术经理人初级班（报名）",  # of kind training without saying so
            "venue": "武汉科技大市场",
            "starts_at": (session.starts_at - timedelta(minutes=10)).isoformat(),
            "ends_at": session.ends_at.isoformat(),
            "capacity": capacity,
        },
        "items": [
            {"kind": "session", "event_id": session.id, "hours": 3, "code": "S1", "title": "成果转化实务"},
            {"kind": "module", "code": "M1", "title": "政策法规在线课", "hours": "4"},
            {"kind": "module", "code": "M2", "title": "知识产权选修课", "hours": 1.5, "required": False},
        ],
    }
    response = await client.post("/api/v1/courses", json=body, headers=headers)
    assert response.status_code == 201, response.text
    course = response.json()
    if publish:
        published = await client.post(f"/api/v1/events/{course['event_id']}/publish", headers=headers)
        assert published.status_code == 200, published.text
    return course | {"session_event_id": session.id}


async def enroll(client, headers, course: dict, broker: dict) -> dict:
    response = await client.post(
        f"/api/v1/courses/{course['id']}/enrollments", json={"broker_id": broker["id"]}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def complete(client, headers, course: dict, broker: dict, external_id: str, module: str = "M1"):
    return await client.post(
        f"/api/v1/courses/{course['id']}/modules/{module}/completions",
        json={"broker_id": broker["id"], "external_id": external_id},
        headers=headers,
    )


# --- brokers ------------------------------------------------------------------------------------


async def test_broker_create_read_update(client, org):
    created = await new_broker(client, org, organization="武汉光电科技有限公司", specialties=["人工智能", "人工智能"])
    assert created["name"] == "经理人1" and created["district_name"] == "东湖新技术开发区"
    assert created["specialties"] == ["人工智能"] and "transcript_token" not in created
    # Where the broker stands is part of the profile, derived from the (empty) ledger.
    assert (created["hours"], created["level"], created["status"], created["certified_at"]) == (
        0.0,
        None,
        "in_training",
        None,
    )
    assert created["progress"]["level"] == "junior" and created["progress"]["hours_missing"] == 40
    url = f"/api/v1/brokers/{created['id']}"
    assert (await client.get(url, headers=org)).json() == created
    patched = await client.patch(url, json={"district": "jiangan", "specialties": ["生物医药"]}, headers=org)
    assert patched.status_code == 200, patched.text
    assert (patched.json()["district"], patched.json()["specialties"]) == ("jiangan", ["生物医药"])
    assert patched.json()["organization"] == "武汉光电科技有限公司"  # untouched: not in the patch

    again = await client.post("/api/v1/brokers", json={"person_id": created["person_id"]}, headers=org)
    assert_error(again, 409, "already_broker")
    assert_error(await client.get("/api/v1/brokers/9999", headers=org), 404, "broker_not_found")
    assert_error(await client.patch("/api/v1/brokers/9999", json={}, headers=org), 404, "broker_not_found")
    assert_error(await client.patch(url, json={"district": "atlantis"}, headers=org), 422, "invalid_input", "district")
    assert_error(await client.patch(url, json={"salary": 1}, headers=org), 422, "validation_error")


@pytest.mark.parametrize(
    "body",
    [
        {"name": "无联系方式"},
        {"phone": "13700000001"},
        {"name": "x", "phone": "1", "district": "atlantis"},
        {"person_id": 999},
        {"person_id": -1},
        {"name": "x", "phone": "1", "specialties": "人工智能"},
        {"name": "x", "phone": "1", "colour": "red"},
        [],
    ],
)
async def test_broker_bad_input(client, org, body):
    response = await client.post("/api/v1/brokers", json=body, headers=org)
    assert_error(response, 422)


async def test_who_may_call_what(client, org, admin):
    broker = await new_broker(client, org)
    checker = bearer(await make_token(role="checker"))
    for method, path in (
        ("get", "/api/v1/brokers"),
        ("get", f"/api/v1/brokers/{broker['id']}"),
        ("get", f"/api/v1/brokers/{broker['id']}/transcript"),
        ("post", f"/api/v1/brokers/{broker['id']}/transcript-link"),
        ("post", "/api/v1/courses"),
        ("get", "/api/v1/courses/1/attendance"),
    ):
        assert_error(await client.request(method, path), 401, "unauthorized")
        assert_error(await client.request(method, path, headers=checker), 403, "forbidden")
    credit = {"hours": 2, "reason": "外部培训"}
    url = f"/api/v1/brokers/{broker['id']}/credits"
    assert_error(await client.post(url, json=credit, headers=org), 403, "forbidden")
    assert_error(await client.post(url, json=credit), 401, "unauthorized")
    assert await CreditEntry.all().count() == 0
    assert (await client.post(url, json=credit, headers=admin)).status_code == 201
    # An admin may do what an organizer may.
    assert (await client.get("/api/v1/brokers", headers=admin)).status_code == 200


# --- courses, enrollment ---------------------------------------------------------------------------


async def test_course_create_list_read_and_add_items(client, org):
    course = await new_course(client, org, publish=False)
    assert course["code"] == "JR-1" and course["level"] == "junior" and course["event_status"] == "draft"
    assert (course["capacity"], course["seats_taken"], course["waitlist_length"]) == (30, 0, 0)
    assert [(i["kind"], i["code"], i["hours"]) for i in course["items"]] == [
        ("session", "S1", 3),
        ("module", "M1", 4),
        ("module", "M2", 1.5),
    ]
    assert course["total_hours"] == 8.5 and course["items"][0]["starts_at"].endswith("+08:00")
    # A draft is the organizer's alone.
    assert (await client.get("/api/v1/courses")).json()["items"] == []
    assert_error(await client.get(f"/api/v1/courses/{course['id']}"), 404, "course_not_found")
    assert [c["id"] for c in (await client.get("/api/v1/courses", headers=org)).json()["items"]] == [course["id"]]
    await client.post(f"/api/v1/events/{course['event_id']}/publish", headers=org)
    public = await client.get(f"/api/v1/courses/{course['id']}")
    assert public.status_code == 200 and public.json()["event_status"] == "published"
    assert len((await client.get("/api/v1/courses")).json()["items"][0]["items"]) == 3

    url = f"/api/v1/courses/{course['id']}/items"
    added = await client.post(
        url, json={"kind": "module", "code": "M3", "title": "案例研讨", "hours": "2.5"}, headers=org
    )
    assert added.status_code == 201, added.text
    assert (added.json()["code"], added.json()["hours"], added.json()["position"]) == ("M3", 2.5, 3)
    another = await make_event(kind="training", series=None)
    session = await client.post(url, json={"kind": "session", "event_id": another.id, "hours": 2}, headers=org)
    assert session.status_code == 201 and session.json()["starts_at"] is not None

    assert_error(
        await client.post(url, json={"kind": "module", "code": "M3", "title": "x", "hours": 1}, headers=org),
        409,
        "item_code_taken",
    )
    assert_error(
        await client.post(url, json={"kind": "session", "event_id": another.id, "hours": 2}, headers=org),
        409,
        "session_in_other_course",
    )
    for hours in ("abc", -1, 0, 1000, "1.25"):
        bad = await client.post(url, json={"kind": "module", "code": "MX", "title": "x", "hours": hours}, headers=org)
        assert_error(bad, 422, "invalid_input", "hours")
    assert_error(await client.post(url, json={"kind": "module", "hours": 1}, headers=org), 422, "validation_error")
    assert_error(
        await client.post(
            "/api/v1/courses/9999/items", json={"kind": "module", "code": "A", "title": "a", "hours": 1}, headers=org
        ),
        404,
        "course_not_found",
    )


async def test_course_bad_input(client, org):
    await new_course(client, org)
    session = await make_event(kind="training", series=None)
    plain = await make_event()
    cases = [
        ({"code": "JR-1", "event_id": session.id}, 409, "course_code_taken"),
        ({"code": "JR-2"}, 422, "validation_error"),  # no event at all
        ({"code": "JR 2!", "event_id": session.id}, 422, "validation_error"),
        ({"code": "JR-2", "event_id": plain.id}, 422, "invalid_input"),  # not a training event
        ({"code": "JR-2", "event_id": 99999}, 404, "event_not_found"),
        ({"code": "JR-2", "event_id": session.id, "level": "expert"}, 422, "validation_error"),
    ]
    for body, status, code in cases:
        assert_error(await client.post("/api/v1/courses", json=body, headers=org), status, code)
    response = await client.post(
        "/api/v1/courses", content=b'{"code": "JR-2",', headers=org | {"content-type": "application/json"}
    )
    assert_error(response, 400, "invalid_json")
    assert_error(await client.get("/api/v1/courses/abc"), 422)


async def test_enroll_waitlist_withdraw(client, org):
    course = await new_course(client, org, capacity=1)
    first, second = await new_broker(client, org, 1), await new_broker(client, org, 2)
    enrolled = await enroll(client, org, course, first)
    assert enrolled["status"] == "confirmed" and enrolled["ticket"]["code"]
    assert enrolled["ticket"]["qr_png_url"].endswith(".png")
    waiting = await enroll(client, org, course, second)
    assert (waiting["status"], waiting["waitlist_position"], waiting["ticket"]) == ("waitlisted", 1, None)
    url = f"/api/v1/courses/{course['id']}/enrollments"
    assert_error(await client.post(url, json={"broker_id": first["id"]}, headers=org), 409, "already_registered")
    assert_error(await client.post(url, json={"broker_id": 9999}, headers=org), 404, "broker_not_found")
    assert_error(await client.post(url, json={"broker_id": "x"}, headers=org), 422, "validation_error")
    assert_error(await client.post(url, json={}, headers=org), 422, "validation_error")
    assert_error(
        await client.post("/api/v1/courses/9999/enrollments", json={"broker_id": first["id"]}, headers=org),
        404,
        "course_not_found",
    )

    withdrawn = await client.post(f"{url}/{first['id']}/withdraw", json={"reason": "工作冲突"}, headers=org)
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "cancelled" and withdrawn.json()["ticket"] is None
    assert_error(await client.post(f"{url}/{first['id']}/withdraw", headers=org), 409, "not_enrolled")
    seats = (await client.get(f"/api/v1/courses/{course['id']}")).json()
    assert (seats["seats_taken"], seats["waitlist_length"]) == (1, 0)  # the second broker moved up
    sheet = (await client.get(f"/api/v1/courses/{course['id']}/attendance", headers=org)).json()
    assert {row["broker_id"]: row["status"] for row in sheet["rows"]} == {
        first["id"]: "cancelled",
        second["id"]: "confirmed",
    }


async def test_draft_course_refuses_enrollment(client, org):
    course = await new_course(client, org, publish=False)
    broker = await new_broker(client, org)
    response = await client.post(
        f"/api/v1/courses/{course['id']}/enrollments", json={"broker_id": broker["id"]}, headers=org
    )
    assert_error(response, 409, "event_not_open")


# --- module completions ----------------------------------------------------------------------------


async def test_module_completion_is_written_once_per_external_id(client, org, rules):
    course = await new_course(client, org)
    broker, stranger = await new_broker(client, org, 1), await new_broker(client, org, 2)
    await enroll(client, org, course, broker)
    first = await complete(client, org, course, broker, "lms-77")
    assert first.status_code == 201, first.text
    entry = first.json()
    assert (entry["source"], entry["hours"], entry["external_id"]) == ("module", 4, "lms-77")
    assert entry["course"]["code"] == "JR-1" and entry["item"]["code"] == "M1" and entry["certified"] == []
    replay = await complete(client, org, course, broker, "lms-77")
    assert replay.status_code == 200 and replay.json()["id"] == entry["id"]

    assert_error(await complete(client, org, course, stranger, "lms-77"), 409, "external_id_reused")
    assert_error(await complete(client, org, course, broker, "lms-77", module="M2"), 409, "external_id_reused")
    assert_error(await complete(client, org, course, broker, "lms-78"), 409, "already_credited")
    assert_error(await complete(client, org, course, stranger, "lms-79"), 409, "not_enrolled")
    assert_error(await complete(client, org, course, broker, "lms-80", module="NOPE"), 404, "course_item_not_found")
    assert_error(await complete(client, org, course, broker, "lms-81", module="S1"), 404, "course_item_not_found")
    assert_error(
        await client.post(
            "/api/v1/courses/9999/modules/M1/completions",
            json={"broker_id": broker["id"], "external_id": "a"},
            headers=org,
        ),
        404,
        "course_not_found",
    )
    assert_error(
        await client.post(
            f"/api/v1/courses/{course['id']}/modules/M1/completions",
            json={"broker_id": 9999, "external_id": "lms-82"},
            headers=org,
        ),
        404,
        "broker_not_found",
    )
    url = f"/api/v1/courses/{course['id']}/modules/M2/completions"
    future = "2030-01-01T10:00:00+08:00"
    for body, status, code in (
        ({"broker_id": broker["id"], "external_id": "   "}, 422, "invalid_input"),
        ({"broker_id": broker["id"], "external_id": "x" * 101}, 422, "invalid_input"),
        ({"broker_id": broker["id"], "external_id": 5}, 422, "validation_error"),
        ({"broker_id": broker["id"]}, 422, "validation_error"),
        (
            {"broker_id": broker["id"], "external_id": "a", "completed_at": "2026-06-01T09:00:00"},
            422,
            "validation_error",
        ),
        ({"broker_id": broker["id"], "external_id": "a", "completed_at": future}, 422, "invalid_input"),
    ):
        assert_error(await client.post(url, json=body, headers=org), status, code)
    assert await CreditEntry.all().count() == 1


# --- credits: grants and corrections ----------------------------------------------------------------


@pytest.mark.parametrize("hours", [-1, 0, "0", 201, 10**9, "abc", "1.25", "NaN", "Infinity", True, None, [1], {"h": 1}])
async def test_grant_refuses_bad_hours(client, org, admin, hours):
    broker = await new_broker(client, org)
    response = await client.post(
        f"/api/v1/brokers/{broker['id']}/credits", json={"hours": hours, "reason": "外部培训"}, headers=admin
    )
    assert_error(response, 422, "invalid_input", "hours")
    assert await CreditEntry.all().count() == 0


async def test_grants_corrections_and_their_bad_input(client, org, admin, rules):
    broker = await new_broker(client, org)
    url = f"/api/v1/brokers/{broker['id']}/credits"
    for reason in (None, "", "   "):
        assert_error(
            await client.post(url, json={"hours": 2, "reason": reason}, headers=admin), 422, "invalid_input", "reason"
        )
    assert_error(await client.post(url, json={"hours": 2, "reason": "长" * 501}, headers=admin), 422, "invalid_input")
    assert_error(await client.post(url, json={"reason": "x"}, headers=admin), 422, "validation_error", "hours")
    assert_error(
        await client.post("/api/v1/brokers/9999/credits", json={"hours": 1, "reason": "x"}, headers=admin),
        404,
        "broker_not_found",
    )
    assert_error(
        await client.post(url, json={"hours": 1, "reason": "x", "course_id": 9999}, headers=admin),
        404,
        "course_not_found",
    )
    assert_error(
        await client.post(
            url, json={"hours": 1, "reason": "x", "earned_at": "2030-01-01T00:00:00+08:00"}, headers=admin
        ),
        422,
        "invalid_input",
        "earned_at",
    )
    assert_error(
        await client.post(url, json={"hours": 1, "reason": "x", "earned_at": "yesterday"}, headers=admin),
        422,
        "validation_error",
    )
    assert_error(
        await client.post(url, content=b"{hours: 1}", headers=admin | {"content-type": "application/json"}),
        400,
        "invalid_json",
    )

    granted = await client.post(
        url, json={"hours": "6", "reason": "省级培训学时认定", "earned_at": "2025-12-30T10:00:00+08:00"}, headers=admin
    )
    assert granted.status_code == 201, granted.text
    line = granted.json()
    assert (line["source"], line["hours"], line["reason"], line["course"]) == ("grant", 6, "省级培训学时认定", None)
    assert line["earned_at"] == "2025-12-30T10:00:00+08:00" and "管理员" in line["author"]

    fixed = await client.post(url, json={"hours": -2, "reason": "重复认定", "corrects": line["id"]}, headers=admin)
    assert fixed.status_code == 201, fixed.text
    assert (fixed.json()["source"], fixed.json()["hours"], fixed.json()["corrects"]) == ("correction", -2, line["id"])
    assert fixed.json()["earned_at"] == line["earned_at"]  # a correction counts where the line it corrects does
    for body, status, code in (
        ({"hours": -5, "reason": "x", "corrects": line["id"]}, 422, "invalid_input"),  # below zero
        (
            {"hours": 1, "reason": "x", "corrects": fixed.json()["id"]},
            422,
            "invalid_input",
        ),  # a correction's correction
        ({"hours": 1, "reason": "x", "corrects": 99999}, 404, "credit_entry_not_found"),
        ({"hours": 1, "reason": "", "corrects": line["id"]}, 422, "invalid_input"),
        ({"hours": 1, "reason": "x", "corrects": line["id"], "course_id": 1}, 422, "validation_error"),
        ({"hours": 1, "reason": "x", "corrects": 0}, 422, "validation_error"),
    ):
        assert_error(await client.post(url, json=body, headers=admin), status, code)
    other = await new_broker(client, org, 2)
    foreign = await client.post(
        f"/api/v1/brokers/{other['id']}/credits",
        json={"hours": 1, "reason": "x", "corrects": line["id"]},
        headers=admin,
    )
    assert_error(foreign, 404, "credit_entry_not_found")  # one broker's line is not another's to correct
    assert [e.hours_tenths for e in await CreditEntry.filter(broker_id=broker["id"]).order_by("id")] == [60, -20]


async def test_crossing_a_level_reports_the_certification(client, org, admin, rules):
    course = await new_course(client, org)
    broker = await new_broker(client, org)
    ticket = (await enroll(client, org, course, broker))["ticket"]["code"]
    url = f"/api/v1/brokers/{broker['id']}/credits"
    assert (await client.post(url, json={"hours": 9, "reason": "前期学时"}, headers=admin)).json()["certified"] == []
    # The hours are there, but course JR-1's required session is not yet.
    assert (await complete(client, org, course, broker, "lms-1")).json()["certified"] == []
    checker = bearer(await make_token(role="checker"))
    scan = await client.post(
        "/api/v1/checkins", json={"code": ticket, "event_id": course["session_event_id"]}, headers=checker
    )
    assert scan.json()["result"] == "ok" and scan.json()["credit_hours"] == 3
    record = (await client.get(f"/api/v1/brokers/{broker['id']}/transcript", headers=org)).json()
    assert [(c["level"], c["round"]) for c in record["certifications"]] == [("junior", 1)]
    assert (record["level"], record["status"]) == ("junior", "certified")
    # The next line that crosses a level says so in its answer.
    crossing = await client.post(url, json={"hours": 4, "reason": "补录", "course_id": course["id"]}, headers=admin)
    assert crossing.status_code == 201 and crossing.json()["course"]["code"] == "JR-1"
    assert [(c["level"], c["round"]) for c in crossing.json()["certified"]] == [("intermediate", 1)]
    assert crossing.json()["certified"][0]["expires_at"].startswith("2029-06-01")
    profile = (await client.get(f"/api/v1/brokers/{broker['id']}", headers=org)).json()
    assert (profile["level"], profile["status"], profile["hours"]) == ("intermediate", "certified", 20.0)
    assert profile["certified_at"].startswith("2026-06-01") and profile["expires_at"].startswith("2029-06-01")


async def test_idempotency_key_replays_a_grant(client, org, admin):
    broker = await new_broker(client, org)
    url = f"/api/v1/brokers/{broker['id']}/credits"
    headers = admin | {"Idempotency-Key": "grant-1"}
    first = await client.post(url, json={"hours": 2, "reason": "外部"}, headers=headers)
    again = await client.post(url, json={"hours": 2, "reason": "外部"}, headers=headers)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert await CreditEntry.all().count() == 1


# --- transcripts -------------------------------------------------------------------------------------


async def _record_with_everything(client, org, admin) -> tuple[dict, dict]:
    course = await new_course(client, org)
    broker = await new_broker(client, org, organization="武汉光电科技有限公司", specialties=["人工智能"])
    ticket = (await enroll(client, org, course, broker))["ticket"]["code"]
    checker = bearer(await make_token(role="checker"))
    scan = await client.post(
        "/api/v1/checkins", json={"code": ticket, "event_id": course["session_event_id"]}, headers=checker
    )
    assert scan.json()["result"] == "ok"
    assert (await complete(client, org, course, broker, "lms-1")).status_code == 201
    url = f"/api/v1/brokers/{broker['id']}/credits"
    grant = await client.post(
        url, json={"hours": 2.5, "reason": "外部培训认定", "earned_at": "2025-11-03T09:00:00+08:00"}, headers=admin
    )
    await client.post(url, json={"hours": -0.5, "reason": "多计", "corrects": grant.json()["id"]}, headers=admin)
    return course, broker


async def test_transcript_json(client, org, admin, rules):
    course, broker = await _record_with_everything(client, org, admin)
    response = await client.get(f"/api/v1/brokers/{broker['id']}/transcript", headers=org)
    assert response.status_code == 200, response.text
    record = response.json()
    assert record["broker"]["name"] == "经理人1" and record["total"] == 9
    assert record["by_course"] == [
        {"course_id": course["id"], "code": "JR-1", "title": "技术经理人初级班", "hours": 7},
        {"course_id": None, "code": None, "title": None, "hours": 2},
    ]
    assert record["by_year"] == [{"year": 2025, "hours": 2}, {"year": 2026, "hours": 7}]
    assert [(e["source"], e["hours"]) for e in record["entries"]] == [
        ("grant", 2.5),
        ("correction", -0.5),
        ("attendance", 3),
        ("module", 4),
    ]
    attendance = record["entries"][2]
    assert attendance["item"]["code"] == "S1" and attendance["course"]["code"] == "JR-1"
    assert attendance["earned_at"].endswith("+08:00")
    assert record["entries"][1]["corrects"] == record["entries"][0]["id"]
    assert {"id", "earned_at", "hours", "source", "course", "item", "reason", "author", "corrects"} <= set(
        record["entries"][0]
    )
    assert record["courses"] == [
        {
            "id": course["id"],
            "code": "JR-1",
            "title": "技术经理人初级班",
            "level": "junior",
            "enrollment_status": "confirmed",
            "hours": 7,
            "offered": 8.5,
            "completed": True,  # the elective M2 is not needed
        }
    ]
    progress = record["progress"]
    assert progress == {
        "level": "junior",
        "renewal": False,
        "hours_required": 10,
        "hours_have": 9,
        "hours_missing": 1,
        "courses_required": ["JR-1"],
        "courses_done": ["JR-1"],
        "ratio": 0.9,
    }
    assert (record["level"], record["status"], record["certifications"]) == (None, "in_training", [])
    assert_error(await client.get("/api/v1/brokers/9999/transcript", headers=org), 404, "broker_not_found")
    assert_error(await client.get(f"/api/v1/brokers/{broker['id']}/transcript?format=pdf", headers=org), 422)


async def test_transcript_html_for_the_organizer(client, org, admin, rules):
    _, broker = await _record_with_everything(client, org, admin)
    url = f"/api/v1/brokers/{broker['id']}/transcript"
    page = await client.get(url, params={"format": "html"}, headers=org)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "经理人1" in html and ">9<" in html and "武汉光电科技有限公司" in html
    assert 'lang="zh-CN"' in html and "东湖新技术开发区" in html
    assert gettext("zh", "Total hours") in html and gettext("zh", "Junior") in html
    assert "外部培训认定" in html and "管理员" in html  # the organizer's copy says who entered each line
    assert "2025-11-03" in html and "<script" not in html
    english = await client.get(url, params={"format": "html"}, headers=org | {"Accept-Language": "en-GB,en;q=0.9"})
    assert 'lang="en"' in english.text and "Total hours" in english.text and "Toward Junior" in english.text
    assert "East Lake High-tech Development Zone" in english.text
    assert 'lang="en"' in (await client.get(url, params={"format": "html", "lang": "en"}, headers=org)).text


async def test_public_transcript_link(client, org, admin, rules):
    _, broker = await _record_with_everything(client, org, admin)
    link_url = f"/api/v1/brokers/{broker['id']}/transcript-link"
    link = await client.post(link_url, headers=org)
    assert link.status_code == 200, link.text
    url = link.json()["url"]
    assert url.startswith("http") and "/transcripts/" in url
    assert (await client.post(link_url, json={"rotate": False}, headers=org)).json()["url"] == url
    path = "/transcripts/" + url.rsplit("/", 1)[1]
    page = await client.get(path)
    assert page.status_code == 200 and "经理人1" in page.text and ">9<" in page.text
    assert "管理员" not in page.text  # who entered a line is the office's business, not on the broker's copy
    assert page.headers["cache-control"] == "private, no-store" and page.headers["referrer-policy"] == "no-referrer"
    english = await client.get(path, headers={"Accept-Language": "en"})
    assert "Total hours" in english.text and "Technology broker training record" in english.text
    assert "Total hours" in (await client.get(path, params={"lang": "en"})).text

    for unknown in ("/transcripts/nope", "/transcripts/" + "x" * 300):
        missing = await client.get(unknown)
        assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
        assert "经理人1" not in missing.text
    assert "Transcript not found" in (await client.get("/transcripts/nope", headers={"Accept-Language": "en"})).text

    rotated = await client.post(link_url, json={"rotate": True}, headers=org)
    assert rotated.json()["url"] != url and rotated.json()["rotated"] is True
    assert (await client.get(path)).status_code == 404
    assert (await client.get("/transcripts/" + rotated.json()["url"].rsplit("/", 1)[1])).status_code == 200
    assert_error(await client.post(link_url, json={"rotate": "sometimes"}, headers=org), 422)
    assert_error(await client.post("/api/v1/brokers/9999/transcript-link", headers=org), 404, "broker_not_found")


# --- the organizer's list and exports --------------------------------------------------------------


async def _three_brokers(client, org, admin) -> list[dict]:
    a = await new_broker(client, org, 1, specialties=["人工智能"], organization="光谷实验室")
    b = await new_broker(client, org, 2, district="jiangan", specialties=["生物医药"], organization="=HYPERLINK(1)")
    c = await new_broker(client, org, 3)
    for broker, hours, earned_at in ((a, 5, None), (b, 9, "2025-06-01T10:00:00+08:00"), (b, 3, None)):
        body = {"hours": hours, "reason": "r"} | ({"earned_at": earned_at} if earned_at else {})
        assert (
            await client.post(f"/api/v1/brokers/{broker['id']}/credits", json=body, headers=admin)
        ).status_code == 201
    return [a, b, c]


async def test_broker_list_filters_sorts_and_pages(client, org, admin, rules):
    a, b, c = await _three_brokers(client, org, admin)
    listing = (await client.get("/api/v1/brokers", headers=org)).json()
    assert [row["id"] for row in listing["items"]] == [b["id"], a["id"], c["id"]]
    assert [row["hours"] for row in listing["items"]] == [12, 5, 0]
    assert listing["total"] == 3 and listing["next_cursor"] is None
    first = listing["items"][0]
    assert {"id", "person_id", "name", "organization", "district", "specialties", "hours", "level"} <= set(first)
    assert {"highest_level", "status", "certified_at", "expires_at"} <= set(first) and first["year_hours"] is None
    assert (first["level"], first["highest_level"], first["status"]) == (None, None, "in_training")

    page1 = (await client.get("/api/v1/brokers", params={"limit": 2}, headers=org)).json()
    assert [r["id"] for r in page1["items"]] == [b["id"], a["id"]] and page1["total"] == 3
    page2 = (
        await client.get("/api/v1/brokers", params={"limit": 2, "cursor": page1["next_cursor"]}, headers=org)
    ).json()
    assert [r["id"] for r in page2["items"]] == [c["id"]] and page2["next_cursor"] is None

    def ids(params):
        return client.get("/api/v1/brokers", params=params, headers=org)

    assert [r["id"] for r in (await ids({"sort": "name"})).json()["items"]] == [a["id"], b["id"], c["id"]]
    assert [r["id"] for r in (await ids({"sort": "-created"})).json()["items"]] == [c["id"], b["id"], a["id"]]
    assert [r["id"] for r in (await ids({"district": "jiangan"})).json()["items"]] == [b["id"]]
    assert [r["id"] for r in (await ids({"specialty": "人工智能"})).json()["items"]] == [a["id"]]
    assert [r["id"] for r in (await ids({"q": "光谷"})).json()["items"]] == [a["id"]]
    assert (await ids({"status": "certified"})).json()["items"] == []
    assert (await ids({"level": "junior"})).json()["items"] == []
    year = (await ids({"year": 2025})).json()["items"]
    assert [(r["id"], r["year_hours"], r["hours"]) for r in year] == [
        (b["id"], 9, 12),
        (a["id"], 0, 5),
        (c["id"], 0, 0),
    ]
    assert (await ids({"year": 2026, "sort": "-hours"})).json()["items"][0]["id"] == a["id"]  # 5 this year vs 3

    for params in (
        {"sort": "salary"},
        {"status": "retired"},
        {"level": "expert"},
        {"format": "pdf"},
        {"limit": 0},
        {"limit": 501},
        {"limit": "many"},
        {"year": 1900},
        {"course_id": 0},
        {"cursor": "not-a-cursor"},
        {"cursor": "eyJvIjogLTF9"},  # {"o": -1}
        {"cursor": "W10"},  # []
        {"q": "x" * 200},
    ):
        response = await ids(params)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["error"]["code"] in ("validation_error", "invalid_input")


async def test_broker_list_by_course(client, org, admin):
    course = await new_course(client, org)
    brokers = await _three_brokers(client, org, admin)
    await enroll(client, org, course, brokers[2])
    listing = (await client.get("/api/v1/brokers", params={"course_id": course["id"]}, headers=org)).json()
    assert [r["id"] for r in listing["items"]] == [brokers[2]["id"]]


async def test_broker_list_csv(client, org, admin, rules):
    a, b, c = await _three_brokers(client, org, admin)
    response = await client.get("/api/v1/brokers", params={"format": "csv", "limit": 1, "year": 2025}, headers=org)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="brokers-20260601.csv"'
    assert response.text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert len(rows) == 3  # every matching broker, whatever the page size
    assert [row["id"] for row in rows] == [str(b["id"]), str(a["id"]), str(c["id"])]
    assert rows[0]["organization"] == "'=HYPERLINK(1)"  # not run as a formula by a spreadsheet
    assert (rows[0]["hours"], rows[0]["year_hours"], rows[0]["district"], rows[0]["status"]) == (
        "12",
        "9",
        "jiangan",
        "in_training",
    )
    assert rows[1]["name"] == "经理人1" and rows[1]["specialties"] == "人工智能"
    plain = await client.get("/api/v1/brokers", params={"format": "csv"}, headers=org)
    assert "year_hours" not in plain.text.splitlines()[0]


async def test_broker_list_xlsx(client, org, admin):
    a, b, c = await _three_brokers(client, org, admin)
    await client.post(f"/api/v1/brokers/{a['id']}/credits", json={"hours": 40, "reason": "认定"}, headers=admin)
    response = await client.get("/api/v1/brokers", params={"format": "xlsx", "district": "donghu_gaoxin"}, headers=org)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["content-disposition"] == 'attachment; filename="brokers-20260601.xlsx"'
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    # Chinese by default (whatever the catalogue says for each title).
    assert rows[0][:3] == (gettext("zh", "ID"), gettext("zh", "Name"), gettext("zh", "Organization"))
    assert [row[0] for row in rows[1:]] == [a["id"], c["id"]]
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first[gettext("zh", "Total hours")] == 45
    assert first[gettext("zh", "Level")] == gettext("zh", "Junior")
    assert first[gettext("zh", "District")] == "东湖新技术开发区"
    certified = first[gettext("zh", "Certified on")]
    assert (certified.year, certified.month, certified.day, certified.hour) == (2026, 6, 1, 10)  # Wuhan time

    english = await client.get(
        "/api/v1/brokers", params={"format": "xlsx", "year": 2026}, headers=org | {"Accept-Language": "en"}
    )
    rows = list(openpyxl.load_workbook(io.BytesIO(english.content)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("ID", "Name", "Organization") and "Hours in 2026" in rows[0]
    by_id = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert by_id[b["id"]]["Organization"] == "=HYPERLINK(1)"  # kept as text, not a formula
    assert by_id[b["id"]]["District"] == "Jiang'an District" and by_id[a["id"]]["Level"] == "Junior"
    cell = [c for c in openpyxl.load_workbook(io.BytesIO(english.content)).active.iter_rows() if c[0].value == b["id"]]
    assert cell[0][2].data_type == "s"


# --- the attendance sheet -----------------------------------------------------------------------------


async def test_attendance_sheet_json_csv_xlsx(client, org, admin):
    course, broker = await _record_with_everything(client, org, admin)
    late = await new_broker(client, org, 2, organization="@SUM(A1)")
    await enroll(client, org, course, late)
    url = f"/api/v1/courses/{course['id']}/attendance"
    sheet = (await client.get(url, headers=org)).json()
    assert sheet["course"]["code"] == "JR-1" and [i["code"] for i in sheet["items"]] == ["S1", "M1", "M2"]
    rows = {row["broker_id"]: row for row in sheet["rows"]}
    mine = rows[broker["id"]]
    assert [(cell["code"], cell["hours"]) for cell in mine["cells"]] == [("S1", 3), ("M1", 4), ("M2", 0)]
    assert mine["cells"][0]["checked_in_at"] == "2026-06-01T10:00:00+08:00"
    assert (mine["total"], mine["completed"]) == (7, True)  # the grant is not the course's
    assert (rows[late["id"]]["total"], rows[late["id"]]["completed"]) == (0, False)

    response = await client.get(url, params={"format": "csv"}, headers=org)
    assert response.headers["content-disposition"] == 'attachment; filename="course-JR-1-attendance.csv"'
    table = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert list(table[0]) == [
        "broker_id",
        "registration_id",
        "name",
        "organization",
        "status",
        "S1.hours",
        "S1.checked_in_at",
        "S1.checked_out_at",
        "M1.hours",
        "M2.hours",
        "total",
        "completed",
    ]
    by_broker = {row["broker_id"]: row for row in table}
    row = by_broker[str(broker["id"])]
    assert (row["S1.hours"], row["S1.checked_in_at"], row["M1.hours"], row["total"], row["completed"]) == (
        "3",
        "2026-06-01 10:00",  # local, as people read it (localtime.stamp)
        "4",
        "7",
        "true",
    )
    assert by_broker[str(late["id"])]["organization"] == "'@SUM(A1)"

    book = await client.get(url, params={"format": "xlsx", "lang": "en"}, headers=org)
    assert book.headers["content-disposition"] == 'attachment; filename="course-JR-1-attendance.xlsx"'
    sheet_rows = list(openpyxl.load_workbook(io.BytesIO(book.content)).active.iter_rows(values_only=True))
    header = sheet_rows[0]
    assert header[:5] == ("Broker ID", "Registration ID", "Name", "Organization", "Enrollment")
    assert "S1 · Check-in" in header and header[-2:] == ("Total hours", "Completed")
    record = {r[0]: dict(zip(header, r, strict=True)) for r in sheet_rows[1:]}[broker["id"]]
    assert record["S1 · Check-in"].hour == 10 and record["Total hours"] == 7 and record["Completed"] == "Yes"
    assert record["Enrollment"] == "Enrolled"
    chinese = await client.get(url, params={"format": "xlsx"}, headers=org)
    header = next(openpyxl.load_workbook(io.BytesIO(chinese.content)).active.iter_rows(values_only=True))
    assert header[2] == gettext("zh", "Name")

    assert_error(await client.get(url, params={"format": "pdf"}, headers=org), 422)
    assert_error(await client.get("/api/v1/courses/9999/attendance", headers=org), 404, "course_not_found")


async def test_items_can_be_changed_and_removed_until_someone_has_credit_for_them(client, org, admin):
    course = await new_course(client, org)
    items = {i["code"]: i for i in (await client.get(f"/api/v1/courses/{course['id']}", headers=org)).json()["items"]}
    url = f"/api/v1/courses/{course['id']}/items"
    changed = await client.patch(
        f"{url}/{items['S1']['id']}",
        json={"hours": "4.5", "requires_checkout": True, "min_stay_minutes": 60},
        headers=org,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["hours"], changed.json()["min_stay_minutes"]) == (4.5, 60)
    for body, field in (
        ({"hours": -1}, "hours"),
        ({"hours": True}, None),
        ({"title": None}, "title"),
        ({"requires_checkout": False}, "min_stay_minutes"),  # a minimum stay is left without a check-out
    ):
        response = await client.patch(f"{url}/{items['S1']['id']}", json=body, headers=org)
        assert response.status_code == 422, (body, response.text)
        assert field is None or response.json()["error"]["field"] == field
    module = await client.patch(f"{url}/{items['M1']['id']}", json={"requires_checkout": True}, headers=org)
    assert module.status_code == 422
    assert_error(await client.patch(f"{url}/9999", json={}, headers=org), 404, "course_item_not_found")

    broker = await new_broker(client, org)
    await enroll(client, org, course, broker)
    assert (await complete(client, org, course, broker, "lms-9")).status_code == 201
    assert_error(await client.delete(f"{url}/{items['M1']['id']}", headers=org), 409, "item_has_credits")
    removed = await client.delete(f"{url}/{items['M2']['id']}", headers=org)
    assert removed.status_code == 204
    left = [i["code"] for i in (await client.get(f"/api/v1/courses/{course['id']}", headers=org)).json()["items"]]
    assert left == ["S1", "M1"]
    forbidden = await client.delete(f"{url}/{items['S1']['id']}", headers=bearer(await make_token(role="checker")))
    assert forbidden.status_code == 403


# --- certificates follow the ledger ------------------------------------------------------------


@pytest.fixture
def forty_hours(client):
    certification.use_rules([LevelRule(level="junior", hours=40, valid_years=3)])
    yield
    certification.use_rules(None)


async def _goal(client, key: str = "brokers_trained") -> int:
    return {g["key"]: g for g in (await client.get("/api/v1/goals")).json()["items"]}[key]["current"]


async def test_a_correction_below_the_line_is_answered_and_shown_everywhere(client, org, admin, forty_hours):
    """The issue's case over HTTP: certified at 40 h, corrected by -36 h: the answer, the transcript
    (JSON and page) and the goal all say not certified."""
    broker = await new_broker(client, org)
    url = f"/api/v1/brokers/{broker['id']}/credits"
    granted = (await client.post(url, json={"hours": 40, "reason": "补录"}, headers=admin)).json()
    (cert,) = granted["certified"]
    assert cert["number"].startswith("WH-JSJL-2026-") and cert["status"] == "valid" and cert["state"] == "active"
    assert cert["verify_url"].endswith(f"/certificates/{cert['number']}")
    assert await _goal(client) == 1

    corrected = await client.post(
        url, json={"hours": -36, "reason": "重复录入", "corrects": granted["id"]}, headers=admin
    )
    assert corrected.status_code == 201, corrected.text
    (suspended,) = corrected.json()["suspended"]
    assert (suspended["number"], suspended["status"]) == (cert["number"], "suspended")
    assert suspended["state_entry_id"] == corrected.json()["id"] and suspended["state_reason"] == "重复录入"
    record = (await client.get(f"/api/v1/brokers/{broker['id']}/transcript", headers=org)).json()
    assert (record["total"], record["level"], record["status"]) == (4.0, None, "suspended")
    assert [(c["number"], c["status"]) for c in record["certifications"]] == [(cert["number"], "suspended")]
    page = (await client.get(f"/api/v1/brokers/{broker['id']}/transcript", params={"format": "html"}, headers=org)).text
    assert "已认证" not in page and "认证已暂停" in page and cert["number"] in page and "已暂停" in page
    assert await _goal(client) == 0
    listed = (await client.get("/api/v1/brokers", params={"status": "suspended"}, headers=org)).json()
    assert [row["id"] for row in listed["items"]] == [broker["id"]]

    back = await client.post(url, json={"hours": 36, "reason": "核实补回"}, headers=admin)
    assert [c["status"] for c in back.json()["reinstated"]] == ["valid"] and back.json()["certified"] == []
    assert await _goal(client) == 1


async def test_admins_revoke_and_reinstate_with_a_reason(client, org, admin, forty_hours):
    broker = await new_broker(client, org)
    granted = await client.post(
        f"/api/v1/brokers/{broker['id']}/credits", json={"hours": 40, "reason": "补录"}, headers=admin
    )
    (cert,) = granted.json()["certified"]
    base = f"/api/v1/brokers/{broker['id']}/certifications/{cert['id']}"
    checker = bearer(await make_token(role="checker"))
    for who in (org, checker, {}):
        refused = await client.post(f"{base}/revoke", json={"reason": "x"}, headers=who)
        assert refused.status_code in (401, 403), refused.text
    for body in ({}, {"reason": "  "}, {"reason": None}, {"reason": "x" * 501}):
        assert_error(await client.post(f"{base}/revoke", json=body, headers=admin), 422, field="reason")
    assert_error(await client.post(f"{base}/revoke", json={"reason": "x", "extra": 1}, headers=admin), 422)
    assert_error(
        await client.post(f"{base}/reinstate", json={"reason": "x"}, headers=admin), 409, "certification_not_revoked"
    )
    assert_error(
        await client.post(
            f"/api/v1/brokers/{broker['id']}/certifications/9999/revoke", json={"reason": "x"}, headers=admin
        ),
        404,
        "certification_not_found",
    )

    revoked = await client.post(f"{base}/revoke", json={"reason": "材料不实"}, headers=admin)
    assert revoked.status_code == 200, revoked.text
    body = revoked.json()
    assert (body["status"], body["state_reason"]) == ("revoked", "材料不实")
    assert body["state_changed_by"].endswith(":管理员")  # the admin's token
    again = assert_error(await client.post(f"{base}/revoke", json={"reason": "x"}, headers=admin), 409)
    assert again["code"] == "certification_already_revoked"
    english = await client.post(f"{base}/revoke", json={"reason": "x"}, headers=admin | {"Accept-Language": "en"})
    assert english.json()["error"]["message"] == "This certificate is already revoked."
    assert await _goal(client) == 0
    assert (await client.get(f"/certificates/{cert['number']}", params={"format": "json"})).json()[
        "status"
    ] == "revoked"

    reinstated = await client.post(f"{base}/reinstate", json={"reason": "复核无误"}, headers=admin)
    assert reinstated.status_code == 200 and reinstated.json()["status"] == "valid"
    assert await _goal(client) == 1


async def test_the_public_verification_page_shows_nothing_private(client, org, admin, forty_hours):
    broker = await new_broker(client, org, organization="光谷实验室", email="wang@example.com")
    granted = await client.post(
        f"/api/v1/brokers/{broker['id']}/credits", json={"hours": 40, "reason": "秘密备注"}, headers=admin
    )
    (cert,) = granted.json()["certified"]
    number = cert["number"]
    private = [broker["phone"], "wang@example.com", "光谷实验室", "秘密备注", ">40<", "40 ", "donghu", "东湖"]

    page = await client.get(f"/certificates/{number}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "经理人1" in page.text and number in page.text and "初级" in page.text and "有效" in page.text
    assert "2026-06-01" in page.text and "2029-06-01" in page.text
    for secret in private:
        assert secret not in page.text, secret
    assert "noindex" in page.headers["x-robots-tag"]
    english = await client.get(f"/certificates/{number}", headers={"Accept-Language": "en"})
    assert "Certificate verification" in english.text and "Junior" in english.text and "Valid" in english.text

    as_json = await client.get(f"/certificates/{number}", params={"format": "json"})
    assert as_json.json() == {
        "number": number,
        "name": "经理人1",
        "level": "junior",
        "certified_at": cert["certified_at"],
        "expires_at": cert["expires_at"],
        "status": "valid",
    }
    assert (await client.get(f"/certificates/{number.lower()}")).status_code == 200

    # A NUL never reaches the page: the edge refuses it (422, naming the field) before any route.
    assert (await client.get("/certificates/%00")).status_code == 422
    for unknown in ("WH-JSJL-2026-999999", "x" * 300, "<script>"):
        missing = await client.get(f"/certificates/{unknown}")
        assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
        assert "经理人1" not in missing.text and "未找到证书" in missing.text
    assert_error(
        await client.get("/certificates/WH-JSJL-2026-999999", params={"format": "json"}), 404, "certificate_not_found"
    )

    # The transcript's page links each certificate to its check.
    link = await client.post(f"/api/v1/brokers/{broker['id']}/transcript-link", headers=org)
    own = await client.get("/transcripts/" + link.json()["url"].rsplit("/", 1)[1])
    assert number in own.text and f"/certificates/{number}" in own.text
