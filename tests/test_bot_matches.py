"""Matched opportunities in the chat, through the fake Bot API: a push delivered by the dispatcher, its three
buttons, the notices that follow, and /matches, in Chinese and English."""

from __future__ import annotations

from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode

from bot.i18n import translator
from events.errors import N_
from events.models import Connection, Demand, DemandStatus, MatchFeedback, MatchVerdict, Person
from notifications.channels import TelegramChannel
from notifications.dispatcher import Dispatcher
from notifications.producers import Producer
from tests import test_bot as bot_tests
from tests.fake_telegram import FakeTelegram
from tests.test_bot import ALICE, BOB, press, press_edit, say, texts
from tests.test_supply_push import achievement, demand

world = bot_tests.world
zh, en = translator("zh"), translator("en")


async def deliver(tg: FakeTelegram) -> None:
    """What the worker does: facts → outbox, outbox → Telegram."""
    await Producer().drain()
    bot = tg.make_bot(default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    try:
        await Dispatcher(TelegramChannel(bot), idle_interval=0.05).drain(timeout=10)
    finally:
        await bot.session.close()


async def people(tg: FakeTelegram) -> tuple[Person, Person]:
    await say(tg, ALICE, "/start")
    await say(tg, BOB, "/start", lang="en")
    return await Person.get(telegram_id=ALICE), await Person.get(telegram_id=BOB)


def buttons(message: dict) -> list[str]:
    return [b["text"] for b in FakeTelegram.inline_buttons(message)]


async def test_interested_connects_and_the_other_side_is_told(world):
    tg = world.tg
    poster, owner = await people(tg)
    needed = await demand(poster)
    offered = await achievement(owner)
    await deliver(tg)
    push = tg.last_message(ALICE)
    assert push is not None and offered.title in push["text"] and needed.title in push["text"]
    assert "共同关键词：光刻胶" in push["text"]
    assert buttons(push) == ["感兴趣", "不相关", "请技术经理人联系"]

    (reply,) = await press(tg, ALICE, "感兴趣")
    assert reply["text"] == zh(
        N_("Connection requested: we told the other side and the broker. /matches shows its status.")
    )
    now = next(m for m in tg.sent_messages(ALICE) if m["message_id"] == push["message_id"])
    assert buttons(now) == ["✅ 感兴趣"]
    (connection,) = await Connection.all()
    assert (connection.demand_id, connection.achievement_id, connection.requested_by_id) == (
        needed.id, offered.id, poster.id
    )  # fmt: skip
    assert (await Demand.get(id=needed.id)).status == DemandStatus.MATCHED

    (again,) = await press(tg, ALICE, "✅ 感兴趣")
    assert again["text"] == zh(N_("You are already connected on this one; /matches shows its status."))
    assert await Connection.all().count() == 1

    mark = tg.mark()
    await deliver(tg)
    told = await tg.wait_for_message(BOB, since=mark)
    assert "Someone wants to connect" in texts(told) and needed.title in texts(told)


async def test_not_relevant_in_english_and_a_stale_button(world):
    tg = world.tg
    poster, owner = await people(tg)
    needed = await demand(poster)
    offered = await achievement(owner)
    await deliver(tg)
    push = tg.last_message(BOB)
    assert push is not None and "A matched opportunity for you" in push["text"]
    (reply,) = await press(tg, BOB, "Not relevant")
    assert reply["text"] == "Noted: we will not suggest this one again."
    now = next(m for m in tg.sent_messages(BOB) if m["message_id"] == push["message_id"])
    assert buttons(now) == ["🚫 Not relevant"]
    (kept,) = await MatchFeedback.all()
    assert kept.person_id == owner.id and kept.verdict == MatchVerdict.NOT_RELEVANT

    await Demand.filter(id=needed.id).update(status=DemandStatus.CLOSED)  # the poster's push is stale now
    before = len(tg.calls_to("answerCallbackQuery"))
    pushed = next(m for m in reversed(tg.sent_messages(ALICE)) if "感兴趣" in buttons(m))
    data = next(b["callback_data"] for b in FakeTelegram.inline_buttons(pushed) if b["text"] == "感兴趣")
    await tg.user_callback(ALICE, data, pushed)
    await tg.wait_for(lambda: len(tg.calls_to("answerCallbackQuery")) > before)
    assert tg.calls_to("answerCallbackQuery")[-1].params["text"] == zh(N_("This match is no longer available."))
    await tg.wait_for(
        lambda: not buttons(next(m for m in tg.sent_messages(ALICE) if m["message_id"] == pushed["message_id"]))
    )
    assert await Connection.all().count() == 0 and offered.id


async def test_matches_lists_matches_with_reasons_and_connections(world):
    tg = world.tg
    poster, owner = await people(tg)
    needed = await demand(poster)
    offered = await achievement(owner)
    (listing,) = await say(tg, ALICE, "/matches")
    text = listing["text"]
    assert zh(N_("My matches")) in text and needed.title in text and offered.title in text
    assert "共同关键词：光刻胶" in text
    assert zh(N_("My connections")) not in text

    await deliver(tg)
    await press(tg, ALICE, "感兴趣")
    (listing,) = await say(tg, ALICE, "/matches")
    assert zh(N_("My connections")) in listing["text"]
    assert f"🤝 {needed.title} ⇄ {offered.title} · 待对接" in listing["text"]
    (mine,) = await say(tg, BOB, "/matches", lang="en")  # the achievement's side sees the demand and the connection
    assert "My matches" in mine["text"] and needed.title in mine["text"] and "in talks" not in mine["text"]
    assert f"{needed.title} ⇄ {offered.title} · open" in mine["text"]


async def test_matches_when_there_are_none_and_when_there_are_many(world):
    tg = world.tg
    poster, _ = await people(tg)
    (empty,) = await say(tg, BOB, "/matches", lang="en")
    assert "You have no matches yet" in empty["text"] and "/demand" in empty["text"] and not buttons(empty)
    for i in range(6):
        await demand(poster, title=f"第{i}号需求：光刻胶")
    (first,) = await say(tg, ALICE, "/matches")
    assert "（第 1 / 2 页）" in first["text"] and "第5号需求" in first["text"] and "第0号需求" not in first["text"]
    second = await press_edit(tg, ALICE, "➡️")
    assert "（第 2 / 2 页）" in second["text"] and "第0号需求" in second["text"]
    assert buttons(second) == ["⬅️"]
    commands = {c["command"]: c["description"] for c in tg.my_commands(language_code="en")}
    assert commands["matches"] == "My matches and connections"
    assert {c["command"]: c["description"] for c in tg.my_commands(language_code="")}["matches"] == "我的匹配和对接"
