"""Briefs are drawn in a child process (``reports.worker``): the server never loads matplotlib, numpy or
python-docx, and a child that fails, dies or hangs is a clear error, never a hung request."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from docx import Document

from events.models import Role
from events.services import brief, tokens
from reports import render
from reports.worker import RenderFailed, Worker
from tests.brief_world import AS_OF, build_world
from tests.factories import bearer
from tests.worker_jobs import crash, loaded, shout, stall

ROOT = Path(__file__).resolve().parent.parent
DRAWING = ("matplotlib", "numpy", "scipy", "docx")


def test_the_server_app_does_not_load_the_drawing_libraries():
    # What `wuchuang serve` imports to run the API, the scheduler (its monthly brief) and the downloads;
    # with them, the other libraries of rare paths that are imported where they are used (the RSS target).
    rare = (*DRAWING, "openpyxl", "lxml", "aiogram", "sqlalchemy", "alembic")
    code = (
        "import sys, api.app, wuchuang.runtime, notifications.briefs, reports.render\n"
        f"print([m for m in {rare!r} if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


async def test_novembers_brief_is_drawn_in_the_child(db, frozen_clock):
    frozen_clock.set(AS_OF)
    await build_world()
    november = await brief.gather(brief.parse_period("2026-11"))
    document = Document(io.BytesIO(await render.brief_docx(november, "zh")))
    assert len(document.inline_shapes) == 2  # both charts, drawn by matplotlib over there
    assert render.worker.pid not in (None, os.getpid())
    assert render.worker.call(loaded, *DRAWING) == ["matplotlib", "numpy", "scipy", "docx"]
    page = await render.brief_html(november, "en")
    assert "November 2026" in page and page.count("data:image/png;base64,") == 2


# A process of its own: the test process itself loads numpy (matching) and python-docx (reading briefs).
DRAW_HERE = """
import asyncio, os, sys
from datetime import UTC, datetime
from decimal import Decimal
from events.services import brief, dashboard
from reports import render

made = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
november = brief.Brief(
    period=brief.parse_period("2026-11"), as_of=made, generated_at=made,
    kpis=[brief.KpiRow("sessions_held", "Sessions held", "sessions", 60, 2, 3, 3, False)],
    sessions=[], registrations=7, checked_in=6, demands=brief.DemandFigures(1, {"technology": 1}, 0, 0, 0),
    transfers=[], turnover_cny=Decimal(0), brokers_certified=0, brokers_by_level={}, competitions=[], notable=[],
    months=[dashboard.MonthRow("2026-11", 2, 7, 6, 1, 0, 0, 0)], districts=[],
)
docx = asyncio.run(render.brief_docx(november, "zh"))
page = asyncio.run(render.brief_html(november, "en"))
assert docx[:2] == b"PK" and page.count("data:image/png;base64,") == 2
assert render.worker.pid not in (None, os.getpid())
print([m for m in DRAWING if m in sys.modules])
"""


def test_drawing_a_brief_loads_no_drawing_library_in_the_caller():
    code = f"DRAWING = {DRAWING!r}\n{DRAW_HERE}"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "[]"


def test_a_failing_job_is_reported_with_its_traceback_and_the_child_carries_on():
    worker = Worker(timeout_seconds=30)
    try:
        assert worker.call(pow, 2, 10) == 1024
        pid = worker.pid
        assert pid not in (None, os.getpid())
        with pytest.raises(RenderFailed, match=r"(?s)failed in its process:.*ValueError: invalid literal"):
            worker.call(int, "x")
        with pytest.raises(RenderFailed, match="cannot pickle"):  # a result that cannot travel back
            worker.call(open, os.devnull)
        assert worker.call(pow, 3, 2) == 9 and worker.pid == pid
    finally:
        worker.close()
    assert worker.pid is None


def test_a_child_that_dies_or_hangs_is_an_error_and_the_next_job_gets_a_new_one():
    worker = Worker(timeout_seconds=60)
    try:
        with pytest.raises(RenderFailed, match=r"ended unexpectedly \(exit code 3\)"):
            worker.call(crash)
        assert worker.pid is None
        assert worker.call(pow, 2, 3) == 8
        stuck = worker.pid
        worker.timeout_seconds = 2
        started = time.monotonic()
        with pytest.raises(RenderFailed, match="did not answer within 2 s"):
            worker.call(stall)
        assert time.monotonic() - started < 30
        assert worker.pid is None
        assert _zombie_or_gone(stuck)  # killed, not left running
        assert worker.call(pow, 2, 4) == 16
    finally:
        worker.close()


def _zombie_or_gone(pid: int | None) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


def test_an_idle_child_ends_and_the_next_job_starts_another():
    worker = Worker(idle_seconds=0.3)
    try:
        assert worker.call(pow, 2, 2) == 4
        first = worker.pid
        assert first is not None
        deadline = time.monotonic() + 10
        while worker.pid is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert worker.pid is None
        assert worker.call(pow, 2, 5) == 32 and worker.pid not in (None, first)
    finally:
        worker.close()


def test_what_the_child_prints_goes_through_the_servers_logging(caplog):
    worker = Worker()
    try:
        with caplog.at_level(logging.WARNING, logger="events.child"):
            assert worker.call(shout, "字体缺失") == "字体缺失"
            deadline = time.monotonic() + 10
            while len(caplog.records) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
        pid = worker.pid
    finally:
        worker.close()
    lines = sorted(record.getMessage() for record in caplog.records)
    assert lines == [f"rendering process {pid}: 字体缺失 on stderr", f"rendering process {pid}: 字体缺失 on stdout"]


async def test_a_brief_download_whose_drawing_fails_answers_500_at_once(db, frozen_clock, monkeypatch):
    from api.app import create_app

    frozen_clock.set(AS_OF)
    await build_world()
    admin = bearer((await tokens.create_token(role=Role.ADMIN, name="office")).plaintext)
    worker = Worker(timeout_seconds=2)
    monkeypatch.setattr(render, "worker", worker)
    transport = httpx.ASGITransport(app=create_app(db, manage_db=False), raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            for broken in (crash, stall):
                monkeypatch.setattr(render.draw, "docx", broken)
                got = await client.get("/api/v1/briefs/2026-11.docx", headers=admin)
                assert got.status_code == 500 and got.json()["error"]["code"] == "internal_error"
    finally:
        worker.close()
