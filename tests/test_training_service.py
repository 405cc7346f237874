"""Broker training through the services: enrollment, credit from check-in, the ledger, certification."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest

from events import localtime
from events.errors import (
    AlreadyCredited,
    AlreadyRegistered,
    CertificateNotFound,
    CertificationAlreadyRevoked,
    CertificationNotFound,
    CertificationNotRevoked,
    CourseItemNotFound,
    CreditEntryNotFound,
    ExternalIdReused,
    InvalidInput,
    NotEnrolled,
    SessionInOtherCourse,
)
from events.models import Activity, Certification, CertificationState, CreditEntry, Direction, RegistrationStatus
from events.services import brokers, certification, checkin, courses, credits, goals, tickets, transcripts
from events.settings import LevelRule
from tests.factories import make_event

TZ = localtime.zone()


@pytest.fixture
def rules():
    certification.use_rules(
        [
            LevelRule(level="junior", hours=10, courses=["JR-1"], valid_years=1, renewal_hours=4),
            LevelRule(level="intermediate", hours=20, valid_years=3),
        ]
    )
    yield
    certification.use_rules(None)


async def make_broker(n: int = 1, **extra) -> brokers.Broker:
    data = {"name": f"经理人{n}", "phone": f"1370000{n:04d}", "district": "donghu_gaoxin"} | extra
    return await brokers.create_broker(brokers.BrokerInput(**data), actor="test")


async def make_course(*, code: str = "JR-1", capacity: int | None = 30, sessions: int = 2, checkout: bool = False):
    """A course with ``sessions`` training sessions (the first one's door open now) and one module."""
    session_events = [
        await make_event(kind="training", series=None, starts_in=timedelta(minutes=30) + timedelta(days=7 * i))
        for i in range(sessions)
    ]
    items = [
        courses.ItemInput(
            kind="session",
            event_id=e.id,
            hours="3",
            requires_checkout=checkout,
            min_stay_minutes=90 if checkout else None,
        )
        for e in session_events
    ]
    items.append(courses.ItemInput(kind="module", code="M1", title="政策法规在线课", hours="4"))
    data = courses.CourseInput(
        code=code,
        title="技术经理人初级班",
        level="junior",
        event={
            "title": "技术经理人初级班（报名）",
            "kind": "training",
            "venue": "武汉科技大市场",
            "starts_at": session_events[0].starts_at - timedelta(minutes=10),
            "ends_at": session_events[-1].ends_at,
            "capacity": capacity,
        },
        items=items,
    )
    course = await courses.create_course(data, actor="test")
    from events.services import catalog

    await catalog.publish_event(course.event_id, actor="test")
    return course, session_events


async def scan_at(db, registration, event_id, *, scan_id=None, direction=Direction.ENTRY, scanned_at=None):
    signer = tickets.signer_for(db.data_dir.resolve())
    code = tickets.ticket_code(registration, signer)
    return await checkin.redeem(
        checkin.Scan(code=code, event_id=event_id, scan_id=scan_id, direction=direction, scanned_at=scanned_at),
        signer=signer,
        actor="checker:test",
    )


async def ledger(broker_id):
    return await CreditEntry.filter(broker_id=broker_id).order_by("id")


async def test_course_pass_checks_in_at_each_session_and_credits_once(db, frozen_clock, rules):
    broker = await make_broker()
    course, sessions = await make_course()
    enrollment = (await courses.enroll(course.id, broker.id, actor="test")).registration
    assert enrollment.status == RegistrationStatus.CONFIRMED

    first = await scan_at(db, enrollment, sessions[0].id, scan_id="a1")
    assert first.result == "ok" and first.credit_hours == Decimal(3)
    # The same scan replayed (an offline queue sent twice), then a second scan at another gate.
    assert (await scan_at(db, enrollment, sessions[0].id, scan_id="a1")).result == "ok"
    assert (await scan_at(db, enrollment, sessions[0].id, scan_id="a2")).result == "already_checked_in"
    lines = await ledger(broker.id)
    assert [(line.source, line.hours_tenths, line.event_id) for line in lines] == [("attendance", 30, sessions[0].id)]
    assert await Activity.filter(kind="credit.granted").count() == 1

    # The pass does not open the door of an event outside the course.
    other = await make_event(starts_in=timedelta(minutes=30))
    assert (await scan_at(db, enrollment, other.id)).result == "wrong_event"


async def test_scan_outside_the_window_writes_no_credit(db, frozen_clock, rules):
    broker = await make_broker()
    course, sessions = await make_course()
    enrollment = (await courses.enroll(course.id, broker.id, actor="test")).registration
    # The second session starts in a week: its door is not open yet.
    assert (await scan_at(db, enrollment, sessions[1].id)).result == "not_open_yet"
    # Long after the first session ended: closed.
    frozen_clock.set(sessions[0].ends_at + timedelta(hours=2))
    assert (await scan_at(db, enrollment, sessions[0].id)).result == "closed"
    assert await ledger(broker.id) == []


async def test_offline_scan_replayed_late_counts_by_its_scan_time_once(db, frozen_clock, rules):
    broker = await make_broker()
    course, sessions = await make_course()
    enrollment = (await courses.enroll(course.id, broker.id, actor="test")).registration
    scanned = sessions[0].starts_at + timedelta(minutes=5)
    frozen_clock.set(sessions[0].ends_at + timedelta(hours=3))  # the scanner came back online late
    for _ in range(2):
        outcome = await scan_at(db, enrollment, sessions[0].id, scan_id="off-1", scanned_at=scanned)
        assert outcome.result == "ok"
    assert [line.earned_at for line in await ledger(broker.id)] == [scanned]


async def test_checkout_and_minimum_stay(db, frozen_clock, rules):
    first, second = await make_broker(1), await make_broker(2)
    course, sessions = await make_course(checkout=True)
    reg1 = (await courses.enroll(course.id, first.id, actor="test")).registration
    reg2 = (await courses.enroll(course.id, second.id, actor="test")).registration
    start = sessions[0].starts_at
    frozen_clock.set(start)
    await scan_at(db, reg1, sessions[0].id)
    await scan_at(db, reg2, sessions[0].id)
    assert await CreditEntry.all().count() == 0  # nothing at entry when check-out is required
    frozen_clock.set(start + timedelta(minutes=30))
    assert (await scan_at(db, reg1, sessions[0].id, direction=Direction.EXIT)).result == "ok"
    frozen_clock.set(start + timedelta(minutes=100))
    await scan_at(db, reg2, sessions[0].id, direction=Direction.EXIT)
    await scan_at(db, reg2, sessions[0].id, direction=Direction.EXIT)
    assert await ledger(first.id) == []  # left after 30 of the 90 minutes
    assert [line.hours_tenths for line in await ledger(second.id)] == [30]


async def test_attending_without_enrollment_earns_nothing(db, frozen_clock, rules):
    from tests.factories import make_registration

    course, sessions = await make_course()
    walk_in = (await make_registration(sessions[0], name="旁听者")).registration
    assert (await scan_at(db, walk_in, sessions[0].id)).result == "ok"
    assert await CreditEntry.all().count() == 0


async def test_enrollment_uses_capacity_waitlist_and_withdrawal_promotes(db, frozen_clock, rules):
    course, _ = await make_course(capacity=1)
    a, b = await make_broker(1), await make_broker(2)
    assert (await courses.enroll(course.id, a.id, actor="test")).registration.status == "confirmed"
    waiting = await courses.enroll(course.id, b.id, actor="test")
    assert waiting.registration.status == "waitlisted" and waiting.waitlist_position == 1
    with pytest.raises(AlreadyRegistered):
        await courses.enroll(course.id, a.id, actor="test")
    await courses.withdraw(course.id, a.id, actor="test")
    assert (await courses.enrollment_of(course, b)).status == "confirmed"
    with pytest.raises(NotEnrolled):
        await courses.withdraw(course.id, a.id, actor="test")
    # Re-enrolling after withdrawing queues again like anyone else.
    assert (await courses.enroll(course.id, a.id, actor="test")).registration.status == "waitlisted"


async def test_module_completion_is_idempotent_by_external_id(db, frozen_clock, rules):
    broker, stranger = await make_broker(1), await make_broker(2)
    course, _ = await make_course()
    await courses.enroll(course.id, broker.id, actor="test")
    first = await credits.complete_module(
        course.id, "M1", broker_id=broker.id, external_id="lms-77", completed_at=None, actor="lms"
    )
    again = await credits.complete_module(
        course.id, "M1", broker_id=broker.id, external_id="lms-77", completed_at=None, actor="lms"
    )
    assert first.created and not again.created and again.entry.id == first.entry.id
    with pytest.raises(AlreadyCredited):
        await credits.complete_module(
            course.id, "M1", broker_id=broker.id, external_id="lms-78", completed_at=None, actor="lms"
        )
    with pytest.raises(ExternalIdReused):
        await credits.complete_module(
            course.id, "M1", broker_id=stranger.id, external_id="lms-77", completed_at=None, actor="lms"
        )
    with pytest.raises(NotEnrolled):
        await credits.complete_module(
            course.id, "M1", broker_id=stranger.id, external_id="lms-79", completed_at=None, actor="lms"
        )
    with pytest.raises(CourseItemNotFound):
        await credits.complete_module(
            course.id, "M9", broker_id=broker.id, external_id="lms-80", completed_at=None, actor="lms"
        )
    assert [line.hours_tenths for line in await ledger(broker.id)] == [40]


@pytest.mark.parametrize("hours", ["0", "-1", "1.25", "201", "abc", "NaN", "Infinity", "1e400", "-1e400", "1e-400"])
async def test_grant_refuses_bad_hours(db, frozen_clock, rules, hours):
    broker = await make_broker()
    with pytest.raises(InvalidInput) as caught:
        await credits.grant(broker.id, hours=hours, reason="外部培训", actor="admin")
    assert caught.value.params["field"] == "hours"


async def test_grant_needs_a_reason_and_corrections_keep_the_ledger_append_only(db, frozen_clock, rules):
    broker = await make_broker()
    for reason in (None, "", "   "):
        with pytest.raises(InvalidInput):
            await credits.grant(broker.id, hours=2, reason=reason, actor="admin")
    granted = await credits.grant(broker.id, hours="6", reason="省级培训学时认定", actor="admin:王")
    fixed = await credits.correct(broker.id, entry_id=granted.entry.id, hours="-2", reason="重复认定", actor="admin:王")
    assert fixed.entry.corrects_id == granted.entry.id and fixed.entry.author == "admin:王"
    with pytest.raises(InvalidInput):  # would take the entry below zero
        await credits.correct(broker.id, entry_id=granted.entry.id, hours="-5", reason="x", actor="admin")
    with pytest.raises(InvalidInput):  # a correction of a correction
        await credits.correct(broker.id, entry_id=fixed.entry.id, hours="1", reason="x", actor="admin")
    with pytest.raises(CreditEntryNotFound):
        await credits.correct(broker.id, entry_id=99999, hours="1", reason="x", actor="admin")
    lines = await ledger(broker.id)
    assert [(line.source, line.hours_tenths) for line in lines] == [("grant", 60), ("correction", -20)]
    record = await transcripts.transcript(broker.id, tz=TZ)
    assert record.balances.total == Decimal("4")


async def test_crossing_the_line_certifies_once_and_tells_the_broker(db, frozen_clock, rules):
    broker = await make_broker()
    course, sessions = await make_course()
    enrollment = (await courses.enroll(course.id, broker.id, actor="test")).registration
    await credits.grant(broker.id, hours=8, reason="前期学时", actor="admin")
    assert await Certification.all().count() == 0  # hours would do, but course JR-1 is not complete
    await scan_at(db, enrollment, sessions[0].id)
    frozen_clock.set(sessions[1].starts_at)
    await scan_at(db, enrollment, sessions[1].id)
    assert await Certification.all().count() == 0  # the module is still missing
    await credits.complete_module(course.id, "M1", broker_id=broker.id, external_id="m", completed_at=None, actor="x")
    certs = await Certification.all()
    assert [(c.level, c.round) for c in certs] == [("junior", 1)]
    assert await Activity.filter(kind="broker.certified").count() == 1
    await credits.grant(broker.id, hours=1, reason="补充", actor="admin")
    assert await Certification.all().count() == 1
    record = await transcripts.transcript(broker.id, tz=TZ)
    assert record.assessment.level == "junior" and record.assessment.status == "certified"
    assert record.assessment.next.level == "intermediate" and record.assessment.next.hours_missing == Decimal("1")
    assert record.courses[0].completed
    trained = {g.key: g for g in await goals.list_goals()}["brokers_trained"]
    assert trained.current == 1 and trained.tracked


async def test_concurrent_credit_writes_cross_the_line_exactly_once(db, frozen_clock):
    certification.use_rules([LevelRule(level="junior", hours=10)])
    try:
        broker = await make_broker()
        await credits.grant(broker.id, hours=8, reason="起点", actor="admin")
        results = await asyncio.gather(
            *(credits.grant(broker.id, hours=1, reason=f"并发{i}", actor="admin") for i in range(12))
        )
        assert sum(len(r.certified) for r in results) == 1
        assert await Certification.filter(broker_id=broker.id).count() == 1
        assert await Activity.filter(kind="broker.certified").count() == 1
    finally:
        certification.use_rules(None)


async def test_certification_lapses_and_is_renewed_by_new_hours(db, frozen_clock):
    certification.use_rules([LevelRule(level="junior", hours=10, valid_years=1, renewal_hours=4)])
    try:
        broker = await make_broker()
        await credits.grant(broker.id, hours=10, reason="初始", actor="admin")
        frozen_clock.set(frozen_clock.now + timedelta(days=400))
        record = await transcripts.transcript(broker.id, tz=TZ)
        assert record.assessment.status == "expired" and record.assessment.next.renewal
        await credits.grant(broker.id, hours=3, reason="继续教育", actor="admin")
        assert await Certification.filter(broker_id=broker.id).count() == 1
        await credits.grant(broker.id, hours=1, reason="继续教育", actor="admin")
        assert [c.round for c in await Certification.filter(broker_id=broker.id).order_by("round")] == [1, 2]
        page = await transcripts.list_brokers(transcripts.BrokerQuery(status="certified"), tz=TZ)
        assert [row.broker.id for row in page.items] == [broker.id]
    finally:
        certification.use_rules(None)


async def test_a_session_belongs_to_one_course(db, frozen_clock, rules):
    course, sessions = await make_course()
    with pytest.raises(SessionInOtherCourse):
        await courses.add_item(
            course.id, courses.ItemInput(kind="session", event_id=sessions[0].id, hours=2), actor="t"
        )
    plain = await make_event()
    with pytest.raises(InvalidInput):  # not a training event
        await courses.add_item(course.id, courses.ItemInput(kind="session", event_id=plain.id, hours=2), actor="t")


async def test_broker_list_sorts_filters_and_ranks(db, frozen_clock, rules):
    a = await make_broker(1, specialties=["人工智能"])
    b = await make_broker(2, district="jiangan", specialties=["生物医药"])
    c = await make_broker(3)
    await credits.grant(a.id, hours=5, reason="r", actor="admin")
    await credits.grant(b.id, hours=9, reason="r", actor="admin")
    page = await transcripts.list_brokers(transcripts.BrokerQuery(), tz=TZ)
    assert [r.broker.id for r in page.items] == [b.id, a.id, c.id]
    assert [r.hours for r in page.items] == [Decimal(9), Decimal(5), Decimal(0)]
    page = await transcripts.list_brokers(transcripts.BrokerQuery(district="donghu_gaoxin", sort="hours"), tz=TZ)
    assert [r.broker.id for r in page.items] == [c.id, a.id]
    page = await transcripts.list_brokers(transcripts.BrokerQuery(specialty="生物医药"), tz=TZ)
    assert [r.broker.id for r in page.items] == [b.id]
    with pytest.raises(InvalidInput):
        await transcripts.list_brokers(transcripts.BrokerQuery(sort="salary"), tz=TZ)


async def test_attendance_sheet(db, frozen_clock, rules):
    course, sessions = await make_course()
    a, b = await make_broker(1), await make_broker(2)
    reg_a = (await courses.enroll(course.id, a.id, actor="test")).registration
    await courses.enroll(course.id, b.id, actor="test")
    await scan_at(db, reg_a, sessions[0].id)
    sheet = await courses.attendance_sheet(course.id)
    assert [item.kind for item in sheet.items] == ["session", "session", "module"]
    rows = {row.broker_id: row for row in sheet.rows}
    first_item = sheet.items[0].id
    assert rows[a.id].cells[first_item].checked_in_at is not None and rows[a.id].total == Decimal(3)
    assert first_item not in rows[b.id].cells and rows[b.id].total == 0


async def test_session_door_lists_and_counts_course_passes(db, frozen_clock, rules):
    broker = await make_broker()
    course, sessions = await make_course()
    enrollment = (await courses.enroll(course.id, broker.id, actor="test")).registration
    assert await checkin.ticket_event_ids(sessions[0]) == [sessions[0].id, course.event_id]
    listed = {entry.registration_id: entry for entry in await checkin.offline_list(sessions[0])}
    assert listed[enrollment.id].status == "confirmed" and not listed[enrollment.id].checked_in
    await scan_at(db, enrollment, sessions[0].id)
    stats = await checkin.event_stats(sessions[0])
    assert (stats.confirmed, stats.checked_in) == (1, 1)
    assert (await checkin.offline_list(sessions[0]))[0].checked_in


async def test_personal_calendar_holds_the_sessions_of_a_confirmed_enrollment(db, frozen_clock, rules):
    from events.services import calendar

    broker = await make_broker()
    course, sessions = await make_course()
    renderer = calendar.FeedRenderer(base_url="http://test", timezone="Asia/Shanghai")
    token = await calendar.calendar_token(broker.person_id)
    before = (await renderer.person_feed(token)).body.decode()
    assert f"event-{sessions[0].public_id}@" not in before
    await courses.enroll(course.id, broker.id, actor="test")
    feed = (await renderer.person_feed(token)).body.decode()
    for session in sessions:
        assert f"UID:event-{session.public_id}@wuchuang" in feed
    await courses.withdraw(course.id, broker.id, actor="test")
    assert f"event-{sessions[0].public_id}@" not in (await renderer.person_feed(token)).body.decode()


async def test_the_door_answer_shows_the_hours_written(client, db, frozen_clock, rules):
    from tests.factories import bearer, make_token

    broker = await make_broker()
    course, sessions = await make_course()
    enrollment = (await courses.enroll(course.id, broker.id, actor="test")).registration
    code = tickets.ticket_code(enrollment, tickets.signer_for(db.data_dir.resolve()))
    token = await make_token(role="checker")
    answers = [
        (
            await client.post(
                "/api/v1/checkins", json={"code": code, "event_id": sessions[0].id}, headers=bearer(token)
            )
        ).json()
        for _ in range(2)
    ]
    assert [(a["result"], a["credit_hours"]) for a in answers] == [("ok", 3.0), ("already_checked_in", None)]
    listed = (await client.get(f"/api/v1/events/{sessions[0].id}/checkin-list", headers=bearer(token))).json()
    assert listed["accepts_event_ids"] == [sessions[0].id, course.event_id]


async def test_new_hours_of_a_session_apply_to_credit_written_afterwards(db, frozen_clock, rules):
    first, second = await make_broker(1), await make_broker(2)
    course, sessions = await make_course()
    reg1 = (await courses.enroll(course.id, first.id, actor="test")).registration
    reg2 = (await courses.enroll(course.id, second.id, actor="test")).registration
    await scan_at(db, reg1, sessions[0].id)
    item = (await courses.items_of(course.id))[0]
    await courses.update_item(course.id, item.id, courses.ItemPatch(hours="4.5"), actor="org")
    await scan_at(db, reg2, sessions[0].id)
    assert [line.hours_tenths for line in await ledger(first.id)] == [30]  # written before: unchanged
    assert [line.hours_tenths for line in await ledger(second.id)] == [45]


# --- Certificates follow the ledger -----------------------------------------------------------


@pytest.fixture
def forty_hours():
    certification.use_rules([LevelRule(level="junior", hours=40, valid_years=3)])
    yield
    certification.use_rules(None)


async def trained() -> int:
    return {g.key: g for g in await goals.list_goals()}["brokers_trained"].current


async def test_a_correction_below_the_line_suspends_the_certificate_and_the_goal_recounts(
    db, frozen_clock, forty_hours
):
    """The issue's case: certified at 40 h, a correction of -36 h leaves 4 h: not certified any more."""
    broker = await make_broker()
    granted = await credits.grant(broker.id, hours=40, reason="线下培训补录", actor="admin")
    (cert,) = granted.certified
    year = frozen_clock.now.astimezone(TZ).year
    assert cert.number == f"WH-JSJL-{year}-{cert.id:06d}"
    assert await trained() == 1

    corrected = await credits.correct(broker.id, entry_id=granted.entry.id, hours=-36, reason="重复录入", actor="admin")

    assert [c.id for c in corrected.suspended] == [cert.id] and not corrected.certified
    await cert.refresh_from_db()
    assert cert.state == CertificationState.SUSPENDED
    assert cert.state_entry_id == corrected.entry.id and cert.state_reason == "重复录入"
    (fact,) = await Activity.filter(kind="certification.suspended")
    assert fact.payload["entry_id"] == corrected.entry.id and fact.payload["number"] == cert.number
    assert fact.payload["hours"] == "4" and fact.payload["hours_required"] == "40"
    record = await transcripts.transcript(broker.id, tz=TZ)
    assert record.balances.total == Decimal(4)
    assert record.assessment.status == "suspended" and record.assessment.level is None
    assert record.assessment.next.level == "junior" and record.assessment.next.hours_missing == Decimal(36)
    assert certification.certificate_status(cert.state, cert.expires_at, frozen_clock.now) == "suspended"
    assert await trained() == 0
    page = await transcripts.list_brokers(transcripts.BrokerQuery(status="certified"), tz=TZ)
    assert page.total == 0
    assert (await transcripts.list_brokers(transcripts.BrokerQuery(status="suspended"), tz=TZ)).total == 1

    # The hours come back: the same certificate is valid again (number and dates unchanged), not a new one.
    back = await credits.grant(broker.id, hours=36, reason="核实后补回", actor="admin")
    assert [c.id for c in back.reinstated] == [cert.id] and not back.certified
    await cert.refresh_from_db()
    assert cert.state == CertificationState.ACTIVE and cert.state_entry_id == back.entry.id
    assert await Certification.all().count() == 1 and await trained() == 1
    assert (await transcripts.transcript(broker.id, tz=TZ)).assessment.status == "certified"


async def test_taking_back_a_required_course_suspends_too(db, frozen_clock, rules):
    broker = await make_broker()
    course, sessions = await make_course()
    enrollment = (await courses.enroll(course.id, broker.id, actor="test")).registration
    await credits.grant(broker.id, hours=8, reason="前期学时", actor="admin")
    await scan_at(db, enrollment, sessions[0].id)
    frozen_clock.set(sessions[1].starts_at)
    await scan_at(db, enrollment, sessions[1].id)
    module = await credits.complete_module(
        course.id, "M1", broker_id=broker.id, external_id="m", completed_at=None, actor="x"
    )
    (cert,) = module.certified  # 18 h and the course JR-1 complete
    corrected = await credits.correct(broker.id, entry_id=module.entry.id, hours=-4, reason="未完成", actor="admin")
    # 14 h is still over the 10 h line, but JR-1 is no longer complete.
    assert [c.id for c in corrected.suspended] == [cert.id]
    assert (await transcripts.transcript(broker.id, tz=TZ)).assessment.next.courses_done == []


async def test_concurrent_writes_certify_once_and_the_state_follows_the_last_line(db, frozen_clock, forty_hours):
    brokers_ = [await make_broker(n) for n in range(1, 6)]
    results = await asyncio.gather(*(credits.grant(b.id, hours=40, reason="并发", actor="admin") for b in brokers_))
    numbers = [c.number for r in results for c in r.certified]
    assert len(numbers) == 5 and len(set(numbers)) == 5 and all(numbers)

    broker = brokers_[0]
    first = results[0]
    # A correction and grants race on one broker: writes are serialised, so the certificate ends as
    # the final ledger has it (40 - 36 + 4 × 9 = 40: active), however they interleave.
    await asyncio.gather(
        credits.correct(broker.id, entry_id=first.entry.id, hours=-36, reason="更正", actor="admin"),
        *(credits.grant(broker.id, hours=9, reason=f"补{i}", actor="admin") for i in range(4)),
    )
    certs = await Certification.filter(broker_id=broker.id)
    assert len(certs) == 1 and certs[0].state == CertificationState.ACTIVE
    facts = [
        f.kind
        for f in await Activity.filter(kind__startswith="certification.").order_by("id")
        if f.payload["broker_id"] == broker.id
    ]
    assert facts in ([], ["certification.suspended", "certification.reinstated"])


async def test_admins_revoke_and_reinstate_with_a_reason(db, frozen_clock, forty_hours):
    broker = await make_broker()
    granted = await credits.grant(broker.id, hours=40, reason="培训", actor="admin")
    (cert,) = granted.certified
    with pytest.raises(InvalidInput) as refused:
        await certification.revoke_certificate(broker.id, cert.id, reason="  ", actor="admin")
    assert refused.value.params["field"] == "reason"
    with pytest.raises(CertificationNotFound):
        await certification.revoke_certificate(broker.id, cert.id + 99, reason="x", actor="admin")
    other = await make_broker(2)
    with pytest.raises(CertificationNotFound):  # another broker's certificate
        await certification.revoke_certificate(other.id, cert.id, reason="x", actor="admin")
    with pytest.raises(CertificationNotRevoked):
        await certification.reinstate_certificate(broker.id, cert.id, reason="x", actor="admin")

    revoked = await certification.revoke_certificate(broker.id, cert.id, reason="材料造假", actor="admin:王")
    assert revoked.state == CertificationState.REVOKED and revoked.state_reason == "材料造假"
    assert revoked.state_changed_by == "admin:王"
    (fact,) = await Activity.filter(kind="certification.revoked")
    assert fact.actor == "admin:王" and fact.payload["reason"] == "材料造假"
    assert await trained() == 0
    with pytest.raises(CertificationAlreadyRevoked):
        await certification.revoke_certificate(broker.id, cert.id, reason="again", actor="admin")
    # The ledger leaves a revoked certificate alone: more hours neither reinstate it nor certify anew.
    later = await credits.grant(broker.id, hours=5, reason="更多", actor="admin")
    assert not later.certified and not later.reinstated
    assert (await transcripts.transcript(broker.id, tz=TZ)).assessment.status == "revoked"

    back = await certification.reinstate_certificate(broker.id, cert.id, reason="复核无误", actor="admin")
    assert back.state == CertificationState.ACTIVE and await trained() == 1

    # Reinstated while the record is below the line: it comes back suspended, until the hours do.
    await certification.revoke_certificate(broker.id, cert.id, reason="再查", actor="admin")
    await credits.correct(broker.id, entry_id=granted.entry.id, hours=-30, reason="更正", actor="admin")
    back = await certification.reinstate_certificate(broker.id, cert.id, reason="复核", actor="admin")
    assert back.state == CertificationState.SUSPENDED and await trained() == 0
    await credits.grant(broker.id, hours=30, reason="补回", actor="admin")
    await cert.refresh_from_db()
    assert cert.state == CertificationState.ACTIVE


async def test_the_public_check_shows_a_certificate_by_its_number(db, frozen_clock, forty_hours):
    broker = await make_broker()
    (cert,) = (await credits.grant(broker.id, hours=40, reason="培训", actor="admin")).certified
    found = await certification.verify_certificate(f"  {cert.number.lower()} ")
    assert (found.number, found.name, found.level, found.status) == (cert.number, "经理人1", "junior", "valid")
    for bad in ("WH-JSJL-1999-000001", "", "\x00", "x" * 300, "WH JSJL"):
        with pytest.raises(CertificateNotFound):
            await certification.verify_certificate(bad)
    frozen_clock.set(cert.expires_at)
    assert (await certification.verify_certificate(cert.number)).status == "expired"


async def test_create_course_with_bad_hours_writes_nothing(db, frozen_clock):
    from events import clock
    from events.models import Course, Event

    start = clock.now() + timedelta(days=3)
    data = courses.CourseInput(
        code="BAD-1",
        event={"title": "课程", "venue": "光谷", "starts_at": start, "ends_at": start + timedelta(hours=2)},
        items=[
            courses.ItemInput(kind="module", code="M1", title="一", hours=2),
            courses.ItemInput(kind="module", code="M2", title="二", hours="1.25"),
        ],
    )
    with pytest.raises(InvalidInput) as raised:
        await courses.create_course(data, actor="test")
    assert raised.value.params.get("field") == "items.1.hours"
    assert not await Course.exists() and not await Event.exists()
