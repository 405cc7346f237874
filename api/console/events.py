"""The console's events and their registrations (issue 17, item 2): what an organizer at a district office
runs a session with, from the first draft to the door.

``/console/events`` lists (filters, keyset pages); ``/new``, ``/{id}/edit`` (a stale-form guard: the
event's ``updated_at`` rides in the form), ``/{id}/duplicate``, ``/{id}/publish``, ``/{id}/cancel`` (the
message goes to every registrant through the outbox, as the API's cancel); ``/{id}`` the event's page
with its figures and the links to the door, broadcasts, exports and door staff; ``/{id}/registrations``
the table (search, status, arrival, keyset pages, bulk approve/reject of at most 10,000 rows) and
``/{id}/registrations/{rid}`` one attendee (edit with a stale-form guard, promote, check in and undo,
resend the ticket).

Every rule is a service's (``catalog``, ``event_admin``, ``registration_admin``, ``checkin`` through
it); this module reads forms, calls them with the page's scope and actor, and renders.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from api.console.common import (
    Page,
    error_page,
    field_ids,
    field_text,
    message_of,
    not_found,
    parse_id,
    posted,
    redirect,
    render,
    signed_in,
    stamp,
    status_of,
    texts,
)
from events import clock, districts, labels, localtime
from events.errors import N_, DomainError, EventNotFound, InvalidInput, StaleForm
from events.models import Event, EventKind, EventStatus, Registration, RegistrationStatus
from events.services import catalog, event_admin, ownership, registration_admin
from events.services.people import display_phone
from events.services.registration_admin import AttendeeEdit, TableQuery, version_of

router = APIRouter(include_in_schema=False)

LABELS: dict[str, str] = {
    "events": N_("Events"),
    "new_event": N_("New event"),
    "edit_event": N_("Edit the event"),
    "title": N_("Title"),
    "kind": N_("Kind"),
    "series": N_("Series"),
    "district": N_("District"),
    "venue": N_("Venue"),
    "address": N_("Address"),
    "host": N_("Host"),
    "starts_at": N_("Starts"),
    "ends_at": N_("Ends"),
    "capacity": N_("Capacity"),
    "capacity_hint": N_("Empty: no limit."),
    "description": N_("Description"),
    "tags": N_("Tags"),
    "tags_hint": N_("Separated by commas."),
    "opens": N_("Registration opens"),
    "closes": N_("Registration closes"),
    "window_hint": N_("Empty: open once published, until the start."),
    "requires_approval": N_("Registrations need approval"),
    "waitlist_enabled": N_("A waitlist when full"),
    "status": N_("Status"),
    "when": N_("When"),
    "from": N_("From"),
    "to": N_("To"),
    "q": N_("Search"),
    "q_events_hint": N_("Title, description or host"),
    "registered": N_("Registered"),
    "create": N_("Create the draft"),
    "save": N_("Save"),
    "publish": N_("Publish"),
    "publish_text": N_("Publishing shows the event on the site and in the bot and opens registration."),
    "duplicate": N_("Duplicate"),
    "duplicate_text": N_("A new draft with the same details at the start you pick; registrations are not copied."),
    "new_start": N_("New start"),
    "cancel_event": N_("Cancel the event"),
    "cancel_text": N_("Every registrant gets your message through the bot or by e-mail. This cannot be undone."),
    "cancel_message": N_("Message to registrants"),
    "cancel_confirm": N_("Cancel the event and tell the registrants"),
    "edit": N_("Edit"),
    "view_public": N_("Public page"),
    "confirmed": N_("Confirmed"),
    "waitlisted": N_("Waitlist"),
    "pending": N_("Awaiting approval"),
    "checked_in": N_("Checked in"),
    "no_limit": N_("no limit"),
    "registrations": N_("Registrations"),
    "door": N_("Door view"),
    "broadcasts": N_("Broadcasts"),
    "exports": N_("Exports"),
    "staff": N_("Door staff"),
    "areas": N_("Run the event"),
    "created_ok": N_("The draft is created. Check it, then publish it."),
    "saved_ok": N_("Saved."),
    "published_ok": N_("Published: registration is open."),
    "cancelled_ok": N_("The event is cancelled; the registrants are being told."),
    "duplicated_ok": N_("This is the copy, a draft. Check the details, then publish it."),
    "q_regs_hint": N_("The beginning of a name, phone, e-mail or organization"),
    "arrival": N_("Arrival"),
    "arrived": N_("Checked in"),
    "not_arrived": N_("Not checked in"),
    "name": N_("Name"),
    "phone": N_("Phone"),
    "email": N_("E-mail"),
    "organization": N_("Organization"),
    "registered_at": N_("Registered at"),
    "select_all": N_("Select all on this page"),
    "select_row": N_("Select"),
    "approve": N_("Approve"),
    "reject": N_("Reject"),
    "with_selected": N_("With the selected:"),
    "all_matching": N_("Every row the filter finds, not only those ticked (at most 10,000)"),
    "bulk_done": N_(
        "Done: %(done)s. Skipped (not awaiting approval): %(skipped)s. Left waiting (event full): %(full)s."
    ),
    "attendee": N_("Attendee"),
    "answers": N_("Answers"),
    "promote": N_("Give a seat now"),
    "promote_text": N_("Confirms this person out of turn; when the event is full its capacity grows by one."),
    "promoted_ok": N_("Confirmed: the ticket is on its way."),
    "checkin": N_("Check in"),
    "checkin_undo": N_("Undo the check-in"),
    "checked_in_ok": N_("Checked in."),
    "checkin_undone": N_("The check-in is undone."),
    "resend": N_("Send the ticket again"),
    "resent_ok": N_("The ticket is queued to be sent again."),
    "place": N_("Place %(n)s"),
    "actions": N_("Actions"),
    "more": N_("More"),
    "first_page": N_("First page"),
    "ticket": N_("Ticket"),
    "source": N_("Source"),
    "status_hint": N_("The event stays as it is; the registrations keep their status."),
    "nothing_selected": N_("Select at least one row."),
    "bad_time": N_("Enter a date and time."),
    "bad_number": N_("Enter a whole number."),
    "check_field": N_("Check this field."),
    "required": N_("This field is required."),
    "too_long": N_("This is too long."),
    "back_to_event": N_("Back to the event"),
    "back_to_table": N_("Back to the registrations"),
    "shift_days": N_("or move by days"),
    "upcoming": N_("Upcoming"),
    "past": N_("Past"),
    "any_time": N_("Any time"),
    "no_answers": N_("This event asks no questions."),
}
KIND_CHOICES = [k.value for k in EventKind]
STATUS_CHOICES = [EventStatus.DRAFT, EventStatus.PUBLISHED, EventStatus.CANCELLED, EventStatus.FINISHED]
REG_STATUSES = [
    RegistrationStatus.PENDING,
    RegistrationStatus.CONFIRMED,
    RegistrationStatus.WAITLISTED,
    RegistrationStatus.CANCELLED,
    RegistrationStatus.REJECTED,
]
PAGE_SIZE = 50
EVENT_FIELDS = (
    "title",
    "kind",
    "series",
    "district",
    "venue",
    "address",
    "host",
    "starts_at",
    "ends_at",
    "capacity",
    "registration_opens_at",
    "registration_closes_at",
    "description",
    "tags",
    "requires_approval",
    "waitlist_enabled",
)
TIME_FIELDS = ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at")


def _t(page: Page) -> dict[str, str]:
    return texts(page.locale, LABELS)


def _local_input(moment: datetime | None) -> str:
    """A stored moment as a datetime-local field's value (local time, minutes)."""
    return localtime.local(moment).strftime("%Y-%m-%dT%H:%M") if moment is not None else ""


def _parse_local(text: str) -> datetime:
    """A datetime-local value read on the local clock. Raises ValueError."""
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=localtime.zone())
    return moment


def _choices(page: Page) -> dict[str, Any]:
    locale = page.locale
    return {
        "kinds": [(k, labels.kind(k, locale)) for k in KIND_CHOICES],
        "all_series": [(s, labels.series(s, locale)) for s in labels.SERIES],
        "all_districts": [(d.code, districts.label(d.code, locale, short=True)) for d in districts.DISTRICTS],
        "statuses": [(str(s), labels.status(str(s), locale, capitalized=True)) for s in STATUS_CHOICES],
        "reg_statuses": [(str(s), labels.status(str(s), locale, capitalized=True)) for s in REG_STATUSES],
    }


def _event_values(event: Event) -> dict[str, str]:
    """What the event form shows for a stored event."""
    values: dict[str, str] = {}
    for name in EVENT_FIELDS:
        value = getattr(event, name)
        if name in TIME_FIELDS:
            values[name] = _local_input(value)
        elif name == "tags":
            values[name] = ", ".join(value or [])
        elif isinstance(value, bool):
            values[name] = "1" if value else ""
        else:
            values[name] = "" if value is None else str(value)
    return values


def _form_values(form: FormData) -> dict[str, str]:
    values = {name: field_text(form, name, limit=20_000) for name in EVENT_FIELDS}
    for flag in ("requires_approval", "waitlist_enabled"):
        values[flag] = "1" if values[flag] else ""
    return values


def _event_data(values: dict[str, str], t: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The typed fields of the form and the problems found reading them (field → text)."""
    data: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for name in ("title", "kind", "venue", "description"):
        data[name] = values[name]
    for name in ("series", "district", "address", "host"):
        data[name] = values[name] or None
    for name in TIME_FIELDS:
        if values[name]:
            try:
                data[name] = _parse_local(values[name])
            except ValueError:
                problems[name] = t["bad_time"]
        else:
            data[name] = None
    if values["capacity"]:
        if values["capacity"].isdigit() and len(values["capacity"]) <= 7:
            data["capacity"] = int(values["capacity"])
        else:
            problems["capacity"] = t["bad_number"]
    else:
        data["capacity"] = None
    data["tags"] = [tag for tag in (p.strip() for p in values["tags"].replace("，", ",").split(",")) if tag]
    data["requires_approval"] = bool(values["requires_approval"])
    data["waitlist_enabled"] = bool(values["waitlist_enabled"])
    return data, problems


def _validation_problems(error: ValidationError, t: dict[str, str]) -> dict[str, str]:
    problems: dict[str, str] = {}
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "title"
        kind = item.get("type", "")
        if kind == "missing" or (kind == "string_too_short" and field in ("title", "venue")):
            text = t["required"]
        elif kind == "string_too_long" or kind == "too_long":
            text = t["too_long"]
        else:
            text = t["check_field"]
        problems.setdefault(field, text)
    return problems


def _domain_problem(page: Page, error: DomainError) -> dict[str, str]:
    field = str(error.params.get("field") or "")
    return {field.split(".")[0] or "_": message_of(page.locale, error)}


async def _owned_event(event_id: str, page: Page) -> Event | None:
    found = parse_id(event_id)
    if found is None:
        return None
    try:
        return await ownership.owned_event(found, page.scope)
    except EventNotFound:
        return None


def _event_row(event: Event, page: Page) -> dict[str, Any]:
    status = str(catalog.effective_status(event))
    return {
        "id": event.id,
        "title": event.title,
        "status": status,
        "status_text": labels.status(status, page.locale),
        "starts": stamp(event.starts_at),
        "ends": stamp(event.ends_at),
        "district": districts.label(event.district, page.locale, short=True),
        "series": labels.series(event.series, page.locale) if event.series else "",
        "venue": event.venue,
        "kind": labels.kind(str(event.kind), page.locale),
        "capacity": event.capacity,
        "taken": event.seats_taken,
        "waitlist": event.waitlist_length,
        "version": version_of(event.updated_at),
    }


# ---- the list -----------------------------------------------------------------------------------------


@router.get("/console/events")
async def events_list(request: Request) -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    params = request.query_params
    t = _t(page)
    status_text = params.get("status", "")
    status = EventStatus(status_text) if status_text in {str(s) for s in STATUS_CHOICES} else None
    series = params.get("series", "")[:50] or None
    district = params.get("district", "")[:32] or None
    if district is not None and not districts.is_known(district):
        district = None
    when_text = params.get("when", "")
    when = when_text if when_text in ("upcoming", "past", "all") else None
    problems: dict[str, str] = {}
    bounds: dict[str, datetime | None] = {"from": None, "to": None}
    for name in ("from", "to"):
        raw = params.get(name, "")[:20]
        if raw:
            try:
                day = datetime.fromisoformat(raw).replace(tzinfo=localtime.zone())
                bounds[name] = day + (timedelta(days=1) if name == "to" else timedelta())
            except ValueError:
                problems[name] = t["bad_time"]
    q = params.get("q", "").strip()[:100] or None
    query = catalog.EventQuery(
        series=series,
        district=district,
        status=status,
        starts_from=bounds["from"],
        starts_to=bounds["to"],
        q=q,
        when=when,  # type: ignore[arg-type]
        limit=PAGE_SIZE,
        cursor=params.get("cursor", "")[:500] or None,
    )
    try:
        found = await catalog.list_events(query, include_unpublished=True, scope=page.scope)
    except DomainError as error:
        return error_page(request, page, error)
    filters = {
        "status": status_text if status else "",
        "series": series or "",
        "district": district or "",
        "from": params.get("from", "")[:20],
        "to": params.get("to", "")[:20],
        "q": q or "",
        "when": when or "",
    }
    rows = [_event_row(e, page) for e in found.items]
    return render(
        request,
        page,
        "console/events_list.html",
        LABELS,
        rows=rows,
        total=found.total,
        next_cursor=found.next_cursor,
        first=bool(params.get("cursor")),
        filters=filters,
        problems=problems,
        status_code=400 if problems else 200,
        **_choices(page),
    )


# ---- create, edit ---------------------------------------------------------------------------------------


def _form_page(
    request: Request,
    page: Page,
    *,
    values: dict[str, str],
    action: str,
    event: Event | None = None,
    problems: dict[str, str] | None = None,
    stale: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        page,
        "console/events_form.html",
        LABELS,
        values=values,
        action=action,
        event=_event_row(event, page) if event is not None else None,
        problems=problems or {},
        stale=stale,
        status_code=status_code,
        **_choices(page),
    )


@router.get("/console/events/new")
async def new_event(request: Request) -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    start = clock.now().astimezone(localtime.zone()).replace(hour=14, minute=0, second=0, microsecond=0)
    start += timedelta(days=14)
    values = dict.fromkeys(EVENT_FIELDS, "") | {
        "kind": "session",
        "series": "wuchuanghui",
        "starts_at": _local_input(start),
        "ends_at": _local_input(start + timedelta(hours=3)),
        "waitlist_enabled": "1",
    }
    return _form_page(request, page, values=values, action="/console/events/new")


@router.post("/console/events/new")
async def create_event(request: Request) -> Response:
    answer = await posted(request)
    if isinstance(answer, Response):
        return answer
    page, form = answer
    t = _t(page)
    values = _form_values(form)
    data, problems = _event_data(values, t)
    if not problems:
        try:
            event_input = catalog.EventInput(**data)
            event = await catalog.create_event(event_input, actor=page.actor, organization_id=page.organization_id)
            return redirect(f"/console/events/{event.id}", page.locale, done="created")
        except ValidationError as error:
            problems = _validation_problems(error, t)
        except DomainError as error:
            problems = _domain_problem(page, error)
    return _form_page(request, page, values=values, action="/console/events/new", problems=problems, status_code=422)


@router.get("/console/events/{event_id}/edit")
async def edit_event_form(request: Request, event_id: str) -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    event = await _owned_event(event_id, page)
    if event is None:
        return not_found(request, page)
    values = _event_values(event) | {"version": version_of(event.updated_at)}
    return _form_page(request, page, values=values, action=f"/console/events/{event.id}/edit", event=event)


@router.post("/console/events/{event_id}/edit")
async def edit_event(request: Request, event_id: str) -> Response:
    answer = await posted(request)
    if isinstance(answer, Response):
        return answer
    page, form = answer
    event = await _owned_event(event_id, page)
    if event is None:
        return not_found(request, page)
    t = _t(page)
    values = _form_values(form)
    data, problems = _event_data(values, t)
    action = f"/console/events/{event.id}/edit"
    if not problems:
        try:
            patch = catalog.EventPatch(**data)
            await event_admin.update_event_unless_changed(
                event.id, patch, seen=field_text(form, "version", limit=64), actor=page.actor
            )
            return redirect(f"/console/events/{event.id}", page.locale, done="saved")
        except StaleForm:
            fresh = await Event.get(id=event.id)
            current = _event_values(fresh) | {"version": version_of(fresh.updated_at)}
            return _form_page(request, page, values=current, action=action, event=fresh, stale=True, status_code=409)
        except ValidationError as error:
            problems = _validation_problems(error, t)
        except DomainError as error:
            if not error.params.get("field"):
                return error_page(request, page, error)
            problems = _domain_problem(page, error)
    values["version"] = field_text(form, "version", limit=64)
    return _form_page(request, page, values=values, action=action, event=event, problems=problems, status_code=422)


# ---- the event's page and its actions ---------------------------------------------------------------


DONE_TEXTS = {
    "created": "created_ok",
    "saved": "saved_ok",
    "published": "published_ok",
    "cancelled": "cancelled_ok",
    "duplicated": "duplicated_ok",
}


async def _event_page(
    request: Request,
    page: Page,
    event: Event,
    *,
    problems: dict[str, str] | None = None,
    status_code: int = 200,
    typed: dict[str, str] | None = None,
) -> HTMLResponse:
    t = _t(page)
    counts = await registration_admin.counts(event)
    done = request.query_params.get("done", "")
    row = _event_row(event, page)
    next_week = _local_input(event.starts_at + timedelta(days=7))
    return render(
        request,
        page,
        "console/events_page.html",
        LABELS,
        ev=row,
        event=event,
        counts=counts,
        fill=min(counts.confirmed, event.capacity) if event.capacity else 0,
        notice=t[DONE_TEXTS[done]] if done in DONE_TEXTS else "",
        address=event.address or "",
        host=event.host or "",
        description=event.description,
        opens=stamp(event.registration_opens_at),
        closes=stamp(event.registration_closes_at),
        may_publish=row["status"] == "draft",
        may_cancel=row["status"] in ("draft", "published"),
        may_edit=row["status"] != "cancelled",
        problems=problems or {},
        typed=typed or {"new_start": next_week, "message": ""},
        status_code=status_code,
    )


@router.get("/console/events/{event_id}")
async def event_page(request: Request, event_id: str) -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    event = await _owned_event(event_id, page)
    if event is None:
        return not_found(request, page)
    return await _event_page(request, page, event)


@router.post("/console/events/{event_id}/publish")
async def publish_event(request: Request, event_id: str) -> Response:
    answer = await posted(request)
    if isinstance(answer, Response):
        return answer
    page, _ = answer
    event = await _owned_event(event_id, page)
    if event is None:
        return not_found(request, page)
    try:
        await catalog.publish_event(event.id, actor=page.actor)
    except DomainError as error:
        return error_page(request, page, error)
    return redirect(f"/console/events/{event.id}", page.locale, done="published")


@router.post("/console/events/{event_id}/cancel")
async def cancel_event(request: Request, event_id: str) -> Response:
    answer = await posted(request)
    if isinstance(answer, Response):
        return answer
    page, form = answer
    event = await _owned_event(event_id, page)
    if event is None:
        return not_found(request, page)
    message = field_text(form, "message", limit=2_000)
    if len(message) > 500:
        error = InvalidInput(N_("At most %(limit)s characters."), field="message", limit=500)
        return await _event_page(
            request,
            page,
            event,
            problems={"message": message_of(page.locale, error)},
            status_code=422,
            typed={"new_start": _local_input(event.starts_at + timedelta(days=7)), "message": message},
        )
    try:
        await catalog.cancel_event(event.id, actor=page.actor, reason=message)
    except DomainError as error:
        return error_page(request, page, error)
    return redirect(f"/console/events/{event.id}", page.locale, done="cancelled")


@router.post("/console/events/{event_id}/duplicate")
async def duplicate_event(request: Request, event_id: str) -> Response:
    answer = await posted(request)
    if isinstance(answer, Response):
        return answer
    page, form = answer
    event = await _owned_event(event_id, page)
    if event is None:
        return not_found(request, page)
    t = _t(page)
    raw_start, raw_days = field_text(form, "new_start", limit=40), field_text(form, "shift_days", limit=6)
    starts_at: datetime | None = None
    shift: timedelta | None = None
    problem = ""
    try:
        if raw_days:
            days = int(raw_days)
            if abs(days) > 3660:
                raise ValueError(raw_days)
            shift = timedelta(days=days)
        elif raw_start:
            starts_at = _parse_local(raw_start)
        else:
            raise ValueError("")
    except ValueError:
        problem = t["bad_number"] if raw_days else t["bad_time"]
    if not problem:
        try:
            copy = await event_admin.duplicate_event(
                event.id, starts_at=starts_at, shift=shift, actor=page.actor, organization_id=event.organization_id
            )
            return redirect(f"/console/events/{copy.id}", page.locale, done="duplicated")
        except (ValidationError, DomainError) as error:
            problem = message_of(page.locale, error) if isinstance(error, DomainError) else t["check_field"]
    return await _event_page(
        request,
        page,
        event,
        problems={"new_start": problem},
        status_code=422,
        typed={"new_start": raw_start, "shift_days": raw_days, "message": ""},
    )


# ---- registrations --------------------------------------------------------------------------------------


def _reg_row(row: registration_admin.TableRow, page: Page) -> dict[str, Any]:
    r = row.registration
    return {
        "id": r.id,
        "name": r.name,
        "phone": display_phone(r.phone) or "",
        "email": r.email or "",
        "organization": r.organization or "",
        "status": str(r.status),
        "status_text": labels.status(str(r.status), page.locale),
        "place": row.waitlist_position,
        "registered": stamp(r.created_at),
        "checked_in": stamp(row.checked_in_at),
    }


def _table_query(params: Any, *, cursor: str | None = None) -> TableQuery:
    """The table's filter from the query string (or the bulk form's copy of it)."""
    status_text = str(params.get("status") or "")
    status = RegistrationStatus(status_text) if status_text in {str(s) for s in REG_STATUSES} else None
    arrived_text = str(params.get("arrived") or "")
    arrived: registration_admin.Arrival | None = (
        "in" if arrived_text == "in" else "out" if arrived_text == "out" else None
    )
    q = str(params.get("q") or "").strip()[:100]
    return TableQuery(status=status, arrived=arrived, q=q or None, limit=PAGE_SIZE, cursor=cursor)


async def _table_page(
    request: Request, page: Page, event: Event, *, notice: str = "", problem: str = "", status_code: int = 200
) -> HTMLResponse:
    params = request.query_params
    query = _table_query(params, cursor=params.get("cursor", "")[:500] or None)
    try:
        found = await registration_admin.table(event.id, query)
    except DomainError as error:
        return error_page(request, page, error)
    counts = await registration_admin.counts(event)
    t = _t(page)
    done = params.get("done", "")
    if not notice and done == "bulk":
        notice = t["bulk_done"] % {
            "done": params.get("n", "0")[:6],
            "skipped": params.get("skipped", "0")[:6],
            "full": params.get("full", "0")[:6],
        }
    filters = {"status": str(query.status or ""), "arrived": query.arrived or "", "q": query.q or ""}
    return render(
        request,
        page,
        "console/events_registrations.html",
        LABELS,
        ev=_event_row(event, page),
        rows=[_reg_row(row, page) for row in found.items],
        next_cursor=found.next_cursor,
        first=bool(params.get("cursor")),
        counts=counts,
        filters=filters,
        notice=notice,
        problem=problem,
        status_code=status_code,
        **_choices(page),
    )


@router.get("/console/events/{event_id}/registrations")
async def registrations(request: Request, event_id: str) -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    event = await _owned_event(event_id, page)
    if event is None:
        return not_found(request, page)
    return await _table_page(request, page, event)


@router.post("/console/events/{event_id}/registrations/bulk")
async def registrations_bulk(request: Request, event_id: str) -> Response:
    answer = await posted(request)
    if isinstance(answer, Response):
        return answer
    page, form = answer
    event = await _owned_event(event_id, page)
    if event is None:
        return not_found(request, page)
    action = field_text(form, "action", limit=20)
    try:
        if field_text(form, "matching", limit=2):
            ids = await registration_admin.matching_ids(event.id, _table_query(form))
        else:
            ids = field_ids(form, "ids", limit=registration_admin.BULK_LIMIT)
        if action not in ("approve", "reject"):
            raise InvalidInput(N_("Choose what to do with the selected rows."), field="action")
        result = await registration_admin.decide_many(
            event.id, ids, approve=action == "approve", actor=page.actor, reason=field_text(form, "reason", limit=500)
        )
    except DomainError as error:
        return await _table_page(
            request, page, event, problem=message_of(page.locale, error), status_code=status_of(error)
        )
    return redirect(
        f"/console/events/{event.id}/registrations",
        page.locale,
        done="bulk",
        n=result.done,
        skipped=result.skipped,
        full=result.full,
        status=field_text(form, "status", limit=20),
        arrived=field_text(form, "arrived", limit=3),
        q=field_text(form, "q", limit=100),
    )


ATTENDEE_DONE = {
    "saved": "saved_ok",
    "promoted": "promoted_ok",
    "checked_in": "checked_in_ok",
    "undone": "checkin_undone",
    "resent": "resent_ok",
}


async def _owned_registration(event: Event, registration_id: str, page: Page) -> Registration | None:
    found = parse_id(registration_id)
    if found is None:
        return None
    try:
        return await registration_admin.owned_registration_of(event.id, found, page.scope)
    except DomainError:
        return None


async def _attendee_page(
    request: Request,
    page: Page,
    event: Event,
    registration: Registration,
    *,
    values: dict[str, str] | None = None,
    problems: dict[str, str] | None = None,
    stale: bool = False,
    notice: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    t = _t(page)
    done = request.query_params.get("done", "")
    if not notice and done in ATTENDEE_DONE:
        notice = t[ATTENDEE_DONE[done]]
    arrivals = await registration_admin.arrivals_of(registration.id, event.id)
    questions = [
        {
            "key": q["key"],
            "label": (q.get("label_en") or q["label"]) if page.locale == "en" else q["label"],
            "choices": q.get("choices") or [],
            "required": q.get("required", True),
        }
        for q in event.questions or []
    ]
    current = {
        "name": registration.name,
        "phone": display_phone(registration.phone) or "",
        "email": registration.email or "",
        "organization": registration.organization or "",
        "version": version_of(registration.updated_at),
    } | {f"answer_{k}": str(v) for k, v in (registration.answers or {}).items()}
    return render(
        request,
        page,
        "console/events_attendee.html",
        LABELS,
        ev=_event_row(event, page),
        reg={
            "id": registration.id,
            "status": str(registration.status),
            "status_text": labels.status(str(registration.status), page.locale),
            "registered": stamp(registration.created_at),
            "source": registration.source,
            "checked_in": stamp(arrivals[0]) if arrivals else "",
            "answers": registration.answers or {},
        },
        values=values or current,
        questions=questions,
        problems=problems or {},
        stale=stale,
        notice=notice,
        status_code=status_code,
    )


@router.get("/console/events/{event_id}/registrations/{registration_id}")
async def attendee(request: Request, event_id: str, registration_id: str) -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    event = await _owned_event(event_id, page)
    registration = await _owned_registration(event, registration_id, page) if event is not None else None
    if event is None or registration is None:
        return not_found(request, page)
    return await _attendee_page(request, page, event, registration)


@router.post("/console/events/{event_id}/registrations/{registration_id}")
async def edit_attendee(request: Request, event_id: str, registration_id: str) -> Response:
    answer = await posted(request)
    if isinstance(answer, Response):
        return answer
    page, form = answer
    event = await _owned_event(event_id, page)
    registration = await _owned_registration(event, registration_id, page) if event is not None else None
    if event is None or registration is None:
        return not_found(request, page)
    values = {name: field_text(form, name, limit=600) for name in ("name", "phone", "email", "organization", "version")}
    answers: dict[str, Any] | None = None
    if event.questions:
        answers = {}
        for q in event.questions:
            text = field_text(form, f"answer_{q['key']}", limit=600)
            values[f"answer_{q['key']}"] = text
            if text:
                answers[q["key"]] = text
    edit = AttendeeEdit(
        name=values["name"],
        phone=values["phone"],
        email=values["email"],
        organization=values["organization"],
        answers=answers,
    )
    try:
        await registration_admin.edit_attendee(registration.id, edit, seen=values["version"], actor=page.actor)
    except StaleForm:
        fresh = await Registration.get(id=registration.id)
        return await _attendee_page(request, page, event, fresh, stale=True, status_code=409)
    except DomainError as error:
        field = str(error.params.get("field") or "name")
        key = f"answer_{field.split('.', 1)[1]}" if field.startswith("answers.") else field.split(".")[0]
        if key in ("phone", "email", "name", "organization") or key.startswith("answer_"):
            problems = {key: message_of(page.locale, error)}
        else:
            problems = {"_": message_of(page.locale, error)}
        return await _attendee_page(
            request, page, event, registration, values=values, problems=problems, status_code=status_of(error)
        )
    return redirect(f"/console/events/{event.id}/registrations/{registration.id}", page.locale, done="saved")


async def _attendee_action(request: Request, event_id: str, registration_id: str, action: str) -> Response:
    answer = await posted(request)
    if isinstance(answer, Response):
        return answer
    page, _ = answer
    event = await _owned_event(event_id, page)
    registration = await _owned_registration(event, registration_id, page) if event is not None else None
    if event is None or registration is None:
        return not_found(request, page)
    try:
        if action == "promote":
            await registration_admin.promote_registration(registration.id, actor=page.actor)
            done = "promoted"
        elif action == "checkin":
            outcome = await registration_admin.manual_checkin(
                registration.id, event_id=event.id, signer=request.app.state.signer, actor=page.actor
            )
            if str(outcome.result) != "ok":
                text = labels.message(page.locale, outcome.reason, outcome.params)
                return await _attendee_page(request, page, event, registration, problems={"_": text}, status_code=409)
            done = "checked_in"
        elif action == "undo":
            await registration_admin.undo_checkin(registration.id, event_id=event.id, actor=page.actor)
            done = "undone"
        else:
            await registration_admin.resend_ticket(registration.id, actor=page.actor)
            done = "resent"
    except DomainError as error:
        return await _attendee_page(
            request,
            page,
            event,
            registration,
            problems={"_": message_of(page.locale, error)},
            status_code=status_of(error),
        )
    return redirect(f"/console/events/{event.id}/registrations/{registration.id}", page.locale, done=done)


@router.post("/console/events/{event_id}/registrations/{registration_id}/promote")
async def promote(request: Request, event_id: str, registration_id: str) -> Response:
    return await _attendee_action(request, event_id, registration_id, "promote")


@router.post("/console/events/{event_id}/registrations/{registration_id}/checkin")
async def checkin_by_hand(request: Request, event_id: str, registration_id: str) -> Response:
    return await _attendee_action(request, event_id, registration_id, "checkin")


@router.post("/console/events/{event_id}/registrations/{registration_id}/checkin/undo")
async def undo_checkin(request: Request, event_id: str, registration_id: str) -> Response:
    return await _attendee_action(request, event_id, registration_id, "undo")


@router.post("/console/events/{event_id}/registrations/{registration_id}/resend")
async def resend(request: Request, event_id: str, registration_id: str) -> Response:
    return await _attendee_action(request, event_id, registration_id, "resend")
