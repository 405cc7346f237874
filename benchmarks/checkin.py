"""Check-in redeems per second through ``POST /api/v1/checkins``, plus ticket signing/verification
speed and the SQL statements one redeem issues.

1. Over a socket: uvicorn (one process, uvloop + httptools when installed) on 127.0.0.1 and a free
   port, for each database (SQLite in a fresh temporary folder; PostgreSQL too with ``--postgres
   URL`` or WUCHUANG_BENCH_POSTGRES_URL, in a throwaway database created on that server and dropped
   after). For each number of concurrent scanners (1, 10, 50) a fresh published event whose door
   is open now (it starts in 30 minutes, no capacity) gets ``--requests`` confirmed registrations
   beforehand (through ``events.services.registration.register`` in the worker process, untimed)
   and their ticket codes, signed with the key in the data dir the server shares. Each scanner, one
   keep-alive HTTP/1.1 connection of its own and a checker token, posts
   ``{"code", "event_id", "scan_id", "gate": "g<i>"}`` for tickets no one scanned yet: every answer
   must be ``ok``. Afterwards the door statistics (``GET /api/v1/events/{id}/stats``) must count
   exactly the tickets scanned as checked in, the attendance table must hold one row per ticket
   and the scan log one row per scan: no double, no loss. A mixed run at 50 scanners sends 20 % of
   its scans for tickets checked in beforehand (untimed), which must answer
   ``already_checked_in``: the refusal path's cost. A paced run at 50 scanners offers 700 scans/s
   (each scanner at most one scan per 50/700 s, like people walking up to a gate): the target's
   p99 is about that load, while the back-to-back runs show the ceiling (where, by Little's law,
   p50 is about scanners / throughput). Server CPU per scan is the uvicorn process's; PostgreSQL's
   is summed over all its processes; the share other programs took of the machine is shown, since
   it makes the figures noisy.
2. In-process: Ed25519 ticket codes signed per second (``TicketSigner.sign``) and verified per
   second (``TicketSigner.verify``) over 20,000 codes.
3. SQL statements per redeem, counted by wrapping the Tortoise connection's ``execute_query``,
   ``execute_insert`` and ``execute_query_dict`` (transaction control and asyncpg's pool resets
   counted apart), for the service alone and for a whole API request, on the ok path, the
   already_checked_in path and a replayed ``scan_id``; and the service's CPU per call on the ok
   and already_checked_in paths (300 calls each, in-process).

Every database runs in a subprocess of its own, so Tortoise's per-process state never spans two.

    python -m benchmarks.checkin [--quick] [--requests N] [--levels 1,10,50] [--no-mixed] [--no-paced]
        [--paced-rate 700] [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

Exit status 1 when a check-in was lost or doubled, a scan got an answer other than the expected
one (or a non-200), a signature failed to verify, or a run timed out; falling short of a
throughput, latency or CPU target is reported, not an error.

With ``--url`` (and ``--database-url``, ``--data-dir``) it measures an already running server instead,
through ``benchmarks.hot`` (several ``--url`` side by side; see there).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import itertools
import json
import os
import platform
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI

from api.app import create_app
from benchmarks._common import (
    LoadResult,
    add_postgres_argument,
    check_loopback_url,
    cpu_seconds,
    http_clients,
    machine_busy_percent,
    machine_cpu_jiffies,
    percentile,
    processes_cpu_seconds,
    render_table,
    run_async,
    run_load,
    run_worker,
    targets_table,
    throwaway_postgres_database,
    uvicorn_server,
)
from benchmarks.registration import build_schema
from events import clock
from events.db import close_db, init_db
from events.models import Attendance, CheckinScan, Event
from events.services import catalog, checkin, tokens
from events.services.registration import Applicant, register
from events.services.tickets import PREFIX, TicketClaims, TicketSigner, signer_for, ticket_code
from events.settings import Settings, load_settings

LEVELS = (1, 10, 50)
QUICK_LEVELS = (1, 10)
DEFAULT_REQUESTS = 2000
QUICK_REQUESTS = 200
WARMUP_REQUESTS = 200
SERVICE_CALLS = 300  # per path, for the service's CPU per call
WARMUP_CONCURRENCY = 50
REPEAT_EVERY = 5  # the mixed run: every 5th scan (20 %) is for a ticket already checked in
PRESCAN_CONCURRENCY = 10
SIGN_CODES = 20_000
QUICK_SIGN_CODES = 5_000
TARGET_SCANNERS = 50
TARGET_THROUGHPUT = 700.0  # redeems/s at 50 scanners (TARGETS.md)
TARGET_P99_MS = 50.0
TARGET_CPU_MS = 2.0  # server CPU per redeem (TARGETS.md)
SERVER_FACTORY = "benchmarks.checkin:server_app"
SIGNING_CONTEXT = b"wuchuang-ticket-v1:"  # as events.services.tickets signs (its _CONTEXT)
OK = "ok"
REPEAT = "already_checked_in"


def server_app() -> FastAPI:
    """The app uvicorn serves, configured from WUCHUANG_* variables."""
    return create_app(load_settings())


# --- Part 2: signing and verifying codes, in-process -------------------------------------------


def measure_signatures(count: int) -> dict[str, Any]:
    """Codes signed and verified per second by one ``TicketSigner`` in this process (one core)."""
    signer = TicketSigner(Ed25519PrivateKey.generate())
    claims = [TicketClaims(100_000 + i, 1 + i % 50, 1 + i % 3) for i in range(count)]
    started = time.perf_counter()
    codes = [signer.sign(c) for c in claims]
    sign_s = time.perf_counter() - started
    started = time.perf_counter()
    verified = [signer.verify(code) for code in codes]
    verify_s = time.perf_counter() - started
    wrong = sum(1 for got, want in zip(verified, claims, strict=True) if got != want)
    # The same codes with one signature byte flipped: the refusal costs a full Ed25519 check too.
    forged = [code[:-3] + ("A" if code[-3] != "A" else "B") + code[-2:] for code in codes[: count // 4]]
    started = time.perf_counter()
    accepted_forgeries = sum(1 for code in forged if signer.verify(code) is not None)
    forged_s = time.perf_counter() - started
    # Ed25519 alone on the same messages (no base64/struct work), to show how much of verify() is the curve.
    public = signer.public_key
    pairs = []
    for code in codes[: count // 4]:
        body = code[len(PREFIX) :]
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        pairs.append((raw[-64:], SIGNING_CONTEXT + raw[:-64]))
    started = time.perf_counter()
    for signature, message in pairs:
        public.verify(signature, message)
    curve_s = time.perf_counter() - started
    return {
        "codes": count,
        "code_length": len(codes[0]),
        "sign_per_s": count / sign_s,
        "verify_per_s": count / verify_s,
        "verify_us": verify_s / count * 1e6,
        "forged_per_s": len(forged) / forged_s,
        "curve_verify_per_s": len(pairs) / curve_s,
        "wrong": wrong,
        "accepted_forgeries": accepted_forgeries,
    }


# --- Part 3: SQL statements per redeem ---------------------------------------------------------


def _short_sql(query: str, width: int = 110) -> str:
    text = re.sub(r"\s+", " ", query).strip()
    return text if len(text) <= width else text[: width - 1] + "…"


@contextlib.contextmanager
def counting_statements() -> Iterator[list[str]]:
    """Every statement sent through the default Tortoise connection (and its transactions) while
    inside, as text; transaction control appears as ``BEGIN``/``COMMIT``/``ROLLBACK``, and on
    PostgreSQL the reset query asyncpg's pool sends when a borrowed connection goes back as
    ``RESET``."""
    from tortoise import connections

    connection = connections.get("default")
    seen: list[str] = []
    patches: list[tuple[type, str, Any, bool]] = []

    def patch(cls: type, name: str, label: str | None) -> None:
        original = getattr(cls, name)
        own = name in cls.__dict__

        async def wrapper(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            seen.append(label or str(args[0] if args else kwargs.get("query", "?")))
            return await __original(self, *args, **kwargs)

        patches.append((cls, name, original, own))
        setattr(cls, name, wrapper)

    for name in ("execute_query", "execute_insert", "execute_query_dict"):
        patch(type(connection), name, None)
    wrappers: list[type] = []
    with contextlib.suppress(ImportError):
        from tortoise.backends.sqlite.client import SqliteTransactionWrapper

        wrappers.append(SqliteTransactionWrapper)
    with contextlib.suppress(ImportError):
        from tortoise.backends.asyncpg.client import TransactionWrapper

        wrappers.append(TransactionWrapper)
    for cls in wrappers:
        for name in ("begin", "commit", "rollback"):
            if name in cls.__dict__:
                patch(cls, name, name.upper())
    if connection.capabilities.dialect == "postgres":
        import asyncpg.connection

        patch(asyncpg.connection.Connection, "reset", "RESET")
    try:
        yield seen
    finally:
        for cls, name, original, own in reversed(patches):
            if own:
                setattr(cls, name, original)
            else:
                delattr(cls, name)


CONTROL = ("BEGIN", "COMMIT", "ROLLBACK")


def _tally_statements(seen: list[str]) -> dict[str, Any]:
    control = sum(1 for s in seen if s in CONTROL)
    resets = sum(1 for s in seen if s == "RESET")
    return {
        "statements": len(seen) - control - resets,
        "transaction_control": control,
        "pool_resets": resets,
        "sql": [_short_sql(s) for s in seen],
    }


async def measure_statements(settings: Settings, signer: TicketSigner) -> dict[str, Any]:
    """Statements for one redeem: the service alone, then a whole API request (in-process)."""
    event = await make_door_event("statements")
    people = await make_registrations(event.id, 4, signer)
    token = (await tokens.create_token(role="checker", name="bench statements")).plaintext
    paths: dict[str, Any] = {}

    async def service(label: str, code: str, scan_id: str) -> None:
        with counting_statements() as seen:
            outcome = await checkin.redeem(
                checkin.Scan(code=code, event_id=event.id, scan_id=scan_id, gate="g0"), signer=signer, actor="bench"
            )
        paths[label] = {"result": f"{outcome.result}{' (replayed)' if outcome.replayed else ''}"}
        paths[label].update(_tally_statements(seen))

    await service("service: ok", people[0][1], "stmt-1")
    await service("service: already_checked_in", people[0][1], "stmt-2")
    await service("service: replayed scan_id", people[0][1], "stmt-1")

    # CPU of this process per service call (the driver's side included: aiosqlite's thread, or
    # asyncpg's protocol; not PostgreSQL's), one call at a time: ok, then a repeat of each ticket.
    timed = await make_registrations(event.id, SERVICE_CALLS, signer)
    for label, prefix in (("service: ok", "cpu-ok"), ("service: already_checked_in", "cpu-again")):
        started = time.process_time()
        for n, (_, code) in enumerate(timed):
            await checkin.redeem(
                checkin.Scan(code=code, event_id=event.id, scan_id=f"{prefix}-{n}", gate="g0"), signer=signer, actor="b"
            )
        paths[label]["cpu_ms"] = (time.process_time() - started) * 1000 / len(timed)

    app = create_app(settings, manage_db=False)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        # The first use of a token stamps last_used_at (at most once a minute): not per scan.
        await client.get(f"/api/v1/events/{event.id}/stats", headers=headers)

        async def api(label: str, code: str, scan_id: str) -> None:
            body = {"code": code, "event_id": event.id, "scan_id": scan_id, "gate": "g0"}
            with counting_statements() as seen:
                response = await client.post("/api/v1/checkins", json=body, headers=headers)
            result = response.json().get("result") if response.status_code == 200 else f"HTTP {response.status_code}"
            replayed = response.status_code == 200 and response.json().get("replayed")
            paths[label] = {"result": f"{result}{' (replayed)' if replayed else ''}"}
            paths[label].update(_tally_statements(seen))

        await api("API request: ok", people[1][1], "stmt-api-1")
        await api("API request: already_checked_in", people[1][1], "stmt-api-2")
        await api("API request: replayed scan_id", people[1][1], "stmt-api-1")
    return paths


# --- Part 1: redeems over a socket, in a worker subprocess per database ------------------------

_phones = itertools.count(1)


async def make_door_event(label: str) -> Event:
    """A published event whose check-in window is open now (doors open 60 minutes before)."""
    starts_at = clock.now() + timedelta(minutes=30)
    data = catalog.EventInput(
        title=f"武创荟·检票压测（{label}）",
        kind="session",
        series="wuchuanghui",
        district="donghu_gaoxin",
        venue="光谷科技会展中心",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=3),
        capacity=None,
        tags=["压测"],
    )
    event = await catalog.create_event(data, actor="benchmark")
    return await catalog.publish_event(event.id, actor="benchmark")


async def make_registrations(event_id: int, count: int, signer: TicketSigner) -> list[tuple[int, str]]:
    """``count`` confirmed registrations, as (registration id, ticket code)."""
    tickets: list[tuple[int, str]] = []
    for _ in range(count):
        n = next(_phones)
        result = await register(event_id, Applicant(name=f"检票者{n}", phone=f"13{n:09d}"), actor="benchmark")
        code = ticket_code(result.registration, signer)
        if code is None:
            raise RuntimeError(f"registration {result.registration.id} is {result.registration.status}, no ticket")
        tickets.append((result.registration.id, code))
    return tickets


@dataclass
class Door:
    """One event at the door: its tickets and, per request number, which ticket and what answer."""

    event: Event
    tickets: list[tuple[int, str]]
    plan: list[tuple[int, str]]  # (index into tickets, expected result) per scan
    prescanned: int  # tickets checked in before the measured run (mixed run)


async def prepare_door(label: str, requests: int, signer: TicketSigner, *, mixed: bool) -> Door:
    """``requests`` tickets; for a mixed run the first fifth is checked in beforehand and every
    fifth scan of the run repeats one of them."""
    event = await make_door_event(label)
    tickets = await make_registrations(event.id, requests, signer)
    if not mixed:
        return Door(event, tickets, [(i, OK) for i in range(requests)], 0)
    repeats = requests // REPEAT_EVERY
    fresh = itertools.count(repeats)
    plan = [
        (i // REPEAT_EVERY, REPEAT) if i % REPEAT_EVERY == REPEAT_EVERY - 1 else (next(fresh), OK)
        for i in range(requests)
    ]
    return Door(event, tickets, plan, repeats)


@dataclass
class ScanTally:
    results: Counter[str] = field(default_factory=Counter)
    unexpected: Counter[str] = field(default_factory=Counter)
    wrong_registration: int = 0
    # Paced runs: the request alone, without the scanner's wait for its next slot.
    latencies_s: list[float] = field(default_factory=list)


class Runner:
    def __init__(self, backend: str, requests: int, level_timeout_s: float, signer: TicketSigner) -> None:
        self.backend = backend
        self.requests = requests
        self.level_timeout_s = level_timeout_s
        self.signer = signer
        self.token = ""

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def scan(
        self,
        pool: Sequence[httpx.AsyncClient],
        door: Door,
        plan: list[tuple[int, str]],
        *,
        prefix: str,
        concurrency: int,
        rate: float | None = None,
    ) -> tuple[LoadResult, ScanTally]:
        """Send ``plan`` from ``concurrency`` scanners: back to back, or with ``rate`` (scans/s
        for all scanners together) each scanner sends at most once per ``concurrency / rate`` s,
        as a door where people walk up one after another."""
        tally = ScanTally()
        headers = self.headers()
        event_id = door.event.id
        interval = concurrency / rate if rate else 0.0
        started = time.perf_counter()
        # Staggered, so the scanners do not all fire in the same instant.
        slots = [started + number * interval / concurrency for number in range(concurrency)]

        async def send(number: int, i: int) -> int:
            index, expected = plan[i]
            registration_id, code = door.tickets[index]
            # Scan ids are per checker token, which serves every door here: the door is part of the id.
            body = {"code": code, "event_id": event_id, "scan_id": f"{prefix}-{event_id}-{i}", "gate": f"g{number}"}
            if interval:
                delay = slots[number] - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                sent_at = time.perf_counter()
                slots[number] = max(slots[number], sent_at) + interval
            response = await pool[number].post("/api/v1/checkins", json=body, headers=headers)
            if interval:
                tally.latencies_s.append(time.perf_counter() - sent_at)
            if response.status_code == 200:
                answer = response.json()
                result = answer.get("result")
                tally.results[result] += 1
                if result != expected:
                    tally.unexpected[f"{result} (expected {expected})"] += 1
                elif (answer.get("registration") or {}).get("id") != registration_id:
                    tally.wrong_registration += 1
            return response.status_code

        load = await run_load(send, requests=len(plan), concurrency=concurrency, timeout_s=self.level_timeout_s)
        return load, tally

    async def verify(self, client: httpx.AsyncClient, door: Door, load: LoadResult, tally: ScanTally) -> dict[str, Any]:
        """Door statistics, attendance rows and scan log against what was sent."""
        scanned = {index for index, _ in door.plan[: load.requests]} | set(range(door.prescanned))
        expected_in = len(scanned)
        response = await client.get(f"/api/v1/events/{door.event.id}/stats", headers=self.headers())
        stats_in = response.json().get("checked_in") if response.status_code == 200 else None
        rows = await Attendance.filter(event_id=door.event.id).values_list("registration_id", flat=True)
        scans_logged = await CheckinScan.filter(event_id=door.event.id).count()
        scans_sent = load.requests + door.prescanned
        problems: list[str] = []
        if stats_in != expected_in:
            problems.append(f"stats checked_in {stats_in} for {expected_in} tickets scanned")
        if len(rows) != len(set(rows)):
            problems.append(f"{len(rows) - len(set(rows))} doubled attendance rows")
        if len(set(rows)) != expected_in:
            problems.append(f"{len(set(rows))} attendance rows for {expected_in} tickets")
        if scans_logged != scans_sent:
            problems.append(f"{scans_logged} scans logged for {scans_sent} sent")
        expected_ok = sum(1 for _, want in door.plan if want == OK)
        if tally.results.get(OK, 0) != expected_ok:
            problems.append(f"{tally.results.get(OK, 0)} ok for {expected_ok} fresh tickets")
        if tally.wrong_registration:
            problems.append(f"{tally.wrong_registration} answers named another registration")
        return {
            "expected_in": expected_in,
            "stats_in": stats_in,
            "attendance_rows": len(rows),
            "scans_logged": scans_logged,
            "lost": max(0, expected_in - len(set(rows))),
            "doubled": len(rows) - len(set(rows)),
            "count_ok": not problems,
            "problems": problems,
        }

    async def level(
        self, server: Any, scanners: int, *, mixed: bool = False, rate: float | None = None
    ) -> dict[str, Any]:
        kind = "mixed, 20% repeats" if mixed else (f"paced at {rate:.0f}/s" if rate else "fresh tickets")
        label = f"{kind}, {scanners} scanners"
        started = time.perf_counter()
        door = await prepare_door(label, self.requests, self.signer, mixed=mixed)
        setup_s = time.perf_counter() - started
        async with http_clients(base_url=server.base_url, concurrency=max(scanners, PRESCAN_CONCURRENCY)) as pool:
            # Open the keep-alive connections before the clock starts.
            await run_load(lambda n, _: self._health(pool[n]), requests=len(pool), concurrency=len(pool), timeout_s=30)
            if door.prescanned:
                pre_plan = [(i, OK) for i in range(door.prescanned)]
                pre, pre_tally = await self.scan(pool, door, pre_plan, prefix="pre", concurrency=PRESCAN_CONCURRENCY)
                if pre.not_status(200) or pre_tally.unexpected or pre.timed_out:
                    raise RuntimeError(
                        f"checking in the repeat tickets beforehand failed: {pre.statuses} {dict(pre_tally.unexpected)}"
                    )
            server_cpu = cpu_seconds(server.pid)
            own_cpu = cpu_seconds()
            db_cpu = processes_cpu_seconds("postgres") if self.backend == "postgres" else None
            machine = machine_cpu_jiffies()
            load, tally = await self.scan(pool, door, door.plan, prefix="run", concurrency=scanners, rate=rate)
            own_cpu = cpu_seconds() - own_cpu
            busy = machine_busy_percent(machine, machine_cpu_jiffies())
            server_cpu = cpu_seconds(server.pid) - server_cpu
            if db_cpu is not None:
                after = processes_cpu_seconds("postgres")
                db_cpu = None if after is None else after - db_cpu
            if load.timed_out:  # let scans the server was still running land before counting
                await asyncio.sleep(2)
            check = await self.verify(pool[0], door, load, tally)
        per_request = max(load.finished, 1)
        latencies = tally.latencies_s if rate else load.latencies_s
        # What the rest of the machine did meanwhile (other programs): busy minus the parts we know.
        cores = os.cpu_count() or 1
        known = server_cpu + own_cpu + (db_cpu or 0.0)
        others = None if busy is None else max(0.0, busy - 100 * known / (load.elapsed_s * cores))
        run = {
            "backend": self.backend,
            "run": kind,
            "mixed": mixed,
            "paced_rate": rate,
            "scanners": scanners,
            "requests": load.requests,
            "finished": load.finished,
            "elapsed_s": load.elapsed_s,
            "setup_s": setup_s,
            "throughput": load.throughput,
            "p50_ms": percentile(latencies, 50) * 1000,
            "p99_ms": percentile(latencies, 99) * 1000,
            "non_200": load.not_status(200),
            "statuses": dict(load.statuses),
            "results": dict(tally.results),
            "unexpected": dict(tally.unexpected),
            "timed_out": load.timed_out,
            "server_cpu_ms": server_cpu * 1000 / per_request,
            "bench_cpu_ms": own_cpu * 1000 / per_request,
            "db_cpu_ms": None if db_cpu is None else db_cpu * 1000 / per_request,
            "machine_busy_pct": busy,
            "others_pct": others,
            **check,
        }
        self.progress(run)
        return run

    def progress(self, run: dict[str, Any]) -> None:
        results = ", ".join(f"{k} {v}" for k, v in sorted(run["results"].items()))
        db = "" if run["db_cpu_ms"] is None else f", PG CPU {run['db_cpu_ms']:.2f} ms/scan"
        print(
            f"  {run['backend']:<8} {run['run']:<18} {run['scanners']:>3} scanners: "
            f"{run['throughput']:7.1f} redeems/s, "
            f"p50 {run['p50_ms']:.1f} ms, p99 {run['p99_ms']:.1f} ms, "
            f"server CPU {run['server_cpu_ms']:.2f} ms/scan{db} "
            f"[{results}] (set-up {run['setup_s']:.1f} s, others {_num(run['others_pct'], 0)} %)",
            file=sys.stderr,
            flush=True,
        )

    async def socket(
        self,
        settings: Settings,
        levels: Sequence[int],
        extra_at: int,
        extras: Sequence[str],
        pace: float,
        log_path: Path,
    ) -> list[dict[str, Any]]:
        env = {
            "WUCHUANG_DATA_DIR": str(settings.data_dir),
            "WUCHUANG_PUBLIC_RATE_LIMIT": "0",
            "WUCHUANG_DATABASE_URL": settings.database_url or "",
        }
        self.token = (await tokens.create_token(role="checker", name=f"bench {self.backend}")).plaintext
        runs = []
        async with uvicorn_server(SERVER_FACTORY, env=env, log_path=log_path) as server:
            # Warm-up: imports, prepared statements, the token's last_used_at stamp.
            # Enough concurrency that every pooled database connection prepares its statements.
            door = await prepare_door("warm-up", WARMUP_REQUESTS, self.signer, mixed=False)
            warm = min(max(levels), WARMUP_CONCURRENCY)
            async with http_clients(base_url=server.base_url, concurrency=warm) as pool:
                await self.scan(pool, door, door.plan, prefix="warm", concurrency=warm)
            for scanners in levels:
                runs.append(await self.level(server, scanners, mixed=False))
            if "mixed" in extras:
                runs.append(await self.level(server, extra_at, mixed=True))
            if "paced" in extras:
                runs.append(await self.level(server, extra_at, rate=pace))
        return runs

    @staticmethod
    async def _health(client: httpx.AsyncClient) -> int:
        return (await client.get("/health")).status_code


def worker(args: argparse.Namespace) -> None:
    settings = load_settings(database_url=args.database_url or None, data_dir=args.data_dir, public_rate_limit="0")
    started = time.perf_counter()
    schema = build_schema(settings)
    print(f"  {args.worker}: schema by {schema} in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    # The key pair is made here, before the server starts; the server reads the same file.
    signer = signer_for(settings.data_dir.resolve())
    levels = [int(level) for level in args.levels.split(",")]
    extras = [extra for extra in args.extras.split(",") if extra]
    runner = Runner(args.worker, args.requests, args.level_timeout, signer)

    async def measure() -> dict[str, Any]:
        await init_db(settings)
        try:
            statements = await measure_statements(settings, signer)
            runs = await runner.socket(
                settings, levels, args.extra_at, extras, args.paced_rate, Path(args.data_dir) / "server.log"
            )
            return {"schema": schema, "statements": statements, "runs": runs, "key_id": signer.key_id}
        finally:
            await close_db()

    Path(args.result_file).write_text(json.dumps(run_async(measure)))


# --- The whole benchmark ---------------------------------------------------------------------


def run_backend(
    backend: str,
    database_url: str | None,
    args: argparse.Namespace,
    levels: Sequence[int],
    requests: int,
    extras: Sequence[str],
    extra_at: int,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"wuchuang-bench-checkin-{backend}-") as tmp:
        worker_args = [
            "--levels",
            ",".join(map(str, levels)),
            "--requests",
            str(requests),
            "--extras",
            ",".join(extras),
            "--extra-at",
            str(extra_at),
            "--paced-rate",
            str(args.paced_rate),
            "--level-timeout",
            str(args.level_timeout),
        ]
        runs = len(levels) + len(extras)
        # Each level: its registrations (set-up), then its scans; both bounded by the level timeout.
        budget = (2 * runs + 1) * args.level_timeout + 180
        return run_worker("benchmarks.checkin", backend, database_url, tmp, worker_args, timeout_s=budget)


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _results(run: dict[str, Any]) -> str:
    short = {OK: "ok", REPEAT: "already"}
    return ", ".join(f"{short.get(k, k)} {v}" for k, v in sorted(run["results"].items(), key=lambda kv: kv[0] != OK))


def report(results: dict[str, dict[str, Any]], signatures: dict[str, Any], requests: int, levels: Sequence[int]) -> str:
    runs = [run for result in results.values() for run in result["runs"]]
    out: list[str] = []
    rows = [
        (
            run["backend"],
            run["run"],
            run["scanners"],
            _num(run["throughput"]),
            _num(run["p50_ms"]),
            _num(run["p99_ms"]),
            _results(run),
            f"{sum(run['unexpected'].values()) + run['non_200']}{' (timed out)' if run['timed_out'] else ''}",
            f"{run['stats_in']}/{run['expected_in']}",
            "ok" if run["count_ok"] else "; ".join(run["problems"]),
            _num(run["server_cpu_ms"], 2),
            _num(run["bench_cpu_ms"], 2),
            _num(run["db_cpu_ms"], 2),
            _num(run["machine_busy_pct"], 0),
            _num(run["others_pct"], 0),
        )
        for run in runs
    ]
    out.append(
        render_table(
            f"Check-in redeems over a socket (POST /api/v1/checkins), {requests} scans per run",
            (
                "backend",
                "run",
                "scanners",
                "redeems/s",
                "p50 ms",
                "p99 ms",
                "results",
                "unexpected",
                "stats in/scanned",
                "no double, no loss",
                "server CPU ms/scan",
                "bench CPU ms/scan",
                "PG CPU ms/scan",
                "machine busy %",
                "others %",
            ),
            rows,
            left=2,
        )
        + "\nfresh tickets: every scanner sends its next scan as soon as the answer arrives (the server's ceiling; "
        "by Little's law p50 ≈ scanners / redeems/s). paced: each scanner sends at most once per scanners/rate "
        "seconds, latency of the request alone. unexpected: answers other than ok (fresh tickets) or "
        "already_checked_in (repeats), plus non-200s. "
        "stats in/scanned: checked_in from GET /events/{id}/stats against distinct tickets scanned (mixed: with the "
        "fifth checked in beforehand). no double, no loss: also one attendance row per ticket and one scan-log row "
        "per scan. server CPU: the uvicorn process's user+system time per scan; bench CPU: the client's; PG CPU: "
        "all postgres processes on the machine; machine busy: all cores, everything; others: the part of that spent "
        "by other programs (noise: figures taken while it is high understate the server)."
    )
    stmt_rows: list[tuple[object, ...]] = []
    for backend, result in results.items():
        for label, path in result["statements"].items():
            trips = path["statements"] + path["transaction_control"] + path["pool_resets"]
            stmt_rows.append(
                (
                    backend,
                    label,
                    path["result"],
                    path["statements"],
                    path["transaction_control"],
                    path["pool_resets"] if backend == "postgres" else "-",
                    trips,
                    _num(path.get("cpu_ms"), 2),
                )
            )
    out.append(
        render_table(
            "SQL statements per redeem (execute_query/_insert/_query_dict; transaction control and pool resets apart)",
            (
                "backend",
                "path",
                "answer",
                "statements",
                "BEGIN/COMMIT/ROLLBACK",
                "pool resets",
                "round trips",
                "CPU ms/call",
            ),
            stmt_rows,
            left=3,
        )
        + "\npool resets: asyncpg's pool sends its reset query "
        "(pg_advisory_unlock_all; CLOSE ALL; UNLISTEN *; RESET ALL) each time Tortoise gives back the connection "
        "it borrowed for one statement or one transaction. round trips: to PostgreSQL, or on SQLite hand-offs to "
        f"aiosqlite's thread. CPU ms/call: {SERVICE_CALLS} calls of checkin.redeem in the worker process, one at a "
        "time, its CPU (driver included, PostgreSQL's own not): the refusal path's cost beside the ok path's."
    )
    shown = "postgres" if "postgres" in results else next(iter(results), None)
    if shown is not None:
        lines = []
        for label in ("API request: ok", "API request: already_checked_in"):
            path = results[shown]["statements"].get(label)
            if path:
                lines.append(f"{label} ({shown}):")
                lines += [f"  {i}. {sql}" for i, sql in enumerate(path["sql"], 1)]
        out.append("\n".join(lines))

    s = signatures
    out.append(
        render_table(
            f"Ticket codes in-process (Ed25519, {s['codes']} codes of {s['code_length']} characters, one core)",
            ("operation", "per second", "µs each"),
            [
                ("TicketSigner.sign", _num(s["sign_per_s"], 0), _num(1e6 / s["sign_per_s"], 1)),
                ("TicketSigner.verify (genuine)", _num(s["verify_per_s"], 0), _num(s["verify_us"], 1)),
                (
                    "TicketSigner.verify (forged signature)",
                    _num(s["forged_per_s"], 0),
                    _num(1e6 / s["forged_per_s"], 1),
                ),
                ("Ed25519 verify alone", _num(s["curve_verify_per_s"], 0), _num(1e6 / s["curve_verify_per_s"], 1)),
            ],
        )
        + f"\nall {s['codes']} verified to their claims: "
        f"{'yes' if not s['wrong'] else 'NO, ' + str(s['wrong']) + ' wrong'}; "
        f"forgeries accepted: {s['accepted_forgeries']}"
    )

    target_scanners = TARGET_SCANNERS if TARGET_SCANNERS in levels else max(levels)
    at = f"{target_scanners} scanners" + ("" if target_scanners == TARGET_SCANNERS else " (no 50-scanner level run)")
    target_rows: list[tuple[object, ...]] = []
    for run in runs:
        if run["scanners"] != target_scanners or run["mixed"]:
            continue
        where = f"{run['backend']}, {run['run']}, {at}"
        if not run["paced_rate"]:
            target_rows.append(
                (
                    "check-in redeems/s",
                    where,
                    _num(run["throughput"]),
                    f">= {TARGET_THROUGHPUT:.0f}",
                    "yes" if run["throughput"] >= TARGET_THROUGHPUT else "NO",
                )
            )
        else:
            # Offered the target rate: did the door keep up, and how fast were the answers?
            kept_up = run["throughput"] >= 0.97 * run["paced_rate"]
            target_rows.append(
                (
                    "redeems/s when offered the target rate",
                    where,
                    _num(run["throughput"]),
                    f">= {TARGET_THROUGHPUT:.0f}",
                    "yes" if kept_up and run["paced_rate"] >= TARGET_THROUGHPUT else "NO",
                )
            )
        target_rows.append(
            (
                "p99 latency",
                where,
                f"{run['p99_ms']:.1f} ms",
                f"< {TARGET_P99_MS:.0f} ms",
                "yes" if run["p99_ms"] < TARGET_P99_MS else "NO",
            )
        )
        target_rows.append(
            (
                "server CPU per redeem",
                where,
                f"{run['server_cpu_ms']:.2f} ms",
                f"<= {TARGET_CPU_MS:.0f} ms",
                "yes" if run["server_cpu_ms"] <= TARGET_CPU_MS else "NO",
            )
        )
    lost = sum(run["lost"] for run in runs)
    doubled = sum(run["doubled"] for run in runs)
    broken = sum(1 for run in runs if not run["count_ok"])
    unexpected = sum(sum(run["unexpected"].values()) + run["non_200"] for run in runs)
    target_rows.append(
        (
            "check-ins lost / doubled",
            "every run",
            f"{lost} / {doubled}",
            "0 / 0",
            "yes" if lost == doubled == 0 else "NO",
        )
    )
    target_rows.append(
        (
            "stats = tickets scanned, logs complete",
            "every run",
            f"{len(runs) - broken}/{len(runs)} ok",
            "all",
            "yes" if broken == 0 else "NO",
        )
    )
    target_rows.append(("unexpected answers", "every run", unexpected, "0", "yes" if unexpected == 0 else "NO"))
    out.append(targets_table(target_rows))
    return "\n\n".join(out)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    add_postgres_argument(parser)
    parser.add_argument("--requests", type=int, help=f"scans per level (default {DEFAULT_REQUESTS})")
    parser.add_argument("--levels", help="comma-separated scanner counts (default 1,10,50)")
    parser.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK_REQUESTS} scans at 1 and 10 scanners")
    parser.add_argument("--no-mixed", action="store_true", help="skip the run with 20%% repeat scans")
    parser.add_argument("--no-paced", action="store_true", help="skip the run paced at --paced-rate")
    parser.add_argument(
        "--paced-rate",
        type=float,
        default=TARGET_THROUGHPUT,
        help=f"scans/s offered by all scanners together in the paced run (default {TARGET_THROUGHPUT:.0f})",
    )
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--level-timeout", type=float, default=300.0, help="seconds one level may take")
    parser.add_argument("--json", metavar="PATH", help="also write the raw figures here")
    # A worker measures one database; the parent starts it.
    parser.add_argument("--worker", choices=("sqlite", "postgres"), help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--result-file", help=argparse.SUPPRESS)
    parser.add_argument("--extras", default="", help=argparse.SUPPRESS)
    parser.add_argument("--extra-at", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return args
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

        return hot.main([*given, "--phases", "redeems"])
    args = parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    levels = [int(x) for x in args.levels.split(",")] if args.levels else list(QUICK_LEVELS if args.quick else LEVELS)
    requests = args.requests or (QUICK_REQUESTS if args.quick else DEFAULT_REQUESTS)
    if requests < REPEAT_EVERY or any(level < 1 for level in levels):
        raise SystemExit(f"--requests must be at least {REPEAT_EVERY} and --levels positive")
    extra_at = TARGET_SCANNERS if TARGET_SCANNERS in levels else max(levels)
    extras = [name for name, skip in (("mixed", args.no_mixed), ("paced", args.no_paced)) if not skip]
    print(
        f"check-in benchmark: {requests} scans per level at {levels} scanners"
        f"{'; ' + ' and '.join(extras) + f' runs at {extra_at}' if extras else ''}; {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        file=sys.stderr,
        flush=True,
    )
    signatures = measure_signatures(QUICK_SIGN_CODES if args.quick else SIGN_CODES)
    print(
        f"  signatures: {signatures['sign_per_s']:.0f} signed/s, {signatures['verify_per_s']:.0f} verified/s",
        file=sys.stderr,
        flush=True,
    )
    results: dict[str, dict[str, Any]] = {}
    if not args.no_sqlite:
        results["sqlite"] = run_backend("sqlite", None, args, levels, requests, extras, extra_at)
    if args.postgres:
        with throwaway_postgres_database(args.postgres, f"wuchuang_bench_checkin_{os.getpid()}") as url:
            results["postgres"] = run_backend("postgres", url, args, levels, requests, extras, extra_at)
    sys.stderr.flush()
    print()
    for backend, result in results.items():
        print(f"{backend}: schema by {result['schema']}")
    print(
        f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}; the benchmark client shares them "
        "with the server (and PostgreSQL)\n"
    )
    print(report(results, signatures, requests, levels))
    if args.json:
        Path(args.json).write_text(json.dumps({"signatures": signatures, **results}, indent=2))
    runs = [run for result in results.values() for run in result["runs"]]
    failed = (
        any(
            run["non_200"]
            or run["unexpected"]
            or run["timed_out"]
            or not run["count_ok"]
            or run["lost"]
            or run["doubled"]
            for run in runs
        )
        or signatures["wrong"]
        or signatures["accepted_forgeries"]
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
