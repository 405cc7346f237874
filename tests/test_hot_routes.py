"""The hot routes' lean paths (api/hot_routes.py): plain scans and registrations skip the framework
and get the bytes the route would send; every other request is answered by the full stack, as before."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from api.hot_routes import HotRoutes
from events.models import Attendance, CheckinScan, Registration
from events.services import tickets
from tests.factories import bearer, make_event, make_registration, make_token


def _spy(monkeypatch: pytest.MonkeyPatch, name: str) -> list[bool]:
    """One entry per request the lean path judged: True when it answered, False when it handed on."""
    seen: list[bool] = []
    original = getattr(HotRoutes, name)

    async def spy(self, *args):  # noqa: ANN001, ANN002, ANN202
        response = await original(self, *args)
        seen.append(response is not None)
        return response

    monkeypatch.setattr(HotRoutes, name, spy)
    return seen


@pytest.fixture
def answered(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    return _spy(monkeypatch, "_scan")


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    return _spy(monkeypatch, "_register")


@pytest.fixture
async def door(db, frozen_clock):
    event = await make_event(starts_in=timedelta(minutes=30))
    signer = tickets.signer_for(db.data_dir.resolve())
    codes = []
    for name in ("刘洋", "王芳"):
        registration = (await make_registration(event, name=name, organization="光谷实验室")).registration
        codes.append(tickets.ticket_code(registration, signer))
    return event, codes, await make_token(role="checker", name="东门")


def _full_stack(headers: dict[str, str], key: str) -> dict[str, str]:
    """The same request, handed to the full stack: an Idempotency-Key is the lean path's to refuse."""
    return headers | {"Idempotency-Key": key}


async def test_a_plain_scan_gets_the_routes_own_bytes(client, door, answered):
    event, (first, _), token = door
    scan = {"code": first, "event_id": event.id, "gate": "东门"}
    lean = await client.post("/api/v1/checkins", json=scan | {"scan_id": "a"}, headers=bearer(token))
    assert lean.status_code == 200 and lean.json()["result"] == "ok"
    assert answered == [True]
    assert await Attendance.filter(event_id=event.id).count() == 1

    # The same ticket again, once each way: both answers are the same bytes, headers alike.
    again_lean = await client.post("/api/v1/checkins", json=scan | {"scan_id": "b"}, headers=bearer(token))
    again_full = await client.post(
        "/api/v1/checkins", json=scan | {"scan_id": "c"}, headers=_full_stack(bearer(token), "k1")
    )
    assert answered == [True, True]  # the keyed one never reached the lean path's judgement
    assert again_lean.status_code == again_full.status_code == 200
    assert again_lean.json()["result"] == "already_checked_in"
    assert again_lean.json()["registration"]["organization"] == "光谷实验室"
    assert again_lean.content == again_full.content
    assert again_lean.headers["content-type"] == again_full.headers["content-type"] == "application/json"
    assert again_lean.headers["content-length"] == str(len(again_lean.content))
    assert again_lean.headers["x-request-id"] and again_full.headers["x-request-id"]
    assert "idempotent-replayed" not in again_full.headers
    assert await CheckinScan.filter(event_id=event.id).count() == 3

    # Garbage is answered `invalid` on both paths, in the caller's language.
    english = bearer(token) | {"Accept-Language": "en"}
    garbage = {"code": "hello", "event_id": event.id}
    lean = await client.post("/api/v1/checkins", json=garbage, headers=english)
    full = await client.post("/api/v1/checkins", json=garbage, headers=_full_stack(english, "k2"))
    assert lean.json()["result"] == "invalid" and lean.content == full.content


async def test_a_domain_error_reads_as_the_routes(client, door, answered):
    event, (first, second), token = door
    ok = await client.post(
        "/api/v1/checkins", json={"code": first, "event_id": event.id, "scan_id": "s1"}, headers=bearer(token)
    )
    assert ok.json()["result"] == "ok"
    other = {"code": second, "event_id": event.id, "scan_id": "s1"}  # the same scan id, another ticket
    lean = await client.post("/api/v1/checkins", json=other, headers=bearer(token))
    full = await client.post("/api/v1/checkins", json=other, headers=_full_stack(bearer(token), "k3"))
    assert answered == [True, True]
    assert lean.status_code == full.status_code == 409
    assert lean.json()["error"]["code"] == "scan_id_reused" and lean.content == full.content

    # A checker limited to another event: refused before anything is written, on the lean path too.
    elsewhere = await make_event(starts_in=timedelta(minutes=30))
    limited = (await tickets_token(elsewhere.id)).plaintext
    refused = await client.post(
        "/api/v1/checkins", json={"code": second, "event_id": event.id}, headers=bearer(limited)
    )
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "event_out_of_scope"
    assert answered[-1] is True
    assert await CheckinScan.filter(event_id=event.id).count() == 1


async def tickets_token(event_id: int):  # noqa: ANN201
    from events.services import tokens

    return await tokens.create_token(role="checker", name="西门", event_ids=[event_id])


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        # What the schema refuses: the route's 422 with the field named.
        ({"code": "x", "event_id": 0}, {}, 422, "validation_error"),
        ({"code": "x", "event_id": 1, "colour": "red"}, {}, 422, "validation_error"),
        ([1, 2], {}, 422, "validation_error"),
        # Text the database cannot store: the text guard's 422.
        ({"code": "x", "event_id": 1, "gate": "东\u0000门"}, {}, 422, "invalid_input"),
        # No token, another scheme, a registration's secret, a token without a door role.
        ({"code": "x", "event_id": 1}, {"Authorization": ""}, 401, "unauthorized"),
        ({"code": "x", "event_id": 1}, {"Authorization": "Basic eDp5"}, 401, "unauthorized"),
        ({"code": "x", "event_id": 1}, {"Authorization": "Bearer reg_not_a_token"}, 401, "unauthorized"),
        ({"code": "x", "event_id": 1}, {"Authorization": "Bearer wch_revoked_or_never_was"}, 401, "unauthorized"),
        ({"code": "x", "event_id": 1}, "judge", 403, "forbidden"),
    ],
)
async def test_anything_else_is_answered_by_the_full_stack(client, db, answered, body, headers, status, code):
    if headers == "judge":
        headers = bearer(await make_token(role="judge", name="评委"))
    elif "Authorization" not in headers:
        headers = bearer(await make_token(role="checker", name="东门"))
    response = await client.post("/api/v1/checkins", json=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    # Handed on, body and all (text for the text guard without being read).
    assert answered == ([] if isinstance(body, dict) and "\u0000" in body.get("gate", "") else [False])


async def test_bodies_it_does_not_read_go_on_unread(client, db, door, answered):
    event, (first, _), token = door
    # A query string: the routes read none, but text the database cannot store is refused in any.
    guarded = await client.post(
        "/api/v1/checkins?note=%00", json={"code": first, "event_id": event.id}, headers=bearer(token)
    )
    assert guarded.status_code == 422 and guarded.json()["error"]["field"] == "note"
    assert await CheckinScan.filter(event_id=event.id).count() == 0
    raw = f'{{"code": "{first}", "event_id": {event.id}}}'.encode()
    # Not declared as JSON: the route refuses it as it always has (422, the body is no object to it).
    form = await client.post("/api/v1/checkins", content=raw, headers=bearer(token) | {"Content-Type": "text/plain"})
    # Larger than the body limit: 413 from the limit, before anything is read.
    huge = await client.post(
        "/api/v1/checkins",
        content=b'{"code": "' + b"x" * (db.max_body_bytes + 10) + b'", "event_id": 1}',
        headers=bearer(token) | {"Content-Type": "application/json"},
    )
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "payload_too_large"
    assert answered == []
    assert form.status_code == 422 and form.json()["error"]["code"] == "validation_error"


async def test_replays_by_key_stay_with_the_idempotency_layer(client, door, answered):
    event, (first, _), token = door
    scan = {"code": first, "event_id": event.id}
    once = await client.post("/api/v1/checkins", json=scan, headers=_full_stack(bearer(token), "same"))
    twice = await client.post("/api/v1/checkins", json=scan, headers=_full_stack(bearer(token), "same"))
    assert once.json()["result"] == "ok" and twice.headers["idempotent-replayed"] == "true"
    assert twice.content == once.content and answered == []
    assert await Attendance.filter(event_id=event.id).count() == 1


async def test_its_requests_are_measured_under_the_routes_template(client, door, answered):
    event, (first, _), token = door
    labels = {"route": "/api/v1/checkins", "method": "POST", "status": "2xx"}
    before = REGISTRY.get_sample_value("wuchuang_http_request_duration_seconds_count", labels) or 0
    await client.post("/api/v1/checkins", json={"code": first, "event_id": event.id}, headers=bearer(token))
    assert answered == [True]
    assert REGISTRY.get_sample_value("wuchuang_http_request_duration_seconds_count", labels) == before + 1


# --- registering ----------------------------------------------------------------------------------


def _masked(answer: dict) -> dict:
    """A registration's answer without what differs between two registrants."""
    return answer | {
        "id": None,
        "name": None,
        "phone": None,
        "phone_display": None,
        "access_token": None,
        "ticket": None,
        "created_at": None,
        "links": None,
    }


async def test_a_plain_registration_is_the_routes_own(client, db, frozen_clock, registered):
    event = await make_event(capacity=2)
    url = f"/api/v1/events/{event.id}/registrations"
    lean = await client.post(url, json={"name": "李娜", "phone": "13900000002", "organization": "武汉大学"})
    full = await client.post(
        url,
        json={"name": "张伟", "phone": "13900000003", "organization": "武汉大学"},
        headers={"Idempotency-Key": "r1"},
    )
    assert registered == [True]  # the keyed one went the usual way
    assert lean.status_code == full.status_code == 201
    assert lean.headers["location"] == f"/api/v1/registrations/{lean.json()['id']}"
    assert full.headers["location"] == f"/api/v1/registrations/{full.json()['id']}"
    assert lean.headers["content-type"] == full.headers["content-type"] == "application/json"
    assert list(lean.json()) == list(full.json())  # the same fields, in the same order
    assert _masked(lean.json()) == _masked(full.json())
    assert lean.json()["status"] == "confirmed" and lean.json()["access_token"]
    assert lean.json()["ticket"]["code"].startswith("WC1.")

    # The event is full now: waitlisted, the same way on both paths.
    lean = await client.post(url, json={"name": "王芳", "phone": "13900000004"})
    full = await client.post(url, json={"name": "赵磊", "phone": "13900000005"}, headers={"Idempotency-Key": "r2"})
    assert lean.json()["status"] == full.json()["status"] == "waitlisted"
    assert (lean.json()["waitlist_position"], full.json()["waitlist_position"]) == (1, 2)

    # A refusal the service makes reads the same on both.
    again = {"name": "李娜", "phone": "13900000002"}
    lean = await client.post(url, json=again)
    full = await client.post(url, json=again, headers={"Idempotency-Key": "r3"})
    assert lean.status_code == full.status_code == 409
    assert lean.json()["error"]["code"] == "already_registered" and lean.content == full.content
    assert registered == [True, True, True]
    assert await Registration.filter(event_id=event.id).count() == 4


@pytest.mark.parametrize(
    ("path", "body", "headers", "status", "judged"),
    [
        ("/api/v1/events/0/registrations", {"name": "李娜"}, {}, 422, False),
        ("/api/v1/events/2147483648/registrations", {"name": "李娜"}, {}, 422, False),
        ("/api/v1/events/007/registrations", {"name": "李娜"}, {}, 404, False),
        ("/api/v1/events/{id}/registrations", {"name": ""}, {}, 422, True),
        ("/api/v1/events/{id}/registrations", {"name": "李娜", "age": 3}, {}, 422, True),
        ("/api/v1/events/{id}/registrations", {"name": "李\u0000娜"}, {}, 422, False),
        ("/api/v1/events/{id}/registrations", {"name": "李娜"}, {"Authorization": "Bearer wch_nope"}, 401, True),
        ("/api/v1/events/{id}/registrations", {"name": "李娜"}, {"Authorization": "Basic eDp5"}, 401, True),
        ("/api/v1/events/{id}/registrations", {"name": "李娜", "telegram_id": 5}, {}, 403, True),
        ("/api/v1/events/9999/registrations", {"name": "李娜"}, {}, 404, True),
    ],
)
async def test_a_registration_it_does_not_take_is_the_full_stacks(
    client, db, frozen_clock, registered, path, body, headers, status, judged
):
    event = await make_event()
    response = await client.post(path.format(id=event.id), json=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"]
    # Judged: the lean path read it and handed it on (schema, token) or answered the service's refusal.
    assert registered == ([response.status_code in (403, 404)] if judged else [])


async def test_registrations_are_measured_under_the_routes_template(client, db, frozen_clock, registered):
    event = await make_event()
    labels = {"route": "/api/v1/events/{event_id}/registrations", "method": "POST", "status": "2xx"}
    before = REGISTRY.get_sample_value("wuchuang_http_request_duration_seconds_count", labels) or 0
    response = await client.post(f"/api/v1/events/{event.id}/registrations", json={"name": "李娜"})
    assert response.status_code == 201 and registered == [True]
    assert REGISTRY.get_sample_value("wuchuang_http_request_duration_seconds_count", labels) == before + 1
