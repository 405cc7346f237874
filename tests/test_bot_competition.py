"""/enter and /score through the fake Bot API: an entry step by step with its files, a judge scoring the
entry on stage with buttons; refusals answered briefly; the /enter flow surviving a restart (Redis)."""

from __future__ import annotations

import asyncio
import os

import pytest
from pydantic import SecretStr

from bot.app import build_bot, build_dispatcher
from events.models import Entry, EntryAttachment, EntrySource, Person, Round, RoundStatus, ScoreVersion
from events.services import organizations
from events.services.competitions import public
from events.services.tickets import signer_for
from events.settings import Settings
from tests import test_bot as bot_tests
from tests.fake_telegram import FakeTelegram
from tests.test_bot import ALICE, BOB, TOKEN, press, say, texts
from tests.test_competitions_pages import EXE, PDF, make_contest

world = bot_tests.world


async def enter_until_confirm(tg: FakeTelegram, user: int, lang: str = "zh-hans") -> None:
    """/enter → the competition → a track → name, summary, organization, team → the contact button."""
    (listing,) = await say(tg, user, "/enter", lang=lang)
    assert "武创源·2026" in [b["text"] for b in tg.inline_buttons(listing)]
    await press(tg, user, "武创源·2026")
    await press(tg, user, "人工智能")
    await say(tg, user, "光子计算芯片", lang=lang)
    await say(tg, user, "-", lang=lang)
    await say(tg, user, "光谷实验室", lang=lang)
    asked = await say(tg, user, "王五、赵六", lang=lang)
    assert asked[-1]["reply_markup"]["keyboard"][0][0]["request_contact"] is True
    await tg.user_contact(user, "+86 139 1111 2222")
    await tg.wait_for_message(user, count=2)


async def test_an_entrant_enters_by_chat_gets_the_number_and_sends_files(world):
    tg = world.tg
    await make_contest()
    await enter_until_confirm(tg, ALICE)
    summary = tg.last_message(ALICE)["text"]
    assert "光子计算芯片" in summary and "王五、赵六" in summary and "+8613911112222" in summary
    (done,) = await press(tg, ALICE, "提交报名")
    entry = await Entry.get(title="光子计算芯片")
    assert f"报名成功：{entry.id} 号" in done["text"]
    person = await Person.get(telegram_id=ALICE)
    assert entry.source == EntrySource.BOT and entry.submitted_by_id == person.id
    assert entry.contact_phone == "+8613911112222" and [m["name"] for m in entry.team][1:] == ["王五", "赵六"]

    await tg.user_document(ALICE, PDF, "商业计划书.pdf")
    (added,) = await tg.wait_for_message(ALICE)
    assert "商业计划书.pdf" in added["text"]
    await tg.user_document(ALICE, EXE, "路演.pdf")
    (refused,) = await tg.wait_for_message(ALICE)
    assert "与其扩展名不符" in refused["text"]
    assert [a.filename for a in await EntryAttachment.filter(entry_id=entry.id)] == ["商业计划书.pdf"]
    (stopped,) = await say(tg, ALICE, "/cancel")
    assert "取消" in stopped["text"]
    await tg.user_document(ALICE, PDF, "again.pdf")  # out of the flow: not taken
    await tg.wait_for_message(ALICE)
    assert await EntryAttachment.filter(entry_id=entry.id).count() == 1


async def test_enter_in_english_can_be_cancelled_and_says_when_nothing_is_open(world):
    tg = world.tg
    (nothing,) = await say(tg, BOB, "/enter", lang="en")
    assert nothing["text"] == "No competition takes entries at the moment."
    await make_contest()
    await say(tg, BOB, "/enter", lang="en")
    await press(tg, BOB, "武创源·2026")
    asked = await press(tg, BOB, "生物医药")
    assert "name" in texts(asked)
    await press(tg, BOB, "Cancel")
    assert await Entry.filter(title__contains="光子").count() == 0
    (typed,) = await say(tg, BOB, "a title typed after cancelling", lang="en")
    assert "project's name" not in typed["text"]  # out of the flow: a hint, not the next step


async def test_a_judge_scores_the_entry_on_stage_with_buttons(world):
    tg = world.tg
    c = await make_contest(telegram_ids=(ALICE, None, BOB))
    await public.set_on_stage(c.id, "final", c.ai, scope=organizations.Scope(c.org), actor="test")
    opened = await say(tg, ALICE, "/score", count=2)
    assert "光量子芯片" in texts(opened) and "技术先进性" in opened[-1]["text"]
    labels = [b["text"] for b in tg.inline_buttons(opened[-1])]
    assert labels[:11] == [str(n) for n in range(11)]  # 0–10 by one
    (market,) = await press(tg, ALICE, "8")
    assert "市场价值" in market["text"]
    (wrong,) = await say(tg, ALICE, "12")
    assert "0" in wrong["text"] and "10" in wrong["text"] and "市场价值" in wrong["text"]
    (summary,) = await say(tg, ALICE, "6.5")
    assert "加权总分：7.4" in summary["text"]  # 0.6·8 + 0.4·6.5
    (done,) = await press(tg, ALICE, "提交")
    assert "7.4" in done["text"]
    saved = await ScoreVersion.get(assignment__entry_id=c.ai, assignment__judge_id=c.judge_ids[0])
    assert saved.via == "bot" and saved.scores == {"tech": 8.0, "market": 6.5} and saved.submitted

    # The conflicted judge has nothing to score; the list of a judge without a stage entry offers theirs.
    (nothing,) = await say(tg, BOB, "/score")
    assert nothing["text"] == "您现在没有需要评分的项目。"
    await public.set_on_stage(c.id, "final", None, scope=organizations.Scope(c.org), actor="test")
    (listing,) = await say(tg, ALICE, "/score")
    entries_offered = [b["text"] for b in tg.inline_buttons(listing)]
    assert any("靶向新药" in b for b in entries_offered) and any(b.startswith("✅") for b in entries_offered)


async def test_a_score_sent_after_the_round_closed_is_refused_briefly(world):
    tg = world.tg
    c = await make_contest(telegram_ids=(ALICE, None, None))
    await public.set_on_stage(c.id, "final", c.bio, scope=organizations.Scope(c.org), actor="test")
    await say(tg, ALICE, "/score", count=2)
    await press(tg, ALICE, "5")
    await press(tg, ALICE, "5")
    await Round.filter(competition_id=c.id).update(status=RoundStatus.CLOSED)
    replies = await press(tg, ALICE, "提交")
    assert "本轮评分已结束" in texts(replies)
    assert await ScoreVersion.filter(assignment__entry_id=c.bio).count() == 0


# xdist workers each take their own Redis database (13, 14, …): the test empties its keys first.
_WORKER = int((os.environ.get("PYTEST_XDIST_WORKER") or "gw0").removeprefix("gw") or 0)
REDIS = os.environ.get("WUCHUANG_TEST_REDIS_URL", f"redis://127.0.0.1:6379/{13 + _WORKER % 3}")


@pytest.fixture
async def redis_settings(db: Settings) -> Settings:
    redis = pytest.importorskip("redis.asyncio")
    client = redis.from_url(REDIS)
    try:
        await client.ping()
    except Exception as exc:  # noqa: BLE001 (any reason Redis cannot be reached)
        pytest.skip(f"no Redis at {REDIS}: {exc}")
    keys = [k async for k in client.scan_iter("fsm:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()
    return db.model_copy(update={"redis_url": REDIS})


async def test_the_enter_flow_survives_a_restart(redis_settings: Settings, frozen_clock):
    await make_contest()
    async with FakeTelegram(token=TOKEN, allow_http_web_app=False) as tg:
        settings = redis_settings.model_copy(
            update={
                "telegram_api_url": tg.base_url,
                "public_url": "https://wuchuang.test",
                "bot_token": SecretStr(TOKEN),
            }
        )

        async def run_bot() -> tuple:
            bot = build_bot(settings)
            dp = build_dispatcher(settings, signer_for(settings.data_dir.resolve()))
            task = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
            return bot, dp, task

        async def stop(bot, dp, task) -> None:
            await dp.stop_polling()
            await asyncio.wait_for(task, 10)
            await dp.storage.close()
            await bot.session.close()

        first = await run_bot()
        await say(tg, ALICE, "/enter")
        await press(tg, ALICE, "武创源·2026")
        await press(tg, ALICE, "人工智能")
        await say(tg, ALICE, "重启后的项目")
        await stop(*first)

        second = await run_bot()  # a new process: only Redis remembers where ALICE was
        try:
            (asked,) = await say(tg, ALICE, "-")  # the summary step, skipped
            assert "单位" in asked["text"]
            await say(tg, ALICE, "-")
            await say(tg, ALICE, "-")
            await tg.user_contact(ALICE, "13922223333")
            await tg.wait_for_message(ALICE, count=2)
            await press(tg, ALICE, "提交报名")
        finally:
            await stop(*second)
    entry = await Entry.get(title="重启后的项目")
    assert entry.source == EntrySource.BOT and entry.organization_id is None
