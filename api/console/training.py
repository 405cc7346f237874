"""The console's training programme: ``/console/courses`` (the organization's courses), a course's page
(its sessions and modules, who is enrolled with their hours per item, completion; enrol a broker,
withdraw one, record an online module's completion), ``/console/brokers`` (search and filter by
standing) and a broker's page (hours, level, progress to the next level, the ledger, certificates;
admins grant hours and revoke or reinstate a certificate).

Every rule is the services' (``courses``, ``credits``, ``certification``, ``transcripts``), called as
the API's training routes call them; certification itself follows from the ledger (``credits`` →
``certification.reassess``), so "certify" here is recording what earns it.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from api import training_pages as names
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
from events import clock, localtime
from events.errors import N_, DomainError, InvalidInput
from events.models import Course, EventStatus, ItemKind, Role
from events.services import catalog, certification, courses, credits, ownership, transcripts

router = APIRouter(include_in_schema=False)

LABELS: dict[str, str] = {
    "courses": N_("Courses"),
    "brokers": N_("Brokers"),
    "code": N_("Code"),
    "title": N_("Title"),
    "level": N_("Level"),
    "starts": N_("Starts"),
    "items_title": N_("Sessions and modules"),
    "kind": N_("Kind"),
    "session": N_("Session"),
    "module": N_("Online module"),
    "hours": N_("Hours"),
    "enrolled": N_("Enrolled"),
    "name": N_("Name"),
    "organization": N_("Organization"),
    "status": N_("Status"),
    "total_hours": N_("Total hours"),
    "completed": N_("Completed"),
    "yes": N_("Yes"),
    "no": N_("No"),
    "enroll": N_("Enrol a broker"),
    "broker_id": N_("Broker number"),
    "enroll_button": N_("Enrol"),
    "withdraw": N_("Withdraw from the course"),
    "enrolled_done": N_("Enrolled."),
    "withdrawn_done": N_("Withdrawn; the seat went to the waitlist's head."),
    "completion": N_("Record an online module's completion"),
    "module_code": N_("Module"),
    "record": N_("Record"),
    "recorded_done": N_("Recorded: the hours are on the broker's ledger."),
    "attendance_sheet": N_("Attendance sheet"),
    "event_page": N_("The course's event"),
    "search_brokers": N_("Name or organization"),
    "standing": N_("Standing"),
    "any": N_("Any"),
    "certified_at": N_("Certified on"),
    "valid_until": N_("Valid until"),
    "next_level": N_("Next: %(level)s — %(have)s of %(need)s hours"),
    "courses_needed": N_("Courses still needed: %(codes)s"),
    "ledger": N_("Hours on the ledger"),
    "when": N_("When"),
    "what": N_("What"),
    "source": N_("Source"),
    "certificates": N_("Certificates"),
    "number": N_("Number"),
    "grant": N_("Grant hours (administrators)"),
    "reason": N_("Reason"),
    "grant_button": N_("Grant"),
    "granted_done": N_("The hours are granted."),
    "revoke": N_("Revoke"),
    "reinstate": N_("Reinstate"),
    "cert_done": N_("The certificate is changed."),
    "transcript": N_("Printable transcript"),
    "district": N_("District"),
    "new_course": N_("New course"),
    "venue": N_("Venue"),
    "ends": N_("Ends"),
    "event_id": N_("Event number (sessions)"),
    "items_hint": N_("Blank rows are left out. A session is an existing training event; a module is online."),
    "create_course": N_("Create the course"),
    "created_done": N_("The course is created as a draft; publish it when it is ready."),
    "draft": N_("This course's event is a draft: brokers cannot see it yet."),
    "publish": N_("Publish"),
    "published_done": N_("The course is published."),
    "add_item": N_("Add a session or module"),
    "add_item_button": N_("Add"),
    "item_added_done": N_("The item is added."),
    "bad_time": N_("Enter a date and time."),
    "bad_number": N_("Enter a whole number."),
    "check_field": N_("Check this field."),
    "required": N_("This field is required."),
    "too_long": N_("This is too long."),
    "back": N_("Back to the courses"),
}
SOURCES = {
    "attendance": N_("Attendance"),
    "module": N_("Online module"),
    "grant": N_("Grant"),
    "correction": N_("Correction"),
}
DONE = {
    "enrolled": "enrolled_done",
    "withdrawn": "withdrawn_done",
    "recorded": "recorded_done",
    "granted": "granted_done",
    "cert": "cert_done",
    "created": "created_done",
    "published": "published_done",
    "item_added": "item_added_done",
}
COURSE_FIELDS = ("code", "title", "venue", "starts_at", "ends_at")
ITEM_FIELDS = ("kind", "code", "title", "hours", "event_id")
ITEM_ROWS = 5


def _t(page: Page) -> dict[str, str]:
    return texts(page.locale, LABELS)


def _done(request: Request, page: Page) -> str | None:
    key = DONE.get(request.query_params.get("done", ""))
    return _t(page)[key] if key else None


def _cursor(request: Request) -> str | None:
    cursor = request.query_params.get("cursor")
    return cursor[:500] if cursor else None


# ---- courses ------------------------------------------------------------------------------------


@router.get("/console/courses")
async def course_list(request: Request) -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    try:
        found = await courses.list_courses(
            include_unpublished=True, scope=page.scope, own=True, limit=50, cursor=_cursor(request)
        )
    except DomainError as error:
        return error_page(request, page, error)
    items = await courses.items_by_course([c.id for c in found.items])
    rows = [
        {
            "c": c,
            "starts": stamp(c.event.starts_at),
            "level": names.level_name(page.locale, c.level),
            "items": len(items[c.id]),
            "hours": names.number(courses.course_hours(items[c.id])),
        }
        for c in found.items
    ]
    return render(
        request,
        page,
        "console/training_courses.html",
        LABELS,
        rows=rows,
        next_cursor=found.next_cursor,
        total=found.total,
    )


# ---- creating a course --------------------------------------------------------------------------


def _local_input(moment: datetime) -> str:
    return localtime.local(moment).strftime("%Y-%m-%dT%H:%M")


def _parse_local(text: str) -> datetime:
    """A datetime-local value read on the local clock (events.localtime). Raises ValueError."""
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=localtime.zone())
    return moment


def _item_values(form: Any, prefix: str) -> dict[str, str]:
    return {name: field_text(form, f"{prefix}{name}", limit=300) for name in ITEM_FIELDS}


def _blank(values: dict[str, str]) -> bool:
    return not any(values[name] for name in ITEM_FIELDS if name != "kind")


def _item_data(values: dict[str, str], key: str, t: dict[str, str], problems: dict[str, str]) -> dict[str, Any]:
    """One item row's typed fields; what cannot be read goes to ``problems[key.field]``."""
    data: dict[str, Any] = {"kind": values["kind"] or ItemKind.MODULE, "hours": values["hours"]}
    for name in ("code", "title"):
        data[name] = values[name] or None
    if values["event_id"]:
        number = parse_id(values["event_id"])
        if number is None:
            problems[f"{key}.event_id"] = t["bad_number"]
        data["event_id"] = number
    return data


def _validation_problems(error: ValidationError, t: dict[str, str]) -> dict[str, str]:
    """Pydantic's complaints as field → text; an item's are keyed ``items.N.field`` (``items.N`` for the row)."""
    problems: dict[str, str] = {}
    for item in error.errors():
        loc = [str(part) for part in item["loc"]]
        if loc[:1] == ["event"]:
            loc = loc[1:]
        field = ".".join(loc[:3] if loc[:1] == ["items"] else loc[:1]) if loc else "_"
        kind = item.get("type", "")
        if kind == "missing" or kind == "string_too_short":
            text = t["required"]
        elif kind in ("string_too_long", "too_long"):
            text = t["too_long"]
        else:
            text = t["check_field"]
        problems.setdefault(field or "_", text)
    return problems


def _point_at_blanks(problems: dict[str, str], row: str, values: dict[str, str], t: dict[str, str]) -> None:
    """An item's whole-row complaint (a module without a code or title) shown beside the blank fields too."""
    if row in problems and values["kind"] != ItemKind.SESSION:
        for name in ("code", "title"):
            if not values[name]:
                problems[f"{row}.{name}".lstrip(".").removeprefix("_.")] = t["required"]


def _domain_problem(page: Page, error: DomainError, known: tuple[str, ...], codes: tuple[str, ...]) -> dict[str, str]:
    """The service's error beside its field when the form has it (``codes``: the errors about ``code``)."""
    field = "code" if error.code in codes else str(error.params.get("field") or "")
    keep = field in known or (field.startswith("items.") and field.split(".")[-1] in ITEM_FIELDS)
    return {field if keep else "_": message_of(page.locale, error)}


def _course_form(
    request: Request,
    page: Page,
    values: dict[str, str],
    items: list[dict[str, str]],
    *,
    problems: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        page,
        "console/training_course_form.html",
        LABELS,
        status_code=status_code,
        values=values,
        items=items,
        kinds=_kinds(page),
        problems=problems or {},
    )


def _kinds(page: Page) -> list[tuple[str, str]]:
    t = _t(page)
    return [(ItemKind.MODULE.value, t["module"]), (ItemKind.SESSION.value, t["session"])]


@router.get("/console/courses/new")
async def new_course(request: Request) -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    start = clock.now().astimezone(localtime.zone()).replace(hour=9, minute=0, second=0, microsecond=0)
    start += timedelta(days=14)
    values = dict.fromkeys(COURSE_FIELDS, "") | {
        "starts_at": _local_input(start),
        "ends_at": _local_input(start + timedelta(hours=8)),
    }
    items = [dict.fromkeys(ITEM_FIELDS, "") | {"kind": "module"} for _ in range(ITEM_ROWS)]
    return _course_form(request, page, values, items)


@router.post("/console/courses/new")
async def create_course(request: Request) -> Response:
    """``courses.create_course`` with a new training event of the page's organization, as the API's
    ``POST /courses``; the course starts as a draft (published from its page)."""
    answer = await posted(request)
    if isinstance(answer, Response):
        return answer
    page, form = answer
    t = _t(page)
    values = {name: field_text(form, name, limit=300) for name in COURSE_FIELDS}
    items = [_item_values(form, f"item{n}_") for n in range(ITEM_ROWS)]
    problems: dict[str, str] = {}
    event: dict[str, Any] = {"title": values["title"], "kind": "training", "venue": values["venue"]}
    for name in ("starts_at", "ends_at"):
        try:
            event[name] = _parse_local(values[name])
        except ValueError:
            problems[name] = t["bad_time"]
    # Blank rows are left out; the rows kept keep their place in the form for the problems' keys.
    kept = [(n, values_) for n, values_ in enumerate(items) if not _blank(values_)]
    item_data = [_item_data(v, f"items.{n}", t, problems) for n, v in kept]
    # The services count the kept rows; the form counts all of them.
    places = {str(i): str(n) for i, (n, _) in enumerate(kept)}
    if not problems:
        try:
            data = courses.CourseInput(code=values["code"], title=values["title"], event=event, items=item_data)
        except ValidationError as error:
            problems = _validation_problems(error, t)
            problems = {_renumber(k, places): v for k, v in problems.items()}
            for n, row_values in kept:
                _point_at_blanks(problems, f"items.{n}", row_values, t)
        else:
            try:
                course = await courses.create_course(
                    data, actor=page.actor, organization_id=page.organization_id, scope=page.scope
                )
                return redirect(f"/console/courses/{course.id}", page.locale, done="created")
            except DomainError as error:
                problems = _domain_problem(page, error, COURSE_FIELDS, ("course_code_taken",))
                problems = {_renumber(k, places): v for k, v in problems.items()}
                return _course_form(request, page, values, items, problems=problems, status_code=status_of(error))
    return _course_form(request, page, values, items, problems=problems, status_code=422)


def _renumber(key: str, places: dict[str, str]) -> str:
    parts = key.split(".")
    if parts[0] == "items" and len(parts) > 1:
        parts[1] = places.get(parts[1], parts[1])
    return ".".join(parts)


async def _course(request: Request, page: Page, course_id: str) -> Course | Response:
    return await owned(request, page, course_id, ownership.owned_course)


async def _course_page(
    request: Request,
    page: Page,
    course: Course,
    *,
    problem: str | None = None,
    status_code: int = 200,
    item: dict[str, str] | None = None,
    item_problems: dict[str, str] | None = None,
) -> Response:
    sheet = await courses.attendance_sheet(course.id)
    t = _t(page)
    items = [
        {
            "i": item,
            "kind": t["session"] if item.kind == ItemKind.SESSION else t["module"],
            "hours": names.number(courses.item_hours(item)),
        }
        for item in sheet.items
    ]
    rows = [
        {
            "r": row,
            "status": names.enrollment_name(page.locale, row.status),
            "cells": [names.number(row.cells[item.id].hours) if item.id in row.cells else "0" for item in sheet.items],
            "total": names.number(row.total),
            "active": row.status in ("confirmed", "waitlisted", "pending"),
        }
        for row in sheet.rows
    ]
    modules = [item for item in sheet.items if item.kind == ItemKind.MODULE]
    return render(
        request,
        page,
        "console/training_course.html",
        LABELS,
        status_code=status_code,
        course=course,
        level=names.level_name(page.locale, course.level),
        starts=stamp(course.event.starts_at),
        items=items,
        rows=rows,
        modules=modules,
        enrolled=[row for row in sheet.rows if row.broker_id is not None],
        key=secrets.token_urlsafe(12),
        problem=problem,
        done=_done(request, page),
        draft=course.event.status == EventStatus.DRAFT,
        item=item or (dict.fromkeys(ITEM_FIELDS, "") | {"kind": "module"}),
        item_problems=item_problems or {},
        kinds=_kinds(page),
    )


@router.post("/console/courses/{course_id}/publish")
async def publish_course(request: Request, course_id: str) -> Response:
    """Publishes the course's event with ``catalog.publish_event``, as the API's ``POST /events/{id}/publish``."""
    answer = await posted(request)
    if isinstance(answer, Response):
        return answer
    page, _ = answer
    course = await _course(request, page, course_id)
    if isinstance(course, Response):
        return course
    try:
        await catalog.publish_event(course.event_id, actor=page.actor)
    except DomainError as error:
        return await _course_page(
            request, page, course, problem=message_of(page.locale, error), status_code=status_of(error)
        )
    return redirect(f"/console/courses/{course.id}", page.locale, done="published")


@router.post("/console/courses/{course_id}/items")
async def add_item(request: Request, course_id: str) -> Response:
    """``courses.add_item``, as the API's ``POST /courses/{id}/items``."""
    answer = await posted(request)
    if isinstance(answer, Response):
        return answer
    page, form = answer
    course = await _course(request, page, course_id)
    if isinstance(course, Response):
        return course
    t = _t(page)
    values = _item_values(form, "")
    problems: dict[str, str] = {}
    data = _item_data(values, "", t, problems)
    problems = {k.lstrip("."): v for k, v in problems.items()}
    status_code = 422
    if not problems:
        try:
            await courses.add_item(course.id, courses.ItemInput(**data), actor=page.actor, scope=page.scope)
            return redirect(f"/console/courses/{course.id}", page.locale, done="item_added")
        except ValidationError as error:
            problems = _validation_problems(error, t)
            _point_at_blanks(problems, "_", values, t)
        except DomainError as error:
            problems = _domain_problem(page, error, ITEM_FIELDS, ("item_code_taken",))
            status_code = status_of(error)
    return await _course_page(request, page, course, status_code=status_code, item=values, item_problems=problems)


@router.get("/console/courses/{course_id}")
async def course_page(request: Request, course_id: str) -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    course = await _course(request, page, course_id)
    if isinstance(course, Response):
        return course
    return await _course_page(request, page, course)


def _broker_field(form: Any) -> int:
    number = parse_id(field_text(form, "broker_id", limit=20))
    if number is None:
        raise InvalidInput(N_("Give the broker's number."), field="broker_id")
    return number


@router.post("/console/courses/{course_id}/enrollments")
async def enroll(request: Request, course_id: str) -> Response:
    answer = await posted(request)
    if isinstance(answer, Response):
        return answer
    page, form = answer
    course = await _course(request, page, course_id)
    if isinstance(course, Response):
        return course
    try:
        broker_id = _broker_field(form)
        await ownership.owned_broker(broker_id, page.scope)
        await courses.enroll(course.id, broker_id, actor=page.actor, source="console")
    except DomainError as error:
        return await _course_page(
            request, page, course, problem=message_of(page.locale, error), status_code=status_of(error)
        )
    return redirect(f"/console/courses/{course.id}", page.locale, done="enrolled")


@router.post("/console/courses/{course_id}/enrollments/{broker_id}/withdraw")
async def withdraw(request: Request, course_id: str, broker_id: str) -> Response:
    answer = await posted(request)
    if isinstance(answer, Response):
        return answer
    page, form = answer
    course = await _course(request, page, course_id)
    if isinstance(course, Response):
        return course
    number = parse_id(broker_id)
    if number is None:
        return not_found(request, page)
    try:
        await courses.withdraw(course.id, number, actor=page.actor, reason=field_text(form, "reason", limit=500))
    except DomainError as error:
        return await _course_page(
            request, page, course, problem=message_of(page.locale, error), status_code=status_of(error)
        )
    return redirect(f"/console/courses/{course.id}", page.locale, done="withdrawn")


@router.post("/console/courses/{course_id}/completions")
async def complete_module(request: Request, course_id: str) -> Response:
    """``credits.complete_module`` with the form's key as the report's id: a second post of the same form
    is the same report (the service answers the line it wrote)."""
    answer = await posted(request)
    if isinstance(answer, Response):
        return answer
    page, form = answer
    course = await _course(request, page, course_id)
    if isinstance(course, Response):
        return course
    try:
        broker_id = _broker_field(form)
        key = field_text(form, "key", limit=60)
        if not key:
            raise InvalidInput(N_("This form has expired; open it again."), field="key")
        await credits.complete_module(
            course.id,
            field_text(form, "code", limit=64),
            broker_id=broker_id,
            external_id=f"console:{key}",
            completed_at=None,
            actor=page.actor,
        )
    except DomainError as error:
        return await _course_page(
            request, page, course, problem=message_of(page.locale, error), status_code=status_of(error)
        )
    return redirect(f"/console/courses/{course.id}", page.locale, done="recorded")


# ---- brokers ------------------------------------------------------------------------------------


@router.get("/console/brokers")
async def broker_list(request: Request) -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    q = request.query_params.get("q", "").strip()[:100]
    status = request.query_params.get("status", "")
    query = transcripts.BrokerQuery(
        q=q or None, status=status or None, sort="-hours", limit=50, cursor=_cursor(request)
    )
    try:
        found = await transcripts.list_brokers(query, tz=localtime.zone(), scope=page.scope)
    except DomainError as error:
        return error_page(request, page, error)
    rows = [
        {
            "b": row,
            "hours": names.number(row.hours),
            "level": names.level_name(page.locale, row.level),
            "standing": names.standing_name(page.locale, row.status),
            "district": names.district_name(page.locale, row.broker.district),
        }
        for row in found.items
    ]
    statuses = [(s, names.standing_name(page.locale, s)) for s in transcripts.STATUSES]
    return render(
        request,
        page,
        "console/training_brokers.html",
        LABELS,
        rows=rows,
        q=q,
        status=status,
        statuses=statuses,
        next_cursor=found.next_cursor,
        total=found.total,
    )


async def _broker_page(
    request: Request, page: Page, broker_id: int, *, problem: str | None = None, status_code: int = 200
) -> Response:
    record = await transcripts.transcript(broker_id, tz=localtime.zone())
    await record.broker.fetch_related("person")
    a = record.assessment
    t = _t(page)
    progress = None
    if a.next is not None:
        progress = {
            "text": t["next_level"]
            % {
                "level": names.level_name(page.locale, a.next.level),
                "have": names.number(a.next.hours_have),
                "need": names.number(a.next.hours_required),
            },
            "have": a.next.hours_have,
            "need": max(a.next.hours_required, Decimal("0.1")),
            "missing_courses": [c for c in a.next.courses_required if c not in a.next.courses_done],
        }
    from events import clock

    now = clock.now()
    return render(
        request,
        page,
        "console/training_broker.html",
        LABELS,
        status_code=status_code,
        broker=record.broker,
        person=record.broker.person,
        district=names.district_name(page.locale, record.broker.district),
        total=names.number(a.total),
        level=names.level_name(page.locale, a.level),
        standing=names.standing_name(page.locale, a.status),
        certified_at=stamp(a.certified_at),
        expires_at=stamp(a.expires_at),
        progress=progress,
        courses=[
            {
                "s": s,
                "status": names.enrollment_name(page.locale, s.enrollment_status),
                "hours": names.number(s.hours),
                "offered": names.number(s.hours_offered),
            }
            for s in record.courses
        ],
        entries=[
            {
                "e": e,
                "when": stamp(e.earned_at),
                "hours": names.number(Decimal(e.hours_tenths) / 10),
                "source": texts(page.locale, SOURCES).get(str(e.source), str(e.source)),
                "what": " · ".join(
                    x for x in (e.course.code if e.course else "", e.item.title if e.item else "", e.reason or "") if x
                ),
            }
            for e in reversed(record.entries)
        ],
        certificates=[
            {
                "c": c,
                "level": names.level_name(page.locale, c.level),
                "at": stamp(c.certified_at),
                "until": stamp(c.expires_at),
                "status": names.certificate_status_name(
                    page.locale, certification.certificate_status(c.state, c.expires_at, now)
                ),
                "revoked": str(c.state) == "revoked",
            }
            for c in record.certifications
        ],
        admin=page.has(Role.ADMIN),
        problem=problem,
        done=_done(request, page),
    )


@router.get("/console/brokers/{broker_id}")
async def broker_page(request: Request, broker_id: str) -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    number = parse_id(broker_id)
    if number is None:
        return not_found(request, page)
    try:
        broker = await ownership.owned_broker(number, page.scope)
    except DomainError as error:
        return error_page(request, page, error)
    return await _broker_page(request, page, broker.id)


@router.post("/console/brokers/{broker_id}/credits")
async def grant(request: Request, broker_id: str) -> Response:
    """Admins only, as the API's ``POST /brokers/{id}/credits``."""
    answer = await posted(request, (Role.ADMIN,))
    if isinstance(answer, Response):
        return answer
    page, form = answer
    number = parse_id(broker_id)
    if number is None:
        return not_found(request, page)
    try:
        broker = await ownership.owned_broker(number, page.scope)
        await credits.grant(
            broker.id,
            hours=field_text(form, "hours", limit=20),
            reason=field_text(form, "reason", limit=600),
            actor=page.actor,
        )
    except DomainError as error:
        if error.code == "broker_not_found":
            return error_page(request, page, error)
        return await _broker_page(
            request, page, number, problem=message_of(page.locale, error), status_code=status_of(error)
        )
    return redirect(f"/console/brokers/{number}", page.locale, done="granted")


async def _certificate_action(request: Request, broker_id: str, certification_id: str, *, revoke: bool) -> Response:
    answer = await posted(request, (Role.ADMIN,))
    if isinstance(answer, Response):
        return answer
    page, form = answer
    broker_number, cert_number = parse_id(broker_id), parse_id(certification_id)
    if broker_number is None or cert_number is None:
        return not_found(request, page)
    reason = field_text(form, "reason", limit=600) or None
    try:
        await ownership.owned_broker(broker_number, page.scope)
        if revoke:
            await certification.revoke_certificate(broker_number, cert_number, reason=reason, actor=page.actor)
        else:
            await certification.reinstate_certificate(broker_number, cert_number, reason=reason, actor=page.actor)
    except DomainError as error:
        if error.code in ("broker_not_found", "not_found", "certification_not_found"):
            return error_page(request, page, error)
        return await _broker_page(
            request, page, broker_number, problem=message_of(page.locale, error), status_code=status_of(error)
        )
    return redirect(f"/console/brokers/{broker_number}", page.locale, done="cert")


@router.post("/console/brokers/{broker_id}/certifications/{certification_id}/revoke")
async def revoke(request: Request, broker_id: str, certification_id: str) -> Response:
    return await _certificate_action(request, broker_id, certification_id, revoke=True)


@router.post("/console/brokers/{broker_id}/certifications/{certification_id}/reinstate")
async def reinstate(request: Request, broker_id: str, certification_id: str) -> Response:
    return await _certificate_action(request, broker_id, certification_id, revoke=False)
