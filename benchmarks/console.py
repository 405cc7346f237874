"""The organizer console with 100,000 registrations in one event: p50/p95 of its pages over a real
socket against TARGETS.md (console pages p95 < 150 ms), on SQLite and PostgreSQL.

    python -m benchmarks.console [--quick] [--registrations 100000] [--rounds 30] [--postgres URL] [--url URL]

The data is seeded directly (bulk inserts: persons, registrations of every status, arrivals) into a
migrated database, then the app runs under uvicorn (one process, like ``wuchuang serve``); the client
signs in through the sign-in page with a password and GETs each page ``--rounds`` times, one at a
time (an organizer clicks; this is latency, not throughput). Server CPU per page (the app process and
its PostgreSQL backends) is printed beside.

Pages are a list of (name, path) built from the seeded ids (``pages``): add a line to measure another
console page. ``--url`` measures a running deployment instead: give ``--login``/``--password`` of an
organizer and ``--event`` (an event id of theirs with many registrations).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from api.app import create_app
from benchmarks._common import (
    add_postgres_argument,
    check_loopback_url,
    cpu_seconds,
    percentile,
    processes_cpu_seconds,
    render_table,
    run_async,
    targets_table,
    throwaway_postgres_database,
    uvicorn_server,
)
from events import clock
from events.db import close_db, init_db
from events.settings import Settings, load_settings

SERVER_FACTORY = "benchmarks.console:server_app"
TARGET_P95_MS = 150.0  # TARGETS.md: console pages with 100,000 registrations, p95 < 150 ms
LOGIN = "bench-organizer@example.cn"
PASSWORD = "bench console password 1"
EVENTS = 60


def server_app() -> FastAPI:
    """The app uvicorn serves, configured from WUCHUANG_* variables."""
    return create_app(load_settings())


@dataclass(frozen=True)
class Seeded:
    big_event: int  # the event with the registrations
    later_cursor_after: int  # a registration id deep in the table (for "a later page")
    sample_name: str  # a name to search for


def pages(seeded: Seeded) -> list[tuple[str, str]]:
    """The console pages measured, by name: add a line here to measure another page."""
    event = seeded.big_event
    regs = f"/console/events/{event}/registrations"
    return [
        ("events list", "/console/events"),
        ("events list, filtered", "/console/events?status=published&series=wuchuanghui&district=hongshan"),
        ("event page", f"/console/events/{event}"),
        ("registrations, first page", regs),
        ("registrations, search by name", f"{regs}?q={seeded.sample_name}"),
        ("registrations, search by phone", f"{regs}?q=139%200000%20421"),
        ("registrations, search, 1 in 4 match", f"{regs}?q=%E5%8D%8E%E4%B8%AD"),  # 华中: a quarter of them
        ("registrations, status=pending", f"{regs}?status=pending"),
        ("registrations, checked in", f"{regs}?arrived=in"),
        ("registrations, later page", "LATER"),  # resolved at run time: the cursor of the 40th page
        ("attendee page", "ATTENDEE"),
    ]


# --- Data ------------------------------------------------------------------------------------


async def seed(settings: Settings, registrations: int) -> Seeded:
    """An organization with an organizer account, a year's 60 events, and one event holding
    ``registrations`` registrations (90 % confirmed, a third of them checked in, 4 % waitlisted,
    3 % pending, 3 % cancelled), each with its own person. Bulk inserts, then ANALYZE."""
    from events.models import Attendance, Event, Person, Registration, RegistrationStatus, Role
    from events.services import accounts, catalog, organizations, staff

    await init_db(settings)
    try:
        org = (await organizations.find_or_create_organization("洪山区科技局", kind="government")).id
        person = await Person.create(name="王组织", email=LOGIN)
        await staff.grant_role(person, role=Role.ORGANIZER, event_ids=None, actor="bench", organization_id=org)
        await accounts.create_account(person, actor="bench", password=PASSWORD)
        start = clock.now() + timedelta(days=2)
        big = None
        for n in range(EVENTS):
            starts = start + timedelta(days=6 * n, hours=n % 5) if n else clock.now() + timedelta(minutes=30)
            data = catalog.EventInput(
                title=f"武创荟·第{n + 1}期 人工智能与先进制造专场",
                kind="session",
                series="wuchuanghui",
                district="donghu_gaoxin" if n % 2 else "hongshan",
                venue="光谷科技会展中心",
                starts_at=starts,
                ends_at=starts + timedelta(hours=3),
                capacity=200 if n else registrations,
            )
            event = await catalog.create_event(data, actor="bench", organization_id=org)
            await catalog.publish_event(event.id, actor="bench")
            big = big or event
        assert big is not None
        batch = 5000
        confirmed = waitlisted = 0
        now = clock.now()
        day = (now + timedelta(hours=8)).date()
        for first in range(0, registrations, batch):
            count = min(batch, registrations - first)
            people = [
                Person(name=f"参会者{i:06d}", phone=f"+86139{i:08d}", email=f"p{i}@example.cn")
                for i in range(first, first + count)
            ]
            await Person.bulk_create(people, batch_size=1000)
            ids = await Person.filter(email__in=[p.email for p in people]).order_by("id").values_list("id", flat=True)
            rows = []
            for i, person_id in zip(range(first, first + count), ids, strict=True):
                bucket = i % 100
                status = (
                    RegistrationStatus.CONFIRMED
                    if bucket < 90
                    else RegistrationStatus.WAITLISTED
                    if bucket < 94
                    else RegistrationStatus.PENDING
                    if bucket < 97
                    else RegistrationStatus.CANCELLED
                )
                extra: dict[str, Any] = {}
                if status == RegistrationStatus.CONFIRMED:
                    confirmed += 1
                    extra = {"confirmed_at": now, "ticket_version": 1}
                elif status == RegistrationStatus.WAITLISTED:
                    waitlisted += 1
                    extra = {"waitlist_order": waitlisted}
                rows.append(
                    Registration(
                        event_id=big.id,
                        person_id=person_id,
                        status=status,
                        name=f"参会者{i:06d}",
                        phone=f"+86139{i:08d}",
                        email=f"p{i}@example.cn",
                        organization=("华中科技大学", "武汉大学", "光谷某科技有限公司", "东湖实验室")[i % 4],
                        source="api",
                        **extra,
                    )
                )
            await Registration.bulk_create(rows, batch_size=1000)
            print(f"  seeded {first + count:,} registrations", file=sys.stderr, flush=True)
        arrived = await Registration.filter(event_id=big.id, status=RegistrationStatus.CONFIRMED).values_list(
            "id", flat=True
        )
        arrivals = [
            Attendance(event_id=big.id, registration_id=rid, day=day, checked_in_at=now, gate="A")
            for rid in arrived[::3]
        ]
        await Attendance.bulk_create(arrivals, batch_size=2000)
        await Event.filter(id=big.id).update(
            seats_taken=confirmed, waitlist_length=waitlisted, waitlist_seq=waitlisted, capacity=confirmed
        )
        from tortoise import connections

        # As autovacuum leaves a table in service (these machines run with it off): statistics, and
        # on PostgreSQL the visibility map that lets a count read an index alone.
        database = connections.get("default")
        await database.execute_script("ANALYZE" if settings.dialect == "sqlite" else "VACUUM ANALYZE")
        deep = (
            await Registration.filter(event_id=big.id)
            .order_by("-id")
            .offset(2000)
            .limit(1)
            .values_list("id", flat=True)
        )
        return Seeded(big_event=big.id, later_cursor_after=deep[0] if deep else 0, sample_name="参会者04217")
    finally:
        await close_db()


def build_schema(settings: Settings) -> None:
    from wuchuang.migrate import upgrade_to_head

    upgrade_to_head(settings)


# --- Measuring -------------------------------------------------------------------------------


async def sign_in(http: httpx.AsyncClient, login: str, password: str) -> None:
    form = await http.get("/console/signin")
    token = re.search(r'name="form_token" value="([^"]+)"', form.text)
    if token is None:
        raise SystemExit("the sign-in page has no form token")
    answer = await http.post(
        "/console/signin", data={"form_token": token.group(1), "login": login, "password": password}
    )
    if answer.status_code != 303 or "wc_console" not in http.cookies:
        raise SystemExit(f"sign-in refused: {answer.status_code} {answer.text[:200]}")


async def resolve(http: httpx.AsyncClient, path: str, event: int) -> str:
    """The paths that depend on the data: a page deep in the table, an attendee's page."""
    regs = f"/console/events/{event}/registrations"
    if path == "LATER":
        url = regs
        for _ in range(40):  # walk 40 pages in (2,000 rows), as someone paging would
            found = re.search(r'href="([^"]*cursor=[^"]+)"', (await http.get(url)).text)
            if found is None:
                break
            url = found.group(1).replace("&amp;", "&")
        return url
    if path == "ATTENDEE":
        found = re.search(rf'href="({regs}/\d+)"', (await http.get(regs)).text)
        return found.group(1) if found else regs
    return path


async def measure(
    base_url: str, seeded: Seeded, rounds: int, login: str, password: str, meter: Meter
) -> list[dict[str, Any]]:
    results = []
    async with httpx.AsyncClient(base_url=base_url, trust_env=False, timeout=30.0) as http:
        await sign_in(http, login, password)
        for name, raw in pages(seeded):
            path = await resolve(http, raw, seeded.big_event)
            first = await http.get(path)  # warm-up, and a check that the page works
            if first.status_code != 200:
                raise SystemExit(f"{name}: {path} answered {first.status_code}: {first.text[:300]}")
            cpu_before = meter.cpu()
            times = []
            for _ in range(rounds):
                started = time.perf_counter()
                answer = await http.get(path)
                times.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 200, (path, answer.status_code)
            cpu_after = meter.cpu()
            cpu_ms = (
                (cpu_after - cpu_before) * 1000 / rounds if cpu_before is not None and cpu_after is not None else None
            )
            results.append(
                {
                    "page": name,
                    "path": path if len(path) < 70 else path[:67] + "…",
                    "p50": percentile(times, 50),
                    "p95": percentile(times, 95),
                    "cpu_ms": cpu_ms,
                    "bytes": len(first.content),
                }
            )
            print(f"  {name}: p95 {results[-1]['p95']:.1f} ms", file=sys.stderr, flush=True)
    return results


class Meter:
    """Server CPU (the app process, and with PostgreSQL its backends) in seconds."""

    def __init__(self, pid: int | None, *, postgres: bool) -> None:
        self.pid, self.postgres = pid, postgres

    def cpu(self) -> float | None:
        if self.pid is None:
            return None
        app = cpu_seconds(self.pid)
        if not self.postgres:
            return app
        database = processes_cpu_seconds("postgres")
        return app + database if database is not None else app


def report(results: list[dict[str, Any]], where: str, registrations: int) -> str:
    rows = [
        [
            r["page"],
            f"{r['p50']:.1f}",
            f"{r['p95']:.1f}",
            f"{r['cpu_ms']:.1f}" if r["cpu_ms"] is not None else "–",
            f"{r['bytes'] / 1024:.0f}",
        ]
        for r in results
    ]
    table = render_table(
        f"Console pages, {where}, {registrations:,} registrations in one event (ms, one client)",
        ("page", "p50", "p95", "server CPU/page", "KiB"),
        rows,
    )
    worst = max(results, key=lambda r: r["p95"])
    target = targets_table(
        [
            [
                "console pages p95 (worst page: " + worst["page"] + ")",
                where,
                f"{worst['p95']:.1f} ms",
                f"< {TARGET_P95_MS:.0f} ms",
                "yes" if worst["p95"] < TARGET_P95_MS else "NO",
            ]
        ]
    )
    return table + "\n" + target


def run_local(database_url: str | None, args: argparse.Namespace) -> tuple[list[dict[str, Any]], Seeded]:
    with tempfile.TemporaryDirectory(prefix="wuchuang-bench-console-") as tmp:
        settings = load_settings(database_url=database_url, data_dir=Path(tmp), public_rate_limit="0")
        build_schema(settings)
        started = time.perf_counter()
        seeded = run_async(lambda: seed(settings, args.registrations))
        print(f"  seeded in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
        env = {
            "WUCHUANG_DATA_DIR": tmp,
            "WUCHUANG_PUBLIC_RATE_LIMIT": "0",
            "WUCHUANG_DATABASE_URL": database_url or "",
            "WUCHUANG_NOTIFICATIONS": "false",
        }

        async def go() -> list[dict[str, Any]]:
            async with uvicorn_server(SERVER_FACTORY, env=env, log_path=Path(tmp) / "server.log") as server:
                meter = Meter(server.pid, postgres=database_url is not None)
                return await measure(server.base_url, seeded, args.rounds, LOGIN, PASSWORD, meter)

        return asyncio.run(go()), seeded


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smoke run: 5,000 registrations, 10 rounds")
    parser.add_argument("--registrations", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=30, help="GETs of each page")
    parser.add_argument("--url", help="measure a running deployment instead of starting one")
    parser.add_argument("--login", default=LOGIN)
    parser.add_argument("--password", default=PASSWORD)
    parser.add_argument("--event", type=int, help="with --url: the event with many registrations")
    add_postgres_argument(parser)
    parser.add_argument("--only-postgres", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.registrations, args.rounds = 5_000, 10
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.url:
        if args.event is None:
            raise SystemExit("--url needs --event")
        seeded = Seeded(big_event=args.event, later_cursor_after=0, sample_name="张")
        results = asyncio.run(
            measure(args.url.rstrip("/"), seeded, args.rounds, args.login, args.password, Meter(None, postgres=False))
        )
        print(report(results, args.url, 0))
        return 0
    if not args.only_postgres:
        print(f"sqlite: seeding {args.registrations:,} registrations …", file=sys.stderr, flush=True)
        results, _ = run_local(None, args)
        print(report(results, "SQLite", args.registrations), flush=True)
        if args.postgres:
            # Tortoise keeps per-dialect query builders on the models: a second backend runs in a fresh process.
            again = [sys.executable, "-m", "benchmarks.console", "--only-postgres", "--postgres", args.postgres]
            again += ["--registrations", str(args.registrations), "--rounds", str(args.rounds)]
            return subprocess.run(again, cwd=Path(__file__).resolve().parent.parent, check=False).returncode
        return 0
    check_loopback_url(args.postgres)
    name = f"wuchuang_bench_console_{int(time.time())}"
    with throwaway_postgres_database(args.postgres, name) as url:
        print(f"postgres: seeding {args.registrations:,} registrations …", file=sys.stderr, flush=True)
        results, _ = run_local(url, args)
        print(report(results, "PostgreSQL", args.registrations))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
