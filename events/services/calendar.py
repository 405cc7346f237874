"""iCalendar (RFC 5545) feeds: everything published, a series, a district, one event, one person.

UIDs never change for an event; SEQUENCE follows the event's ``sequence`` (bumped on every change of
time, place or title, and on cancellation); a cancelled event stays in feeds, marked CANCELLED, for
30 days, so subscribed calendars remove it instead of silently keeping a stale entry.

Feeds are rendered from the database each time the data changed; a cheap fingerprint query
(count and newest change) decides whether a cached body and its ETag can be reused.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import zoneinfo
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from icalendar import Alarm, Calendar
from icalendar import Event as VEvent
from tortoise.expressions import Q
from tortoise.functions import Count, Max

from events import clock
from events.districts import BY_CODE
from events.errors import N_, InvalidInput, NotFound
from events.models import Event, EventStatus, Person, Registration, RegistrationStatus

CANCELLED_KEPT_FOR = timedelta(days=30)
PRODID = "-//wuchuang//武创荟 events//ZH"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
KIND_LABELS = {"session": "武创荟", "competition": "大赛", "roadshow": "路演", "fair": "对接会", "training": "培训"}


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
    district = BY_CODE.get(code)
    if district is None:
        raise FeedNotFound()
    return FeedScope(key=f"district:{code}", name=f"科创活动 · {district.name}", district=code)


def scope_all() -> FeedScope:
    return FeedScope(key="all", name="武创荟 · 科技创新活动")


async def scope_for_event(event_id: int) -> FeedScope:
    event = await Event.get_or_none(id=event_id)
    if event is None or event.status == EventStatus.DRAFT:
        raise FeedNotFound()
    return FeedScope(key=f"event:{event_id}", name=event.title, event_id=event_id)


class FeedRenderer:
    """Renders feeds for one deployment (its zone and public URL) and remembers recent ones."""

    def __init__(self, *, base_url: str, timezone: str, cache_size: int = 64) -> None:
        self.base_url = base_url
        self.tz = zoneinfo.ZoneInfo(timezone)
        self.timezone = timezone
        self._cache: OrderedDict[tuple[Any, ...], Feed] = OrderedDict()
        self._cache_size = cache_size

    def _remember(self, key: tuple[Any, ...], build: Any) -> Feed:
        feed = self._cache.get(key)
        if feed is None:
            feed = build()
            self._cache[key] = feed
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return feed

    async def public_feed(self, scope: FeedScope) -> Feed:
        now = clock.now()
        qs = Event.filter(_visible(now))
        if scope.series is not None:
            qs = qs.filter(series=scope.series)
        if scope.district is not None:
            qs = qs.filter(district=scope.district)
        if scope.event_id is not None:
            qs = qs.filter(id=scope.event_id)
        # The fingerprint changes whenever any event in the feed changes, appears or leaves.
        stats = await qs.annotate(n=Count("id"), newest=Max("updated_at")).first().values("n", "newest")
        key = (scope.key, stats["n"] if stats else 0, stats["newest"] if stats else None, now.date())
        if key in self._cache:
            return self._remember(key, None)
        events = await qs.order_by("starts_at", "id")
        return self._remember(key, lambda: self._render(scope.name, events, {}, None))

    async def person_feed(self, token: str) -> Feed:
        """A person's own registrations: confirmed ones, waitlisted/pending as TENTATIVE, with an alarm.
        Raises ``feed_not_found`` for an unknown or rotated token.
        """
        if not token or len(token) > 64:
            raise FeedNotFound()
        person = await Person.get_or_none(calendar_token=token)
        if person is None:
            raise FeedNotFound()
        now = clock.now()
        registrations = await Registration.filter(
            person_id=person.id,
            status__in=[RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED, RegistrationStatus.PENDING],
        ).select_related("event")
        entries = [
            r
            for r in registrations
            if r.event.status != EventStatus.DRAFT
            and (r.event.status != EventStatus.CANCELLED or (r.event.cancelled_at or now) >= now - CANCELLED_KEPT_FOR)
        ]
        key = (
            "person",
            person.id,
            token,
            person.calendar_alarm_minutes,
            now.date(),
            tuple(sorted((r.id, str(r.status), r.updated_at, r.event.updated_at) for r in entries)),
        )
        statuses = {r.event.id: RegistrationStatus(r.status) for r in entries}
        events = sorted((r.event for r in entries), key=lambda e: (e.starts_at, e.id))
        return self._remember(
            key, lambda: self._render(f"我的活动 · {person.name}", events, statuses, person.calendar_alarm_minutes)
        )

    def _render(
        self, name: str, events: list[Event], statuses: dict[int, RegistrationStatus], alarm_minutes: int | None
    ) -> Feed:
        cal = Calendar()
        cal.add("prodid", PRODID)
        cal.add("version", "2.0")
        cal.add("calscale", "GREGORIAN")
        cal.add("method", "PUBLISH")
        cal.add("x-wr-calname", _clean(name))
        cal.add("x-wr-timezone", self.timezone)
        cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
        cal.add("x-published-ttl", "PT1H")
        for event in events:
            cal.add_component(self._vevent(event, statuses.get(event.id), alarm_minutes))
        cal.add_missing_timezones()
        body = cal.to_ical()
        newest = max((e.updated_at for e in events), default=None)
        return Feed(body=body, etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"', last_modified=newest)

    def _vevent(
        self, event: Event, registration_status: RegistrationStatus | None, alarm_minutes: int | None
    ) -> VEvent:
        url = f"{self.base_url}/api/v1/events/{event.id}"
        vevent = VEvent()
        vevent.add("uid", f"event-{event.public_id}@wuchuang")
        vevent.add("dtstamp", event.updated_at)
        vevent.add("created", event.created_at)
        vevent.add("last-modified", event.updated_at)
        vevent.add("sequence", event.sequence)
        vevent.add("dtstart", event.starts_at.astimezone(self.tz))
        vevent.add("dtend", event.ends_at.astimezone(self.tz))
        vevent.add("summary", _clean(event.title))
        cancelled = event.status == EventStatus.CANCELLED
        if cancelled:
            status = "CANCELLED"
        elif registration_status in (RegistrationStatus.WAITLISTED, RegistrationStatus.PENDING):
            status = "TENTATIVE"
        else:
            status = "CONFIRMED"
        vevent.add("status", status)
        lines = [_clean(event.description)] if event.description else []
        if event.host:
            lines.append(f"主办 Host: {_clean(event.host)}")
        if registration_status == RegistrationStatus.WAITLISTED:
            lines.append("候补中 On the waitlist")
        elif registration_status == RegistrationStatus.PENDING:
            lines.append("待审核 Awaiting approval")
        lines.append(f"报名 Register: {url}")
        vevent.add("description", "\n\n".join(lines))
        location = ", ".join(part for part in (_clean(event.venue), _clean(event.address)) if part)
        if location:
            vevent.add("location", location)
        if event.latitude is not None and event.longitude is not None:
            vevent.add("geo", (event.latitude, event.longitude))
        vevent.add("url", url)
        categories = [KIND_LABELS.get(str(event.kind), str(event.kind))] + [_clean(t) for t in event.tags if t]
        vevent.add("categories", categories)
        vevent.add("transp", "OPAQUE")
        if alarm_minutes and not cancelled:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", _clean(event.title))
            alarm.add("trigger", timedelta(minutes=-alarm_minutes))
            vevent.add_component(alarm)
        return vevent


async def calendar_token(person_id: int) -> str:
    """The person's feed token, made on first request."""
    person = await Person.get(id=person_id)
    if person.calendar_token is None:
        return await rotate_calendar_token(person_id)
    return person.calendar_token


async def rotate_calendar_token(person_id: int) -> str:
    """A new feed token; the old URL answers 404 from now on."""
    token = secrets.token_urlsafe(24)
    await Person.filter(id=person_id).update(calendar_token=token)
    return token


async def set_alarm_minutes(person_id: int, minutes: int) -> None:
    if not 0 <= minutes <= 7 * 24 * 60:
        raise InvalidInput(N_("The reminder must be between 0 minutes and 7 days before."), field="minutes")
    await Person.filter(id=person_id).update(calendar_alarm_minutes=minutes)
