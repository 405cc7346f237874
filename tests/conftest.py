"""Test databases: SQLite always, PostgreSQL too when WUCHUANG_TEST_POSTGRES_URL is set.

Each backend's schema is generated once per session; each test connects afresh and starts from
empty tables, so tests can run in any order.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE

from events import clock
from events.db import close_db, conn, init_db
from events.settings import Settings, load_settings

POSTGRES_URL = os.environ.get("WUCHUANG_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"]


def _tables() -> list[str]:
    return [model._meta.db_table for model in Tortoise.apps.get_models_iterable()]  # type: ignore[union-attr]


def _settings_for(backend: str, data_dir: Path, **extra: object) -> Settings:
    url = POSTGRES_URL if backend == "postgres" else f"sqlite://{data_dir / 'test.sqlite3'}"
    return load_settings(database_url=url, data_dir=data_dir, environment="test", public_rate_limit="0", **extra)


@pytest.fixture(scope="session")
def schema_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Generate each backend's schema once for the session."""
    dirs: dict[str, Path] = {}
    for backend in BACKENDS:
        data_dir = tmp_path_factory.mktemp(f"db-{backend}")

        async def build(settings: Settings) -> None:
            await init_db(settings)
            if settings.dialect == "postgres":
                for table in _tables():
                    await conn().execute_script(f'DROP TABLE IF EXISTS "{table}" CASCADE')
            await Tortoise.generate_schemas()
            await close_db()

        EXECUTOR_CACHE.clear()
        asyncio.run(build(_settings_for(backend, data_dir)))
        dirs[backend] = data_dir
    return dirs


async def _empty_tables(settings: Settings) -> None:
    if settings.dialect == "postgres":
        await conn().execute_script(f"TRUNCATE {', '.join(_tables())} RESTART IDENTITY CASCADE")
    else:
        await conn().execute_script(
            "PRAGMA foreign_keys=OFF;"
            + "".join(f"DELETE FROM {t};" for t in _tables())
            + "DELETE FROM sqlite_sequence; PRAGMA foreign_keys=ON;"
        )


@pytest.fixture(params=BACKENDS)
async def db(request: pytest.FixtureRequest, schema_dirs: dict[str, Path]) -> AsyncIterator[Settings]:
    """A connected, empty database; yields the Settings that point at it."""
    settings = _settings_for(request.param, schema_dirs[request.param])
    # Tortoise caches compiled INSERTs by connection name, not dialect; tests switch dialects.
    EXECUTOR_CACHE.clear()
    await init_db(settings)
    try:
        await _empty_tables(settings)
        yield settings
    finally:
        await close_db()


# Every test reads "now" from a clock that starts at a fixed instant and ticks with real time, so the
# suite behaves the same at 23:30 in Wuhan, on a Sunday or on 29 February. WUCHUANG_TEST_CLOCK (ISO
# 8601 with offset) moves the start, to run the suite as if at another moment.
DEFAULT_TEST_CLOCK = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Wuhan


def suite_clock_start() -> datetime:
    raw = os.environ.get("WUCHUANG_TEST_CLOCK")
    return datetime.fromisoformat(raw).astimezone(UTC) if raw else DEFAULT_TEST_CLOCK


def ticking_clock(start: datetime):  # noqa: ANN201
    began = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - began)


@pytest.fixture(autouse=True)
def controlled_clock() -> Iterator[None]:
    clock.set_clock(ticking_clock(suite_clock_start()))
    yield
    clock.set_clock(None)


class FrozenClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def set(self, when: datetime) -> None:
        self.now = when


@pytest.fixture
def frozen_clock() -> Iterator[FrozenClock]:
    from tests.factories import BASE_TIME

    frozen = FrozenClock(BASE_TIME)
    clock.set_clock(lambda: frozen.now)
    yield frozen
    clock.set_clock(None)


@pytest.fixture
async def client(db: Settings) -> AsyncIterator[httpx.AsyncClient]:
    from api.app import create_app

    app = create_app(db, manage_db=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment for running ``wuchuang`` in a subprocess: no WUCHUANG_ settings but its own data dir."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WUCHUANG_")}
    return clean | {"WUCHUANG_DATA_DIR": str(tmp_path)}
