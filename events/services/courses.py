"""Training courses: their sessions and modules, enrollment and withdrawal, the attendance sheet.

A course's enrollment is a registration for the course's own event (kind ``training``), so capacity,
waitlist, approval and the window are the registration service's rules, not a copy of them. That
registration's ticket is the broker's pass at every session of the course.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, cast

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, StringConstraints, model_validator
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from events.errors import (
    N_,
    AlreadyRegistered,
    CourseCodeTaken,
    CourseItemNotFound,
    CourseNotFound,
    EventNotFound,
    InvalidInput,
    ItemCodeTaken,
    ItemHasCredits,
    NotEnrolled,
    SessionInOtherCourse,
)
from events.models import (
    ACTIVE_STATUSES,
    Attendance,
    Broker,
    BrokerLevel,
    Course,
    CourseItem,
    CreditEntry,
    Event,
    EventKind,
    EventStatus,
    ItemKind,
    Registration,
    RegistrationStatus,
    hours_of,
)
from events.services import activity, catalog, paging, registration
from events.services.brokers import get_broker
from events.services.credits import tenths_of
from events.services.organizations import EVERYTHING, Scope

Code = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")]
ItemCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]


class ItemInput(BaseModel):
    """A session (an existing training event) or an online module, and what it is worth."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: ItemKind
    code: ItemCode | None = None
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    hours: StrictInt | StrictFloat | StrictStr  # checked by the ledger rule (tenths_of); true is not 1
    event_id: Annotated[int, Field(gt=0, lt=2**31)] | None = None
    required: bool = True
    requires_checkout: bool = False
    min_stay_minutes: Annotated[int, Field(ge=1, le=24 * 60)] | None = None

    @model_validator(mode="after")
    def _shape(self) -> ItemInput:
        if self.kind == ItemKind.SESSION:
            if self.event_id is None:
                raise ValueError("a session needs the event_id of its training event")
        else:
            if self.event_id is not None:
                raise ValueError("a module is online: it takes no event_id")
            if not self.code or not self.title:
                raise ValueError("a module needs a code and a title")
        if problem := attendance_rule_problem(self.kind, self.requires_checkout, self.min_stay_minutes):
            raise ValueError(problem[0])
        return self


def attendance_rule_problem(kind: ItemKind, requires_checkout: bool, min_stay: int | None) -> tuple[str, str] | None:
    """What is wrong with an item's check-out settings, as (message, field); None when they fit."""
    if kind == ItemKind.MODULE and (requires_checkout or min_stay):
        return N_("Check-out and a minimum stay apply to sessions only."), "requires_checkout"
    if min_stay and not requires_checkout:
        return N_("A minimum stay needs check-out (the stay is measured then)."), "min_stay_minutes"
    return None


class CourseInput(BaseModel):
    """A new course: its enrollment event is an existing one (``event_id``) or made from ``event``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: Code
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    description: Annotated[str, Field(max_length=20_000)] = ""
    level: BrokerLevel | None = None
    event_id: Annotated[int, Field(gt=0, lt=2**31)] | None = None
    event: catalog.EventInput | None = None
    items: Annotated[list[ItemInput], Field(max_length=100)] = []

    @model_validator(mode="before")
    @classmethod
    def _training_by_default(cls, data: Any) -> Any:
        # A course's own event is always of kind training; saying so is optional.
        if isinstance(data, dict) and isinstance(data.get("event"), dict) and "kind" not in data["event"]:
            return data | {"event": data["event"] | {"kind": EventKind.TRAINING}}
        return data

    @model_validator(mode="after")
    def _one_event(self) -> CourseInput:
        if (self.event_id is None) == (self.event is None):
            raise ValueError("give either event_id (an existing training event) or event (to create one)")
        if self.event is not None and self.event.kind != EventKind.TRAINING:
            raise ValueError("a course's event is of kind training")
        return self


async def create_course(
    data: CourseInput, *, actor: str, organization_id: int | None = None, scope: Scope = EVERYTHING
) -> Course:
    """A course of ``organization_id`` (None: the default organization); an existing ``event_id`` must be
    within ``scope`` and the course then belongs to that event's organization.
    Raises ``course_code_taken``, ``event_not_found``, ``session_in_other_course``, ``invalid_input``.
    """
    if await Course.exists(code=data.code):
        raise CourseCodeTaken(code=data.code)
    for n, item in enumerate(data.items):  # before anything is written: no course is left half made
        tenths_of(item.hours, field=f"items.{n}.hours")
    if data.event is not None:
        event = await catalog.create_event(data.event, actor=actor, organization_id=organization_id)
    else:
        assert data.event_id is not None
        event = await _training_event(data.event_id, field_name="event_id", scope=scope)
        if await Course.exists(event_id=event.id) or await CourseItem.exists(event_id=event.id):
            raise SessionInOtherCourse(course=event.title)
    try:
        async with in_transaction() as conn:
            course = await Course.create(
                code=data.code,
                title=data.title or event.title,
                description=data.description,
                level=data.level,
                event_id=event.id,
                created_by=actor[:100],
                using_db=conn,
            )
            await activity.record("course.created", actor=actor, event_id=event.id, using_db=conn, course_id=course.id)
    except IntegrityError:
        raise CourseCodeTaken(code=data.code) from None
    for position, item in enumerate(data.items):
        await add_item(course.id, item, actor=actor, position=position, scope=scope)
    return course


async def _training_event(event_id: int, *, field_name: str, scope: Scope = EVERYTHING) -> Event:
    event = await Event.get_or_none(id=event_id)
    if event is None or not scope.covers(event.organization_id):
        raise EventNotFound()
    if event.kind != EventKind.TRAINING:
        raise InvalidInput(N_("Only an event of kind training can belong to a course."), field=field_name)
    return event


async def add_item(
    course_id: int, data: ItemInput, *, actor: str, position: int | None = None, scope: Scope = EVERYTHING
) -> CourseItem:
    """A session's event must be within ``scope`` and of the course's organization.
    Raises ``course_not_found``, ``event_not_found``, ``session_in_other_course``, ``item_code_taken``,
    ``invalid_input`` (hours, a non-training event, the course's own event, another organization's event).
    """
    course = await get_course(course_id)
    tenths = tenths_of(data.hours)
    code, title = data.code, data.title
    if data.kind == ItemKind.SESSION:
        assert data.event_id is not None
        event = await _training_event(data.event_id, field_name="event_id", scope=scope)
        if event.id == course.event_id:
            raise InvalidInput(N_("A course's own event cannot be one of its sessions."), field="event_id")
        if event.organization_id != course.event.organization_id:
            raise InvalidInput(N_("A course's sessions are events of its own organization."), field="event_id")
        owner = await CourseItem.get_or_none(event_id=event.id).select_related("course")
        if owner is not None or await Course.exists(event_id=event.id):
            raise SessionInOtherCourse(course=owner.course.code if owner else event.title)
        code = code or f"S{event.id}"
        title = title or event.title
    assert code is not None
    assert title is not None
    if position is None:
        position = await CourseItem.filter(course_id=course_id).count()
    try:
        async with in_transaction() as conn:
            item = await CourseItem.create(
                course_id=course_id,
                kind=data.kind,
                event_id=data.event_id,
                code=code,
                title=title,
                hours_tenths=tenths,
                required=data.required,
                requires_checkout=data.requires_checkout,
                min_stay_minutes=data.min_stay_minutes,
                position=position,
                using_db=conn,
            )
            await activity.record(
                "course.item_added",
                actor=actor,
                event_id=data.event_id,
                using_db=conn,
                course_id=course_id,
                item_id=item.id,
                hours=str(hours_of(tenths)),
            )
    except IntegrityError:
        if data.event_id is not None and await CourseItem.exists(event_id=data.event_id):
            raise SessionInOtherCourse(course=course.code) from None
        raise ItemCodeTaken(code=code) from None
    return item


class ItemPatch(BaseModel):
    """A change to a session or module; only the fields sent change. New hours apply to credit
    written from now on: ledger lines already written keep theirs (an admin corrects them if needed).
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    hours: StrictInt | StrictFloat | StrictStr | None = None
    required: bool | None = None
    requires_checkout: bool | None = None
    min_stay_minutes: Annotated[int, Field(ge=1, le=24 * 60)] | None = None
    position: Annotated[int, Field(ge=0, le=1000)] | None = None


async def _item_of(course_id: int, item_id: int) -> CourseItem:
    await get_course(course_id)
    item = await CourseItem.get_or_none(id=item_id, course_id=course_id).select_related("event")
    if item is None:
        raise CourseItemNotFound(code=str(item_id))
    return item


async def update_item(course_id: int, item_id: int, patch: ItemPatch, *, actor: str) -> CourseItem:
    """Raises ``course_not_found``, ``course_item_not_found``, ``invalid_input``."""
    item = await _item_of(course_id, item_id)
    values = patch.model_dump(exclude_unset=True)
    for name in ("title", "required", "requires_checkout", "position"):
        if values.get(name) is None and name in values:
            raise InvalidInput(N_("%(field)s cannot be empty."), field=name)
    if "hours" in values:
        if values["hours"] is None:
            raise InvalidInput(N_("%(field)s cannot be empty."), field="hours")
        item.hours_tenths = tenths_of(values.pop("hours"))
    for name, value in values.items():
        setattr(item, name, value)
    if problem := attendance_rule_problem(ItemKind(item.kind), item.requires_checkout, item.min_stay_minutes):
        raise InvalidInput(problem[0], field=problem[1])
    async with in_transaction() as conn:
        await item.save(using_db=conn)
        await activity.record(
            "course.item_changed",
            actor=actor,
            event_id=item.event_id,
            using_db=conn,
            course_id=course_id,
            item_id=item.id,
            hours=str(hours_of(item.hours_tenths)),
        )
    return item


async def remove_item(course_id: int, item_id: int, *, actor: str) -> None:
    """Only an item nobody has credit for: the ledger keeps what it points at.
    Raises ``course_not_found``, ``course_item_not_found``, ``item_has_credits``.
    """
    item = await _item_of(course_id, item_id)
    async with in_transaction() as conn:
        if await CreditEntry.filter(item_id=item.id).using_db(conn).exists():
            raise ItemHasCredits(code=item.code)
        await item.delete(using_db=conn)
        await activity.record(
            "course.item_removed",
            actor=actor,
            event_id=item.event_id,
            using_db=conn,
            course_id=course_id,
            item_id=item_id,
            code=item.code,
        )


async def get_course(course_id: int) -> Course:
    """With its event loaded. Raises ``course_not_found``."""
    course = await Course.get_or_none(id=course_id).select_related("event")
    if course is None:
        raise CourseNotFound()
    return course


async def items_of(course_id: int) -> list[CourseItem]:
    return await CourseItem.filter(course_id=course_id).select_related("event").order_by("position", "id")


async def items_by_course(course_ids: list[int]) -> dict[int, list[CourseItem]]:
    """Every listed course's items in order, in one query (for lists of courses)."""
    found: dict[int, list[CourseItem]] = {course_id: [] for course_id in course_ids}
    if not course_ids:
        return found
    for item in await CourseItem.filter(course_id__in=course_ids).select_related("event").order_by("position", "id"):
        found[item.course_id].append(item)
    return found


async def get_visible_course(course_id: int, *, include_unpublished: bool = False, scope: Scope = EVERYTHING) -> Course:
    """One course as ``list_courses`` would show it: a draft only to those who see unpublished ones
    within ``scope``. Raises ``course_not_found``.
    """
    course = await get_course(course_id)
    if course.event.status == EventStatus.DRAFT and not _sees_drafts(course, include_unpublished, scope):
        raise CourseNotFound()
    return course


def _sees_drafts(course: Course, include_unpublished: bool, scope: Scope) -> bool:
    return include_unpublished and scope.covers(course.event.organization_id)


COURSE_ORDER = ("event__starts_at", "id")


async def list_courses(
    *,
    include_unpublished: bool = False,
    scope: Scope = EVERYTHING,
    limit: int = 50,
    cursor: str | None = None,
    own: bool = False,
) -> paging.Page[Course]:
    """Published courses, and drafts of ``scope`` with ``include_unpublished``, by their start, a page at
    a time (events loaded); ``own``: only ``scope``'s courses (an organizer's console). Raises
    ``invalid_input`` (field ``cursor``) for a cursor not of this list.
    """
    qs = Course.all()
    if own and not scope.everything:
        qs = qs.filter(event__organization_id=scope.organization_id)
    if not include_unpublished:
        qs = qs.filter(~Q(event__status=EventStatus.DRAFT))
    elif not scope.everything:
        qs = qs.filter(~Q(event__status=EventStatus.DRAFT) | Q(event__organization_id=scope.organization_id))
    total = await qs.count()
    rows = (
        await paging.after(qs, "courses", COURSE_ORDER, cursor)
        .select_related("event")
        .order_by(*COURSE_ORDER)
        .limit(limit + 1)
    )
    items = rows[:limit]
    # The start is the event's: the cursor is made here rather than by ``paging.page``, which reads
    # the row's own columns.
    last = items[-1] if len(rows) > limit and items else None
    next_cursor = (
        paging.encode_cursor("courses", COURSE_ORDER, [last.event.starts_at, last.id]) if last is not None else None
    )
    return paging.Page(items, next_cursor, total)


async def course_of_event(event_id: int) -> Course | None:
    """The course whose own event this is, if any."""
    return await Course.get_or_none(event_id=event_id)


async def pass_admits(ticket_event_id: int, session_event_id: int) -> bool:
    """Whether a ticket for ``ticket_event_id`` (a course's event) opens the door of ``session_event_id``."""
    return await CourseItem.filter(
        event_id=session_event_id, kind=ItemKind.SESSION, course__event_id=ticket_event_id
    ).exists()


@dataclass(frozen=True, slots=True)
class TrainingContext:
    """What an event means in the training programme, for its card: a course's own event (enrolling
    here is enrolling in the course) or one of its sessions (entered with the course's pass).
    """

    course: Course
    items: list[CourseItem]
    session: CourseItem | None  # set when the event is a session
    enrolled: bool  # the person holds a confirmed enrollment in the course

    @property
    def hours(self) -> Decimal:
        return course_hours(self.items)


async def training_context(event: Event, *, person_id: int | None) -> TrainingContext | None:
    """None for an event outside the training programme."""
    if event.kind != EventKind.TRAINING:
        return None
    course = await Course.get_or_none(event_id=event.id)
    session = None
    if course is None:
        session = await CourseItem.get_or_none(event_id=event.id, kind=ItemKind.SESSION).select_related("course")
        if session is None:
            return None
        course = session.course
    enrolled = person_id is not None and await Registration.exists(
        event_id=course.event_id,
        person_id=person_id,
        status=RegistrationStatus.CONFIRMED,
    )
    return TrainingContext(course, await items_of(course.id), session, enrolled)


async def course_of_session(session_event_id: int) -> Course | None:
    """The course this event is a session of, if any."""
    return await Course.get_or_none(items__event_id=session_event_id, items__kind=ItemKind.SESSION)


async def course_event_of_session(session_event_id: int, using_db: BaseDBAsyncClient | None = None) -> int | None:
    rows = cast(
        "list[int]",
        await CourseItem.filter(event_id=session_event_id, kind=ItemKind.SESSION)
        .using_db(using_db)
        .values_list("course__event_id", flat=True),
    )
    return rows[0] if rows else None


async def sessions_of_course_events(course_event_ids: list[int]) -> list[Event]:
    """The session events of the courses whose own events these are (drafts left out)."""
    if not course_event_ids:
        return []
    return await Event.filter(
        course_item__course__event_id__in=course_event_ids, course_item__kind=ItemKind.SESSION
    ).exclude(status="draft")


async def session_passes(session_event_ids: Iterable[int]) -> dict[int, list[tuple[int, int]]]:
    """For each of these events that is a course's session: the passes that open its door, i.e. the
    confirmed enrollments in its course, as (registration id, person id). Other events are left out.
    """
    ids = list(set(session_event_ids))
    if not ids:
        return {}
    sessions = await CourseItem.filter(event_id__in=ids, kind=ItemKind.SESSION).values_list(
        "event_id", "course__event_id"
    )
    if not sessions:
        return {}
    by_course: dict[int, list[tuple[int, int]]] = {course_event_id: [] for _, course_event_id in sessions}
    enrollments = await Registration.filter(
        event_id__in=list(by_course), status=RegistrationStatus.CONFIRMED
    ).values_list("event_id", "id", "person_id")
    for course_event_id, registration_id, person_id in sorted(enrollments, key=lambda row: row[1]):
        by_course[course_event_id].append((registration_id, person_id))
    return {session_id: by_course[course_event_id] for session_id, course_event_id in sessions}


async def courses_with_sessions(event_ids: Iterable[int]) -> set[int]:
    """Which of these events are a course's own (enrollment) event with at least one session."""
    ids = list(set(event_ids))
    if not ids:
        return set()
    rows = await CourseItem.filter(course__event_id__in=ids, kind=ItemKind.SESSION).values_list(
        "course__event_id", flat=True
    )
    return set(cast("list[int]", rows))


async def enrollment_of(course: Course, broker: Broker) -> Registration | None:
    return await (
        Registration.filter(event_id=course.event_id, person_id=broker.person_id, status__in=ACTIVE_STATUSES)
        .order_by("-id")
        .first()
    )


async def enroll(course_id: int, broker_id: int, *, actor: str, source: str = "api") -> registration.RegistrationResult:
    """Enroll through the registration service: confirmed, waitlisted or pending as its rules say.
    Raises ``course_not_found``, ``broker_not_found``, ``already_registered`` and whatever
    ``registration.register`` raises (``registration_closed``, ``event_full``, …).
    """
    course = await get_course(course_id)
    broker = await get_broker(broker_id)
    if await enrollment_of(course, broker) is not None:
        raise AlreadyRegistered()
    person = broker.person
    applicant = registration.Applicant(
        name=person.name,
        phone=person.phone,
        email=person.email,
        organization=broker.organization or person.organization,
        telegram_id=person.telegram_id,
    )
    return await registration.register(
        course.event_id,
        applicant,
        actor=actor,
        source=source,
        issue_secret=False,
        person_id=person.id,
    )


async def withdraw(course_id: int, broker_id: int, *, actor: str, reason: str = "") -> Registration:
    """Cancel the enrollment (its seat goes to the waitlist's head). Credit already earned stays on
    the ledger. Raises ``course_not_found``, ``broker_not_found``, ``not_enrolled``.
    """
    course = await get_course(course_id)
    broker = await get_broker(broker_id)
    enrollment = await enrollment_of(course, broker)
    if enrollment is None:
        raise NotEnrolled()
    return await registration.cancel_registration(enrollment.id, actor=actor, reason=reason or "withdrawn")


@dataclass(slots=True)
class SheetCell:
    hours: Decimal = Decimal(0)
    checked_in_at: datetime | None = None
    checked_out_at: datetime | None = None


@dataclass(slots=True)
class SheetRow:
    broker_id: int | None
    registration_id: int
    name: str
    organization: str | None
    status: str
    cells: dict[int, SheetCell] = field(default_factory=dict)  # item id → cell
    total: Decimal = Decimal(0)
    completed: bool = False


@dataclass(frozen=True, slots=True)
class AttendanceSheet:
    course: Course
    items: list[CourseItem]
    rows: list[SheetRow]


async def attendance_sheet(course_id: int) -> AttendanceSheet:
    """Everyone enrolled (waitlisted and withdrawn too, marked so) against every session and module:
    when they came and left, and the hours the ledger holds for each.
    """
    course = await get_course(course_id)
    items = await items_of(course_id)
    enrollments = await Registration.filter(event_id=course.event_id).order_by("id")
    person_ids = {r.person_id for r in enrollments}
    brokers = dict(await Broker.filter(person_id__in=person_ids).values_list("person_id", "id"))
    # The person's latest enrollment stands for them.
    latest: dict[int, Registration] = {}
    for reg in enrollments:
        latest[reg.person_id] = reg
    rows: dict[int, SheetRow] = {}
    for person_id, reg in latest.items():
        rows[person_id] = SheetRow(brokers.get(person_id), reg.id, reg.name, reg.organization, str(reg.status))
    session_events = {item.event_id: item.id for item in items if item.event_id is not None}
    if session_events:
        attendance = await Attendance.filter(event_id__in=list(session_events)).values_list(
            "event_id", "registration__person_id", "checked_in_at", "checked_out_at"
        )
        for event_id, person_id, checked_in_at, checked_out_at in attendance:
            row = rows.get(person_id)
            if row is None:
                continue
            cell = row.cells.setdefault(session_events[event_id], SheetCell())
            if cell.checked_in_at is None or checked_in_at < cell.checked_in_at:
                cell.checked_in_at = checked_in_at
            if checked_out_at is not None:
                cell.checked_out_at = max(cell.checked_out_at or checked_out_at, checked_out_at)
    by_broker = {broker_id: row for row in rows.values() if (broker_id := row.broker_id) is not None}
    credits = await CreditEntry.filter(course_id=course_id, broker_id__in=list(by_broker)).values_list(
        "broker_id", "item_id", "hours_tenths"
    )
    tenths: dict[tuple[int, int | None], int] = {}
    for broker_id, item_id, amount in credits:
        tenths[(broker_id, item_id)] = tenths.get((broker_id, item_id), 0) + amount
    required = [item.id for item in items if item.required]
    for (broker_id, item_id), amount in tenths.items():
        row = by_broker[broker_id]
        if item_id is not None:
            row.cells.setdefault(item_id, SheetCell()).hours = hours_of(amount)
        row.total += hours_of(amount)
    for row in rows.values():
        row.completed = bool(required) and all(row.cells.get(i, SheetCell()).hours > 0 for i in required)
    ordered = sorted(rows.values(), key=lambda r: (r.status != RegistrationStatus.CONFIRMED, r.name, r.registration_id))
    return AttendanceSheet(course, items, ordered)


def item_hours(item: CourseItem) -> Decimal:
    return hours_of(item.hours_tenths)


def course_hours(items: list[CourseItem]) -> Decimal:
    return hours_of(sum(item.hours_tenths for item in items))


__all__: list[str] = [
    "AttendanceSheet",
    "CourseInput",
    "ItemInput",
    "ItemPatch",
    "SheetCell",
    "SheetRow",
    "add_item",
    "attendance_sheet",
    "course_event_of_session",
    "course_of_session",
    "course_of_event",
    "courses_with_sessions",
    "create_course",
    "enroll",
    "enrollment_of",
    "get_course",
    "get_visible_course",
    "items_by_course",
    "items_of",
    "list_courses",
    "pass_admits",
    "remove_item",
    "update_item",
    "session_passes",
    "sessions_of_course_events",
    "training_context",
    "withdraw",
]
