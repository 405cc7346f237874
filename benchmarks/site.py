"""The public site over a real socket: the event page and the home page under concurrent load
(p50/p99, pages/s, server CPU per page), a cached event page's pages/s against TARGETS.md
(≥ 1,000 pages/s on 2 cores), and web registration end to end (page → form → confirmation page).

    python -m benchmarks.site [--quick] [--clients 50] [--requests 3000] [--postgres URL] [--url URL]

SQLite in a temporary data dir by default; ``--postgres`` (or WUCHUANG_BENCH_POSTGRES_URL) makes a
throwaway database on that server. The app runs under uvicorn (one process, like ``wuchuang serve``)
with the per-address rate limit off. ``--url`` measures an already running deployment instead (it
reads its events from ``/api/v1/events`` and registers on its first upcoming one: use a test server).

Registrations answer the form's sum, as a browser without JavaScript does; the proof of work a
browser computes instead is timed on its own (in Python here, slower than a phone's JavaScript JIT).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from api.app import create_app
from benchmarks._common import (
    LoadResult,
    add_postgres_argument,
    check_loopback_url,
    cpu_seconds,
    http_clients,
    percentile,
    processes_cpu_seconds,
    render_table,
    run_async,
    run_load,
    targets_table,
    throwaway_postgres_database,
    uvicorn_server,
    with_database,
)
from events import clock
from events.db import close_db, init_db
from events.settings import Settings, load_settings

SERVER_FACTORY = "benchmarks.site:server_app"
TARGET_CACHED_PAGES = 1000.0  # pages/s, a cached public event page (TARGETS.md)
TARGET_RSS_MB = 150.0
EVENTS = 60  # the 武创荟 series of a year


def server_app() -> FastAPI:
    """The app uvicorn serves, configured from WUCHUANG_* variables."""
    return create_app(load_settings())


# --- Data ------------------------------------------------------------------------------------


async def seed(settings: Settings) -> list[int]:
    """A year's 60 sessions, published, a few with questions; returns their ids, soonest first."""
    from events.services import catalog

    await init_db(settings)
    try:
        ids = []
        start = clock.now() + timedelta(days=2)
        for n in range(EVENTS):
            starts = start + timedelta(days=6 * n, hours=n % 5)
            data = catalog.EventInput(
                title=f"武创荟·第{n + 1}期 人工智能与先进制造专场",
                kind="session",
                series="wuchuanghui",
                district="donghu_gaoxin" if n % 2 else "hongshan",
                venue="光谷科技会展中心",
                address="武汉市东湖高新区光谷大道77号",
                host="武汉市科学技术局",
                starts_at=starts,
                ends_at=starts + timedelta(hours=3),
                capacity=200,
                tags=["人工智能", "先进制造"] if n % 2 else ["生物医药"],
                description="本期武创荟聚焦成果转化。\n\n路演、对接、交流。" * 3,
                questions=[{"key": "unit", "label": "单位性质", "choices": ["企业", "高校", "科研院所"]}]
                if n < 3
                else [],
            )
            event = await catalog.create_event(data, actor="bench")
            await catalog.publish_event(event.id, actor="bench")
            ids.append(event.id)
        return ids
    finally:
        await close_db()


def build_schema(settings: Settings) -> None:
    from wuchuang.migrate import upgrade_to_head

    upgrade_to_head(settings)


# --- Measuring -------------------------------------------------------------------------------


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class RawClient:
    """A keep-alive HTTP/1.1 GET client on a bare asyncio stream: a tenth of httpx's CPU per request,
    so on a 2-core machine the load generator leaves the server its core (httpx alone tops out near
    1,000 requests/s here and would measure itself)."""

    def __init__(self, base_url: str) -> None:
        parts = httpx.URL(base_url)
        self.host, self.port = parts.host, parts.port or 80
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> int:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        target = httpx.URL(path).raw_path.decode()
        self.writer.write(f"GET {target} HTTP/1.1\r\nHost: {self.host}\r\nAccept-Language: zh-CN\r\n\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await self.reader.readexactly(length)
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()


class Meter:
    """Server CPU (its process, and PostgreSQL's backends when that is the database) over one run."""

    def __init__(self, pid: int | None, postgres: bool) -> None:
        self.pid, self.postgres = pid, postgres

    def read(self) -> tuple[float, float]:
        app = cpu_seconds(self.pid) if self.pid else 0.0
        db = (processes_cpu_seconds("postgres") or 0.0) if self.postgres else 0.0
        return app, db

    @contextlib.asynccontextmanager
    async def span(self, out: dict[str, float]) -> AsyncIterator[None]:
        before = self.read()
        yield
        after = self.read()
        out["app_s"], out["db_s"] = after[0] - before[0], after[1] - before[1]


async def pages(
    pool: list[RawClient], paths: Sequence[str], *, requests: int, meter: Meter, label: str
) -> dict[str, Any]:
    async def send(number: int, i: int) -> int:
        return await pool[number].get(paths[i % len(paths)])

    cpu: dict[str, float] = {}
    async with meter.span(cpu):
        result: LoadResult = await run_load(send, requests=requests, concurrency=len(pool), timeout_s=300)
    ok = result.statuses.get("200", 0)
    return {
        "label": label,
        "clients": len(pool),
        "ok": ok,
        "errors": result.requests - ok,
        "per_s": result.throughput,
        "p50": result.latency_ms(50),
        "p99": result.latency_ms(99),
        "cpu_ms": 1000 * (cpu["app_s"] + cpu["db_s"]) / ok if ok else float("nan"),
        "db_ms": 1000 * cpu["db_s"] / ok if ok else float("nan"),
    }


def _form(page: str) -> tuple[str, str]:
    token = re.search(r'name="form_token" value="([^"]+)"', page)
    question = re.search(r"(\d) \+ (\d) = \?", html.unescape(page))
    if token is None or question is None:
        raise RuntimeError("the event page has no registration form")
    return token.group(1), str(int(question.group(1)) + int(question.group(2)))


async def registrations(
    pool: list[httpx.AsyncClient], event_ids: Sequence[int], *, count: int, meter: Meter
) -> dict[str, Any]:
    """Each: GET the event page, POST the form (the sum answered), follow to the confirmation page."""
    stamp = int(time.time() * 1000) % 10_000_000
    statuses: list[str] = []

    async def send(number: int, i: int) -> int:
        client = pool[number]
        event_id = event_ids[i % len(event_ids)]
        page = await client.get(f"/events/{event_id}")
        token, total = _form(page.text)
        data = {
            "name": f"压测者{i}",
            "email": f"bench{stamp}-{i}@example.cn",
            "phone": "",
            "organization": "压测单位",
            "consent": "yes",
            "form_token": token,
            "answer": total,
            "seen": "open",
            "q_unit": "企业",
        }
        posted = await client.post(f"/events/{event_id}/register", data=data)
        if posted.status_code != 303:
            statuses.append(str(posted.status_code))
            return posted.status_code
        confirmation = await client.get(posted.headers["location"])
        ok = confirmation.status_code == 200 and "/api/v1/tickets/" in confirmation.text
        statuses.append("ok" if ok else str(confirmation.status_code))
        return 200 if ok else confirmation.status_code

    cpu: dict[str, float] = {}
    async with meter.span(cpu):
        result = await run_load(send, requests=count, concurrency=len(pool), timeout_s=300)
    ok = result.statuses.get("200", 0)
    return {
        "label": "web registration (page → form → confirmation)",
        "clients": len(pool),
        "ok": ok,
        "errors": result.requests - ok,
        "per_s": result.throughput,
        "p50": result.latency_ms(50),
        "p99": result.latency_ms(99),
        "cpu_ms": 1000 * (cpu["app_s"] + cpu["db_s"]) / ok if ok else float("nan"),
        "db_ms": 1000 * cpu["db_s"] / ok if ok else float("nan"),
    }


def proof_of_work_ms(rounds: int) -> tuple[float, float]:
    """Median and worst time to find the proof of work for a fresh token (Python's hashlib)."""
    from events.services import form_guard

    times = []
    for n in range(rounds):
        token = f"bench-token-{n}-" + "x" * 60
        started = time.perf_counter()
        form_guard.solve(token)
        times.append((time.perf_counter() - started) * 1000)
    return percentile(times, 50), max(times)


async def measure(base_url: str, event_ids: list[int], args: argparse.Namespace, meter: Meter) -> list[dict[str, Any]]:
    runs = []
    hot = [f"/events/{event_ids[0]}"]
    spread = [f"/events/{i}" for i in event_ids]
    homes = ["/", "/?lang=en", "/?series=wuchuanghui", "/?tag=人工智能"]
    pool = [RawClient(base_url) for _ in range(args.clients)]
    try:
        warm = await pages(pool, spread + homes, requests=2 * (len(spread) + len(homes)), meter=meter, label="warm-up")
        if warm["errors"]:
            raise RuntimeError(f"warm-up failed: {warm}")
        cached = "event page, cached (one event)"
        runs.append(await pages(pool, hot, requests=args.requests, meter=meter, label=cached))
        spread_label = f"event pages ({len(spread)} events)"
        runs.append(await pages(pool, spread, requests=args.requests, meter=meter, label=spread_label))
        runs.append(await pages(pool, homes, requests=args.requests, meter=meter, label="home (4 filter variants)"))
    finally:
        for client in pool:
            await client.close()
    reg_clients = min(args.clients, 10)
    async with http_clients(base_url=base_url, concurrency=reg_clients) as pool:
        runs.append(
            await registrations(pool, event_ids[: min(10, len(event_ids))], count=args.registrations, meter=meter)
        )
    return runs


async def measure_uncached(
    base_url: str, event_ids: list[int], args: argparse.Namespace, meter: Meter
) -> list[dict[str, Any]]:
    """The same pages rendered on every request (a server with WUCHUANG_SITE_CACHE_SECONDS=0)."""
    spread = [f"/events/{i}" for i in event_ids]
    homes = ["/", "/?lang=en", "/?series=wuchuanghui", "/?tag=人工智能"]
    pool = [RawClient(base_url) for _ in range(args.clients)]
    try:
        await pages(pool, spread + homes, requests=len(spread) + len(homes), meter=meter, label="warm-up")
        count = max(200, args.requests // 3)
        return [
            await pages(pool, spread, requests=count, meter=meter, label="event pages, no cache"),
            await pages(pool, homes, requests=count, meter=meter, label="home, no cache"),
        ]
    finally:
        for client in pool:
            await client.close()


def report(runs: list[dict[str, Any]], pow_ms: tuple[float, float], rss: float | None, where: str) -> str:
    rows = [
        (
            r["label"],
            r["clients"],
            r["ok"],
            r["errors"],
            f"{r['per_s']:.0f}",
            f"{r['p50']:.1f}",
            f"{r['p99']:.1f}",
            f"{r['cpu_ms']:.2f}",
        )
        for r in runs
    ]
    out = [
        render_table(
            f"Public site over a socket ({where})",
            ("run", "clients", "ok", "errors", "per s", "p50 ms", "p99 ms", "server CPU ms/op"),
            rows,
        )
    ]
    cached = runs[0]
    targets = [
        (
            "cached public event page",
            where,
            f"{cached['per_s']:.0f} pages/s",
            f"≥ {TARGET_CACHED_PAGES:.0f} pages/s",
            "yes" if cached["per_s"] >= TARGET_CACHED_PAGES and not cached["errors"] else "no",
        ),
        ("server CPU per cached page", where, f"{cached['cpu_ms']:.2f} ms", "(≤ 1 ms for 1,000/s on one core)", "—"),
        (
            "server memory (RSS) after the run",
            where,
            f"{rss:.0f} MB" if rss is not None else "?",
            f"< {TARGET_RSS_MB:.0f} MB",
            "yes" if rss is not None and rss < TARGET_RSS_MB else "no",
        ),
        ("proof of work (16 bits), Python", "client", f"p50 {pow_ms[0]:.0f} ms, max {pow_ms[1]:.0f} ms", "—", "—"),
    ]
    out.append(targets_table(targets))
    return "\n".join(out)


async def against_url(url: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=url, trust_env=False) as probe:
        items = (await probe.get("/api/v1/events", params={"limit": 60})).json()["items"]
    ids = [int(item["id"]) for item in items if item["status"] == "published"]
    if not ids:
        raise SystemExit(f"{url} lists no published upcoming events")
    return await measure(url, ids, args, Meter(None, postgres=False))


def run_local(database_url: str | None, args: argparse.Namespace) -> tuple[list[dict[str, Any]], float | None]:
    with tempfile.TemporaryDirectory(prefix="wuchuang-bench-site-") as tmp:
        settings = load_settings(database_url=database_url, data_dir=Path(tmp), public_rate_limit="0")
        build_schema(settings)
        ids = run_async(lambda: seed(settings))
        env = {
            "WUCHUANG_DATA_DIR": tmp,
            "WUCHUANG_PUBLIC_RATE_LIMIT": "0",
            "WUCHUANG_DATABASE_URL": database_url or "",
            "WUCHUANG_NOTIFICATIONS": "false",
        }

        async def go() -> tuple[list[dict[str, Any]], float | None]:
            async with uvicorn_server(SERVER_FACTORY, env=env, log_path=Path(tmp) / "server.log") as server:
                meter = Meter(server.pid, postgres=database_url is not None)
                runs = await measure(server.base_url, ids, args, meter)
                rss = rss_mb(server.pid)
            uncached_env = env | {"WUCHUANG_SITE_CACHE_SECONDS": "0"}
            async with uvicorn_server(SERVER_FACTORY, env=uncached_env, log_path=Path(tmp) / "server2.log") as server:
                meter = Meter(server.pid, postgres=database_url is not None)
                runs += await measure_uncached(server.base_url, ids, args, meter)
            return runs, rss

        return run_async(go)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smoke run: 20 clients, 1,500 pages, 60 registrations")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=5000, help="pages per run")
    parser.add_argument("--registrations", type=int, default=300)
    parser.add_argument("--url", help="measure a running deployment instead of starting one")
    add_postgres_argument(parser)
    parser.add_argument("--only-postgres", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.clients, args.requests, args.registrations = 20, 1500, 60
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    pow_ms = proof_of_work_ms(5 if args.quick else 20)
    if args.url:
        runs = run_async(lambda: against_url(args.url.rstrip("/"), args))
        print(report(runs, pow_ms, None, args.url))
        return 0
    if not args.only_postgres:
        print("sqlite: seeding 60 events, starting uvicorn …", file=sys.stderr, flush=True)
        runs, rss = run_local(None, args)
        print(report(runs, pow_ms, rss, "SQLite"), flush=True)
        if args.postgres:
            # Tortoise keeps per-dialect query builders on the models: a second backend runs in a fresh process.
            again = [sys.executable, "-m", "benchmarks.site", "--only-postgres", "--postgres", args.postgres]
            again += ["--clients", str(args.clients), "--requests", str(args.requests)]
            again += ["--registrations", str(args.registrations)]
            return subprocess.run(again, cwd=Path(__file__).resolve().parent.parent, check=False).returncode
        return 0
    check_loopback_url(args.postgres)
    name = f"wuchuang_bench_site_{int(time.time())}"
    with throwaway_postgres_database(args.postgres, name) as url:
        print("postgres: seeding 60 events, starting uvicorn …", file=sys.stderr, flush=True)
        runs, rss = run_local(url, args)
        print(report(runs, pow_ms, rss, "PostgreSQL"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

__all__ = ["main", "server_app", "with_database"]
