"""Operations: readiness (/ready) and Prometheus metrics (/metrics). Liveness is /health (meta.py)."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import os
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.multiprocess import MultiProcessCollector

from api.schemas.meta import Readiness, ReadinessChecks
from events import metrics
from events.errors import MetricsForbidden, Unauthorized
from events.schema_version import schema_state, script_heads
from events.services.outbox import depth_by_status

router = APIRouter()


def _sender_state(request: Request) -> str:
    sender: asyncio.Task[Any] | None = getattr(request.app.state, "outbox_sender", None)
    if sender is None:
        return "not_here"
    return "stopped" if sender.done() else "ok"


@router.get(
    "/ready",
    tags=["meta"],
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready: `failed` names what."}},
    summary="Readiness",
    description="`200` when the database answers, is at the code's migration head, and the outbox sender runs "
    "(where this process runs one); `503` with the same body naming what failed. `/health` is liveness.",
)
async def ready(request: Request) -> Readiness | JSONResponse:
    database, migrations = "ok", "unknown"
    revisions: list[str] = []
    try:
        state = await schema_state()
    except Exception:  # any failure to reach the database is "unavailable", whatever its type
        database = "unavailable"
    else:
        revisions = sorted(state.database)
        migrations = "ok" if state.at_head else "behind"
    checks = ReadinessChecks(database=database, migrations=migrations, outbox_sender=_sender_state(request))
    failed = [
        name
        for name, bad in (
            ("database", checks.database != "ok"),
            ("migrations", checks.migrations != "ok"),
            ("outbox_sender", checks.outbox_sender == "stopped"),
        )
        if bad
    ]
    body = Readiness(
        status="not_ready" if failed else "ready",
        checks=checks,
        failed=failed,
        database_revision=revisions,
        code_revision=sorted(script_heads()),
    )
    if failed:
        return JSONResponse(body.model_dump(), status_code=503)
    return body


def _may_read_metrics(request: Request) -> None:
    token = request.app.state.settings.metrics_token
    if token is not None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
            raise Unauthorized()
        return
    host = request.client.host if request.client else ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise MetricsForbidden()


@router.get("/metrics", include_in_schema=False)
async def prometheus_metrics(request: Request) -> Response:
    """Prometheus text format. With WUCHUANG_METRICS_TOKEN set, only for `Authorization: Bearer <token>`;
    without it, only for callers on this machine (loopback)."""
    _may_read_metrics(request)
    try:
        depth = await depth_by_status()
    except Exception:  # the database is down: the process metrics are still worth reading
        metrics.OUTBOX_DEPTH.clear()
    else:
        for status, count in depth.items():
            metrics.OUTBOX_DEPTH.labels(status).set(count)
    return Response(generate_latest(_registry()), media_type=CONTENT_TYPE_LATEST)


def _registry() -> CollectorRegistry:
    """This process's registry; with several workers (PROMETHEUS_MULTIPROC_DIR, set by `serve --workers`)
    every live worker's figures summed, whichever worker answers the scrape. (prometheus-client's process
    collectors — RSS, CPU — speak for one process only and are left out then.)"""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return REGISTRY
    # A worker killed outright (kill -9, out of memory) never said goodbye: its live gauges would still
    # count (two schedulers, say) after the supervisor replaced it. Forget the processes that are gone.
    for path in Path(directory).glob("gauge_live*_*.db") if Path("/proc/self").exists() else ():
        pid = path.stem.rsplit("_", 1)[-1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            with contextlib.suppress(FileNotFoundError):  # another worker's scrape did it a moment ago
                multiprocess.mark_process_dead(int(pid), directory)
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    return registry
