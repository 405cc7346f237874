"""A person's data: the export holds every kind of it, erasure removes it everywhere (keeping the counts and
the credit ledger), retention removes the details of long-finished events only."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from events import clock
from events.errors import InvalidInput, PersonNotFound
from events.models import (
    Activity,
    Attendance,
    BotState,
    Category,
    Certification,
    CheckinScan,
    CreditEntry,
    Demand,
    Entry,
    Event,
    Investor,
    Judge,
    MatchFeedback,
    MeetingRequest,
    MeetingSession,
    MeetingSlot,
    Objection,
    OutboxMessage,
    OutboxStatus,
    Participant,
    Person,
    PersonRole,
    Registration,
    RegistrationStatus,
    Role,
    Round,
)
from events.services import access_links, brokers, credits, organizations, privacy, staff
from events.services.competitions import config as comp_config
from events.services.competitions import entries as comp_entries
from events.services.people import person_for_telegram
from tests.factories import make_event, make_registration

TG = 7_700_001
NAME = "隐私测试员"
PHONE = "13912345678"
EMAIL = "privacy@example.cn"


async def _message(person_id: int, *, status: OutboxStatus, key: str, event_id: int | None = None) -> OutboxMessage:
    return await OutboxMessage.create(
        person_id=person_id,
        category=Category.REMINDER,
        dedup_key=key,
        locale="zh",
        text=f"{NAME}，您好：明天见",
        status=status,
        event_id=event_id,
        not_before=clock.now(),
        sent_at=clock.now() if status == OutboxStatus.SENT else None,
    )


async def _person_with_everything(frozen_clock: Any) -> dict[str, Any]:
    """A person known through the bot with a past registration (checked in), a coming one, a broker's
    ledger with a certificate, a demand, a competition entry, a meeting request, messages, a role."""
    person = await person_for_telegram(telegram_id=TG, name=NAME, language_code="zh")
    past_event = await make_event(capacity=10, questions=[{"key": "job", "label": "职务", "required": True}])
    past = await make_registration(
        past_event,
        name=NAME,
        phone=PHONE,
        email=EMAIL,
        telegram_id=TG,
        organization="光谷实验室",
        answers={"job": "工程师"},
    )
    assert past.registration.person_id == person.id
    await Attendance.create(
        event_id=past_event.id,
        registration_id=past.registration.id,
        day=past_event.starts_at.date(),
        checked_in_at=past_event.starts_at,
        gate="东门",
    )
    await CheckinScan.create(
        event_id=past_event.id,
        registration_id=past.registration.id,
        result="ok",
        scanned_at=past_event.starts_at,
        received_at=past_event.starts_at,
        code_digest="x" * 64,
        checker=f"telegram:{TG}",  # the person also worked a door once
    )
    # The event is over: the clock moves past it.
    frozen_clock.set(past_event.ends_at + timedelta(days=1))
    coming_event = await make_event(capacity=1)
    coming = await make_registration(coming_event, name=NAME, phone=PHONE, telegram_id=TG)
    waiting = await make_registration(coming_event, name="候补者", phone="13700000002")
    assert coming.registration.status == RegistrationStatus.CONFIRMED
    assert waiting.registration.status == RegistrationStatus.WAITLISTED
    broker = await brokers.create_broker(
        brokers.BrokerInput(person_id=person.id, organization="光谷实验室", specialties=["人工智能"]), actor="test"
    )
    await credits.grant(broker.id, hours=30, reason="线下培训", actor="test")
    await credits.grant(broker.id, hours=12.5, reason="外部课程", actor=f"telegram:{TG}")
    org = await organizations.default_organization_id()
    demand = await Demand.create(
        kind="technology", title="激光器散热方案", contact_id=person.id, managed_by_id=org, created_by=f"telegram:{TG}"
    )
    made = await comp_config.create_competition(
        comp_config.CompetitionInput(
            title="英雄杯",
            tracks=[{"code": "ai", "name": "人工智能"}],
            rounds=[{"code": "r1", "name": "初赛", "judges_per_entry": 1}],
            criteria=[{"key": "tech", "name": "技术", "weight": 1, "max": 10}],
            aggregation="mean",
        ),
        actor="test",
        organization_id=org,
    )
    entry = await comp_entries.submit_entry(
        made.competition.id,
        comp_entries.EntryInput(
            title="智能传感",
            track="ai",
            leader_name=NAME,
            team=[{"name": NAME, "role": "队长"}, {"name": "队友甲"}],
            contact_email=EMAIL,
            contact_phone=PHONE,
        ),
        actor=f"telegram:{TG}",
        scope=None,
        submitted_by_person_id=person.id,
    )
    rnd = await Round.get(competition_id=made.competition.id, code="r1")
    await Judge.create(
        competition_id=made.competition.id, person_id=person.id, name=NAME, email=EMAIL, phone=PHONE, created_by="t"
    )
    await Objection.create(
        competition_id=made.competition.id,
        entry_id=entry.id,
        round_id=rnd.id,
        objector_name=NAME,
        objector_contact=PHONE,
        objector_id=person.id,
        reason="评分不公",
        created_at=clock.now(),
    )
    await Investor.create(person_id=person.id, name=NAME, managed_by_id=org, created_by="test")
    await MatchFeedback.create(
        person_id=person.id, subject="demand:1", item="achievement:2", verdict="interested", at=clock.now()
    )
    session = await MeetingSession.create(
        event_id=coming_event.id,
        starts_at=coming_event.starts_at,
        ends_at=coming_event.ends_at,
        slot_minutes=20,
        tables=5,
        created_by="test",
    )
    slot = await MeetingSlot.create(
        session_id=session.id, number=1, starts_at=coming_event.starts_at, ends_at=coming_event.starts_at
    )
    other = await person_for_telegram(telegram_id=TG + 1, name="投资人", language_code="zh")
    mine = await Participant.create(
        event_id=coming_event.id, person_id=person.id, role="project", title="智能传感项目", created_by="test"
    )
    theirs = await Participant.create(
        event_id=coming_event.id, person_id=other.id, role="investor", title="光谷基金", created_by="test"
    )
    meeting = await MeetingRequest.create(
        session_id=session.id,
        slot_id=slot.id,
        requester_id=mine.id,
        recipient_id=theirs.id,
        table_no=1,
        message="想聊聊",
        created_by=f"telegram:{TG}",
        created_at=clock.now(),
    )
    sent = await _message(person.id, status=OutboxStatus.SENT, key="p:sent", event_id=past_event.id)
    queued = await _message(person.id, status=OutboxStatus.QUEUED, key="p:queued", event_id=coming_event.id)
    await staff.grant_role(person, role=Role.CHECKER, event_ids=[coming_event.id], actor="test")
    await BotState.create(key=f"fsm:123:{TG}:{TG}", state="RegisterFlow:name", data={"name": NAME})
    await access_links.access_token(past.registration)
    return {
        "person": person,
        "past_event": past_event,
        "past": past.registration,
        "coming_event": coming_event,
        "coming": coming.registration,
        "waiting": waiting.registration,
        "broker": broker,
        "demand": demand,
        "entry": entry,
        "meeting": meeting,
        "sent": sent,
        "queued": queued,
    }


async def test_the_export_holds_every_kind_of_data(db, frozen_clock):
    w = await _person_with_everything(frozen_clock)
    found = await privacy.export_person(w["person"].id)
    assert found.profile.name == NAME and found.profile.telegram_id == TG and found.profile.phone == "+86" + PHONE
    assert found.profile.roles == [f"checker@{await organizations.default_organization_id()}"]
    assert found.notice_version
    by_id = {r.id: r for r in found.registrations}
    past = by_id[w["past"].id]
    assert past.event_title == w["past_event"].title and past.answers == {"job": "工程师"}
    assert past.phone == "+86" + PHONE and past.email == EMAIL and past.organization == "光谷实验室"
    assert past.consent_version is None  # stored by the web form; none for an older registration
    assert by_id[w["coming"].id].status == "confirmed"
    assert [(c.event_title, c.gate) for c in found.checkins] == [(w["past_event"].title, "东门")]
    assert found.broker is not None and found.broker.balance_hours == 42.5
    assert len(found.broker.credits) == 2 and found.broker.certificates[0].level == "junior"
    assert [(d.title, d.role) for d in found.demands] == [("激光器散热方案", "contact")]
    assert [(e.title, e.roles) for e in found.competition_entries] == [("智能传感", ["leader", "submitter"])]
    assert [(m.side, m.with_title, m.message) for m in found.meeting_requests] == [("requester", "光谷基金", "想聊聊")]
    assert {(m.category, m.status, m.channel) for m in found.messages} == {
        ("reminder", "sent", "telegram"),
        ("reminder", "queued", "telegram"),
    }
    assert [(j.name, j.email) for j in found.judge_seats] == [(NAME, EMAIL)]
    assert [(o.objector_name, o.reason) for o in found.objections] == [(NAME, "评分不公")]
    assert [(r.kind, r.title) for r in found.linked_records] == [("investor", NAME)]
    assert [(f.subject, f.verdict) for f in found.match_feedback] == [("demand:1", "interested")]
    kinds = {a.kind for a in found.activity}
    assert {"registration.confirmed", "broker.created"} <= kinds
    # It is JSON a person can keep, with no secret in it (no link tokens, no message texts).
    text = found.model_dump_json()
    assert json.loads(text)["profile"]["name"] == NAME
    assert "明天见" not in text and (await access_links.access_token(w["past"])) not in text


async def test_export_of_nobody(db):
    with pytest.raises(PersonNotFound):
        await privacy.export_person(999)


async def _ledger(broker_id: int) -> tuple[int, list[tuple[Any, ...]]]:
    lines = await CreditEntry.filter(broker_id=broker_id).order_by("id").values_list("hours_tenths", "source", "reason")
    certs = await Certification.filter(broker_id=broker_id).order_by("id").values_list("level", "number", "state")
    return sum(line[0] for line in lines), [*lines, *certs]


async def test_erasure_removes_personal_data_everywhere_and_keeps_the_counts(db, frozen_clock):
    w = await _person_with_everything(frozen_clock)
    person = w["person"]
    ledger_before = await _ledger(w["broker"].id)
    past_token = await access_links.access_token(w["past"])
    result = await privacy.erase_person(person.id, actor="token:1:admin")
    assert result.registrations_cancelled == 1 and result.messages_cancelled == 1 and not result.already_erased
    assert result.pseudonym.startswith("已删除用户#") and NAME not in result.pseudonym

    erased = await Person.get(id=person.id)
    assert erased.name == result.pseudonym and erased.erased_at is not None
    assert (erased.phone, erased.email, erased.telegram_id, erased.organization, erased.calendar_token) == (None,) * 5
    # Past registration: kept for the counts, without details; the web link is dead.
    past = await Registration.get(id=w["past"].id)
    assert past.status == RegistrationStatus.CONFIRMED and past.anonymised_at is not None
    assert (past.name, past.phone, past.email, past.telegram_id) == (result.pseudonym, None, None, None)
    assert past.answers == {}
    with pytest.raises(access_links.AccessLinkInvalid):
        await access_links.registration_by_token(past_token)
    assert await Attendance.filter(registration_id=past.id).count() == 1
    # Coming registration: cancelled through the cancel service, so the waitlist moved up.
    assert (await Registration.get(id=w["coming"].id)).status == RegistrationStatus.CANCELLED
    assert (await Registration.get(id=w["waiting"].id)).status == RegistrationStatus.CONFIRMED
    coming_event = await Event.get(id=w["coming_event"].id)
    assert (coming_event.seats_taken, coming_event.waitlist_length) == (1, 0)
    assert await Activity.filter(kind="waitlist.promoted", registration_id=w["waiting"].id).exists()
    # The ledger and the certificate add up exactly as before.
    assert await _ledger(w["broker"].id) == ledger_before
    # Copies of the name and contacts elsewhere.
    entry = await Entry.get(id=w["entry"].id)
    assert entry.leader_name == result.pseudonym and entry.contact_email is None and entry.contact_phone is None
    assert [m["name"] for m in entry.team] == [result.pseudonym, "队友甲"]
    # Messages: the queued one never goes; no text is kept.
    assert (await OutboxMessage.get(id=w["queued"].id)).status == OutboxStatus.SKIPPED
    assert set(await OutboxMessage.filter(person_id=person.id).values_list("text", flat=True)) == {""}
    assert not await PersonRole.filter(person_id=person.id).exists()
    assert not await BotState.filter(key__contains=str(TG)).exists()
    # Logs keep ids, not the Telegram id.
    for model, column in ((Activity, "actor"), (CreditEntry, "author"), (CheckinScan, "checker")):
        assert not await model.filter(**{column: f"telegram:{TG}"}).exists()
    assert await CheckinScan.filter(checker=f"person:{person.id}").count() == 1
    assert (await Demand.get(id=w["demand"].id)).created_by == f"person:{person.id}"
    assert (await MeetingRequest.get(id=w["meeting"].id)).created_by == f"person:{person.id}"
    fact = await Activity.get(kind="privacy.erased")
    assert fact.person_id == person.id and fact.actor == "token:1:admin"
    assert NAME not in json.dumps(fact.payload, ensure_ascii=False) and PHONE not in json.dumps(fact.payload)
    # Nothing anywhere in the database still holds the name, the phone, the e-mail or the Telegram id.
    leftovers = await _search_everywhere([NAME, PHONE, EMAIL, str(TG)])
    assert leftovers == [], leftovers


async def _search_everywhere(needles: list[str]) -> list[str]:
    from tortoise import Tortoise

    found = []
    for model in Tortoise.apps.get_models_iterable():
        for row in await model.all().values():
            text = json.dumps(row, ensure_ascii=False, default=str)
            found += [f"{model.__name__}:{row.get('id', row.get('key'))}:{n}" for n in needles if n in text]
    return found


async def test_erasure_is_idempotent(db, frozen_clock):
    w = await _person_with_everything(frozen_clock)
    first = await privacy.erase_person(w["person"].id, actor="test")
    again = await privacy.erase_person(w["person"].id, actor="test")
    assert again.already_erased and again.pseudonym == first.pseudonym
    assert (again.registrations_cancelled, again.registrations_anonymised, again.messages_cancelled) == (0, 0, 0)
    assert await Activity.filter(kind="privacy.erased").count() == 1
    assert (await Registration.get(id=w["waiting"].id)).status == RegistrationStatus.CONFIRMED


async def test_someone_who_comes_back_after_erasure_is_a_new_person(db, frozen_clock):
    w = await _person_with_everything(frozen_clock)
    await privacy.erase_person(w["person"].id, actor="test")
    back = await person_for_telegram(telegram_id=TG, name="新名字", language_code="zh")
    assert back.id != w["person"].id and back.erased_at is None


async def test_erasing_nobody(db):
    with pytest.raises(PersonNotFound):
        await privacy.erase_person(12345, actor="test")


async def test_retention_purges_only_events_finished_longer_ago(db, frozen_clock):
    old_event = await make_event(capacity=10)
    old = await make_registration(old_event, name="老朋友", phone="13800000001", answers={})
    await _message(old.registration.person_id, status=OutboxStatus.SENT, key="old:sent", event_id=old_event.id)
    recent_event = await make_event(capacity=10, starts_in=timedelta(days=200))
    recent = await make_registration(recent_event, name="新朋友", phone="13800000002")
    coming_event = await make_event(capacity=10, starts_in=timedelta(days=800))
    coming = await make_registration(coming_event, name="未来人", phone="13800000003")
    # 2 years and a day after the old event ended; the recent one ended about 1.5 years before.
    frozen_clock.set(old_event.ends_at + timedelta(days=731))
    period = timedelta(days=730)

    dry = await privacy.purge_finished(period, actor="cli", dry_run=True)
    assert (dry.events, dry.registrations, dry.messages, dry.dry_run) == (1, 1, 1, True)
    assert (await Registration.get(id=old.registration.id)).name == "老朋友"  # changed nothing
    assert not await Activity.filter(kind="privacy.retention_purged").exists()

    done = await privacy.purge_finished(period, actor="cli")
    assert (done.events, done.registrations, done.messages) == (1, 1, 1)
    assert done.cutoff == clock.now() - period
    purged = await Registration.get(id=old.registration.id)
    assert purged.name == privacy.pseudonym(purged.person_id) and purged.phone is None
    assert purged.status == RegistrationStatus.CONFIRMED and purged.anonymised_at == clock.now()
    assert (await OutboxMessage.get(dedup_key="old:sent")).text == ""
    assert (await Registration.get(id=recent.registration.id)).name == "新朋友"
    assert (await Registration.get(id=coming.registration.id)).name == "未来人"
    assert await Activity.filter(kind="privacy.retention_purged").count() == 1

    again = await privacy.purge_finished(period, actor="cli")
    assert (again.registrations, again.messages) == (0, 0)
    assert await Activity.filter(kind="privacy.retention_purged").count() == 1


async def test_retention_needs_a_period(db):
    with pytest.raises(InvalidInput):
        await privacy.purge_finished(timedelta(0), actor="cli")


def test_the_purge_command(env):
    from tests.cli_helpers import run

    dry = run("privacy", "purge", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert "would remove the details of 0 registrations" in dry.stdout and "(730 days)" in dry.stdout
    off = run("privacy", "purge", env=env | {"WUCHUANG_RETENTION_DAYS": "0"})
    assert off.returncode == 0 and "retention is off" in off.stdout
    nobody = run("privacy", "erase", "--person-id", "42", env=env)
    assert nobody.returncode == 1 and "No such person" in nobody.stderr
    assert "privacy" in run("--help", env=env).stdout


async def test_the_daily_pass_of_the_scheduler(db, frozen_clock):
    from notifications.scheduler import retention_pass

    event = await make_event(capacity=10)
    registration = (await make_registration(event, name="过客", phone="13800000007")).registration
    frozen_clock.set(event.ends_at + timedelta(days=31))
    assert await retention_pass(0) is None  # off
    assert (await retention_pass(31)).registrations == 0  # type: ignore[union-attr]  # not yet 31 days
    assert (await Registration.get(id=registration.id)).name == "过客"
    frozen_clock.set(event.ends_at + timedelta(days=31, seconds=1))
    assert (await retention_pass(31)).registrations == 1  # type: ignore[union-attr]
    assert (await Registration.get(id=registration.id)).phone is None
    fact = await Activity.get(kind="privacy.retention_purged")
    assert fact.actor == "retention" and fact.payload["registrations"] == 1
