"""The people's side of 1:1 meetings, through the services: what each side is told (requests, answers,
the scheduler's meetings, reminders, rating prompts, follow-ups — exactly once, across restarts), whom a
participant may ask and when, their meetings page by page, their calendar feed, and a signed deal
recorded as an investment or a contract that the goals count."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.callbacks import MeetingAnswer, MeetingFollowUp, MeetingRate
from events import clock, localtime
from events.errors import InvalidInput, MeetingNotHeld
from events.i18n import format_when
from events.models import (
    Category,
    Cursor,
    FollowUpAnswer,
    MeetingRating,
    MeetingStatus,
    OutboxMessage,
    OutboxStatus,
    Participant,
    Person,
    Transfer,
    TransferKind,
)
from events.services import calendar, goals
from events.services.roadshows import outcomes, personal, requests, scheduling, sessions
from notifications.meetings import produce_meeting_prompts
from notifications.producers import Producer
from tests.factories import bearer, make_token
from tests.test_roadshow_meetings import EVERYTHING, ORGANIZER, ask, roadshow_with

ZH = "zh"


async def reachable(*participants: Participant) -> list[Person]:
    """Give each participant's person a Telegram chat (the outbox only writes to reachable people)."""
    people = []
    for n, participant in enumerate(participants):
        await Person.filter(id=participant.person_id).update(telegram_id=5000 + participant.id * 10 + n)
        people.append(await Person.get(id=participant.person_id))
    return people


async def messages(person_id: int) -> list[OutboxMessage]:
    return list(await OutboxMessage.filter(person_id=person_id, category=Category.MEETING).order_by("id"))


async def produce() -> None:
    await Producer().drain()


async def test_a_request_reaches_the_recipient_once_with_time_table_message_and_buttons(db, frozen_clock):
    _, _, slots, (fund, _), (project, _) = await roadshow_with()
    await reachable(fund, project)
    made = await requests.request_meeting(ask(slots[1], project, fund, "想了解<融资>计划"), actor="test")
    await produce()
    (told,) = await messages(fund.person_id)
    slot = slots[1]
    assert project.title in told.text and "想了解&lt;融资&gt;计划" in told.text
    assert format_when(slot.starts_at, slot.ends_at, ZH) in told.text  # Asia/Shanghai, e.g. 18:00–18:20
    assert f"{made.table_no} 桌" in told.text and told.urgent
    (row,) = told.buttons or []
    assert [b["text"] for b in row] == ["✅ 接受", "✖️ 拒绝"]
    data = MeetingAnswer.unpack(row[0]["callback_data"])
    assert (data.action, data.request_id) == ("a", made.id)
    assert MeetingAnswer.unpack(row[1]["callback_data"]).action == "d"
    assert await messages(project.person_id) == []
    # The producer re-reading its facts after a crash (cursor lost) queues nothing twice.
    await Cursor.filter(name="notifications").update(position=0)
    await produce()
    assert len(await messages(fund.person_id)) == 1


async def test_each_answer_tells_the_side_it_concerns(db, frozen_clock):
    _, _, slots, (fund_a, fund_b), (p1, p2) = await roadshow_with()
    await reachable(fund_a, fund_b, p1, p2)
    accepted = await requests.request_meeting(ask(slots[0], p1, fund_a), actor="test")
    declined = await requests.request_meeting(ask(slots[0], p2, fund_b), actor="test")
    withdrawn = await requests.request_meeting(ask(slots[1], p1, fund_b), actor="test")
    await requests.accept(accepted.id, requests.Acting(actor="t", person_id=fund_a.person_id))
    await requests.decline(declined.id, requests.Acting(actor="t", person_id=fund_b.person_id))
    await requests.withdraw(withdrawn.id, requests.Acting(actor="t", person_id=p1.person_id))
    await produce()
    p1_texts = [m.text for m in await messages(p1.person_id)]
    assert len(p1_texts) == 1 and "确认" in p1_texts[0] and fund_a.title in p1_texts[0]
    p2_texts = [m.text for m in await messages(p2.person_id)]
    assert len(p2_texts) == 1 and "拒绝" in p2_texts[0]
    fund_b_texts = [m.text for m in await messages(fund_b.person_id)]
    assert len(fund_b_texts) == 3 and "撤回" in fund_b_texts[-1]  # two requests, then the withdrawal
    # A cancelled meeting: both sides hear, and a reminder still queued is not sent.
    frozen_clock.set(slots[0].starts_at - timedelta(minutes=10))
    await produce_meeting_prompts()
    reminder = await OutboxMessage.get(dedup_key=f"meeting:reminder:{accepted.id}:{p1.person_id}")
    frozen_clock.set(slots[0].starts_at - timedelta(minutes=30))
    await requests.cancel(accepted.id, ORGANIZER, reason="临时有事")
    await produce()
    assert "取消" in (await messages(p1.person_id))[-1].text and "取消" in (await messages(fund_a.person_id))[-1].text
    assert (await OutboxMessage.get(id=reminder.id)).status == OutboxStatus.SKIPPED


async def test_an_expired_request_tells_both_sides(db, frozen_clock):
    _, _, slots, (fund, _), (project, _) = await roadshow_with()
    await reachable(fund, project)
    made = await requests.request_meeting(ask(slots[2], project, fund), actor="test")
    frozen_clock.set(made.expires_at + timedelta(seconds=1))
    assert await requests.expire_due() == 1
    await produce()
    assert "过期" in (await messages(project.person_id))[-1].text
    assert "过期" in (await messages(fund.person_id))[-1].text


async def test_the_schedulers_meetings_tell_both_sides_once(db, frozen_clock):
    event, session, _, investors, projects = await roadshow_with(2, 2)
    await reachable(*investors, *projects)
    data = scheduling.ScheduleInput(min_meetings=2, allow_without_interest=True)
    result = await scheduling.schedule(event.id, session.id, data, scope=EVERYTHING, actor="test")
    assert result.created == 4
    await produce()
    await produce()
    for side in (*investors, *projects):
        told = await messages(side.person_id)
        assert len(told) == 2 and all("主办方" in m.text for m in told)


async def test_reminders_are_due_once_and_survive_a_restart(db, frozen_clock):
    _, session, slots, (fund, _), (project, _) = await roadshow_with()
    await reachable(fund, project)
    made = await requests.request_meeting(ask(slots[3], project, fund), actor="test")
    await requests.accept(made.id, ORGANIZER)
    start = slots[3].starts_at
    frozen_clock.set(start - timedelta(minutes=session.reminder_minutes + 1))
    assert (await produce_meeting_prompts()).reminders == 0
    frozen_clock.set(start - timedelta(minutes=session.reminder_minutes - 1))
    assert (await produce_meeting_prompts()).reminders == 2
    # A second process, or the same one after a restart, computes the same keys and adds nothing.
    assert (await produce_meeting_prompts()).reminders == 0
    (reminder,) = [m for m in await messages(fund.person_id) if m.dedup_key.startswith("meeting:reminder:")]
    assert "29 分钟" in reminder.text and project.title in reminder.text and f"{made.table_no} 桌" in reminder.text
    # Down until the meeting began: the queued reminder is skipped, never sent late.
    frozen_clock.set(start + timedelta(minutes=1))
    assert (await produce_meeting_prompts()).skipped == 2


async def test_rating_prompts_after_the_slot_and_follow_ups_at_the_configured_delay(db, frozen_clock):
    _, session, slots, (fund, _), (project, _) = await roadshow_with()
    await reachable(fund, project)
    made = await requests.request_meeting(ask(slots[0], project, fund), actor="test")
    await requests.accept(made.id, ORGANIZER)
    frozen_clock.set(slots[0].starts_at + timedelta(minutes=5))
    assert (await produce_meeting_prompts()).ratings == 0  # still going on
    frozen_clock.set(slots[0].ends_at + timedelta(minutes=1))
    assert (await produce_meeting_prompts()).ratings == 2
    assert (await produce_meeting_prompts()).ratings == 0
    prompt = await OutboxMessage.get(dedup_key=f"meeting:rate:{made.id}:{project.person_id}")
    labels = [b["text"] for row in prompt.buttons or [] for b in row]
    assert labels == ["没见成", "兴趣不足", "有收获但暂无合作", "有合作可能"]
    data = MeetingRate.unpack(prompt.buttons[1][1]["callback_data"])  # type: ignore[index]
    assert outcomes.RATING_CODES[data.answer] == MeetingRating.PROMISING and data.request_id == made.id
    # The follow-up, 90 days on (the session's default), to whoever has not answered it.
    await outcomes.follow_up(made.id, fund.id, FollowUpAnswer.IN_TALKS, ORGANIZER)
    frozen_clock.set(slots[0].ends_at + timedelta(days=session.follow_up_days - 1))
    assert (await produce_meeting_prompts()).follow_ups == 0
    frozen_clock.set(slots[0].ends_at + timedelta(days=session.follow_up_days, minutes=1))
    assert (await produce_meeting_prompts()).follow_ups == 1
    (follow,) = [m for m in await messages(project.person_id) if m.dedup_key.startswith("meeting:follow_up:")]
    assert [b["text"] for b in (follow.buttons or [[]])[0]] == ["无联系", "洽谈中", "已签约"]
    signed = MeetingFollowUp.unpack(follow.buttons[0][2]["callback_data"])  # type: ignore[index]
    assert outcomes.FOLLOW_UP_CODES[signed.answer] == FollowUpAnswer.SIGNED
    assert not [m for m in await messages(fund.person_id) if m.dedup_key.startswith("meeting:follow_up:")]


async def held_meeting(frozen_clock: Any, *, guest: bool = False) -> tuple[Any, Participant, Participant]:
    event, _, slots, (fund, _), (project, _) = await roadshow_with()
    other = fund
    if guest:
        buyer = await Person.create(name="采购方")
        other = await sessions.add_participant(
            event.id, sessions.ParticipantInput(role="guest", person_id=buyer.id, title="东风采购部"),
            scope=EVERYTHING, actor="test",
        )  # fmt: skip
    made = await requests.request_meeting(ask(slots[0], project, other), actor="test")
    with pytest.raises(MeetingNotHeld):  # pending, and later not begun: nothing to rate
        await outcomes.rate(made.id, project.id, MeetingRating.USEFUL, ORGANIZER)
    await requests.accept(made.id, ORGANIZER)
    with pytest.raises(MeetingNotHeld):
        await outcomes.rate(made.id, project.id, MeetingRating.USEFUL, ORGANIZER)
    frozen_clock.set(slots[0].ends_at + timedelta(days=91))
    return made, project, other


async def test_a_signed_investment_is_recorded_once_and_counts_in_the_goals(db, frozen_clock):
    made, project, fund = await held_meeting(frozen_clock)
    by_project = requests.Acting(actor="t", person_id=project.person_id)
    by_fund = requests.Acting(actor="t", person_id=fund.person_id)
    deal = outcomes.DealInput(amount_wan=Decimal("500"), investment_round="A")
    with pytest.raises(InvalidInput):  # not answered 已签约 yet
        await outcomes.record_deal(made.id, project.id, deal, by_project)
    await outcomes.follow_up(made.id, project.id, FollowUpAnswer.SIGNED, by_project)
    await outcomes.follow_up(made.id, fund.id, FollowUpAnswer.SIGNED, by_fund)
    first = await outcomes.record_deal(made.id, project.id, deal, by_project)
    second = await outcomes.record_deal(made.id, fund.id, deal, by_fund)
    assert first.recorded and first.investment and not second.recorded
    (transfer,) = await Transfer.all()
    assert (transfer.kind, transfer.investment_round, transfer.amount_cny) == (
        TransferKind.INVESTMENT, "A", Decimal("5000000.00")
    )  # fmt: skip
    assert first.transfer.id == second.transfer.id == transfer.id
    figures = {g.key: g.current for g in await goals.list_goals()}
    assert figures["investment_raised"] == 500 and figures["contract_turnover"] == 0
    funnel = await outcomes.funnel((await requests.get_request(made.id)).session.event_id, EVERYTHING)
    assert (funnel.signed, funnel.transfers) == (1, 1)


async def test_a_signed_contract_with_a_guest_is_a_technology_transfer(db, frozen_clock):
    made, project, buyer = await held_meeting(frozen_clock, guest=True)
    by_buyer = requests.Acting(actor="t", person_id=buyer.person_id)
    await outcomes.follow_up(made.id, buyer.id, FollowUpAnswer.SIGNED, by_buyer)
    deal = await outcomes.record_deal(made.id, buyer.id, outcomes.DealInput(amount_wan=Decimal("120.5")), by_buyer)
    assert deal.recorded and not deal.investment
    transfer = await Transfer.get(id=deal.transfer.id)
    assert transfer.kind == TransferKind.TECHNOLOGY and transfer.achievement_id == project.achievement_id
    assert {g.key: g.current for g in await goals.list_goals()}["contract_turnover"] == 120


async def test_whom_a_participant_may_ask_and_when(db, frozen_clock):
    event, _, slots, (fund_a, fund_b), (p1, p2) = await roadshow_with(tables=1)
    assert [c.id for c in await personal.candidates(p1)] == [fund_a.id, fund_b.id]  # investors for a project
    assert {c.id for c in await personal.candidates(fund_a)} == {p1.id, p2.id}
    taken = await requests.request_meeting(ask(slots[0], p2, fund_b), actor="test")  # the only table in slot 1
    await requests.request_meeting(ask(slots[1], p1, fund_b), actor="test")
    free = await personal.free_slots(p1, fund_a)
    assert [s.id for s in free] == [s.id for s in slots[2:]]  # slot 1: no table; slot 2: p1 is held
    assert [c.id for c in await personal.candidates(p1)] == [fund_a.id]  # already asking fund_b
    assert [p.event_id for p in await personal.roadshows_of(p1.person_id)] == [event.id]
    assert [m.id for m in await personal.at_event(p2.person_id, event.id)] == [taken.id]
    frozen_clock.set(slots[-1].starts_at + timedelta(minutes=1))
    assert await personal.roadshows_of(p1.person_id) == []


async def test_my_meetings_come_a_page_at_a_time(db, frozen_clock):
    _, _, slots, investors, projects = await roadshow_with(3, 3)
    me = projects[0]
    made = []
    for slot, fund in zip(slots, investors, strict=False):
        made.append(await requests.request_meeting(ask(slot, me, fund), actor="test"))
    other = await requests.request_meeting(ask(slots[3], investors[0], projects[1]), actor="test")
    first = await personal.page_of_person(me.person_id, limit=2)
    assert [m.id for m in first.items] == [made[0].id, made[1].id] and first.next_cursor
    second = await personal.page_of_person(me.person_id, cursor=first.next_cursor, limit=2)
    assert [m.id for m in second.items] == [made[2].id] and second.next_cursor is None
    assert other.id not in [m.id for m in second.items]
    with pytest.raises(InvalidInput):
        await personal.page_of_person(me.person_id, cursor="nonsense")


async def test_accepted_meetings_are_in_the_personal_feed_and_cancelled_ones_marked(db, frozen_clock):
    _, _, slots, (fund, _), (project, p2) = await roadshow_with()
    meeting = await requests.request_meeting(ask(slots[0], project, fund, "谈谈A轮"), actor="test")
    pending = await requests.request_meeting(ask(slots[1], p2, fund), actor="test")
    feeds = calendar.FeedRenderer(base_url="https://wuchuang.test", timezone="Asia/Shanghai")
    token = await calendar.calendar_token(fund.person_id)
    body = (await feeds.person_feed(token)).body.decode()
    assert "meeting-" not in body  # a pending request is not in the calendar
    await requests.accept(meeting.id, ORGANIZER)
    feed = await feeds.person_feed(token)
    body = feed.body.decode().replace("\r\n ", "")
    assert f"UID:meeting-{meeting.id}@wuchuang" in body and f"meeting-{pending.id}@" not in body
    assert "STATUS:CONFIRMED" in body and "SEQUENCE:0" in body
    local = slots[0].starts_at.astimezone(calendar.zoneinfo.ZoneInfo("Asia/Shanghai"))
    assert f"DTSTART;TZID=Asia/Shanghai:{local:%Y%m%dT%H%M%S}" in body
    assert f"第 {meeting.table_no} 桌" in body and project.title in body and "谈谈A轮" in body
    await requests.cancel(meeting.id, ORGANIZER)
    again = await feeds.person_feed(token)
    body = again.body.decode()
    assert again.etag != feed.etag
    assert f"UID:meeting-{meeting.id}@wuchuang" in body and "STATUS:CANCELLED" in body and "SEQUENCE:1" in body
    # The other side's feed holds it too.
    other = (await feeds.person_feed(await calendar.calendar_token(project.person_id))).body.decode()
    assert f"UID:meeting-{meeting.id}@wuchuang" in other
    assert meeting.status == MeetingStatus.PENDING and clock.now()


async def test_an_investment_through_the_api_counts_in_its_own_goal(client, frozen_clock):
    token = await make_token()
    today = localtime.local(clock.now()).date().isoformat()
    body = {
        "kind": "investment",
        "investment_round": "天使",
        "mode": "other",
        "amount_cny": "3000000",
        "signed_on": today,
    }
    made = await client.post("/api/v1/transfers", json=body | {"buyer": "光谷基金"}, headers=bearer(token))
    assert made.status_code == 201, made.text
    assert (made.json()["kind"], made.json()["investment_round"]) == ("investment", "天使")
    contract = {"mode": "license", "amount_cny": "10000", "signed_on": today}  # a contract still needs its subject
    refused = await client.post("/api/v1/transfers", json=contract, headers=bearer(token))
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid_input"
    figures = {g["key"]: g for g in (await client.get("/api/v1/goals")).json()["items"]}
    assert figures["investment_raised"]["current"] == 300 and figures["contract_turnover"]["current"] == 0
