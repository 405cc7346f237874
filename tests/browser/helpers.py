"""Helpers for the browser tests: seeding the database, reading it back, the fake camera's video."""

from __future__ import annotations

import asyncio
import io
import json
import socket
import sqlite3
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from PIL import Image

from events.db import close_db, init_db
from events.services import tickets
from events.settings import Settings
from tests.factories import make_event, make_registration, make_token

T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "browser"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_async(work: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion on a fresh loop in a worker thread.

    Playwright's sync API keeps an event loop marked as running on the test's thread, so
    ``asyncio.run`` cannot be called there.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work()).result()  # type: ignore[arg-type]


@dataclass(frozen=True)
class Attendee:
    registration_id: int
    name: str
    organization: str | None
    code: str


@dataclass(frozen=True)
class Door:
    """An event whose door is open now, its confirmed attendees and a checker's token."""

    event_id: int
    title: str
    token: str
    people: list[Attendee]


def seed_door(settings: Settings, people: list[tuple[str, str | None]], *, checker: str = "东门") -> Door:
    """Through the services, against the server's own SQLite file (it waits on the lock)."""

    async def work() -> Door:
        await init_db(settings)
        try:
            event = await make_event(starts_in=timedelta(minutes=30), capacity=50)
            signer = tickets.signer_for(settings.data_dir.resolve())
            attendees = []
            for name, organization in people:
                registration = (await make_registration(event, name=name, organization=organization)).registration
                code = tickets.ticket_code(registration, signer)
                assert code is not None
                attendees.append(Attendee(registration.id, name, organization, code))
            token = await make_token(role="checker", name=checker)
            return Door(event.id, event.title, token, attendees)
        finally:
            await close_db()

    return run_async(work)


def seed_course_door(settings: Settings, name: str) -> Door:
    """A training session whose door is open now, part of a course in which one broker is enrolled:
    the broker's ticket is the course pass, not a ticket for the session.
    """
    from events.services import brokers, catalog, courses

    async def work() -> Door:
        await init_db(settings)
        try:
            session = await make_event(kind="training", series=None, starts_in=timedelta(minutes=30), capacity=50)
            course = await courses.create_course(
                courses.CourseInput(
                    code="JSJL-B1",
                    event={
                        "title": "技术经理人初级班",
                        "kind": "training",
                        "venue": "武汉科技大市场",
                        "starts_at": session.starts_at - timedelta(minutes=5),
                        "ends_at": session.ends_at,
                    },
                    items=[courses.ItemInput(kind="session", event_id=session.id, hours="3")],
                ),
                actor="test",
            )
            await catalog.publish_event(course.event_id, actor="test")
            broker = await brokers.create_broker(
                brokers.BrokerInput(name=name, phone="13700001111", organization="武汉大学"), actor="test"
            )
            registration = (await courses.enroll(course.id, broker.id, actor="test")).registration
            code = tickets.ticket_code(registration, tickets.signer_for(settings.data_dir.resolve()))
            assert code is not None
            token = await make_token(role="checker", name="培训室")
            return Door(session.id, session.title, token, [Attendee(registration.id, name, "武汉大学", code)])
        finally:
            await close_db()

    return run_async(work)


def query(settings: Settings, sql: str, *params: object) -> list[tuple]:
    """Read the server's database directly (read-only) to see what was recorded."""
    connection = sqlite3.connect(f"file:{settings.sqlite_path.resolve()}?mode=ro", uri=True, timeout=10)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


def qr_y4m(code: str, path: Path, *, width: int = 640, height: int = 480, frames: int = 20, fps: int = 10) -> Path:
    """A Y4M video of the ticket's QR code, black on white and centred, for Chromium's fake camera.

    Chromium loops the file, so a couple of seconds are enough.
    """
    qr = Image.open(io.BytesIO(tickets.qr_png(code, box_size=1))).convert("L")  # one pixel per module
    scale = max(1, (min(width, height) - 40) // qr.width)
    qr = qr.resize((qr.width * scale, qr.height * scale), Image.Resampling.NEAREST)
    frame = Image.new("L", (width, height), 255)
    frame.paste(qr, ((width - qr.width) // 2, (height - qr.height) // 2))
    luma = frame.tobytes()  # full-range luma (C420jpeg), neutral chroma: a grey-scale picture
    chroma = bytes([128]) * ((width // 2) * (height // 2))
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n")
            out.write(luma)
            out.write(chroma)
            out.write(chroma)
    return path


def record_timings(name: str, timings: list[dict[str, Any]]) -> None:
    """Print each scan→result-on-screen time (the page's own performance.now() marks) and keep them."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}-timings.json").write_text(json.dumps(timings, indent=2))
    for t in timings:
        mode = "offline" if t["offline"] else "online"
        print(f"[{name}] scan {t['seq']} ({t['source']}, {mode}) -> {t['result']} on screen in {t['ms']:.1f} ms")
