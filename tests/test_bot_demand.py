"""/demand and /mydemands through the fake Bot API: step by step in both languages, bad answers asked
again, a restart in the middle keeps the flow (the state is in the database), a near-duplicate named."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta

import pydantic
import pytest

from bot.app import build_bot, build_dispatcher
from bot.i18n import translator
from bot.routers.demand import claim_keyboard, parse_deadline
from events import clock
from events.models import BotState, Demand, Person
from events.services import brokers, demands, tickets
from events.settings import Settings
from tests.fake_telegram import FakeTelegram
from tests.test_bot import ALICE, BOB, TOKEN, press, press_edit, say, texts


@asynccontextmanager
async def running_bot(tg: FakeTelegram, settings: Settings) -> AsyncIterator[None]:
    """One bot process: a fresh dispatcher (and storage object) polling the fake Telegram."""
    bot = build_bot(settings)
    dp = build_dispatcher(settings, tickets.signer_for(settings.data_dir.resolve()))
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
    try:
        yield
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(polling, 10)
        await bot.session.close()


@pytest.fixture
async def fake(db: Settings, frozen_clock) -> AsyncIterator[tuple[FakeTelegram, Settings]]:
    async with FakeTelegram(token=TOKEN, allow_http_web_app=False) as tg:
        settings = db.model_copy(
            update={
                "telegram_api_url": tg.base_url,
                "public_url": "https://wuchuang.test",
                "bot_token": pydantic.SecretStr(TOKEN),
            }
        )
        yield tg, settings


def test_deadlines_as_dates_or_spans() -> None:
    today = date(2026, 6, 1)
    assert parse_deadline("2027-03-31", today) == date(2027, 3, 31)
    assert parse_deadline("2027年3月31日", today) == date(2027, 3, 31)
    assert parse_deadline("3个月", today) == today + timedelta(days=90)
    assert parse_deadline("2 weeks", today) == today + timedelta(days=14)
    assert parse_deadline("10天", today) == today + timedelta(days=10)
    assert parse_deadline("2027-02-30", today) is None
    assert parse_deadline("下个月吧", today) is None


async def test_a_demand_step_by_step_in_chinese_surviving_a_restart(fake):
    tg, settings = fake
    async with running_bot(tg, settings):
        (ask_kind,) = await say(tg, ALICE, "/demand")
        assert "发布需求" in ask_kind["text"]
        (ask_text,) = await press(tg, ALICE, "技术需求")
        assert "第一行是标题" in ask_text["text"]
        (too_short,) = await say(tg, ALICE, "散热")
        assert "太短" in too_short["text"]
        (too_long,) = await say(tg, ALICE, "标" * 201 + "\n问题")
        assert "标题" in too_long["text"] and "200" in too_long["text"]
        await say(tg, ALICE, "寻求高功率半导体激光器散热技术\n激光器连续工作温升过高，需要新的散热方案。")
    # The process stops and starts again in the middle of the flow: the next answer is still read as
    # the indicators.
    assert await BotState.filter(state__contains="indicators").exists()
    async with running_bot(tg, settings):
        (ask_district,) = await say(tg, ALICE, "热阻降低30%")
        assert "哪个区" in ask_district["text"]
        page = await press_edit(tg, ALICE, "➡️", "editMessageReplyMarkup")
        assert any("东湖" in b["text"] for b in tg.inline_buttons(page))
        (ask_budget,) = await press(tg, ALICE, "东湖新技术开发区")
        assert "预算" in ask_budget["text"]
        (ask_deadline,) = await press(tg, ALICE, "50–200 万元")
        assert "2027-03-31" in ask_deadline["text"]
        (past,) = await say(tg, ALICE, "2020-01-01")
        assert "已经过去" in past["text"]
        (ask_contact,) = await say(tg, ALICE, "3个月")
        assert ask_contact["reply_markup"]["keyboard"][0][0]["request_contact"] is True
        (typed,) = await say(tg, ALICE, "13800001234")
        assert "按钮" in typed["text"]
        await tg.user_contact(ALICE, "+86 138 0000 1234")
        _, summary = await tg.wait_for_message(ALICE, count=2)
        assert "请确认" in summary["text"] and "热阻降低30%" in summary["text"] and "138 0000 1234" in summary["text"]
        (posted,) = await press(tg, ALICE, "发布")
    demand = await Demand.get()
    person = await Person.get(telegram_id=ALICE)
    assert f"编号 {demand.id}" in posted["text"] and "相似" not in posted["text"]
    assert demand.kind == "technology" and demand.title == "寻求高功率半导体激光器散热技术"
    assert demand.description == "激光器连续工作温升过高，需要新的散热方案。" and demand.indicators == "热阻降低30%"
    assert demand.district == "donghu_gaoxin" and (demand.budget_min_cny, demand.budget_max_cny) == (500_000, 2_000_000)
    assert demand.deadline == clock.now().date() + timedelta(days=90)
    assert demand.source == "bot" and demand.contact_id == person.id and person.phone == "+8613800001234"
    assert not await BotState.filter(state__isnull=False).exists()  # the flow is over


async def test_english_skips_a_near_duplicate_my_demands_and_cancel(fake):
    tg, settings = fake
    await demands.create_demand(
        demands.DemandInput(kind="talent", title="Senior optical engineer for laser cooling", description=""),
        actor="test",
    )
    async with running_bot(tg, settings):
        await say(tg, BOB, "/demand", lang="en")
        await press(tg, BOB, "Talent")
        (kind_typed,) = await say(tg, BOB, "hello there", lang="en")  # the kind is chosen: any text is the problem
        assert "Core indicators" in kind_typed["text"]
        await say(tg, BOB, "/cancel", lang="en", count=2)
        assert not await BotState.filter(state__isnull=False).exists()
        await say(tg, BOB, "/demand", lang="en")
        (wrong,) = await say(tg, BOB, "talent please", lang="en")
        assert "tap one of the choices" in wrong["text"]
        await press(tg, BOB, "Talent")
        await say(tg, BOB, "Senior optical engineer for laser cooling work", lang="en")
        await press(tg, BOB, "Skip")  # indicators
        await press(tg, BOB, "Skip")  # district
        await press(tg, BOB, "Skip")  # budget
        await say(tg, BOB, "skip", lang="en")  # deadline
        await tg.user_contact(BOB, "8613900005678")
        _, summary = await tg.wait_for_message(BOB, count=2)
        assert "Please confirm your demand" in summary["text"] and "Budget: -" in summary["text"]
        (posted,) = await press(tg, BOB, "Post it")
        assert "posted as number 2" in posted["text"]
        assert "resembles demand #1 “Senior optical engineer for laser cooling”" in posted["text"]
        (stale,) = await press(tg, BOB, "Post it")
        assert "already posted or cancelled" in stale["text"]
        (mine,) = await say(tg, BOB, "/mydemands", lang="en")
        assert "#2 Talent · Senior optical engineer for laser cooling work — open" in mine["text"]
    assert await Demand.all().count() == 2


async def test_a_broker_claims_a_demand_by_its_button_and_another_broker_is_refused(fake):
    tg, settings = fake
    demand = await demands.create_demand(demands.DemandInput(kind="technology", title="光纤传感监测方案"), actor="test")
    holder = await brokers.create_broker(brokers.BrokerInput(name="赵经理", telegram_id=BOB), actor="t")
    await demands.claim_demand(demand.id, holder.id, actor="t")
    await brokers.create_broker(brokers.BrokerInput(name="钱经理", telegram_id=ALICE), actor="t")
    async with running_bot(tg, settings):
        (none,) = await say(tg, ALICE, "/mydemands")
        assert "还没有发布过需求" in none["text"]
        # The demand as a push would show it to a broker, with the claim button.
        sender = build_bot(settings)
        try:
            await sender.send_message(ALICE, demand.title, reply_markup=claim_keyboard(demand.id, translator("zh")))
        finally:
            await sender.session.close()
        await tg.wait_for_message(ALICE)
        replies = await press(tg, ALICE, "我来认领")
        assert "已由其他技术经理人认领" in texts(replies)
        await demands.release_claim(demand.id, actor="t")
        replies = await press(tg, ALICE, "我来认领")
        assert f"您已认领需求 #{demand.id}" in texts(replies)
    claimed = await Demand.get(id=demand.id).select_related("broker__person")
    assert claimed.broker is not None and claimed.broker.person.telegram_id == ALICE
