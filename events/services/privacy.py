"""A person's rights over their data (PIPL art. 45, 47): a copy of everything held about them, erasure on
request, and retention: the registrants' details of long-finished events are removed on schedule.

Erasure pseudonymises rather than deletes. The person row stays under a name like ``已删除用户#1a2b3c4d``
with every contact detail cleared, so what others rely on still adds up: an event's counts (its past
registrations stay, without details), a broker's credit ledger and certificates (append-only, they
belong to the broker row, which stays), a judge's scores, the other side's meetings. What could
identify the person goes: names and contacts wherever they were copied (registrations, entries, judge
seats, objections, pitches), answers, the texts of messages sent to them, capability links (the
registration's web link and secret, calendar feeds, the transcript address), bot conversation state,
and their Telegram id in the actors of the logs (``telegram:<id>`` becomes ``person:<id>``).
Registrations of events still to come are cancelled through ``registration.cancel_registration``, so a
freed seat goes to the head of the waitlist exactly as when the person cancels.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field
from tortoise import Tortoise
from tortoise.expressions import Q
from tortoise.fields import CharField
from tortoise.transactions import in_transaction

from events import clock
from events.errors import N_, AlreadyCancelled, InvalidInput, InvalidTransition, PersonNotFound
from events.models import (
    ACTIVE_STATUSES,
    Account,
    Achievement,
    Activity,
    Attendance,
    BotState,
    Broker,
    Certification,
    CreditEntry,
    Demand,
    Entry,
    Event,
    Investor,
    Judge,
    MatchFeedback,
    MeetingRequest,
    Objection,
    OutboxMessage,
    OutboxStatus,
    Participant,
    Person,
    PersonRole,
    Pitch,
    Registration,
    RegistrationLink,
    SigninAttempt,
)
from events.models.training import hours_of
from events.privacy import NOTICE_VERSION
from events.services import activity, brokers
from events.services.certification import certificate_status
from events.services.registration import cancel_registration

PSEUDONYM_PREFIX = "已删除用户#"
# Columns that name who did something ("telegram:<id>", "token:<id>:<name>", …) in any table.
ACTOR_COLUMNS = frozenset(
    {"actor", "author", "checker", "created_by", "decided_by", "granted_by", "reviewed_by", "state_changed_by"}
    | {"uploaded_by"}
)
ERASED_NOTE = "erased at the person's request"
RETAINED_NOTE = "removed after the retention period"


def pseudonym(person_id: int) -> str:
    """The name an erased person keeps: stable (erasing twice gives the same), and says nothing of them."""
    return PSEUDONYM_PREFIX + hashlib.sha256(f"wuchuang-erased:{person_id}".encode()).hexdigest()[:8]


# --- the export --------------------------------------------------------------------------------


class ExportModel(BaseModel):
    model_config = ConfigDict(frozen=True)


class Preferences(ExportModel):
    districts: list[str]
    topics: list[str]
    kinds: list[str]
    opted_out: list[str]
    quiet_start: str | None
    quiet_end: str | None
    calendar_alarm_minutes: int


class Profile(ExportModel):
    id: int
    name: str
    phone: str | None
    email: str | None
    organization: str | None
    affiliation: str | None
    telegram_id: int | None
    language: str
    preferences: Preferences
    roles: list[str] = Field(description="Roles held in the bot, as role@organization id.")
    created_at: datetime
    erased_at: datetime | None


class RegistrationRecord(ExportModel):
    id: int
    event_id: int
    event_title: str
    event_starts_at: datetime
    event_venue: str
    status: str
    name: str
    phone: str | None
    email: str | None
    organization: str | None
    answers: dict[str, Any]
    source: str
    consented_at: datetime | None
    consent_version: str | None
    created_at: datetime
    confirmed_at: datetime | None
    cancelled_at: datetime | None
    anonymised_at: datetime | None


class CheckinRecord(ExportModel):
    registration_id: int
    event_id: int
    event_title: str
    day: date
    checked_in_at: datetime
    checked_out_at: datetime | None
    gate: str | None


class CreditRecord(ExportModel):
    id: int
    hours: Decimal
    source: str
    course_id: int | None
    event_id: int | None
    reason: str
    earned_at: datetime


class CertificateRecord(ExportModel):
    number: str | None
    level: str
    round: int
    certified_at: datetime
    expires_at: datetime | None
    status: str


class BrokerRecord(ExportModel):
    id: int
    organization: str | None
    district: str | None
    specialties: list[str]
    balance_hours: Decimal
    credits: list[CreditRecord]
    certificates: list[CertificateRecord]


class DemandRecord(ExportModel):
    id: int
    kind: str
    title: str
    status: str
    role: str = Field(description="contact (posted by or for them) or collector")
    created_at: datetime


class EntryRecord(ExportModel):
    id: int
    competition_id: int
    title: str
    status: str
    roles: list[str] = Field(description="leader, submitter")
    leader_name: str
    contact_email: str | None
    contact_phone: str | None
    created_at: datetime


class MeetingRecord(ExportModel):
    id: int
    event_id: int
    side: str = Field(description="requester or recipient")
    with_title: str
    status: str
    starts_at: datetime
    table_no: int
    message: str


class JudgeSeatRecord(ExportModel):
    id: int
    competition_id: int
    name: str
    email: str | None
    phone: str | None


class ObjectionRecord(ExportModel):
    id: int
    competition_id: int
    entry_id: int
    objector_name: str
    objector_contact: str
    reason: str
    status: str
    created_at: datetime


class ProfileOf(ExportModel):
    """Another record that names the person: an investor profile, an achievement they speak for."""

    kind: str
    id: int
    title: str


class MatchFeedbackRecord(ExportModel):
    subject: str
    item: str
    verdict: str
    at: datetime


class MessageRecord(ExportModel):
    id: int
    category: str
    channel: str
    status: str
    created_at: datetime
    sent_at: datetime | None


class ActivityRecord(ExportModel):
    id: int
    kind: str
    event_id: int | None
    registration_id: int | None
    created_at: datetime


class PersonExport(ExportModel):
    """Everything the platform holds about one person (PIPL art. 45: a copy, in a common format)."""

    exported_at: datetime
    notice_version: str
    profile: Profile
    registrations: list[RegistrationRecord]
    checkins: list[CheckinRecord]
    broker: BrokerRecord | None
    demands: list[DemandRecord]
    competition_entries: list[EntryRecord]
    meeting_requests: list[MeetingRecord]
    judge_seats: list[JudgeSeatRecord]
    objections: list[ObjectionRecord]
    linked_records: list[ProfileOf]
    match_feedback: list[MatchFeedbackRecord]
    messages: list[MessageRecord]
    activity: list[ActivityRecord]


def _consent(registration: Registration) -> tuple[datetime | None, str | None]:
    """The consent stored with a registration (the web form stores it; older registrations have none)."""
    return registration.consent_at, registration.consent_version


async def _person(person_id: int) -> Person:
    person = await Person.get_or_none(id=person_id).select_related("affiliation")
    if person is None:
        raise PersonNotFound()
    return person


async def export_person(person_id: int) -> PersonExport:
    """A copy of everything held about the person. Raises ``person_not_found``."""
    person = await _person(person_id)
    roles = await PersonRole.filter(person_id=person.id).order_by("id")
    registrations = await Registration.filter(person_id=person.id).select_related("event").order_by("id")
    registration_ids = [r.id for r in registrations]
    titles = {r.event_id: r.event.title for r in registrations}
    attendances = (
        await Attendance.filter(registration_id__in=registration_ids).order_by("checked_in_at")
        if registration_ids
        else []
    )
    missing = {a.event_id for a in attendances} - set(titles)
    if missing:  # a course pass opens its sessions' doors: those are other events
        titles |= dict(await Event.filter(id__in=missing).values_list("id", "title"))
    broker = await Broker.get_or_none(person_id=person.id)
    demands = await Demand.filter(Q(contact_id=person.id) | Q(collected_by_id=person.id)).order_by("id")
    entries = await Entry.filter(Q(leader_id=person.id) | Q(submitted_by_id=person.id)).order_by("id")
    participant_ids = cast("list[int]", await Participant.filter(person_id=person.id).values_list("id", flat=True))
    meetings = (
        await MeetingRequest.filter(Q(requester_id__in=participant_ids) | Q(recipient_id__in=participant_ids))
        .select_related("slot", "requester", "recipient")
        .order_by("id")
        if participant_ids
        else []
    )
    messages = await OutboxMessage.filter(person_id=person.id).order_by("id")
    judge_seats = await Judge.filter(person_id=person.id).order_by("id")
    objections = await Objection.filter(objector_id=person.id).order_by("id")
    linked = [
        ProfileOf(kind="investor", id=i.id, title=i.name)
        for i in await Investor.filter(person_id=person.id).order_by("id")
    ] + [
        ProfileOf(kind="achievement", id=a.id, title=a.title)
        for a in await Achievement.filter(contact_id=person.id).order_by("id")
    ]
    feedback = await MatchFeedback.filter(person_id=person.id).order_by("id")
    about = Q(person_id=person.id)
    if registration_ids:
        about |= Q(registration_id__in=registration_ids)
    facts = await Activity.filter(about).order_by("id")
    now = clock.now()
    return PersonExport(
        exported_at=now,
        notice_version=NOTICE_VERSION,
        profile=Profile(
            id=person.id,
            name=person.name,
            phone=person.phone,
            email=person.email,
            organization=person.organization,
            affiliation=person.affiliation.name if person.affiliation else None,
            telegram_id=person.telegram_id,
            language=person.language,
            preferences=Preferences(
                districts=list(person.pref_districts or []),
                topics=list(person.pref_topics or []),
                kinds=list(person.pref_kinds or []),
                opted_out=list(person.opted_out or []),
                quiet_start=person.quiet_start,
                quiet_end=person.quiet_end,
                calendar_alarm_minutes=person.calendar_alarm_minutes,
            ),
            roles=[f"{r.role}@{r.organization_id or 'default'}" for r in roles],
            created_at=person.created_at,
            erased_at=person.erased_at,
        ),
        registrations=[
            RegistrationRecord(
                id=r.id,
                event_id=r.event_id,
                event_title=r.event.title,
                event_starts_at=r.event.starts_at,
                event_venue=r.event.venue,
                status=str(r.status),
                name=r.name,
                phone=r.phone,
                email=r.email,
                organization=r.organization,
                answers=dict(r.answers or {}),
                source=r.source,
                consented_at=_consent(r)[0],
                consent_version=_consent(r)[1],
                created_at=r.created_at,
                confirmed_at=r.confirmed_at,
                cancelled_at=r.cancelled_at,
                anonymised_at=r.anonymised_at,
            )
            for r in registrations
        ],
        checkins=[
            CheckinRecord(
                registration_id=a.registration_id,
                event_id=a.event_id,
                event_title=titles.get(a.event_id, ""),
                day=a.day,
                checked_in_at=a.checked_in_at,
                checked_out_at=a.checked_out_at,
                gate=a.gate,
            )
            for a in attendances
        ],
        broker=await _broker_record(broker, now) if broker is not None else None,
        demands=[
            DemandRecord(
                id=d.id,
                kind=str(d.kind),
                title=d.title,
                status=str(d.status),
                role="contact" if d.contact_id == person.id else "collector",
                created_at=d.created_at,
            )
            for d in demands
        ],
        competition_entries=[
            EntryRecord(
                id=e.id,
                competition_id=e.competition_id,
                title=e.title,
                status=str(e.status),
                roles=[
                    role
                    for role, held in (("leader", e.leader_id), ("submitter", e.submitted_by_id))
                    if held == person.id
                ],
                leader_name=e.leader_name,
                contact_email=e.contact_email,
                contact_phone=e.contact_phone,
                created_at=e.created_at,
            )
            for e in entries
        ],
        meeting_requests=[_meeting_record(m, set(participant_ids)) for m in meetings],
        judge_seats=[
            JudgeSeatRecord(id=j.id, competition_id=j.competition_id, name=j.name, email=j.email, phone=j.phone)
            for j in judge_seats
        ],
        objections=[
            ObjectionRecord(
                id=o.id,
                competition_id=o.competition_id,
                entry_id=o.entry_id,
                objector_name=o.objector_name,
                objector_contact=o.objector_contact,
                reason=o.reason,
                status=str(o.status),
                created_at=o.created_at,
            )
            for o in objections
        ],
        linked_records=linked,
        match_feedback=[
            MatchFeedbackRecord(subject=f.subject, item=f.item, verdict=str(f.verdict), at=f.at) for f in feedback
        ],
        messages=[
            MessageRecord(
                id=m.id,
                category=str(m.category),
                channel="telegram",
                status=str(m.status),
                created_at=m.created_at,
                sent_at=m.sent_at,
            )
            for m in messages
        ],
        activity=[
            ActivityRecord(
                id=f.id, kind=f.kind, event_id=f.event_id, registration_id=f.registration_id, created_at=f.created_at
            )
            for f in facts
        ],
    )


def _meeting_record(meeting: MeetingRequest, mine: set[int]) -> MeetingRecord:
    asked = meeting.requester_id in mine
    other = meeting.recipient if asked else meeting.requester
    return MeetingRecord(
        id=meeting.id,
        event_id=meeting.requester.event_id,
        side="requester" if asked else "recipient",
        with_title=other.title,
        status=str(meeting.status),
        starts_at=meeting.slot.starts_at,
        table_no=meeting.table_no,
        message=meeting.message,
    )


async def _broker_record(broker: Broker, now: datetime) -> BrokerRecord:
    lines = await CreditEntry.filter(broker_id=broker.id).order_by("earned_at", "id")
    certificates = await Certification.filter(broker_id=broker.id).order_by("certified_at", "id")
    return BrokerRecord(
        id=broker.id,
        organization=broker.organization,
        district=broker.district,
        specialties=list(broker.specialties or []),
        balance_hours=hours_of(sum(line.hours_tenths for line in lines)),
        credits=[
            CreditRecord(
                id=line.id,
                hours=hours_of(line.hours_tenths),
                source=str(line.source),
                course_id=line.course_id,
                event_id=line.event_id,
                reason=line.reason,
                earned_at=line.earned_at,
            )
            for line in lines
        ],
        certificates=[
            CertificateRecord(
                number=c.number,
                level=str(c.level),
                round=c.round,
                certified_at=c.certified_at,
                expires_at=c.expires_at,
                status=certificate_status(c.state, c.expires_at, now),
            )
            for c in certificates
        ],
    )


# --- erasure -----------------------------------------------------------------------------------


class ErasureResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    person_id: int
    pseudonym: str
    already_erased: bool = Field(description="The person had been erased before; nothing new was found to remove.")
    registrations_cancelled: int = Field(description="Registrations of events still to come, cancelled.")
    registrations_anonymised: int
    messages_cancelled: int = Field(description="Messages to them not sent yet, now never sent.")
    erased_at: datetime


def _scrubbed_registration(name: str, now: datetime) -> dict[str, Any]:
    return {
        "name": name,
        "phone": None,
        "email": None,
        "organization": None,
        "telegram_id": None,
        "answers": {},
        "access_secret_hash": None,
        "access_seed": None,
        "calendar_token": None,
        "anonymised_at": now,
    }


async def erase_person(person_id: int, *, actor: str) -> ErasureResult:
    """Erase a person's data at their request (see the module's docstring for what goes and what stays).
    Idempotent: a second call finds nothing new and records nothing. Raises ``person_not_found``.
    """
    person = await _person(person_id)
    already = person.erased_at is not None
    name = pseudonym(person.id)
    telegram_id = person.telegram_id
    # Seats first, each through the cancel service: its lock, its counters, its promotion of the waitlist.
    cancelled = 0
    upcoming = cast(
        "list[int]",
        await Registration.filter(
            person_id=person.id, status__in=ACTIVE_STATUSES, event__ends_at__gt=clock.now()
        ).values_list("id", flat=True),
    )
    for registration_id in upcoming:
        try:
            await cancel_registration(registration_id, actor=actor, reason="privacy.erasure")
        except (AlreadyCancelled, InvalidTransition):  # cancelled or decided meanwhile: nothing to free
            continue
        cancelled += 1
    now = clock.now()
    async with in_transaction() as conn:
        old_name = person.name
        await (
            Person.filter(id=person.id)
            .using_db(conn)
            .update(
                name=name,
                phone=None,
                email=None,
                organization=None,
                affiliation_id=None,
                telegram_id=None,
                calendar_token=None,
                pref_districts=[],
                pref_topics=[],
                pref_kinds=[],
                opted_out=[],
                quiet_start=None,
                quiet_end=None,
                telegram_blocked_at=None,
                erased_at=person.erased_at or now,
            )
        )
        registration_ids = await Registration.filter(person_id=person.id).using_db(conn).values_list("id", flat=True)
        anonymised = (
            await Registration.filter(id__in=registration_ids, anonymised_at__isnull=True)
            .using_db(conn)
            .update(**_scrubbed_registration(name, now))
        )
        # Rows anonymised earlier by retention may still hold a link or a feed token: clear them too.
        await (
            Registration.filter(id__in=registration_ids)
            .using_db(conn)
            .update(name=name, access_secret_hash=None, access_seed=None, calendar_token=None, answers={})
        )
        await RegistrationLink.filter(registration_id__in=registration_ids).using_db(conn).delete()
        await PersonRole.filter(person_id=person.id).using_db(conn).delete()
        # The console account (its login is an address or a number), its sessions, links and sign-in
        # audit (addresses, browsers) go too; API tokens it made stay with the organization.
        await SigninAttempt.filter(account__person_id=person.id).using_db(conn).delete()
        await Account.filter(person_id=person.id).using_db(conn).delete()
        broker = await Broker.get_or_none(person_id=person.id, using_db=conn)
        if broker is not None and not already:
            # The ledger and the certificates stay with the broker row; the old transcript address dies.
            await (
                Broker.filter(id=broker.id)
                .using_db(conn)
                .update(organization=None, specialties=[], transcript_token=brokers.new_transcript_token())
            )
        await _scrub_copies(person.id, old_name, name, conn)
        messages_cancelled = (
            await OutboxMessage.filter(person_id=person.id, status__in=(OutboxStatus.QUEUED, OutboxStatus.SENDING))
            .using_db(conn)
            .update(status=OutboxStatus.SKIPPED, last_error=ERASED_NOTE, lease_until=None)
        )
        await OutboxMessage.filter(person_id=person.id).using_db(conn).update(text="", buttons=None, photo=None)
        if telegram_id is not None:
            await (
                BotState.filter(Q(key__contains=f":{telegram_id}:") | Q(key__endswith=f":{telegram_id}"))
                .using_db(conn)
                .delete()
            )
            await _rewrite_actor(f"telegram:{telegram_id}", f"person:{person.id}", conn)
        if not already:
            await activity.record(
                "privacy.erased",
                actor=actor,
                person_id=person.id,
                using_db=conn,
                registrations_cancelled=cancelled,
                registrations_anonymised=anonymised,
                messages_cancelled=messages_cancelled,
            )
    return ErasureResult(
        person_id=person.id,
        pseudonym=name,
        already_erased=already,
        registrations_cancelled=cancelled,
        registrations_anonymised=anonymised,
        messages_cancelled=messages_cancelled,
        erased_at=person.erased_at or now,
    )


async def _scrub_copies(person_id: int, old_name: str, name: str, conn: Any) -> None:
    """The person's name and contacts where other records copied them."""
    for entry in await Entry.filter(Q(leader_id=person_id) | Q(submitted_by_id=person_id)).using_db(conn):
        changes: dict[str, Any] = {"contact_email": None, "contact_phone": None, "email_domain": None}
        if entry.leader_id == person_id:
            changes["leader_name"] = name
        changes["team"] = [
            {**member, "name": name} if isinstance(member, dict) and member.get("name") == old_name else member
            for member in entry.team or []
        ]
        await Entry.filter(id=entry.id).using_db(conn).update(**changes)
    await Judge.filter(person_id=person_id).using_db(conn).update(name=name, email=None, phone=None)
    await Objection.filter(objector_id=person_id).using_db(conn).update(objector_name=name, objector_contact="")
    await Pitch.filter(presenter_id=person_id).using_db(conn).update(presenter_name=name)
    # An angel investor's profile, a guest at a roadshow: named after the person themselves.
    await Investor.filter(person_id=person_id, name=old_name).using_db(conn).update(name=name)
    await Participant.filter(person_id=person_id, title=old_name).using_db(conn).update(title=name)


async def _rewrite_actor(old: str, new: str, conn: Any) -> None:
    """Every column that names an actor, in every table: the Telegram id becomes the person's id."""
    for model in Tortoise.apps.get_models_iterable():
        for column in ACTOR_COLUMNS:
            field = model._meta.fields_map.get(column)
            if isinstance(field, CharField):
                await model.filter(**{column: old}).using_db(conn).update(**{column: new})


# --- retention ---------------------------------------------------------------------------------


class RetentionResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    cutoff: datetime = Field(description="Events that ended before this had their registrants' details removed.")
    events: int
    registrations: int
    messages: int
    dry_run: bool


async def purge_finished(older_than: timedelta, *, actor: str, dry_run: bool = False) -> RetentionResult:
    """Remove the registrants' details (name, contacts, answers, links) from registrations of events that
    ended more than ``older_than`` ago, and the texts of messages about those events; the rows stay for
    the counts. ``dry_run`` counts and changes nothing. Events not ended that long ago are never touched.
    Raises ``invalid_input`` for a period that is not positive.
    """
    if older_than <= timedelta(0):
        raise InvalidInput(N_("The retention period must be longer than zero."), field="older_than")
    cutoff = clock.now() - older_than
    event_ids = list(await Event.filter(ends_at__lt=cutoff).values_list("id", flat=True))
    due = Registration.filter(event_id__in=event_ids, anonymised_at__isnull=True)
    stale = (
        OutboxMessage.filter(event_id__in=event_ids)
        .exclude(text="")
        .exclude(status__in=(OutboxStatus.QUEUED, OutboxStatus.SENDING))
    )
    if dry_run or not event_ids:
        registrations = await due.count() if event_ids else 0
        messages = await stale.count() if event_ids else 0
        return RetentionResult(
            cutoff=cutoff, events=len(event_ids), registrations=registrations, messages=messages, dry_run=dry_run
        )
    now = clock.now()
    registrations = 0
    async with in_transaction() as conn:
        # The pseudonym is the person's: the same registrant reads the same on every old list.
        by_person: dict[int, list[int]] = {}
        for registration_id, person_id in await due.using_db(conn).values_list("id", "person_id"):
            by_person.setdefault(person_id, []).append(registration_id)
        for person_id, ids in by_person.items():
            registrations += (
                await Registration.filter(id__in=ids, anonymised_at__isnull=True)
                .using_db(conn)
                .update(**_scrubbed_registration(pseudonym(person_id), now))
            )
        linked = Registration.filter(event_id__in=event_ids).using_db(conn).values_list("id", flat=True)
        await RegistrationLink.filter(registration_id__in=await linked).using_db(conn).delete()
        messages = await stale.using_db(conn).update(text="", buttons=None, photo=None)
        if registrations or messages:
            await activity.record(
                "privacy.retention_purged",
                actor=actor,
                using_db=conn,
                cutoff=cutoff.isoformat(),
                events=len(event_ids),
                registrations=registrations,
                messages=messages,
            )
    return RetentionResult(
        cutoff=cutoff, events=len(event_ids), registrations=registrations, messages=messages, dry_run=False
    )
