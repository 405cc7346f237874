"""Registrations per second on one hot event, through ``POST /api/v1/events/{id}/registrations``.

For each database (SQLite in a fresh temporary folder; PostgreSQL too with ``--postgres URL`` or
WUCHUANG_BENCH_POSTGRES_URL, in a throwaway database created on that server and dropped after) and
for each number of concurrent clients (1, 10, 50, 100), one published event with capacity 100 gets
``--requests`` registrations (the first 100 confirmed, the rest waitlisted), driven

* in-process: httpx.AsyncClient over httpx.ASGITransport, the app in the benchmark's own loop, and
* over a socket: uvicorn (one process, uvloop + httptools when installed) on 127.0.0.1, driven by
  one httpx.AsyncClient per concurrent client, each holding one keep-alive HTTP/1.1 connection
  (``--shared-pool``: one client whose pool holds them all; httpcore's pool then costs more CPU
  than the server, see ``benchmarks._common.http_clients``).

Each run reports throughput, p50/p99 latency, responses other than 201, overbooking (confirmed rows
in the database beyond capacity) and whether the waitlist positions are exactly 1..n, plus for the
socket the server's CPU time per registration. Every database runs in a subprocess of its own, so
Tortoise's per-process state never spans two databases.

    python -m benchmarks.registration [--quick] [--requests N] [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

With ``--url`` (and ``--database-url``, ``--data-dir``) it measures an already running server instead,
through ``benchmarks.hot`` (several ``--url`` side by side; see there).

Exit status 1 when a run overbooked, broke the waitlist, got a non-201 or timed out; falling short
of a throughput or CPU target is reported, not an error.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
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
    http_clients,
    machine_busy_percent,
    machine_cpu_jiffies,
    render_table,
    run_async,
    run_load,
    run_worker,
    targets_table,
    throwaway_postgres_database,
    uvicorn_server,
)
from events import clock
from events.db import close_db, init_db
from events.models import Event, Registration, RegistrationStatus
from events.services import catalog
from events.settings import Settings, load_settings

CAPACITY = 100
LEVELS = (1, 10, 50, 100)
QUICK_LEVELS = (1, 10)
DEFAULT_REQUESTS = 1000
QUICK_REQUESTS = 150
WARMUP_REQUESTS = 50
TARGET_CLIENTS = 50
TARGET_THROUGHPUT = 500.0  # registrations/s at 50 clients (TARGETS.md)
TARGET_CPU_MS = 5.0  # server CPU per registration (TARGETS.md)
MODES = ("in-process", "socket")
SERVER_FACTORY = "benchmarks.registration:server_app"


def server_app() -> FastAPI:
    """The app uvicorn serves in socket mode, configured from WUCHUANG_* variables."""
    return create_app(load_settings())


# --- One database, in a worker subprocess ------------------------------------------------------


def build_schema(settings: Settings) -> str:
    """Migrate the fresh database to head with Alembic; Tortoise's generate_schemas if that fails."""
    try:
        from wuchuang.migrate import upgrade_to_head

        upgrade_to_head(settings)
        return "alembic upgrade head"
    except Exception as exc:  # fall back, and say so in the report
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:120]

    async def generate() -> None:
        from tortoise import Tortoise

        await init_db(settings)
        try:
            await Tortoise.generate_schemas(safe=True)
        finally:
            await close_db()

    run_async(generate)
    return f"Tortoise generate_schemas (alembic failed: {reason})"


async def make_hot_event(label: str) -> Event:
    starts_at = clock.now() + timedelta(days=7)
    data = catalog.EventInput(
        title=f"武创荟·压测专场（{label}）",
        kind="session",
        series="wuchuanghui",
        district="donghu_gaoxin",
        venue="光谷科技会展中心",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=3),
        capacity=CAPACITY,
        tags=["压测"],
    )
    event = await catalog.create_event(data, actor="benchmark")
    return await catalog.publish_event(event.id, actor="benchmark")


async def verify(event_id: int, created: int, response_positions: list[int]) -> dict[str, Any]:
    """Overbooking and the waitlist's shape, read back from the database."""
    rows = await Registration.filter(event_id=event_id).values_list("status", "waitlist_order")
    confirmed = sum(1 for status, _ in rows if status == RegistrationStatus.CONFIRMED)
    orders = sorted(order for status, order in rows if status == RegistrationStatus.WAITLISTED)
    event = await Event.get(id=event_id)
    problems: list[str] = []
    if len(rows) != created:
        problems.append(f"{len(rows)} rows for {created} created")
    if confirmed + len(orders) != len(rows):
        problems.append("rows neither confirmed nor waitlisted")
    if confirmed < min(CAPACITY, created):
        problems.append(f"only {confirmed} confirmed")
    if orders != list(range(1, len(orders) + 1)):
        problems.append("waitlist_order not 1..n")
    if sorted(response_positions) != list(range(1, len(orders) + 1)):
        problems.append("returned positions not 1..n")
    if (event.seats_taken, event.waitlist_length) != (confirmed, len(orders)):
        problems.append(f"event counters {event.seats_taken}/{event.waitlist_length}")
    return {
        "confirmed": confirmed,
        "waitlisted": len(orders),
        "overbooked": max(0, confirmed - CAPACITY),
        "waitlist_ok": not problems,
        "problems": problems,
    }


class Runner:
    """Fires registrations at fresh hot events and measures; phones are unique across all runs."""

    def __init__(self, backend: str, requests: int, level_timeout_s: float, *, shared_pool: bool = False) -> None:
        self.backend = backend
        self.shared_pool = shared_pool
        self.requests = requests
        self.level_timeout_s = level_timeout_s
        self.phones = itertools.count(1)

    async def fire(
        self,
        clients_by_number: Sequence[httpx.AsyncClient],
        *,
        mode: str,
        clients: int,
        requests: int,
        server_pid: int | None,
        label: str,
    ) -> dict[str, Any]:
        event = await make_hot_event(label)
        path = f"/api/v1/events/{event.id}/registrations"
        positions: list[int] = []

        async def send(number: int, i: int) -> int:
            phone = f"13{next(self.phones):09d}"
            response = await clients_by_number[number].post(path, json={"name": f"压测者{i}", "phone": phone})
            if response.status_code == 201:
                position = response.json().get("waitlist_position")
                if position is not None:
                    positions.append(position)
            return response.status_code

        server_cpu = cpu_seconds(server_pid) if server_pid else 0.0
        own_cpu = cpu_seconds()
        machine = machine_cpu_jiffies()
        load = await run_load(send, requests=requests, concurrency=clients, timeout_s=self.level_timeout_s)
        own_cpu = cpu_seconds() - own_cpu
        busy = machine_busy_percent(machine, machine_cpu_jiffies())
        server_cpu = cpu_seconds(server_pid) - server_cpu if server_pid else None
        if load.timed_out:  # let requests the server was still running land before counting
            await asyncio.sleep(2)
        created = load.statuses.get("201", 0)
        check = await verify(event.id, created, positions)
        per_request = max(load.finished, 1)
        return {
            "backend": self.backend,
            "mode": mode,
            "clients": clients,
            "requests": requests,
            "finished": load.finished,
            "elapsed_s": load.elapsed_s,
            "throughput": load.throughput,
            "p50_ms": load.latency_ms(50),
            "p99_ms": load.latency_ms(99),
            "non_201": load.not_status(201),
            "statuses": dict(load.statuses),
            "timed_out": load.timed_out,
            "server_cpu_ms": server_cpu * 1000 / per_request if server_cpu is not None else None,
            "bench_cpu_ms": own_cpu * 1000 / per_request,
            "machine_busy_pct": busy,
            **check,
        }

    def progress(self, run: dict[str, Any]) -> None:
        cpu = f", server CPU {run['server_cpu_ms']:.2f} ms/reg" if run["server_cpu_ms"] is not None else ""
        print(
            f"  {run['backend']:<8} {run['mode']:<10} {run['clients']:>3} clients: {run['throughput']:7.1f} req/s, "
            f"p50 {run['p50_ms']:.1f} ms, p99 {run['p99_ms']:.1f} ms{cpu}",
            file=sys.stderr,
            flush=True,
        )

    async def in_process(self, settings: Settings, levels: Sequence[int]) -> list[dict[str, Any]]:
        app = create_app(settings, manage_db=False)
        runs = []
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
            await self.fire(
                [client] * 10, mode="warm-up", clients=10, requests=WARMUP_REQUESTS, server_pid=None, label="warm-up"
            )
            for clients in levels:
                runs.append(
                    await self.fire(
                        [client] * clients,
                        mode="in-process",
                        clients=clients,
                        requests=self.requests,
                        server_pid=None,
                        label=f"in-process {clients}",
                    )
                )
                self.progress(runs[-1])
        return runs

    async def socket(self, settings: Settings, levels: Sequence[int], log_path: Path) -> list[dict[str, Any]]:
        env = {
            "WUCHUANG_DATA_DIR": str(settings.data_dir),
            "WUCHUANG_PUBLIC_RATE_LIMIT": "0",
            "WUCHUANG_DATABASE_URL": settings.database_url or "",
        }
        runs = []
        async with uvicorn_server(SERVER_FACTORY, env=env, log_path=log_path) as server:
            async with http_clients(base_url=server.base_url, concurrency=10) as pool:
                await self.fire(
                    pool, mode="warm-up", clients=10, requests=WARMUP_REQUESTS, server_pid=server.pid, label="warm-up"
                )
            for clients in levels:
                async with http_clients(
                    base_url=server.base_url, concurrency=clients, shared_pool=self.shared_pool
                ) as pool:
                    # Open the keep-alive connections before the clock starts.
                    await run_load(
                        lambda number, _: self._health(pool[number]),
                        requests=clients,
                        concurrency=clients,
                        timeout_s=30,
                    )
                    runs.append(
                        await self.fire(
                            pool,
                            mode="socket",
                            clients=clients,
                            requests=self.requests,
                            server_pid=server.pid,
                            label=f"socket {clients}",
                        )
                    )
                self.progress(runs[-1])
        return runs

    @staticmethod
    async def _health(client: httpx.AsyncClient) -> int:
        return (await client.get("/health")).status_code


def worker(args: argparse.Namespace) -> None:
    settings = load_settings(database_url=args.database_url or None, data_dir=args.data_dir, public_rate_limit="0")
    started = time.perf_counter()
    schema = build_schema(settings)
    print(f"  {args.worker}: schema by {schema} in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    levels = [int(level) for level in args.levels.split(",")]
    modes = args.modes.split(",")
    runner = Runner(args.worker, args.requests, args.level_timeout, shared_pool=args.shared_pool)

    async def measure() -> list[dict[str, Any]]:
        await init_db(settings)
        try:
            runs = []
            if "in-process" in modes:
                runs += await runner.in_process(settings, levels)
            if "socket" in modes:
                runs += await runner.socket(settings, levels, Path(args.data_dir) / "server.log")
            return runs
        finally:
            await close_db()

    runs = run_async(measure)
    Path(args.result_file).write_text(json.dumps({"schema": schema, "runs": runs}))


# --- The whole benchmark ---------------------------------------------------------------------


def run_backend(
    backend: str, database_url: str | None, args: argparse.Namespace, levels: Sequence[int], requests: int
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"wuchuang-bench-{backend}-") as tmp:
        worker_args = [
            "--levels",
            ",".join(map(str, levels)),
            "--requests",
            str(requests),
            "--modes",
            ",".join(args.modes),
            "--level-timeout",
            str(args.level_timeout),
            *(["--shared-pool"] if args.shared_pool else []),
        ]
        budget = (len(levels) * len(args.modes) + 2) * args.level_timeout + 180
        return run_worker("benchmarks.registration", backend, database_url, tmp, worker_args, timeout_s=budget)


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def report(results: dict[str, dict[str, Any]], requests: int, levels: Sequence[int]) -> str:
    runs = [run for result in results.values() for run in result["runs"]]
    rows = [
        (
            run["backend"],
            run["mode"],
            run["clients"],
            _num(run["throughput"]),
            _num(run["p50_ms"]),
            _num(run["p99_ms"]),
            f"{run['non_201']}{' (timed out)' if run['timed_out'] else ''}",
            run["overbooked"],
            f"{run['confirmed']}+{run['waitlisted']}",
            "1..n ok" if run["waitlist_ok"] else "; ".join(run["problems"]),
            _num(run["server_cpu_ms"], 2),
            _num(run["bench_cpu_ms"], 2),
            _num(run.get("machine_busy_pct"), 0),
        )
        for run in runs
    ]
    out = [
        render_table(
            f"Registrations on one hot event (capacity {CAPACITY}), {requests} per level",
            (
                "backend",
                "mode",
                "clients",
                "req/s",
                "p50 ms",
                "p99 ms",
                "non-201",
                "overbooked",
                "conf+wait",
                "waitlist",
                "server CPU ms/reg",
                "bench CPU ms/req",
                "machine busy %",
            ),
            rows,
            left=2,
        )
        + "\nserver CPU: the uvicorn process's user+system time per registration (socket mode only); bench CPU: "
        "the benchmark process's (in-process: app and client together; socket: the client alone); machine busy: "
        "all cores, everything on the machine (server, client, PostgreSQL)"
    ]
    target_clients = TARGET_CLIENTS if TARGET_CLIENTS in levels else max(levels)
    at = f"{target_clients} clients" + ("" if target_clients == TARGET_CLIENTS else " (no 50-client level run)")
    target_rows: list[tuple[object, ...]] = []
    for run in runs:
        if run["clients"] != target_clients:
            continue
        where = f"{run['backend']}, {run['mode']}, {at}"
        met = run["throughput"] >= TARGET_THROUGHPUT
        target_rows.append(
            ("registrations/s", where, _num(run["throughput"]), f">= {TARGET_THROUGHPUT:.0f}", "yes" if met else "NO")
        )
        if run["server_cpu_ms"] is not None:
            met = run["server_cpu_ms"] <= TARGET_CPU_MS
            target_rows.append(
                (
                    "server CPU per registration",
                    where,
                    f"{run['server_cpu_ms']:.2f} ms",
                    f"<= {TARGET_CPU_MS:.0f} ms",
                    "yes" if met else "NO",
                )
            )
    worst = max((run["overbooked"] for run in runs), default=0)
    target_rows.append(("overbooked", "every run", worst, "0", "yes" if worst == 0 else "NO"))
    broken = sum(1 for run in runs if not run["waitlist_ok"])
    target_rows.append(
        (
            "waitlist positions 1..n",
            "every run",
            f"{len(runs) - broken}/{len(runs)} ok",
            "all",
            "yes" if broken == 0 else "NO",
        )
    )
    out.append(targets_table(target_rows))
    return "\n\n".join(out)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    add_postgres_argument(parser)
    parser.add_argument("--requests", type=int, help=f"registrations per level (default {DEFAULT_REQUESTS})")
    parser.add_argument("--levels", help="comma-separated client counts (default 1,10,50,100)")
    parser.add_argument(
        "--quick", action="store_true", help=f"smoke run: {QUICK_REQUESTS} registrations at 1 and 10 clients"
    )
    parser.add_argument("--modes", default=",".join(MODES), help="in-process and/or socket (default both)")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--level-timeout", type=float, default=300.0, help="seconds one level may take")
    parser.add_argument(
        "--shared-pool",
        action="store_true",
        help="socket clients share one httpx pool (slow: httpcore's pool is O(connections²))",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the raw figures here")
    # A worker measures one database; the parent starts it.
    parser.add_argument("--worker", choices=("sqlite", "postgres"), help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--result-file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return args
    args.modes = [mode.strip() for mode in args.modes.split(",") if mode.strip()]
    if not args.modes or set(args.modes) - set(MODES):
        parser.error(f"--modes takes {', '.join(MODES)}")
    if args.no_sqlite and not args.postgres:
        parser.error("--no-sqlite needs --postgres")
    if args.postgres:
        check_loopback_url(args.postgres)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    if any(arg == "--url" or arg.startswith("--url=") for arg in given):
        # An already running deployment: benchmarks.hot measures it (its --database-url and --data-dir too).
        from benchmarks import hot

        return hot.main([*given, "--phases", "registrations"])
    args = parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    levels = [int(x) for x in args.levels.split(",")] if args.levels else list(QUICK_LEVELS if args.quick else LEVELS)
    requests = args.requests or (QUICK_REQUESTS if args.quick else DEFAULT_REQUESTS)
    if requests < 1 or any(level < 1 for level in levels):
        raise SystemExit("--requests and --levels must be positive")
    print(
        f"registration benchmark: {requests} registrations per level at {levels} clients, "
        f"modes {', '.join(args.modes)}; {os.cpu_count()} CPUs, Python {platform.python_version()}",
        file=sys.stderr,
        flush=True,
    )
    results: dict[str, dict[str, Any]] = {}
    if not args.no_sqlite:
        results["sqlite"] = run_backend("sqlite", None, args, levels, requests)
    if args.postgres:
        with throwaway_postgres_database(args.postgres, f"wuchuang_bench_{os.getpid()}") as url:
            results["postgres"] = run_backend("postgres", url, args, levels, requests)
    sys.stderr.flush()
    print()
    for backend, result in results.items():
        print(f"{backend}: schema by {result['schema']}")
    print(
        f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}; the benchmark client shares them "
        "with the server (and PostgreSQL)\n"
    )
    print(report(results, requests, levels))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    runs = [run for result in results.values() for run in result["runs"]]
    failed = any(run["overbooked"] or not run["waitlist_ok"] or run["non_201"] or run["timed_out"] for run in runs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
