"""What a client can send wrong gets a 4xx in the error shape, never a 500."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from events.models import Event, Registration
from tests.factories import bearer, make_event, make_token
from tests.test_api_events import event_body


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["message"] and isinstance(error["code"], str)
    if code:
        assert error["code"] == code
    return error


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": None}, "title"),
        ({"title": ""}, "title"),
        ({"title": "长" * 201}, "title"),
        ({"kind": "party"}, "kind"),
        ({"district": "atlantis"}, "district"),
        ({"capacity": -5}, "capacity"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": 10**9}, "capacity"),
        ({"capacity": "lots"}, "capacity"),
        ({"starts_at": "yesterday"}, "starts_at"),
        ({"starts_at": "2026-12-01T10:00:00"}, "starts_at"),  # no offset: ambiguous
        ({"tags": ["x" * 31]}, "tags.0"),
        ({"tags": "人工智能"}, "tags"),
        ({"series": "Not A Slug!"}, "series"),
        ({"latitude": 200}, "latitude"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_bad_event_fields(client, frozen_clock, overrides, field):
    body = event_body(**overrides)
    body = {k: v for k, v in body.items() if v is not None}
    response = await client.post("/api/v1/events", json=body, headers=bearer(await make_token()))
    error = assert_error(response, 422)
    assert error["field"] == field


async def test_end_before_start_and_window_inconsistencies(client, frozen_clock):
    token = await make_token()
    start = frozen_clock.now + timedelta(days=5)
    cases = [
        ({"ends_at": (start - timedelta(hours=1)).isoformat()}, "ends_at"),
        ({"ends_at": (start + timedelta(days=90)).isoformat()}, "ends_at"),
        (
            {
                "registration_opens_at": (start + timedelta(hours=1)).isoformat(),
                "registration_closes_at": start.isoformat(),
            },
            "registration_closes_at",
        ),
    ]
    for overrides, field in cases:
        body = event_body(starts_at=start.isoformat(), ends_at=(start + timedelta(hours=3)).isoformat()) | overrides
        error = assert_error(
            await client.post("/api/v1/events", json=body, headers=bearer(token)), 422, "invalid_input"
        )
        assert error["field"] == field
    assert await Event.all().count() == 0


async def test_patch_bad_input(client, frozen_clock):
    token = await make_token()
    event = await make_event()
    url = f"/api/v1/events/{event.id}"
    assert_error(await client.patch(url, json={"title": None}, headers=bearer(token)), 422, "invalid_input")
    assert_error(
        await client.patch(url, json={"ends_at": event.starts_at.isoformat()}, headers=bearer(token)),
        422,
        "invalid_input",
    )
    assert_error(
        await client.patch("/api/v1/events/424242", json={"title": "x"}, headers=bearer(token)), 404, "event_not_found"
    )
    assert_error(await client.patch(url, json=[1, 2], headers=bearer(token)), 422)


async def test_unreadable_bodies(client, frozen_clock):
    token = await make_token()
    event = await make_event()
    url = f"/api/v1/events/{event.id}/registrations"
    headers = {"content-type": "application/json"}
    assert_error(await client.post(url, content=b"{not json", headers=headers), 400, "invalid_json")
    assert_error(await client.post(url, content="name=张三".encode(), headers={"content-type": "text/plain"}), 422)
    non_utf8 = '{"name": "张三"}'.encode("gbk")
    response = await client.post(url, content=non_utf8, headers=headers)
    assert response.status_code in (400, 422), response.text
    assert response.json()["error"]["code"] in ("invalid_json", "invalid_body", "validation_error")
    assert_error(await client.post(url, content=b"", headers=headers), 422)
    assert_error(await client.post("/api/v1/events", content=b"\xff\xfe\x00", headers=headers | bearer(token)), 400)
    assert await Registration.all().count() == 0


async def test_huge_bodies_are_refused_without_reading_them(client, frozen_clock):
    event = await make_event()
    url = f"/api/v1/events/{event.id}/registrations"
    big = b'{"name": "' + b"x" * 2_000_000 + b'"}'
    assert_error(
        await client.post(url, content=big, headers={"content-type": "application/json"}), 413, "payload_too_large"
    )

    async def chunks():
        for _ in range(40):
            yield b"x" * 65_536

    streamed = await client.post(url, content=chunks(), headers={"content-type": "application/json"})
    assert_error(streamed, 413, "payload_too_large")


@pytest.mark.parametrize("path", ["/api/v1/events/abc", "/api/v1/events/99999999999999999999999"])
async def test_bad_path_ids(client, path):
    response = await client.get(path)
    assert response.status_code in (404, 422)
    assert "error" in response.json()


async def test_bad_query_parameters(client):
    for params in (
        {"limit": 0},
        {"limit": 1000},
        {"kind": "party"},
        {"from": "soon"},
        {"district": "atlantis"},
        {"status": "maybe"},
        {"q": "x" * 500},
    ):
        response = await client.get("/api/v1/events", params=params)
        assert response.status_code == 422, params
        assert response.json()["error"]["code"] in ("validation_error", "invalid_input")


async def test_wrong_method_is_405_in_the_error_shape(client):
    assert_error(await client.delete("/api/v1/events"), 405, "method_not_allowed")


async def test_idempotency_key_replays_and_refuses_reuse(client, frozen_clock):
    event = await make_event(capacity=5)
    url = f"/api/v1/events/{event.id}/registrations"
    key = {"Idempotency-Key": "order-7f3a"} | bearer(await make_token())
    body = {"name": "周杰", "phone": "13511112222", "organization": "光谷"}
    first = await client.post(url, json=body, headers=key)
    replay = await client.post(url, json=body, headers=key)
    assert first.status_code == replay.status_code == 201
    assert first.json() == replay.json()
    assert replay.headers.get("idempotent-replayed") == "true"
    assert await Registration.filter(event_id=event.id).count() == 1
    reused = await client.post(url, json={"name": "别人", "phone": "13599998888"}, headers=key)
    assert_error(reused, 422, "idempotency_key_reused")
    # Another caller may use the same key text for their own request.
    other = await client.post(
        url, json={"name": "别人", "phone": "13599998888"}, headers=key | bearer(await make_token())
    )
    assert other.status_code == 201
    assert_error(
        await client.post(url, json={"name": "x"}, headers={"Idempotency-Key": "k" * 300}),
        400,
        "invalid_idempotency_key",
    )


async def test_idempotency_key_replays_errors_too(client, frozen_clock):
    event = await make_event()
    url = f"/api/v1/events/{event.id}/registrations"
    await client.post(url, json={"name": "a", "phone": "13411112222"})
    key = {"Idempotency-Key": "dup-1"}
    first = await client.post(url, json={"name": "a", "phone": "13411112222"}, headers=key)
    second = await client.post(url, json={"name": "a", "phone": "13411112222"}, headers=key)
    assert first.status_code == second.status_code == 409


async def test_concurrent_duplicate_idempotency_key_gets_409_retry_after(client, frozen_clock, monkeypatch):
    from events.services import registration as reg

    event = await make_event()
    real_register = reg.register
    gate = asyncio.Event()

    async def slow_register(*args, **kwargs):
        await gate.wait()
        return await real_register(*args, **kwargs)

    monkeypatch.setattr(reg, "register", slow_register)
    url = f"/api/v1/events/{event.id}/registrations"
    key = {"Idempotency-Key": "same-time"}
    first = asyncio.create_task(client.post(url, json={"name": "a", "phone": "13311112222"}, headers=key))
    await asyncio.sleep(0.05)
    second = await client.post(url, json={"name": "a", "phone": "13311112222"}, headers=key)
    gate.set()
    assert (await first).status_code == 201
    assert_error(second, 409, "idempotency_key_in_use")
    assert second.headers["retry-after"] == "1"
