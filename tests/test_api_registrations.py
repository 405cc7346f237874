"""Registering, reading, cancelling and exporting through HTTP, including the bad input clients send."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import timedelta

import httpx
import pytest

from api.app import create_app
from events.models import Registration
from tests.factories import bearer, make_event, make_token


async def test_register_read_cancel_and_see_the_waitlist_move(client, frozen_clock):
    event = await make_event(capacity=1)
    first = await client.post(f"/api/v1/events/{event.id}/registrations", json={"name": "张伟", "phone": "13800000001"})
    assert first.status_code == 201, first.text
    body = first.json()
    assert {"id", "event_id", "status", "ticket"} <= set(body) and body["status"] == "confirmed"
    second = (
        await client.post(
            f"/api/v1/events/{event.id}/registrations",
            json={"name": "李娜", "phone": "13800000002", "organization": "武汉光电科技有限公司"},
        )
    ).json()
    assert (second["status"], second["waitlist_position"]) == ("waitlisted", 1)
    own = bearer(body["access_token"])
    mine = await client.get(f"/api/v1/registrations/{body['id']}", headers=own)
    assert mine.status_code == 200 and mine.json()["name"] == "张伟"
    # One registrant's secret does not open another's registration.
    assert (await client.get(f"/api/v1/registrations/{second['id']}", headers=own)).status_code == 404
    assert (await client.get(f"/api/v1/registrations/{body['id']}")).status_code == 401
    cancelled = await client.post(f"/api/v1/registrations/{body['id']}/cancel", headers=own)
    assert cancelled.json()["status"] == "cancelled"
    twice = await client.post(f"/api/v1/registrations/{body['id']}/cancel", headers=own)
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "already_cancelled")
    promoted = await client.get(f"/api/v1/registrations/{second['id']}", headers=bearer(second["access_token"]))
    assert (promoted.json()["status"], promoted.json()["waitlist_position"]) == ("confirmed", None)
    stats = (await client.get(f"/api/v1/events/{event.id}")).json()
    assert (stats["seats_taken"], stats["waitlist_length"]) == (1, 0)


async def test_conflicts(client, frozen_clock):
    event = await make_event()
    url = f"/api/v1/events/{event.id}/registrations"
    assert (await client.post(url, json={"name": "王芳", "email": "wf@example.com"})).status_code == 201
    dup = await client.post(url, json={"name": "王芳", "email": "WF@example.com "})
    assert (dup.status_code, dup.json()["error"]["code"]) == (409, "already_registered")
    draft = await make_event(publish=False)
    refused = await client.post(f"/api/v1/events/{draft.id}/registrations", json={"name": "x"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "event_not_open")
    frozen_clock.set(event.starts_at + timedelta(minutes=1))
    closed = await client.post(url, json={"name": "迟到者", "phone": "13900000009"})
    assert (closed.status_code, closed.json()["error"]["code"]) == (409, "registration_closed")


async def test_cancelled_event_refuses_registration(client, frozen_clock):
    token = await make_token()
    event = await make_event()
    await client.post(f"/api/v1/events/{event.id}/cancel", headers=bearer(token))
    response = await client.post(f"/api/v1/events/{event.id}/registrations", json={"name": "x"})
    assert (response.status_code, response.json()["error"]["code"]) == (409, "event_not_open")


async def test_telegram_id_only_from_an_authenticated_caller(client, frozen_clock):
    event = await make_event()
    url = f"/api/v1/events/{event.id}/registrations"
    anon = await client.post(url, json={"name": "冒名者", "telegram_id": 123456})
    assert (anon.status_code, anon.json()["error"]["code"]) == (403, "telegram_id_not_allowed")
    assert await Registration.filter(event_id=event.id).count() == 0
    ok = await client.post(url, json={"name": "本人", "telegram_id": 123456}, headers=bearer(await make_token()))
    assert ok.status_code == 201


async def test_approval_through_the_api(client, frozen_clock):
    token = await make_token()
    event = await make_event(requires_approval=True)
    pending = (await client.post(f"/api/v1/events/{event.id}/registrations", json={"name": "赵敏"})).json()
    assert pending["status"] == "pending"
    anon = await client.post(f"/api/v1/registrations/{pending['id']}/approve")
    assert anon.status_code == 401
    approved = await client.post(f"/api/v1/registrations/{pending['id']}/approve", headers=bearer(token))
    assert approved.json()["status"] == "confirmed"


async def test_list_and_csv_export(client, frozen_clock):
    token = await make_token()
    event = await make_event(capacity=1)
    url = f"/api/v1/events/{event.id}/registrations"
    await client.post(url, json={"name": "陈静", "phone": "13700000001", "organization": "华中科技大学"})
    await client.post(url, json={"name": '=HYPERLINK("x")', "phone": "13700000002", "answers": {"方向": "光电"}})
    assert (await client.get(url)).status_code == 401
    listed = (await client.get(url, headers=bearer(token))).json()["items"]
    assert [r["status"] for r in listed] == ["confirmed", "waitlisted"]
    exported = await client.get(url, params={"format": "csv"}, headers=bearer(token))
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert [r["姓名"] for r in rows] == ["陈静", '\'=HYPERLINK("x")']
    assert rows[0]["单位"] == "华中科技大学" and rows[1]["候补序号"] == "1"
    # An event without questions keeps answers as given: one column per key answered.
    assert rows[1]["方向"] == "光电"
    bad_format = await client.get(url, params={"format": "xml"}, headers=bearer(token))
    assert bad_format.status_code == 422


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": 123}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "x", "phone": "not a phone"}, "phone"),
        ({"name": "x", "email": "nope"}, "email"),
        ({"name": "x", "telegram_id": "abc"}, "telegram_id"),
        ({"name": "x", "answers": []}, "answers"),
        ({"name": "x", "answers": {"k": "v" * 20_000}}, "answers"),
        ({"name": "x", "unexpected": 1}, "unexpected"),
    ],
)
async def test_bad_registration_bodies(client, frozen_clock, body, field):
    event = await make_event()
    response = await client.post(f"/api/v1/events/{event.id}/registrations", json=body)
    assert response.status_code in (400, 422), response.text
    error = response.json()["error"]
    assert error["code"] in ("validation_error", "invalid_input")
    assert error.get("field") == field and error["message"]


async def test_rate_limit_for_anonymous_registration(db, frozen_clock):
    limited = db.model_copy(update={"public_rate_limit": "3/minute"})
    app = create_app(limited, manage_db=False)
    event = await make_event(capacity=None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        codes = [
            (
                await http.post(
                    f"/api/v1/events/{event.id}/registrations", json={"name": f"n{i}", "phone": f"1350000000{i}"}
                )
            ).status_code
            for i in range(5)
        ]
        assert codes == [201, 201, 201, 429, 429]
        limited_response = await http.post(f"/api/v1/events/{event.id}/registrations", json={"name": "z"})
        assert limited_response.json()["error"]["code"] == "rate_limited"
        assert int(limited_response.headers["retry-after"]) >= 1
        # Authenticated callers (the bot, integrations) are not limited per address.
        authed = await http.post(
            f"/api/v1/events/{event.id}/registrations", json={"name": "auth"}, headers=bearer(await make_token())
        )
        assert authed.status_code == 201


async def test_messages_follow_accept_language(client, frozen_clock):
    event = await make_event()
    url = f"/api/v1/events/{event.id}/registrations"
    await client.post(url, json={"name": "a", "phone": "13600000001"})
    zh = await client.post(url, json={"name": "a", "phone": "13600000001"})
    en = await client.post(url, json={"name": "a", "phone": "13600000001"}, headers={"Accept-Language": "en-US"})
    assert en.json()["error"]["message"] == "This person is already registered for this event."
    assert zh.json()["error"]["message"] != en.json()["error"]["message"]
    assert "已" in zh.json()["error"]["message"]


async def test_concurrent_http_registrations_do_not_overbook(client, frozen_clock):
    event = await make_event(capacity=20)
    responses = await asyncio.gather(
        *(
            client.post(f"/api/v1/events/{event.id}/registrations", json={"name": f"p{i}", "phone": f"1330000{i:04d}"})
            for i in range(60)
        )
    )
    statuses = [r.json()["status"] for r in responses]
    assert statuses.count("confirmed") == 20 and statuses.count("waitlisted") == 40
