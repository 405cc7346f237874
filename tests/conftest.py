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
from events.services import hot_path, matching, organizations, tokens
from events.settings import Settings, load_settings


def _worker_database(url: str | None, worker: str | None) -> str | None:
    """Under pytest-xdist each worker gets its own PostgreSQL database (``<name>_gw0``, …), created on
    first use: workers truncate their tables between tests and must not empty each other's."""
    if not url or not worker:
        return url
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    base = make_url(url.replace("postgres://", "postgresql://", 1))
    name = f"{(base.database or 'wuchuang')[:50]}_{worker}"
    admin = sa.create_engine(
        base.set(drivername="postgresql+psycopg", database="postgres"), poolclass=NullPool, isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        # Tests check behaviour, not durability across a power cut: commits need not wait for the disk.
        connection.exec_driver_sql(f'ALTER DATABASE "{name}" SET synchronous_commit TO off')
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False).replace("postgresql+psycopg", "postgresql", 1)


XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if os.environ.get("WUCHUANG_TEST_POSTGRES_WORKER") == XDIST_WORKER:
    # Already this worker's database: a process the worker started (``spawn`` imports this module again).
    POSTGRES_URL = os.environ.get("WUCHUANG_TEST_POSTGRES_URL")
else:
    POSTGRES_URL = _worker_database(os.environ.get("WUCHUANG_TEST_POSTGRES_URL"), XDIST_WORKER)
    if POSTGRES_URL and XDIST_WORKER:
        # Test modules that read the variable themselves (migrations, CLI start-up) see this worker's database.
        os.environ["WUCHUANG_TEST_POSTGRES_URL"] = POSTGRES_URL
        os.environ["WUCHUANG_TEST_POSTGRES_WORKER"] = XDIST_WORKER
BACKENDS = ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A worker's own database goes when the worker is done (CI drops only the one it created)."""
    if not (XDIST_WORKER and POSTGRES_URL):
        return
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    url = make_url(POSTGRES_URL).set(drivername="postgresql+psycopg")
    admin = sa.create_engine(url.set(database="postgres"), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
    except sa.exc.SQLAlchemyError:
        pass  # a database left behind costs disk, not correctness: the next run recreates it
    finally:
        admin.dispose()


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


# Emptying by DELETE with the foreign-key triggers off, then restarting the sequences: a test leaves a few
# rows, and TRUNCATE of ~90 tables made new files for each table and index every time (0.3 s a test).
_PG_EMPTY = """
DO $$
DECLARE r record;
BEGIN
  SET LOCAL session_replication_role = replica;
  FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename = ANY(%s) LOOP
    EXECUTE format('DELETE FROM %%I', r.tablename);
  END LOOP;
  FOR r IN SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema() LOOP
    EXECUTE format('ALTER SEQUENCE %%I RESTART', r.sequencename);
  END LOOP;
END $$;
"""


async def _empty_tables(settings: Settings) -> None:
    if settings.dialect == "postgres":
        names = ", ".join(f"'{t}'" for t in _tables())
        await conn().execute_script(_PG_EMPTY % f"ARRAY[{names}]")
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
    # The matching index lives in process memory: it must not outlive the tables it was built from.
    matching.reset()
    # So does the hot path's memo of events (ids start again in every test's tables).
    hot_path._EVENTS.clear()
    hot_path._GROUPS.clear()  # and its group commit's queues (empty unless a test left a write mid-flight)
    # And the checked API tokens (a test may revoke one by hand: a new database forgets them all).
    tokens.forget_all()
    organizations.forget_default()  # and the default organization's id
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


def pytest_configure(config: pytest.Config) -> None:
    """Passwords hash with argon2id at its cheapest in-process (the same code, ~1 ms instead of ~60 ms
    each): console tests sign many accounts in. Subprocesses (the CLI, ``serve``) keep the real cost.
    And the apps the suite builds share their routes' validators (``_build_routes_once``)."""
    from argon2 import PasswordHasher

    from events.services import accounts

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    accounts._hasher = lambda: cheap  # type: ignore[assignment]
    _build_routes_once()


def _build_routes_once() -> None:
    """FastAPI builds every included route's request and response validators per app, on the app's
    first request (~1 s of pydantic schema building for all our routes, since a request is matched
    through the routers in order). The suite builds an app per test, each with the same routes from the
    same routers: here each route is built once per worker and its build shared. The build carries
    the first app as the provider of dependency overrides, so an app that overrides any builds its own."""
    from fastapi.routing import _EffectiveRouteContext

    build = _EffectiveRouteContext.from_api_route.__func__  # type: ignore[attr-defined]
    built: dict[tuple[object, ...], tuple[object, _EffectiveRouteContext]] = {}

    def from_api_route(cls: type, *, original_route: object, include_context: object) -> _EffectiveRouteContext:
        provider = getattr(include_context, "dependency_overrides_provider", None)
        if getattr(provider, "dependency_overrides", None):
            return build(cls, original_route=original_route, include_context=include_context)
        context = include_context  # everything of the inclusion that shapes the build
        key = (
            id(original_route),
            id(context.included_router),  # type: ignore[attr-defined]
            context.prefix,  # type: ignore[attr-defined]
            tuple(map(id, context.dependencies)),  # type: ignore[attr-defined]
            tuple(map(str, context.tags)),  # type: ignore[attr-defined]
            repr(context.responses),  # type: ignore[attr-defined]
            context.max_body_size,  # type: ignore[attr-defined]
            context.include_in_schema,  # type: ignore[attr-defined]
        )
        if (found := built.get(key)) is None:
            # The route and inclusion stay referenced, so their ids are not reused while the key is kept.
            found = built[key] = (
                (original_route, context),
                build(cls, original_route=original_route, include_context=include_context),
            )
        return found[1]

    _EffectiveRouteContext.from_api_route = classmethod(from_api_route)  # type: ignore[method-assign,assignment]
