"""Brokers hear of their credit hours and certifications, and are reminded of their course's sessions."""

from __future__ import annotations

import io
from datetime import timedelta

import zxingcpp
from PIL import Image

from events.i18n import gettext
from events.models import Category, OutboxMessage, Person, Registration, RegistrationStatus
from events.services import certification, courses, credits, tickets
from events.settings import LevelRule
from notifications.dispatcher import ticket_photo_loader
from notifications.producers import Producer
from notifications.scheduler import produce_reminders
from tests import test_training_service as training
from tests.factories import make_registration

rules = training.rules  # junior: 10 h and course JR-1, valid a year; intermediate: 20 h


async def outbox(category: Category) -> list[OutboxMessage]:
    return await OutboxMessage.filter(category=category).order_by("id")


async def test_each_ledger_line_and_the_certification_reach_the_broker_once(db, frozen_clock, rules):
    broker = await training.make_broker(1, telegram_id=7001)
    english = await training.make_broker(2, telegram_id=7002)
    await Person.filter(id=english.person_id).update(language="en")
    quiet = await training.make_broker(3, telegram_id=7003)
    await Person.filter(id=quiet.person_id).update(opted_out=["credits"])
    course, sessions = await training.make_course()
    enrollment = (await courses.enroll(course.id, broker.id, actor="test")).registration
    await credits.grant(broker.id, hours=2, reason="线下讲座补录", actor="admin")
    await credits.complete_module(course.id, "M1", broker_id=broker.id, external_id="m1", completed_at=None, actor="x")
    await training.scan_at(db, enrollment, sessions[0].id)
    frozen_clock.set(sessions[1].starts_at - timedelta(minutes=5))
    await training.scan_at(db, enrollment, sessions[1].id)  # 12 h and the course done: junior
    await credits.grant(english.id, hours="1.5", reason="Provincial workshop", actor="admin")
    await credits.grant(quiet.id, hours=3, reason="不想收到消息", actor="admin")

    producer = Producer()
    await producer.drain()  # read late, all at once: each message still tells its own moment
    await producer.drain()
    messages = await outbox(Category.CREDITS)
    mine = [m for m in messages if m.person_id == broker.person_id]
    assert [m.dedup_key.split(":")[0] for m in mine] == ["credit"] * 4 + ["certified"]
    junior, intermediate = gettext("zh", "Junior"), gettext("zh", "Intermediate")
    assert "+2" in mine[0].text and "线下讲座补录" in mine[0].text and "2 / 10" in mine[0].text
    assert "6 / 10" in mine[1].text and "政策法规在线课" in mine[1].text and "技术经理人初级班" in mine[1].text
    assert "9 / 10" in mine[2].text and junior in mine[2].text and "0 / 1" in mine[2].text
    assert "12 / 20" in mine[3].text and intermediate in mine[3].text  # the line that certified moves the goal on
    certified = mine[4]
    assert certified.dedup_key == f"certified:{broker.id}:junior:1" and junior in certified.text
    assert "2026年6月8日" in certified.text and "2027年6月8日" in certified.text and "12" in certified.text
    assert not any(m.urgent for m in messages)  # quiet hours apply
    (theirs,) = [m for m in messages if m.person_id == english.person_id]
    assert theirs.text.startswith("🎓 +1.5 credit hours · Provincial workshop")
    assert "Total: 1.5 / 10 hours toward Junior" in theirs.text
    assert not [m for m in messages if m.person_id == quiet.person_id]


async def test_a_renewal_and_a_correction_are_told_as_such(db, frozen_clock, rules):
    broker = await training.make_broker(1, telegram_id=7001, name="Wang")
    await Person.filter(id=broker.person_id).update(language="en")
    certification.use_rules([LevelRule(level="junior", hours=10, valid_years=1, renewal_hours=4)])
    # 11 h: the correction below leaves the line met (one that does not is test_a_correction_below_the_line_…).
    granted = await credits.grant(broker.id, hours=11, reason="Initial hours", actor="admin")
    frozen_clock.set(frozen_clock.now + timedelta(days=400))  # the certification lapsed
    await credits.correct(broker.id, entry_id=granted.entry.id, hours=-1, reason="Typo", actor="admin")
    await credits.grant(broker.id, hours=5, reason="CPD", actor="admin")
    await Producer().drain()
    texts = [m.text for m in await outbox(Category.CREDITS)]
    assert "Congratulations" in texts[1]
    assert "-1 credit hours · correction: Typo" in texts[2] and "0 / 4 hours toward renewing Junior" in texts[2]
    assert "is renewed" in texts[4] and "Total: 15 hours" in texts[3]


async def test_enrolled_brokers_are_reminded_of_each_session_with_their_pass(db, frozen_clock, rules):
    course, sessions = await training.make_course()
    enrolled = await training.make_broker(1, telegram_id=7001)
    english = await training.make_broker(2, telegram_id=7002)
    await Person.filter(id=english.person_id).update(language="en")
    no_reminders = await training.make_broker(3, telegram_id=7003)
    await Person.filter(id=no_reminders.person_id).update(opted_out=["reminder"])
    both = await training.make_broker(4, telegram_id=7004)
    withdrawn = await training.make_broker(5, telegram_id=7005)
    passes = {}
    for broker in (enrolled, english, no_reminders, both, withdrawn):
        passes[broker.id] = (await courses.enroll(course.id, broker.id, actor="test")).registration
    await courses.withdraw(course.id, withdrawn.id, actor="test")
    # Registered for the first session itself too: the ordinary reminder of that registration is enough.
    both_person = await Person.get(id=both.person_id)
    await make_registration(sessions[0], name=both_person.name, phone=both_person.phone, telegram_id=7004)

    first = await produce_reminders()  # the first session starts in 30 minutes, the course's event in 20
    assert first.queued == 3
    again = await produce_reminders()
    assert again.queued == 0
    rows = await outbox(Category.REMINDER)
    by_person = {r.person_id: r for r in rows}
    assert set(by_person) == {enrolled.person_id, english.person_id, both.person_id}
    assert all(r.event_id == sessions[0].id for r in rows)  # none for the course's own event
    pass_row = by_person[enrolled.person_id]
    assert pass_row.dedup_key == f"reminder:120m:session:{sessions[0].id}:enrollment:{passes[enrolled.id].id}"
    assert pass_row.photo == {"ticket_registration_id": passes[enrolled.id].id} and pass_row.urgent
    assert "技术经理人初级班" in pass_row.text and sessions[0].title in pass_row.text
    assert "course pass is attached" in by_person[english.person_id].text
    assert by_person[both.person_id].dedup_key.startswith("reminder:120m:registration:")
    # The photo the dispatcher attaches is the pass's QR, which the door accepts for the session.
    png = await ticket_photo_loader(tickets.signer_for(db.data_dir.resolve()))(pass_row.photo)
    (decoded,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    signer = tickets.signer_for(db.data_dir.resolve())
    assert decoded.text == tickets.ticket_code(await Registration.get(id=passes[enrolled.id].id), signer)

    frozen_clock.set(sessions[1].starts_at - timedelta(hours=24))
    assert (await produce_reminders()).queued == 3  # now the pass reminds the one registered for the first
    assert (await produce_reminders()).queued == 0
    second = [r for r in await outbox(Category.REMINDER) if r.event_id == sessions[1].id]
    assert {r.dedup_key.split(":")[1] for r in second} == {"1440m"}
    assert (await Registration.get(id=passes[withdrawn.id].id)).status == RegistrationStatus.CANCELLED
    assert withdrawn.person_id not in {r.person_id for r in second}


async def test_a_moved_or_cancelled_session_reaches_its_course_passes_and_sessions_invite_nobody(
    db, frozen_clock, rules
):
    from events.services import catalog

    fan = await Person.create(name="关注者", telegram_id=7100, pref_kinds=["training"])
    course, sessions = await training.make_course()
    producer = Producer()
    await producer.drain()
    invited = {r.event_id for r in await outbox(Category.INVITATION) if r.person_id == fan.id}
    assert course.event_id in invited and not invited & {s.id for s in sessions}

    enrolled = await training.make_broker(8, telegram_id=7008)
    await courses.enroll(course.id, enrolled.id, actor="test")
    # Also registered for the second session itself: told once, not twice.
    person = await Person.get(id=enrolled.person_id)
    await make_registration(sessions[1], name=person.name, phone=person.phone, telegram_id=7008)
    await catalog.update_event(sessions[1].id, catalog.EventPatch(venue="光谷科技会展中心B馆"), actor="org")
    await catalog.cancel_event(sessions[0].id, actor="org", reason="讲师临时出差")
    await producer.drain()
    changed = [r for r in await outbox(Category.EVENT_CHANGED) if r.person_id == enrolled.person_id]
    cancelled = [r for r in await outbox(Category.EVENT_CANCELLED) if r.person_id == enrolled.person_id]
    assert [r.event_id for r in changed] == [sessions[1].id]
    assert [r.event_id for r in cancelled] == [sessions[0].id] and "讲师临时出差" in cancelled[0].text


async def test_a_correction_below_the_line_and_an_admins_revocation_reach_the_broker(db, frozen_clock):
    """The issue's case as the broker hears it: certified at 40 h, a -36 h correction suspends the
    certificate (naming the line), hours coming back make it valid again, an admin's revocation says why."""
    certification.use_rules([LevelRule(level="junior", hours=40)])
    try:
        broker = await training.make_broker(1, telegram_id=7001)
        english = await training.make_broker(2, telegram_id=7002)
        await Person.filter(id=english.person_id).update(language="en")
        granted = await credits.grant(broker.id, hours=40, reason="线下培训补录", actor="admin")
        (cert,) = granted.certified
        corrected = await credits.correct(
            broker.id, entry_id=granted.entry.id, hours=-36, reason="重复录入", actor="admin"
        )
        await credits.grant(broker.id, hours=36, reason="核实后补回", actor="admin")
        await certification.revoke_certificate(broker.id, cert.id, reason="材料不实", actor="admin")
        theirs = await credits.grant(english.id, hours=40, reason="Workshop", actor="admin")
        await credits.correct(english.id, entry_id=theirs.entry.id, hours=-36, reason="Duplicate", actor="admin")

        await Producer().drain()
        await Producer().drain()
        mine = [m for m in await outbox(Category.CREDITS) if m.person_id == broker.person_id]
        kinds = [m.dedup_key.split(":")[0] for m in mine]
        assert kinds == ["credit", "certified", "credit", "certification", "credit", "certification", "certification"]
        assert cert.number in mine[1].text  # the certificate's number comes with the congratulations
        suspended, reinstated, revoked = mine[3], mine[5], mine[6]
        assert "已暂停" in suspended.text and cert.number in suspended.text and "初级" in suspended.text
        assert f"第 {corrected.entry.id} 条" in suspended.text and "4 / 40" in suspended.text
        assert "重复录入" in suspended.text
        assert "已恢复有效" in reinstated.text and "40 学时" in reinstated.text
        assert "已被撤销" in revoked.text and "材料不实" in revoked.text
        (told,) = [
            m
            for m in await outbox(Category.CREDITS)
            if m.person_id == english.person_id and "certification:" in m.dedup_key
        ]
        assert f"Your Junior certificate {theirs.certified[0].number} is suspended." in told.text
        assert "4 of 40 hours" in told.text and "Duplicate" in told.text
    finally:
        certification.use_rules(None)
