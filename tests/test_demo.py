"""The demo programme: loaded once, through the services, with the shapes the pages and the bot need."""

from __future__ import annotations

from collections import Counter
from zoneinfo import ZoneInfo

from events import clock
from events.models import (
    Activity,
    Attendance,
    Broker,
    Certification,
    CheckinScan,
    Competition,
    Course,
    CreditEntry,
    Demand,
    Event,
    EventStatus,
    Person,
    Registration,
    RegistrationStatus,
    Transfer,
)
from events.services import certification, goals, transcripts
from events.services.catalog import effective_status
from wuchuang.demo import TELEGRAM_PEOPLE, DemoSummary, load_demo

LOCAL = ZoneInfo("Asia/Shanghai")


async def test_demo_loads_a_year_once(db, frozen_clock):
    now = clock.now()
    summary = await load_demo()
    assert clock.now() == now  # the test's clock is back

    assert not summary.already_loaded
    assert summary.events_created == await Event.all().count()
    assert summary.registrations_created == await Registration.all().count()

    events = await Event.all()
    assert {e.created_by for e in events} == {"demo"}
    sessions = [e for e in events if e.series == "wuchuanghui"]
    assert len(sessions) == 60
    assert {e.kind for e in sessions} == {"session"}
    assert len({e.district for e in sessions}) >= 15
    assert {e.starts_at.astimezone(LOCAL).year for e in sessions} == {now.astimezone(LOCAL).year}
    assert {e.starts_at.astimezone(LOCAL).hour for e in sessions} <= {9, 14}
    statuses = Counter(effective_status(e, now) for e in sessions)
    assert statuses[EventStatus.FINISHED] > 10 and statuses[EventStatus.PUBLISHED] > 10
    assert 1 <= statuses[EventStatus.DRAFT] <= 2 and statuses[EventStatus.CANCELLED] == 1

    by_kind = Counter((e.kind, e.series) for e in events)
    assert by_kind["competition", "wuchuangyuan"] >= 1 and by_kind["competition", "yingxiongbei"] >= 1
    assert by_kind["fair", "chanyi"] >= 1
    assert sum(n for (kind, _), n in by_kind.items() if kind == "roadshow") >= 3
    assert by_kind["training", "jishu-jingliren"] >= 3
    assert any(e.kind == "competition" and e.requires_approval and (e.ends_at - e.starts_at).days >= 1 for e in events)

    # The counters the services kept agree with the rows.
    statuses_by_event: dict[int, Counter[str]] = {}
    for event_id, status in await Registration.all().values_list("event_id", "status"):
        statuses_by_event.setdefault(event_id, Counter())[status] += 1
    for e in events:
        seen = statuses_by_event.get(e.id, Counter())
        assert (seen["confirmed"], seen["waitlisted"]) == (e.seats_taken, e.waitlist_length), e.title

    # Two upcoming courses are full (a 中级研修班 and the next junior class of the training programme),
    # people wait, and a freed seat went to the head of the queue.
    full = [e for e in events if e.waitlist_length > 0]
    course_events = set(await Course.all().values_list("event_id", flat=True))
    assert len(full) == 2 and len([e for e in full if e.id in course_events]) == 1
    for full_event in full:
        assert full_event.starts_at > now and full_event.seats_taken == full_event.capacity
        assert full_event.waitlist_length >= 3
        promoted_ids = await Activity.filter(kind="waitlist.promoted", event_id=full_event.id).values_list(
            "registration_id", flat=True
        )
        assert len(promoted_ids) == 1
        promoted = await Registration.get(id=promoted_ids[0])
        assert promoted.status == RegistrationStatus.CONFIRMED
        waiting = await Registration.filter(event_id=full_event.id, status=RegistrationStatus.WAITLISTED)
        assert all(promoted.waitlist_order < r.waitlist_order for r in waiting)

    # An approval event has some approved and some still pending.
    pending = Registration.filter(status=RegistrationStatus.PENDING)
    pending_events = set(await pending.values_list("event_id", flat=True))
    assert pending_events
    for event_id in pending_events:
        event = await Event.get(id=event_id)
        assert event.requires_approval and event.starts_at > now and event.seats_taken > 0

    # Past sessions were attended, one person per phone.
    past = [e for e in sessions if e.status == EventStatus.PUBLISHED and e.ends_at <= now]
    assert all(e.seats_taken >= 0.3 * e.capacity for e in past)
    phones = await Registration.filter(source="demo").values_list("person_id", "phone")
    assert len({phone for _, phone in phones}) == len(set(phones))

    await _training_programme(summary, now)
    await _supply_chain(summary)
    # The competitions came with the programme (tests/test_demo_competitions.py looks at them closely).
    contests = summary.competitions
    assert (contests.competitions, contests.conflict_cases, contests.moved_up) == (2, 6, 2)
    hero_final = await Event.get(id=(await Competition.get(id=contests.hero_id)).final_event_id)
    assert hero_final.series == "yingxiongbei" and hero_final.starts_at > now

    # A second load changes nothing.
    models = (Event, Registration, Activity, Demand, Transfer)
    counts = [await m.all().count() for m in models]
    assert await load_demo() == DemoSummary(events_created=0, registrations_created=0, already_loaded=True)
    assert [await m.all().count() for m in models] == counts


async def _supply_chain(summary: DemoSummary) -> None:
    """The supply chain came with the programme (tests/test_demo_supply.py looks at it closely): the
    goals read it, and the Telegram broker holds some of the claimed demands."""
    supply = summary.supply
    assert supply.demands == 100 and supply.achievements == 300 and supply.major_contracts == 3
    assert supply.claims_refused == 2 and supply.near_duplicates == 4
    found = {g.key: g.current for g in await goals.list_goals()}
    assert found["demands_collected"] == 100 and found["major_transfers"] == 3
    assert found["key_achievements"] == supply.key_achievements and found["contract_turnover"] > 0
    telegram_broker = await Broker.get(person__telegram_id=TELEGRAM_PEOPLE[0][0])
    assert await Demand.filter(broker_id=telegram_broker.id).exists()


async def _training_programme(summary: DemoSummary, now) -> None:
    """Brokers, courses and a ledger written by check-ins, module completions and an admin; the rules
    in force certified whoever crossed a line, and nobody is left uncertified who should be."""
    brokers = await Broker.all().select_related("person")
    assert summary.brokers_created == len(brokers) >= 40
    assert len({b.district for b in brokers}) >= 8
    assert all(b.specialties for b in brokers)

    courses = await Course.all().select_related("event").order_by("event__starts_at")
    assert [c.level for c in courses] == ["junior", "intermediate", "junior"]
    past, under_way, ahead = courses
    assert past.event.ends_at < now < under_way.event.ends_at and ahead.event.starts_at > now
    assert ahead.event.waitlist_length >= 3  # the full class (checked with the other full event above)
    assert {c.event.status for c in courses} == {EventStatus.PUBLISHED}

    sources = Counter(await CreditEntry.all().values_list("source", flat=True))
    assert sources["attendance"] >= 50 and sources["module"] >= 20
    assert sources["grant"] >= 3 and sources["correction"] >= 2
    # Attendance hours came through the door: one live or replayed scan behind each line.
    attended = await CreditEntry.filter(source="attendance").values_list("registration_id", "event_id")
    entered = set(await Attendance.all().values_list("registration_id", "event_id"))
    assert set(attended) <= entered
    assert await CheckinScan.filter(offline=True).exists()
    # The intermediate sessions credit at sign-out after five hours: someone who left at lunch has none.
    session_ids = await Event.filter(course_item__course_id=under_way.id).values_list("id", flat=True)
    inside = await Attendance.filter(event_id__in=list(session_ids)).count()
    assert 0 < await CreditEntry.filter(course_id=under_way.id, source="attendance").count() < inside

    certs = await Certification.all()
    assert summary.certifications == len(certs)
    levels = Counter(c.level for c in certs)
    assert levels["junior"] >= 5 and levels["intermediate"] >= 1
    rules = {rule.level: rule.hours for rule in certification.current_rules()}
    assert all(c.hours_tenths >= rules[c.level] * 10 and c.certified_at <= now for c in certs)
    for broker in brokers:
        assert (await certification.assess_broker(broker.id)).due == []

    # The demo Telegram person is a broker with something to show in /credits.
    telegram_id, name, *_ = TELEGRAM_PEOPLE[0]
    person = await Person.get(telegram_id=telegram_id)
    assert person.name == name and person.pref_topics
    broker = next(b for b in brokers if b.person_id == person.id)
    record = await transcripts.transcript(broker.id, tz=LOCAL)
    assert record.assessment.status == "certified" and record.assessment.level == "junior"
    assert record.assessment.next is not None and record.assessment.next.level == "intermediate"
    assert [standing.enrollment_status for standing in record.courses] == ["confirmed", "confirmed"]
    assert record.courses[0].completed and record.balances.total > 40

    leaderboard = await transcripts.list_brokers(transcripts.BrokerQuery(sort="-hours", limit=5), tz=LOCAL)
    assert leaderboard.items[0].level == "intermediate" and leaderboard.total == len(brokers)
