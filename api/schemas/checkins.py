"""Check-in at the door: a scan's answer, door figures, the offline list for scanners."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from events.i18n import Locale, gettext
from events.localtime import local
from events.models import CheckinResult as Result
from events.models import EventStatus, RegistrationStatus
from events.services import checkin


class CheckinRegistration(BaseModel):
    id: int
    event_id: int
    name: str
    organization: str | None
    status: RegistrationStatus


class CheckinAnswer(BaseModel):
    """The answer to a scan (API.md): `result` is one of a closed set; `reason` says it to people."""

    result: Result
    reason: str = Field(description="In the caller's language.")
    registration: CheckinRegistration | None
    first_checked_in_at: datetime | None = Field(description="When this ticket first came in (that day).")
    first_gate: str | None
    replayed: bool = Field(description="True when this is the stored answer to a scan_id sent before.")
    credit_hours: float | None = Field(description="Training sessions: the hours written to the broker's ledger.")

    @classmethod
    def of(cls, outcome: checkin.Outcome, lang: Locale) -> CheckinAnswer:
        registration = outcome.registration
        return cls(
            result=outcome.result,
            reason=gettext(lang, outcome.reason, **outcome.params),
            registration=None
            if registration is None
            else CheckinRegistration(
                id=registration.id,
                event_id=registration.event_id,
                name=registration.name,
                organization=registration.organization,
                status=RegistrationStatus(registration.status),
            ),
            first_checked_in_at=local(outcome.first_checked_in_at) if outcome.first_checked_in_at else None,
            first_gate=outcome.first_gate,
            replayed=outcome.replayed,
            credit_hours=None if outcome.credit_hours is None else float(outcome.credit_hours),
        )


class Arrival(BaseModel):
    at: datetime = Field(description="Start of a 5-minute bucket.")
    count: int


class EventStats(BaseModel):
    """Door figures of one event."""

    event_id: int
    capacity: int | None
    confirmed: int
    waitlisted: int
    pending: int
    checked_in: int
    no_show: int | None = Field(description="Once the event is over.")
    arrivals: list[Arrival]

    @classmethod
    def of(cls, event_id: int, figures: checkin.EventStats) -> EventStats:
        return cls(
            event_id=event_id,
            capacity=figures.capacity,
            confirmed=figures.confirmed,
            waitlisted=figures.waitlisted,
            pending=figures.pending,
            checked_in=figures.checked_in,
            no_show=figures.no_show,
            arrivals=[Arrival(at=local(at), count=count) for at, count in figures.arrivals],
        )


class DoorEvent(BaseModel):
    id: int
    title: str
    status: EventStatus
    checkin_opens_at: datetime
    checkin_closes_at: datetime


class OfflineEntry(BaseModel):
    id: int
    name: str
    organization: str | None
    status: RegistrationStatus
    ticket_version: int
    checked_in: bool


class CheckinList(BaseModel):
    """Everything a scanner needs to keep judging tickets while the network is down."""

    event: DoorEvent
    accepts_event_ids: list[int] = Field(description="Tickets of these events open this door.")
    key_id: str
    registrations: list[OfflineEntry]
    generated_at: datetime
