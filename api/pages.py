"""HTML pages served by the app itself: the door-staff scanner at ``/scan``, a roadshow's line-up.

Everything the page needs comes from this app (``/static``): no CDN, no web fonts, no analytics.
The Content-Security-Policy says so to the browser too.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from api.deps import Id
from events import localtime
from events.services import catalog
from events.services.roadshows import lineup

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=TEMPLATES_DIR)

# Only this origin: scripts, styles, API calls. The camera stream is a MediaStream (blob/mediastream).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob: mediastream:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Permissions-Policy": "camera=(self), microphone=()",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    # The page is tiny and its assets are fingerprinted: always revalidate the HTML.
    "Cache-Control": "no-cache",
}


def static_files() -> StaticFiles:
    """The ``/static`` mount: the scanner's script, styles and vendored libraries."""
    return StaticFiles(directory=STATIC_DIR)


@lru_cache(maxsize=64)
def _fingerprint(name: str, mtime_ns: int) -> str:
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]


def asset_url(request: Request, name: str) -> str:
    """``/static/<name>?v=<content hash>``, so a deploy never leaves a phone on a stale script."""
    path = STATIC_DIR / name
    version = _fingerprint(name, path.stat().st_mtime_ns)
    return f"{request.scope.get('root_path', '')}/static/{name}?v={version}"


@router.get("/scan", response_class=HTMLResponse)
async def scan_page(request: Request) -> HTMLResponse:
    """The door-staff page: sign in with a checker token, pick the event, scan."""
    return templates.TemplateResponse(
        request,
        "scan.html",
        {
            "api_base": request.scope.get("root_path", ""),
            "asset": lambda name: asset_url(request, name),
        },
        headers=PAGE_HEADERS,
    )


@router.get("/events/{event_id}/lineup", response_class=HTMLResponse)
async def lineup_page(request: Request, event_id: Id) -> HTMLResponse:
    """A published roadshow's or fair's line-up, in order, at local time (the display zone)."""
    event = await catalog.get_event(event_id)
    pitches = await lineup.public_lineup(event.id)
    rows = [
        {
            "position": p.position,
            "when": lineup.time_range(p),
            "title": p.project.title,
            "presenter": p.presenter_name,
            "status": str(p.status),
        }
        for p in pitches
    ]
    context = {"event": event, "rows": rows, "when": localtime.stamp(event.starts_at), "zone": localtime.zone().key}
    return templates.TemplateResponse(request, "lineup.html", context, headers=PAGE_HEADERS)
