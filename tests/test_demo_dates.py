"""The demo keeps a few events open for registration in the coming weeks, whatever today's date is.

The 武创荟 sessions follow the calendar year (February–December, none over the Spring Festival), so
around the turn of the year the programme alone would leave nothing to register for; the movable
occasions fill the gap. Checked two ways: the programme's plan for every few days of three years
(cheap), and the real loader, through the services, on the dates where the gap is widest.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from events import clock
from events.errors import DomainError
from events.models import Course, CourseItem, Event, EventStatus
from events.services.registration import check_open
from wuchuang import demo

LOCAL = ZoneInfo("Asia/Shanghai")
SOON = range(7, 29)  # days from today: "in the next one to four weeks"


def _moment(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LOCAL).astimezone(UTC)


def _planned_soon(now: datetime) -> list[str]:
    rng = random.Random(demo.SEED)
    sessions = demo._sessions(now, rng)
    plans = sessions + demo._occasions(now, rng, others=sessions)
    today = now.astimezone(LOCAL).date()
    return [
        plan.event.title
        for plan in plans
        if plan.publish
        and plan.cancel_reason is None
        and (plan.event.starts_at.astimezone(LOCAL).date() - today).days in SOON
        and (plan.event.registration_closes_at or plan.event.starts_at) > now + timedelta(days=2)
    ]


def test_the_plan_keeps_three_events_open_in_the_coming_weeks_all_year():
    short = {}
    day = date(2026, 1, 1)
    while day < date(2029, 1, 1):  # 2028 is a leap year
        for hour in (0, 10, 23):
            if len(soon := _planned_soon(_moment(day, hour))) < 3:
                short[f"{day} {hour:02d}:00"] = soon
        day += timedelta(days=3)
    assert short == {}


def test_on_ordinary_days_the_programme_is_what_it_was():
    """In June nothing needs moving: the occasions keep their calendar dates."""
    now = _moment(date(2026, 6, 1))
    days = demo._occasion_days(now, already_soon=demo.OPEN_SOON)
    assert all(days[occ] == date(2026, occ.month, occ.day) for occ in demo.data.OCCASIONS)


async def _open_soon_in_database(now: datetime) -> list[str]:
    """Published, taking registrations now (a seat or the waitlist), starting 7–28 days from today;
    not a course or one of its sessions (those are entered with a course pass)."""
    course_events = set(await Course.all().values_list("event_id", flat=True))
    course_events |= set(await CourseItem.filter(event_id__isnull=False).values_list("event_id", flat=True))
    today = now.astimezone(LOCAL).date()
    found = []
    for event in await Event.filter(status=EventStatus.PUBLISHED).exclude(id__in=list(course_events)):
        if (event.starts_at.astimezone(LOCAL).date() - today).days not in SOON:
            continue
        try:
            check_open(event)
        except DomainError:
            continue
        if event.capacity is None or event.seats_taken < event.capacity or event.waitlist_enabled:
            found.append(event.title)
    return found


@pytest.mark.slow
@pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # dates, not dialects: the full demo runs on both elsewhere
@pytest.mark.parametrize(
    "today",
    [date(2027, 1, 2), date(2026, 12, 22), date(2028, 2, 29)],
    ids=str,
)
async def test_the_loaded_demo_has_events_to_register_for(db, today):
    now = _moment(today)
    clock.set_clock(lambda: now)
    summary = await demo.load_demo(supply=False, competitions=False, roadshow=False)  # the programme only
    assert not summary.already_loaded
    assert len(await _open_soon_in_database(now)) >= 3
