"""The console's pages that hang off an event at the door: the live door view
(``/console/events/{id}/door``, refreshed by api/static/console_door.js from ``…/door/live``, a
``<meta refresh>`` without JS), door staff's sign-in links with their QR code (``…/staff``) and the
event's downloads (``…/exports``).

The figures are ``events.services.door``'s (over ``checkin.event_stats``, as the API's
``/events/{id}/stats``); links are ``door_links``'s (checker tokens limited to the event); the
spreadsheets are the API's own (``api.routers.registrations`` and the course attendance sheet).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api import training_exports
from api.console.common import (
    Page,
    error_page,
    field_text,
    message_of,
    not_found,
    owned,
    parse_id,
    posted,
    redirect,
    render,
    signed_in,
    stamp,
    status_of,
    texts,
)
from api.exports import csv_response, xlsx_response
from api.routers import registrations as registration_routes
from events import clock, localtime
from events.errors import N_, DomainError
from events.models import Course, Event, RegistrationStatus
from events.services import checkin, courses, door, door_links, ownership, registration

router = APIRouter(include_in_schema=False)

LABELS: dict[str, str] = {
    "door": N_("Live door view"),
    "staff": N_("Door staff"),
    "exports": N_("Downloads"),
    "broadcasts": N_("Broadcasts"),
    "event_page": N_("Event page"),
    "checked_in": N_("Checked in"),
    "confirmed": N_("Confirmed"),
    "capacity": N_("Capacity"),
    "no_capacity": N_("no limit"),
    "waitlisted": N_("Waitlisted"),
    "pending": N_("Awaiting approval"),
    "no_show": N_("No-shows"),
    "refused": N_("Refused scans"),
    "rate": N_("%(in)s of %(of)s confirmed are in"),
    "arrivals": N_("Arrivals per 5 minutes"),
    "no_arrivals": N_("Nobody has checked in yet."),
    "last_arrivals": N_("Last arrivals"),
    "time": N_("Time"),
    "name": N_("Name"),
    "organization": N_("Organization"),
    "gate": N_("Gate"),
    "no_gate": N_("(no gate)"),
    "gates": N_("By gate"),
    "checkers": N_("By checker"),
    "checker": N_("Checker"),
    "admitted": N_("Admitted"),
    "updated": N_("Updated %(time)s; refreshes every 10 seconds."),
    "window": N_("Check-in opens %(opens)s and closes %(closes)s."),
    "staff_text": N_(
        "A sign-in link lets a phone scan tickets for this event only, at /scan, without an account. Anyone "
        "holding the link can scan: give each person their own, and revoke it when the event is over."
    ),
    "link_name": N_("Who holds it (e.g. East gate, Xiao Li)"),
    "create_link": N_("Create a sign-in link"),
    "new_link": N_("The sign-in link. Copy it or scan the QR code now: it is shown only this once."),
    "qr_alt": N_("QR code of the sign-in link"),
    "links": N_("Sign-in links"),
    "created": N_("Created"),
    "last_used": N_("Last used"),
    "never": N_("never"),
    "status": N_("Status"),
    "active": N_("Active"),
    "revoked": N_("Revoked"),
    "revoke": N_("Revoke"),
    "link_revoked": N_("The link is revoked: it no longer scans."),
    "exports_text": N_(
        "Spreadsheets of this event, as of now: CSV (UTF-8, for scripts and Excel) or XLSX. Times are local."
    ),
    "reg_all": N_("All registrations"),
    "reg_confirmed": N_("Confirmed registrations"),
    "reg_waitlisted": N_("The waitlist"),
    "reg_in": N_("Checked in"),
    "reg_not_in": N_("Confirmed, not checked in"),
    "attendance": N_("Course attendance sheet (%(code)s)"),
    "rows": N_("%(n)s rows"),
}


def _t(page: Page) -> dict[str, str]:
    return texts(page.locale, LABELS)


async def _event(request: Request, page: Page, event_id: str) -> Event | Response:
    return await owned(request, page, event_id, ownership.owned_event)


# ---- the live door view -------------------------------------------------------------------------

BUCKET = timedelta(minutes=5)
BAR_WIDTH = 24  # px per 5 minutes in the chart (drawn at its own size, never stretched)
MAX_BARS = 48  # four hours of 5-minute bars; earlier arrivals are summed into the first


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    count: int
    x: int
    y: int
    height: int


def _bars(arrivals: list[tuple[datetime, int]], *, now: datetime) -> list[Bar]:
    """Every 5-minute slot from the first arrival to now (empty slots too: a gap at the door shows)."""
    if not arrivals:
        return []
    counts = dict(arrivals)
    start, last = arrivals[0][0], max(arrivals[-1][0], min(now, arrivals[-1][0] + timedelta(hours=4)))
    slots = []
    slot = start
    while slot <= last:
        slots.append(slot)
        slot += BUCKET
    early = 0
    if len(slots) > MAX_BARS:
        early = sum(n for at, n in arrivals if at < slots[-MAX_BARS])
        slots = slots[-MAX_BARS:]
    values = [counts.get(s, 0) for s in slots]
    values[0] += early
    peak = max(values) or 1
    return [
        Bar(localtime.local(s).strftime("%H:%M"), n, i * BAR_WIDTH, 114 - round(96 * n / peak), round(96 * n / peak))
        for i, (s, n) in enumerate(zip(slots, values, strict=True))
    ]


def _checker_name(checker: str) -> str:
    """``token:12:East gate`` → ``East gate``; other actors as they are."""
    kind, _, rest = checker.partition(":")
    if kind == "token":
        return rest.partition(":")[2] or checker
    return checker


async def _door_context(page: Page, event: Event) -> dict[str, Any]:
    view = await door.door_view(event)
    opens, closes = (localtime.stamp(m) for m in checkin.checkin_window(event))
    now = clock.now()
    stats = view.stats
    return {
        "event": event,
        "view": view,
        "stats": stats,
        "bars": _bars(stats.arrivals, now=now),
        "bar_width": BAR_WIDTH,
        "recent": [{"a": a, "at": localtime.local(a.at).strftime("%H:%M:%S")} for a in view.recent],
        "gates": view.gates,
        "checkers": [{"name": _checker_name(c.checker), "c": c} for c in view.checkers],
        "updated": localtime.local(now).strftime("%H:%M:%S"),
        "opens": opens,
        "closes": closes,
    }


@router.get("/console/events/{event_id}/door")
async def door_page(request: Request, event_id: str) -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    event = await _event(request, page, event_id)
    if isinstance(event, Response):
        return event
    return render(request, page, "console/door_view.html", LABELS, **await _door_context(page, event))


@router.get("/console/events/{event_id}/door/live")
async def door_live(request: Request, event_id: str) -> Response:
    """The refreshing part of the door view (an HTML fragment the page's script swaps in)."""
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    event = await _event(request, page, event_id)
    if isinstance(event, Response):
        return event
    return render(request, page, "console/door_live.html", LABELS, **await _door_context(page, event))


# ---- door staff ---------------------------------------------------------------------------------


def _qr_svg(text: str) -> str:
    """The QR code of ``text`` as an inline SVG (paths only: no style attribute for the CSP)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=10, border=2)
    svg: str = image.to_string(encoding="unicode")
    return svg[svg.index("<svg") :]


async def _staff_page(
    request: Request,
    page: Page,
    event: Event,
    *,
    status_code: int = 200,
    link: str | None = None,
    name: str = "",
    problem: str | None = None,
) -> Response:
    found = await door_links.door_links(event.id, scope=page.scope)
    rows = [
        {
            "token": t,
            "created": stamp(t.created_at),
            "last_used": stamp(t.last_used_at),
        }
        for t in found
    ]
    done = request.query_params.get("done")
    return render(
        request,
        page,
        "console/door_staff.html",
        LABELS,
        status_code=status_code,
        event=event,
        rows=rows,
        link=link,
        qr=_qr_svg(link) if link else None,
        typed=name,
        key=secrets.token_urlsafe(12),
        problem=problem,
        done=_t(page)["link_revoked"] if done == "revoked" else None,
    )


@router.get("/console/events/{event_id}/staff")
async def staff_page(request: Request, event_id: str) -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    event = await _event(request, page, event_id)
    if isinstance(event, Response):
        return event
    return await _staff_page(request, page, event)


@router.post("/console/events/{event_id}/staff")
async def create_link(request: Request, event_id: str) -> Response:
    """Made and shown at once (200, not a redirect): the token's text exists only in this answer."""
    answer = await posted(request)
    if isinstance(answer, Response):
        return answer
    page, form = answer
    event = await _event(request, page, event_id)
    if isinstance(event, Response):
        return event
    name = field_text(form, "name", limit=200)
    try:
        issued = await door_links.create_door_link(
            event.id,
            name,
            scope=page.scope,
            actor=page.actor,
            account_id=page.console.account.id,
            key=field_text(form, "key", limit=100) or None,
        )
    except DomainError as error:
        return await _staff_page(
            request,
            page,
            event,
            status_code=status_of(error),
            name=name,
            problem=message_of(page.locale, error),
        )
    return await _staff_page(request, page, event, link=door_links.scan_url(issued.plaintext, event.id))


@router.post("/console/events/{event_id}/staff/{token_id}/revoke")
async def revoke_link(request: Request, event_id: str, token_id: str) -> Response:
    answer = await posted(request)
    if isinstance(answer, Response):
        return answer
    page, _ = answer
    event = await _event(request, page, event_id)
    if isinstance(event, Response):
        return event
    number = parse_id(token_id)
    if number is None:
        return not_found(request, page)
    try:
        await door_links.revoke_door_link(event.id, number, scope=page.scope, actor=page.actor)
    except DomainError as error:
        return error_page(request, page, error)
    return redirect(f"/console/events/{event.id}/staff", page.locale, done="revoked")


# ---- downloads ----------------------------------------------------------------------------------

# The registration sheets offered: (key, label key, status filter, checked-in filter).
SHEETS: dict[str, tuple[str, RegistrationStatus | None, bool | None]] = {
    "all": ("reg_all", None, None),
    "confirmed": ("reg_confirmed", RegistrationStatus.CONFIRMED, None),
    "waitlisted": ("reg_waitlisted", RegistrationStatus.WAITLISTED, None),
    "in": ("reg_in", None, True),
    "not_in": ("reg_not_in", RegistrationStatus.CONFIRMED, False),
}
FORMATS = ("csv", "xlsx")


async def _course_of(event: Event) -> Course | None:
    return await Course.get_or_none(event_id=event.id)


@router.get("/console/events/{event_id}/exports")
async def exports_page(request: Request, event_id: str) -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    event = await _event(request, page, event_id)
    if isinstance(event, Response):
        return event
    t = _t(page)
    sheets = [{"key": key, "text": t[label]} for key, (label, _, _) in SHEETS.items()]
    course = await _course_of(event)
    return render(
        request,
        page,
        "console/door_exports.html",
        LABELS,
        event=event,
        sheets=sheets,
        formats=FORMATS,
        course=course,
        attendance=t["attendance"] % {"code": course.code} if course else None,
    )


def _bad_download(request: Request, page: Page) -> Response:
    from events.errors import InvalidInput

    return error_page(request, page, InvalidInput(N_("No such download."), field="format"))


@router.get("/console/events/{event_id}/exports/registrations")
async def export_registrations(request: Request, event_id: str, sheet: str = "all", format: str = "csv") -> Response:
    """The API's registration export (``GET /api/v1/events/{id}/registrations?format=``), in the page's language."""
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    event = await _event(request, page, event_id)
    if isinstance(event, Response):
        return event
    if sheet not in SHEETS or format not in FORMATS:
        return _bad_download(request, page)
    _, status, checked_in = SHEETS[sheet]
    found = await registration.search_registrations(
        event.id, registration.RegistrationQuery(status=status, checked_in=checked_in, limit=None)
    )
    kind: Literal["csv", "xlsx"] = "csv" if format == "csv" else "xlsx"
    # The API's own writer: the same columns, names and local times as its ``format=`` download.
    return await registration_routes._export(event, found.items, kind, page.locale)


@router.get("/console/events/{event_id}/exports/attendance")
async def export_attendance(request: Request, event_id: str, format: str = "csv") -> Response:
    """The API's course attendance sheet (``GET /api/v1/courses/{id}/attendance?format=``)."""
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    event = await _event(request, page, event_id)
    if isinstance(event, Response):
        return event
    course = await _course_of(event)
    if course is None:
        return not_found(request, page)
    if format not in FORMATS:
        return _bad_download(request, page)
    sheet = await courses.attendance_sheet(course.id)
    code = sheet.course.code
    if format == "csv":
        return csv_response(
            f"course-{code}-attendance.csv",
            training_exports.sheet_header(sheet.items, None),
            training_exports.sheet_rows(sheet, None),
            tz=localtime.zone(),
        )
    return await xlsx_response(
        f"course-{code}-attendance.xlsx",
        code,
        training_exports.sheet_header(sheet.items, page.locale),
        training_exports.sheet_rows(sheet, page.locale),
        tz=localtime.zone(),
        widths=training_exports.sheet_widths(sheet.items),
    )
