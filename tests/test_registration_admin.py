"""The organizer's services behind the console: events/services/registration_admin.py and event_admin.py."""

from __future__ import annotations

from datetime import timedelta

import pytest

from events import clock
from events.errors import InvalidInput, InvalidTransition, StaleForm
from events.models import (
    Activity,
    Attendance,
    Broker,
    CreditEntry,
    CreditSource,
    Event,
    Registration,
    RegistrationStatus,
)
from events.services import catalog, event_admin, organizations, registration_admin
from events.services.registration_admin import AttendeeEdit, TableQuery, phone_prefix, version_of
from events.settings import Settings
from tests.console_kit import a_event
from tests.factories import make_registration

pytestmark = pytest.mark.usefixtures("frozen_clock")


@pytest.fixture
async def org(db: Settings) -> int:
    return (await organizations.find_or_create_organization("洪山区科技局", kind="government")).id


@pytest.mark.parametrize(
    ("typed", "prefix"),
    [
        ("139 0000 421", "+861390000421"),
        ("+86 139-0000", "+861390000"),
        ("0086 139", "+86139"),
        ("8613900001234", "+8613900001234"),
        ("027 8888", "+86278888"),
        ("+1 650", "+1650"),
        ("13", None),
        ("张三", None),
        ("p42@x", None),
    ],
)
def test_phone_prefix(typed: str, prefix: str | None) -> None:
    assert phone_prefix(typed) == prefix


async def test_the_table_finds_by_the_beginning_of_each_field(org: int) -> None:
    event = await a_event(org)
    await make_registration(event, n=1, name="王小明", organization="华中科技大学", email="Ming@Example.cn")
    await make_registration(event, n=2, name="小王", organization="武汉大学", phone="13812345678")

    async def names(q: str) -> list[str]:
        return [row.registration.name for row in (await registration_admin.table(event.id, TableQuery(q=q))).items]

    assert await names("王") == ["王小明"]  # a name's beginning, not its middle
    assert await names("华中") == ["王小明"]
    assert await names("MING@") == ["王小明"]  # e-mail addresses are stored lower-case
    assert await names("138 1234") == ["小王"]
    assert await names("%") == []  # no wildcard reaches the database


async def test_the_table_pages_newest_first_with_waitlist_places(org: int) -> None:
    event = await a_event(org, capacity=1)
    regs = [(await make_registration(event, n=n)).registration for n in range(5)]
    first = await registration_admin.table(event.id, TableQuery(limit=2))
    assert [r.registration.id for r in first.items] == [regs[4].id, regs[3].id]
    assert [r.waitlist_position for r in first.items] == [4, 3]
    later = await registration_admin.table(event.id, TableQuery(limit=2, cursor=first.next_cursor))
    assert [r.registration.id for r in later.items] == [regs[2].id, regs[1].id]
    counts = await registration_admin.counts(await Event.get(id=event.id))
    assert (counts.confirmed, counts.waitlisted, counts.pending, counts.checked_in) == (1, 4, 0, 0)


async def test_decide_many_counts_what_it_did(org: int) -> None:
    event = await a_event(org, requires_approval=True, capacity=1, waitlist_enabled=False)
    regs = [(await make_registration(event, n=n)).registration for n in range(3)]
    with pytest.raises(InvalidInput):
        await registration_admin.decide_many(event.id, list(range(1, 10_002)), approve=True, actor="t")
    assert await Registration.filter(event_id=event.id, status=RegistrationStatus.PENDING).count() == 3
    result = await registration_admin.decide_many(event.id, [r.id for r in regs] + [999], approve=True, actor="t")
    assert (result.done, result.full, result.skipped) == (1, 2, 1)
    rejected = await registration_admin.decide_many(event.id, [regs[1].id], approve=False, actor="t", reason="名额")
    assert rejected.done == 1 and (await Registration.get(id=regs[1].id)).status == RegistrationStatus.REJECTED


async def test_promote_takes_a_free_seat_without_growing(org: int) -> None:
    event = await a_event(org, capacity=1)
    first = (await make_registration(event, n=1)).registration
    waiting = (await make_registration(event, n=2)).registration
    await Event.filter(id=event.id).update(capacity=2)  # a seat freed without the waitlist moving
    await registration_admin.promote_registration(waiting.id, actor="t")
    fresh = await Event.get(id=event.id)
    assert (fresh.capacity, fresh.seats_taken) == (2, 2)
    with pytest.raises(InvalidTransition):
        await registration_admin.promote_registration(first.id, actor="t")
    fact = await Activity.filter(kind="waitlist.promoted", registration_id=waiting.id).first()
    assert fact is not None and fact.payload["by_organizer"] is True


async def test_edit_attendee_refuses_a_stale_version_and_keeps_answers_checked(org: int) -> None:
    questions = [{"key": "unit", "label": "单位性质", "choices": ["企业", "高校"]}]
    event = await a_event(org, questions=questions)
    reg = (await make_registration(event, n=1, answers={"unit": "企业"})).registration
    seen = version_of(reg.updated_at)
    with pytest.raises(InvalidInput) as bad:
        await registration_admin.edit_attendee(
            reg.id, AttendeeEdit(name="甲", answers={"unit": "医院"}), seen=seen, actor="t"
        )
    assert bad.value.params["field"] == "answers.unit"
    changed = await registration_admin.edit_attendee(
        reg.id, AttendeeEdit(name="甲", answers={"unit": "高校"}), seen=seen, actor="t"
    )
    assert (changed.name, changed.answers) == ("甲", {"unit": "高校"})
    with pytest.raises(StaleForm):
        await registration_admin.edit_attendee(reg.id, AttendeeEdit(name="乙"), seen=seen, actor="t")
    assert (await Registration.get(id=reg.id)).name == "甲"


async def test_resend_and_undo_refuse_what_is_not_there(org: int) -> None:
    event = await a_event(org, requires_approval=True)
    pending = (await make_registration(event, n=1)).registration
    with pytest.raises(InvalidTransition):
        await registration_admin.resend_ticket(pending.id, actor="t")
    assert await registration_admin.undo_checkin(pending.id, event_id=event.id, actor="t") == 0


async def test_undo_refuses_a_checkin_that_earned_training_hours(org: int) -> None:
    event = await a_event(org)
    reg = (await make_registration(event, n=1)).registration
    await Attendance.create(
        event_id=event.id, registration_id=reg.id, day=clock.now().date(), checked_in_at=clock.now()
    )
    broker = await Broker.create(person_id=reg.person_id, transcript_token="t" * 20, created_by="t")
    await CreditEntry.create(
        broker=broker,
        hours_tenths=30,
        source=CreditSource.ATTENDANCE,
        event_id=event.id,
        registration_id=reg.id,
        author="t",
        earned_at=clock.now(),
    )
    with pytest.raises(InvalidTransition):
        await registration_admin.undo_checkin(reg.id, event_id=event.id, actor="t")
    assert await Attendance.filter(registration_id=reg.id).count() == 1


async def test_duplicate_and_a_guarded_update(org: int) -> None:
    start = clock.now() + timedelta(days=3)
    event = await a_event(
        org,
        registration_closes_at=start - timedelta(hours=1),
        capacity=50,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
    )
    copy = await event_admin.duplicate_event(
        event.id, starts_at=start + timedelta(days=30), actor="t", organization_id=org
    )
    assert copy.status == "draft" and copy.capacity == 50 and copy.ends_at - copy.starts_at == timedelta(hours=2)
    assert copy.registration_closes_at == copy.starts_at - timedelta(hours=1)
    seen = version_of(event.updated_at)
    await event_admin.update_event_unless_changed(event.id, catalog.EventPatch(venue="新会场"), seen=seen, actor="t")
    with pytest.raises(StaleForm):
        await event_admin.update_event_unless_changed(event.id, catalog.EventPatch(venue="再改"), seen=seen, actor="t")
    assert (await Event.get(id=event.id)).venue == "新会场"
