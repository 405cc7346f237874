"""Events: create, change, publish, cancel, find. The rules about what an event may be live here."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import quote

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from events import clock
from events.districts import is_known as is_known_district
from events.errors import N_, CapacityBelowTaken, EventNotFound, InvalidInput, InvalidTransition
from events.models import Event, EventKind, EventStatus
from events.services import activity, organizations, paging
from events.services.locking import lock_event
from events.services.waitlist import fill_free_seats

MAX_CAPACITY = 100_000
MAX_EVENT_LENGTH = timedelta(days=62)
# Fields whose change people must hear about; calendars bump SEQUENCE for them.
MATERIAL_FIELDS = ("title", "starts_at", "ends_at", "venue", "address")


def _known_district(code: str | None) -> str | None:
    if code is not None and not is_known_district(code):
        raise ValueError(f"unknown district {code!r}; see /api/v1/districts")
    return code


def _clean_tags(tags: list[str]) -> list[str]:
    seen: list[str] = []
    for tag in tags:
        tag = tag.strip()
        if tag and tag not in seen:
            seen.append(tag)
    return seen


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30)]
District = Annotated[str | None, AfterValidator(_known_district)]
Series = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9][a-z0-9_-]{0,49}$")]


class Question(BaseModel):
    """One thing a registrant must (or may) answer, e.g. 所在单位性质 with choices."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    key: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,29}$")]
    label: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    label_en: Annotated[str, StringConstraints(max_length=100)] | None = None
    required: bool = True
    choices: Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=40)]], Field(max_length=10)] = []


def _unique_keys(questions: list[Question]) -> list[Question]:
    keys = [q.key for q in questions]
    if len(keys) != len(set(keys)):
        raise ValueError("question keys must be unique")
    return questions


Questions = Annotated[list[Question], Field(max_length=10), AfterValidator(_unique_keys)]


class _EventFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class EventInput(_EventFields):
    """What an organizer gives to create an event."""

    title: Annotated[Text, Field(max_length=200)]
    kind: EventKind
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    venue: Annotated[Text, Field(max_length=200)]
    capacity: Annotated[int, Field(ge=1, le=MAX_CAPACITY)] | None = None
    series: Series | None = None
    district: District = None
    tags: Annotated[list[Tag], Field(max_length=20), AfterValidator(_clean_tags)] = []
    host: Annotated[str, Field(max_length=200)] | None = None
    address: Annotated[str, Field(max_length=300)] | None = None
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None
    description: Annotated[str, Field(max_length=20_000)] = ""
    registration_opens_at: AwareDatetime | None = None
    registration_closes_at: AwareDatetime | None = None
    requires_approval: bool = False
    waitlist_enabled: bool = True
    questions: Questions = []
    # Minutes before the start at which registrants are reminded (default: a day and two hours).
    reminder_minutes: Annotated[list[Annotated[int, Field(ge=5, le=7 * 24 * 60)]], Field(max_length=5)] = [1440, 120]


class EventPatch(_EventFields):
    """A partial change; only the fields sent are changed (``null`` clears an optional one)."""

    title: Annotated[Text, Field(max_length=200)] | None = None
    kind: EventKind | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    venue: Annotated[Text, Field(max_length=200)] | None = None
    capacity: Annotated[int, Field(ge=1, le=MAX_CAPACITY)] | None = None
    series: Series | None = None
    district: District = None
    tags: Annotated[list[Tag], Field(max_length=20), AfterValidator(_clean_tags)] | None = None
    host: Annotated[str, Field(max_length=200)] | None = None
    address: Annotated[str, Field(max_length=300)] | None = None
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None
    description: Annotated[str, Field(max_length=20_000)] | None = None
    registration_opens_at: AwareDatetime | None = None
    registration_closes_at: AwareDatetime | None = None
    requires_approval: bool | None = None
    waitlist_enabled: bool | None = None
    questions: Questions | None = None
    reminder_minutes: Annotated[list[Annotated[int, Field(ge=5, le=7 * 24 * 60)]], Field(max_length=5)] | None = None


# Fields that may not be cleared to null by a patch.
_REQUIRED = frozenset(
    {
        "title",
        "kind",
        "starts_at",
        "ends_at",
        "venue",
        "tags",
        "description",
        "requires_approval",
        "waitlist_enabled",
        "questions",
        "reminder_minutes",
    }
)


def _check_times(values: dict[str, Any]) -> None:
    starts, ends = values["starts_at"], values["ends_at"]
    if ends <= starts:
        raise InvalidInput(N_("The event must end after it starts."), field="ends_at")
    if ends - starts > MAX_EVENT_LENGTH:
        raise InvalidInput(N_("An event may last at most 62 days."), field="ends_at")
    opens, closes = values.get("registration_opens_at"), values.get("registration_closes_at")
    if opens is not None and closes is not None and closes <= opens:
        raise InvalidInput(N_("Registration must close after it opens."), field="registration_closes_at")
    if closes is not None and closes > ends:
        raise InvalidInput(N_("Registration cannot close after the event ends."), field="registration_closes_at")
    if opens is not None and opens >= ends:
        raise InvalidInput(N_("Registration must open before the event ends."), field="registration_opens_at")


def event_page_path(event_id: int) -> str:
    """The event's public web page (the site: api/site.py); API.md's Event ``url`` is the base URL + this."""
    return f"/events/{event_id}"


def map_url(event: Event) -> str:
    """Amap (高德), the map people in Wuhan open: a marker at the coordinates, else a search of the place
    (the site, the bot and e-mails link the same map)."""
    if event.latitude is not None and event.longitude is not None:
        return (
            f"https://uri.amap.com/marker?position={event.longitude},{event.latitude}"
            f"&name={quote(event.venue)}&src=wuchuang&callnative=0"
        )
    place = " ".join(part for part in (event.venue, event.address) if part)
    return f"https://uri.amap.com/search?keyword={quote(place)}&city=420100&src=wuchuang&callnative=0"


def new_public_id() -> str:
    return secrets.token_urlsafe(8).replace("-", "x").replace("_", "y")[:10]


def effective_status(event: Event, now: datetime | None = None) -> EventStatus:
    """A published event whose end has passed is shown as finished; nothing has to flip it."""
    if event.status == EventStatus.PUBLISHED and event.ends_at <= (now or clock.now()):
        return EventStatus.FINISHED
    return EventStatus(event.status)


async def create_event(data: EventInput, *, actor: str, organization_id: int | None = None) -> Event:
    """Create a draft event owned by ``organization_id`` (None: the default organization).
    Raises ``invalid_input`` for inconsistent times.
    """
    values = data.model_dump()
    _check_times(values)
    if organization_id is None:
        organization_id = await organizations.default_organization_id()
    async with in_transaction() as conn:
        event = await Event.create(
            **values, public_id=new_public_id(), created_by=actor, organization_id=organization_id, using_db=conn
        )
        await activity.record("event.created", actor=actor, event_id=event.id, using_db=conn)
    return event


async def get_event(
    event_id: int, *, include_unpublished: bool = False, scope: organizations.Scope = organizations.EVERYTHING
) -> Event:
    """Raises ``event_not_found``, also for a draft the caller may not see: drafts are seen with
    ``include_unpublished`` within ``scope`` only; published events by everyone.
    """
    event = await Event.get_or_none(id=event_id)
    if event is None:
        raise EventNotFound()
    if event.status == EventStatus.DRAFT and not (include_unpublished and scope.covers(event.organization_id)):
        raise EventNotFound()
    return event


async def get_event_by_public_id(public_id: str) -> Event:
    event = await Event.get_or_none(public_id=public_id)
    if event is None or event.status == EventStatus.DRAFT:
        raise EventNotFound()
    return event


async def update_event(event_id: int, patch: EventPatch, *, actor: str) -> Event:
    """Change an event. A material change bumps ``sequence`` and is logged as ``event.changed``;
    a larger capacity promotes the waitlist. Raises ``event_not_found``, ``invalid_transition``
    (cancelled event), ``capacity_below_taken``, ``invalid_input``.
    """
    sent = patch.model_dump(exclude_unset=True)
    for field, value in sent.items():
        if value is None and field in _REQUIRED:
            raise InvalidInput(N_("%(field)s cannot be empty."), field=field)
    async with in_transaction() as conn:
        event = await lock_event(conn, event_id)
        if event.status == EventStatus.CANCELLED:
            raise InvalidTransition(status=str(event.status))
        merged = {f: getattr(event, f) for f in EventInput.model_fields} | sent
        _check_times(merged)
        if merged["capacity"] is not None and merged["capacity"] < event.seats_taken:
            raise CapacityBelowTaken(taken=event.seats_taken)
        changes = {f: (getattr(event, f), v) for f, v in sent.items() if getattr(event, f) != v}
        if not changes:
            return event
        for field, (_, new) in changes.items():
            setattr(event, field, new)
        material = [f for f in MATERIAL_FIELDS if f in changes]
        if material:
            event.sequence += 1
        await event.save(using_db=conn)
        if material and event.status == EventStatus.PUBLISHED:
            await activity.record(
                "event.changed",
                actor=actor,
                event_id=event.id,
                using_db=conn,
                changes={f: [_jsonable(changes[f][0]), _jsonable(changes[f][1])] for f in material},
            )
        if "capacity" in changes or "waitlist_enabled" in changes:
            await fill_free_seats(conn, event, actor=actor)
    return event


async def publish_event(event_id: int, *, actor: str) -> Event:
    """Draft → published. Raises ``invalid_transition`` from any other status."""
    async with in_transaction() as conn:
        event = await lock_event(conn, event_id)
        if event.status == EventStatus.PUBLISHED:
            return event
        if event.status != EventStatus.DRAFT:
            raise InvalidTransition(status=str(event.status))
        event.status = EventStatus.PUBLISHED
        event.published_at = clock.now()
        await event.save(update_fields=["status", "published_at", "updated_at"], using_db=conn)
        await activity.record("event.published", actor=actor, event_id=event.id, using_db=conn)
    return event


async def cancel_event(event_id: int, *, actor: str, reason: str = "") -> Event:
    """Cancel a draft or published event; registrations stay for the record and are told.
    Raises ``invalid_transition`` when already cancelled or finished.
    """
    async with in_transaction() as conn:
        event = await lock_event(conn, event_id)
        status = effective_status(event)
        if status not in (EventStatus.DRAFT, EventStatus.PUBLISHED):
            raise InvalidTransition(status=str(status))
        event.status = EventStatus.CANCELLED
        event.cancelled_at = clock.now()
        event.sequence += 1
        await event.save(update_fields=["status", "cancelled_at", "sequence", "updated_at"], using_db=conn)
        await activity.record("event.cancelled", actor=actor, event_id=event.id, using_db=conn, reason=reason)
    return event


# Which events a list shows by default: those not yet over, soonest first. "past" lists the ended
# ones, latest first; "all" every event in start order (the default when ``from``/``to`` is given).
When = Literal["upcoming", "past", "all"]
_ORDERS: dict[str, tuple[str, ...]] = {
    "upcoming": ("starts_at", "id"),
    "past": ("-starts_at", "-id"),
    "all": ("starts_at", "id"),
}


@dataclass(frozen=True, slots=True)
class EventQuery:
    kind: EventKind | None = None
    series: str | None = None
    district: str | None = None
    status: EventStatus | None = None
    starts_from: datetime | None = None
    starts_to: datetime | None = None
    q: str | None = None
    tag: str | None = None
    when: When | None = None
    limit: int = 20
    cursor: str | None = None

    def window(self) -> When:
        """``when`` as asked; unset: "all" within ``from``/``to``, "past" for finished events, else "upcoming"."""
        if self.when is not None:
            return self.when
        if self.starts_from is not None or self.starts_to is not None:
            return "all"
        return "past" if self.status == EventStatus.FINISHED else "upcoming"


async def list_events(
    query: EventQuery, *, include_unpublished: bool = False, scope: organizations.Scope = organizations.EVERYTHING
) -> paging.Page[Event]:
    """Events, filtered, one keyset page at a time (with the total): by default those not yet over,
    soonest first (``when``: "past" the ended ones, latest first; "all" every one in start order).
    The public sees published ones; ``include_unpublished`` adds the drafts and cancelled events
    within ``scope``.

    ``starts_from`` keeps events still running at that time (they end after it); ``starts_to``
    keeps events starting before it. Raises ``invalid_input`` (field ``cursor``) for a forged
    cursor or one of another list or ``when``.
    """
    now = clock.now()
    qs = Event.all()
    public = Q(status__in=[EventStatus.PUBLISHED, EventStatus.FINISHED])
    if not include_unpublished:
        qs = qs.filter(public)
    elif not scope.everything:
        qs = qs.filter(public | Q(organization_id=scope.organization_id))
    if query.status is not None:
        if query.status == EventStatus.FINISHED:
            qs = qs.filter(Q(status=EventStatus.FINISHED) | Q(status=EventStatus.PUBLISHED, ends_at__lte=now))
        elif query.status == EventStatus.PUBLISHED:
            qs = qs.filter(status=EventStatus.PUBLISHED, ends_at__gt=now)
        else:
            qs = qs.filter(status=query.status)
    for field in ("kind", "series", "district"):
        value = getattr(query, field)
        if value is not None:
            qs = qs.filter(**{field: value})
    if query.starts_from is not None:
        qs = qs.filter(ends_at__gt=query.starts_from)
    if query.starts_to is not None:
        qs = qs.filter(starts_at__lt=query.starts_to)
    if query.q:
        for word in query.q.split()[:5]:
            qs = qs.filter(Q(title__icontains=word) | Q(description__icontains=word) | Q(host__icontains=word))
    when = query.window()
    if when == "upcoming":
        qs = qs.filter(ends_at__gt=now)
    elif when == "past":
        qs = qs.filter(ends_at__lte=now)
    if query.tag:
        # Tags are a JSON list: "contains" is @> on PostgreSQL and has no portable form on SQLite, so
        # the ids are picked here from the rows the other filters left (a year's programme, not more).
        wanted = query.tag.strip()
        tagged = await qs.values_list("id", "tags")
        qs = qs.filter(id__in=[event_id for event_id, tags in tagged if wanted in (tags or [])])
    order = _ORDERS[when]
    list_name = f"events:{when}"
    after = paging.after(qs, list_name, order, query.cursor)  # refuses a bad cursor before any query
    total = await qs.count()
    rows = await after.order_by(*order).limit(query.limit + 1)
    return paging.page(rows, list_name, order, query.limit, total=total)


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
