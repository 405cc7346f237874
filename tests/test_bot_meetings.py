"""1:1 meetings in the chat, through the fake Bot API: a request delivered with its buttons and answered,
stale buttons, /meetings with its pages and withdraw, asking for a meeting (whom, when, a message, /cancel),
the meeting on the person's /my and ticket, the rating prompt, and 已签约 leading to an investment recorded."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import translator
from events import clock
from events.errors import N_
from events.models import (
    Achievement,
    FollowUpAnswer,
    MeetingOutcome,
    MeetingRating,
    MeetingRequest,
    MeetingSlot,
    MeetingStatus,
    OutcomeStage,
    Person,
    Transfer,
    TransferKind,
)
from events.services import goals, investors, organizations
from events.services.roadshows import requests, sessions
from events.services.roadshows.requests import Acting, MeetingRequestInput
from notifications.meetings import produce_meeting_prompts, rating_data
from tests import test_bot as bot_tests
from tests.factories import make_event, make_registration
from tests.test_bot import ALICE, BOB, press, say, texts
from tests.test_bot_matches import buttons, deliver, people

world = bot_tests.world
zh, en = translator("zh"), translator("en")
EVERYTHING = organizations.EVERYTHING
ORGANIZER = Acting(actor="test", scope=EVERYTHING)
CAROL = 1003


async def roadshow(fund_person: Person, project_person: Person, *, tables: int = 3) -> Any:
    """A roadshow a week ahead: 6 slots of 20 minutes; ``fund_person`` an investor, ``project_person`` a project."""
    # No invitation to the roadshow itself: the chats hold only what these tests are about.
    await Person.filter(id__in=[fund_person.id, project_person.id]).update(opted_out=["invitation"])
    event = await make_event(kind="roadshow", title="光谷路演")
    await sessions.create_session(
        event.id,
        sessions.SessionInput(
            starts_at=event.starts_at, ends_at=event.starts_at + timedelta(minutes=120), slot_minutes=20,
            tables=tables,
        ),
        scope=EVERYTHING, actor="test",
    )  # fmt: skip
    profile = await investors.create_investor(
        investors.InvestorInput(name="光谷基金", person_id=fund_person.id), organization_id=event.organization_id,
        actor="test",
    )  # fmt: skip
    fund = await sessions.add_participant(
        event.id, sessions.ParticipantInput(investor_id=profile.id), scope=EVERYTHING, actor="test"
    )
    achievement = await Achievement.create(
        title="柔性光刻胶", contact_id=project_person.id, managed_by_id=event.organization_id, created_by="t"
    )
    project = await sessions.add_participant(
        event.id, sessions.ParticipantInput(achievement_id=achievement.id), scope=EVERYTHING, actor="test"
    )
    slots = await MeetingSlot.filter(session__event_id=event.id).order_by("number")
    return event, slots, fund, project


def ask(slot: Any, requester: Any, recipient: Any, message: str = "") -> MeetingRequestInput:
    return MeetingRequestInput(slot_id=slot.id, requester_id=requester.id, recipient_id=recipient.id, message=message)


async def test_a_request_is_delivered_answered_and_the_requester_told(world):
    tg = world.tg
    alice, bob = await people(tg)  # Alice (zh) the investor, Bob (en) the project
    _, slots, fund, project = await roadshow(alice, bob)
    made = await requests.request_meeting(ask(slots[1], project, fund, "Series A?"), actor="test")
    await deliver(tg)
    push = tg.last_message(ALICE)
    assert push is not None and "柔性光刻胶" in push["text"] and "Series A?" in push["text"]
    assert f"第 {made.table_no} 桌" in push["text"]
    assert buttons(push) == ["✅ 接受", "✖️ 拒绝"]
    (reply,) = await press(tg, ALICE, "接受")
    assert zh(N_("Accepted: the meeting is on.")) in reply["text"] and "/meetings" in reply["text"]
    assert (await MeetingRequest.get(id=made.id)).status == MeetingStatus.ACCEPTED
    now = next(m for m in tg.sent_messages(ALICE) if m["message_id"] == push["message_id"])
    assert buttons(now) == []  # answered: the buttons go
    mark = tg.mark()
    await deliver(tg)
    told = await tg.wait_for_message(BOB, since=mark)
    assert (
        "Meeting confirmed with" in texts(told)
        and "光谷基金" in texts(told)
        and f"Table {made.table_no}" in texts(told)
    )


async def test_stale_buttons_get_a_short_answer_with_a_way_on(world):
    tg = world.tg
    alice, bob = await people(tg)
    _, slots, fund, project = await roadshow(alice, bob)
    made = await requests.request_meeting(ask(slots[0], project, fund), actor="test")
    await deliver(tg)
    push = tg.last_message(ALICE)
    await requests.withdraw(made.id, Acting(actor="t", person_id=bob.id))  # the request is gone meanwhile
    before = len(tg.calls_to("answerCallbackQuery"))
    (reply,) = await press(tg, ALICE, "接受")
    await tg.wait_for(lambda: len(tg.calls_to("answerCallbackQuery")) > before)
    assert tg.calls_to("answerCallbackQuery")[-1].params["text"] == zh(N_("This request was withdrawn."))
    assert reply["text"] == zh(N_("This request was withdrawn.")) + "\n" + zh(
        N_("Your meetings and requests: /meetings")
    )
    assert buttons(next(m for m in tg.sent_messages(ALICE) if m["message_id"] == push["message_id"])) == []
    # A request that expired unanswered, in English.
    other = await requests.request_meeting(ask(slots[2], fund, project), actor="test")
    await deliver(tg)
    await MeetingRequest.filter(id=other.id).update(expires_at=clock.now() - timedelta(minutes=1))
    (expired,) = await press(tg, BOB, "Accept")
    assert expired["text"].startswith("This request has expired.") and "/meetings" in expired["text"]


async def test_meetings_lists_pages_and_withdraws(world):
    tg = world.tg
    alice, bob = await people(tg)
    event, slots, fund, project = await roadshow(alice, bob, tables=20)
    (empty,) = await say(tg, CAROL, "/meetings", lang="en")
    assert "You have no meetings or requests." in empty["text"] and buttons(empty) == []
    made = await requests.request_meeting(ask(slots[0], project, fund), actor="test")
    await requests.accept(made.id, ORGANIZER)
    # Five more investors asked by Bob.
    for n in range(5):
        person = await Person.create(name=f"投资人{n}")
        profile = await investors.create_investor(
            investors.InvestorInput(name=f"基金{n}", person_id=person.id), organization_id=event.organization_id,
            actor="test",
        )  # fmt: skip
        other = await sessions.add_participant(
            event.id, sessions.ParticipantInput(investor_id=profile.id), scope=EVERYTHING, actor="test"
        )
        await requests.request_meeting(ask(slots[n + 1], project, other), actor="test")
    (first,) = await say(tg, BOB, "/meetings", lang="en")
    assert "My meetings and requests" in first["text"] and "confirmed" in first["text"]
    assert "光谷基金" in first["text"] and f"Table {made.table_no}" in first["text"]
    labels = buttons(first)
    assert sum(label.startswith("↩️ Withdraw") for label in labels) == 5
    assert "➕ Ask for a meeting at 光谷路演" in labels
    (done,) = await press(tg, BOB, "Withdraw · 基金0")
    assert done["text"].startswith("Withdrawn; the slot is free again.")
    assert await MeetingRequest.filter(status=MeetingStatus.WITHDRAWN).count() == 1


async def test_meetings_come_a_page_at_a_time(world):
    tg = world.tg
    alice, bob = await people(tg)
    event, slots, fund, project = await roadshow(alice, bob, tables=20)
    second = await sessions.create_session(
        event.id,
        sessions.SessionInput(
            starts_at=slots[-1].ends_at, ends_at=slots[-1].ends_at + timedelta(minutes=120), slot_minutes=20, tables=5
        ),
        scope=EVERYTHING, actor="test",
    )  # fmt: skip
    all_slots = [*slots, *await MeetingSlot.filter(session_id=second.id).order_by("number")]
    for n, slot in enumerate(all_slots[:10]):
        person = await Person.create(name=f"投资人{n}")
        profile = await investors.create_investor(
            investors.InvestorInput(name=f"基金{n:02d}", person_id=person.id), organization_id=event.organization_id,
            actor="test",
        )  # fmt: skip
        other = await sessions.add_participant(
            event.id, sessions.ParticipantInput(investor_id=profile.id), scope=EVERYTHING, actor="test"
        )
        await requests.request_meeting(ask(slot, project, other), actor="test")
    (first,) = await say(tg, BOB, "/meetings", lang="en")
    assert "基金00" in first["text"] and "基金07" in first["text"] and "基金08" not in first["text"]
    (page,) = await press(tg, BOB, "More")
    assert "基金08" in page["text"] and "基金09" in page["text"] and "基金00" not in page["text"]
    assert not any("More" in label for label in buttons(page)) and fund


async def test_asking_for_a_meeting_from_the_bot(world):
    tg = world.tg
    alice, bob = await people(tg)
    event, slots, fund, project = await roadshow(alice, bob)
    await requests.request_meeting(ask(slots[0], project, fund), actor="test")  # slot 1 is held for both
    await MeetingRequest.all().delete()  # …then given back: every slot is free again
    await say(tg, BOB, "/meetings", lang="en")
    (whom,) = await press(tg, BOB, "Ask for a meeting at 光谷路演")
    assert "Whom would you like to meet" in whom["text"]
    assert buttons(whom) == ["光谷基金 · Investor side", "✖️ Cancel"]  # a project asks investors
    (when,) = await press(tg, BOB, "光谷基金")
    assert len([b for b in buttons(when) if b != "✖️ Cancel"]) == 6
    (asked,) = await press(tg, BOB, buttons(when)[1])
    assert "Add a short message" in asked["text"]
    (sent,) = await say(tg, BOB, "We would like to talk about the A round.", lang="en")
    assert sent["text"].startswith("📨 Request sent.") and "waiting for their answer" in sent["text"]
    (made,) = await MeetingRequest.all()
    assert (made.slot_id, made.requester_id, made.recipient_id, made.origin) == (
        slots[1].id,
        project.id,
        fund.id,
        "bot",
    )
    assert made.message == "We would like to talk about the A round."
    # /cancel leaves the dialogue half way: nothing is asked.
    (whom,) = await say(tg, ALICE, "/meetings")
    await press(tg, ALICE, "在「光谷路演」约见")
    (nobody,) = await tg.wait_for_message(ALICE)
    assert zh(N_("Nobody at this event is free to ask right now.")) in nobody["text"]  # Bob is asked already
    await MeetingRequest.all().delete()
    await say(tg, ALICE, "/meetings")
    await press(tg, ALICE, "在「光谷路演」约见")
    await press(tg, ALICE, "柔性光刻胶")
    (slot_list,) = tg.sent_messages(ALICE)[-1:]
    await press(tg, ALICE, buttons(slot_list)[0])
    await say(tg, ALICE, "/cancel", count=2)
    assert await MeetingRequest.all().count() == 0
    assert event.id


async def test_the_meeting_is_on_my_registrations_and_ticket(world):
    tg = world.tg
    alice, bob = await people(tg)
    event, slots, fund, project = await roadshow(alice, bob)
    made = await requests.request_meeting(ask(slots[2], project, fund), actor="test")
    await requests.accept(made.id, ORGANIZER)
    await make_registration(event, name="李明", phone="13800001111", telegram_id=ALICE)
    (listing,) = await say(tg, ALICE, "/my")
    assert zh(N_("Your 1:1 meetings here:")) in listing["text"]
    assert f"第 {made.table_no} 桌 · 柔性光刻胶" in listing["text"] and "已确认" in listing["text"]
    await press(tg, ALICE, "光谷路演")
    (ticket,) = await press(tg, ALICE, "重新发送门票")
    assert ticket["photo"] and f"第 {made.table_no} 桌" in ticket["caption"] and "柔性光刻胶" in ticket["caption"]


async def test_rating_and_follow_up_lead_to_an_investment(world, frozen_clock):
    tg = world.tg
    alice, bob = await people(tg)
    _, slots, fund, project = await roadshow(alice, bob)
    made = await requests.request_meeting(ask(slots[0], project, fund), actor="test")
    await requests.accept(made.id, ORGANIZER)
    await deliver(tg)
    frozen_clock.set(slots[0].ends_at + timedelta(minutes=2))
    await produce_meeting_prompts()
    mark = tg.mark()
    await deliver(tg)
    prompt = (await tg.wait_for_message(ALICE, since=mark))[-1]
    assert "柔性光刻胶" in prompt["text"]
    assert buttons(prompt) == ["没见成", "兴趣不足", "有收获但暂无合作", "有合作可能"]
    before = len(tg.calls_to("answerCallbackQuery"))
    await tg.user_callback(ALICE, rating_data(made.id, MeetingRating.PROMISING), prompt)
    await tg.wait_for(lambda: len(tg.calls_to("answerCallbackQuery")) > before)
    assert tg.calls_to("answerCallbackQuery")[-1].params["text"] == zh(N_("Thank you, noted."))
    (rated,) = await MeetingOutcome.filter(stage=OutcomeStage.RATING)
    assert (rated.participant_id, rated.answer) == (fund.id, MeetingRating.PROMISING)
    # 90 days on: the follow-up; 已签约 asks the amount and the round, and the investment is recorded.
    frozen_clock.set(slots[0].ends_at + timedelta(days=90, minutes=5))
    await produce_meeting_prompts()
    mark = tg.mark()
    await deliver(tg)
    follow = (await tg.wait_for_message(ALICE, since=mark))[-1]
    assert buttons(follow) == ["无联系", "洽谈中", "已签约"]
    (question,) = await press(tg, ALICE, "已签约")
    assert zh(N_("Congratulations! How much was invested, in 万元 (10,000 CNY)? E.g. 500")) in question["text"]
    (again,) = await say(tg, ALICE, "很多")
    assert again["text"] == zh(N_("Please send the amount as a number of 万元, e.g. 120."))
    (rounds,) = await say(tg, ALICE, "500")
    assert buttons(rounds)[:3] == ["天使", "Pre-A", "A"]
    (done,) = await press(tg, ALICE, "Pre-A")
    assert done["text"] == zh(
        N_("Recorded: an investment of %(amount)s 万元 (round %(round)s). Thank you!"), amount="500", round="Pre-A"
    )
    (transfer,) = await Transfer.all()
    assert (transfer.kind, transfer.investment_round, transfer.amount_cny) == (
        TransferKind.INVESTMENT, "Pre-A", Decimal("5000000.00")
    )  # fmt: skip
    assert {g.key: g.current for g in await goals.list_goals()}["investment_raised"] == 500
    (said,) = await MeetingOutcome.filter(stage=OutcomeStage.FOLLOW_UP)
    assert (said.answer, said.transfer_id) == (FollowUpAnswer.SIGNED, transfer.id)
    # Bob's side answers 已签约 too: the meeting's investment is there already, linked, and counted once.
    (linked,) = await press(tg, BOB, "Signed")
    assert linked["text"] == "The other side has recorded this already (500 万元); your answer is linked to it."
    assert await Transfer.all().count() == 1
    assert await MeetingOutcome.filter(stage=OutcomeStage.FOLLOW_UP, transfer_id=transfer.id).count() == 2


async def test_rating_a_meeting_that_has_not_happened_is_refused(world):
    tg = world.tg
    alice, bob = await people(tg)
    _, slots, fund, project = await roadshow(alice, bob)
    made = await requests.request_meeting(ask(slots[0], project, fund), actor="test")
    await requests.accept(made.id, ORGANIZER)
    await deliver(tg)
    # A rating button pressed before the meeting (the prompt itself only comes after the slot):
    bot = tg.make_bot()
    try:
        markup = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="x", callback_data=rating_data(made.id, MeetingRating.USEFUL))]]
        )
        await bot.send_message(BOB, "old", reply_markup=markup)
    finally:
        await bot.session.close()
    message = tg.sent_messages(BOB)[-1]
    before = len(tg.calls_to("answerCallbackQuery"))
    await tg.user_callback(BOB, rating_data(made.id, MeetingRating.USEFUL), message)
    await tg.wait_for(lambda: len(tg.calls_to("answerCallbackQuery")) > before)
    assert tg.calls_to("answerCallbackQuery")[-1].params["text"] == "This meeting has not taken place yet."
    assert await MeetingOutcome.all().count() == 0


async def test_calling_a_meeting_off_and_a_button_after_the_slot_began(world, frozen_clock):
    tg = world.tg
    alice, bob = await people(tg)
    event, slots, fund, project = await roadshow(alice, bob)
    first = await requests.request_meeting(ask(slots[0], project, fund), actor="test")
    await requests.accept(first.id, ORGANIZER)
    carol = await Person.create(name="王芳")
    profile = await investors.create_investor(
        investors.InvestorInput(name="二号基金", person_id=carol.id), organization_id=event.organization_id, actor="t"
    )
    other = await sessions.add_participant(
        event.id, sessions.ParticipantInput(investor_id=profile.id), scope=EVERYTHING, actor="test"
    )
    second = await requests.request_meeting(ask(slots[1], project, other), actor="test")
    await requests.accept(second.id, ORGANIZER)
    await deliver(tg)
    await say(tg, BOB, "/meetings", lang="en")
    (confirm,) = await press(tg, BOB, "Cancel the meeting · 光谷基金")
    assert confirm["text"].startswith("Cancel this meeting? The other side will be told.")
    (done,) = await press(tg, BOB, "Yes, cancel the meeting")
    assert done["text"].startswith("The meeting is cancelled; we told the other side.")
    assert done["text"].endswith("/meetings")
    assert (await MeetingRequest.get(id=first.id)).status == MeetingStatus.CANCELLED
    mark = tg.mark()
    await deliver(tg)
    told = await tg.wait_for_message(ALICE, since=mark)
    assert "已取消" in texts(told) and "柔性光刻胶" in texts(told)
    # The second one: confirmed only once its slot has begun — too late.
    await say(tg, BOB, "/meetings", lang="en")
    await press(tg, BOB, "Cancel the meeting · 二号基金")
    frozen_clock.set(slots[1].starts_at + timedelta(minutes=1))
    (late,) = await press(tg, BOB, "Yes, cancel the meeting")
    assert late["text"] == "That slot has already begun.\nYour meetings and requests: /meetings"
    assert (await MeetingRequest.get(id=second.id)).status == MeetingStatus.ACCEPTED
