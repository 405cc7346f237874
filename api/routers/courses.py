"""Training courses: create and read them, add sessions and modules, enroll and withdraw brokers,
report online-module completions (an integration does this with an organizer token), and the
attendance sheet with its CSV and XLSX exports.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api import training_exports, training_pages
from api.auth import Caller, current_caller, require_organizer
from api.deps import Id, presenter
from api.exports import csv_response, xlsx_response
from api.schemas import CancelBody, Presenter
from api.schemas.common import AUTHED, AUTHED_WRITE, COMMON, Page, errors
from api.schemas.training import AttendanceSheet, CourseItem, CoursePublic, CreditWritten, Enrollment
from events.models import Role
from events.services import courses, credits, organizations, ownership, paging

router = APIRouter(prefix="/api/v1/courses", tags=["courses"])

BrokerId = Annotated[int, Field(ge=1, le=2_147_483_647)]


async def _course(show: Presenter, course_id: int) -> CoursePublic:
    course = await courses.get_course(course_id)
    return CoursePublic.of(show, course, await courses.items_of(course_id))


@router.post(
    "",
    status_code=201,
    response_model=CoursePublic,
    responses=AUTHED_WRITE,
    summary="Create a course",
    description="A course and its enrollment event (an existing ``event_id`` of kind training, or a new "
    "``event``), with its sessions and modules. ``409 course_code_taken`` for a code in use.",
)
async def create_course(
    data: courses.CourseInput, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> JSONResponse:
    course = await courses.create_course(data, actor=caller.actor, organization_id=caller.acts_for, scope=caller.reach)
    body = await _course(show, course.id)
    return JSONResponse(
        body.model_dump(mode="json"), status_code=201, headers={"Location": f"/api/v1/courses/{course.id}"}
    )


@router.get(
    "",
    response_model=Page[CoursePublic],
    responses=errors(*COMMON, 401),
    summary="List courses",
    description="Published courses by their start (organizers also see their organization's drafts). Keyset "
    "pages: pass ``next_cursor`` back as ``cursor``; a cursor of another list is ``422 invalid_input`` "
    "(field ``cursor``). ``total`` counts every match.",
)
async def list_courses(
    caller: Caller = Depends(current_caller),
    show: Presenter = Depends(presenter),
    limit: Annotated[int, Query(ge=1, le=paging.MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Page[CoursePublic]:
    page = await courses.list_courses(
        include_unpublished=caller.has(Role.ORGANIZER),
        scope=caller.scope or organizations.EVERYTHING,
        limit=limit,
        cursor=cursor,
    )
    items = await courses.items_by_course([c.id for c in page.items])
    return Page[CoursePublic].of(page, [CoursePublic.of(show, course, items[course.id]) for course in page.items])


@router.get(
    "/{course_id}",
    response_model=CoursePublic,
    responses=errors(*COMMON, 401, 404),
    summary="Read a course",
    description="A published course (a draft only to its organization's organizers), with its items.",
)
async def get_course(
    course_id: Id, caller: Caller = Depends(current_caller), show: Presenter = Depends(presenter)
) -> CoursePublic:
    course = await courses.get_visible_course(
        course_id, include_unpublished=caller.has(Role.ORGANIZER), scope=caller.scope or organizations.EVERYTHING
    )
    return CoursePublic.of(show, course, await courses.items_of(course.id))


@router.post(
    "/{course_id}/items",
    status_code=201,
    response_model=CourseItem,
    responses=AUTHED_WRITE,
    summary="Add a session or module",
    description="A session (an existing training event) or an online module, and the hours it is worth.",
)
async def add_item(
    course_id: Id,
    data: courses.ItemInput,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> JSONResponse:
    await ownership.owned_course(course_id, caller.reach)
    item = await courses.add_item(course_id, data, actor=caller.actor, scope=caller.reach)
    await item.fetch_related("event")
    return JSONResponse(CourseItem.of(show, item).model_dump(mode="json"), status_code=201)


@router.patch(
    "/{course_id}/items/{item_id}",
    response_model=CourseItem,
    responses=AUTHED_WRITE,
    summary="Change a session or module",
    description="New hours count for credit written from now on; lines already written keep theirs.",
)
async def update_item(
    course_id: Id,
    item_id: Id,
    patch: courses.ItemPatch,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> CourseItem:
    await ownership.owned_course(course_id, caller.reach)
    item = await courses.update_item(course_id, item_id, patch, actor=caller.actor)
    return CourseItem.of(show, item)


@router.delete(
    "/{course_id}/items/{item_id}",
    status_code=204,
    responses=AUTHED_WRITE,
    summary="Remove a session or module",
    description="Only an item nobody has credit for (``409 item_has_credits`` otherwise).",
)
async def remove_item(course_id: Id, item_id: Id, caller: Caller = Depends(require_organizer)) -> Response:
    await ownership.owned_course(course_id, caller.reach)
    await courses.remove_item(course_id, item_id, actor=caller.actor)
    return Response(status_code=204)


class EnrollBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    broker_id: BrokerId


@router.post(
    "/{course_id}/enrollments",
    status_code=201,
    response_model=Enrollment,
    responses=AUTHED_WRITE,
    summary="Enroll a broker",
    description="Enrolling is registering for the course's event: confirmed, waitlisted or pending by its "
    "rules. The ticket is the broker's pass for every session of the course.",
)
async def enroll(
    course_id: Id,
    body: EnrollBody,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> JSONResponse:
    await ownership.owned_course(course_id, caller.reach)
    await ownership.owned_broker(body.broker_id, caller.reach)
    result = await courses.enroll(course_id, body.broker_id, actor=caller.actor)
    enrollment = Enrollment.of(show, course_id, body.broker_id, result.registration, result.waitlist_position)
    return JSONResponse(enrollment.model_dump(mode="json"), status_code=201)


@router.post(
    "/{course_id}/enrollments/{broker_id}/withdraw",
    response_model=Enrollment,
    responses=AUTHED_WRITE,
    summary="Withdraw a broker",
    description="The seat goes to the waitlist's head; credit already earned stays on the ledger.",
)
async def withdraw(
    course_id: Id,
    broker_id: Id,
    body: Annotated[CancelBody | None, Body()] = None,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> Enrollment:
    await ownership.owned_course(course_id, caller.reach)
    registration = await courses.withdraw(course_id, broker_id, actor=caller.actor, reason=body.reason if body else "")
    return Enrollment.of(show, course_id, broker_id, registration, None)


class CompletionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    broker_id: BrokerId
    # The reporting system's id for this completion: reporting it again changes nothing.
    external_id: Annotated[str, Field(max_length=200)]
    completed_at: AwareDatetime | None = None


@router.post(
    "/{course_id}/modules/{code}/completions",
    status_code=201,
    response_model=CreditWritten,
    responses=AUTHED_WRITE | {200: {"model": CreditWritten, "description": "Reported before: the same line."}},
    summary="Report an online module's completion",
    description="For an integration with an organizer token: 201 with the new ledger line; 200 with the same "
    "line when this ``external_id`` was reported before. ``409 not_enrolled``, ``409 already_credited``.",
)
async def complete_module(
    course_id: Id,
    code: Annotated[str, Path(min_length=1, max_length=64)],
    body: CompletionBody,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> JSONResponse:
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
    written = CreditWritten.written(show, result, line).model_dump(mode="json")
    return JSONResponse(written, status_code=201 if result.created else 200)


@router.get(
    "/{course_id}/attendance",
    response_model=AttendanceSheet,
    responses=AUTHED | training_exports.SPREADSHEETS,
    summary="The attendance sheet",
    description="Everyone enrolled (waitlisted and withdrawn too) against every session and module: when they "
    "came and left, and the hours the ledger holds. A whole sheet, not paged. ``format=csv|xlsx`` for a "
    "spreadsheet (times local).",
)
async def attendance(
    course_id: Id,
    request: Request,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
    format: Annotated[str, Query(pattern="^(json|csv|xlsx)$")] = "json",
    lang: Annotated[str | None, Query(max_length=10)] = None,
) -> Response | AttendanceSheet:
    await ownership.owned_course(course_id, caller.reach)
    sheet = await courses.attendance_sheet(course_id)
    code = sheet.course.code
    if format == "csv":
        return csv_response(
            f"course-{code}-attendance.csv",
            training_exports.sheet_header(sheet.items, None),
            training_exports.sheet_rows(sheet, None),
            tz=show.tz,
        )
    if format == "xlsx":
        locale = training_pages.page_locale(request, lang)
        return await xlsx_response(
            f"course-{code}-attendance.xlsx",
            code,
            training_exports.sheet_header(sheet.items, locale),
            training_exports.sheet_rows(sheet, locale),
            tz=show.tz,
            widths=training_exports.sheet_widths(sheet.items),
        )
    return AttendanceSheet.of(show, sheet)
