"""Reading the activity log by cursor and deciding who hears about what.

Each batch of facts and the cursor that marks them read are written in one transaction, so a
crash re-reads the batch; the outbox's dedup keys make that re-reading harmless.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from tortoise.transactions import in_transaction

from events import clock, districts, labels
from events.db import ROWS_AT_ONCE, dialect_of
from events.db import conn as default_db
from events.errors import N_
from events.i18n import format_date, format_when, gettext, locale_of
from events.models import (
    ACTIVE_STATUSES,
    Activity,
    Broadcast,
    BrokerLevel,
    Category,
    Certification,
    CreditEntry,
    CreditSource,
    Cursor,
    Demand,
    Event,
    Investor,
    Person,
    Registration,
    RegistrationStatus,
)
from events.services import broadcasts, courses
from events.services.catalog import event_page_path
from events.services.certification import LEVEL_NAMES, assessment_after
from events.services.posters import deep_link
from notifications.competitions import CompetitionProducer
from notifications.limits import Limits
from notifications.log_tail import LogTail
from notifications.meetings import MeetingProducer
from notifications.opportunities import OpportunityProducer, enqueue_matched_opportunity
from notifications.outbox import CONTACT_FIELDS, Contact, Queued, enqueue, enqueue_many, reachable, sent_this_week
from notifications.render import render
from notifications.roadshows import RoadshowProducer

__all__ = ["Limits", "Producer", "enqueue_matched_opportunity"]

CURSOR = "notifications"
# In a batch's loaded registrations: one whose person nobody can reach with what its facts tell.
_UNREACHABLE = cast(Registration, object())
# One batch is one write transaction. On SQLite every other writer waits for it: kept short. PostgreSQL
# writers do not wait on it, and a batch's fixed cost (the cursor, the reads, BEGIN and COMMIT: ~8 round
# trips and their SQL built by the ORM) was most of the producer's CPU in a rush of 50-fact batches.
BATCH = 50
BATCH_POSTGRES = 500


def _batch() -> int:
    return BATCH if dialect_of(default_db()) == "sqlite" else BATCH_POSTGRES


def _when(event: Event, person: Person) -> str:
    return format_when(event.starts_at, event.ends_at, locale_of(person.language))


def _event_button(
    event: Event, person: Person, bot_username: str | None, *, waitlist: bool = False, public_url: str | None = None
) -> list[list[dict[str, str]]] | None:
    """The bot's deep link that registers in the chat, and (with ``public_url``) the event's web page."""
    locale = locale_of(person.language)
    rows: list[list[dict[str, str]]] = []
    if bot_username:
        label = N_("View and join the waitlist") if waitlist else N_("View and register")
        rows.append([{"text": gettext(locale, label), "url": deep_link(bot_username, event)}])
    if public_url:
        rows.append(
            [{"text": "🌐 " + gettext(locale, N_("Event page")), "url": public_url + event_page_path(event.id)}]
        )
    return rows or None


Context = Callable[[Activity, Registration, Event, Person, Any], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True, slots=True)
class Told:
    """What one kind of fact tells the person of a registration (or, ``to_all``, every registrant of
    its event): the template, its extra context (None: nothing to tell), the outbox category and the
    dedup key (formatted with ``fact``, ``event``, ``person``, ``registration`` ids).
    """

    template: str
    category: Category
    dedup: str
    context: Context
    to_all: bool = False
    ticket: bool = False  # the ticket goes with it (a seat is now the person's)
    channel: str | None = None  # None: Telegram when linked, else e-mail; "email": by mail only


async def _confirmed(
    fact: Activity, registration: Registration, event: Event, person: Person, conn: Any
) -> dict[str, Any] | None:
    approved = bool(fact.payload.get("approved"))
    # In the bot the person got the ticket in the chat already; tell only API registrants and approvals.
    if registration.source == "bot" and not approved:
        return None
    return {"when": _when(event, person), "approved": approved}


async def _resent(
    fact: Activity, registration: Registration, event: Event, person: Person, conn: Any
) -> dict[str, Any] | None:
    if registration.status != RegistrationStatus.CONFIRMED:
        return None  # cancelled since it was asked for
    return {"when": _when(event, person), "approved": False}


async def _waitlisted(
    fact: Activity, registration: Registration, event: Event, person: Person, conn: Any
) -> dict[str, Any] | None:
    approved = bool(fact.payload.get("approved"))
    # The bot showed the place in the chat already; others (the API, the web) hear it, with their link.
    if registration.source == "bot" and not approved:
        return None
    position = (
        await Registration.filter(
            event_id=event.id,
            status=RegistrationStatus.WAITLISTED,
            waitlist_order__lte=registration.waitlist_order or 0,
        )
        .using_db(conn)
        .count()
    )
    return {"position": position, "approved": approved}


async def _pending(
    fact: Activity, registration: Registration, event: Event, person: Person, conn: Any
) -> dict[str, Any] | None:
    return None if registration.source == "bot" else {}


# Actors that are the registrant themselves (the API without a token, the web page of the access link,
# the bot); anyone else cancelling is the organizers.
SELF_ACTORS = ("registrant:", "web:", "telegram:")


async def _cancelled(
    fact: Activity, registration: Registration, event: Event, person: Person, conn: Any
) -> dict[str, Any] | None:
    if fact.actor.startswith("telegram:"):
        return None  # cancelled in the bot, which said so there
    by_organizer = not fact.actor.startswith(SELF_ACTORS)
    return {"by_organizer": by_organizer, "reason": str(fact.payload.get("reason") or "")[:500]}


async def _link_requested(
    fact: Activity, registration: Registration, event: Event, person: Person, conn: Any
) -> dict[str, Any] | None:
    # The registration the link was asked for is still the person's (not cancelled since).
    return {} if registration.status in ACTIVE_STATUSES else None


async def _with_when(
    fact: Activity, registration: Registration, event: Event, person: Person, conn: Any
) -> dict[str, Any]:
    return {"when": _when(event, person)}


async def _with_reason(
    fact: Activity, registration: Registration, event: Event, person: Person, conn: Any
) -> dict[str, Any]:
    return {"reason": fact.payload.get("reason", "")}


TOLD: dict[str, Told] = {
    "registration.confirmed": Told(
        "registration_confirmed", Category.REGISTRATION_CONFIRMED, "confirmed:registration:{registration}",
        _confirmed, ticket=True,
    ),
    "registration.pending": Told(
        "registration_pending", Category.REGISTRATION_CONFIRMED, "pending:registration:{registration}", _pending
    ),
    "registration.cancelled": Told(
        "registration_cancelled", Category.REGISTRATION_CONFIRMED, "cancelled:registration:{registration}",
        _cancelled,
    ),
    "registration.link_requested": Told(
        "link_requested", Category.REGISTRATION_CONFIRMED, "link:{fact}", _link_requested, channel="email"
    ),
    "registration.waitlisted": Told(
        "registration_waitlisted", Category.REGISTRATION_CONFIRMED, "approved:registration:{registration}", _waitlisted
    ),
    "registration.rejected": Told(
        "registration_rejected", Category.REGISTRATION_CONFIRMED, "rejected:registration:{registration}", _with_reason
    ),
    "waitlist.promoted": Told(
        "waitlist_promoted", Category.WAITLIST_PROMOTED, "promoted:registration:{registration}", _with_when,
        ticket=True,
    ),
    # An organizer sent the ticket again (the console): the confirmation with the current code, once per ask.
    "ticket.resent": Told(
        "registration_confirmed", Category.REGISTRATION_CONFIRMED, "resent:{fact}", _resent, ticket=True,
    ),
    "event.changed": Told(
        "event_changed", Category.EVENT_CHANGED, "changed:{fact}:registration:{registration}", _with_when, to_all=True
    ),
    "event.cancelled": Told(
        "event_cancelled", Category.EVENT_CANCELLED, "cancelled:event:{event}:person:{person}", _with_reason,
        to_all=True,
    ),
}  # fmt: skip

# Facts the producer has a method of its own for.
HANDLERS = {
    "event.published": "_published",
    "broadcast.created": "_broadcast",
    "credit.granted": "_credit",
    "broker.certified": "_certified",
    "certification.suspended": "_certification_changed",
    "certification.reinstated": "_certification_changed",
    "certification.revoked": "_certification_changed",
    "demand.follow_up_overdue": "_follow_up_overdue",
    "investor.verified": "_investor_verified",
}
# Every kind of fact that may tell somebody something; the others (check-ins, edits, …) are passed over.
TELLING_KINDS = frozenset(
    {
        *TOLD,
        *HANDLERS,
        *OpportunityProducer.KINDS,
        *CompetitionProducer.KINDS,
        *MeetingProducer.KINDS,
        *RoadshowProducer.KINDS,
    }
)


class Producer:
    def __init__(
        self, *, limits: Limits | None = None, bot_username: str | None = None, public_url: str | None = None
    ) -> None:
        self.limits = limits or Limits()
        self.bot_username = bot_username
        # Set: announcements carry a button to the event's web page too (the site, issue #16).
        self.public_url = public_url
        self.opportunities = OpportunityProducer(self.limits)
        self.competitions = CompetitionProducer()
        self.meetings = MeetingProducer()
        self.roadshows = RoadshowProducer()
        self._loaded: dict[int, Registration | None] = {}
        self.tail = LogTail()

    async def run_once(self) -> int:
        """Turn the next batch of facts into outbox rows; returns how many facts were read."""
        # What needs matching is matched before the transaction (see OpportunityProducer.prepare); the
        # transaction then reads no fact beyond the ones prepared.
        start = await Cursor.get_or_none(name=CURSOR)
        size = _batch()
        # Ids and kinds only: the facts that tell somebody something are read whole once, in the
        # transaction (a batch of a rush is hundreds of registrations and check-ins, and a model per fact
        # was a third of the producer's CPU; a check-in tells nobody).
        ahead = await self.tail.ahead(start.position if start else 0, size)
        if not ahead:
            return 0
        to_match = [id_ for id_, kind in ahead if kind in OpportunityProducer.KINDS]
        await self.opportunities.prepare(await Activity.filter(id__in=to_match).order_by("id") if to_match else [])
        told = [id_ for id_, kind in ahead if kind in TELLING_KINDS]
        last = ahead[-1][0]
        async with in_transaction() as conn:
            cursor, _ = await Cursor.get_or_create(name=CURSOR, defaults={"position": 0}, using_db=conn)
            if cursor.position >= last:
                return 0  # another producer read them meanwhile
            facts = (
                await Activity.filter(id__in=told, id__gt=cursor.position).order_by("id").using_db(conn) if told else []
            )
            # The registrations the batch's facts are about, with their event and person: one query
            # for the batch instead of one per fact.
            self._loaded = await _registrations_of(facts, conn)
            for fact in facts:
                await self._handle(fact, conn)
            cursor.position = last
            await cursor.save(using_db=conn)
        return len(ahead)

    async def drain(self, stop: asyncio.Event | None = None, *, caught_up_when_short: bool = False) -> int:
        """Read facts batch by batch until none is left, or until ``stop`` is set (between batches: a
        server asked to stop does not wait for a backlog).

        ``caught_up_when_short`` (the worker's tick): a batch shorter than a full one ends the drain. In
        a rush facts keep coming: read one by one as they came, each batch a handful, the batches' fixed
        cost (the cursor, the reads, BEGIN and COMMIT) took a third of the server's CPU at the door; the
        next tick (a second later) reads them hundreds at a time.
        """
        total = 0
        while (stop is None or not stop.is_set()) and (read := await self.run_once()):
            total += read
            if caught_up_when_short and read < _batch():
                break
        return total

    async def _handle(self, fact: Activity, conn: Any) -> None:
        if (told := TOLD.get(fact.kind)) is not None:
            await self._tell(fact, told, conn)
            return
        if fact.kind in OpportunityProducer.KINDS:
            await self.opportunities.handle(fact, conn)
            return
        if fact.kind in CompetitionProducer.KINDS:
            await self.competitions.handle(fact, conn)
            return
        if fact.kind in MeetingProducer.KINDS:
            await self.meetings.handle(fact, conn)
            return
        if fact.kind in RoadshowProducer.KINDS:
            await self.roadshows.handle(fact, conn)
            return
        if (method := HANDLERS.get(fact.kind)) is not None:
            await getattr(self, method)(fact, conn)

    async def _tell(self, fact: Activity, told: Told, conn: Any) -> None:
        """One message per registration the fact is about: its own, or every registrant's of its event."""
        if told.to_all:
            event = await Event.get_or_none(id=fact.event_id, using_db=conn)
            if event is None:
                return
            # Who holds a place (the same people the console counts; a course enrollment hears of the
            # session that changed), in batches: a hall may be 10,000.
            async for batch in broadcasts.registrants_in_batches(event.id, conn):
                for registration in batch:
                    await self._tell_one(fact, told, registration, event, conn)
            return
        registration_id = _registration_id(fact)
        found = self._loaded.get(registration_id) if registration_id is not None else None
        if found is _UNREACHABLE:
            return  # its person has no channel that carries this (see _registrations_of)
        if found is None and registration_id is not None and registration_id not in self._loaded:
            found = await Registration.get_or_none(id=registration_id, using_db=conn).select_related("event", "person")
        if found is not None:
            await self._tell_one(fact, told, found, found.event, conn)

    async def _tell_one(self, fact: Activity, told: Told, registration: Registration, event: Event, conn: Any) -> None:
        person = registration.person
        if not reachable(person, told.category, channel=told.channel):
            return  # enqueue would write nothing: spare the context its queries
        extra = await told.context(fact, registration, event, person, conn)
        if extra is None:
            return
        ids = {"fact": fact.id, "event": event.id, "person": person.id, "registration": registration.id}
        await enqueue(
            person,
            told.category,
            dedup_key=told.dedup.format(**ids),
            text=render(told.template, person.language, event=event, **extra),
            event_id=event.id,
            photo={"ticket_registration_id": registration.id} if told.ticket else None,
            # A mail is composed when sent (its link, QR and calendar file made then): the recipe.
            mail={"template": told.template, "context": extra, "registration_id": registration.id},
            channel=told.channel,
            using_db=conn,
        )

    async def _broadcast(self, fact: Activity, conn: Any) -> None:
        broadcast = await Broadcast.get_or_none(id=fact.payload.get("broadcast_id"), using_db=conn)
        if broadcast is None or broadcast.cancelled_at is not None:
            return
        event = await Event.get(id=broadcast.event_id, using_db=conn)
        # In batches: a hall of 10,000 at once would be 20,000 ORM objects in the sending process.
        async for batch in broadcasts.registrants_in_batches(event.id, conn, audience=broadcast.audience):
            for registration in batch:
                person = registration.person
                await enqueue(
                    person,
                    Category.BROADCAST,
                    dedup_key=f"broadcast:{broadcast.id}:person:{person.id}",
                    text=render("broadcast", person.language, event=event, text=broadcast.text),
                    event_id=event.id,
                    broadcast_id=broadcast.id,
                    using_db=conn,
                )

    async def _credit(self, fact: Activity, conn: Any) -> None:
        """A ledger line: the hours, what for, and where the broker stands after it."""
        person = await _person_of(fact, conn)
        entry_id = fact.payload.get("entry_id")
        if person is None or not isinstance(entry_id, int):
            return
        entry = await CreditEntry.get_or_none(id=entry_id, using_db=conn).select_related("course", "item")
        assessment = await assessment_after(entry_id, conn)
        if entry is None or assessment is None:
            return
        locale = locale_of(person.language)
        if entry.item is not None:
            what = entry.item.title + (f" · {entry.course.title}" if entry.course is not None else "")
        else:
            what = entry.course.title if entry.course is not None else ""
        if entry.reason:  # grants and corrections say why
            what = f"{entry.reason} ({what})" if what else entry.reason
        progress = assessment.next
        text = render(
            "credit_granted",
            locale,
            hours=_signed(Decimal(entry.hours_tenths) / 10),
            what=what[:200],
            correction=entry.source == CreditSource.CORRECTION,
            total=_hours(assessment.total),
            progress=progress,
            level=gettext(locale, LEVEL_NAMES[progress.level]) if progress else "",
            have=_hours(progress.hours_have) if progress else "",
            need=_hours(progress.hours_required) if progress else "",
            courses_done=len(progress.courses_done) if progress else 0,
            courses_required=len(progress.courses_required) if progress else 0,
        )
        await enqueue(
            person,
            Category.CREDITS,
            dedup_key=f"credit:{entry.id}",
            text=text,
            event_id=entry.event_id,
            using_db=conn,
        )

    async def _certified(self, fact: Activity, conn: Any) -> None:
        person = await _person_of(fact, conn)
        broker_id, level, rnd = fact.payload.get("broker_id"), fact.payload.get("level"), fact.payload.get("round", 1)
        if person is None or level not in {lv.value for lv in BrokerLevel}:
            return
        cert = await Certification.get_or_none(broker_id=broker_id, level=level, round=rnd, using_db=conn)
        if cert is None:
            return
        locale = locale_of(person.language)
        text = render(
            "broker_certified",
            locale,
            level=gettext(locale, LEVEL_NAMES[BrokerLevel(level)]),
            renewal=cert.round > 1,
            date=format_date(cert.certified_at, locale),
            until=format_date(cert.expires_at, locale) if cert.expires_at else "",
            hours=_hours(Decimal(cert.hours_tenths) / 10),
            number=cert.number or "",
        )
        await enqueue(
            person,
            Category.CREDITS,
            dedup_key=f"certified:{broker_id}:{level}:{cert.round}",
            text=text,
            using_db=conn,
        )

    async def _investor_verified(self, fact: Activity, conn: Any) -> None:
        """The person behind an investor profile hears it was verified (once per profile)."""
        person = await _person_of(fact, conn)
        investor = await Investor.get_or_none(id=fact.payload.get("investor_id"), using_db=conn)
        if person is None or investor is None or not investor.verified:
            return
        await enqueue(
            person,
            Category.MEETING,  # the profile is what roadshows and their meetings read
            dedup_key=f"investor_verified:{investor.id}",
            text=render("investor_verified", person.language, name=investor.name),
            urgent=False,
            using_db=conn,
        )

    async def _certification_changed(self, fact: Activity, conn: Any) -> None:
        """A certificate suspended or reinstated by the ledger, or revoked or reinstated by an admin.
        Told as it was at that moment (the payload), whatever happened to it since.
        """
        person = await _person_of(fact, conn)
        payload = fact.payload
        level = payload.get("level")
        if person is None or level not in {lv.value for lv in BrokerLevel}:
            return
        change = fact.kind.removeprefix("certification.")
        if change == "reinstated" and payload.get("suspended"):
            return  # back from revocation but below the line: the suspension that follows tells it
        locale = locale_of(person.language)
        text = render(
            "certification_changed",
            locale,
            change=change,
            level=gettext(locale, LEVEL_NAMES[BrokerLevel(level)]),
            number=payload.get("number") or "",
            admin=payload.get("by") == "admin",
            entry=payload.get("entry_id"),
            have=_hours(Decimal(str(payload.get("hours") or 0))),
            need=_hours(Decimal(str(payload.get("hours_required") or 0))),
            reason=str(payload.get("reason") or "")[:200],
        )
        await enqueue(person, Category.CREDITS, dedup_key=f"certification:{fact.id}", text=text, using_db=conn)

    async def _follow_up_overdue(self, fact: Activity, conn: Any) -> None:
        """The broker holding a demand is past its follow-up date: one message per overdue fact (the
        service writes one per follow-up period), while they still hold it.
        """
        person = await _person_of(fact, conn)
        demand = await Demand.get_or_none(id=fact.payload.get("demand_id"), using_db=conn)
        if person is None or demand is None or demand.broker_id != fact.payload.get("broker_id"):
            return
        locale = locale_of(person.language)
        due = demand.follow_up_due
        await enqueue(
            person,
            Category.DEMAND_FOLLOW_UP,
            dedup_key=f"follow_up:{fact.id}",
            text=render(
                "demand_follow_up",
                locale,
                demand=demand,
                kind=labels.demand_kind(demand.kind, locale),
                due=format_date(due, locale) if due else "",
            ),
            using_db=conn,
        )

    async def _published(self, fact: Activity, conn: Any) -> None:
        """Invite people whose preferences match, at most ``invitations_per_week`` each."""
        event = await Event.get_or_none(id=fact.event_id, using_db=conn)
        # Only events people can still register for are worth an invitation.
        if event is None or event.status != "published" or event.starts_at <= clock.now():
            return
        # A course session is entered with the course's pass: people are invited to the course.
        if event.kind == "training" and await courses.course_event_of_session(event.id, conn):
            return
        closes = event.registration_closes_at or event.starts_at
        if closes <= clock.now():
            return
        full = event.capacity is not None and event.seats_taken >= event.capacity
        if full and not event.waitlist_enabled:
            # Nobody invited could take part: an invitation would only use up their weekly allowance.
            return
        registered = set(
            await Registration.filter(event_id=event.id).using_db(conn).values_list("person_id", flat=True)
        )
        seats_left = None if event.capacity is None else max(0, event.capacity - event.seats_taken)
        people = [
            person
            for person in await Person.filter(telegram_id__not_isnull=True, telegram_blocked_at__isnull=True).using_db(
                conn
            )
            if person.id not in registered and reachable(person, Category.INVITATION) and matches(event, person)
        ]
        # Counted for everyone at once (this batch's earlier invitations included: the same transaction).
        sent = await sent_this_week([p.id for p in people], Category.INVITATION, using_db=conn)
        # One text and one set of buttons per language, however many people read it.
        texts: dict[str, tuple[str, list[list[dict[str, str]]] | None]] = {}
        invitations = []
        for person in people:
            if sent[person.id] >= self.limits.invitations_per_week:
                continue
            if person.language not in texts:
                texts[person.language] = (
                    render(
                        "invitation",
                        person.language,
                        event=event,
                        when=_when(event, person),
                        district=districts.label(event.district, locale_of(person.language)),
                        seats_left=seats_left,
                        waitlist=full,
                    ),
                    _event_button(event, person, self.bot_username, waitlist=full, public_url=self.public_url),
                )
            text, buttons = texts[person.language]
            key = f"invitation:event:{event.id}:person:{person.id}"
            invitations.append(Queued(person, key, text, event_id=event.id, buttons=buttons))
        await enqueue_many(Category.INVITATION, invitations, using_db=conn)


def _registration_id(fact: Activity) -> int | None:
    found = fact.registration_id or fact.payload.get("registration_id")
    return found if isinstance(found, int) else None


async def _registrations_of(facts: list[Activity], conn: Any) -> dict[int, Registration | None]:
    """Registration id → the registration (event and person loaded; None when gone) for every fact of
    the batch told to one registration."""
    ids = {
        found
        for fact in facts
        if (told := TOLD.get(fact.kind)) is not None and not told.to_all
        if (found := _registration_id(fact)) is not None
    }
    if not ids:
        return {}
    # First what decides whether anyone can hear of it at all (most registrants of a rush give a phone
    # alone: no chat, no mailbox); the registrations, events and people are loaded for the rest only.
    contacts = await (
        Registration.filter(id__in=ids).using_db(conn).values("id", *(f"person__{field}" for field in CONTACT_FIELDS))
    )
    told_to: dict[int, list[Told]] = {}
    for fact in facts:
        if (told := TOLD.get(fact.kind)) is not None and not told.to_all and (found := _registration_id(fact)):
            told_to.setdefault(found, []).append(told)
    wanted = set()
    for row in contacts:
        person = Contact(*(_json_list(row[f"person__{field}"]) for field in CONTACT_FIELDS))
        if any(reachable(person, told.category, channel=told.channel) for told in told_to.get(row["id"], [])):
            wanted.add(row["id"])
    loaded: dict[int, Registration | None] = dict.fromkeys(ids)
    loaded |= {row["id"]: _UNREACHABLE for row in contacts if row["id"] not in wanted}
    ordered = sorted(wanted)
    for start in range(0, len(ordered), ROWS_AT_ONCE):
        chunk = ordered[start : start + ROWS_AT_ONCE]
        rows = await Registration.filter(id__in=chunk).select_related("event", "person").using_db(conn)
        loaded |= {row.id: row for row in rows}
    return loaded


def _json_list(value: Any) -> Any:
    """A JSON column read through a relation in ``values`` may come as its text."""
    return json.loads(value) if isinstance(value, str) and value.startswith("[") else value


async def _person_of(fact: Activity, conn: Any) -> Person | None:
    return await Person.get_or_none(id=fact.person_id, using_db=conn) if fact.person_id else None


def _hours(value: Decimal) -> str:
    """3, 3.5, 40: no trailing zeros, no exponent."""
    return f"{value.normalize():f}"


def _signed(value: Decimal) -> str:
    return ("+" if value > 0 else "") + _hours(value)


def matches(event: Event, person: Person) -> bool:
    """Empty preference lists mean "anything"; otherwise the event must fit each list given."""
    if person.pref_districts and event.district not in person.pref_districts:
        return False
    if person.pref_kinds and str(event.kind) not in person.pref_kinds:
        return False
    return not person.pref_topics or any(tag in person.pref_topics for tag in event.tags)
