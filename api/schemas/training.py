"""Broker training as the API shows it: brokers, their standing and transcript, certificates, the ledger's
lines, courses with their sessions and modules, enrollments and the attendance sheet.

Hours leave as JSON numbers (the ledger keeps exact tenths, so a float prints them exactly); times
leave in the deployment's zone with their offset, like everything else in the API.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from api.schemas.presenter import Presenter
from api.schemas.registrations import TicketPublic
from events import clock, districts
from events.models import Broker, BrokerLevel, Certification, Course, CreditEntry, Registration, hours_of
from events.models import CourseItem as CourseItemRow
from events.services import certification, courses, credits, transcripts
from events.services.catalog import effective_status
from events.services.people import display_phone

Standing = Literal["certified", "expired", "suspended", "revoked", "in_training"]
CertificateStatus = Literal["valid", "expired", "suspended", "revoked"]


def hours(value: Decimal) -> float:
    return float(value)


def _at(show: Presenter, value: datetime | None) -> datetime | None:
    return value.astimezone(show.tz) if value is not None else None


def verify_url(show: Presenter, number: str | None) -> str | None:
    return f"{show.public_url}/certificates/{number}" if number else None


class Progress(BaseModel):
    """Toward the next certification: a first one at ``level``, or (``renewal``) its renewal."""

    level: BrokerLevel
    renewal: bool
    hours_required: float
    hours_have: float
    hours_missing: float
    courses_required: list[str] = Field(description="Codes of the courses the level requires.")
    courses_done: list[str]
    ratio: float = Field(description="How far along, 0 to 1.")

    @classmethod
    def of(cls, step: certification.Progress | None) -> Progress | None:
        if step is None:
            return None
        return cls(
            level=step.level,
            renewal=step.renewal,
            hours_required=hours(step.hours_required),
            hours_have=hours(step.hours_have),
            hours_missing=hours(step.hours_missing),
            courses_required=step.courses_required,
            courses_done=step.courses_done,
            ratio=round(step.ratio, 4),
        )


class BrokerPublic(BaseModel):
    """A broker's profile with where they stand (derived from the ledger and the certifications). The
    transcript address is left out: only ``POST /brokers/{id}/transcript-link`` gives it."""

    id: int
    person_id: int
    name: str
    phone: str | None
    phone_display: str | None
    email: str | None
    telegram_id: int | None
    organization: str | None = Field(description="Where the broker works (free text).")
    district: str | None
    district_name: str | None
    specialties: list[str]
    hours: float = Field(description="Every hour on the ledger.")
    level: BrokerLevel | None = Field(description="The highest level held and valid today.")
    status: Standing
    certified_at: datetime | None
    expires_at: datetime | None
    progress: Progress | None = Field(description="Toward the next level or renewal; null at the top.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, show: Presenter, broker: Broker, standing: certification.Assessment) -> BrokerPublic:
        """``broker`` with its person loaded."""
        person = broker.person
        return cls(
            id=broker.id,
            person_id=person.id,
            name=person.name,
            phone=person.phone,
            phone_display=display_phone(person.phone),
            email=person.email,
            telegram_id=person.telegram_id,
            organization=broker.organization,
            district=broker.district,
            district_name=districts.label(broker.district, "zh") or None,
            specialties=list(broker.specialties or []),
            hours=hours(standing.total),
            level=standing.level,
            status=standing.status,
            certified_at=_at(show, standing.certified_at),
            expires_at=_at(show, standing.expires_at),
            progress=Progress.of(standing.next),
            created_at=broker.created_at.astimezone(show.tz),
            updated_at=broker.updated_at.astimezone(show.tz),
        )


class BrokerStanding(BaseModel):
    """A row of the organizer's broker list (the leaderboard)."""

    id: int
    person_id: int
    name: str
    organization: str | None
    district: str | None
    specialties: list[str]
    hours: float = Field(description="Every hour on the ledger.")
    year_hours: float | None = Field(description="Hours earned in the ``year`` asked for; null without ``year``.")
    level: BrokerLevel | None
    highest_level: BrokerLevel | None = Field(description="The highest level ever certified, valid or not.")
    status: Standing
    certified_at: datetime | None
    expires_at: datetime | None

    @classmethod
    def of(cls, show: Presenter, row: transcripts.BrokerRow, *, with_year: bool) -> BrokerStanding:
        return cls(
            id=row.broker.id,
            person_id=row.person.id,
            name=row.person.name,
            organization=row.broker.organization,
            district=row.broker.district,
            specialties=list(row.broker.specialties or []),
            hours=hours(row.hours),
            year_hours=hours(row.year_hours or Decimal(0)) if with_year else None,
            level=row.level,
            highest_level=row.highest_level,
            status=row.status,
            certified_at=_at(show, row.certified_at),
            expires_at=_at(show, row.expires_at),
        )


class Certificate(BaseModel):
    """A certificate on a broker's record: ``status`` is what it is worth today; ``state`` and the
    ``state_*`` fields say what last changed it, and why."""

    id: int
    number: str | None
    level: BrokerLevel
    round: int
    certified_at: datetime
    expires_at: datetime | None
    hours: float = Field(description="The hours on the ledger when it was issued.")
    status: CertificateStatus
    state: Literal["active", "suspended", "revoked"]
    state_reason: str | None
    state_entry_id: int | None = Field(description="The ledger line that suspended or reinstated it.")
    state_changed_by: str | None
    state_changed_at: datetime | None
    verify_url: str | None = Field(description="The public verification page.")

    @classmethod
    def of(cls, show: Presenter, cert: Certification) -> Certificate:
        return cls(
            id=cert.id,
            number=cert.number,
            level=cert.level,
            round=cert.round,
            certified_at=cert.certified_at.astimezone(show.tz),
            expires_at=_at(show, cert.expires_at),
            hours=hours(hours_of(cert.hours_tenths)),
            status=certification.certificate_status(cert.state, cert.expires_at, clock.now()),
            state=str(cert.state),
            state_reason=cert.state_reason,
            state_entry_id=cert.state_entry_id,
            state_changed_by=cert.state_changed_by,
            state_changed_at=_at(show, cert.state_changed_at),
            verify_url=verify_url(show, cert.number),
        )


class CertificateVerification(BaseModel):
    """All the public may learn of a certificate: name, level, number, dates and status."""

    number: str
    name: str
    level: BrokerLevel
    certified_at: datetime
    expires_at: datetime | None
    status: CertificateStatus

    @classmethod
    def of(cls, show: Presenter, found: certification.Verification) -> CertificateVerification:
        return cls(
            number=found.number,
            name=found.name,
            level=found.level,
            certified_at=found.certified_at.astimezone(show.tz),
            expires_at=_at(show, found.expires_at),
            status=found.status,
        )


class CourseRef(BaseModel):
    id: int
    code: str
    title: str


class CreditEntryPublic(BaseModel):
    """One line of the ledger. ``corrects``: the line a correction amends."""

    id: int
    broker_id: int
    earned_at: datetime
    hours: float
    source: Literal["attendance", "module", "grant", "correction"]
    course: CourseRef | None
    item: CourseRef | None = Field(description="The session or module the hours were earned in.")
    event_id: int | None
    external_id: str | None
    reason: str | None
    author: str
    corrects: int | None
    created_at: datetime

    @classmethod
    def fields_of(cls, show: Presenter, line: CreditEntry) -> dict[str, Any]:
        course: Course | None = line.course
        item: CourseItemRow | None = line.item
        return {
            "id": line.id,
            "broker_id": line.broker_id,
            "earned_at": line.earned_at.astimezone(show.tz),
            "hours": hours(hours_of(line.hours_tenths)),
            "source": str(line.source),
            "course": CourseRef(id=course.id, code=course.code, title=course.title) if course is not None else None,
            "item": CourseRef(id=item.id, code=item.code, title=item.title) if item is not None else None,
            "event_id": line.event_id,
            "external_id": line.external_id,
            "reason": line.reason,
            "author": line.author,
            "corrects": line.corrects_id,
            "created_at": line.created_at.astimezone(show.tz),
        }

    @classmethod
    def of(cls, show: Presenter, line: CreditEntry) -> CreditEntryPublic:
        """``line`` loaded with its course and item (``select_related``)."""
        return cls(**cls.fields_of(show, line))


class CreditWritten(CreditEntryPublic):
    """A ledger write's answer: the line, any certification it caused, and the certificates it
    suspended or reinstated."""

    certified: list[Certificate]
    suspended: list[Certificate]
    reinstated: list[Certificate]

    @classmethod
    def written(cls, show: Presenter, result: credits.Written, line: CreditEntry) -> CreditWritten:
        return cls(
            **cls.fields_of(show, line),
            certified=[Certificate.of(show, c) for c in result.certified],
            suspended=[Certificate.of(show, c) for c in result.suspended],
            reinstated=[Certificate.of(show, c) for c in result.reinstated],
        )


class CourseHours(BaseModel):
    course_id: int | None = Field(description="Null: hours not tied to any course.")
    code: str | None
    title: str | None
    hours: float


class YearHours(BaseModel):
    year: int
    hours: float


class CourseStanding(BaseModel):
    id: int
    code: str
    title: str
    level: BrokerLevel | None
    enrollment_status: str | None = Field(description="The enrollment's status; null: credit without enrollment.")
    hours: float
    offered: float = Field(description="Every hour the course offers.")
    completed: bool


class Transcript(BaseModel):
    """A broker's whole record."""

    broker: BrokerPublic
    total: float
    level: BrokerLevel | None
    status: Standing
    certified_at: datetime | None
    expires_at: datetime | None
    by_course: list[CourseHours] = Field(description="Courses by code, then the hours not tied to any course.")
    by_year: list[YearHours]
    entries: list[CreditEntryPublic] = Field(description="The ledger, oldest first.")
    certifications: list[Certificate]
    courses: list[CourseStanding]
    progress: Progress | None
    generated_at: datetime

    @classmethod
    def of(cls, show: Presenter, record: transcripts.Transcript) -> Transcript:
        known = {standing.course.id: standing.course for standing in record.courses}
        assessment = record.assessment
        by_course = []
        for course_id, amount in record.balances.by_course.items():
            course = known.get(course_id) if course_id is not None else None
            by_course.append(
                CourseHours(
                    course_id=course_id,
                    code=course.code if course else None,
                    title=course.title if course else None,
                    hours=hours(amount),
                )
            )
        by_course.sort(key=lambda row: (row.course_id is None, row.code or ""))
        return cls(
            broker=BrokerPublic.of(show, record.broker, assessment),
            total=hours(record.balances.total),
            level=assessment.level,
            status=assessment.status,
            certified_at=_at(show, assessment.certified_at),
            expires_at=_at(show, assessment.expires_at),
            by_course=by_course,
            by_year=[YearHours(year=year, hours=hours(amount)) for year, amount in record.balances.by_year.items()],
            entries=[CreditEntryPublic.of(show, line) for line in record.entries],
            certifications=[Certificate.of(show, cert) for cert in record.certifications],
            courses=[
                CourseStanding(
                    id=s.course.id,
                    code=s.course.code,
                    title=s.course.title,
                    level=s.course.level,
                    enrollment_status=s.enrollment_status,
                    hours=hours(s.hours),
                    offered=hours(s.hours_offered),
                    completed=s.completed,
                )
                for s in record.courses
            ],
            progress=Progress.of(assessment.next),
            generated_at=record.generated_at.astimezone(show.tz),
        )


class TranscriptLink(BaseModel):
    url: str = Field(description="The broker's printable transcript; whoever holds it can read it.")
    rotated: bool = Field(description="True when this call replaced the address (the old one stopped working).")


class CourseItem(BaseModel):
    """A session (a training event, held in person) or an online module, and the hours it is worth."""

    id: int
    kind: Literal["session", "module"]
    code: str
    title: str
    hours: float
    required: bool = Field(description="Counted for the course's completion (an elective is not).")
    event_id: int | None = Field(description="Sessions: their event.")
    starts_at: datetime | None
    ends_at: datetime | None
    requires_checkout: bool
    min_stay_minutes: int | None
    position: int

    @classmethod
    def of(cls, show: Presenter, item: CourseItemRow) -> CourseItem:
        """``item`` with its event loaded (``select_related``)."""
        event = item.event
        return cls(
            id=item.id,
            kind=str(item.kind),
            code=item.code,
            title=item.title,
            hours=hours(hours_of(item.hours_tenths)),
            required=item.required,
            event_id=item.event_id,
            starts_at=_at(show, event.starts_at) if event is not None else None,
            ends_at=_at(show, event.ends_at) if event is not None else None,
            requires_checkout=item.requires_checkout,
            min_stay_minutes=item.min_stay_minutes,
            position=item.position,
        )


class CoursePublic(BaseModel):
    """A course; capacity, seats and the registration window are those of its enrollment event."""

    id: int
    code: str
    title: str
    description: str
    level: BrokerLevel | None = Field(description="The level it prepares for; null: every level.")
    event_id: int
    event_status: Literal["draft", "published", "cancelled", "finished"]
    starts_at: datetime
    ends_at: datetime
    venue: str
    district: str | None
    capacity: int | None
    seats_taken: int
    waitlist_length: int
    requires_approval: bool
    registration_closes_at: datetime
    items: list[CourseItem]
    total_hours: float
    created_at: datetime

    @classmethod
    def of(cls, show: Presenter, course: Course, items: list[CourseItemRow]) -> CoursePublic:
        """``course`` with its enrollment event loaded."""
        event = course.event
        return cls(
            id=course.id,
            code=course.code,
            title=course.title,
            description=course.description,
            level=course.level,
            event_id=event.id,
            event_status=str(effective_status(event)),
            starts_at=event.starts_at.astimezone(show.tz),
            ends_at=event.ends_at.astimezone(show.tz),
            venue=event.venue,
            district=event.district,
            capacity=event.capacity,
            seats_taken=event.seats_taken,
            waitlist_length=event.waitlist_length,
            requires_approval=event.requires_approval,
            registration_closes_at=(event.registration_closes_at or event.starts_at).astimezone(show.tz),
            items=[CourseItem.of(show, item) for item in items],
            total_hours=hours(courses.course_hours(items)),
            created_at=course.created_at.astimezone(show.tz),
        )


class Enrollment(BaseModel):
    """Enrolling is registering for the course's event: confirmed, waitlisted or pending by its rules."""

    registration_id: int
    course_id: int
    broker_id: int
    status: Literal["confirmed", "waitlisted", "pending", "cancelled", "rejected"]
    waitlist_position: int | None
    ticket: TicketPublic | None = Field(description="The course pass: it opens the door of every session.")

    @classmethod
    def of(
        cls, show: Presenter, course_id: int, broker_id: int, registration: Registration, position: int | None
    ) -> Enrollment:
        return cls(
            registration_id=registration.id,
            course_id=course_id,
            broker_id=broker_id,
            status=str(registration.status),
            waitlist_position=position,
            ticket=TicketPublic.of(registration, show),
        )


class AttendanceCell(BaseModel):
    item_id: int
    code: str
    hours: float
    checked_in_at: datetime | None
    checked_out_at: datetime | None


class AttendanceRow(BaseModel):
    broker_id: int | None = Field(description="Null: registered for the course's event without a broker profile.")
    registration_id: int
    name: str
    organization: str | None
    status: str = Field(description="The enrollment's status.")
    cells: list[AttendanceCell] = Field(description="One per item, in the order of ``items``.")
    total: float
    completed: bool


class AttendanceSheet(BaseModel):
    """Everyone enrolled (waitlisted and withdrawn too) against every session and module."""

    course: CourseRef
    items: list[CourseItem]
    rows: list[AttendanceRow]

    @classmethod
    def of(cls, show: Presenter, sheet: courses.AttendanceSheet) -> AttendanceSheet:
        return cls(
            course=CourseRef(id=sheet.course.id, code=sheet.course.code, title=sheet.course.title),
            items=[CourseItem.of(show, item) for item in sheet.items],
            rows=[
                AttendanceRow(
                    broker_id=row.broker_id,
                    registration_id=row.registration_id,
                    name=row.name,
                    organization=row.organization,
                    status=row.status,
                    cells=[
                        AttendanceCell(
                            item_id=item.id,
                            code=item.code,
                            hours=hours(cell.hours),
                            checked_in_at=_at(show, cell.checked_in_at),
                            checked_out_at=_at(show, cell.checked_out_at),
                        )
                        for item in sheet.items
                        for cell in (row.cells.get(item.id, courses.SheetCell()),)
                    ],
                    total=hours(row.total),
                    completed=row.completed,
                )
                for row in sheet.rows
            ],
        )
