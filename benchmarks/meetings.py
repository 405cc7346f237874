"""Roadshow 1:1 meetings over a real socket: a burst of concurrent meeting requests that must never
double-book anyone or any table, and the batch scheduler end to end.

1. **Requests**: a roadshow with one session of ``--slots`` slots (20 minutes) and ``--tables`` tables,
   ``--investors`` investors and ``--projects`` projects (achievements with their contacts, all made
   through the API). ``--requests`` ``POST /api/v1/meetings`` (project → investor, random slot) fire at
   once from ``--clients`` keep-alive connections opened beforehand; every answer must be 201 or a
   409 (``slot_taken``, ``no_table_free``, ``already_requested``). Then every pending request is
   accepted twice at once: exactly one accept may win. Read back through ``GET …/meetings``: no
   participant and no table twice in a slot, and one live request per 201.
2. **Batch scheduling**: ``--batch-projects`` × ``--batch-investors`` × ``--batch-slots`` with interest
   (projects → investors at ``--interest``, investors → projects at a quarter of it), then
   ``POST …/schedule`` timed as a dry run (reading + planning) and for real (reading + planning +
   writing the meetings and their claims in one transaction), and the result checked the same way.

Without ``--url`` the app runs under uvicorn in a subprocess on a free port against a fresh PostgreSQL
database made on ``--postgres`` (default $WUCHUANG_BENCH_POSTGRES_URL or the local server) and dropped
afterwards; with ``--url URL --token T`` (an admin or organizer token) the same client measures that
server (it adds its own events and people there).

    python -m benchmarks.meetings [--quick] [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
    python -m benchmarks.meetings --url http://127.0.0.1:8000 --token T

Exit status 1 when anything was double-booked, an answer was neither 201 nor 409, two accepts of one
request both won, or the scheduler's result double-booked; a time over its target is reported only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from benchmarks._common import (
    check_loopback_url,
    cpu_seconds,
    http_client,
    http_clients,
    machine_busy_percent,
    machine_cpu_jiffies,
    processes_cpu_seconds,
    render_table,
    run_async,
    run_load,
    targets_table,
    throwaway_postgres_database,
    uvicorn_server,
)

SERVER_FACTORY = "benchmarks.registration:server_app"
SLOT_MINUTES = 20
BATCH_TARGET_S = 10.0  # the target (road.md): 200 projects × 60 investors × 24 slots
SETUP_CLIENTS = 16
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


class Api:
    """A thin client of the routes the benchmark uses; every call checks its status."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def call(self, method: str, path: str, expect: Sequence[int] = (200, 201), **kw: Any) -> Any:
        response = await self.http.request(method, path, **kw)
        if response.status_code not in expect:
            raise RuntimeError(f"{method} {path} → {response.status_code}: {response.text[:300]}")
        return response.json()


async def parallel(calls: Sequence[Callable[[], Awaitable[Any]]], clients: int = SETUP_CLIENTS) -> list[Any]:
    """Run the calls with at most ``clients`` at once, results in order."""
    gate = asyncio.Semaphore(clients)

    async def one(call: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await call()

    return list(await asyncio.gather(*(one(c) for c in calls)))


class Roadshow:
    """A roadshow made through the API: one session, investors and projects."""

    def __init__(self, event_id: int, session: dict[str, Any], investors: list[int], projects: list[int]) -> None:
        self.event_id = event_id
        self.session = session
        self.slots = [s["id"] for s in session["slots"]]
        self.investors = investors
        self.projects = projects


async def make_roadshow(
    api: Api, label: str, *, investors: int, projects: int, slots: int, tables: int, run: int
) -> Roadshow:
    start = (datetime.now(UTC) + timedelta(days=30 + run % 300)).replace(minute=0, second=0, microsecond=0)
    event = await api.call(
        "POST",
        "/api/v1/events",
        json={
            "title": f"路演压测（{label}）",
            "kind": "roadshow",
            "venue": "光谷科技会展中心",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(minutes=SLOT_MINUTES * slots + 60)).isoformat(),
        },
    )
    event_id = event["id"]
    session = await api.call(
        "POST",
        f"/api/v1/roadshows/{event_id}/sessions",
        json={
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(minutes=SLOT_MINUTES * slots)).isoformat(),
            "slot_minutes": SLOT_MINUTES,
            "tables": tables,
        },
    )

    def achievement(i: int, who: str) -> Callable[[], Awaitable[Any]]:
        phone = f"19{run % 10000:04d}{len(label) % 10}{i:04d}"
        body = {"title": f"{who}{i}（{label}）", "contact": {"name": f"{who}{i}", "phone": phone}}
        return lambda: api.call("POST", "/api/v1/achievements", json=body)

    made = await parallel(
        [achievement(i, "投资人") for i in range(investors)]
        + [achievement(investors + i, "项目") for i in range(projects)]
    )
    investor_people = [a["contact"]["person_id"] for a in made[:investors]]

    def investor(i: int, person_id: int) -> Callable[[], Awaitable[Any]]:
        body = {"name": f"光谷基金{i}（{label}）", "person_id": person_id, "stages": ["angel"]}
        return lambda: api.call("POST", "/api/v1/investors", json=body)

    profiles = await parallel([investor(i, p) for i, p in enumerate(investor_people)])

    def participant(body: dict[str, Any]) -> Callable[[], Awaitable[Any]]:
        return lambda: api.call("POST", f"/api/v1/roadshows/{event_id}/participants", json=body)

    sides = await parallel(
        [participant({"investor_id": p["id"]}) for p in profiles]
        + [participant({"achievement_id": a["id"]}) for a in made[investors:]]
    )
    return Roadshow(event_id, session, [s["id"] for s in sides[:investors]], [s["id"] for s in sides[investors:]])


async def live_meetings(api: Api, event_id: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for status in ("pending", "accepted"):
        cursor = None
        while True:
            params: dict[str, Any] = {"status": status, "limit": 200}
            if cursor:
                params["cursor"] = cursor
            page = await api.call("GET", f"/api/v1/roadshows/{event_id}/meetings", params=params)
            items += page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                break
    return items


def double_booked(meetings: list[dict[str, Any]], tables: int) -> dict[str, int]:
    """Participants and tables held twice in one slot (and tables out of range), from the live rows."""
    people: Counter[tuple[int, int]] = Counter()
    seats: Counter[tuple[int, int]] = Counter()
    for m in meetings:
        people[(m["slot_id"], m["requester"]["participant_id"])] += 1
        people[(m["slot_id"], m["recipient"]["participant_id"])] += 1
        seats[(m["slot_id"], m["table"])] += 1
    return {
        "people": sum(n - 1 for n in people.values() if n > 1),
        "tables": sum(n - 1 for n in seats.values() if n > 1),
        "tables_out_of_range": sum(1 for m in meetings if not 1 <= m["table"] <= tables),
    }


class Cpu:
    """Server and PostgreSQL CPU over a span (local runs only; PostgreSQL counts every backend on the
    machine, other databases' too)."""

    def __init__(self, server_pid: int | None) -> None:
        self.pid = server_pid

    def start(self) -> None:
        self.app = cpu_seconds(self.pid) if self.pid else None
        self.db = processes_cpu_seconds("postgres") if self.pid else None
        self.machine = machine_cpu_jiffies()

    def stop(self) -> dict[str, float | None]:
        app = cpu_seconds(self.pid) - self.app if self.pid and self.app is not None else None
        db_now = processes_cpu_seconds("postgres") if self.pid else None
        db = db_now - self.db if db_now is not None and self.db is not None else None
        return {"app_s": app, "db_s": db, "busy_pct": machine_busy_percent(self.machine, machine_cpu_jiffies())}


async def bench_requests(base_url: str, headers: dict[str, str], args: argparse.Namespace, pid: int | None) -> dict:
    run = random.randrange(10**6)
    async with http_client(base_url=base_url, connections=SETUP_CLIENTS, timeout_s=120) as http:
        http.headers.update(headers)
        api = Api(http)
        started = time.perf_counter()
        show = await make_roadshow(
            api, "约见", investors=args.investors, projects=args.projects, slots=args.slots, tables=args.tables, run=run
        )
        setup_s = time.perf_counter() - started
        print(f"  requests: roadshow {show.event_id} set up in {setup_s:.1f} s", file=sys.stderr, flush=True)
        rng = random.Random(15)
        asks = [
            {
                "slot_id": rng.choice(show.slots),
                "requester_id": rng.choice(show.projects),
                "recipient_id": rng.choice(show.investors),
                "message": "想约您聊聊融资",
            }
            for _ in range(args.requests)
        ]
        codes: Counter[str] = Counter()
        made: list[int] = []
        odd: list[str] = []  # the first few answers that were neither 201 nor 409, to say what they were
        async with http_clients(base_url=base_url, concurrency=args.clients, timeout_s=120) as pool:
            for client in pool:
                client.headers.update(headers)
            await run_load(lambda n, _: pool[n].get("/health"), requests=args.clients, concurrency=args.clients,
                           timeout_s=60)  # fmt: skip  # open every connection before the clock starts

            async def ask(n: int, i: int) -> int:
                response = await pool[n].post("/api/v1/meetings", json=asks[i])
                if response.status_code == 201:
                    made.append(response.json()["id"])
                elif response.status_code == 409:
                    codes[response.json()["error"]["code"]] += 1
                elif len(odd) < 5:
                    odd.append(f"{response.status_code} {response.text[:200]}")
                return response.status_code

            cpu = Cpu(pid)
            cpu.start()
            load = await run_load(ask, requests=args.requests, concurrency=args.clients, timeout_s=300)
            spent = cpu.stop()

            wins: Counter[int] = Counter()

            async def accept(n: int, i: int) -> int:
                meeting = made[i // 2]
                response = await pool[n].post(f"/api/v1/meetings/{meeting}/accept")
                if response.status_code == 200:
                    wins[meeting] += 1
                return response.status_code

            accepts = await run_load(
                accept, requests=2 * len(made), concurrency=min(args.clients, 2 * len(made) or 1), timeout_s=300
            )
        live = await live_meetings(api, show.event_id)
    booked = double_booked(live, args.tables)
    ok = load.statuses.get("201", 0) + load.statuses.get("409", 0)
    return {
        "event_id": show.event_id,
        "setup_s": setup_s,
        "requests": args.requests,
        "clients": args.clients,
        "elapsed_s": load.elapsed_s,
        "throughput": load.throughput,
        "p50_ms": load.latency_ms(50),
        "p99_ms": load.latency_ms(99),
        "statuses": dict(load.statuses),
        "conflicts": dict(codes),
        "unexpected": args.requests - ok,
        "unexpected_answers": odd,
        "created": len(made),
        "live": len(live),
        "accepted": sum(1 for m in live if m["status"] == "accepted"),
        "accept_statuses": dict(accepts.statuses),
        "double_accepted": sum(1 for n in wins.values() if n > 1),
        "double_booked": booked,
        "app_cpu_ms": spent["app_s"] * 1000 / max(load.finished, 1) if spent["app_s"] is not None else None,
        "db_cpu_ms": spent["db_s"] * 1000 / max(load.finished, 1) if spent["db_s"] is not None else None,
        "busy_pct": spent["busy_pct"],
    }


async def bench_batch(base_url: str, headers: dict[str, str], args: argparse.Namespace) -> dict:
    run = random.randrange(10**6)
    async with http_client(base_url=base_url, connections=SETUP_CLIENTS, timeout_s=300) as http:
        http.headers.update(headers)
        api = Api(http)
        started = time.perf_counter()
        show = await make_roadshow(
            api, "排期", investors=args.batch_investors, projects=args.batch_projects, slots=args.batch_slots,
            tables=args.batch_investors, run=run + 1,
        )  # fmt: skip
        rng = random.Random(16)
        wishes = [(p, i) for p in show.projects for i in show.investors if rng.random() < args.interest]
        wishes += [(i, p) for p in show.projects for i in show.investors if rng.random() < args.interest / 4]

        def interest(source: int, target: int) -> Callable[[], Awaitable[Any]]:
            body = {"source_id": source, "target_id": target}
            return lambda: api.call("POST", f"/api/v1/roadshows/{show.event_id}/interest", json=body)

        await parallel([interest(s, t) for s, t in wishes])
        setup_s = time.perf_counter() - started
        print(
            f"  batch: roadshow {show.event_id} with {len(wishes)} interests set up in {setup_s:.1f} s",
            file=sys.stderr,
            flush=True,
        )
        path = f"/api/v1/roadshows/{show.event_id}/sessions/{show.session['id']}/schedule"
        body = {"min_meetings": args.min_meetings, "allow_without_interest": False}
        started = time.perf_counter()
        dry = await api.call("POST", path, json=body | {"dry_run": True})
        dry_s = time.perf_counter() - started
        started = time.perf_counter()
        result = await api.call("POST", path, json=body)
        real_s = time.perf_counter() - started
        live = await live_meetings(api, show.event_id)
    per_project = Counter[int]()
    for m in live:
        per_project[m["requester"]["participant_id"]] += 1
        per_project[m["recipient"]["participant_id"]] += 1
    counts = [per_project[p] for p in show.projects]
    return {
        "event_id": show.event_id,
        "size": f"{len(show.projects)} × {len(show.investors)} × {len(show.slots)}",
        "interests": len(wishes),
        "setup_s": setup_s,
        "dry_run_s": dry_s,
        "schedule_s": real_s,
        "planned": len(dry["meetings"]),
        "created": result["created"],
        "live": len(live),
        "quota_bound": result["quota_bound"],
        "short": len(result["short"]),
        "min_per_project": min(counts),
        "max_per_project": max(counts),
        "double_booked": double_booked(live, args.batch_investors),
    }


async def measure(base_url: str, token: str, args: argparse.Namespace, pid: int | None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    out: dict[str, Any] = {}
    if not args.skip_requests:
        out["requests"] = await bench_requests(base_url, headers, args, pid)
    if not args.skip_batch:
        out["batch"] = await bench_batch(base_url, headers, args)
    return out


def local(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """A fresh PostgreSQL database, migrated, an admin token, the app under uvicorn; then measure."""
    from benchmarks.registration import build_schema
    from events.db import close_db, init_db
    from events.services import tokens
    from events.settings import load_settings

    name = args.database or f"wuchuang_bench_meetings_{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="wuchuang-bench-meetings-") as tmp:
        with throwaway_postgres_database(args.postgres, name) as url:
            settings = load_settings(database_url=url, data_dir=tmp, public_rate_limit="0")
            schema = build_schema(settings)

            async def token() -> str:
                await init_db(settings)
                try:
                    return (await tokens.create_token(role="admin", name="benchmark")).plaintext
                finally:
                    await close_db()

            secret = run_async(token)
            env = {"WUCHUANG_DATA_DIR": tmp, "WUCHUANG_PUBLIC_RATE_LIMIT": "0", "WUCHUANG_DATABASE_URL": url}

            async def serve() -> dict[str, Any]:
                async with uvicorn_server(SERVER_FACTORY, env=env, log_path=Path(tmp) / "server.log") as server:
                    return await measure(server.base_url, secret, args, server.pid)

            return run_async(serve), f"PostgreSQL {name} ({schema.split(' (')[0]})"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def report(results: dict[str, Any], where: str) -> tuple[str, bool]:
    out: list[str] = []
    targets: list[list[object]] = []
    failed = False
    if "requests" in results:
        r = results["requests"]
        booked = r["double_booked"]
        bad = booked["people"] + booked["tables"] + booked["tables_out_of_range"]
        consistent = r["live"] == r["created"]
        failed |= bool(bad or r["unexpected"] or r["double_accepted"] or not consistent)
        conflicts = ", ".join(f"{k} {v}" for k, v in sorted(r["conflicts"].items())) or "-"
        out.append(
            render_table(
                f"{r['requests']} concurrent meeting requests, {r['clients']} connections (event {r['event_id']})",
                ("figure", "value"),
                [
                    ("requests/s", f"{r['throughput']:.1f}"),
                    ("burst took", f"{r['elapsed_s']:.2f} s"),
                    ("p50 / p99", f"{r['p50_ms']:.0f} / {r['p99_ms']:.0f} ms"),
                    ("201 created", r["created"]),
                    ("409 refused", conflicts),
                    (
                        "neither 201 nor 409",
                        f"{r['unexpected']} "
                        + str({k: v for k, v in r["statuses"].items() if k not in ("201", "409")} or ""),
                    ),
                    ("live requests read back", f"{r['live']} ({'=' if consistent else '≠'} 201s)"),
                    ("double accepts (2 at once each)", f"{r['accepted']} accepted, {r['double_accepted']} twice"),
                    ("people / tables double-booked", f"{booked['people']} / {booked['tables']}"),
                    (
                        "server CPU per request (app + all postgres)",
                        f"{_ms(r['app_cpu_ms'])} + {_ms(r['db_cpu_ms'])} ms",
                    ),
                    ("machine busy", f"{r['busy_pct']:.0f} %" if r["busy_pct"] is not None else "-"),
                    ("setup through the API", f"{r['setup_s']:.1f} s"),
                ],
            )
        )
        targets.append(
            [
                f"meeting requests, {r['requests']} concurrent, 50 investors × 20 slots",
                where,
                f"{booked['people'] + booked['tables']} double-booked ({r['throughput']:.0f} req/s)",
                "0 double-booked",
                "yes" if not bad else "NO",
            ]
        )
    if "batch" in results:
        b = results["batch"]
        booked = b["double_booked"]
        bad = booked["people"] + booked["tables"] + booked["tables_out_of_range"]
        failed |= bool(bad or b["live"] != b["created"])
        out.append(
            render_table(
                f"Batch scheduling {b['size']} (projects × investors × slots), event {b['event_id']}",
                ("figure", "value"),
                [
                    ("interest rows", b["interests"]),
                    ("dry run (read + plan), over HTTP", f"{b['dry_run_s']:.2f} s ({b['planned']} meetings)"),
                    ("schedule (read + plan + write), over HTTP", f"{b['schedule_s']:.2f} s ({b['created']} created)"),
                    ("fair-share bound (max flow)", b["quota_bound"]),
                    ("projects short of min_meetings", b["short"]),
                    ("meetings per project", f"{b['min_per_project']}–{b['max_per_project']}"),
                    ("people / tables double-booked", f"{booked['people']} / {booked['tables']}"),
                    ("setup through the API", f"{b['setup_s']:.1f} s"),
                ],
            )
        )
        targets.append(
            [
                f"batch scheduling {b['size']}, incl. the write",
                where,
                f"{b['schedule_s']:.2f} s",
                f"< {BATCH_TARGET_S:.0f} s (issue #15)",
                "yes" if b["schedule_s"] < BATCH_TARGET_S else "NO",
            ]
        )
    if "requests" in results and results["requests"]["unexpected_answers"]:
        out.append("Answers neither 201 nor 409 (first few):\n" + "\n".join(results["requests"]["unexpected_answers"]))
    out.append(targets_table(targets))
    return "\n\n".join(out), failed


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", help="a running server to measure instead of a local one")
    parser.add_argument("--token", help="an admin or organizer token of that server")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        default=os.environ.get("WUCHUANG_BENCH_POSTGRES_URL", DEFAULT_POSTGRES),
        help="the PostgreSQL server (on 127.0.0.1) to make the throwaway database on",
    )
    parser.add_argument("--database", help="the throwaway database's name (dropped and made again)")
    parser.add_argument("--quick", action="store_true", help="a smaller batch (60 × 20 × 12)")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--clients", type=int, default=500, help="connections firing at once")
    parser.add_argument("--investors", type=int, default=50)
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--slots", type=int, default=20)
    parser.add_argument("--tables", type=int, default=25)
    parser.add_argument("--batch-projects", type=int, default=200)
    parser.add_argument("--batch-investors", type=int, default=60)
    parser.add_argument("--batch-slots", type=int, default=24)
    parser.add_argument("--interest", type=float, default=0.2, help="share of (project, investor) pairs with interest")
    parser.add_argument("--min-meetings", type=int, default=5)
    parser.add_argument("--skip-requests", action="store_true")
    parser.add_argument("--skip-batch", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.batch_projects, args.batch_investors, args.batch_slots = 60, 20, 12
    if args.url and not args.token:
        parser.error("--url needs --token")
    if not args.url:
        check_loopback_url(args.postgres)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print(
        f"meetings benchmark: {args.requests} requests from {args.clients} connections; batch "
        f"{args.batch_projects} × {args.batch_investors} × {args.batch_slots}; {os.cpu_count()} CPUs",
        file=sys.stderr,
        flush=True,
    )
    if args.url:
        results, where = asyncio.run(measure(args.url.rstrip("/"), args.token, args, None)), args.url
    else:
        results, where = local(args)
    text, failed = report(results, where)
    print(text)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
