"""How fast the iCalendar feed ``GET /calendar/events.ics`` is built and served.

For each database (SQLite in a fresh temporary folder; PostgreSQL too with ``--postgres URL`` or
WUCHUANG_BENCH_POSTGRES_URL, in a throwaway database created on that server and dropped after):

1. Building, in-process, for 60, 600 and 6,000 published events (bulk-inserted beforehand with
   ``Event.bulk_create``, untimed: 武创荟 sessions, roadshows, fairs, courses and contests with the
   demo programme's themes, hosts, venues, addresses, tags and descriptions). Medians of a few
   runs of

   * the query alone (the events ``public_feed`` loads),
   * ``FeedRenderer._render`` alone (pure rendering, the events already loaded: icalendar
     components, serialisation, SHA-256 ETag),
   * ``await FeedRenderer(...).public_feed(scope_all())`` on a fresh renderer each run, so its
     cache is cold: fingerprint query + query + render — what the first request after a change
     costs, and
   * the same on a warm renderer (cache hit): the fingerprint query alone,

   with the feed's size.
2. Serving, over a socket: uvicorn (one process, uvloop + httptools when installed) on 127.0.0.1
   and a free port, with the largest feed. At 10 and 50 concurrent clients, each with one
   keep-alive HTTP/1.1 connection of its own:

   a. a cached 304: the client sends ``If-None-Match`` with the ETag it got;
   b. a plain GET (200): the server reuses its cached body (the fingerprint query still runs) and
      sends the whole feed;

   each driven by two clients: ``raw`` (a minimal asyncio HTTP/1.1 client: one write, headers
   parsed by hand, the body counted and dropped, so the client costs little next to the server)
   and ``httpx`` (as the other benchmarks drive load). Then

   c. a truly cold build per request: an organizer ``PATCH``es one event's description (untimed),
      then one GET is timed: the fingerprint changed, so the server queries and renders anew; and
   d. a burst after a change: one PATCH, then 10 (50) clients GET at once. ``public_feed`` builds once
      per feed while others wait (single flight); the server CPU per burst over the CPU of one
      cold build estimates how many builds ran (the rest is sending the body to each client).

   Server CPU is the uvicorn process's user+system time, per request.

Every database runs in a subprocess of its own, so Tortoise's per-process state never spans two.

    python -m benchmarks.calendar [--quick] [--sizes 60,600,6000] [--levels 10,50] [--profile] [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

Exit status 1 when a request got an unexpected status or body size, or a run timed out; falling
short of a target is reported, not an error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import io
import json
import math
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import zoneinfo
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from tortoise.transactions import in_transaction

from api.app import create_app
from benchmarks._common import (
    add_postgres_argument,
    check_loopback_url,
    cpu_seconds,
    http_clients,
    machine_busy_percent,
    machine_cpu_jiffies,
    percentile,
    render_table,
    run_async,
    run_load,
    run_worker,
    targets_table,
    throwaway_postgres_database,
    uvicorn_server,
)
from benchmarks._wire import RawConnection, raw_connections
from benchmarks.registration import build_schema
from events import clock
from events.db import close_db, init_db
from events.models import Event, EventKind, EventStatus, Role
from events.services import organizations, tokens
from events.services.calendar import FeedRenderer, _visible, scope_all
from events.services.catalog import new_public_id
from events.settings import Settings, load_settings
from wuchuang import demo_data

SIZES = (60, 600, 6000)
QUICK_SIZES = (60, 600)
LEVELS = (10, 50)
QUICK_LEVELS = (10,)
BUILD_RUNS = 5  # in-process runs per figure (3 for the largest feed)
QUICK_BUILD_RUNS = 3
WARM_RUNS = 30
REQUESTS_304 = 5000
QUICK_REQUESTS_304 = 500
REQUESTS_200 = 300
QUICK_REQUESTS_200 = 30
COLD_ROUNDS = 5
QUICK_COLD_ROUNDS = 2
BURST_ROUNDS = 2
QUICK_BURST_ROUNDS = 1
TARGET_EVENTS = 6000
TARGET_BUILD_S = 1.0  # the feed of 6,000 events built in under a second (TARGETS.md)
TARGET_304_PER_S = 2000.0  # cached 304s per second (TARGETS.md)
TARGET_CLIENTS = 50
FEED_PATH = "/calendar/events.ics"
FLOOR_PATH = "/api/v1/districts"  # the same app and middleware, no database: the framework's own cost
SERVER_FACTORY = "benchmarks.calendar:server_app"
LOCAL = zoneinfo.ZoneInfo("Asia/Shanghai")
ACTOR = "benchmark"


def server_app() -> FastAPI:
    """The app uvicorn serves in socket mode, configured from WUCHUANG_* variables."""
    return create_app(load_settings())


# --- Events to put in the feed ---------------------------------------------------------------

_KIND_WEIGHTS = (
    (EventKind.SESSION, 60),
    (EventKind.ROADSHOW, 15),
    (EventKind.FAIR, 10),
    (EventKind.TRAINING, 10),
    (EventKind.COMPETITION, 5),
)
_SERIES = {
    EventKind.SESSION: "wuchuanghui",
    EventKind.ROADSHOW: "roadshow",
    EventKind.FAIR: "chanyi",
    EventKind.TRAINING: "broker",
    EventKind.COMPETITION: "wuchuangyuan",
}
_FORMATS = (
    *demo_data.SUPPLY_FORMATS,
    demo_data.LAB_FORMAT,
    demo_data.INSTITUTE_FORMAT,
    demo_data.DEMAND_FORMAT,
)


def _title(kind: EventKind, theme: demo_data.Theme, number: int, rng: random.Random) -> str:
    if kind == EventKind.SESSION:
        return f"武创荟·{theme.name}专场｜{rng.choice(_FORMATS)}（第{number}期）"
    if kind == EventKind.ROADSHOW:
        return f"光谷科创路演·{theme.name}早期项目专场（第{number}场）"
    if kind == EventKind.FAIR:
        return f"{theme.name}产学研供需对接会（第{number}场）"
    if kind == EventKind.TRAINING:
        return f"技术经理人实务培训·{theme.name}方向（第{number}期）"
    return f"武创源·{theme.name}赛道创新创业大赛（第{number}届分赛）"


def _description(theme: demo_data.Theme, host: str, district: str, rng: random.Random) -> str:
    org = demo_data.DISTRICT_ORGS.get(district, "武汉市科技创新局")
    if rng.random() < 0.3:
        first = (
            f"本期活动聚焦{theme.name}，由{org}组织区内重点企业集中发布{theme.topics}等方向的技术需求，"
            f"{host}专家团队现场揭榜。"
        )
    else:
        first = (
            f"本期活动聚焦{theme.name}，由{host}集中发布{theme.topics}等方向的{rng.randint(8, 20)}项科技成果，"
            f"{org}组织区内企业现场对接。"
        )
    sentences = [first, rng.choice(demo_data.SESSION_MIDDLES)]
    sentences += rng.sample(demo_data.SESSION_ENDINGS, rng.randint(0, 2))
    return "".join(sentences)


def fake_events(first: int, count: int, now: datetime, public_ids: set[str]) -> list[Event]:
    """``count`` published events numbered from ``first``: deterministic for the same numbers,
    spread from ten months ago to a year ahead, 09:30 or 14:30 Wuhan time."""
    rng = random.Random(first * 7919 + count)
    kinds = [kind for kind, _ in _KIND_WEIGHTS]
    weights = [weight for _, weight in _KIND_WEIGHTS]
    today = now.astimezone(LOCAL).date()
    events = []
    for number in range(first, first + count):
        theme = demo_data.THEMES[number % len(demo_data.THEMES)]
        venue = rng.choice(demo_data.VENUES)
        kind = rng.choices(kinds, weights)[0]
        host = rng.choice(theme.hosts)
        if rng.random() < 0.25:
            host = f"{host}、{rng.choice(demo_data.CO_HOSTS)}"
        day = today + timedelta(days=rng.randint(-300, 365))
        start = clock_time(9, 30) if rng.random() < 0.2 else clock_time(14, 30)
        starts_at = datetime.combine(day, start, tzinfo=LOCAL)
        public_id = new_public_id()
        while public_id in public_ids:
            public_id = new_public_id()
        public_ids.add(public_id)
        events.append(
            Event(
                public_id=public_id,
                title=_title(kind, theme, number // len(demo_data.THEMES) + 1, rng),
                kind=kind,
                series=_SERIES[kind],
                district=venue.district,
                tags=[theme.name, *rng.sample(theme.tags, min(2, len(theme.tags))), "成果转化"],
                host=host,
                venue=venue.name,
                address=venue.address,
                latitude=venue.latitude,
                longitude=venue.longitude,
                description=_description(theme, host, venue.district, rng),
                starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=2, minutes=30),
                capacity=rng.choice((80, 100, 120, 150, 200, 300)),
                status=EventStatus.PUBLISHED,
                published_at=now,
                sequence=rng.choice((0, 0, 0, 1, 2)),
                created_by=ACTOR,
            )
        )
    return events


async def add_events(first: int, count: int, public_ids: set[str]) -> float:
    """Insert ``count`` published events in batches; returns the seconds it took."""
    started = time.perf_counter()
    events = fake_events(first, count, clock.now(), public_ids)
    owner = await organizations.default_organization_id()  # events belong to an organization
    for event in events:
        event.organization_id = owner
    async with in_transaction() as conn:
        for i in range(0, len(events), 500):
            await Event.bulk_create(events[i : i + 500], using_db=conn)
    return time.perf_counter() - started


# --- Part 1: building the feed, in-process ---------------------------------------------------


async def _timed(action: Callable[[], Awaitable[Any]] | Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    """Wall seconds of ``runs`` calls of ``action`` (awaited when it returns an awaitable)."""
    times = []
    result: Any = None
    for _ in range(runs):
        gc.collect()  # start each run without the previous one's garbage (collections during it still count)
        started = time.perf_counter()
        result = action()
        if asyncio.iscoroutine(result):
            result = await result
        times.append(time.perf_counter() - started)
    return times, result


async def measure_build(settings: Settings, events_in_db: int, runs: int) -> dict[str, Any]:
    scope = scope_all()

    def renderer() -> FeedRenderer:
        return FeedRenderer(base_url=settings.base_url, timezone=settings.timezone)

    async def load() -> list[Event]:
        return await Event.filter(_visible(clock.now())).order_by("starts_at", "id")

    query_s, events = await _timed(load, runs)
    one = renderer()
    render_s, feed = await _timed(lambda: one._render(scope.name, events, {}, None), runs)
    cold_s, cold_feed = await _timed(lambda: renderer().public_feed(scope), runs)
    warm = renderer()
    await warm.public_feed(scope)
    warm_s, warm_feed = await _timed(lambda: warm.public_feed(scope), WARM_RUNS)
    problems = []
    if len(events) != events_in_db:
        problems.append(f"feed holds {len(events)} of {events_in_db} events")
    if cold_feed.etag != feed.etag or warm_feed.etag != feed.etag:
        problems.append("the ETag differs between builds of the same data")
    return {
        "events": len(events),
        "body_bytes": len(feed.body),
        "vevents": feed.body.count(b"BEGIN:VEVENT"),
        "query_ms": statistics.median(query_s) * 1000,
        "render_ms": statistics.median(render_s) * 1000,
        "cold_ms": statistics.median(cold_s) * 1000,
        "cold_max_ms": max(cold_s) * 1000,
        "warm_ms": statistics.median(warm_s) * 1000,
        "runs": runs,
        "problems": problems,
    }


def profile_render(settings: Settings, events: list[Event]) -> str:
    """Where one render's time goes: pyinstrument when installed, else cProfile's top functions."""
    renderer = FeedRenderer(base_url=settings.base_url, timezone=settings.timezone)

    def render() -> None:
        renderer._render(scope_all().name, events, {}, None)

    try:
        from pyinstrument import Profiler  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        Profiler = None
    if Profiler is not None:
        profiler = Profiler(interval=0.0005)
        profiler.start()
        render()
        profiler.stop()
        return str(profiler.output_text(unicode=True, color=False, show_all=False))
    import cProfile
    import pstats

    profile = cProfile.Profile()
    profile.runcall(render)
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(25)
    return out.getvalue()


# --- Part 2: serving the feed over a socket --------------------------------------------------


class SocketRunner:
    """Drives the uvicorn server; figures per request, server CPU read around each run."""

    def __init__(self, backend: str, server_pid: int, base_url: str, feed_bytes: int, run_timeout_s: float) -> None:
        self.backend = backend
        self.server_pid = server_pid
        self.base_url = base_url
        self.feed_bytes = feed_bytes
        self.run_timeout_s = run_timeout_s
        self.etag = ""

    async def load(
        self,
        scenario: str,
        client_kind: str,
        send: Callable[[int, int], Awaitable[int]],
        *,
        clients: int,
        requests: int,
        expected: int,
        wrong_sizes: list[int],
    ) -> dict[str, Any]:
        server_cpu = cpu_seconds(self.server_pid)
        own_cpu = cpu_seconds()
        machine = machine_cpu_jiffies()
        result = await run_load(send, requests=requests, concurrency=clients, timeout_s=self.run_timeout_s)
        own_cpu = cpu_seconds() - own_cpu
        busy = machine_busy_percent(machine, machine_cpu_jiffies())
        server_cpu = cpu_seconds(self.server_pid) - server_cpu
        per_request = max(result.finished, 1)
        run = {
            "backend": self.backend,
            "scenario": scenario,
            "client": client_kind,
            "clients": clients,
            "requests": requests,
            "finished": result.finished,
            "throughput": result.throughput,
            "p50_ms": result.latency_ms(50),
            "p99_ms": result.latency_ms(99),
            "unexpected": result.not_status(expected),
            "wrong_size": len(wrong_sizes),
            "statuses": dict(result.statuses),
            "timed_out": result.timed_out,
            "server_cpu_ms": server_cpu * 1000 / per_request,
            "bench_cpu_ms": own_cpu * 1000 / per_request,
            "machine_busy_pct": busy,
            "mb_per_s": result.throughput * self.feed_bytes / 1e6 if scenario.startswith("200") else 0.0,
        }
        print(
            f"  {self.backend:<8} {scenario:<12} {client_kind:<5} {clients:>3} clients: "
            f"{run['throughput']:8.1f} req/s, p50 {run['p50_ms']:.1f} ms, p99 {run['p99_ms']:.1f} ms, "
            f"server CPU {run['server_cpu_ms']:.2f} ms/req",
            file=sys.stderr,
            flush=True,
        )
        return run

    async def level(self, clients: int, client_kind: str, requests_304: int, requests_200: int) -> list[dict[str, Any]]:
        """(a) and (b) at ``clients`` concurrent clients, each on a keep-alive connection of its own."""
        wrong_sizes: list[int] = []
        async with contextlib.AsyncExitStack() as stack:
            if client_kind == "raw":
                raw = await stack.enter_async_context(raw_connections(self.base_url, clients))
                conditional = raw[0].request_bytes("GET", FEED_PATH, {"If-None-Match": self.etag})
                plain = raw[0].request_bytes("GET", FEED_PATH)
                floor = raw[0].request_bytes("GET", FLOOR_PATH)

                async def send_304(number: int, _: int) -> int:
                    return (await raw[number].send(conditional))[0]

                async def send_floor(number: int, _: int) -> int:
                    return (await raw[number].send(floor))[0]

                async def send_200(number: int, _: int) -> int:
                    status, _headers, length = await raw[number].send(plain)
                    if status == 200 and length != self.feed_bytes:
                        wrong_sizes.append(length)
                    return status

            else:
                pool = await stack.enter_async_context(
                    http_clients(base_url=self.base_url, concurrency=clients, timeout_s=60)
                )

                async def send_304(number: int, _: int) -> int:
                    return (await pool[number].get(FEED_PATH, headers={"If-None-Match": self.etag})).status_code

                async def send_200(number: int, _: int) -> int:
                    response = await pool[number].get(FEED_PATH)
                    if response.status_code == 200 and len(response.content) != self.feed_bytes:
                        wrong_sizes.append(len(response.content))
                    return response.status_code

            # Open the connections (and warm the path) before the clock starts.
            await run_load(send_304, requests=clients * 5, concurrency=clients, timeout_s=30)
            runs = []
            if client_kind == "raw":
                # What the framework alone allows: same stack, no database, a small JSON body.
                runs.append(
                    await self.load(
                        "floor",
                        client_kind,
                        send_floor,
                        clients=clients,
                        requests=requests_304,
                        expected=200,
                        wrong_sizes=[],
                    )
                )
            return runs + [
                await self.load(
                    "304 cached",
                    client_kind,
                    send_304,
                    clients=clients,
                    requests=requests_304,
                    expected=304,
                    wrong_sizes=[],
                ),
                await self.load(
                    "200 body",
                    client_kind,
                    send_200,
                    clients=clients,
                    requests=requests_200,
                    expected=200,
                    wrong_sizes=wrong_sizes,
                ),
            ]


class Toucher:
    """Changes one event's description through the API, so the next GET builds the feed anew."""

    def __init__(self, base_url: str, token: str, event_id: int) -> None:
        self.client = httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30, trust_env=False
        )
        self.event_id = event_id
        self.count = 0

    async def touch(self) -> None:
        self.count += 1
        response = await self.client.patch(
            f"/api/v1/events/{self.event_id}",
            json={"description": f"本期活动内容更新（压测第{self.count}次修改）：议程调整，欢迎报名参加。"},
        )
        if response.status_code != 200:
            raise RuntimeError(f"PATCH answered {response.status_code}: {response.text[:200]}")
        # The fingerprint compares updated_at; make sure the next change is a later instant.
        await asyncio.sleep(0.002)

    async def aclose(self) -> None:
        await self.client.aclose()


async def _timed_send(connection: RawConnection, request: bytes) -> tuple[float, int, str]:
    """(seconds, status, ETag) of one request."""
    started = time.perf_counter()
    status, headers, _length = await connection.send(request)
    return time.perf_counter() - started, status, headers.get("etag", "")


async def cold_requests(
    runner: SocketRunner, toucher: Toucher, rounds: int, burst_rounds: int, levels: Sequence[int]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(c) PATCH then one timed GET, ``rounds`` times; (d) PATCH then ``clients`` GETs at once."""
    async with raw_connections(runner.base_url, max(levels)) as pool:
        plain = pool[0].request_bytes("GET", FEED_PATH)
        latencies, cpus, problems = [], [], []
        for _ in range(rounds):
            await toucher.touch()
            cpu = cpu_seconds(runner.server_pid)
            started = time.perf_counter()
            status, headers, _length = await asyncio.wait_for(pool[0].send(plain), runner.run_timeout_s)
            latencies.append(time.perf_counter() - started)
            cpus.append(cpu_seconds(runner.server_pid) - cpu)
            # The description changed, so the body must be a new one: a new ETag.
            if status != 200 or headers.get("etag", runner.etag) == runner.etag:
                problems.append(f"status {status}, ETag {'unchanged' if status == 200 else headers.get('etag')}")
            runner.etag = headers.get("etag", runner.etag)
        cold = {
            "backend": runner.backend,
            "rounds": rounds,
            "p50_ms": statistics.median(latencies) * 1000,
            "max_ms": max(latencies) * 1000,
            "min_ms": min(latencies) * 1000,
            "server_cpu_ms": statistics.median(cpus) * 1000,
            "problems": problems,
        }
        print(
            f"  {runner.backend:<8} cold build per GET: p50 {cold['p50_ms']:.0f} ms, max {cold['max_ms']:.0f} ms, "
            f"server CPU {cold['server_cpu_ms']:.0f} ms",
            file=sys.stderr,
            flush=True,
        )
        bursts: list[dict[str, Any]] = []
        for clients in levels:
            if bursts and bursts[-1]["timed_out"]:
                break  # the server is still busy with the last burst
            walls, burst_cpus, latencies, timed_out = [], [], [], False
            outcomes: Counter[str] = Counter()
            for _ in range(burst_rounds):
                await toucher.touch()
                cpu = cpu_seconds(runner.server_pid)
                started = time.perf_counter()
                tasks = [asyncio.ensure_future(_timed_send(pool[number], plain)) for number in range(clients)]
                done, pending = await asyncio.wait(tasks, timeout=runner.run_timeout_s)
                walls.append(time.perf_counter() - started)
                burst_cpus.append(cpu_seconds(runner.server_pid) - cpu)
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                answers = [task.result() for task in done if task.exception() is None]
                outcomes.update(type(task.exception()).__name__ for task in done if task.exception() is not None)
                outcomes["unanswered"] += len(pending)
                latencies += [latency for latency, _, _ in answers]
                # Every answer a 200 with a new ETag, the same for all (however many builds ran).
                etags = Counter(etag for _, status, etag in answers if status == 200)
                new_etag = etags.most_common(1)[0][0] if etags else runner.etag
                for _, status, etag in answers:
                    if status != 200:
                        outcomes[str(status)] += 1
                    elif etag == runner.etag:
                        outcomes["200 with the old ETag"] += 1
                    elif etag != new_etag:
                        outcomes["200 with another new ETag"] += 1
                    else:
                        outcomes["ok"] += 1
                runner.etag = new_etag
                if pending:
                    timed_out = True
                    break
            burst_cpu = statistics.median(burst_cpus)
            bursts.append(
                {
                    "backend": runner.backend,
                    "clients": clients,
                    "rounds": len(walls),
                    "wall_ms": statistics.median(walls) * 1000,
                    "p50_ms": percentile(latencies, 50) * 1000,
                    "max_ms": max(latencies, default=math.nan) * 1000,
                    "server_cpu_ms": burst_cpu * 1000,
                    "builds": burst_cpu / cold["server_cpu_ms"] * 1000 if cold["server_cpu_ms"] else None,
                    "bad": sum(count for outcome, count in outcomes.items() if outcome != "ok"),
                    "outcomes": dict(outcomes),
                    "timed_out": timed_out,
                }
            )
            print(
                f"  {runner.backend:<8} burst of {clients} after a change: "
                + ("TIMED OUT after" if timed_out else "all answered in")
                + f" {bursts[-1]['wall_ms']:.0f} ms, server CPU {bursts[-1]['server_cpu_ms']:.0f} ms",
                file=sys.stderr,
                flush=True,
            )
    return cold, bursts


async def measure_socket(settings: Settings, backend: str, args: argparse.Namespace, log_path: Path) -> dict[str, Any]:
    levels = [int(level) for level in args.levels.split(",")]
    token = (await tokens.create_token(role=Role.ORGANIZER, name="calendar benchmark")).plaintext
    touched = await Event.filter(_visible(clock.now())).order_by("id").first()
    assert touched is not None
    env = {
        "WUCHUANG_DATA_DIR": str(settings.data_dir),
        "WUCHUANG_PUBLIC_RATE_LIMIT": "0",
        "WUCHUANG_DATABASE_URL": settings.database_url or "",
    }
    async with uvicorn_server(SERVER_FACTORY, env=env, log_path=log_path) as server:
        # The first request builds the feed; it is the server's cold start for this data.
        async with raw_connections(server.base_url, 1) as (connection,):
            cpu = cpu_seconds(server.pid)
            started = time.perf_counter()
            status, headers, length = await asyncio.wait_for(
                connection.send(connection.request_bytes("GET", FEED_PATH)), args.run_timeout
            )
            first = {
                "ms": (time.perf_counter() - started) * 1000,
                "server_cpu_ms": (cpu_seconds(server.pid) - cpu) * 1000,
                "status": status,
                "bytes": length,
            }
        if status != 200:
            raise RuntimeError(f"first GET {FEED_PATH} answered {status}")
        runner = SocketRunner(backend, server.pid, server.base_url, length, args.run_timeout)
        runner.etag = headers["etag"]
        runs = []
        for clients in levels:
            for client_kind in ("raw", "httpx"):
                runs += await runner.level(clients, client_kind, args.requests_304, args.requests_200)
        toucher = Toucher(server.base_url, token, touched.id)
        try:
            cold, bursts = await cold_requests(runner, toucher, args.cold_rounds, args.burst_rounds, levels)
        finally:
            await toucher.aclose()
    return {"first": first, "runs": runs, "cold": cold, "bursts": bursts, "feed_bytes": length}


def worker(args: argparse.Namespace) -> None:
    settings = load_settings(database_url=args.database_url or None, data_dir=args.data_dir, public_rate_limit="0")
    started = time.perf_counter()
    schema = build_schema(settings)
    print(f"  {args.worker}: schema by {schema} in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    sizes = [int(size) for size in args.sizes.split(",")]

    async def measure() -> dict[str, Any]:
        await init_db(settings)
        try:
            builds: list[dict[str, Any]] = []
            public_ids: set[str] = set()
            have = 0
            for size in sizes:
                if size > have:
                    took = await add_events(have + 1, size - have, public_ids)
                    print(
                        f"  {args.worker}: inserted {size - have} events in {took:.1f} s (untimed)",
                        file=sys.stderr,
                        flush=True,
                    )
                    have = size
                runs = args.build_runs if size < 5000 else max(3, args.build_runs - 2)
                builds.append(await measure_build(settings, size, runs))
                b = builds[-1]
                print(
                    f"  {args.worker}: {size} events: query {b['query_ms']:.0f} ms, render {b['render_ms']:.0f} ms, "
                    f"cold public_feed {b['cold_ms']:.0f} ms, cached {b['warm_ms']:.2f} ms, "
                    f"{b['body_bytes'] / 1024:.0f} KB",
                    file=sys.stderr,
                    flush=True,
                )
            profile = None
            if args.profile:
                events = await Event.filter(_visible(clock.now())).order_by("starts_at", "id")
                profile = profile_render(settings, events)
            socket = None
            if not args.no_socket:
                socket = await measure_socket(settings, args.worker, args, Path(args.data_dir) / "server.log")
            return {"schema": schema, "builds": builds, "socket": socket, "profile": profile}
        finally:
            await close_db()

    Path(args.result_file).write_text(json.dumps(run_async(measure)))


# --- The whole benchmark ---------------------------------------------------------------------


def run_backend(backend: str, database_url: str | None, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"wuchuang-bench-calendar-{backend}-") as tmp:
        worker_args = [
            "--sizes",
            args.sizes,
            "--levels",
            args.levels,
            "--build-runs",
            str(args.build_runs),
            "--requests-304",
            str(args.requests_304),
            "--requests-200",
            str(args.requests_200),
            "--cold-rounds",
            str(args.cold_rounds),
            "--burst-rounds",
            str(args.burst_rounds),
            "--run-timeout",
            str(args.run_timeout),
            *(["--profile"] if args.profile else []),
            *(["--no-socket"] if args.no_socket else []),
        ]
        levels = len(args.levels.split(","))
        # Every timed piece is bounded by --run-timeout; building the in-process figures by far less.
        budget = (4 * levels + args.cold_rounds + args.burst_rounds * levels + 1) * args.run_timeout + 600
        return run_worker("benchmarks.calendar", backend, database_url, tmp, worker_args, timeout_s=budget)


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def report(results: dict[str, dict[str, Any]]) -> str:
    out = []
    rows = [
        (
            backend,
            b["events"],
            f"{b['body_bytes'] / 1024:,.0f}",
            _num(b["query_ms"]),
            _num(b["render_ms"]),
            _num(b["cold_ms"]),
            _num(b["cold_max_ms"]),
            _num(b["warm_ms"], 2),
            _num(b["render_ms"] * 1000 / max(b["events"], 1), 0),
            b["runs"],
        )
        for backend, result in results.items()
        for b in result["builds"]
    ]
    out.append(
        render_table(
            "Building GET /calendar/events.ics, in-process (medians)",
            (
                "backend",
                "events",
                "size KB",
                "query ms",
                "render ms",
                "cold public_feed ms",
                "cold max ms",
                "cached ms",
                "render µs/event",
                "runs",
            ),
            rows,
        )
        + "\nquery: the events public_feed loads; render: FeedRenderer._render alone (icalendar + to_ical + "
        "SHA-256); cold public_feed: a fresh renderer, fingerprint query + query + render; cached: a warm "
        "renderer, the fingerprint query and a cache hit"
    )
    socket_rows = []
    for result in results.values():
        socket = result.get("socket")
        if not socket:
            continue
        for run in socket["runs"]:
            socket_rows.append(
                (
                    run["backend"],
                    run["scenario"],
                    run["client"],
                    run["clients"],
                    _num(run["throughput"]),
                    _num(run["p50_ms"], 2),
                    _num(run["p99_ms"], 2),
                    f"{run['unexpected'] + run['wrong_size']}{' (timed out)' if run['timed_out'] else ''}",
                    _num(run["server_cpu_ms"], 3),
                    _num(run["bench_cpu_ms"], 3),
                    _num(run["machine_busy_pct"], 0),
                    _num(run["mb_per_s"], 0) if run["mb_per_s"] else "-",
                )
            )
    if socket_rows:
        sizes = ", ".join(
            f"{backend} {result['socket']['feed_bytes'] / 1024:,.0f} KB"
            for backend, result in results.items()
            if result.get("socket")
        )
        out.append(
            render_table(
                f"Serving the feed over a socket (uvicorn, 127.0.0.1; feed {sizes})",
                (
                    "backend",
                    "request",
                    "client",
                    "clients",
                    "req/s",
                    "p50 ms",
                    "p99 ms",
                    "bad",
                    "server CPU ms/req",
                    "bench CPU ms/req",
                    "machine busy %",
                    "MB/s",
                ),
                socket_rows,
                left=3,
            )
            + "\n304 cached: If-None-Match with the current ETag (fingerprint query, no body); 200 body: no "
            f"If-None-Match (fingerprint query, the cached body sent); floor: GET {FLOOR_PATH}, the same app with "
            "no database and a small JSON body, for what the framework alone allows. raw: a minimal asyncio "
            "HTTP/1.1 client; httpx: one httpx.AsyncClient per client. bad: not the expected status or body "
            "size. server CPU: the uvicorn process's user+system time; bench CPU: the client's; machine busy: all cores"
        )
        cold_rows = []
        for backend, result in results.items():
            socket = result.get("socket")
            if not socket:
                continue
            first, cold = socket["first"], socket["cold"]
            cold_rows.append(
                (backend, "first GET after start", 1, _num(first["ms"], 0), "-", _num(first["server_cpu_ms"], 0), "-")
            )
            cold_rows.append(
                (
                    backend,
                    "PATCH, then GET (cold build)",
                    cold["rounds"],
                    _num(cold["p50_ms"], 0),
                    _num(cold["max_ms"], 0),
                    _num(cold["server_cpu_ms"], 0),
                    "1",
                )
            )
            for burst in socket["bursts"]:
                cold_rows.append(
                    (
                        backend,
                        f"PATCH, then {burst['clients']} GETs at once "
                        + ("(TIMED OUT)" if burst.get("timed_out") else "(all answered)"),
                        burst["rounds"],
                        _num(burst["wall_ms"], 0),
                        _num(burst["max_ms"], 0),
                        _num(burst["server_cpu_ms"], 0),
                        _num(burst["builds"], 1),
                    )
                )
        out.append(
            render_table(
                "Cold builds over the socket",
                ("backend", "request", "rounds", "ms (p50)", "max ms", "server CPU ms", "≈ builds"),
                cold_rows,
                left=2,
            )
            + "\n≈ builds: server CPU of the burst / server CPU of one cold build (one build per feed runs while"
            " the others wait; the rest of the CPU is sending the body to each client)"
        )
    target_rows: list[tuple[object, ...]] = []
    for backend, result in results.items():
        largest = max(result["builds"], key=lambda b: b["events"])
        note = "" if largest["events"] >= TARGET_EVENTS else f" (only {largest['events']} events)"
        for figure, value in (
            ("feed built: cold public_feed (query + render)", largest["cold_ms"]),
            ("feed built: render alone", largest["render_ms"]),
        ):
            target_rows.append(
                (
                    f"{figure}{note}",
                    f"{backend}, in-process",
                    f"{value:.0f} ms",
                    f"< {TARGET_BUILD_S * 1000:.0f} ms",
                    "yes" if value < TARGET_BUILD_S * 1000 else "NO",
                )
            )
        socket = result.get("socket")
        if not socket:
            continue
        cold_ms = socket["cold"]["p50_ms"]
        target_rows.append(
            (
                f"feed built: PATCH, then GET{note}",
                f"{backend}, socket",
                f"{cold_ms:.0f} ms",
                f"< {TARGET_BUILD_S * 1000:.0f} ms",
                "yes" if cold_ms < TARGET_BUILD_S * 1000 else "NO",
            )
        )
        levels = sorted({run["clients"] for run in socket["runs"]})
        at = TARGET_CLIENTS if TARGET_CLIENTS in levels else max(levels)
        for run in socket["runs"]:
            if run["scenario"] != "304 cached" or run["clients"] != at:
                continue
            where = f"{backend}, socket, {run['client']} client, {at} clients"
            if at != TARGET_CLIENTS:
                where += " (no 50-client level run)"
            target_rows.append(
                (
                    f"cached 304/s{note}",
                    where,
                    f"{run['throughput']:.0f}",
                    f">= {TARGET_304_PER_S:.0f}",
                    "yes" if run["throughput"] >= TARGET_304_PER_S else "NO",
                )
            )
    out.append(targets_table(target_rows))
    for backend, result in results.items():
        if result.get("profile"):
            out.append(f"Profile of one render of the largest feed ({backend}):\n{result['profile']}")
    return "\n\n".join(out)


def failures(results: dict[str, dict[str, Any]]) -> list[str]:
    found = []
    for backend, result in results.items():
        for b in result["builds"]:
            found += [f"{backend} {b['events']} events: {problem}" for problem in b["problems"]]
        socket = result.get("socket")
        if not socket:
            continue
        for run in socket["runs"]:
            if run["unexpected"] or run["wrong_size"] or run["timed_out"]:
                found.append(
                    f"{backend} {run['scenario']} {run['client']} {run['clients']} clients: {run['statuses']}, "
                    f"{run['wrong_size']} wrong sizes{', timed out' if run['timed_out'] else ''}"
                )
        found += [f"{backend} cold GET: {problem}" for problem in socket["cold"]["problems"]]
        found += [
            f"{backend} burst of {burst['clients']}: {burst['bad']} bad or missing answers {burst['outcomes']}"
            + (", timed out" if burst["timed_out"] else "")
            for burst in socket["bursts"]
            if burst["bad"] or burst["timed_out"]
        ]
    return found


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    add_postgres_argument(parser)
    parser.add_argument("--quick", action="store_true", help="smoke run: 60 and 600 events, 10 clients, few requests")
    parser.add_argument("--sizes", help="comma-separated feed sizes in events (default 60,600,6000)")
    parser.add_argument("--levels", help="comma-separated client counts for the socket runs (default 10,50)")
    parser.add_argument("--build-runs", type=int, help=f"in-process runs per build figure (default {BUILD_RUNS})")
    parser.add_argument("--requests-304", type=int, help=f"304 requests per level (default {REQUESTS_304})")
    parser.add_argument("--requests-200", type=int, help=f"200 requests per level (default {REQUESTS_200})")
    parser.add_argument("--cold-rounds", type=int, help=f"PATCH-then-GET rounds (default {COLD_ROUNDS})")
    parser.add_argument("--burst-rounds", type=int, help=f"PATCH-then-burst rounds per level (default {BURST_ROUNDS})")
    parser.add_argument("--run-timeout", type=float, default=120.0, help="seconds one run may take")
    parser.add_argument("--no-socket", action="store_true", help="in-process building only")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument(
        "--profile", action="store_true", help="print where one render of the largest feed spends its time"
    )
    parser.add_argument("--json", metavar="PATH", help="also write the raw figures here")
    # A worker measures one database; the parent starts it.
    parser.add_argument("--worker", choices=("sqlite", "postgres"), help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--result-file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    quick = args.quick
    args.sizes = args.sizes or ",".join(map(str, QUICK_SIZES if quick else SIZES))
    args.levels = args.levels or ",".join(map(str, QUICK_LEVELS if quick else LEVELS))
    args.build_runs = args.build_runs or (QUICK_BUILD_RUNS if quick else BUILD_RUNS)
    args.requests_304 = args.requests_304 or (QUICK_REQUESTS_304 if quick else REQUESTS_304)
    args.requests_200 = args.requests_200 or (QUICK_REQUESTS_200 if quick else REQUESTS_200)
    args.cold_rounds = args.cold_rounds or (QUICK_COLD_ROUNDS if quick else COLD_ROUNDS)
    args.burst_rounds = args.burst_rounds or (QUICK_BURST_ROUNDS if quick else BURST_ROUNDS)
    if args.worker:
        return args
    try:
        numbers = [int(x) for x in args.sizes.split(",")] + [int(x) for x in args.levels.split(",")]
    except ValueError:
        parser.error("--sizes and --levels take comma-separated whole numbers")
    if (
        min(numbers) < 1
        or min(args.build_runs, args.requests_304, args.requests_200, args.cold_rounds, args.burst_rounds) < 1
    ):
        parser.error("sizes, levels, runs and requests must be positive")
    if args.no_sqlite and not args.postgres:
        parser.error("--no-sqlite needs --postgres")
    if args.postgres:
        check_loopback_url(args.postgres)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    print(
        f"calendar benchmark: feeds of {args.sizes} events; socket at {args.levels} clients, "
        f"{args.requests_304} × 304 and {args.requests_200} × 200 per level; {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        file=sys.stderr,
        flush=True,
    )
    # Other work on the machine skews every figure here; say how busy it was before we started.
    before = machine_cpu_jiffies()
    time.sleep(1)
    idle_busy = machine_busy_percent(before, machine_cpu_jiffies())
    results: dict[str, dict[str, Any]] = {}
    if not args.no_sqlite:
        results["sqlite"] = run_backend("sqlite", None, args)
    if args.postgres:
        with throwaway_postgres_database(args.postgres, f"wuchuang_bench_calendar_{os.getpid()}") as url:
            results["postgres"] = run_backend("postgres", url, args)
    sys.stderr.flush()
    print()
    for backend, result in results.items():
        print(f"{backend}: schema by {result['schema']}")
    print(
        f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}; the benchmark client shares them "
        "with the server (and PostgreSQL)"
    )
    if idle_busy is not None:
        print(
            f"machine busy in the second before the benchmark started: {idle_busy:.0f} % of all cores"
            + (" (other work was running: the figures are pessimistic)" if idle_busy > 15 else "")
        )
    print()
    print(report(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    problems = failures(results)
    for problem in problems:
        print(f"FAILED: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
