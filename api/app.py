"""The FastAPI application: routers, error rendering, middleware, database lifecycle."""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api import competition_pages, console, errors, pages, privacy_pages, site, unsubscribe_pages
from api.hot_routes import HotRoutes
from api.middleware import BodyLimitMiddleware, IdempotencyMiddleware, RequestContextMiddleware, TextGuardMiddleware
from api.ratelimit import PublicRateLimit
from api.routers import (
    accounts,
    achievements,
    activity,
    briefs,
    brokers,
    calendar,
    checkins,
    competition_faces,
    competition_results,
    competitions,
    connections,
    courses,
    dashboard,
    demands,
    docs,
    events,
    investors,
    matching,
    meta,
    notifications,
    ops,
    organizations,
    privacy,
    registrations,
    roadshow_pitches,
    roadshows,
    roles,
    tickets,
    tokens,
    transfers,
    webapp,
)
from api.schemas import Presenter
from events import heap, loop_lag
from events.db import close_db, init_db
from events.services import certification
from events.services import matching as matcher
from events.services.calendar import FeedRenderer
from events.services.tickets import signer_for
from events.settings import Settings, get_settings


def _freeze_start_up_heap() -> None:
    """Move what start-up made into the collector's permanent generation (as Instagram does before forking).

    CPython's full collection walks every tracked object: after start-up that is the import graph, the
    routes and schemas and the ORM's metadata, ~0.5 M objects that never become garbage. Under a door
    rush those walks came every ~0.5 s and took 80–130 ms each, stopping the event loop with every scan
    in flight (p50 34 ms, p99 200 ms). Frozen, a full collection walks only what the server made since.
    Only an app that manages its own database does this: it is the process's server (``serve``, uvicorn's
    ``--factory``), not a test's app, whose heap must stay collectable.
    """
    gc.collect()
    gc.freeze()


def _build_every_route_now(app: FastAPI) -> None:
    """Have FastAPI build each route's request state (its dependencies' pydantic adapters) at start-up.

    FastAPI builds a router's routes the first time a request is matched through it: ~290 ms for this
    app, paid in 30–40 ms stops of the event loop by the first requests each worker takes, with every
    scan in flight waiting behind them (a rush's door p99). Matching a path no route has walks every
    router and builds it all, before the heap is frozen (so the collector never walks it either).
    """
    scope = {"type": "http", "method": "GET", "path": "/\N{SNOWMAN}", "root_path": "", "headers": []}
    for route in app.router.routes:
        route.matches(dict(scope))


def create_app(settings: Settings | None = None, *, manage_db: bool = True) -> FastAPI:
    """Build the app. ``manage_db=False`` when the caller has already connected Tortoise (tests)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        lag_watch: asyncio.Task[None] | None = None
        if manage_db:
            await init_db(settings)
            # This process serves requests: matching (numpy, scipy, its index) runs in a child of its own.
            matcher.use_process(settings)
            heap.few_arenas()
            _build_every_route_now(app)
            _freeze_start_up_heap()
            lag_watch = asyncio.create_task(loop_lag.watch(), name="loop lag")
        try:
            yield
        finally:
            if lag_watch is not None:
                lag_watch.cancel()
            if manage_db:
                await asyncio.to_thread(matcher.stop_process)
                await close_db()
            if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
                # Several workers: this one's live gauges stop counting (its counters stay summed).
                from prometheus_client import multiprocess

                multiprocess.mark_process_dead(os.getpid())

    app = FastAPI(
        title="wuchuang",
        version="1.0",
        summary="武创荟 · competitions · roadshows · broker training: events, registration, tickets.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    certification.use_rules(settings.training_levels)
    app.state.signer = signer_for(settings.data_dir.resolve())
    app.state.presenter = Presenter(settings, app.state.signer)
    app.state.calendar = FeedRenderer(base_url=settings.base_url, timezone=settings.timezone)
    app.state.rate_limit = PublicRateLimit(settings.public_rate_limit, settings.redis_url)
    errors.install(app)
    # A request is matched against the routes in order (~4.5 µs a route): the two a rush hammers go
    # first, which saves a door scan ~0.4 ms of CPU. They overlap no other route
    # (tests/test_route_order.py), so the order changes nothing else.
    app.include_router(checkins.router)
    app.include_router(registrations.router)
    app.include_router(meta.router)
    app.include_router(ops.router)
    app.include_router(dashboard.router)
    app.include_router(briefs.router)
    app.include_router(events.router)
    app.include_router(tokens.router)
    app.include_router(accounts.router)
    app.include_router(roles.router)
    app.include_router(privacy.router)
    app.include_router(tickets.router)
    app.include_router(pages.router)
    app.include_router(privacy_pages.router)
    app.include_router(unsubscribe_pages.router)
    site.install(app, settings)
    app.include_router(console.router)
    app.mount("/static", pages.static_files(), name="static")
    app.include_router(calendar.router)
    app.include_router(webapp.router)
    app.include_router(notifications.router)
    app.include_router(activity.router)
    app.include_router(brokers.router)
    app.include_router(brokers.pages)
    app.include_router(courses.router)
    app.include_router(organizations.router)
    app.include_router(achievements.router)
    app.include_router(investors.router)
    app.include_router(transfers.router)
    app.include_router(connections.router)
    app.include_router(matching.router)
    app.include_router(demands.router)
    app.include_router(competitions.router)
    app.include_router(competition_faces.router)
    app.include_router(competition_pages.router)
    app.include_router(competition_results.router)
    app.include_router(roadshows.router)
    app.include_router(roadshow_pitches.router)
    app.include_router(docs.router)
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(TextGuardMiddleware, routes=app.router.routes)
    # Imports carry up to 10,000 rows, an entry's business plan is larger than any JSON body: their
    # routes take larger bodies than any other.
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        overrides={"/api/v1/achievements/import": settings.import_max_body_bytes},
        upload_bytes=settings.attachment_max_bytes + 1_048_576,
        upload_paths=competition_pages.UPLOAD_PATHS,
    )
    # A rush's plain scans and registrations skip the layers above (api/hot_routes.py).
    app.add_middleware(HotRoutes, max_bytes=settings.max_body_bytes)
    # The client address (rate limits) comes from X-Forwarded-For only when the peer is a proxy listed
    # in WUCHUANG_FORWARDED_ALLOW_IPS; uvicorn's own proxy handling is off (wuchuang/cli.py).
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.forwarded_allow_ips))
    # Outermost: the request id is set before anything logs, and the latency counts every layer.
    app.add_middleware(RequestContextMiddleware)
    return app
