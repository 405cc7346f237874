"""What organizers do to registrations beside the registrant (issue 17, the console and the API alike):
edit an attendee's details, approve or reject many at once, promote a waitlisted person, check someone in
by hand and undo it, send the ticket again, and the cheap figures and pages an event's table shows.

Kept apart from ``registration`` (the registrant's path, tuned for the rush) so each can change alone.
Every write takes the event's lock as ``registration`` does and logs what it did in the activity log;
messages to the registrant go out through the outbox from those facts (notifications.producers).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from tortoise import connections
from tortoise.expressions import Q, Subquery
from tortoise.functions import Count
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from events import clock
from events.db import dialect_of
from events.errors import (
    N_,
    AlreadyRegistered,
    EventFull,
    InvalidInput,
    InvalidTransition,
    RegistrationNotFound,
    StaleForm,
)
from events.models import (
    ACTIVE_STATUSES,
    Attendance,
    CheckinResult,
    CreditEntry,
    CreditSource,
    Event,
    EventStatus,
    Registration,
    RegistrationStatus,
)
from events.services import activity, checkin, paging
from events.services.catalog import effective_status
from events.services.locking import lock_event
from events.services.organizations import Scope
from events.services.people import normalize_email, normalize_phone
from events.services.registration import _check_answers, answers_for, approve_registration, reject_registration
from events.services.tickets import TicketSigner, ticket_code
from events.services.waitlist import COUNTERS

# How many registrations one bulk action may touch; more is refused before anything is done.
BULK_LIMIT = 10_000
CONSOLE_ACTOR_GATE = "console"


def same_moment(seen: str | datetime | None, current: datetime) -> bool:
    """Whether the version a form was opened at (``updated_at`` as ISO text) is the row's current one."""
    if seen is None or seen == "":
        return False
    if isinstance(seen, str):
        try:
            seen = datetime.fromisoformat(seen)
        except ValueError:
            return False
    return seen == current


def version_of(moment: datetime) -> str:
    """What a form carries as the object's version (compared by ``same_moment``)."""
    return moment.isoformat()


async def _locked(conn: Any, registration_id: int) -> tuple[Event, Registration]:
    event_ids = cast(
        "list[int]", await Registration.filter(id=registration_id).using_db(conn).values_list("event_id", flat=True)
    )
    if not event_ids:
        raise RegistrationNotFound()
    event = await lock_event(conn, event_ids[0])
    return event, await Registration.get(id=registration_id, using_db=conn)


# ---- edit an attendee ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AttendeeEdit:
    """An attendee's details as an organizer corrects them (the registration's own copy)."""

    name: str
    phone: str | None = None
    email: str | None = None
    organization: str | None = None
    answers: dict[str, Any] | None = None  # None: left as they are


async def edit_attendee(registration_id: int, edit: AttendeeEdit, *, seen: str | None, actor: str) -> Registration:
    """Correct a registration's name, phone, e-mail, organization and answers (checked as ``register``
    checks them). ``seen`` is the version the form was opened at: a registration changed since is
    refused with ``stale_form``, nothing written. Raises ``registration_not_found``, ``invalid_input``
    (field named), ``already_registered`` (the phone or e-mail of another live registration of the
    event), ``invalid_transition`` (cancelled or rejected), ``stale_form``.
    """
    name = edit.name.strip()
    if not name or len(name) > 100:
        raise InvalidInput(N_("Enter a name of at most 100 characters."), field="name")
    organization = (edit.organization or "").strip() or None
    if organization is not None and len(organization) > 200:
        raise InvalidInput(N_("At most %(limit)s characters."), field="organization", limit=200)
    phone = normalize_phone(edit.phone)
    email = normalize_email(edit.email)
    if edit.answers is not None:
        _check_answers(edit.answers)
    async with in_transaction() as conn:
        event, registration = await _locked(conn, registration_id)
        if not same_moment(seen, registration.updated_at):
            raise StaleForm()
        if registration.status not in ACTIVE_STATUSES:
            raise InvalidTransition(status=str(registration.status))
        answers = answers_for(event, edit.answers) if edit.answers is not None else registration.answers
        identity = [Q(**{f: v}) for f, v in (("phone", phone), ("email", email)) if v is not None]
        if identity:
            taken = await (
                Registration.filter(Q(*identity, join_type="OR"), event_id=event.id, status__in=ACTIVE_STATUSES)
                .exclude(id=registration.id)
                .using_db(conn)
                .exists()
            )
            if taken:
                raise AlreadyRegistered()
        new = {"name": name, "phone": phone, "email": email, "organization": organization, "answers": answers}
        changed = [f for f, v in new.items() if getattr(registration, f) != v]
        if not changed:
            return registration
        for field in changed:
            setattr(registration, field, new[field])
        await registration.save(update_fields=[*changed, "updated_at"], using_db=conn)
        await activity.record(
            "registration.edited",
            actor=actor,
            event_id=event.id,
            registration_id=registration.id,
            person_id=registration.person_id,
            using_db=conn,
            fields=changed,
        )
    return registration


# ---- approve or reject many ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BulkResult:
    done: int  # approved (confirmed or waitlisted) or rejected
    skipped: int  # not pending any more, or not of this event
    full: int = 0  # left pending: the event is full and has no waitlist


async def decide_many(
    event_id: int, registration_ids: list[int], *, approve: bool, actor: str, reason: str = ""
) -> BulkResult:
    """Approve (or reject) the pending registrations among ``registration_ids`` of ``event_id``, one
    by one through ``approve_registration``/``reject_registration`` (the same rules and messages).
    Refuses more than ``BULK_LIMIT`` ids with ``invalid_input`` before doing anything; others' ids and
    those no longer pending are skipped and counted.
    """
    if len(registration_ids) > BULK_LIMIT:
        raise InvalidInput(N_("Select at most %(limit)s rows at once."), field="ids", limit=BULK_LIMIT)
    if not registration_ids:
        raise InvalidInput(N_("Select at least one row."), field="ids")
    pending: list[int] = []
    for start in range(0, len(registration_ids), 500):
        chunk = registration_ids[start : start + 500]
        pending += cast(
            "list[int]",
            await Registration.filter(id__in=chunk, event_id=event_id, status=RegistrationStatus.PENDING)
            .order_by("id")
            .values_list("id", flat=True),
        )
    done = full = 0
    for registration_id in pending:
        try:
            if approve:
                await approve_registration(registration_id, actor=actor)
            else:
                await reject_registration(registration_id, actor=actor, reason=reason)
            done += 1
        except EventFull:
            full += 1
        except (InvalidTransition, RegistrationNotFound):
            pass  # decided by someone else meanwhile
    return BulkResult(done=done, skipped=len(registration_ids) - done - full, full=full)


# ---- promote from the waitlist --------------------------------------------------------------------


async def promote_registration(registration_id: int, *, actor: str) -> Registration:
    """Give a waitlisted person a seat now, out of turn: the organizer's call. When the event is
    full its capacity grows by one for them (never more taken than offered: no overbooking). Logged
    as ``waitlist.promoted``, which sends the ticket. Raises ``registration_not_found``,
    ``invalid_transition`` (not waitlisted, or the event not open).
    """
    async with in_transaction() as conn:
        event, registration = await _locked(conn, registration_id)
        if registration.status != RegistrationStatus.WAITLISTED:
            raise InvalidTransition(status=str(registration.status))
        if effective_status(event) != EventStatus.PUBLISHED:
            raise InvalidTransition(status=str(effective_status(event)))
        fields = list(COUNTERS)
        grown = event.capacity is not None and event.seats_taken >= event.capacity
        if grown:
            assert event.capacity is not None
            event.capacity = event.seats_taken + 1
            fields.append("capacity")
        registration.status = RegistrationStatus.CONFIRMED
        registration.confirmed_at = clock.now()
        registration.ticket_version = max(1, registration.ticket_version)
        await registration.save(update_fields=["status", "confirmed_at", "ticket_version", "updated_at"], using_db=conn)
        event.seats_taken += 1
        event.waitlist_length -= 1
        await event.save(update_fields=fields, using_db=conn)
        await activity.record(
            "waitlist.promoted",
            actor=actor,
            event_id=event.id,
            registration_id=registration.id,
            person_id=registration.person_id,
            using_db=conn,
            by_organizer=True,
            capacity=event.capacity if grown else None,
        )
    return registration


# ---- check in by hand, and undo ---------------------------------------------------------------------


async def manual_checkin(
    registration_id: int, *, event_id: int, signer: TicketSigner, actor: str, tz: zoneinfo.ZoneInfo | None = None
) -> checkin.Outcome:
    """Check a registrant in without their ticket (a person at the desk): the door's own ``redeem``
    with the registration's current code, so the same rules (window, status, one entry a day) hold.
    An unconfirmed registration (no ticket) answers ``invalid`` as its scan would.
    """
    registration = await Registration.get_or_none(id=registration_id, event_id=event_id)
    if registration is None:
        raise RegistrationNotFound()
    code = ticket_code(registration, signer)
    if code is None:
        return checkin.Outcome(CheckinResult.INVALID, checkin.REASONS["invalid"], {}, registration)
    scan = checkin.Scan(code=code, event_id=event_id, gate=CONSOLE_ACTOR_GATE, device="console")
    return await checkin.redeem(scan, signer=signer, actor=actor, tz=tz)


async def undo_checkin(registration_id: int, *, event_id: int, actor: str) -> int:
    """Take back a registrant's check-ins at ``event_id`` (a mistaken one): their attendance rows go,
    logged as ``checkin.undone``. Returns how many were removed (0: nothing to undo). Raises
    ``registration_not_found``; ``invalid_transition`` when the check-in earned a broker training
    hours (a training session): those are corrected in the broker's ledger, not undone here.
    """
    async with in_transaction() as conn:
        registration = await Registration.get_or_none(id=registration_id, using_db=conn)
        if registration is None:
            raise RegistrationNotFound()
        credited = await (
            CreditEntry.filter(event_id=event_id, registration_id=registration_id, source=CreditSource.ATTENDANCE)
            .using_db(conn)
            .exists()
        )
        if credited:
            raise InvalidTransition(
                N_("This check-in earned training hours; correct them in the broker's credit ledger instead.")
            )
        rows = await Attendance.filter(registration_id=registration_id, event_id=event_id).using_db(conn)
        if not rows:
            return 0
        await Attendance.filter(id__in=[r.id for r in rows]).using_db(conn).delete()
        await activity.record(
            "checkin.undone",
            actor=actor,
            event_id=event_id,
            registration_id=registration_id,
            person_id=registration.person_id,
            using_db=conn,
            days=[r.day.isoformat() for r in rows],
        )
    return len(rows)


# ---- send the ticket again --------------------------------------------------------------------------


async def resend_ticket(registration_id: int, *, actor: str) -> Registration:
    """Queue the registrant's ticket message again (the same message as at confirmation, with the
    current code) through the outbox: logged as ``ticket.resent``, which the notifications producer
    turns into a message of its own. Raises ``registration_not_found``, ``invalid_transition`` (no
    ticket: not confirmed).
    """
    registration = await Registration.get_or_none(id=registration_id)
    if registration is None:
        raise RegistrationNotFound()
    if registration.status != RegistrationStatus.CONFIRMED or registration.ticket_version < 1:
        raise InvalidTransition(status=str(registration.status))
    async with in_transaction() as conn:
        await activity.record(
            "ticket.resent",
            actor=actor,
            event_id=registration.event_id,
            registration_id=registration.id,
            person_id=registration.person_id,
            using_db=conn,
            version=registration.ticket_version,
        )
    return registration


# ---- the figures and the table ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Counts:
    capacity: int | None
    confirmed: int
    waitlisted: int
    pending: int
    checked_in: int

    @property
    def active(self) -> int:
        """Those holding or waiting for a seat (cancelled and rejected ones are not counted)."""
        return self.confirmed + self.waitlisted + self.pending


async def counts(event: Event) -> Counts:
    """An event's figures: confirmed and waitlisted from the event's own counters (kept in the same
    transaction as the registrations), those awaiting approval by an index range count on
    ``(event_id, status)``, arrivals from the attendance rows. Nothing reads all registrations."""
    pending = await Registration.filter(event_id=event.id, status=RegistrationStatus.PENDING).count()
    checked_in = (
        await Attendance.filter(event_id=event.id).annotate(n=Count("registration_id", distinct=True)).values("n")
    )
    return Counts(
        capacity=event.capacity,
        confirmed=event.seats_taken,
        waitlisted=event.waitlist_length,
        pending=pending,
        checked_in=int(checked_in[0]["n"]) if checked_in else 0,
    )


Arrival = Literal["in", "out"]
ORDER = ("-id",)  # newest first


@dataclass(frozen=True, slots=True)
class TableQuery:
    status: RegistrationStatus | None = None
    arrived: Arrival | None = None  # checked in / not yet
    q: str | None = None
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class TableRow:
    registration: Registration
    waitlist_position: int | None
    checked_in_at: datetime | None


def phone_prefix(text: str) -> str | None:
    """The beginning of a stored (E.164) phone number that a typed search means, or None when the
    text is no phone number: "139 0000" → "+86139 0000", "+1 650" and "001 650" → "+1650", a
    landline "027 8888" → "+86278888". At least 3 digits."""
    if any(c.isalpha() for c in text) or not all(c.isdigit() or c in " +-()." for c in text):
        return None
    digits = "".join(c for c in text if c.isdigit())
    if len(digits) < 3:
        return None
    if text.lstrip().startswith("+"):
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    if digits.startswith("86") and len(digits) > 11:
        return "+" + digits
    return "+86" + (digits[1:] if digits.startswith("0") else digits)


def _starts(field: str, prefix: str, sqlite: bool) -> Q:
    """``field`` begins with ``prefix``, as an index range: PostgreSQL's LIKE 'prefix%' on a
    text_pattern_ops index (migration c0nsearch01); SQLite's BINARY order is UTF-8's, so a range."""
    if sqlite:
        return Q(**{f"{field}__gte": prefix, f"{field}__lt": prefix + "\U0010ffff"})
    return Q(**{f"{field}__startswith": prefix})


def _filtered(event_id: int, query: TableQuery) -> QuerySet[Registration]:
    """The table's rows: the search matches the beginning of the name, the organization, the e-mail
    address or the phone number (each an index range: fast with 100,000 registrations)."""
    qs = Registration.filter(event_id=event_id)
    if query.status is not None:
        qs = qs.filter(status=query.status)
    if query.arrived is not None:
        arrived = Subquery(Attendance.filter(event_id=event_id).values("registration_id"))
        qs = qs.filter(id__in=arrived) if query.arrived == "in" else qs.filter(id__not_in=arrived)
    text = (query.q or "").strip()[:100]
    if text:
        sqlite = dialect_of(connections.get("default")) == "sqlite"
        match = _starts("name", text, sqlite) | _starts("organization", text, sqlite)
        match |= _starts("email", text.lower(), sqlite)
        if (prefix := phone_prefix(text)) is not None:
            match |= _starts("phone", prefix, sqlite)
        qs = qs.filter(match)
    return qs


async def matching_ids(event_id: int, query: TableQuery, *, limit: int = BULK_LIMIT) -> list[int]:
    """Every registration id the table's filter finds (a bulk action on "all that match"). Raises
    ``invalid_input`` (field ``ids``) when more than ``limit`` match: nothing is to be done then.
    """
    ids = cast(
        "list[int]", await _filtered(event_id, query).order_by("id").limit(limit + 1).values_list("id", flat=True)
    )
    if len(ids) > limit:
        raise InvalidInput(N_("Select at most %(limit)s rows at once."), field="ids", limit=limit)
    return ids


# SQLite plans "ORDER BY id DESC LIMIT ?" over the search's OR of index ranges either as a walk of the
# table in id order (instant for a common prefix, a full scan for a rare one) or as the OR of the index
# ranges and a sort of every match (the reverse). So a search first asks for up to PROBE matching ids
# without an order (the index ranges, stopping early): fewer than PROBE are all the matches, read by id;
# more, and the walk in id order is asked for. PostgreSQL's planner chooses well by itself.
PROBE = 500


async def _searched(after: QuerySet[Registration], query: TableQuery) -> list[Registration] | None:
    if dialect_of(connections.get("default")) != "sqlite":
        return None
    probe = cast("list[int]", await after.limit(PROBE).values_list("id", flat=True))
    if len(probe) >= PROBE:
        # A common prefix: a range on the id makes SQLite walk the table newest first, stopping at
        # the page's last match (dense, so soon), instead of sorting every match.
        return await after.filter(id__gt=0).order_by(*ORDER).limit(query.limit + 1)
    newest = sorted(probe, reverse=True)[: query.limit + 1]
    return await Registration.filter(id__in=newest).order_by(*ORDER) if newest else []


async def table(event_id: int, query: TableQuery) -> paging.Page[TableRow]:
    """One keyset page (newest first) of an event's registrations for the organizer's table, found by
    name, phone (as people type it), e-mail or organization, by status and by arrival. No count of
    all matches: the page's figures come from ``counts``. Waitlist places are worked out for the
    page's rows only (two small queries). Raises ``invalid_input`` (field ``cursor``).
    """
    qs = _filtered(event_id, query)
    list_name = f"console-registrations:{event_id}"
    after = paging.after(qs, list_name, ORDER, query.cursor)
    rows = await _searched(after, query) if query.q else None
    if rows is None:
        rows = await after.order_by(*ORDER).limit(query.limit + 1)
    found = paging.page(rows, list_name, ORDER, query.limit)
    ids = [r.id for r in found.items]
    arrivals: dict[int, datetime] = {}
    if ids:
        for registration_id, at in await Attendance.filter(event_id=event_id, registration_id__in=ids).values_list(
            "registration_id", "checked_in_at"
        ):
            arrivals[registration_id] = min(at, arrivals.get(registration_id, at))
    orders = sorted(
        r.waitlist_order
        for r in found.items
        if r.status == RegistrationStatus.WAITLISTED and r.waitlist_order is not None
    )
    places: dict[int, int] = {}
    if orders:
        waiting = Registration.filter(event_id=event_id, status=RegistrationStatus.WAITLISTED)
        ahead = await waiting.filter(waitlist_order__lt=orders[0]).count()
        span = sorted(
            cast(
                "list[int]",
                await waiting.filter(waitlist_order__gte=orders[0], waitlist_order__lte=orders[-1]).values_list(
                    "waitlist_order", flat=True
                ),
            )
        )
        places = {order: ahead + i + 1 for i, order in enumerate(span)}
    items = [TableRow(r, places.get(r.waitlist_order or -1), arrivals.get(r.id)) for r in found.items]
    return paging.Page(items=items, next_cursor=found.next_cursor)


async def arrivals_of(registration_id: int, event_id: int) -> list[datetime]:
    """When the registrant was checked in at the event (one a day), earliest first."""
    return cast(
        "list[datetime]",
        await Attendance.filter(registration_id=registration_id, event_id=event_id)
        .order_by("checked_in_at")
        .values_list("checked_in_at", flat=True),
    )


async def owned_registration_of(event_id: int, registration_id: int, scope: Scope) -> Registration:
    """A registration of ``event_id`` within ``scope``. Raises ``registration_not_found``."""
    registration = await Registration.get_or_none(id=registration_id, event_id=event_id).select_related("event")
    if registration is None or not scope.covers(registration.event.organization_id):
        raise RegistrationNotFound()
    return registration
