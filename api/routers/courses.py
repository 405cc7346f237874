"""Training courses: create and read them, add sessions and modules, enroll and withdraw brokers,
report online-module completions (an integration does this with an organizer token), and the
attendance sheet with its CSV and XLSX exports.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api import training
from api.auth import Caller, current_caller, require_organizer
from api.deps import Id, presenter
from api.exports import csv_response, xlsx_response
from api.schemas import CancelBody, Presenter
from events.errors import N_
from events.i18n import Locale, gettext
from events.models import CourseItem, ItemKind, Role
from events.services import courses, credits, organizations, ownership

router = APIRouter(prefix="/api/v1/courses", tags=["courses"])

BrokerId = Annotated[int, Field(ge=1, le=2_147_483_647)]


async def _course_body(show: Presenter, course_id: int) -> dict[str, Any]:
    course = await courses.get_course(course_id)
    return training.course_body(show, course, await courses.items_of(course_id))


@router.post("", status_code=201)
async def create_course(
    data: courses.CourseInput, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> JSONResponse:
    """A course and its enrollment event (an existing ``event_id`` of kind training, or a new ``event``)."""
    course = await courses.create_course(data, actor=caller.actor, organization_id=caller.acts_for, scope=caller.reach)
    return JSONResponse(
        await _course_body(show, course.id), status_code=201, headers={"Location": f"/api/v1/courses/{course.id}"}
    )


@router.get("")
async def list_courses(
    caller: Caller = Depends(current_caller), show: Presenter = Depends(presenter)
) -> dict[str, Any]:
    """Published courses (organizers also see drafts)."""
    found = await courses.list_courses(
        include_unpublished=caller.has(Role.ORGANIZER), scope=caller.scope or organizations.EVERYTHING
    )
    items = await courses.items_by_course([c.id for c in found])
    return {"items": [training.course_body(show, course, items[course.id]) for course in found]}


@router.get("/{course_id}")
async def get_course(
    course_id: Id, caller: Caller = Depends(current_caller), show: Presenter = Depends(presenter)
) -> dict[str, Any]:
    course = await courses.get_visible_course(
        course_id, include_unpublished=caller.has(Role.ORGANIZER), scope=caller.scope or organizations.EVERYTHING
    )
    return training.course_body(show, course, await courses.items_of(course.id))


@router.post("/{course_id}/items", status_code=201)
async def add_item(
    course_id: Id,
    data: courses.ItemInput,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> JSONResponse:
    """A session (an existing training event) or an online module, and the hours it is worth."""
    await ownership.owned_course(course_id, caller.reach)
    item = await courses.add_item(course_id, data, actor=caller.actor, scope=caller.reach)
    await item.fetch_related("event")
    return JSONResponse(training.item_body(show, item), status_code=201)


@router.patch("/{course_id}/items/{item_id}")
async def update_item(
    course_id: Id,
    item_id: Id,
    patch: courses.ItemPatch,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> dict[str, Any]:
    """New hours count for credit written from now on; lines already written keep theirs."""
    await ownership.owned_course(course_id, caller.reach)
    item = await courses.update_item(course_id, item_id, patch, actor=caller.actor)
    return training.item_body(show, item)


@router.delete("/{course_id}/items/{item_id}", status_code=204)
async def remove_item(course_id: Id, item_id: Id, caller: Caller = Depends(require_organizer)) -> Response:
    """Only an item nobody has credit for (409 ``item_has_credits`` otherwise)."""
    await ownership.owned_course(course_id, caller.reach)
    await courses.remove_item(course_id, item_id, actor=caller.actor)
    return Response(status_code=204)


class EnrollBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    broker_id: BrokerId


def _enrollment(
    show: Presenter, course_id: int, broker_id: int, registration: Any, position: int | None
) -> dict[str, Any]:
    return {
        "registration_id": registration.id,
        "course_id": course_id,
        "broker_id": broker_id,
        "status": str(registration.status),
        "waitlist_position": position,
        # The course pass: the same ticket opens the door of every session of the course.
        "ticket": show.ticket(registration),
    }


@router.post("/{course_id}/enrollments", status_code=201)
async def enroll(
    course_id: Id,
    body: EnrollBody,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> JSONResponse:
    """Enrolling is registering for the course's event: confirmed, waitlisted or pending by its rules."""
    await ownership.owned_course(course_id, caller.reach)
    await ownership.owned_broker(body.broker_id, caller.reach)
    result = await courses.enroll(course_id, body.broker_id, actor=caller.actor)
    return JSONResponse(
        _enrollment(show, course_id, body.broker_id, result.registration, result.waitlist_position), status_code=201
    )


@router.post("/{course_id}/enrollments/{broker_id}/withdraw")
async def withdraw(
    course_id: Id,
    broker_id: Id,
    body: Annotated[CancelBody | None, Body()] = None,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> dict[str, Any]:
    """The seat goes to the waitlist's head; credit already earned stays on the ledger."""
    await ownership.owned_course(course_id, caller.reach)
    registration = await courses.withdraw(course_id, broker_id, actor=caller.actor, reason=body.reason if body else "")
    return _enrollment(show, course_id, broker_id, registration, None)


class CompletionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    broker_id: BrokerId
    # The reporting system's id for this completion: reporting it again changes nothing.
    external_id: Annotated[str, Field(max_length=200)]
    completed_at: AwareDatetime | None = None


@router.post("/{course_id}/modules/{code}/completions", status_code=201)
async def complete_module(
    course_id: Id,
    code: Annotated[str, Path(min_length=1, max_length=64)],
    body: CompletionBody,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> JSONResponse:
    """201 with the new ledger line; 200 with the same line when this external id was reported before."""
    await ownership.owned_course(course_id, caller.reach)
    result = await credits.complete_module(
        course_id,
        code,
        broker_id=body.broker_id,
        external_id=body.external_id,
        completed_at=body.completed_at,
        actor=caller.actor,
    )
    line = await credits.get_entry(result.entry.id)
    return JSONResponse(training.written_body(show, result, line), status_code=201 if result.created else 200)


# The sheet's fixed columns: (CSV key, XLSX title).
SHEET_LEAD: tuple[tuple[str, str], ...] = (
    ("broker_id", N_("Broker ID")),
    ("registration_id", N_("Registration ID")),
    ("name", N_("Name")),
    ("organization", N_("Organization")),
    ("status", N_("Enrollment")),
)
SHEET_TAIL: tuple[tuple[str, str], ...] = (("total", N_("Total hours")), ("completed", N_("Completed")))
CHECK_IN = N_("Check-in")
CHECK_OUT = N_("Check-out")
HOURS = N_("Hours")


def _sheet_header(items: list[CourseItem], locale: Locale | None) -> list[str]:
    """CSV (``locale`` None): stable keys such as ``S12.hours``; XLSX: titles in the reader's language."""

    def say(msgid: str) -> str:
        return gettext(locale, msgid) if locale else msgid

    header = [key if locale is None else say(title) for key, title in SHEET_LEAD]
    for item in items:
        if locale is None:
            header.append(f"{item.code}.hours")
            if item.kind == ItemKind.SESSION:
                header += [f"{item.code}.checked_in_at", f"{item.code}.checked_out_at"]
        else:
            header.append(f"{item.code} {item.title[:40]} · {say(HOURS)}")
            if item.kind == ItemKind.SESSION:
                header += [f"{item.code} · {say(CHECK_IN)}", f"{item.code} · {say(CHECK_OUT)}"]
    header += [key if locale is None else say(title) for key, title in SHEET_TAIL]
    return header


def _sheet_rows(sheet: courses.AttendanceSheet, locale: Locale | None) -> list[list[Any]]:
    rows = []
    for row in sheet.rows:
        status = row.status if locale is None else training.enrollment_name(locale, row.status)
        values: list[Any] = [row.broker_id, row.registration_id, row.name, row.organization, status]
        for item in sheet.items:
            cell = row.cells.get(item.id, courses.SheetCell())
            values.append(cell.hours if locale else training.number(cell.hours))
            if item.kind == ItemKind.SESSION:
                values += [cell.checked_in_at, cell.checked_out_at]
        if locale is None:
            values += [training.number(row.total), "true" if row.completed else "false"]
        else:
            values += [row.total, gettext(locale, N_("Yes") if row.completed else N_("No"))]
        rows.append(values)
    return rows


@router.get("/{course_id}/attendance", response_model=None)
async def attendance(
    course_id: Id,
    request: Request,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
    format: Annotated[str, Query(pattern="^(json|csv|xlsx)$")] = "json",
    lang: Annotated[str | None, Query(max_length=10)] = None,
) -> Response | dict[str, Any]:
    """Everyone enrolled (waitlisted and withdrawn too) against every session and module."""
    await ownership.owned_course(course_id, caller.reach)
    sheet = await courses.attendance_sheet(course_id)
    code = sheet.course.code
    if format == "csv":
        return csv_response(
            f"course-{code}-attendance.csv", _sheet_header(sheet.items, None), _sheet_rows(sheet, None), tz=show.tz
        )
    if format == "xlsx":
        locale = training.page_locale(request, lang)
        widths = (
            [10, 10, 14, 28, 12]
            + [width for item in sheet.items for width in ((12, 17, 17) if item.kind == ItemKind.SESSION else (12,))]
            + [10, 8]
        )
        return await xlsx_response(
            f"course-{code}-attendance.xlsx",
            code,
            _sheet_header(sheet.items, locale),
            _sheet_rows(sheet, locale),
            tz=show.tz,
            widths=widths,
        )
    return {
        "course": {"id": sheet.course.id, "code": code, "title": sheet.course.title},
        "items": [training.item_body(show, item) for item in sheet.items],
        "rows": [
            {
                "broker_id": row.broker_id,
                "registration_id": row.registration_id,
                "name": row.name,
                "organization": row.organization,
                "status": row.status,
                "cells": [
                    {
                        "item_id": item.id,
                        "code": item.code,
                        "hours": training.hours(cell.hours),
                        "checked_in_at": show.time(cell.checked_in_at),
                        "checked_out_at": show.time(cell.checked_out_at),
                    }
                    for item in sheet.items
                    for cell in (row.cells.get(item.id, courses.SheetCell()),)
                ],
                "total": training.hours(row.total),
                "completed": row.completed,
            }
            for row in sheet.rows
        ],
    }
