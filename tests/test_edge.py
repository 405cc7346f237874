"""The edge (issue 11, points 5 and 7): text PostgreSQL cannot store is refused before anything runs,
over-long path values are 4xx on every database, anonymous idempotency keys are not a shared
namespace, and the client address comes from X-Forwarded-For only behind a configured proxy.
"""

from __future__ import annotations

import json
import socket
from itertools import count
from typing import Any

import httpx
import pytest

from api.app import create_app
from events import labels
from events.models import Registration
from events.settings import Settings, SettingsError, load_settings
from tests.browser.helpers import free_port
from tests.factories import bearer, make_event, make_token
from tests.test_api_training import new_broker, new_course

pytestmark = pytest.mark.usefixtures("frozen_clock")


def assert_refused(response: httpx.Response, field: str) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input" and error["field"] == field, error
    english = response.request.headers.get("accept-language", "").startswith("en")
    assert labels.field(field, "en" if english else "zh") in error["message"], error  # its label, the caller's language
    return error


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/events?q=%00", "q"),
        ("/api/v1/events?series=wuchuanghui&q=ab%00cd", "q"),
        ("/calendar/me/%00.ics", "token"),
        ("/calendar/series/%00.ics", "series"),
        ("/calendar/districts/%00.ics", "district"),
        ("/transcripts/%00", "token"),
        ("/api/v1/tickets/WC1.%00.png", "code"),
        ("/no/such/route/%00", "path"),
    ],
)
async def test_nul_in_a_query_or_path_is_refused_naming_it(client, path, field):
    error = assert_refused(await client.get(path), field)
    assert "U+0000" in error["message"]
    english = assert_refused(await client.get(path, headers={"Accept-Language": "en"}), field)
    assert "not allowed" in english["message"] and "不允许" in error["message"]


async def test_nul_or_a_lone_surrogate_anywhere_in_a_body_is_refused(client):
    org = bearer(await make_token())
    event = await make_event()
    url = f"/api/v1/events/{event.id}/registrations"
    assert_refused(await client.post(url, json={"name": "张\u0000伟"}), "name")
    assert_refused(
        await client.post(url, json={"name": "张伟", "answers": {"职务": ["a", "b\u0000"]}}), "answers.职务.1"
    )
    assert_refused(await client.post(url, json={"name": "张伟", "answers": {"k\u0000": 1}}), "answers.k\\0")
    surrogate = b'{"name": "\\ud800"}'
    assert_refused(await client.post(url, content=surrogate, headers={"content-type": "application/json"}), "name")
    assert_refused(await client.patch(f"/api/v1/events/{event.id}", json={"venue": "\u0000"}, headers=org), "venue")
    form = await client.post(url, content=b"name=%00", headers={"content-type": "application/x-www-form-urlencoded"})
    assert_refused(form, "name")
    # Well-formed escapes and the characters around NUL are fine.
    ok = await client.post(url, json={"name": "张伟\u0001\u4f1f", "phone": "13800000009"})
    assert ok.status_code == 201, ok.text
    assert await Registration.filter(event_id=event.id).count() == 1


async def test_an_idempotency_key_with_a_nul_path_never_reaches_the_store(client):
    response = await client.post("/api/v1/events/%00/publish", headers={"Idempotency-Key": "k1"})
    assert_refused(response, "event_id")


async def test_over_long_path_values_are_4xx_on_every_database(client):
    org = bearer(await make_token())
    course = await new_course(client, org)
    broker = await new_broker(client, org)
    long_code = await client.post(
        f"/api/v1/courses/{course['id']}/modules/{'M' * 300}/completions",
        json={"broker_id": broker["id"], "external_id": "lms-1"},
        headers=org,
    )
    assert long_code.status_code == 422, long_code.text
    for path in ("/calendar/series/" + "s" * 300 + ".ics", "/calendar/me/" + "t" * 300 + ".ics"):
        response = await client.get(path)
        assert 400 <= response.status_code < 500, (path, response.status_code)


# --- anonymous idempotency --------------------------------------------------------------------------


def _client_at(app: Any, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40000)), base_url="http://t")


@pytest.fixture
async def app(db: Settings) -> Any:
    return create_app(db, manage_db=False)


async def test_anonymous_callers_with_one_key_get_their_own_answers(app):
    event = await make_event()
    url = f"/api/v1/events/{event.id}/registrations"
    key = {"Idempotency-Key": "1"}  # a careless client library: every install sends the same key
    async with _client_at(app, "198.51.100.7") as alice, _client_at(app, "198.51.100.7") as bob:
        first = await alice.post(url, json={"name": "张伟", "phone": "13800000001"}, headers=key)
        second = await bob.post(url, json={"name": "李娜", "phone": "13800000002"}, headers=key)
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    assert "idempotent-replayed" not in second.headers
    assert first.json()["id"] != second.json()["id"]
    assert first.json()["access_token"] != second.json()["access_token"]
    assert second.json()["access_token"].startswith("reg_")
    assert await Registration.filter(event_id=event.id).count() == 2


async def test_an_anonymous_replay_never_carries_a_secret(app):
    event = await make_event()
    url = f"/api/v1/events/{event.id}/registrations"
    key = {"Idempotency-Key": "retry-1"}
    body = {"name": "张伟", "phone": "13800000001", "organization": "武汉光电"}
    async with _client_at(app, "198.51.100.7") as first_caller, _client_at(app, "198.51.100.7") as someone:
        first = await first_caller.post(url, json=body, headers=key)
        replay = await someone.post(url, json=body, headers=key)
    assert first.status_code == replay.status_code == 201
    assert first.json()["access_token"].startswith("reg_") and first.json()["ticket"]
    # The same answer (one registration, its id and status) without its bearer secrets.
    assert replay.headers["idempotent-replayed"] == "true"
    replayed = replay.json()
    assert replayed["access_token"] is None and replayed["ticket"] is None
    assert {k: v for k, v in replayed.items() if k not in ("access_token", "ticket")} == {
        k: v for k, v in first.json().items() if k not in ("access_token", "ticket")
    }
    assert first.json()["access_token"] not in replay.text
    assert await Registration.filter(event_id=event.id).count() == 1


async def test_a_token_holder_still_gets_its_whole_answer_again(app):
    admin = bearer(await make_token(role="admin"))
    async with _client_at(app, "198.51.100.7") as http:
        headers = admin | {"Idempotency-Key": "mint-1"}
        first = await http.post("/api/v1/tokens", json={"role": "judge", "name": "评委"}, headers=headers)
        replay = await http.post("/api/v1/tokens", json={"role": "judge", "name": "评委"}, headers=headers)
        other_admin = bearer(await make_token(role="admin"))
        stranger = await http.post(
            "/api/v1/tokens",
            json={"role": "judge", "name": "评委"},
            headers=other_admin | {"Idempotency-Key": "mint-1"},
        )
    assert replay.json() == first.json() and replay.json()["token"].startswith("wch_")
    assert stranger.status_code == 201 and stranger.json()["token"] != first.json()["token"]


# --- client addresses -----------------------------------------------------------------------------


@pytest.fixture
async def limited(db: Settings) -> Any:
    def build(**extra: Any) -> Any:
        settings = db.model_copy(update={"public_rate_limit": "2/minute", **extra})
        return create_app(settings, manage_db=False)

    return build


_visitor = count(1)


async def _registrations(http: httpx.AsyncClient, url: str, forwarded_for: list[str | None]) -> list[int]:
    statuses = []
    for address in forwarded_for:
        n = next(_visitor)
        headers = {"X-Forwarded-For": address} if address else {}
        body = {"name": f"访客{n}", "phone": f"1380000{n:04d}"}
        statuses.append((await http.post(url, json=body, headers=headers)).status_code)
    return statuses


async def test_a_spoofed_forwarded_for_does_not_dodge_the_rate_limit(limited):
    event = await make_event()
    url = f"/api/v1/events/{event.id}/registrations"
    async with _client_at(limited(), "203.0.113.5") as http:
        assert await _registrations(http, url, ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"]) == [201, 201, 429, 429]


async def test_forwarded_for_is_honoured_from_a_configured_proxy_only(limited):
    event = await make_event()
    url = f"/api/v1/events/{event.id}/registrations"
    app = limited(forwarded_allow_ips=("10.0.0.0/8",))
    async with _client_at(app, "10.1.2.3") as proxy:
        # Each client behind the proxy has its own allowance …
        assert await _registrations(proxy, url, ["198.51.100.1", "198.51.100.2", "198.51.100.3"]) == [201] * 3
        # … and one client is limited, whatever it prepends (the proxy appends the real address).
        spoofed = ["9.9.9.9, 198.51.100.4", "8.8.8.8, 198.51.100.4", "7.7.7.7, 198.51.100.4"]
        assert await _registrations(proxy, url, spoofed) == [201, 201, 429]
    async with _client_at(app, "203.0.113.9") as direct:  # not the proxy: its header is ignored
        assert await _registrations(direct, url, ["198.51.100.8", "198.51.100.9", "198.51.100.10"]) == [201, 201, 429]


def test_the_proxy_setting_takes_addresses_and_networks_only(monkeypatch):
    assert load_settings().forwarded_allow_ips == ()
    monkeypatch.setenv("WUCHUANG_FORWARDED_ALLOW_IPS", "10.0.0.1, 172.16.0.0/12 ,::1")
    assert load_settings().forwarded_allow_ips == ("10.0.0.1/32", "172.16.0.0/12", "::1/128")
    for bad in ("*", "proxy.internal", "10.0.0.0/33"):
        monkeypatch.setenv("WUCHUANG_FORWARDED_ALLOW_IPS", bad)
        with pytest.raises(SettingsError, match="WUCHUANG_FORWARDED_ALLOW_IPS"):
            load_settings()


def test_serve_turns_uvicorns_own_proxy_handling_off(monkeypatch, tmp_path):
    import uvicorn

    from wuchuang import cli

    seen: dict[str, Any] = {}

    def run(server: uvicorn.Server, sockets: list[socket.socket] | None = None) -> None:
        seen.update(vars(server.config))
        for sock in sockets or []:  # the port serve bound before it did anything else
            sock.close()

    monkeypatch.setattr(uvicorn.Server, "run", run)
    monkeypatch.setattr(cli, "_migrate", lambda settings: None)
    monkeypatch.setenv("WUCHUANG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WUCHUANG_PORT", str(free_port()))
    monkeypatch.setenv("WUCHUANG_FORWARDED_ALLOW_IPS", "10.0.0.1")
    monkeypatch.setenv("WUCHUANG_NOTIFICATIONS", "false")
    assert cli.main(["serve"]) == 0
    assert seen["proxy_headers"] is False and seen["forwarded_allow_ips"] == ["10.0.0.1/32"]
    assert json.dumps(seen["forwarded_allow_ips"])


def test_serve_logs_a_line_per_request_unless_told_not_to(monkeypatch, tmp_path):
    import uvicorn

    from wuchuang import cli

    seen: list[bool] = []

    def run(server: uvicorn.Server, sockets: list[socket.socket] | None = None) -> None:
        seen.append(server.config.access_log)
        for sock in sockets or []:
            sock.close()

    monkeypatch.setattr(uvicorn.Server, "run", run)
    monkeypatch.setattr(cli, "_migrate", lambda settings: None)
    monkeypatch.setenv("WUCHUANG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WUCHUANG_NOTIFICATIONS", "false")
    for setting in (None, "false"):
        if setting is not None:
            monkeypatch.setenv("WUCHUANG_ACCESS_LOG", setting)
        monkeypatch.setenv("WUCHUANG_PORT", str(free_port()))
        assert cli.main(["serve"]) == 0
    assert seen == [True, False]
