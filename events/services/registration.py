"""Registering people for events: capacity without overbooking, waitlist, approval, cancellation.

Every write runs inside one transaction that first takes the event's lock (see ``locking``), so
the seat count read, the duplicate check and the insert cannot interleave with another
registration for the same event. Counters on the event row change in that same transaction.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from events import clock, metrics
from events.errors import (
    N_,
    AlreadyCancelled,
    AlreadyRegistered,
    DomainError,
    EventFull,
    EventNotOpen,
    InvalidInput,
    InvalidTransition,
    LinkCodeInvalid,
    RegistrationClosed,
    RegistrationNotFound,
    RegistrationNotOpenYet,
)
from events.i18n import locale_of
from events.models import (
    ACTIVE_STATUSES,
    Attendance,
    Event,
    EventKind,
    EventStatus,
    Person,
    Registration,
    RegistrationLink,
    RegistrationStatus,
)
from events.services import activity, brokers, hot_path, paging
from events.services.catalog import effective_status
from events.services.locking import lock_event
from events.services.people import find_or_create_person, normalize_email, normalize_phone
from events.services.waitlist import COUNTERS, fill_free_seats, has_free_seat, waitlist_position

MAX_ANSWERS_BYTES = 16_384
# How long a link code (``/start link_<code>``) can be redeemed; the registrant can ask for a new one.
LINK_CODE_TTL = timedelta(hours=24)
LINK_PREFIX = "link_"


class Applicant(BaseModel):
    """Who is registering, as they gave it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None
    organization: Annotated[str, StringConstraints(max_length=200)] | None = None
    telegram_id: Annotated[int, Field(gt=0, lt=2**53)] | None = None
    email: Annotated[str, StringConstraints(max_length=254)] | None = None
    answers: Annotated[dict[str, Any], Field(max_length=50)] = {}


@dataclass(frozen=True, slots=True)
class RegistrationResult:
    registration: Registration
    waitlist_position: int | None
    # Shown once to an anonymous registrant: lets them read and cancel this registration.
    access_secret: str | None


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_open(event: Event) -> None:
    """Raises what ``register`` would for an event that takes no registrations now (a cheap early answer)."""
    _check_open(event)


def _check_open(event: Event) -> None:
    status = effective_status(event)
    if status in (EventStatus.DRAFT, EventStatus.CANCELLED):
        raise EventNotOpen(status=str(status))
    if status == EventStatus.FINISHED:
        raise RegistrationClosed()
    now = clock.now()
    if event.registration_opens_at is not None and now < event.registration_opens_at:
        raise RegistrationNotOpenYet(opens_at=event.registration_opens_at)
    closes_at = event.registration_closes_at or event.starts_at
    if now >= closes_at:
        raise RegistrationClosed()


def _check_answers(answers: dict[str, Any]) -> None:
    if len(json.dumps(answers, ensure_ascii=False).encode()) > MAX_ANSWERS_BYTES:
        raise InvalidInput(N_("The answers are too long."), field="answers")


def answers_for(event: Event, answers: dict[str, Any]) -> dict[str, Any]:
    """The answers, checked against the event's questions (none defined: kept as given).
    Raises ``invalid_input`` naming the question that is missing, unknown or off its choices.
    """
    questions = {q["key"]: q for q in event.questions or []}
    if not questions:
        return answers
    for key in answers:
        if key not in questions:
            raise InvalidInput(N_("This event asks no question %(key)s."), field=f"answers.{key}", key=key[:30])
    cleaned: dict[str, Any] = {}
    for key, question in questions.items():
        value = answers.get(key)
        text = "" if value is None else str(value).strip()
        if not text:
            if question.get("required", True):
                raise InvalidInput(N_("Please answer: %(label)s"), field=f"answers.{key}", label=question["label"])
            continue
        if len(text) > 500:
            raise InvalidInput(
                N_("The answer to %(label)s is too long."), field=f"answers.{key}", label=question["label"]
            )
        if question.get("choices") and text not in question["choices"]:
            raise InvalidInput(
                N_("%(value)s is not one of the choices for %(label)s."),
                field=f"answers.{key}",
                value=text[:40],
                label=question["label"],
            )
        cleaned[key] = text
    return cleaned


async def register(
    event_id: int,
    applicant: Applicant,
    *,
    actor: str,
    source: str = "api",
    issue_secret: bool = True,
    person_id: int | None = None,
    consent_version: str | None = None,
) -> RegistrationResult:
    """Register a person: confirmed while seats last, then waitlisted (or pending when the event
    requires approval). Raises ``event_not_found``, ``event_not_open``, ``registration_not_open``,
    ``registration_closed``, ``already_registered``, ``event_full`` (no waitlist), ``invalid_input``.

    Whose registration it is: ``person_id`` when the caller already knows (a broker enrolling), else
    the person with ``applicant.telegram_id`` (the caller vouches that it is proven), else a new
    person of its own: a phone or an e-mail address alone never attaches a registration to someone
    already known (see ``people.find_or_create_person``).

    ``consent_version``: the privacy notice the registrant agreed to (the web form), stored with the time.
    """
    phone = normalize_phone(applicant.phone)
    email = normalize_email(applicant.email)
    _check_answers(applicant.answers)
    secret = f"reg_{secrets.token_urlsafe(24)}" if issue_secret else None
    fast = await _register_in_one_statement(
        event_id, applicant, phone, email, secret, actor, source, person_id, consent_version
    )
    if fast is not None:
        metrics.REGISTRATIONS.labels(str(fast.registration.status)).inc()
        return fast
    try:
        async with in_transaction() as conn:
            event = await lock_event(conn, event_id)
            _check_open(event)
            contacts: dict[str, Any] = {"telegram_id": applicant.telegram_id, "phone": phone, "email": email}
            identity = [Q(**{field: value}) for field, value in contacts.items() if value is not None]
            if identity:
                duplicate = await (
                    Registration.filter(Q(*identity, join_type="OR"), event_id=event.id, status__in=ACTIVE_STATUSES)
                    .using_db(conn)
                    .exists()
                )
                if duplicate:
                    raise AlreadyRegistered()
            answers = answers_for(event, applicant.answers)
            if person_id is not None:
                person = await Person.get(id=person_id, using_db=conn)
            else:
                person = await find_or_create_person(
                    name=applicant.name,
                    phone=phone,
                    email=email,
                    organization=applicant.organization,
                    telegram_id=applicant.telegram_id,
                    using_db=conn,
                )
            now = clock.now()
            fields: dict[str, Any] = {}
            if consent_version is not None:
                fields["consent_version"] = consent_version
                fields["consent_at"] = now
            if event.requires_approval:
                status = RegistrationStatus.PENDING
            elif has_free_seat(event):
                status = RegistrationStatus.CONFIRMED
                fields["confirmed_at"] = now
                fields["ticket_version"] = 1
                event.seats_taken += 1
            elif event.waitlist_enabled:
                status = RegistrationStatus.WAITLISTED
                event.waitlist_seq += 1
                event.waitlist_length += 1
                fields["waitlist_order"] = event.waitlist_seq
            else:
                raise EventFull()
            registration = await Registration.create(
                event_id=event.id,
                person_id=person.id,
                status=status,
                name=applicant.name,
                organization=applicant.organization,
                phone=phone,
                email=email,
                telegram_id=applicant.telegram_id,
                answers=answers,
                source=source,
                access_secret_hash=hash_secret(secret) if secret else None,
                using_db=conn,
                **fields,
            )
            if status != RegistrationStatus.PENDING:
                await event.save(update_fields=COUNTERS, using_db=conn)
            if event.kind == EventKind.TRAINING:
                await brokers.on_registered(conn, event_id=event.id, person_id=person.id, actor=actor)
            await activity.record(
                f"registration.{status}",
                actor=actor,
                event_id=event.id,
                registration_id=registration.id,
                person_id=person.id,
                using_db=conn,
            )
            # The event is locked and this row was appended last, so the queue length is its place.
            position = event.waitlist_length if status == RegistrationStatus.WAITLISTED else None
    except DomainError:
        metrics.REGISTRATIONS.labels("refused").inc()
        raise
    metrics.REGISTRATIONS.labels(str(status)).inc()  # counted once committed
    return RegistrationResult(registration=registration, waitlist_position=position, access_secret=secret)


async def _register_in_one_statement(
    event_id: int,
    applicant: Applicant,
    phone: str | None,
    email: str | None,
    secret: str | None,
    actor: str,
    source: str,
    person_id: int | None,
    consent_version: str | None,
) -> RegistrationResult | None:
    """PostgreSQL: the registration as one statement (see ``hot_path``); None for anything but the
    common case, which the transaction below then handles."""
    pool = hot_path.postgres_pool()
    if pool is None:
        return None
    event = await hot_path.read_event(pool, event_id)
    if event is None or event["kind"] == EventKind.TRAINING:
        hot_path.forget_event(event_id)  # read afresh next time: an entry must not keep an event off this path
        return None
    try:
        answers = answers_for(cast(Event, _Questions(event["questions"])), applicant.answers)
    except DomainError:
        hot_path.forget_event(event_id)
        return None  # the ORM path checks the duplicate first, then says what is wrong with the answers
    fill_person = False
    if person_id is None and applicant.telegram_id is not None:
        person_id = await hot_path.find_person_by_telegram(pool, applicant.telegram_id)
        if person_id is None:
            return None
        fill_person = True
    now = clock.now()
    done = await hot_path.register(
        pool,
        event=event,
        now=now,
        name=applicant.name,
        phone=phone,
        email=email,
        organization=applicant.organization,
        telegram_id=applicant.telegram_id,
        language=str(locale_of(None)),
        person_id=person_id,
        answers=answers,
        source=source,
        secret_hash=hash_secret(secret) if secret else None,
        consent_version=consent_version,
        actor=actor,
        fill_person=fill_person,
    )
    if done is None:
        return None
    registration = Registration(
        id=done.id,
        event_id=event_id,
        person_id=done.person_id,
        status=done.status,
        name=applicant.name,
        organization=applicant.organization,
        phone=phone,
        email=email,
        telegram_id=applicant.telegram_id,
        answers=answers,
        waitlist_order=done.waitlist_order,
        access_secret_hash=hash_secret(secret) if secret else None,
        source=source,
        ticket_version=done.ticket_version,
        created_at=done.created_at,
        updated_at=done.created_at,
        confirmed_at=done.confirmed_at,
        consent_at=now if consent_version is not None else None,
        consent_version=consent_version,
    )
    registration._saved_in_db = True
    # The statement went past the ORM: its save signal is sent as a save would (the public site's page
    # cache follows seat changes by it).
    await registration._post_save(None, True, None)
    position = done.waitlist_length if done.status == RegistrationStatus.WAITLISTED else None
    return RegistrationResult(registration=registration, waitlist_position=position, access_secret=secret)


@dataclass(frozen=True, slots=True)
class _Questions:
    """What ``answers_for`` reads of an event."""

    questions: list[dict[str, Any]] | None


async def get_registration(registration_id: int) -> Registration:
    """Raises ``registration_not_found``."""
    registration = await Registration.get_or_none(id=registration_id)
    if registration is None:
        raise RegistrationNotFound()
    return registration


async def find_by_secret(secret: str) -> Registration | None:
    return await Registration.get_or_none(access_secret_hash=hash_secret(secret))


async def _locked_registration(conn: Any, registration_id: int) -> tuple[Event, Registration]:
    event_id = cast(
        "list[int]", await Registration.filter(id=registration_id).using_db(conn).values_list("event_id", flat=True)
    )
    if not event_id:
        raise RegistrationNotFound()
    event = await lock_event(conn, event_id[0])
    registration = await Registration.get(id=registration_id, using_db=conn)
    return event, registration


async def cancel_registration(registration_id: int, *, actor: str, reason: str = "") -> Registration:
    """Cancel; a freed seat goes to the head of the waitlist (logged as ``waitlist.promoted``).
    Raises ``registration_not_found``, ``already_cancelled``, ``invalid_transition`` (rejected).
    """
    async with in_transaction() as conn:
        event, registration = await _locked_registration(conn, registration_id)
        previous = RegistrationStatus(registration.status)
        if previous == RegistrationStatus.CANCELLED:
            raise AlreadyCancelled()
        if previous == RegistrationStatus.REJECTED:
            raise InvalidTransition(status=str(previous))
        registration.status = RegistrationStatus.CANCELLED
        registration.cancelled_at = clock.now()
        await registration.save(update_fields=["status", "cancelled_at", "updated_at"], using_db=conn)
        if previous == RegistrationStatus.CONFIRMED:
            event.seats_taken -= 1
        elif previous == RegistrationStatus.WAITLISTED:
            event.waitlist_length -= 1
        await event.save(update_fields=COUNTERS, using_db=conn)
        await activity.record(
            "registration.cancelled",
            actor=actor,
            event_id=event.id,
            registration_id=registration.id,
            person_id=registration.person_id,
            using_db=conn,
            previous=str(previous),
            reason=reason,
        )
        if previous == RegistrationStatus.CONFIRMED:
            await fill_free_seats(conn, event, actor=actor)
    return registration


async def change_answers(registration_id: int, answers: dict[str, Any], *, actor: str) -> Registration:
    """Replace a live registration's answers, checked against its event's questions as ``register``
    checks them. Raises ``registration_not_found``, ``invalid_transition`` (cancelled or rejected),
    ``registration_closed`` (the event has begun or is over), ``invalid_input``.
    """
    _check_answers(answers)
    async with in_transaction() as conn:
        event, registration = await _locked_registration(conn, registration_id)
        if registration.status not in ACTIVE_STATUSES:
            raise InvalidTransition(status=str(registration.status))
        if effective_status(event) != EventStatus.PUBLISHED or clock.now() >= event.starts_at:
            raise RegistrationClosed()
        cleaned = answers_for(event, answers)
        if cleaned == registration.answers:
            return registration
        registration.answers = cleaned
        await registration.save(update_fields=["answers", "updated_at"], using_db=conn)
        await activity.record(
            "registration.answers_changed",
            actor=actor,
            event_id=event.id,
            registration_id=registration.id,
            person_id=registration.person_id,
            using_db=conn,
        )
    return registration


async def approve_registration(registration_id: int, *, actor: str) -> RegistrationResult:
    """Pending → confirmed, or waitlisted when the event is full. Raises ``registration_not_found``,
    ``invalid_transition`` (not pending), ``event_full`` (full and no waitlist).
    """
    async with in_transaction() as conn:
        event, registration = await _locked_registration(conn, registration_id)
        if registration.status != RegistrationStatus.PENDING:
            raise InvalidTransition(status=str(registration.status))
        now = clock.now()
        registration.decided_at = now
        if has_free_seat(event):
            registration.status = RegistrationStatus.CONFIRMED
            registration.confirmed_at = now
            registration.ticket_version = max(1, registration.ticket_version)
            event.seats_taken += 1
        elif event.waitlist_enabled:
            registration.status = RegistrationStatus.WAITLISTED
            event.waitlist_seq += 1
            event.waitlist_length += 1
            registration.waitlist_order = event.waitlist_seq
        else:
            raise EventFull()
        await registration.save(using_db=conn)
        await event.save(update_fields=COUNTERS, using_db=conn)
        await activity.record(
            f"registration.{registration.status}",
            actor=actor,
            event_id=event.id,
            registration_id=registration.id,
            person_id=registration.person_id,
            using_db=conn,
            approved=True,
        )
        position = event.waitlist_length if registration.status == RegistrationStatus.WAITLISTED else None
    return RegistrationResult(registration=registration, waitlist_position=position, access_secret=None)


async def reject_registration(registration_id: int, *, actor: str, reason: str = "") -> Registration:
    """Pending → rejected. Raises ``registration_not_found``, ``invalid_transition``."""
    async with in_transaction() as conn:
        event, registration = await _locked_registration(conn, registration_id)
        if registration.status != RegistrationStatus.PENDING:
            raise InvalidTransition(status=str(registration.status))
        registration.status = RegistrationStatus.REJECTED
        registration.decided_at = clock.now()
        await registration.save(update_fields=["status", "decided_at", "updated_at"], using_db=conn)
        await activity.record(
            "registration.rejected",
            actor=actor,
            event_id=event.id,
            registration_id=registration.id,
            person_id=registration.person_id,
            using_db=conn,
            reason=reason,
        )
    return registration


async def list_registrations(event_id: int, *, status: RegistrationStatus | None = None) -> list[Registration]:
    qs = Registration.filter(event_id=event_id)
    if status is not None:
        qs = qs.filter(status=status)
    return await qs.order_by("id")


async def waitlist_positions(event_id: int) -> dict[int, int]:
    """Registration id → place in the queue, for every waitlisted registration of the event."""
    rows = cast(
        "list[int]",
        await Registration.filter(event_id=event_id, status=RegistrationStatus.WAITLISTED)
        .order_by("waitlist_order")
        .values_list("id", flat=True),
    )
    return {reg_id: place for place, reg_id in enumerate(rows, start=1)}


# How an event's registrations can be sorted: by registration (oldest or newest first) or by name.
RegistrationSort = Literal["created", "-created", "name"]
_REGISTRATION_ORDERS: dict[str, tuple[str, ...]] = {
    "created": ("id",),
    "-created": ("-id",),
    "name": ("name", "id"),
}
# A search of at least this many digits (and nothing but phone punctuation) also looks at phones.
_PHONE_DIGITS = 3


@dataclass(frozen=True, slots=True)
class RegistrationQuery:
    """Which registrations of an event to list: ``q`` matches name, organization, e-mail, and the
    phone in any form people type it ("138 0013 8000", "+86 138-0013-8000")."""

    status: RegistrationStatus | None = None
    checked_in: bool | None = None
    q: str | None = None
    sort: RegistrationSort = "created"
    limit: int | None = 50  # None: every match (exports)
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class RegistrationRow:
    """A registration as the organizer's list shows it: its queue place and its first arrival."""

    registration: Registration
    waitlist_position: int | None
    checked_in_at: datetime | None
    gate: str | None


def _phone_digits(q: str) -> str | None:
    if any(c.isalpha() for c in q) or not all(c.isdigit() or c in " +-()." for c in q):
        return None
    digits = "".join(c for c in q if c.isdigit())
    if digits.startswith("00"):  # 0086 … is +86 …
        digits = digits[2:]
    return digits if len(digits) >= _PHONE_DIGITS else None


async def search_registrations(event_id: int, query: RegistrationQuery) -> paging.Page[RegistrationRow]:
    """One keyset page of an event's registrations, filtered and sorted, with the number that
    match. Raises ``invalid_input`` (field ``cursor``) for a forged cursor or one of another sort.
    """
    qs = Registration.filter(event_id=event_id)
    if query.status is not None:
        qs = qs.filter(status=query.status)
    if query.checked_in is not None:
        arrived = Subquery(Attendance.filter(event_id=event_id).values("registration_id"))
        qs = qs.filter(id__in=arrived) if query.checked_in else qs.filter(id__not_in=arrived)
    text = (query.q or "").strip()
    if text:
        match = Q(name__icontains=text) | Q(organization__icontains=text) | Q(email__icontains=text)
        digits = _phone_digits(text)
        if digits is not None:
            match |= Q(phone__contains=digits)
        qs = qs.filter(match)
    order = _REGISTRATION_ORDERS[query.sort]
    list_name = f"registrations:{event_id}"
    after = paging.after(qs, list_name, order, query.cursor)  # refuses a bad cursor before any query
    total = await qs.count()
    if query.limit is None:
        rows = await after.order_by(*order)
        found = paging.Page(items=rows, next_cursor=None, total=total)
    else:
        rows = await after.order_by(*order).limit(query.limit + 1)
        found = paging.page(rows, list_name, order, query.limit, total=total)
    positions = await waitlist_positions(event_id)
    arrivals: dict[int, Attendance] = {}
    ids = [r.id for r in found.items]
    if ids:
        for seen in await Attendance.filter(event_id=event_id, registration_id__in=ids).order_by("-checked_in_at"):
            arrivals[seen.registration_id] = seen  # the earliest wins
    items = [
        RegistrationRow(
            registration=r,
            waitlist_position=positions.get(r.id),
            checked_in_at=arrivals[r.id].checked_in_at if r.id in arrivals else None,
            gate=arrivals[r.id].gate if r.id in arrivals else None,
        )
        for r in found.items
    ]
    return paging.Page(items=items, next_cursor=found.next_cursor, total=total)


async def issue_link_code(registration_id: int, *, channel: str = "telegram") -> str:
    """A new one-time code that attaches this registration to whoever redeems it through ``channel``;
    earlier unused codes of the registration stop working. Only its hash is stored.

    The code proves nothing by itself: it goes to the registrant (in the registration's response, or
    by e-mail once that channel exists, issue #16), and redeeming it in the bot proves the Telegram
    account. Raises ``registration_not_found``.
    """
    code = secrets.token_urlsafe(24)
    async with in_transaction() as conn:
        if not await Registration.filter(id=registration_id).using_db(conn).exists():
            raise RegistrationNotFound()
        await RegistrationLink.filter(registration_id=registration_id, used_at__isnull=True).using_db(conn).delete()
        await RegistrationLink.create(
            registration_id=registration_id,
            code_hash=hash_secret(code),
            channel=channel,
            expires_at=clock.now() + LINK_CODE_TTL,
            using_db=conn,
        )
    return code


async def redeem_link_code(code: str, *, person_id: int, telegram_id: int | None, actor: str) -> Registration:
    """Attach the registration a link code was issued for to this person (who proved their channel by
    redeeming it): from now on it is in their /my, their calendar and their messages. The code is
    used up. Raises ``link_code_invalid`` (unknown, used, expired, or the registration is over),
    ``already_registered`` (the person already holds a live registration for that event).
    """
    if not code or len(code) > 64:
        raise LinkCodeInvalid()
    async with in_transaction() as conn:
        link = await RegistrationLink.get_or_none(code_hash=hash_secret(code), using_db=conn)
        if link is None or link.used_at is not None or link.expires_at <= clock.now():
            raise LinkCodeInvalid()
        registration_id: int = link.registration_id
        event, registration = await _locked_registration(conn, registration_id)
        # Used under the event's lock: a second redemption of the same code waits and then finds it used.
        if (
            await RegistrationLink.filter(id=link.id, used_at__isnull=True)
            .using_db(conn)
            .update(used_at=clock.now(), used_by_person_id=person_id)
            != 1
        ):
            raise LinkCodeInvalid()
        if registration.status not in ACTIVE_STATUSES:
            raise LinkCodeInvalid()
        if registration.person_id == person_id:
            return registration
        mine = Q(person_id=person_id)
        if telegram_id is not None:
            mine |= Q(telegram_id=telegram_id)
        if (
            await Registration.filter(mine, event_id=event.id, status__in=ACTIVE_STATUSES)
            .exclude(id=registration.id)
            .using_db(conn)
            .exists()
        ):
            raise AlreadyRegistered()
        previous_person_id: int = registration.person_id
        registration.person_id = person_id
        registration.telegram_id = telegram_id
        await registration.save(update_fields=["person_id", "telegram_id", "updated_at"], using_db=conn)
        if event.kind == EventKind.TRAINING:
            await brokers.on_registered(conn, event_id=event.id, person_id=person_id, actor=actor)
        await activity.record(
            "registration.linked",
            actor=actor,
            event_id=event.id,
            registration_id=registration.id,
            person_id=person_id,
            using_db=conn,
            previous_person_id=previous_person_id,
            channel=link.channel,
        )
    return registration


__all__ = [
    "Applicant",
    "RegistrationQuery",
    "RegistrationResult",
    "RegistrationRow",
    "RegistrationSort",
    "approve_registration",
    "cancel_registration",
    "change_answers",
    "find_by_secret",
    "get_registration",
    "issue_link_code",
    "list_registrations",
    "redeem_link_code",
    "reject_registration",
    "search_registrations",
    "register",
    "waitlist_position",
    "waitlist_positions",
]


async def registrations_of_person(person_id: int, *, include_past: bool = False) -> list[Registration]:
    """A person's live registrations (not cancelled or rejected), soonest event first, events loaded."""
    qs = Registration.filter(person_id=person_id, status__in=ACTIVE_STATUSES).select_related("event")
    if not include_past:
        qs = qs.filter(event__ends_at__gt=clock.now())
    return sorted(await qs, key=lambda r: (r.event.starts_at, r.id))


async def find_active_registration(event_id: int, *, telegram_id: int) -> Registration | None:
    return await Registration.filter(event_id=event_id, telegram_id=telegram_id, status__in=ACTIVE_STATUSES).first()
