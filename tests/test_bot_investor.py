"""/investor through the fake Bot API: a profile step by step, bad answers asked again, shown and edited
later, /cancel at a step; and 想约谈 tapped on a matched pitch."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.app import build_bot
from bot.routers.investor import parse_ticket
from events.models import BotState, Investor, MeetingInterest, OutboxMessage, Participant, Person
from events.services import investors, organizations
from events.services.roadshows import pitches
from notifications.producers import Producer
from tests.test_bot import ALICE, BOB, press, press_edit, say
from tests.test_bot_demand import fake, running_bot  # noqa: F401  (the fixture)
from tests.test_roadshow_investors import investor_at, roadshow

EVERYTHING = organizations.EVERYTHING


def test_ticket_ranges_in_wan():
    assert parse_ticket("50-500") == (500_000, 5_000_000)
    assert parse_ticket("50～500万") == (500_000, 5_000_000)
    assert parse_ticket("0.5 到 2") == (5_000, 20_000)
    assert parse_ticket("1,000 - 5,000 万元") == (10_000_000, 50_000_000)
    assert parse_ticket("五十万") is None and parse_ticket("50") is None


async def test_a_profile_step_by_step_then_shown_and_edited(fake):  # noqa: F811
    tg, settings = fake
    async with running_bot(tg, settings):
        (ask_name,) = await say(tg, ALICE, "/investor")
        assert "投资人画像" in ask_name["text"] and "/cancel" in ask_name["text"]
        (ask_org,) = await say(tg, ALICE, "光谷天使基金")
        assert "机构" in ask_org["text"]
        (ask_fields,) = await say(tg, ALICE, "光谷创投")
        assert "领域" in ask_fields["text"]
        (typed,) = await say(tg, ALICE, "人工智能")  # a button was asked for
        assert "请点击" in typed["text"] or "选项" in typed["text"]
        page = await press_edit(tg, ALICE, "人工智能", "editMessageReplyMarkup")
        assert any(b["text"] == "✅ 人工智能" for b in tg.inline_buttons(page))
        (ask_rounds,) = await press(tg, ALICE, "完成")
        assert "轮次" in ask_rounds["text"]
        (none,) = await press(tg, ALICE, "完成")
        assert "至少" in none["text"]
        await press_edit(tg, ALICE, "天使轮", "editMessageReplyMarkup")
        await press_edit(tg, ALICE, "Pre-A", "editMessageReplyMarkup")
        (ask_ticket,) = await press(tg, ALICE, "完成")
        assert "万元" in ask_ticket["text"]
        (bad,) = await say(tg, ALICE, "很多")
        assert "50-500" in bad["text"]
        (upside_down,) = await say(tg, ALICE, "500-50")
        assert "不能大于" in upside_down["text"]
        (ask_districts,) = await say(tg, ALICE, "50-500")
        assert "区域" in ask_districts["text"]
        await press_edit(tg, ALICE, "东湖新技术", "editMessageReplyMarkup")
        (summary,) = await press(tg, ALICE, "完成")
        assert "请确认" in summary["text"] and "光谷天使基金" in summary["text"] and "50–500 万元" in summary["text"]
        assert "天使轮、Pre-A 轮" in summary["text"] and "人工智能" in summary["text"]
        (saved,) = await press(tg, ALICE, "保存")
        assert "已保存" in saved["text"] and "认证" in saved["text"]
        person = await Person.get(telegram_id=ALICE)
        made = await Investor.get(person_id=person.id).select_related("organization")
        assert (made.name, made.verified, made.stages) == ("光谷天使基金", False, ["angel", "pre_a"])
        assert (made.ticket_min_cny, made.ticket_max_cny) == (500_000, 5_000_000)
        assert made.fields_of_interest == ["ai"] and made.districts == ["donghu_gaoxin"]
        assert made.organization is not None and made.organization.name == "光谷创投"
        assert not await BotState.filter(state__isnull=False).exists()

        # Verified by an organizer: the profile says so; editing keeps what is skipped.
        await investors.verify_investor(made.id, scope=EVERYTHING, actor="org")
        (shown,) = await say(tg, ALICE, "/investor")
        assert "已通过主办方认证" in shown["text"] and "光谷天使基金" in shown["text"]
        (ask_name,) = await press(tg, ALICE, "修改")
        await press(tg, ALICE, "跳过")  # the name stays
        await press(tg, ALICE, "跳过")  # the organization stays
        await press_edit(tg, ALICE, "量子", "editMessageReplyMarkup")
        await press(tg, ALICE, "完成")
        await press(tg, ALICE, "完成")  # the rounds as they were
        await press(tg, ALICE, "跳过")  # the ticket size stays
        await press(tg, ALICE, "完成")
        (saved,) = await press(tg, ALICE, "保存")
        assert "已保存" in saved["text"]
    changed = await Investor.get(id=made.id)
    assert changed.fields_of_interest == ["ai", "quantum"] and changed.verified
    assert changed.name == "光谷天使基金" and (changed.ticket_min_cny, changed.ticket_max_cny) == (500_000, 5_000_000)
    assert await Investor.all().count() == 1


async def test_cancel_in_english_and_a_bad_name(fake):  # noqa: F811
    tg, settings = fake
    async with running_bot(tg, settings):
        (ask_name,) = await say(tg, BOB, "/investor", lang="en")
        assert "fund's name" in ask_name["text"]
        (too_long,) = await say(tg, BOB, "x" * 201, lang="en")
        assert "up to 200 characters" in too_long["text"]
        await say(tg, BOB, "Hubei Angels", lang="en")
        await say(tg, BOB, "/cancel", lang="en")
        assert not await BotState.filter(state__isnull=False).exists()
    assert not await Investor.exists()


async def test_want_to_meet_a_matched_pitch(fake):  # noqa: F811
    tg, settings = fake
    event, (solar, *_) = await roadshow()
    fund = await investor_at(event, name="绿色能源基金", fields_of_interest=["green"], description="钙钛矿 光伏")
    await Person.filter(id=fund.person_id).update(telegram_id=ALICE)
    await pitches.match_investors(event.id, scope=EVERYTHING, actor="org")
    await Producer().drain()
    push = await OutboxMessage.filter(person_id=fund.person_id, dedup_key__contains=f"participant:{solar.id}").get()
    rows = [[InlineKeyboardButton(**b) for b in row] for row in push.buttons or []]
    async with running_bot(tg, settings):
        await say(tg, ALICE, "/start")
        bot = build_bot(settings)  # the dispatcher's sending, as it would deliver the push
        try:
            await bot.send_message(ALICE, push.text, reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))
        finally:
            await bot.session.close()
        (noted,) = await press(tg, ALICE, "想约谈")
        assert "约谈" in noted["text"]
        (again,) = await press(tg, ALICE, "想约谈")
        assert "已提出过" in again["text"]
    assert await MeetingInterest.filter(source_id=fund.id, target_id=solar.id, origin="push").count() == 1
    assert (await Participant.get(id=fund.id)).person_id == fund.person_id
