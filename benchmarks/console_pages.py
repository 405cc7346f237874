"""p95 of the programme office's console pages (#17): the dashboard, the monthly brief page, the demands
and achievements lists and a demand's page, with the demo's data and with 100,000 registrations.

1. The demo (``wuchuang.demo.load_demo``), as of now.
2. ``benchmarks.brief``'s year: 60 武创荟 sessions in 2026, 102,000 confirmed registrations (80% checked
   in), 5,000 demands, 1,000 brokers certified, 300 contracts, added to the demo; as of 1 December 2026.

An admin's session (the whole programme: the largest dashboard) requests each page through the app
in-process (httpx's ASGI transport: the app's own time, no socket), ``--warmup`` times untimed (the
matcher's index is built on the first demand page), then ``--requests`` times one after another; the
p50 and p95 are printed beside the target in TARGETS.md (console pages p95 < 150 ms).

Run: .venv/bin/python -m benchmarks.console_pages [--postgres URL] [--requests N]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks._common import (
    add_postgres_argument,
    percentile,
    render_table,
    targets_table,
    throwaway_postgres_database,
)
from benchmarks.brief import AS_OF, _analyze, _build_year
from benchmarks.registration import build_schema
from events import clock
from events.db import close_db, init_db
from events.models import Achievement, Demand, Person, Registration, Role
from events.services import accounts, organizations, staff
from events.settings import Settings, load_settings

TARGET_P95_MS = 150.0
PASSWORD = "benchmark office password"


async def _session(tag: str) -> str:
    """An admin account signed in: its session cookie."""
    org = await organizations.find_or_create_organization("武汉市科技创新供应链建设领导小组办公室")
    person = await Person.create(name=f"基准测试{tag}", email=f"bench-{tag}@example.cn")
    await staff.grant_role(person, role=Role.ADMIN, event_ids=None, actor="bench", organization_id=org.id)
    account = await accounts.create_account(person, actor="bench", password=PASSWORD)
    signed = await accounts.sign_in_password(
        login=account.login, password=PASSWORD, client=accounts.Client(ip="127.0.0.1", user_agent="bench")
    )
    return signed.key


async def _pages() -> list[tuple[str, str]]:
    demand = await Demand.all().order_by("-id").first()
    achievement = await Achievement.all().order_by("-id").first()
    pages = [
        ("dashboard", "/console/dashboard"),
        ("briefs", "/console/briefs"),
        ("demands", "/console/demands"),
        ("demands ?district&q", "/console/demands?district=donghu_gaoxin&q=需求&status=open"),
        ("achievements", "/console/achievements"),
    ]
    if demand is not None:
        pages.append(("a demand", f"/console/demands/{demand.id}"))
    if achievement is not None:
        pages.append(("an achievement", f"/console/achievements/{achievement.id}"))
    return pages


async def _measure_pages(settings: Settings, label: str, cookie: str, requests: int, warmup: int) -> list[list[object]]:
    from api.app import create_app

    app = create_app(settings, manage_db=False)
    rows: list[list[object]] = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
        headers = {"cookie": f"wc_console={cookie}"}
        for name, path in await _pages():
            for _ in range(warmup):
                answer = await http.get(path, headers=headers)
                assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
            times = []
            for _ in range(requests):
                began = time.perf_counter()
                answer = await http.get(path, headers=headers)
                times.append((time.perf_counter() - began) * 1000)
                assert answer.status_code == 200, (path, answer.status_code)
            rows.append(
                [
                    settings.dialect,
                    label,
                    name,
                    f"{percentile(times, 50):.1f}",
                    f"{percentile(times, 95):.1f}",
                    f"{max(times):.1f}",
                    len(answer.content),
                ]
            )
    return rows


async def measure(database_url: str | None, data_dir: Path, requests: int, warmup: int) -> list[list[object]]:
    settings = load_settings(database_url=database_url, data_dir=data_dir)
    print(f"{settings.dialect}: schema by {build_schema(settings)}", flush=True)
    await init_db(settings)
    rows: list[list[object]] = []
    try:
        from wuchuang.demo import load_demo

        await load_demo()
        await _analyze()
        rows += await _measure_pages(settings, "demo", await _session("demo"), requests, warmup)

        await _build_year()
        await _analyze()
        clock.set_clock(lambda: AS_OF)
        label = f"demo + {await Registration.all().count():,} registrations"
        rows += await _measure_pages(settings, label, await _session("year"), requests, warmup)
        return rows
    finally:
        clock.set_clock(None)
        await close_db()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_postgres_argument(parser)
    parser.add_argument("--requests", type=int, default=60, help="timed requests per page (default 60)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per page first (default 3)")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    args = parser.parse_args()
    rows: list[list[object]] = []
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            rows += asyncio.run(measure(None, Path(tmp), args.requests, args.warmup))
    if args.postgres:
        with (
            throwaway_postgres_database(args.postgres, "wuchuang_bench_console_pages") as url,
            tempfile.TemporaryDirectory() as tmp,
        ):
            rows += asyncio.run(measure(url, Path(tmp), args.requests, args.warmup))
    print(
        render_table(
            "Console pages of the programme office (in-process, one admin, sequential)",
            ("db", "data", "page", "p50 ms", "p95 ms", "max ms", "bytes"),
            rows,
            left=3,
        )
    )
    print(
        targets_table(
            [
                [
                    f"console {row[2]} p95",
                    f"{row[0]}, {row[1]}",
                    f"{row[4]} ms",
                    f"< {TARGET_P95_MS:.0f} ms",
                    "yes" if float(str(row[4])) < TARGET_P95_MS else "NO",
                ]
                for row in rows
            ]  # fmt: skip
        )
    )


if __name__ == "__main__":
    main()
