"""A broadcast to 10,000 people through the outbox dispatcher, against the fake Bot API enforcing
Telegram's limits (30 messages/s per bot, 1/s per chat, 429 with retry_after beyond them).

For each database (SQLite in a fresh temporary folder; PostgreSQL too with ``--postgres URL`` or
WUCHUANG_BENCH_POSTGRES_URL, in a throwaway database created on that server and dropped after),
in a worker subprocess of its own (Tortoise's per-process state never spans two databases):

1. ``--recipients`` people (default 10,000), each with a Telegram chat of their own, and one queued
   outbox row per person (a broadcast: 10,000 chats) are bulk-inserted, untimed.
2. The fake Bot API runs in a subprocess of its own (so the figures below are the dispatcher's, not
   the fake's) with every chat introduced and Telegram's limits on.
3. ``Dispatcher(TelegramChannel(bot), rate_per_s=--rate).drain()`` sends until nothing is due.

Reported: the achieved rate as a share of the configured one (wall time of the whole drain, start-up
included), the 429s the fake answered, the total time, the busiest second the fake saw, whether every
row was sent exactly once (the fake's messages per chat against the rows, the rows' message ids), the
dispatcher process's CPU per message and its peak memory (tracemalloc's peak of Python allocations during
the drain, and the process's maximum resident set size).

    python -m benchmarks.broadcast [--quick] [--recipients N] [--rate R] [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

The figures table takes one row per figure and part, so further parts (the reminders computation, say)
add their rows to the same table: see ``FIGURE_HEADERS`` and ``report``.

Exit status 1 when a message was lost or doubled, or a run timed out; falling short of a target is
reported, not an error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import select
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks._common import (
    REPO_ROOT,
    add_postgres_argument,
    check_loopback_url,
    cpu_seconds,
    render_table,
    run_async,
    run_worker,
    subprocess_env,
    throwaway_postgres_database,
)

DEFAULT_RECIPIENTS = 10_000
QUICK_RECIPIENTS = 1_000
DEFAULT_RATE = 25.0
FIRST_CHAT = 500_000_001
TELEGRAM_GLOBAL_PER_S = 30
TELEGRAM_PER_CHAT_PER_S = 1
TARGET_RATE_SHARE = 0.95  # of the configured rate
TARGET_429 = 0
TARGET_TOTAL_S = 6 * 60  # for 10,000 recipients; scaled by recipients for other sizes
TARGET_RECIPIENTS = 10_000
INSERT_BATCH = 1_000
PROGRESS_EVERY_S = 15.0
START_TIMEOUT_S = 60.0
FIGURE_HEADERS = ("part", "backend", "figure", "measured", "target", "met")


# --- The fake Bot API, in a subprocess of its own ----------------------------------------------------------


def fake_telegram_main(first_chat: int, chats: int) -> None:
    """Serve the fake Bot API with ``chats`` private chats and Telegram's limits; print its base URL on
    one line; stop when stdin closes. ``benchStats`` (a method of its own) answers what it saw."""
    from tests.fake_telegram import FakeTelegram

    async def serve() -> None:
        async with FakeTelegram() as tg:
            for chat in range(first_chat, first_chat + chats):
                tg.add_user(chat)
            tg.rate_limit(global_per_s=TELEGRAM_GLOBAL_PER_S, per_chat_per_s=TELEGRAM_PER_CHAT_PER_S)

            def stats(params: dict[str, Any]) -> dict[str, Any]:
                sends = [c for c in tg.calls if c.method in ("sendMessage", "sendPhoto")]
                ok = [c for c in sends if c.ok]
                per_chat: dict[Any, int] = {}
                for call in ok:
                    per_chat[call.params.get("chat_id")] = per_chat.get(call.params.get("chat_id"), 0) + 1
                times = sorted(c.at for c in ok)
                busiest, j = 0, 0
                for i, at in enumerate(times):  # most accepted sends in any 1-second window
                    while times[j] <= at - 1.0:
                        j += 1
                    busiest = max(busiest, i - j + 1)
                return {
                    "sends": len(sends),
                    "ok": len(ok),
                    "too_many_requests": tg.too_many_requests,
                    "other_errors": sum(1 for c in sends if not c.ok and c.status != 429),
                    "chats": len(per_chat),
                    "doubled_chats": sum(1 for n in per_chat.values() if n > 1),
                    "busiest_second": busiest,
                    "first_to_last_s": (times[-1] - times[0]) if len(times) > 1 else 0.0,
                }

            tg.register_method("benchStats", stats)
            print(tg.base_url, flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

    asyncio.run(serve())


class FakeTelegramProcess:
    def __init__(self, first_chat: int, chats: int) -> None:
        self.first_chat = first_chat
        self.chats = chats
        self.process: subprocess.Popen[str] | None = None
        self.base_url = ""

    def __enter__(self) -> FakeTelegramProcess:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.broadcast",
                "--fake-telegram",
                "--first-chat",
                str(self.first_chat),
                "--recipients",
                str(self.chats),
            ],
            cwd=REPO_ROOT,
            env=subprocess_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], START_TIMEOUT_S)
        line = self.process.stdout.readline().strip() if ready else ""
        if not line.startswith("http://"):
            self.__exit__()
            raise RuntimeError(f"the fake Bot API did not start (said {line!r})")
        self.base_url = line
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process is None:
            return
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


# --- One database, in a worker subprocess ----------------------------------------------------------------


async def seed(recipients: int) -> dict[int, int]:
    """People with a chat each and one queued broadcast row per person; {telegram_id: outbox id}."""
    from events import clock
    from events.models import Category, OutboxMessage, Person

    now = clock.now()
    for start in range(0, recipients, INSERT_BATCH):
        await Person.bulk_create(
            [
                Person(name=f"收件人{i}", telegram_id=FIRST_CHAT + i, language="zh")
                for i in range(start, min(start + INSERT_BATCH, recipients))
            ]
        )
    people = dict(await Person.filter(telegram_id__gte=FIRST_CHAT).values_list("telegram_id", "id"))
    text = (
        "<b>武创荟·第12期 技术转移专场</b>\n时间：6月18日 14:00\n地点：光谷科技会展中心\n"
        "议程调整：路演提前至 14:30，请提前 &lt;15分钟&gt; 签到。"
    )
    buttons = [[{"text": "查看活动", "url": "https://wuchuang.example.cn/e/12"}]]
    for start in range(0, recipients, INSERT_BATCH):
        await OutboxMessage.bulk_create(
            [
                OutboxMessage(
                    person_id=people[FIRST_CHAT + i],
                    category=Category.BROADCAST,
                    dedup_key=f"broadcast:bench:{i}",
                    locale="zh",
                    text=text,
                    buttons=buttons,
                    urgent=True,  # the benchmark may run at night: an organizer's change goes at once
                    not_before=now,
                    broadcast_id=1,
                )
                for i in range(start, min(start + INSERT_BATCH, recipients))
            ]
        )
    rows = await OutboxMessage.filter(broadcast_id=1).values_list("id", "person__telegram_id")
    return {int(chat): int(row_id) for row_id, chat in rows}


async def fake_stats(base_url: str) -> dict[str, Any]:
    import httpx

    from tests.fake_telegram import DEFAULT_TOKEN

    async with httpx.AsyncClient(timeout=30, trust_env=False) as http:
        response = await http.post(f"{base_url}/bot{DEFAULT_TOKEN}/benchStats")
        return dict(response.json()["result"])


async def broadcast(settings: Any, recipients: int, rate: float, base_url: str, backend: str) -> dict[str, Any]:
    from aiogram import Bot
    from aiogram.client.default import DefaultBotProperties
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.enums import ParseMode

    from events.db import close_db, init_db
    from events.models import OutboxMessage, OutboxStatus
    from notifications.channels import TelegramChannel
    from notifications.dispatcher import Dispatcher
    from tests.fake_telegram import DEFAULT_TOKEN

    await init_db(settings)
    try:
        started = time.perf_counter()
        rows = await seed(recipients)
        seed_s = time.perf_counter() - started
        print(f"  {backend}: {len(rows):,} people and outbox rows in {seed_s:.1f} s", file=sys.stderr, flush=True)

        session = AiohttpSession(api=TelegramAPIServer.from_base(base_url))
        bot = Bot(DEFAULT_TOKEN, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
        dispatcher = Dispatcher(TelegramChannel(bot), rate_per_s=rate)
        budget = recipients / rate * 1.5 + 120

        async def progress() -> None:
            begun = time.perf_counter()
            while True:
                await asyncio.sleep(PROGRESS_EVERY_S)
                sent = dispatcher.stats["sent"]
                spent = time.perf_counter() - begun
                print(
                    f"  {backend}: {sent:,}/{recipients:,} sent in {spent:.0f} s ({sent / spent:.1f}/s)",
                    file=sys.stderr,
                    flush=True,
                )

        reporter = asyncio.create_task(progress())
        rss_before = rss_mb()
        tracemalloc.start()
        cpu = cpu_seconds()
        started = time.perf_counter()
        timed_out = False
        try:
            await dispatcher.drain(timeout=budget)
        except TimeoutError:
            timed_out = True
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds() - cpu
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        reporter.cancel()
        await session.close()

        fake = await fake_stats(base_url)
        statuses: dict[str, int] = {}
        for status in await OutboxMessage.filter(broadcast_id=1).values_list("status", flat=True):
            statuses[str(status)] = statuses.get(str(status), 0) + 1
        with_ids = await OutboxMessage.filter(
            broadcast_id=1, status=OutboxStatus.SENT, telegram_message_id__isnull=False
        ).count()
        sent = statuses.get(OutboxStatus.SENT.value, 0)
        return {
            "backend": backend,
            "recipients": recipients,
            "rate": rate,
            "seed_s": seed_s,
            "elapsed_s": elapsed,
            "timed_out": timed_out,
            "achieved_rate": sent / elapsed if elapsed > 0 else 0.0,
            "statuses": statuses,
            "sent": sent,
            "with_message_id": with_ids,
            "dispatcher_stats": dict(dispatcher.stats),
            "fake": fake,
            "cpu_ms_per_message": cpu * 1000 / max(sent, 1),
            "tracemalloc_peak_mb": peak / 2**20,
            "rss_at_start_mb": rss_before,
            "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    finally:
        await close_db()


def worker(args: argparse.Namespace) -> None:
    from events.settings import load_settings

    settings = load_settings(database_url=args.database_url or None, data_dir=args.data_dir)
    with FakeTelegramProcess(FIRST_CHAT, args.recipients) as fake:
        run = run_async(lambda: broadcast(settings, args.recipients, args.rate, fake.base_url, args.worker))
    Path(args.result_file).write_text(json.dumps(run))


def rss_mb() -> float | None:
    """This process's resident set size now, from /proc; None elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


# --- The whole benchmark ---------------------------------------------------------------------------------


def run_backend(backend: str, database_url: str | None, args: argparse.Namespace) -> dict[str, Any]:
    # The schema is built here, so the worker's memory holds no Alembic or SQLAlchemy.
    from benchmarks.registration import build_schema
    from events.settings import load_settings

    with tempfile.TemporaryDirectory(prefix=f"wuchuang-bench-broadcast-{backend}-") as tmp:
        started = time.perf_counter()
        schema = build_schema(load_settings(database_url=database_url, data_dir=tmp))
        print(f"  {backend}: schema by {schema} in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
        worker_args = [
            "--recipients",
            str(args.recipients),
            "--rate",
            str(args.rate),
        ]
        budget = args.recipients / args.rate * 1.5 + 600
        run = run_worker("benchmarks.broadcast", backend, database_url, tmp, worker_args, timeout_s=budget)
        run["schema"] = schema
        return run


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} MB"


def _yes(met: bool) -> str:
    return "yes" if met else "NO"


def broadcast_figures(run: dict[str, Any]) -> list[tuple[object, ...]]:
    """The broadcast's rows of the figures table (FIGURE_HEADERS)."""
    backend, n, rate = run["backend"], run["recipients"], run["rate"]
    fake = run["fake"]
    part = f"broadcast to {n:,} chats at {rate:g}/s"
    share = run["achieved_rate"] / rate
    total_target = TARGET_TOTAL_S * n / TARGET_RECIPIENTS
    lost = n - fake["chats"]
    exact = fake["doubled_chats"] == 0 and lost == 0 and run["sent"] == n and run["with_message_id"] == n
    floor = n / rate
    return [
        (
            part,
            backend,
            "achieved rate / configured",
            f"{share:.3f} ({run['achieved_rate']:.2f}/s)",
            f">= {TARGET_RATE_SHARE}",
            _yes(share >= TARGET_RATE_SHARE),
        ),
        (
            part,
            backend,
            "429 Too Many Requests",
            fake["too_many_requests"],
            TARGET_429,
            _yes(fake["too_many_requests"] == 0),
        ),
        (
            part,
            backend,
            "total time",
            f"{run['elapsed_s']:.1f} s{' (timed out)' if run['timed_out'] else ''}",
            f"< {total_target:.0f} s (floor at this rate: {floor:.0f} s)",
            _yes(run["elapsed_s"] < total_target and not run["timed_out"]),
        ),
        (
            part,
            backend,
            "busiest second (fake's count)",
            fake["busiest_second"],
            f"<= {TELEGRAM_GLOBAL_PER_S}",
            _yes(fake["busiest_second"] <= TELEGRAM_GLOBAL_PER_S),
        ),
        (
            part,
            backend,
            "sent exactly once",
            f"{fake['chats']:,} chats, {fake['doubled_chats']} doubled, {lost} lost; rows sent {run['sent']:,}",
            f"{n:,}, 0, 0",
            _yes(exact),
        ),
        (part, backend, "dispatcher CPU per message", f"{run['cpu_ms_per_message']:.2f} ms", "-", "-"),
        (
            part,
            backend,
            "peak memory",
            f"{run['tracemalloc_peak_mb']:.1f} MB traced; RSS {_mb(run.get('rss_at_start_mb'))} at start, "
            f"{run['maxrss_mb']:.0f} MB max",
            "-",
            "-",
        ),
        (part, backend, "seeding (untimed)", f"{run['seed_s']:.1f} s", "-", "-"),
    ]


def report(runs: Sequence[dict[str, Any]]) -> str:
    rows: list[tuple[object, ...]] = []
    for run in runs:
        rows += broadcast_figures(run)
    # Another part of this benchmark (e.g. computing the reminders) appends its rows here.
    return (
        render_table(
            f"Outbox dispatcher against the fake Bot API ({TELEGRAM_GLOBAL_PER_S}/s per bot, "
            f"{TELEGRAM_PER_CHAT_PER_S}/s per chat enforced)",
            FIGURE_HEADERS,
            rows,
            left=3,
        )
        + "\nachieved rate: rows sent over the wall time of the whole drain (start-up and the last answer "
        "included). CPU: the dispatcher's process (the fake runs in another), tracemalloc on; traced: "
        "tracemalloc's peak of Python allocations during the drain; RSS: the dispatcher process's resident set "
        "when the drain starts (imports, seeded rows' garbage) and its maximum."
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    add_postgres_argument(parser)
    parser.add_argument(
        "--recipients", type=int, help=f"people, one chat and one message each (default {DEFAULT_RECIPIENTS:,})"
    )
    parser.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK_RECIPIENTS:,} recipients")
    parser.add_argument(
        "--rate", type=float, default=DEFAULT_RATE, help=f"the dispatcher's rate (default {DEFAULT_RATE:g}/s)"
    )
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--json", metavar="PATH", help="also write the raw figures here")
    # A worker measures one database; the parent starts it. The fake Bot API runs in a process of its own.
    parser.add_argument("--worker", choices=("sqlite", "postgres"), help=argparse.SUPPRESS)
    parser.add_argument("--fake-telegram", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--first-chat", type=int, default=FIRST_CHAT, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--result-file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.recipients is None:
        args.recipients = QUICK_RECIPIENTS if args.quick else DEFAULT_RECIPIENTS
    if args.recipients < 1 or args.rate <= 0:
        parser.error("--recipients and --rate must be positive")
    if args.worker or args.fake_telegram:
        return args
    if args.no_sqlite and not args.postgres:
        parser.error("--no-sqlite needs --postgres")
    if args.postgres:
        check_loopback_url(args.postgres)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.fake_telegram:
        fake_telegram_main(args.first_chat, args.recipients)
        return 0
    if args.worker:
        worker(args)
        return 0
    print(
        f"broadcast benchmark: {args.recipients:,} recipients at {args.rate:g}/s; "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}",
        file=sys.stderr,
        flush=True,
    )
    runs: list[dict[str, Any]] = []
    if not args.no_sqlite:
        runs.append(run_backend("sqlite", None, args))
    if args.postgres:
        with throwaway_postgres_database(args.postgres, f"wuchuang_bench_broadcast_{os.getpid()}") as url:
            runs.append(run_backend("postgres", url, args))
    sys.stderr.flush()
    print()
    for run in runs:
        print(f"{run['backend']}: schema by {run['schema']}; outbox rows by status {run['statuses']}")
    print(f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}\n")
    print(report(runs))
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=2))
    failed = any(
        run["timed_out"]
        or run["sent"] != run["recipients"]
        or run["fake"]["doubled_chats"]
        or run["fake"]["chats"] != run["recipients"]
        for run in runs
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
