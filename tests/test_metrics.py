"""/metrics, /ready and request ids: the counters move when the fact happens, labels stay templates,
the metrics are not for strangers, readiness names what is wrong, every log line of a request
carries its id."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import time
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from api.logs import JsonFormatter, RequestIdFilter
from events.db import conn
from events.models import OutboxMessage, Person
from events.schema_version import script_heads
from events.services import tickets
from events.settings import Settings
from notifications.channels import ConsoleChannel
from notifications.dispatcher import Dispatcher
from tests.factories import bearer, make_event, make_registration, make_token


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Moved:
    """The change of some samples across a block: ``with Moved(...) as moved: …; moved[key]``."""

    def __init__(self, **samples: tuple[str, dict[str, str]]) -> None:
        self.samples = samples
        self.before: dict[str, float] = {}
        self.delta: dict[str, float] = {}

    def __enter__(self) -> Moved:
        self.before = {key: sample(name, **labels) for key, (name, labels) in self.samples.items()}
        return self

    def __exit__(self, *exc: Any) -> None:
        self.delta = {key: sample(name, **labels) - self.before[key] for key, (name, labels) in self.samples.items()}

    def __getitem__(self, key: str) -> float:
        return self.delta[key]


def app_client(settings: Settings, *, client: tuple[str, int] = ("127.0.0.1", 50000), **state: Any) -> Any:
    app = create_app(settings, manage_db=False)
    for key, value in state.items():
        setattr(app.state, key, value)
    transport = httpx.ASGITransport(app=app, client=client)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


# --- the facts ------------------------------------------------------------------------------------------


async def test_registrations_are_counted_by_outcome_once_each(client, db):
    event = await make_event(capacity=1)
    body = {"name": "王芳", "phone": "13900000001"}
    outcomes = {k: ("wuchuang_registrations_total", {"outcome": k}) for k in ("confirmed", "waitlisted", "refused")}
    lock = ("wuchuang_event_lock_wait_seconds_count", {})
    with Moved(**outcomes, lock=lock) as moved:
        assert (await client.post(f"/api/v1/events/{event.id}/registrations", json=body)).status_code == 201
        second = {"name": "李雷", "phone": "13900000002"}
        assert (await client.post(f"/api/v1/events/{event.id}/registrations", json=second)).json()["status"] == (
            "waitlisted"
        )
        again = await client.post(f"/api/v1/events/{event.id}/registrations", json=body)
        assert again.json()["error"]["code"] == "already_registered"
    assert (moved["confirmed"], moved["waitlisted"], moved["refused"]) == (1, 1, 1)
    assert moved["lock"] == 3  # each took the event's lock once

    approval = await make_event(capacity=5, requires_approval=True)
    with Moved(pending=("wuchuang_registrations_total", {"outcome": "pending"})) as moved:
        await make_registration(approval)
    assert moved["pending"] == 1


async def test_checkins_are_counted_by_result_and_a_replay_is_not_counted_again(client, db, frozen_clock):
    event = await make_event(starts_in=timedelta(minutes=30), capacity=2)
    registered = await make_registration(event)
    code = tickets.ticket_code(registered.registration, tickets.signer_for(db.data_dir.resolve()))
    token = await make_token(role="checker")
    results = {k: ("wuchuang_checkins_total", {"result": k}) for k in ("ok", "already_checked_in", "invalid")}

    async def scan(code: str, scan_id: str) -> str:
        answer = await client.post(
            "/api/v1/checkins", json={"code": code, "event_id": event.id, "scan_id": scan_id}, headers=bearer(token)
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["result"])

    with Moved(**results) as moved:
        assert await scan(code, "s1") == "ok"
        assert await scan(code, "s1") == "ok"  # the scanner's offline queue replays it
        assert await scan(code, "s2") == "already_checked_in"
        assert await scan("WC1.forged", "s3") == "invalid"
    assert (moved["ok"], moved["already_checked_in"], moved["invalid"]) == (1, 1, 1)


async def test_outbox_sends_are_counted_by_channel_and_outcome(db):
    person = await Person.create(name="收件人", telegram_id=None, quiet_start="00:00", quiet_end="00:00")
    from events import clock

    for n in range(2):
        await OutboxMessage.create(
            person=person, category="reminder", dedup_key=f"m:{n}", locale="zh", text="提醒", not_before=clock.now()
        )
    sent = ("wuchuang_outbox_sends_total", {"channel": "console", "outcome": "ok"})
    with Moved(sent=sent) as moved:
        done = await Dispatcher(ConsoleChannel(), idle_interval=0.01, per_chat_interval=0).drain(timeout=20)
    assert done["sent"] == 2
    assert moved["sent"] == 2


# --- /metrics ---------------------------------------------------------------------------------------------


async def test_metrics_label_routes_by_template_and_show_the_outbox_depth(db):
    events = [await make_event() for _ in range(3)]
    person = await Person.create(name="排队者")
    from events import clock

    await OutboxMessage.create(
        person=person, category="reminder", dedup_key="q", locale="zh", text="x", not_before=clock.now()
    )
    async with app_client(db) as http:
        for event in events:
            assert (await http.get(f"/api/v1/events/{event.id}")).status_code == 200
        await http.get("/no/such/page/12345")
        scraped = await http.get("/metrics")
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    text = scraped.text
    samples = [
        sample
        for family in text_string_to_metric_families(text)
        if family.name == "wuchuang_http_request_duration_seconds"
        for sample in family.samples
        if sample.name.endswith("_count")
    ]
    routes = {sample.labels["route"] for sample in samples}
    assert "/api/v1/events/{event_id}" in routes
    assert "<unmatched>" in routes
    assert not [route for route in routes if re.search(r"/\d+(/|$)", route)]  # no id became a label
    count = {(s.labels["route"], s.labels["method"], s.labels["status"]): s.value for s in samples}
    assert count[("/api/v1/events/{event_id}", "GET", "2xx")] >= 3
    assert 'wuchuang_outbox_messages{status="queued"} 1.0' in text
    assert 'wuchuang_outbox_messages{status="sent"} 0.0' in text
    assert "process_resident_memory_bytes" in text  # the default process collector


async def test_metrics_are_refused_to_a_stranger_without_the_token(db):
    async with app_client(db, client=("203.0.113.9", 40000)) as stranger:
        refused = await stranger.get("/metrics")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "metrics_forbidden"

    token = "m" * 32
    guarded = db.model_copy(update={"metrics_token": __import__("pydantic").SecretStr(token)})
    async with app_client(guarded, client=("203.0.113.9", 40000)) as stranger:
        assert (await stranger.get("/metrics")).status_code == 401
        assert (await stranger.get("/metrics", headers=bearer("x" * 32))).status_code == 401
        assert (await stranger.get("/metrics", headers=bearer(token))).status_code == 200
    async with app_client(guarded) as local:  # with a token set, loopback needs it too
        assert (await local.get("/metrics")).status_code == 401


# --- /ready ----------------------------------------------------------------------------------------------


async def _stamp(revision: str | None) -> None:
    """alembic_version as `alembic stamp` leaves it (the test schema is generated, not migrated)."""
    await conn().execute_script("DROP TABLE IF EXISTS alembic_version")
    if revision is not None:
        await conn().execute_script(
            "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY);"
            f"INSERT INTO alembic_version (version_num) VALUES ('{revision}')"
        )


async def test_ready_when_migrated_to_head_and_503_naming_what_is_behind(db):
    (head,) = script_heads()
    try:
        await _stamp(head)
        async with app_client(db) as http:
            ready = await http.get("/ready")
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"] == {"database": "ok", "migrations": "ok", "outbox_sender": "not_here"}
            assert (await http.get("/health")).json() == {"status": "ok", "database": "ok"}

        await _stamp("r0ad0002bot")  # the revision before the head: one migration behind
        async with app_client(db) as http:
            behind = await http.get("/ready")
        assert behind.status_code == 503
        body = behind.json()
        assert body["status"] == "not_ready" and body["failed"] == ["migrations"]
        assert body["database_revision"] == ["r0ad0002bot"] and body["code_revision"] == [head]

        await _stamp(None)  # never migrated
        async with app_client(db) as http:
            assert (await http.get("/ready")).json()["checks"]["migrations"] == "behind"
    finally:
        await _stamp(None)


async def test_ready_is_503_when_this_process_s_sender_has_stopped(db):
    (head,) = script_heads()

    async def crashed() -> None:
        raise RuntimeError("boom")

    sender = asyncio.ensure_future(crashed())
    await asyncio.sleep(0)
    try:
        await _stamp(head)
        async with app_client(db, outbox_sender=sender) as http:
            answer = await http.get("/ready")
        assert answer.status_code == 503
        assert answer.json()["failed"] == ["outbox_sender"]
        assert answer.json()["checks"]["outbox_sender"] == "stopped"
    finally:
        await _stamp(None)
        with pytest.raises(RuntimeError):
            await sender


def test_the_parsed_head_is_alembic_s_head():
    from alembic.script import ScriptDirectory

    from wuchuang.migrate import alembic_config

    config = alembic_config("sqlite:////tmp/unused.db", model_metadata=False)
    assert script_heads() == frozenset(ScriptDirectory.from_config(config).get_heads())


# --- request ids and logs ---------------------------------------------------------------------------------


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict[str, Any]] = []
        self.addFilter(RequestIdFilter())
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


async def test_request_ids_are_echoed_made_and_in_every_log_line_of_the_request(db):
    app = create_app(db, manage_db=False)
    probe = logging.getLogger("wuchuang.test.probe")

    @app.get("/_probe")
    async def _probe() -> dict[str, str]:
        probe.warning("inside the request", extra={"gate": "东门"})
        await asyncio.sleep(0)
        probe.warning("still inside")
        return {"ok": "yes"}

    handler = Lines()
    probe.addHandler(handler)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            given = await http.get("/_probe", headers={"X-Request-ID": "scanner-7:abc.123"})
            made = await http.get("/_probe")
            unsafe = await http.get("/_probe", headers={"X-Request-ID": "two words<script>" + "x" * 200})
            error = await http.get("/api/v1/events/999999", headers={"X-Request-ID": "lost-event"})
        probe.warning("outside any request")
    finally:
        probe.removeHandler(handler)

    assert given.headers["x-request-id"] == "scanner-7:abc.123"
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    assert re.fullmatch(r"[0-9a-f]{32}", unsafe.headers["x-request-id"])  # not echoed: replaced
    assert error.status_code == 404 and error.headers["x-request-id"] == "lost-event"
    ids = [line["request_id"] for line in handler.lines]
    assert ids == [
        "scanner-7:abc.123",
        "scanner-7:abc.123",
        made.headers["x-request-id"],
        made.headers["x-request-id"],
        unsafe.headers["x-request-id"],
        unsafe.headers["x-request-id"],
        None,
    ]
    first = handler.lines[0]
    assert first["message"] == "inside the request" and first["gate"] == "东门" and first["level"] == "warning"


@pytest.mark.slow
def test_serve_with_json_logs_writes_the_request_id_in_the_access_line(env, tmp_path):
    import subprocess
    import sys
    import time

    from tests.browser.helpers import free_port
    from tests.cli_helpers import ROOT

    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "wuchuang.cli", "serve", "--port", str(port)],
            env=env | {"WUCHUANG_LOG_FORMAT": "json"},
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/health", headers={"X-Request-ID": "probe-42"}, timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail(log.read_text())
                time.sleep(0.2)
        assert answer.headers["x-request-id"] == "probe-42"
        ready = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=5)
        assert ready.status_code == 200, ready.text  # migrated at start, sender running
        assert ready.json()["checks"]["outbox_sender"] == "ok"
    finally:
        server.terminate()
        server.wait(timeout=60)
    records = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    access = [r for r in records if r["logger"] == "uvicorn.access" and "/health" in r["message"]]
    assert access and access[0]["request_id"] == "probe-42"
    # Stopped by SIGTERM, it drained and shut down (uvicorn then re-raises the signal: exit -15).
    assert any(r["message"] == "Application shutdown complete." for r in records), records[-3:]
    assert all(r["request_id"] is None for r in records if r["logger"] != "uvicorn.access")


@pytest.mark.parametrize("store", ["memory", "redis"])
async def test_rate_limited_requests_are_counted_in_memory_and_in_redis(store):
    from starlette.requests import Request

    from api.ratelimit import PublicRateLimit
    from events.errors import RateLimited

    redis_url = None
    if store == "redis":
        redis_url = os.environ.get("WUCHUANG_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
        import redis

        try:
            redis.Redis.from_url(redis_url, socket_connect_timeout=1).ping()
        except redis.RedisError:
            pytest.skip(f"no Redis at {redis_url}")
    limit = PublicRateLimit("1/minute", redis_url)
    address = f"198.51.100.{uuid.uuid4().int % 250}"
    request = Request({"type": "http", "client": (address, 1), "headers": [], "method": "POST", "path": "/"})
    scope = f"test-{uuid.uuid4().hex}"  # a fresh window, whatever an earlier run left in Redis
    with Moved(limited=("wuchuang_rate_limited_total", {"limit": scope})) as moved:
        await limit.check(request, scope)
        with pytest.raises(RateLimited):
            await limit.check(request, scope)
    assert moved["limited"] == 1


async def test_a_stop_of_the_event_loop_is_measured_and_told(caplog):
    from events import loop_lag

    lag = "wuchuang_event_loop_lag_seconds"
    watcher = asyncio.create_task(loop_lag.watch(interval=0.01))
    with Moved(all=(f"{lag}_count", {}), short=(f"{lag}_bucket", {"le": "0.25"})) as moved:
        await asyncio.sleep(0.05)  # on time: the loop is free
        with caplog.at_level(logging.WARNING, logger="events.loop_lag"):
            time.sleep(0.6)  # noqa: ASYNC251 — the point: work holding the loop; the timer due meanwhile runs >= 0.59 s late
            await asyncio.sleep(0.05)
    watcher.cancel()
    assert moved["all"] >= 2
    assert moved["all"] - moved["short"] >= 1  # the stop, counted past 250 ms
    assert moved["short"] >= 1  # and the timers on time
    assert any("ran" in r.getMessage() and "late" in r.getMessage() for r in caplog.records)
