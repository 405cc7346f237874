"""Several worker processes against one PostgreSQL and one Redis stay one system (issue #18 item 2).

Two real `wuchuang serve` processes — what `serve --workers 2` runs, each on a port of its own so a
test can choose which one a request reaches — share a PostgreSQL database and a Redis database.
Through them: a registration race spread over both overbooks nothing; a broadcast is sent once
(whichever process holds the sender's lock); a calendar feed changed through one is new at once
through the other; the anonymous rate limit counts both together; exactly one scheduler runs, and
another takes over when its process is killed. A last test starts `serve --workers 2` itself.

Needs WUCHUANG_TEST_POSTGRES_URL and a Redis (WUCHUANG_TEST_REDIS_URL, default 127.0.0.1:6379 db 12);
skipped cleanly without them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.browser.helpers import free_port
from tests.cli_helpers import ROOT, run

pytestmark = pytest.mark.slow

POSTGRES_URL = os.environ.get("WUCHUANG_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("WUCHUANG_TEST_REDIS_URL", "redis://127.0.0.1:6379/12")


def _redis_or_skip() -> None:
    if not POSTGRES_URL:
        pytest.skip("several workers need PostgreSQL: set WUCHUANG_TEST_POSTGRES_URL")
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        client.flushdb()  # this test's own Redis database: rate-limit windows of an earlier run go
        client.close()
    except redis.RedisError:
        pytest.skip(f"several workers need Redis: none at {REDIS_URL}")


@pytest.fixture
def database() -> Iterator[str]:
    """A PostgreSQL database of this test's own, dropped after."""
    _redis_or_skip()
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    assert POSTGRES_URL is not None
    base = make_url(POSTGRES_URL.replace("postgres://", "postgresql://", 1))
    name = f"wuchuang_workers_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(
        base.set(drivername="postgresql+psycopg", database="postgres"), poolclass=NullPool, isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False).replace("postgresql+psycopg", "postgresql")
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "wuchuang.cli", "serve", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} not healthy in {timeout} s:\n{log.read_text(errors='replace')}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(45)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


@pytest.fixture
def cluster(database: str, tmp_path: Path) -> Iterator[tuple[list[Server], str, dict[str, str]]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WUCHUANG_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    env |= {
        "WUCHUANG_DATABASE_URL": database,
        "WUCHUANG_DATA_DIR": str(tmp_path / "data"),  # the signing keys: one deployment, one data dir
        "WUCHUANG_PUBLIC_URL": "https://events.example.cn",  # as behind a proxy: links alike from either
        "WUCHUANG_REDIS_URL": REDIS_URL,
        "WUCHUANG_PUBLIC_RATE_LIMIT": "3/minute",
        "WUCHUANG_ENVIRONMENT": "development",  # the console channel reaches people without Telegram
        "WUCHUANG_SEND_RATE": "30",
        "PYTHONUNBUFFERED": "1",
    }
    migrated = run("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    token = run("token", "create", "--role", "admin", "--name", "workers-test", env=env)
    assert token.returncode == 0, token.stderr
    servers: list[Server] = []
    try:
        for name in ("a", "b"):
            port = free_port()
            log = tmp_path / f"{name}.log"
            servers.append(Server(f"http://127.0.0.1:{port}", _start(["--port", str(port)], env, log), log))
        for server in servers:
            _wait_healthy(server.url, server.process, server.log)
        yield servers, token.stdout.strip(), env
    finally:
        for server in servers:
            _stop(server.process)


def _psql(database: str, sql: str) -> list[tuple[object, ...]]:
    import psycopg

    with psycopg.connect(database, autocommit=True) as connection:
        cursor = connection.execute(sql)
        return cursor.fetchall() if cursor.description else []


async def _make_event(client: httpx.AsyncClient, url: str, token: str, *, capacity: int, title: str) -> int:
    # The servers are other processes on the real clock, not this suite's controlled one.
    start = datetime.now(UTC) + timedelta(days=10)
    headers = {"Authorization": f"Bearer {token}"}
    created = await client.post(
        f"{url}/api/v1/events",
        headers=headers,
        json={
            "title": title,
            "kind": "session",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=2)).isoformat(),
            "venue": "光谷科技会展中心",
            "capacity": capacity,
            "series": "wuchuanghui",
        },
    )
    assert created.status_code == 201, created.text
    event_id = int(created.json()["id"])
    published = await client.post(f"{url}/api/v1/events/{event_id}/publish", headers=headers)
    assert published.status_code == 200, published.text
    return event_id


def _leading(url: str) -> float:
    """This server's ``wuchuang_scheduler_leading`` (1 while it runs the scheduler)."""
    found = re.search(r"^wuchuang_scheduler_leading (\S+)$", httpx.get(url + "/metrics", timeout=15).text, re.M)
    assert found is not None
    return float(found.group(1))


def _leaders(servers: list[Server]) -> list[Server]:
    return [s for s in servers if s.process.poll() is None and _leading(s.url) == 1.0]


def _wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):  # a worker starting or busy: ask again
            if condition():  # type: ignore[operator]
                return
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout} s: {what}")


def test_two_workers_are_one_system(cluster: tuple[list[Server], str, dict[str, str]]):
    servers, token, env = cluster
    a, b = servers
    database = env["WUCHUANG_DATABASE_URL"]
    auth = {"Authorization": f"Bearer {token}"}

    async def scenario() -> None:
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:
            # 1. The race: 90 registrations for 30 seats, half through each worker, all at once.
            event_id = await _make_event(client, a.url, token, capacity=30, title="武创荟 · 多进程")

            async def register(i: int) -> httpx.Response:
                server = servers[i % 2]
                return await client.post(
                    f"{server.url}/api/v1/events/{event_id}/registrations",
                    headers=auth,
                    json={"name": f"报名者{i}", "telegram_id": 900_000 + i},
                )

            answers = await asyncio.gather(*(register(i) for i in range(90)))
            assert [r.status_code for r in answers] == [201] * 90, [r.text for r in answers if r.status_code != 201]
            statuses = Counter(r.json()["status"] for r in answers)
            assert statuses == {"confirmed": 30, "waitlisted": 60}
            positions = sorted(r.json()["waitlist_position"] for r in answers if r.json()["status"] == "waitlisted")
            assert positions == list(range(1, 61))
            for server in servers:
                event = (await client.get(f"{server.url}/api/v1/events/{event_id}", headers=auth)).json()
                assert (event["seats_taken"], event["waitlist_length"]) == (30, 60)

            # 2. The calendar: B's memo is fresh when the event changes through A; B shows it at once.
            feed = f"{b.url}/calendar/series/wuchuanghui.ics"
            before = await client.get(feed)
            assert before.status_code == 200 and "多进程" in before.text
            again = await client.get(feed, headers={"If-None-Match": before.headers["etag"]})
            assert again.status_code == 304
            changed = await client.patch(
                f"{a.url}/api/v1/events/{event_id}", headers=auth, json={"title": "武创荟 · 改过的标题"}
            )
            assert changed.status_code == 200, changed.text
            after = await client.get(feed, headers={"If-None-Match": before.headers["etag"]})
            assert after.status_code == 200, "B answered 304: it did not see A's change"
            assert after.headers["etag"] != before.headers["etag"]
            assert "改过的标题" in after.text
            through_a = await client.get(f"{a.url}/calendar/series/wuchuanghui.ics")
            assert through_a.headers["etag"] == after.headers["etag"]  # the same bytes, whoever renders them

            # 3. The anonymous limit (3/minute) counts both workers' requests together.
            open_event = await _make_event(client, a.url, token, capacity=100, title="限流")
            codes = []
            for i in range(4):
                answer = await client.post(
                    f"{servers[i % 2].url}/api/v1/events/{open_event}/registrations", json={"name": f"匿名{i}"}
                )
                codes.append(answer.status_code)
            assert codes == [201, 201, 201, 429]

            # 4. A broadcast to the 90 registrants: each message printed (sent) once, by whichever worker sends.
            # Quiet hours off, so the test passes at any hour.
            _psql(database, "UPDATE person SET quiet_start = '00:00', quiet_end = '00:00'")
            marker = f"broadcast-{uuid.uuid4().hex[:8]}"
            sent = await client.post(
                f"{b.url}/api/v1/events/{event_id}/broadcasts", headers=auth, json={"text": f"会场变更 {marker}"}
            )
            assert sent.status_code == 201, sent.text
            broadcast_id = sent.json()["id"]

        def all_sent() -> bool:
            rows = _psql(database, f"SELECT status FROM outbox_message WHERE broadcast_id = {broadcast_id}")
            return len(rows) == 90 and all(status == "sent" for (status,) in rows)

        try:
            await asyncio.to_thread(_wait_for, all_sent, 60, "the broadcast's 90 rows sent")
        except AssertionError:
            rows = _psql(
                database,
                "SELECT status, category, count(*), min(not_before), max(last_error) FROM outbox_message "
                "GROUP BY status, category",
            )
            raise AssertionError(f"{rows}\n{a.output()[-3000:]}\n{b.output()[-3000:]}") from None
        printed = Counter(
            int(block.group(1))
            for server in servers
            for block in re.finditer(r"^──── #(\d+) [^\n]*\n(.*?)(?=^──── |\Z)", server.output(), re.M | re.S)
            if marker in block.group(2)
        )
        ids = {int(i) for (i,) in _psql(database, f"SELECT id FROM outbox_message WHERE broadcast_id = {broadcast_id}")}
        assert set(printed) == ids and set(printed.values()) == {1}, printed
        assert sum(server.output().count(marker) for server in servers) == 90

    asyncio.run(scenario())

    # 5. One scheduler; when its process dies (kill -9: no goodbye), the other takes over.
    _wait_for(lambda: len(_leaders(servers)) >= 1, 20, "a scheduler elected")
    leaders = _leaders(servers)
    assert len(leaders) == 1, [s.url for s in leaders]
    leader = leaders[0]
    other = b if leader is a else a
    os.killpg(leader.process.pid, signal.SIGKILL)
    leader.process.wait(10)
    _wait_for(lambda: _leading(other.url) == 1.0, 30, "the standby takes over the scheduler")
    assert httpx.get(other.url + "/ready", timeout=5).status_code == 200


def _children(pid: int) -> list[str]:
    """The worker processes of `serve` ``pid`` (not multiprocessing's resource tracker beside them)."""
    workers = []
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                workers.append(child)
        except OSError:  # ended meanwhile
            continue
    return workers


def test_serve_workers_runs_several_processes_summed_in_metrics(database: str, tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WUCHUANG_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    env |= {
        "WUCHUANG_DATABASE_URL": database,
        "WUCHUANG_DATA_DIR": str(tmp_path / "data"),
        "WUCHUANG_REDIS_URL": REDIS_URL,
        "PYTHONUNBUFFERED": "1",
    }
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    process = _start(["--port", str(port), "--workers", "2"], env, log)
    try:
        _wait_healthy(url, process, log, timeout=90)
        children = _children(process.pid)
        # Both workers answer: each new connection goes to whichever accepts first; ask until both did.
        _wait_for(lambda: log.read_text().count("Application startup complete") >= 2, 60, "both workers started")
        assert len(children) == 2

        _wait_for(lambda: _leading(url) == 1.0, 30, "/metrics sums the workers' scheduler gauge to 1")
        for _ in range(20):
            assert httpx.get(url + "/health", timeout=5).status_code == 200
        body = httpx.get(url + "/metrics", timeout=15).text
        served = sum(
            float(m.group(1))
            for m in re.finditer(
                r'^wuchuang_http_request_duration_seconds_count\{[^}]*route="/health"[^}]*\} (\S+)$', body, re.M
            )
        )
        assert served >= 20  # every worker's requests, whichever worker answered the scrape
        for _ in range(10):  # whichever worker answers, the sum is the same: one scheduler
            assert _leading(url) == 1.0
        # Each original worker killed outright in turn (one of them leads): the supervisor starts another,
        # the scheduler is taken over, and the dead one's gauge no longer counts.
        for victim in children:
            os.kill(int(victim), signal.SIGKILL)
            _wait_for(lambda v=victim: v not in _children(process.pid), 60, "the killed worker gone")
            _wait_for(lambda: len(_children(process.pid)) == 2, 60, "two workers again")
            _wait_for(lambda: all(_leading(url) == 1.0 for _ in range(6)), 120, "one scheduler counted")
    finally:
        _stop(process)
    assert process.returncode == 0, log.read_text()
