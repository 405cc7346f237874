"""Registration rules at the service level: the error codes are what clients switch on."""

from __future__ import annotations

from datetime import timedelta

import pytest

from events.errors import DomainError
from events.models import Activity, Event, Registration, RegistrationStatus
from events.services import catalog
from events.services import registration as reg
from tests.factories import make_event, make_registration


async def _code(awaitable: object) -> str:
    with pytest.raises(DomainError) as info:
        await awaitable  # type: ignore[misc]
    return info.value.code


async def test_confirms_until_full_then_waitlists_in_order(db, frozen_clock):
    event = await make_event(capacity=2)
    results = [await make_registration(event, n=i) for i in range(5)]
    assert [r.registration.status for r in results] == [
        "confirmed",
        "confirmed",
        "waitlisted",
        "waitlisted",
        "waitlisted",
    ]
    assert [r.waitlist_position for r in results] == [None, None, 1, 2, 3]
    event = await Event.get(id=event.id)
    assert (event.seats_taken, event.waitlist_length) == (2, 3)


async def test_cancel_promotes_waitlist_head_and_logs_it(db, frozen_clock):
    event = await make_event(capacity=1)
    first = await make_registration(event, n=1)
    second = await make_registration(event, n=2)
    third = await make_registration(event, n=3)
    await reg.cancel_registration(first.registration.id, actor="test")
    promoted = await Registration.get(id=second.registration.id)
    assert promoted.status == RegistrationStatus.CONFIRMED
    still_waiting = await Registration.get(id=third.registration.id)
    assert await reg.waitlist_position(still_waiting) == 1
    assert await Activity.filter(kind="waitlist.promoted", registration_id=second.registration.id).count() == 1
    event = await Event.get(id=event.id)
    assert (event.seats_taken, event.waitlist_length) == (1, 1)


async def test_cancelling_a_waitlisted_registration_moves_the_queue(db, frozen_clock):
    event = await make_event(capacity=1)
    await make_registration(event, n=1)
    w1, w2 = await make_registration(event, n=2), await make_registration(event, n=3)
    await reg.cancel_registration(w1.registration.id, actor="test")
    assert await reg.waitlist_position(await Registration.get(id=w2.registration.id)) == 1
    assert (await Event.get(id=event.id)).seats_taken == 1


async def test_cancel_twice_is_a_conflict(db, frozen_clock):
    event = await make_event()
    result = await make_registration(event)
    await reg.cancel_registration(result.registration.id, actor="test")
    assert await _code(reg.cancel_registration(result.registration.id, actor="test")) == "already_cancelled"
    assert await _code(reg.cancel_registration(999_999, actor="test")) == "registration_not_found"


@pytest.mark.parametrize(
    ("field", "first", "second"),
    [
        ("phone", {"phone": "+86 139-0000-0001"}, {"phone": "13900000001"}),
        ("email", {"email": "Li.Ming@Example.com", "phone": None}, {"email": "li.ming@example.com", "phone": None}),
        ("telegram_id", {"telegram_id": 42, "phone": None}, {"telegram_id": 42, "phone": None}),
    ],
)
async def test_same_person_twice_is_already_registered(db, frozen_clock, field, first, second):
    event = await make_event()
    await make_registration(event, n=1, **first)
    assert await _code(make_registration(event, n=2, **second)) == "already_registered"


async def test_person_may_register_again_after_cancelling(db, frozen_clock):
    event = await make_event()
    first = await make_registration(event, n=1, telegram_id=77)
    await reg.cancel_registration(first.registration.id, actor="test")
    again = await make_registration(event, n=1, telegram_id=77)
    assert again.registration.status == "confirmed"
    assert again.registration.person_id == first.registration.person_id  # the proven Telegram id finds them


async def test_refused_for_draft_cancelled_and_finished_events(db, frozen_clock):
    draft = await make_event(publish=False)
    assert await _code(make_registration(draft)) == "event_not_open"
    cancelled = await make_event()
    await catalog.cancel_event(cancelled.id, actor="test")
    assert await _code(make_registration(cancelled)) == "event_not_open"
    finished = await make_event()
    frozen_clock.set(finished.ends_at + timedelta(minutes=1))
    assert await _code(make_registration(finished)) == "registration_closed"
    assert await _code(reg.register(123_456, reg.Applicant(name="x"), actor="t")) == "event_not_found"


async def test_registration_window(db, frozen_clock):
    start = frozen_clock.now
    event = await make_event(
        registration_opens_at=start + timedelta(days=1), registration_closes_at=start + timedelta(days=3)
    )
    assert await _code(make_registration(event)) == "registration_not_open"
    frozen_clock.set(start + timedelta(days=2))
    assert (await make_registration(event)).registration.status == "confirmed"
    frozen_clock.set(start + timedelta(days=3))
    assert await _code(make_registration(event)) == "registration_closed"


async def test_closes_at_start_when_no_close_time_given(db, frozen_clock):
    event = await make_event()
    frozen_clock.set(event.starts_at)
    assert await _code(make_registration(event)) == "registration_closed"


async def test_full_event_without_waitlist_is_event_full(db, frozen_clock):
    event = await make_event(capacity=1, waitlist_enabled=False)
    await make_registration(event)
    assert await _code(make_registration(event)) == "event_full"


async def test_approval_flow(db, frozen_clock):
    event = await make_event(capacity=1, requires_approval=True)
    a, b, c = [await make_registration(event, n=i) for i in (1, 2, 3)]
    assert {a.registration.status, b.registration.status, c.registration.status} == {"pending"}
    assert (await Event.get(id=event.id)).seats_taken == 0
    approved = await reg.approve_registration(a.registration.id, actor="org")
    assert approved.registration.status == "confirmed"
    queued = await reg.approve_registration(b.registration.id, actor="org")
    assert (queued.registration.status, queued.waitlist_position) == ("waitlisted", 1)
    rejected = await reg.reject_registration(c.registration.id, actor="org", reason="不符合条件")
    assert rejected.status == "rejected"
    assert await _code(reg.approve_registration(c.registration.id, actor="org")) == "invalid_transition"
    assert await _code(reg.cancel_registration(c.registration.id, actor="org")) == "invalid_transition"


async def test_raising_capacity_promotes_and_lowering_below_taken_is_refused(db, frozen_clock):
    event = await make_event(capacity=1)
    await make_registration(event, n=1)
    waiting = await make_registration(event, n=2)
    await catalog.update_event(event.id, catalog.EventPatch(capacity=2), actor="org")
    assert (await Registration.get(id=waiting.registration.id)).status == "confirmed"
    assert await _code(catalog.update_event(event.id, catalog.EventPatch(capacity=1), actor="org")) == (
        "capacity_below_taken"
    )


async def test_material_change_bumps_sequence_and_is_logged(db, frozen_clock):
    event = await make_event()
    changed = await catalog.update_event(event.id, catalog.EventPatch(venue="武汉大学珞珈山庄"), actor="org")
    assert changed.sequence == event.sequence + 1
    entry = await Activity.get(kind="event.changed", event_id=event.id)
    assert entry.payload["changes"]["venue"] == ["光谷科技会展中心", "武汉大学珞珈山庄"]
    same = await catalog.update_event(event.id, catalog.EventPatch(description="更新说明"), actor="org")
    assert same.sequence == changed.sequence


async def test_bad_contact_details_are_invalid_input(db, frozen_clock):
    event = await make_event()
    assert await _code(make_registration(event, phone="call me")) == "invalid_input"
    assert await _code(make_registration(event, email="not-an-address")) == "invalid_input"


async def test_end_before_start_is_invalid(db, frozen_clock):
    start = frozen_clock.now + timedelta(days=1)
    with pytest.raises(DomainError) as info:
        await make_event(starts_at=start, ends_at=start - timedelta(hours=1))
    assert info.value.code == "invalid_input"


async def test_event_questions_are_enforced(db, frozen_clock):
    event = await make_event(
        questions=[
            {
                "key": "org_type",
                "label": "单位性质",
                "label_en": "Organization type",
                "choices": ["企业", "高校", "院所"],
            },
            {"key": "need", "label": "技术需求", "required": False},
        ]
    )
    assert await _code(make_registration(event, answers={})) == "invalid_input"
    assert await _code(make_registration(event, answers={"org_type": "政府"})) == "invalid_input"
    assert await _code(make_registration(event, answers={"org_type": "企业", "other": "x"})) == "invalid_input"
    ok = await make_registration(event, answers={"org_type": "高校", "need": " 光刻胶 "})
    assert ok.registration.answers == {"org_type": "高校", "need": "光刻胶"}
    with pytest.raises(ValueError, match="unique"):
        await make_event(questions=[{"key": "a", "label": "x"}, {"key": "a", "label": "y"}])
