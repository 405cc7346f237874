"""Producers and reminders: who hears about what, once, in their language."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import jinja2
import pytest

from events.errors import DomainError
from events.models import Category, OutboxMessage, OutboxStatus, Person
from events.services import broadcasts, catalog
from events.services import registration as reg
from events.services.connections import Ref
from notifications.opportunities import Opportunity
from notifications.outbox import Queued, enqueue, enqueue_many
from notifications.producers import Limits, Producer, enqueue_matched_opportunity
from notifications.render import render
from notifications.scheduler import _owed_reminders, produce_reminders
from tests.factories import make_event, make_registration


async def person(n: int, **fields: object) -> Person:
    return await Person.create(name=f"用户{n}", telegram_id=5000 + n, phone=f"1360000{n:04d}", **fields)


async def rows(category: Category | None = None) -> list[OutboxMessage]:
    qs = OutboxMessage.all().order_by("id")
    return await (qs.filter(category=category) if category else qs)


async def test_promotion_confirmation_change_and_cancellation_reach_registrants(db, frozen_clock):
    event = await make_event(capacity=1)
    alice, bob = await person(1), await person(2, language="en")
    first = await make_registration(event, phone=alice.phone, telegram_id=alice.telegram_id)
    await make_registration(event, phone=bob.phone, telegram_id=bob.telegram_id)
    await make_registration(event, n=77)  # no Telegram, no e-mail: nobody to tell
    producer = Producer()
    await producer.drain()
    # registered through the API: each hears their place (a seat, or the waitlist), as mail registrants do
    told = await rows(Category.REGISTRATION_CONFIRMED)
    assert [r.person_id for r in told] == [alice.id, bob.id] and "waitlist" in told[1].text
    await reg.cancel_registration(first.registration.id, actor="alice")
    await catalog.update_event(event.id, catalog.EventPatch(venue="武汉大学"), actor="org")
    await catalog.update_event(event.id, catalog.EventPatch(description="只改说明"), actor="org")
    await producer.drain()
    await producer.drain()  # reading again changes nothing
    promoted = await rows(Category.WAITLIST_PROMOTED)
    assert [r.person_id for r in promoted] == [bob.id]
    assert promoted[0].photo == {"ticket_registration_id": (await bob.registrations.all())[0].id}
    assert "A seat freed up" in promoted[0].text and promoted[0].urgent
    changed = await rows(Category.EVENT_CHANGED)
    assert [r.person_id for r in changed] == [bob.id] and "武汉大学" in changed[0].text
    await catalog.cancel_event(event.id, actor="org", reason="场地检修")
    await producer.drain()
    cancelled = await rows(Category.EVENT_CANCELLED)
    assert [r.person_id for r in cancelled] == [bob.id] and "场地检修" in cancelled[0].text


async def test_publishing_invites_matching_people_within_the_weekly_cap(db, frozen_clock):
    fan = await person(1, pref_districts=["hongshan"], pref_topics=["人工智能"])
    elsewhere = await person(2, pref_districts=["jiangxia"])
    anything = await person(3)
    opted_out = await person(4, opted_out=["invitation"])
    await person(5, telegram_blocked_at=frozen_clock.now)
    producer = Producer(limits=Limits(invitations_per_week=1), bot_username="wuchuang_bot")
    first = await make_event(district="hongshan", tags=["人工智能"])
    await producer.drain()
    invited = await rows(Category.INVITATION)
    assert sorted(r.person_id for r in invited) == sorted([fan.id, anything.id])
    assert not any(r.urgent for r in invited)
    assert invited[0].buttons[0][0]["url"] == f"https://t.me/wuchuang_bot?start=ev_{first.public_id}"
    await make_event(district="hongshan", tags=["人工智能"])
    await producer.drain()
    assert len(await rows(Category.INVITATION)) == 2  # the cap held
    assert elsewhere.id not in {r.person_id for r in await rows()} and opted_out.id not in {
        r.person_id for r in await rows()
    }


async def test_the_weekly_cap_holds_for_everyone_on_the_bot_across_events_published_together(db, frozen_clock):
    # More people than one count query takes (900), three events read in one batch, a cap of two.
    await Person.bulk_create(
        [Person(name=f"用户{n}", telegram_id=90_000 + n, phone=f"1370000{n:04d}") for n in range(950)]
    )
    earlier = (await Person.filter(telegram_id=90_000 + 949).first()).id  # one invitation already this week
    await OutboxMessage.create(
        person_id=earlier,
        category=Category.INVITATION,
        dedup_key="earlier",
        text="早",
        locale="zh",
        not_before=frozen_clock.now,
        created_at=frozen_clock.now,
    )
    for _ in range(3):
        await make_event()
    await Producer(limits=Limits(invitations_per_week=2)).drain()
    per_person = Counter(r.person_id for r in await rows(Category.INVITATION))
    assert len(per_person) == 950
    assert per_person[earlier] == 2  # the earlier one and one of the three
    assert set(per_person.values()) == {2}


async def test_enqueue_many_writes_what_enqueue_would_once_per_key(db, frozen_clock):
    a, b = await person(1), await person(2, language="en")
    blocked = await person(3, telegram_blocked_at=frozen_clock.now)
    assert await enqueue(a, Category.INVITATION, dedup_key="k:a", text="旧")
    buttons = [[{"text": "View", "url": "https://example.org/e/1"}]]
    written = await enqueue_many(
        Category.INVITATION,
        [
            Queued(a, "k:a", "新"),  # queued already: left alone
            Queued(b, "k:b", "B", event_id=None, buttons=buttons),
            Queued(b, "k:b", "again"),  # the same key twice in one call: once
            Queued(blocked, "k:c", "C"),  # nobody to tell
        ],
    )
    assert written == 1
    found = await rows(Category.INVITATION)
    assert [(r.person_id, r.dedup_key, r.text) for r in found] == [(a.id, "k:a", "旧"), (b.id, "k:b", "B")]
    new = found[1]
    assert (new.locale, new.urgent, new.buttons) == ("en", False, buttons)
    assert new.created_at == new.not_before == frozen_clock.now
    assert await enqueue_many(Category.INVITATION, []) == 0


async def test_concurrent_producers_do_not_double(db, frozen_clock):
    event = await make_event(capacity=1)
    people = [await person(i) for i in range(6)]
    for p in people:
        await make_registration(event, phone=p.phone, telegram_id=p.telegram_id)
    await catalog.update_event(event.id, catalog.EventPatch(title="新标题"), actor="org")
    await asyncio.gather(*(Producer().drain() for _ in range(3)))
    keys = [r.dedup_key for r in await rows()]
    assert len(keys) == len(set(keys))
    assert len(await rows(Category.EVENT_CHANGED)) == 6


async def test_reminders_once_late_but_useful_and_never_after_the_start(db, frozen_clock):
    start = frozen_clock.now + timedelta(days=2)
    event = await make_event(starts_at=start, capacity=10)
    people = [await person(i) for i in range(3)]
    for p in people:
        await make_registration(event, phone=p.phone, telegram_id=p.telegram_id)
    assert (await produce_reminders()).queued == 0  # nothing due two days ahead
    frozen_clock.set(start - timedelta(hours=24))
    assert (await produce_reminders()).queued == 3
    assert (await produce_reminders()).queued == 0  # a second pass (or a restart) adds nothing
    reminders = await rows(Category.REMINDER)
    assert {r.dedup_key.split(":")[1] for r in reminders} == {"1440m"} and "Tomorrow" not in reminders[0].text
    # The process was down from 22 h to 1 h before: only the nearest reminder goes, late but useful.
    frozen_clock.set(start - timedelta(minutes=60))
    assert (await produce_reminders()).queued == 3
    two_hour = [r for r in await rows(Category.REMINDER) if r.dedup_key.startswith("reminder:120m")]
    assert len(two_hour) == 3 and all(r.urgent for r in two_hour)
    frozen_clock.set(start + timedelta(minutes=1))
    passed = await produce_reminders()
    assert passed.skipped == 6  # nothing was sent yet: all queued reminders are dropped with a reason
    assert {r.last_error for r in await rows(Category.REMINDER)} == {"the event has started or was cancelled"}


async def test_reminders_go_to_who_can_be_reached_including_who_became_reachable(db, frozen_clock):
    event = await make_event(starts_in=timedelta(hours=30), capacity=10)
    reachable_as = {
        "chat": {"telegram_id": 6001},
        "blocked chat, good mail": {"telegram_id": 6002, "telegram_blocked_at": frozen_clock.now, "email": "b@x.cn"},
        "bounced mail": {"email": "c@x.cn", "email_bounced": "c@x.cn"},
        "new address since the bounce": {"email": "d@x.cn", "email_bounced": "old@x.cn"},
        "blank mail": {"email": ""},
        "opted out": {"telegram_id": 6006, "opted_out": [Category.REMINDER.value]},
        "phone only": {},
    }
    person_of = {}
    for n, (who, fields) in enumerate(reachable_as.items()):
        person_id = (await make_registration(event, n=900 + n)).registration.person_id
        await Person.filter(id=person_id).update(**fields)
        person_of[who] = person_id
    frozen_clock.set(event.starts_at - timedelta(hours=24))
    assert (await produce_reminders()).queued == 3
    reminded = {r.person_id for r in await rows(Category.REMINDER)}
    assert reminded == {person_of[w] for w in ("chat", "blocked chat, good mail", "new address since the bounce")}
    # Linking Telegram, or a new address after a bounce, before the event: the next pass reminds them.
    await Person.filter(id=person_of["phone only"]).update(telegram_id=6007)
    await Person.filter(id=person_of["bounced mail"]).update(email="c2@x.cn")
    frozen_clock.set(frozen_clock.now + timedelta(minutes=1))
    assert (await produce_reminders()).queued == 2
    assert (await produce_reminders()).queued == 0
    keys = Counter(r.dedup_key for r in await rows(Category.REMINDER))
    assert set(keys.values()) == {1} and len(keys) == 5
    # A pass reads only who is still owed one (the opted-out, left out in Python), not every registrant.
    assert [owed[1] for owed in await _owed_reminders(event.id, 1440)] == [person_of["opted out"]]


async def test_cancelled_event_sends_no_reminders(db, frozen_clock):
    event = await make_event(starts_in=timedelta(hours=3))
    p = await person(1)
    await make_registration(event, phone=p.phone, telegram_id=p.telegram_id)
    await catalog.cancel_event(event.id, actor="org")
    frozen_clock.set(event.starts_at - timedelta(hours=1))
    assert (await produce_reminders()).queued == 0


async def test_broadcast_and_cancelling_its_queued_part(db, frozen_clock):
    event = await make_event()
    people = [await person(i) for i in range(4)]
    for p in people:
        await make_registration(event, phone=p.phone, telegram_id=p.telegram_id)
    sent = await broadcasts.create_broadcast(event.id, "请提前 15 分钟到场 & 携带身份证", actor="org")
    await Producer().drain()
    messages = await rows(Category.BROADCAST)
    assert len(messages) == 4 and "&amp;" in messages[0].text  # HTML-escaped for Telegram
    await OutboxMessage.filter(id=messages[0].id).update(status=OutboxStatus.SENT)
    assert await broadcasts.cancel_broadcast(sent.id, actor="org") == 3
    assert sorted(r.status for r in await rows(Category.BROADCAST)) == ["sent", "skipped", "skipped", "skipped"]
    with pytest.raises(DomainError) as info:
        await broadcasts.cancel_broadcast(sent.id, actor="org")
    assert info.value.code == "invalid_transition"


async def test_a_broadcast_larger_than_a_batch_reaches_each_person_once(db, frozen_clock, monkeypatch):
    event = await make_event(capacity=3, waitlist_enabled=True)
    people = [await person(i) for i in range(7)]
    placed = [await make_registration(event, phone=p.phone, telegram_id=p.telegram_id) for p in people]
    await reg.cancel_registration(placed[0].registration.id, actor="org")  # a seat given up: not told
    late = await person(7)
    await make_registration(event, phone=late.phone, telegram_id=late.telegram_id)  # took it: 7 in all
    monkeypatch.setattr(broadcasts, "BATCH", 2)
    whole = await broadcasts.registrants(event.id)
    batches = [batch async for batch in broadcasts.registrants_in_batches(event.id)]
    assert [len(b) for b in batches] == [2, 2, 2, 1]
    assert [r.id for b in batches for r in b] == [r.id for r in whole]
    assert all(r.person.id for b in batches for r in b)  # loaded with their person
    confirmed = await broadcasts.registrants(event.id, audience="confirmed")
    assert len(confirmed) == 3 and {r.id for r in confirmed} <= {r.id for r in whole}

    await broadcasts.create_broadcast(event.id, "会场改到 B 座", actor="org")
    await Producer().drain()
    told = sorted(m.person_id for m in await rows(Category.BROADCAST))
    assert told == sorted(r.person_id for r in whole) and len(set(told)) == 7
    assert placed[0].registration.person_id not in told


async def test_matched_opportunities_are_capped(db, frozen_clock):
    p = await person(1)

    def offer(n: int) -> Opportunity:
        reasons = {"zh": ["集成电路", "东湖高新区"]}
        return Opportunity(Ref("person", p.id), Ref("demand", n), "光刻胶国产化需求", None, reasons, 0.9)

    assert await enqueue_matched_opportunity(p, offer(1), limits=Limits(matches_per_week=1))
    assert not await enqueue_matched_opportunity(p, offer(2), limits=Limits(matches_per_week=1))
    (row,) = await rows(Category.MATCHED_OPPORTUNITY)
    assert "集成电路 · 东湖高新区" in row.text


def test_templates_render_in_both_languages_and_refuse_missing_values():
    class Event:
        title, venue, address = "北斗专场", "光谷", None

    zh = render("event_changed", "zh-hans", event=Event(), when="明天")
    en = render("event_changed", "en", event=Event(), when="tomorrow")
    assert zh != en and "北斗专场" in zh and "has changed" in en
    with pytest.raises(jinja2.UndefinedError):
        render("event_changed", "zh", event=Event())


async def test_notifications_api(client, frozen_clock):
    from tests.factories import bearer, make_token

    token = await make_token()
    event = await make_event()
    p = await person(1)
    await make_registration(event, phone=p.phone, telegram_id=p.telegram_id)
    created = await client.post(
        f"/api/v1/events/{event.id}/broadcasts", json={"text": "会议改在 3 楼"}, headers=bearer(token)
    )
    assert created.status_code == 201
    assert (
        await client.post(f"/api/v1/events/{event.id}/broadcasts", json={"text": ""}, headers=bearer(token))
    ).status_code == 422
    await Producer().drain()
    listed = (
        await client.get(
            "/api/v1/notifications", params={"event_id": event.id, "category": "broadcast"}, headers=bearer(token)
        )
    ).json()["items"]
    assert len(listed) == 1 and listed[0]["status"] == "queued"
    await OutboxMessage.filter(id=listed[0]["id"]).update(status=OutboxStatus.FAILED, last_error="boom")
    stats = (await client.get("/api/v1/notifications/stats", headers=bearer(token))).json()
    assert stats["by_status"]["failed"] >= 1
    retried = await client.post(f"/api/v1/notifications/{listed[0]['id']}/retry", headers=bearer(token))
    assert retried.json()["status"] == "queued"
    again = await client.post(f"/api/v1/notifications/{listed[0]['id']}/retry", headers=bearer(token))
    assert again.status_code == 409
    stopped = await client.post(f"/api/v1/broadcasts/{created.json()['id']}/cancel", headers=bearer(token))
    assert stopped.json()["stopped"] == 1
    assert (await client.get("/api/v1/notifications")).status_code == 401


async def test_no_invitations_for_events_already_under_way_or_closed(db, frozen_clock):
    await person(1)
    past = await make_event(starts_in=timedelta(hours=1))
    frozen_clock.set(past.starts_at + timedelta(minutes=5))
    await make_event(
        starts_in=timedelta(days=3),
        registration_closes_at=frozen_clock.now - timedelta(minutes=1),
        registration_opens_at=frozen_clock.now - timedelta(days=1),
    )
    await Producer().drain()
    assert await rows(Category.INVITATION) == []


async def test_worker_delivers_a_promotion_with_its_ticket_through_telegram(db, frozen_clock):
    from aiogram.client.default import DefaultBotProperties
    from aiogram.enums import ParseMode

    from notifications.channels import TelegramChannel
    from notifications.worker import run_worker
    from tests.fake_telegram import FakeTelegram

    event = await make_event(capacity=1)
    waiting_person = await person(1)
    first = await make_registration(event)
    await make_registration(event, phone=waiting_person.phone, telegram_id=waiting_person.telegram_id)
    await reg.cancel_registration(first.registration.id, actor="test")
    async with FakeTelegram() as tg:
        tg.add_user(waiting_person.telegram_id)
        tg.rate_limit(global_per_s=30, per_chat_per_s=1)
        bot = tg.make_bot(default=DefaultBotProperties(parse_mode=ParseMode.HTML))
        stop = asyncio.Event()
        worker = asyncio.create_task(run_worker(db, TelegramChannel(bot), stop))
        try:
            # first their place on the waitlist (registered through the API), then the seat
            waitlisted, message = await tg.wait_for_message(waiting_person.telegram_id, count=2, timeout=10)
        finally:
            stop.set()
            await asyncio.wait_for(worker, 10)
            await bot.session.close()
    assert "候补" in waitlisted["text"] and not waitlisted["photo"]
    assert message["photo"] and "有名额空出" in message["caption"]
    (row,) = await rows(Category.WAITLIST_PROMOTED)
    assert row.status == OutboxStatus.SENT and tg.too_many_requests == 0


async def test_reminder_offsets_are_set_per_event(client, frozen_clock):
    from tests.factories import bearer, make_token

    event = await make_event(starts_in=timedelta(days=3))
    token = await make_token()
    changed = await client.patch(
        f"/api/v1/events/{event.id}", json={"reminder_minutes": [4320, 30]}, headers=bearer(token)
    )
    assert changed.json()["reminder_minutes"] == [4320, 30]
    bad = await client.patch(f"/api/v1/events/{event.id}", json={"reminder_minutes": [1]}, headers=bearer(token))
    assert bad.status_code == 422
    p = await person(1)
    await make_registration(event, phone=p.phone, telegram_id=p.telegram_id)
    assert (await produce_reminders()).queued == 1  # three days ahead: the 4320-minute reminder is due


async def test_a_full_event_invites_nobody_without_a_waitlist_and_says_waitlist_with_one(db, frozen_clock):
    zh_person, en_person = await person(1), await person(2, language="en")
    producer = Producer(limits=Limits(invitations_per_week=1), bot_username="wuchuang_bot")
    closed = await make_event(capacity=1, waitlist_enabled=False)
    await make_registration(closed)  # full before the producer reads that it was published
    await producer.drain()
    assert await rows(Category.INVITATION) == []  # nobody's weekly allowance went on it
    waiting = await make_event(capacity=1)
    await make_registration(waiting)
    await producer.drain()
    invited = {r.person_id: r for r in await rows(Category.INVITATION)}
    assert set(invited) == {zh_person.id, en_person.id} and all(r.event_id == waiting.id for r in invited.values())
    assert "候补" in invited[zh_person.id].text and "剩余" not in invited[zh_person.id].text
    assert invited[zh_person.id].buttons[0][0]["text"] == "查看并候补"
    assert "waitlist" in invited[en_person.id].text and "seats left" not in invited[en_person.id].text
    open_event = await make_event(capacity=10)
    await Producer(bot_username="wuchuang_bot").drain()
    fresh = [r for r in await rows(Category.INVITATION) if r.event_id == open_event.id]
    assert fresh and all("候补" not in r.text and "waitlist" not in r.text for r in fresh)


async def test_the_workers_tick_reads_a_trickle_at_the_next_tick_not_one_batch_per_fact(db, monkeypatch):
    """A drain that ends on a short batch (the worker's tick) leaves what arrived meanwhile for the next
    tick; a plain drain reads on until the log is empty."""
    from events.models import Activity
    from notifications import producers

    async def fact() -> None:
        await Activity.create(kind="checkin.ok", actor="t", payload={})

    for caught_up_when_short, expected in ((True, [1]), (False, [1, 1])):
        producer = Producer()
        await producer.drain()
        reads: list[int] = []
        original = producer.run_once

        async def run_once(original=original, reads=reads) -> int:
            read = await original()
            reads.append(read)
            if len(reads) == 1:
                await fact()  # arrives while the drain runs
            return read

        monkeypatch.setattr(producer, "run_once", run_once)
        await fact()
        await producer.drain(caught_up_when_short=caught_up_when_short)
        assert [read for read in reads if read] == expected
        assert producers.BATCH > 1 and producers.BATCH_POSTGRES > 1
        await Producer().drain()


async def test_a_fact_committed_after_a_later_one_is_still_told(db, frozen_clock):
    """Ids are handed out when a fact is written, not when it commits: a registration's transaction
    may commit after a later one's. The producer must not read past a fact still in flight."""
    from tortoise.transactions import in_transaction

    from events.services import activity
    from events.services.registration_admin import resend_ticket

    event = await make_event(capacity=5)
    alice, bob = await person(1), await person(2)
    first = await make_registration(event, phone=alice.phone, telegram_id=alice.telegram_id)
    second = await make_registration(event, phone=bob.phone, telegram_id=bob.telegram_id)
    producer = Producer()
    await producer.drain()
    written, release = asyncio.Event(), asyncio.Event()

    async def slow_resend() -> None:
        async with in_transaction() as conn:
            await activity.record(
                "ticket.resent",
                actor="org",
                event_id=event.id,
                registration_id=first.registration.id,
                person_id=alice.id,
                using_db=conn,
                version=1,
            )
            written.set()
            await release.wait()

    if db.dialect == "postgres":  # SQLite has one writer: a later fact cannot commit before an earlier one
        slow = asyncio.create_task(slow_resend())
        await written.wait()
    await resend_ticket(second.registration.id, actor="org")
    if db.dialect == "postgres":
        # The producer reads bob's fact while alice's is in flight, and waits for it.
        asyncio.get_running_loop().call_later(0.2, release.set)
        await producer.drain()
        assert slow.done()
    else:
        await producer.drain()
        await resend_ticket(first.registration.id, actor="org")
    await producer.drain()
    resent = [r for r in await rows() if r.dedup_key.startswith("resent:")]
    assert sorted(r.person_id for r in resent) == [alice.id, bob.id]


async def test_a_hole_left_by_a_rollback_is_read_past(db, frozen_clock):
    from tortoise.transactions import in_transaction

    from events.models import Activity
    from events.services.registration_admin import resend_ticket

    event = await make_event(capacity=5)
    alice = await person(1)
    first = await make_registration(event, phone=alice.phone, telegram_id=alice.telegram_id)
    producer = Producer()
    await producer.drain()

    async def written_then_rolled_back() -> None:
        async with in_transaction() as conn:
            await Activity.create(kind="checkin.ok", actor="t", payload={}, using_db=conn)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        await written_then_rolled_back()
    await resend_ticket(first.registration.id, actor="org")
    assert await producer.run_once() == 1  # the hole is nobody's: read past, not waited on
    assert [r.dedup_key.split(":")[0] for r in await rows()].count("resent") == 1


def test_every_handler_named_is_a_method_of_the_producer():
    from notifications.producers import HANDLERS

    assert all(callable(getattr(Producer, method, None)) for method in HANDLERS.values())


async def test_a_hole_filled_between_the_read_and_the_question_is_read_again(db, monkeypatch):
    """A fact that commits after the producer read around it, but before it asked what is in flight,
    is no longer in flight: it must still be read, not passed."""
    from events.models import Activity
    from notifications import log_tail

    if db.dialect != "postgres":
        pytest.skip("SQLite has one writer: no hole is filled later")
    ids = [(await Activity.create(kind="checkin.ok", actor="t", payload={})).id for _ in range(3)]
    read = log_tail._read
    calls: list[int] = []

    async def first_read_misses_the_middle(after: int, size: int) -> list[tuple[int, str]]:
        calls.append(after)
        facts = await read(after, size)
        return [fact for fact in facts if fact[0] != ids[1]] if len(calls) == 1 else facts

    monkeypatch.setattr(log_tail, "_read", first_read_misses_the_middle)
    assert [id_ for id_, _ in await log_tail.LogTail().ahead(ids[0] - 1, 10)] == ids
