"""Helpers shared by the benchmarks: load driving, percentiles, a uvicorn server in a subprocess,
process CPU time, throwaway PostgreSQL databases and table output.

Everything here is bounded (every wait has a timeout) and talks to loopback addresses only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import itertools
import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx

T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parent.parent
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
BENCH_HOST = "127.0.0.1"


# --- Numbers ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of ``values``; NaN when there are none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


# TARGETS.md: check-in redeems, p99 (benchmarks.hot at 1,000/s, benchmarks.rush at the door).
TARGET_REDEEM_P99_MS = 50.0


def spells(slow: list[tuple[float, float]], started: float, gap_s: float = 0.1) -> dict[str, Any]:
    """Answers over the p99 target grouped by when they were due (a spell: each within ``gap_s`` of the
    last; ``started``: the run's start, on the same clock): a few long spells are stalls (a collection,
    a checkpoint, the scheduler), many short ones plain queueing."""
    groups: list[list[tuple[float, float]]] = []
    for due, took in sorted(slow):
        if groups and due - groups[-1][-1][0] <= gap_s:
            groups[-1].append((due, took))
        else:
            groups.append([(due, took)])
    largest = sorted(groups, key=len, reverse=True)[:3]
    return {
        "slow": len(slow),
        "spells": len(groups),
        "largest": [
            {
                "answers": len(g),
                "at_s": g[0][0] - started,
                "lasting_ms": (g[-1][0] - g[0][0]) * 1000,
                "worst_ms": max(t for _, t in g) * 1000,
            }
            for g in largest
        ],
    }


def slow_text(found: dict[str, Any], target_ms: float) -> str:
    text = f"{found['slow']} answers over {target_ms:.0f} ms"
    if found["spells"]:
        largest = ", ".join(
            f"{g['answers']} over {g['lasting_ms']:.0f} ms at {g['at_s']:.1f} s (worst {g['worst_ms']:.0f})"
            for g in found["largest"]
        )
        text += f" in {found['spells']} spells, the largest {largest}"
    return text


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds used so far by process ``pid`` (all its threads; default: this one)."""
    if pid is None or pid == os.getpid():
        return time.process_time()
    try:
        import psutil  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        psutil = None
    if psutil is not None:
        times = psutil.Process(pid).cpu_times()
        return float(times.user + times.system)
    # /proc/<pid>/stat: the command name may hold spaces, so split after its closing parenthesis;
    # then utime and stime are the 12th and 13th fields (fields 14 and 15 of the whole line).
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu_jiffies() -> tuple[int, int] | None:
    """(busy, total) CPU time of the whole machine so far, all cores, from /proc/stat; None elsewhere."""
    try:
        first = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    # cpu user nice system idle iowait irq softirq steal guest guest_nice (guest is inside user)
    values = [int(v) for v in first[1:9]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def machine_busy_percent(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    """How busy all cores were between two ``machine_cpu_jiffies`` readings, 0..100."""
    if before is None or after is None or after[1] <= before[1]:
        return None
    return 100 * (after[0] - before[0]) / (after[1] - before[1])


def processes_cpu_seconds(name: str) -> float | None:
    """User + system CPU seconds used so far by every process on this machine whose command name
    is ``name`` (e.g. "postgres": the server and all its backends); None without /proc.

    Processes that ended in between are not counted, so take differences over short spans only.
    """
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    ticks = 0
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # ended meanwhile, or not ours to read
            continue
        command, _, rest = stat.partition(" (")[2].rpartition(")")
        if command != name:
            continue
        fields = rest.split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


# --- Driving load ----------------------------------------------------------------------------


@dataclass
class LoadResult:
    """What ``run_load`` saw: one latency and one status per finished request."""

    requests: int
    concurrency: int
    elapsed_s: float
    latencies_s: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    timed_out: bool = False

    @property
    def finished(self) -> int:
        return len(self.latencies_s)

    @property
    def throughput(self) -> float:
        return self.finished / self.elapsed_s if self.elapsed_s > 0 else math.nan

    def latency_ms(self, q: float) -> float:
        return percentile(self.latencies_s, q) * 1000

    def not_status(self, expected: int) -> int:
        """Requests that did not end with ``expected``, counting transport errors and unfinished ones."""
        return self.requests - self.statuses.get(str(expected), 0)


async def run_load(
    send: Callable[[int, int], Awaitable[int]],
    *,
    requests: int,
    concurrency: int,
    timeout_s: float,
) -> LoadResult:
    """Call ``send(client, i)`` for i in 0..requests-1 from clients 0..concurrency-1, concurrently.

    ``send`` returns the HTTP status; an exception counts as a status named after its type. The
    whole run stops after ``timeout_s`` (the result then says ``timed_out`` and holds what finished).
    """
    result = LoadResult(requests=requests, concurrency=concurrency, elapsed_s=0.0)
    numbers = itertools.count()
    # The client's set-up (the app's modules, its ORM, the tickets it made) leaves ~200 k objects that
    # its full collections walk: 15–47 ms each, during which no answer is read, counted as the server's
    # latency (the paced door's p99 on #18). Frozen, the load's own garbage is all they walk.
    gc.collect()
    gc.freeze()

    async def client(number: int) -> None:
        while (i := next(numbers)) < requests:
            started = time.perf_counter()
            try:
                status = str(await send(number, i))
            except Exception as exc:  # a failed request is a figure, not a crash
                status = type(exc).__name__
            result.latencies_s.append(time.perf_counter() - started)
            result.statuses[status] += 1

    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout_s):
            await asyncio.gather(*(client(number) for number in range(concurrency)))
    except TimeoutError:
        result.timed_out = True
    result.elapsed_s = time.perf_counter() - started
    return result


def run_async(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run ``main()`` in a fresh event loop: uvloop when installed, as uvicorn would use."""
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    try:
        import uvloop
    except ImportError:
        pass
    else:
        loop_factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(main())


def http_client(*, base_url: str, connections: int, timeout_s: float = 30.0) -> httpx.AsyncClient:
    """An HTTP/1.1 client keeping up to ``connections`` keep-alive connections open."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(
        base_url=base_url, limits=limits, http2=False, timeout=httpx.Timeout(timeout_s, connect=5.0), trust_env=False
    )


@contextlib.asynccontextmanager
async def http_clients(
    *, base_url: str, concurrency: int, shared_pool: bool = False, timeout_s: float = 30.0
) -> AsyncIterator[list[httpx.AsyncClient]]:
    """One keep-alive HTTP/1.1 client per concurrent client (index it by client number).

    Each has a pool of one connection, because httpcore 1.0's pool costs O(connections²) per request
    (``_assign_requests_to_connections``): one shared 50-connection pool spends more CPU than the
    server does. ``shared_pool`` gives every client the same pool of ``concurrency`` connections.
    """
    async with contextlib.AsyncExitStack() as stack:
        if shared_pool:
            client = await stack.enter_async_context(
                http_client(base_url=base_url, connections=concurrency, timeout_s=timeout_s)
            )
            yield [client] * concurrency
        else:
            yield [
                await stack.enter_async_context(http_client(base_url=base_url, connections=1, timeout_s=timeout_s))
                for _ in range(concurrency)
            ]


# --- A server in a subprocess ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((BENCH_HOST, 0))
        return int(sock.getsockname()[1])


def subprocess_env(**overrides: str) -> dict[str, str]:
    """This process's environment with the repository importable, plus ``overrides``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.update(overrides)
    return env


@dataclass(frozen=True)
class Server:
    pid: int
    base_url: str
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@contextlib.asynccontextmanager
async def uvicorn_server(
    factory: str,
    *,
    env: dict[str, str],
    log_path: Path,
    ready_path: str = "/health",
    start_timeout_s: float = 30.0,
    stop_timeout_s: float = 15.0,
) -> AsyncIterator[Server]:
    """Run ``uvicorn --factory <factory>`` (one process, no reload) on 127.0.0.1 and a free port.

    Yields once ``ready_path`` answers 200; on exit sends SIGTERM, and SIGKILL if it lingers.
    """
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        factory,
        "--host",
        BENCH_HOST,
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
        "--timeout-graceful-shutdown",
        "5",
    ]
    log = log_path.open("wb")
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=REPO_ROOT,
        env=subprocess_env(**env),
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    server = Server(pid=process.pid, base_url=f"http://{BENCH_HOST}:{port}", log_path=log_path)
    try:
        deadline = time.monotonic() + start_timeout_s
        async with httpx.AsyncClient(base_url=server.base_url, timeout=2.0, trust_env=False) as probe:
            while True:
                if process.returncode is not None:
                    raise RuntimeError(f"server exited with {process.returncode}:\n{server.log_tail()}")
                with contextlib.suppress(httpx.TransportError):
                    if (await probe.get(ready_path)).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server not ready after {start_timeout_s:.0f} s:\n{server.log_tail()}")
                await asyncio.sleep(0.1)
        yield server
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                await asyncio.wait_for(process.wait(), stop_timeout_s)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await asyncio.wait_for(process.wait(), 5)
        log.close()


# --- PostgreSQL ------------------------------------------------------------------------------


def check_loopback_url(url: str) -> None:
    """Refuse a database URL that points anywhere but this machine."""
    host = urlsplit(url.replace("+asyncpg", "").replace("+psycopg", "")).hostname
    if host not in LOOPBACK_HOSTS:
        raise SystemExit(f"benchmarks only run against 127.0.0.1; {url!r} names host {host!r}")


def with_database(url: str, database: str) -> str:
    """``url`` (postgresql://user@host:port/anything) pointing at ``database`` instead."""
    parts = urlsplit(url)
    scheme = "postgresql" if parts.scheme.split("+")[0] in ("postgres", "postgresql") else parts.scheme
    return urlunsplit((scheme, parts.netloc, f"/{database}", parts.query, ""))


@contextlib.contextmanager
def throwaway_postgres_database(server_url: str, name: str) -> Iterator[str]:
    """Create database ``name`` on the server at ``server_url`` (dropping a leftover of the same
    name first), yield its URL, drop it afterwards."""
    import psycopg
    from psycopg import sql

    check_loopback_url(server_url)
    admin_url = with_database(server_url, urlsplit(server_url).path.lstrip("/") or "postgres")
    ident = sql.Identifier(name)

    def run(statement: sql.Composable) -> None:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as connection:
            connection.execute("SET statement_timeout = '60s'")
            connection.execute(statement)

    run(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
    run(sql.SQL("CREATE DATABASE {}").format(ident))
    try:
        yield with_database(server_url, name)
    finally:
        run(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))


# --- Running a part of a benchmark in a subprocess -------------------------------------------


def run_json_subprocess(
    args: list[str], *, result_path: Path, timeout_s: float, env: dict[str, str] | None = None
) -> Any:
    """Run ``python <args>`` from the repository root; it writes JSON to ``result_path``.

    Its output goes straight to ours (progress lines). Killed after ``timeout_s``.
    """
    process = subprocess.Popen(
        [sys.executable, *args],
        cwd=REPO_ROOT,
        env=subprocess_env(**(env or {})),
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        code = process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
        raise RuntimeError(f"{' '.join(args[:2])}… did not finish within {timeout_s:.0f} s") from None
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
        raise
    if code != 0:
        raise RuntimeError(f"{' '.join(args[:2])}… exited with {code}")
    return json.loads(result_path.read_text())


def run_worker(
    module: str, backend: str, database_url: str | None, data_dir: str, extra: Sequence[str], *, timeout_s: float
) -> dict[str, Any]:
    """Run a benchmark's ``--worker`` part for one backend (its own process, its own data dir) and
    return the JSON it wrote.
    """
    result_file = Path(data_dir) / "result.json"
    args = [
        *("-m", module, "--worker", backend, "--data-dir", data_dir),
        *("--database-url", database_url or "", "--result-file", str(result_file)),
        *extra,
    ]
    return dict(run_json_subprocess(args, result_path=result_file, timeout_s=timeout_s))


# --- Output ----------------------------------------------------------------------------------


def render_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]], *, left: int = 1) -> str:
    """The table as text: with ``rich`` when it is installed, else plain aligned columns.

    The first ``left`` columns are left-aligned (labels), the rest right-aligned (figures).
    """
    cells = [[str(value) for value in row] for row in rows]
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        pass
    else:
        table = Table(title=title)
        for i, header in enumerate(headers):
            table.add_column(header, justify="left" if i < left else "right")
        for row in cells:
            table.add_row(*row)
        console = Console(width=max(120, sum(len(h) + 3 for h in headers)), record=True)
        with console.capture() as capture:
            console.print(table)
        return capture.get()
    widths = [max([len(header)] + [len(row[i]) for row in cells]) for i, header in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            value.ljust(width) if i < left else value.rjust(width)
            for i, (value, width) in enumerate(zip(values, widths, strict=True))
        ).rstrip()

    out = [title, line(list(headers)), "  ".join("-" * width for width in widths)]
    out += [line(row) for row in cells]
    return "\n".join(out)


def add_postgres_argument(parser: argparse.ArgumentParser) -> None:
    """``--postgres URL``: the server to make a throwaway database on; SQLite only without it."""
    parser.add_argument(
        "--postgres",
        metavar="URL",
        default=os.environ.get("WUCHUANG_BENCH_POSTGRES_URL"),
        help="a PostgreSQL server on 127.0.0.1 to create a throwaway database on "
        "(default: $WUCHUANG_BENCH_POSTGRES_URL; without it, SQLite only)",
    )


def targets_table(rows: Sequence[Sequence[object]]) -> str:
    """Each figure beside its target from TARGETS.md."""
    return render_table(
        "Against TARGETS.md (authoritative: PostgreSQL over a socket)",
        ("figure", "where", "measured", "target", "met"),
        rows,
        left=2,
    )


# --- PostgreSQL's share of the CPU ---------------------------------------------------------------


def process_ticks(pid: int) -> int:
    """utime + stime of a process so far, in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def database_backends(database: str) -> dict[int, int]:
    """{pid: CPU ticks so far} of the PostgreSQL backends connected to ``database`` (command line
    ``postgres: USER DATABASE HOST(PORT) STATE``, Debian's prefixed with ``15/main:``)."""
    found: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            words = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").split()
            if words[:1] == ["postgres:"] and len(words) > 1 and words[1].endswith(":"):
                words = words[1:]
            if len(words) >= 3 and words[0].endswith(":") and words[2] == database:
                found[int(entry.name)] = process_ticks(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


class DatabaseCpu:
    """CPU seconds the backends serving ``database`` spend over a ``with`` block. Backends come and go
    (a pool replaces connections, a script connects for one query): each is read every ``every_s``
    and counted from its first reading (zero for one born during the block) to its last, so one that
    ends in between is not subtracted; at most ``every_s`` of a short-lived one's work is missed."""

    def __init__(self, database: str, every_s: float = 0.5) -> None:
        self.database, self.every_s = database, every_s
        self._first: dict[int, int] = {}
        self._last: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _read(self) -> None:
        for pid, ticks in database_backends(self.database).items():
            self._first.setdefault(pid, 0)
            self._last[pid] = ticks

    def _watch(self) -> None:
        while not self._stop.wait(self.every_s):
            self._read()

    def start(self) -> DatabaseCpu:
        self._first = database_backends(self.database)
        self._last = dict(self._first)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._read()

    def __enter__(self) -> DatabaseCpu:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def seconds(self) -> float:
        ticks = sum(self._last[pid] - self._first[pid] for pid in self._last)
        return ticks / os.sysconf("SC_CLK_TCK")
