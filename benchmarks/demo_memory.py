"""The server's memory with the demo data (#18; TARGETS.md: server RSS after a benchmark run or with the
demo data < 150 MB), as an operator's ``make demo`` leaves it.

1. ``wuchuang serve --demo`` on a free port with a fresh data dir (SQLite), as README's demo command runs it.
2. Used as a person would: the events, the goals, the calendar feed, every demand's matches (the matching
   process builds its index), a demand's and an achievement's matches again, the dashboard.
3. Waited on until the outbox stops moving (the demo's confirmations and invitations, printed by the
   console channel; what is left waits for the end of quiet hours) and the server's RSS has settled,
   the sender's heap trim included.

Printed: the serving process's RSS (the figure the target names) beside the target, and the matching
process's, which ends after its idle time (``matching.PROCESS_IDLE_SECONDS``) and gives its memory back.

Run: .venv/bin/python -m benchmarks.demo_memory [--settle SECONDS] [--timeout SECONDS]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks._common import REPO_ROOT, free_port, render_table
from benchmarks.hot import listening_pids, rss_mb

TARGET_MB = 150.0


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:  # the parent's pid, after the state
            found.append(int(stat.parent.name))
    return found


def _matching_pid(server: int) -> int | None:
    for pid in _children(server):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "events.child" in command:
            return pid
    return None


def _outbox_busy(http: httpx.Client) -> float:
    """Outbox rows queued or being sent, from /metrics."""
    text = http.get("/metrics").text
    busy = 0.0
    for status in ("queued", "sending"):
        found = re.search(rf'^wuchuang_outbox_messages{{status="{status}"}} (\S+)$', text, re.M)
        busy += float(found.group(1)) if found else 0.0
    return busy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--settle", type=float, default=90.0, help="seconds of a still outbox and steady RSS to wait for at the end"
    )
    parser.add_argument("--timeout", type=float, default=1800.0, help="give up after this many seconds")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="wuchuang-demo-memory-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WUCHUANG_")} | {
        "WUCHUANG_DATA_DIR": str(data_dir),
        "PYTHONPATH": str(REPO_ROOT),
    }
    log = (data_dir / "serve.log").open("wb")
    command = [sys.executable, "-m", "wuchuang.cli", "serve", "--demo", "--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
    deadline = time.monotonic() + args.timeout
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=120) as http:
            while True:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"serve --demo did not come up; see {data_dir / 'serve.log'}")
                try:
                    if http.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(1)
            output = (data_dir / "serve.log").read_text(errors="replace")
            token = re.search(r"^admin token: (wch_\S+)$", output, re.M)
            assert token, output
            http.headers["Authorization"] = f"Bearer {token.group(1)}"
            server = listening_pids(port)[0]
            print(f"serving (pid {server}), demo loaded; RSS {rss_mb(server):.0f} MB", flush=True)

            for path in ("/api/v1/events?limit=50", "/api/v1/goals", "/calendar/series/wuchuanghui.ics"):
                assert http.get(path).status_code == 200, path
            demands = http.get("/api/v1/demands?limit=100").json()["items"]
            matched = 0
            for demand in demands:
                answer = http.get(f"/api/v1/demands/{demand['id']}/matches")
                matched += answer.status_code == 200
            achievements = http.get("/api/v1/achievements?limit=20").json()["items"]
            for achievement in achievements:
                http.get(f"/api/v1/achievements/{achievement['id']}/matches")
            assert http.get("/api/v1/dashboard").status_code == 200
            print(f"matched {matched} of {len(demands)} demands and {len(achievements)} achievements", flush=True)

            steady_since, last = time.monotonic(), (-1.0, 0.0)
            while time.monotonic() < deadline:
                busy = _outbox_busy(http)
                now_mb = rss_mb(server)
                if busy != last[0] or abs(now_mb - last[1]) > 1:
                    steady_since, last = time.monotonic(), (busy, now_mb)
                elif time.monotonic() - steady_since >= args.settle:
                    break
                print(f"  outbox busy {busy:.0f}, RSS {now_mb:.0f} MB", flush=True)
                time.sleep(5)
            serving = rss_mb(server)
            child = _matching_pid(server)
            child_mb = rss_mb(child) if child is not None else float("nan")
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()

    rows = [
        ["serving process RSS, demo loaded, outbox settled", f"{serving:.1f} MB", f"< {TARGET_MB:.0f} MB",
         "met" if serving < TARGET_MB else "missed"],
        ["matching process RSS (ends when idle)", f"{child_mb:.1f} MB", "—", ""],
    ]  # fmt: skip
    print(render_table("server memory with the demo data", ["figure", "measured", "target", ""], rows))


if __name__ == "__main__":
    main()
