"""iCalendar (RFC 5545) feeds: everything published, a series, a district, one event, one person.

UIDs never change for an event; SEQUENCE follows the event's ``sequence`` (bumped on every change of
time, place or title, and on cancellation); a cancelled event stays in feeds, marked CANCELLED, for
30 days, so subscribed calendars remove it instead of silently keeping a stale entry.

Feeds are rendered from the database each time the data changed; a cheap fingerprint query
(count and newest change) decides whether a cached body and its ETag can be reused.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import re
import threading
import time
import zoneinfo
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from icalendar import Calendar
from icalendar import Event as VEvent
from tortoise.expressions import Q
from tortoise.functions import Count, Max
from tortoise.queryset import QuerySet
from tortoise.signals import post_delete, post_save

from events import changes, clock, districts, secretbox
from events.errors import N_, InvalidInput, NotFound
from events.models import (
    Event,
    EventKind,
    EventStatus,
    MeetingRequest,
    MeetingStatus,
    Person,
    Registration,
    RegistrationStatus,
)
from events.services import courses
from events.services.catalog import event_page_path
from events.services.roadshows import lineup
from events.services.roadshows import requests as meeting_requests
from events.services.waitlist import COUNTERS

CANCELLED_KEPT_FOR = timedelta(days=30)
FEED_PURPOSE = "calendar-feed"
PRODID = "-//wuchuang//武创荟 events//ZH"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
VEVENT_CACHE_SIZE = 20_000  # rendered VEVENTs a renderer keeps
FINGERPRINT_TTL = 2.0  # seconds a public feed's fingerprint is reused (responses say max-age=300 anyway)
FINGERPRINT_SCOPES = 4096  # remembered fingerprints before the memo is emptied
FOLD_AT = 75  # octets per content line, RFC 5545 3.1
KIND_LABELS = {"session": "武创荟", "competition": "大赛", "roadshow": "路演", "fair": "对接会", "training": "培训"}


_LIVE = (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED, RegistrationStatus.PENDING)


class FeedNotFound(NotFound):
    code = "feed_not_found"
    message = N_("No such calendar feed.")


@dataclass(frozen=True, slots=True)
class Feed:
    body: bytes
    etag: str
    last_modified: datetime | None


@dataclass(frozen=True, slots=True)
class FeedScope:
    """Which events a public feed holds, and its name."""

    key: str
    name: str
    series: str | None = None
    district: str | None = None
    event_id: int | None = None


def _clean(text: str | None) -> str:
    return _CONTROL.sub("", text or "")


# RFC 5545 3.3.11 TEXT escaping and _clean's control characters removed, in one str.translate.
_TEXT = str.maketrans(
    {"\\": "\\\\", ";": "\\;", ",": "\\,", "\n": "\\n", "\r": "\\n"}
    | {chr(c): None for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)}
)


def _text(value: str | None) -> str:
    """A TEXT value: control characters dropped, escaped; CRLF, LF and a lone CR become ``\\n``."""
    if not value:
        return ""
    if "\r" in value:
        value = _clean(value).replace("\r\n", "\n")
    return value.translate(_TEXT)


def _fold(line: bytes) -> bytes:
    """A content line longer than 75 octets split at character boundaries, continued with CRLF + space."""
    parts = []
    start, limit, size = 0, FOLD_AT, len(line)
    while size - start > limit:
        end = start + limit
        while line[end] & 0xC0 == 0x80:  # never cut inside a UTF-8 sequence
            end -= 1
        parts.append(line[start:end])
        start, limit = end, FOLD_AT - 1  # the leading space counts
    parts.append(line[start:])
    return b"\r\n ".join(parts)


def _lines(lines: list[str]) -> bytes:
    """Content lines as UTF-8, folded, each ending in CRLF."""
    out = []
    for line in lines:
        encoded = line.encode()
        out.append(_fold(encoded) if len(encoded) > FOLD_AT else encoded)
    out.append(b"")
    return b"\r\n".join(out)


def _stamp(moment: datetime) -> str:
    return (
        f"{moment.year:04d}{moment.month:02d}{moment.day:02d}T{moment.hour:02d}{moment.minute:02d}{moment.second:02d}"
    )


def _utc(moment: datetime) -> str:
    """A DATE-TIME in UTC (a naive one is taken as UTC, as the database stores it)."""
    moment = moment.astimezone(UTC) if moment.tzinfo is not None else moment
    return _stamp(moment) + "Z"


def _param(value: str) -> str:
    return f'"{value}"' if any(c in value for c in ":;,") else value


@functools.cache
def _vtimezone(timezone: str) -> bytes:
    """The VTIMEZONE block icalendar's add_missing_timezones writes for ``timezone`` (empty when it
    writes none, as for UTC)."""
    cal = Calendar()
    probe = VEvent()
    probe.add("dtstart", datetime(2000, 1, 1, tzinfo=zoneinfo.ZoneInfo(timezone)))
    cal.add_component(probe)
    cal.add_missing_timezones()
    body = b"".join(tz.to_ical() for tz in cal.walk("VTIMEZONE"))
    return body if not body or body.endswith(b"\r\n") else body + b"\r\n"


# Bumped whenever an event is saved (beyond its seat counters, which no feed shows) or deleted, so a
# remembered fingerprint is dropped at once: in this process, and with REDIS_URL in every worker.
CHANGES = "events"
# What a registration writes on the event: not in any feed (nor in the fingerprint, which reads
# updated_at), and not worth a round trip to Redis inside the event's lock.
_UNSEEN_FIELDS = frozenset(COUNTERS)


async def _event_changed(*_: Any, update_fields: Any = None, **__: Any) -> None:
    # Bumped inside the saving transaction (Tortoise has no after-commit hook): a worker that reads the
    # fingerprint between this and the commit remembers the old one, for FINGERPRINT_TTL at most.
    if update_fields and set(update_fields) <= _UNSEEN_FIELDS:
        return
    await changes.bump(CHANGES)


post_save(Event)(_event_changed)
post_delete(Event)(_event_changed)


def _visible(now: datetime) -> Q:
    """Published events, and cancelled ones for 30 days after their cancellation."""
    return Q(status__in=[EventStatus.PUBLISHED, EventStatus.FINISHED]) | Q(
        status=EventStatus.CANCELLED, cancelled_at__gte=now - CANCELLED_KEPT_FOR
    )


async def scope_for_series(series: str) -> FeedScope:
    """Raises ``feed_not_found`` for a series no published event has ever had."""
    if not await Event.filter(series=series).exclude(status=EventStatus.DRAFT).exists():
        raise FeedNotFound()
    return FeedScope(key=f"series:{series}", name=f"武创荟 · {series}", series=series)


def scope_for_district(code: str) -> FeedScope:
    name = districts.label(code, "zh")
    if not name:
        raise FeedNotFound()
    return FeedScope(key=f"district:{code}", name=f"科创活动 · {name}", district=code)


def scope_all() -> FeedScope:
    return FeedScope(key="all", name="武创荟 · 科技创新活动")


async def scope_for_event(event_id: int) -> FeedScope:
    event = await Event.get_or_none(id=event_id)
    if event is None or event.status == EventStatus.DRAFT:
        raise FeedNotFound()
    return FeedScope(key=f"event:{event_id}", name=event.title, event_id=event_id)


class FeedRenderer:
    """Renders feeds for one deployment (its zone and public URL) and remembers recent ones.

    Each VEVENT's text is written directly (no icalendar components) and kept, keyed by what it
    depends on, so rebuilding a feed after one change renders one event again. Concurrent requests
    for the same feed wait for one build, which runs in a worker thread so the event loop keeps
    serving; the fingerprint of a public feed is reused for ``FINGERPRINT_TTL`` seconds.
    """

    def __init__(
        self, *, base_url: str, timezone: str, cache_size: int = 64, vevent_cache_size: int = VEVENT_CACHE_SIZE
    ) -> None:
        self.base_url = base_url
        self.tz = zoneinfo.ZoneInfo(timezone)
        self.timezone = timezone
        self._cache: OrderedDict[tuple[Any, ...], Feed] = OrderedDict()
        self._cache_size = cache_size
        self._building: dict[tuple[Any, ...], asyncio.Future[Feed]] = {}
        # scope key -> (date, invalidation generation, monotonic time, feed key)
        self._fingerprints: dict[str, tuple[date, tuple[int, int], float, tuple[Any, ...]]] = {}
        self._vevents: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._vevent_cache_size = vevent_cache_size
        self._vevent_lock = threading.Lock()
        self._vtimezone = _vtimezone(timezone)
        # DTSTART/DTEND as local time with a TZID, or in UTC for a zone icalendar gives no VTIMEZONE
        self._tzid_param = ";TZID=" + _param(timezone) + ":" if self._vtimezone else ":"
        self._local: Callable[[datetime], str] = _stamp if self._vtimezone else _utc

    def _cached(self, key: tuple[Any, ...]) -> Feed | None:
        feed = self._cache.get(key)
        if feed is not None:
            self._cache.move_to_end(key)
        return feed

    def _store(self, key: tuple[Any, ...], feed: Feed) -> None:
        self._cache[key] = feed
        self._cache.move_to_end(key)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    async def _obtain(
        self,
        key: tuple[Any, ...],
        load: Callable[[], Awaitable[list[Event]]],
        name: str,
        statuses: dict[int, RegistrationStatus],
        alarm_minutes: int | None,
        meetings: tuple[list[MeetingRequest], int] | None = None,
    ) -> Feed:
        """The cached feed for ``key``, or one build shared by every request that asks meanwhile."""
        feed = self._cached(key)
        if feed is not None:
            return feed
        building = self._building.get(key)
        if building is None:

            async def build() -> Feed:
                events = await load()  # Tortoise stays on the event loop; the CPU-bound part does not
                lineups = await _lineups(events)
                built = await asyncio.to_thread(
                    self._render, name, events, statuses, alarm_minutes, cached=True, meetings=meetings, lineups=lineups
                )
                self._store(key, built)
                return built

            building = asyncio.ensure_future(build())
            self._building[key] = building
            building.add_done_callback(lambda done: self._built(key, done))
        # shield: a client that goes away does not cancel the build the others wait for
        return await asyncio.shield(building)

    def _built(self, key: tuple[Any, ...], done: asyncio.Future[Feed]) -> None:
        if self._building.get(key) is done:
            del self._building[key]
        if not done.cancelled():
            done.exception()  # retrieved here too, in case every waiter went away

    async def public_feed(self, scope: FeedScope) -> Feed:
        now = clock.now()
        today = now.date()

        def query() -> QuerySet[Event]:  # built only when a query runs: a remembered fingerprint needs none
            qs = Event.filter(_visible(now))
            if scope.series is not None:
                qs = qs.filter(series=scope.series)
            if scope.district is not None:
                qs = qs.filter(district=scope.district)
            if scope.event_id is not None:
                qs = qs.filter(id=scope.event_id)
            return qs

        remembered = self._fingerprints.get(scope.key)
        generation = await changes.current(CHANGES)
        if (
            remembered is not None
            and remembered[0] == today
            and remembered[1] == generation
            and time.monotonic() - remembered[2] < FINGERPRINT_TTL
        ):
            key = remembered[3]
        else:
            taken = time.monotonic()
            # The fingerprint changes whenever any event in the feed changes, appears or leaves.
            stats = await query().annotate(n=Count("id"), newest=Max("updated_at")).first().values("n", "newest")
            key = (scope.key, stats["n"] if stats else 0, stats["newest"] if stats else None, today)
            if len(self._fingerprints) >= FINGERPRINT_SCOPES:
                self._fingerprints.clear()
            self._fingerprints[scope.key] = (today, generation, taken, key)

        async def load() -> list[Event]:
            return await query().order_by("starts_at", "id")

        return await self._obtain(key, load, scope.name, {}, None)

    async def person_feed(self, token: str) -> Feed:
        """A person's own registrations: confirmed ones, waitlisted/pending as TENTATIVE, with an alarm;
        or, for a registration's own token, that one registration alone (with its own alarm).
        Raises ``feed_not_found`` for an unknown or rotated token.
        """
        # Tokens are capabilities derived from a stored seed (the database holds no usable token).
        seed = secretbox.current().seed_of(FEED_PURPOSE, token) if token and len(token) <= 64 else None
        if seed is None:
            raise FeedNotFound()
        person = await Person.get_or_none(calendar_token=seed)
        if person is not None:
            registrations = await Registration.filter(person_id=person.id, status__in=_LIVE).select_related("event")
            owner: tuple[str, int] = ("person", person.id)
            name, alarm = person.name, person.calendar_alarm_minutes
            # The person's 1:1 meetings at roadshows, and those cancelled lately (marked CANCELLED).
            meetings = await meeting_requests.for_calendar(person.id, since=clock.now() - CANCELLED_KEPT_FOR)
        else:
            registration = await Registration.get_or_none(calendar_token=seed).select_related("event")
            if registration is None:
                raise FeedNotFound()
            registrations = [registration] if registration.status in _LIVE else []
            owner = ("registration", registration.id)
            name, alarm = registration.name, registration.calendar_alarm_minutes
            meetings = []
        return await self._registrations_feed(owner, token, name, alarm, registrations, meetings)

    async def _registrations_feed(
        self,
        owner: tuple[str, int],
        token: str,
        name: str,
        alarm: int,
        registrations: list[Registration],
        meetings: list[MeetingRequest],
    ) -> Feed:
        now = clock.now()
        entries = [
            r
            for r in registrations
            if r.event.status != EventStatus.DRAFT
            and (r.event.status != EventStatus.CANCELLED or (r.event.cancelled_at or now) >= now - CANCELLED_KEPT_FOR)
        ]
        # A confirmed course enrollment puts every session of the course in the calendar too.
        sessions = await courses.sessions_of_course_events(
            [
                r.event.id
                for r in entries
                if r.event.kind == EventKind.TRAINING and r.status == RegistrationStatus.CONFIRMED
            ]
        )
        sessions = [
            s
            for s in sessions
            if s.status != EventStatus.CANCELLED or (s.cancelled_at or now) >= now - CANCELLED_KEPT_FOR
        ]
        key = (
            *owner,
            token,
            alarm,
            now.date(),
            tuple(sorted((r.id, str(r.status), r.updated_at, r.event.updated_at) for r in entries)),
            tuple(sorted((s.id, s.updated_at) for s in sessions)),
            tuple((m.id, str(m.status), m.decided_at, m.session.event.updated_at) for m in meetings),
        )
        statuses = {r.event.id: RegistrationStatus(r.status) for r in entries}
        for session in sessions:
            statuses.setdefault(session.id, RegistrationStatus.CONFIRMED)
        by_id = {s.id: s for s in sessions} | {r.event.id: r.event for r in entries}
        events = sorted(by_id.values(), key=lambda e: (e.starts_at, e.id))

        async def load() -> list[Event]:
            return events

        person_id = owner[1] if owner[0] == "person" else 0
        return await self._obtain(key, load, f"我的活动 · {name}", statuses, alarm, (meetings, person_id))

    def _render(
        self,
        name: str,
        events: list[Event],
        statuses: dict[int, RegistrationStatus],
        alarm_minutes: int | None,
        *,
        cached: bool = False,
        meetings: tuple[list[MeetingRequest], int] | None = None,
        lineups: dict[int, tuple[str, ...]] | None = None,
    ) -> Feed:
        """The whole feed. ``cached`` reuses (and keeps) each event's VEVENT text; without it every
        event is rendered afresh (what a renderer with an empty cache costs)."""
        head = _lines(
            [
                "BEGIN:VCALENDAR",
                "VERSION:2.0",
                "PRODID:" + _text(PRODID),
                "CALSCALE:GREGORIAN",
                "METHOD:PUBLISH",
                "X-WR-CALNAME:" + _text(name),
                "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
                "X-PUBLISHED-TTL:PT1H",
                "X-WR-TIMEZONE:" + _text(self.timezone),
            ]
        )
        parts = [head]
        held, person_id = meetings or ([], 0)
        if events or held:  # as add_missing_timezones did: a VTIMEZONE only when some DTSTART refers to it
            parts.append(self._vtimezone)
        lineups = lineups or {}
        if cached:
            parts += [self._cached_vevent(e, statuses.get(e.id), alarm_minutes, lineups.get(e.id, ())) for e in events]
        else:
            parts += [self._vevent(e, statuses.get(e.id), alarm_minutes, lineups.get(e.id, ())) for e in events]
        parts += [self._meeting_vevent(m, person_id, alarm_minutes) for m in held]
        parts.append(b"END:VCALENDAR\r\n")
        body = b"".join(parts)
        newest = max([*(e.updated_at for e in events), *(m.decided_at or m.created_at for m in held)], default=None)
        return Feed(body=body, etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"', last_modified=newest)

    def event_file(self, event: Event, registration_status: RegistrationStatus | None = None) -> bytes:
        """One event as an ``.ics`` file (METHOD:PUBLISH) for a mail attachment: the feeds' UID and
        SEQUENCE, so a calendar that imported an earlier file updates its entry instead of adding one."""
        statuses = {event.id: registration_status} if registration_status is not None else {}
        return self._render(event.title, [event], statuses, None).body

    def _cached_vevent(
        self,
        event: Event,
        registration_status: RegistrationStatus | None,
        alarm_minutes: int | None,
        lineup: tuple[str, ...] = (),
    ) -> bytes:
        key = (
            event.id,
            event.updated_at,
            event.sequence,
            str(event.status),
            str(registration_status) if registration_status is not None else None,
            alarm_minutes or None,
            lineup,
        )
        vevents = self._vevents
        text = vevents.get(key)
        if text is not None:
            with self._vevent_lock:
                if key in vevents:
                    vevents.move_to_end(key)
            return text
        text = self._vevent(event, registration_status, alarm_minutes, lineup)
        with self._vevent_lock:
            vevents[key] = text
            while len(vevents) > self._vevent_cache_size:
                vevents.popitem(last=False)
        return text

    def _vevent(
        self,
        event: Event,
        registration_status: RegistrationStatus | None,
        alarm_minutes: int | None,
        lineup: tuple[str, ...] = (),
    ) -> bytes:
        """One VEVENT, CRLF-terminated and folded. A roadshow's line-up goes in its description, one pitch a
        line: a subscriber sees the programme in the one entry they added, and one VEVENT per pitch would
        crowd their calendar with entries they cannot register for."""
        url = self.base_url + event_page_path(event.id)
        tz, tzid, local = self.tz, self._tzid_param, self._local
        title = _text(event.title)
        cancelled = event.status == EventStatus.CANCELLED
        if cancelled:
            status = "CANCELLED"
        elif registration_status in (RegistrationStatus.WAITLISTED, RegistrationStatus.PENDING):
            status = "TENTATIVE"
        else:
            status = "CONFIRMED"
        lines = [event.description] if event.description else []
        if event.host:
            lines.append(f"主办 Host: {event.host}")
        if registration_status == RegistrationStatus.WAITLISTED:
            lines.append("候补中 On the waitlist")
        elif registration_status == RegistrationStatus.PENDING:
            lines.append("待审核 Awaiting approval")
        if lineup:
            lines.append("路演项目 Line-up:\n" + "\n".join(lineup))
        lines.append(f"报名 Register: {url}")
        updated = _utc(event.updated_at)
        out = [
            "BEGIN:VEVENT",
            f"UID:{_text(f'event-{event.public_id}@wuchuang')}",
            f"DTSTAMP:{updated}",
            f"CREATED:{_utc(event.created_at)}",
            f"LAST-MODIFIED:{updated}",
            f"SEQUENCE:{int(event.sequence)}",
            f"DTSTART{tzid}{local(event.starts_at.astimezone(tz))}",
            f"DTEND{tzid}{local(event.ends_at.astimezone(tz))}",
            f"SUMMARY:{title}",
            f"STATUS:{status}",
            "DESCRIPTION:" + "\\n\\n".join(map(_text, lines)),
        ]
        location = ", ".join(part for part in (_clean(event.venue), _clean(event.address)) if part)
        if location:
            out.append(f"LOCATION:{_text(location)}")
        if event.latitude is not None and event.longitude is not None:
            out.append(f"GEO:{float(event.latitude)};{float(event.longitude)}")
        out.append(f"URL:{url}")
        kind = str(event.kind)
        categories = [_text(KIND_LABELS.get(kind, kind))] + [_text(t) for t in event.tags if t]
        out.append("CATEGORIES:" + ",".join(categories))
        out.append("TRANSP:OPAQUE")
        if alarm_minutes and not cancelled:
            out += [
                "BEGIN:VALARM",
                "ACTION:DISPLAY",
                f"DESCRIPTION:{title}",
                f"TRIGGER:-PT{int(alarm_minutes)}M",
                "END:VALARM",
            ]
        out.append("END:VEVENT")
        return _lines(out)

    def _meeting_vevent(self, meeting: MeetingRequest, person_id: int, alarm_minutes: int | None) -> bytes:
        """A 1:1 meeting in its owner's feed: the slot's time, the table, the other side. Its UID never
        changes; cancelling it bumps SEQUENCE and marks it CANCELLED, so calendar apps drop it."""
        mine = meeting.requester.person_id == person_id
        other = meeting.recipient if mine else meeting.requester
        event = meeting.session.event
        tzid, local = self._tzid_param, self._local
        name = other.person.name if other.person and other.person.name != other.title else ""
        side = other.title + (f"（{name}）" if name else "")
        cancelled = meeting.status == MeetingStatus.CANCELLED or event.status == EventStatus.CANCELLED
        title = _text(f"1:1 洽谈 Meeting · {side}")
        lines = [f"{event.title}", f"对方 With: {side}", f"第 {meeting.table_no} 桌 Table {meeting.table_no}"]
        if meeting.message:
            lines.append(meeting.message)
        # Answers are conditional updates, which leave ``updated_at`` alone: the last answer's time it is.
        updated = _utc(meeting.decided_at or meeting.created_at)
        out = [
            "BEGIN:VEVENT",
            f"UID:meeting-{meeting.id}@wuchuang",
            f"DTSTAMP:{updated}",
            f"CREATED:{_utc(meeting.created_at)}",
            f"LAST-MODIFIED:{updated}",
            f"SEQUENCE:{1 if cancelled else 0}",
            f"DTSTART{tzid}{local(meeting.slot.starts_at.astimezone(self.tz))}",
            f"DTEND{tzid}{local(meeting.slot.ends_at.astimezone(self.tz))}",
            f"SUMMARY:{title}",
            f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
            "DESCRIPTION:" + "\\n".join(map(_text, lines)),
            "LOCATION:"
            + _text(
                ", ".join(p for p in (_clean(event.venue), f"第 {meeting.table_no} 桌 Table {meeting.table_no}") if p)
            ),
            "CATEGORIES:" + _text("洽谈"),
            "TRANSP:OPAQUE",
        ]
        if alarm_minutes and not cancelled:
            out += [
                "BEGIN:VALARM",
                "ACTION:DISPLAY",
                f"DESCRIPTION:{title}",
                f"TRIGGER:-PT{int(alarm_minutes)}M",
                "END:VALARM",
            ]
        out.append("END:VEVENT")
        return _lines(out)


async def _lineups(events: list[Event]) -> dict[int, tuple[str, ...]]:
    """The line-up lines of the roadshows and fairs among ``events`` (one query)."""
    ids = [e.id for e in events if e.kind in (EventKind.ROADSHOW, EventKind.FAIR)]
    found = await lineup.lineups(ids)
    return {event_id: tuple(lineup.describe(p) for p in pitches) for event_id, pitches in found.items()}


def webcal_url(url: str) -> str:
    """The subscribe form of a feed's URL (``webcal://host/path``): calendar apps open it and follow it."""
    return "webcal://" + url.split("://", 1)[-1]


def feed_links(base_url: str, path: str) -> dict[str, str]:
    """A feed's download and subscribe URLs: ``{"url": ..., "webcal_url": ...}``."""
    url = f"{base_url}{path}"
    return {"url": url, "webcal_url": webcal_url(url)}


def person_feed_path(token: str) -> str:
    return f"/calendar/me/{token}.ics"


def event_feed_path(event_id: int) -> str:
    return f"/calendar/events/{event_id}.ics"


async def calendar_token(person_id: int) -> str:
    """The person's feed token, made on first request.

    The database keeps only the token's seed; the token is derived from it with the at-rest key.
    """
    person = await Person.get(id=person_id)
    if person.calendar_token is None:
        return await rotate_calendar_token(person_id)
    return secretbox.current().capability(FEED_PURPOSE, person.calendar_token)


async def rotate_calendar_token(person_id: int) -> str:
    """A new feed token; the old URL answers 404 from now on."""
    seed = secretbox.new_seed()
    await Person.filter(id=person_id).update(calendar_token=seed)
    return secretbox.current().capability(FEED_PURPOSE, seed)


def _check_alarm(minutes: int) -> None:
    if not 0 <= minutes <= 7 * 24 * 60:
        raise InvalidInput(N_("The reminder must be between 0 minutes and 7 days before."), field="minutes")


async def set_alarm_minutes(person_id: int, minutes: int) -> None:
    _check_alarm(minutes)
    await Person.filter(id=person_id).update(calendar_alarm_minutes=minutes)


# A registration's own feed: what its access token may reach. It shows that registration and nothing
# of its person's (who may be someone the token's holder only claimed to be, or linked it to later).


async def registration_calendar_token(registration_id: int) -> str:
    """The registration's own feed token, made on first request."""
    registration = await Registration.get(id=registration_id)
    if registration.calendar_token is None:
        return await rotate_registration_calendar_token(registration_id)
    return secretbox.current().capability(FEED_PURPOSE, registration.calendar_token)


async def rotate_registration_calendar_token(registration_id: int) -> str:
    """A new feed token for the registration; the old URL answers 404 from now on."""
    seed = secretbox.new_seed()
    await Registration.filter(id=registration_id).update(calendar_token=seed)
    return secretbox.current().capability(FEED_PURPOSE, seed)


async def set_registration_alarm_minutes(registration_id: int, minutes: int) -> None:
    """Raises ``invalid_input`` outside 0 minutes to 7 days."""
    _check_alarm(minutes)
    await Registration.filter(id=registration_id).update(calendar_alarm_minutes=minutes)
