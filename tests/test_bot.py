"""The bot end to end: aiogram polling a fake Telegram Bot API over real HTTP, in both languages."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
import zxingcpp
from PIL import Image

from bot.app import build_bot, build_dispatcher, set_commands
from events import clock, secretbox
from events.models import Person, Registration
from events.services import staff, tickets
from events.settings import Settings
from tests.factories import make_event, make_registration
from tests.fake_telegram import FakeTelegram

TOKEN = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
ALICE, BOB = 1001, 1002


@dataclass
class BotWorld:
    tg: FakeTelegram
    settings: Settings


@pytest.fixture
async def world(db: Settings, frozen_clock) -> AsyncIterator[BotWorld]:
    async with FakeTelegram(token=TOKEN, allow_http_web_app=False) as tg:
        settings = db.model_copy(update={"telegram_api_url": tg.base_url, "public_url": "https://wuchuang.test"})
        settings = settings.model_copy(update={"bot_token": __import__("pydantic").SecretStr(TOKEN)})
        bot = build_bot(settings)
        dp = build_dispatcher(settings, tickets.signer_for(settings.data_dir.resolve()))
        await set_commands(bot)
        polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
        try:
            yield BotWorld(tg, settings)
        finally:
            await dp.stop_polling()
            await asyncio.wait_for(polling, 10)
            await bot.session.close()


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text") or m.get("caption") or "" for m in messages)


async def say(tg: FakeTelegram, user: int, text: str, *, count: int = 1, lang: str = "zh-hans") -> list[dict]:
    await tg.user_message(user, text, language_code=lang)
    return await tg.wait_for_message(user, count=count)


async def press(tg: FakeTelegram, user: int, label_part: str, *, count: int = 1) -> list[dict]:
    for message in reversed(tg.sent_messages(user)):
        for button in tg.inline_buttons(message):
            if label_part in button.get("text", "") and "callback_data" in button:
                await tg.user_callback(user, button["callback_data"], message)
                return await tg.wait_for_message(user, count=count)
    raise AssertionError(f"no button containing {label_part!r}; last: {tg.last_message(user)}")


async def press_edit(tg: FakeTelegram, user: int, label_part: str, method: str = "editMessageText") -> dict:
    """Press a button whose answer edits the message in place; return the message as it is now."""
    before = len(tg.calls_to(method))
    for message in reversed(tg.sent_messages(user)):
        for button in tg.inline_buttons(message):
            if label_part in button.get("text", "") and "callback_data" in button:
                await tg.user_callback(user, button["callback_data"], message)
                await tg.wait_for(lambda: len(tg.calls_to(method)) > before)
                return next(m for m in tg.sent_messages(user) if m["message_id"] == message["message_id"])
    raise AssertionError(f"no button containing {label_part!r}")


async def test_menu_commands_in_both_languages(world):
    zh = {c["command"]: c["description"] for c in world.tg.my_commands(language_code="")}
    en = {c["command"]: c["description"] for c in world.tg.my_commands(language_code="en")}
    assert zh["my"] == "我的报名和门票" and en["my"] == "My registrations and tickets"
    assert set(zh) == set(en) >= {"start", "events", "my", "prefs", "lang", "scan"}


async def test_deep_link_to_registration_with_ticket_in_chinese(world):
    tg = world.tg
    event = await make_event(capacity=10, latitude=30.5, longitude=114.4, address="高新大道 999 号")
    card = await say(tg, ALICE, f"/start ev_{event.public_id}")
    assert event.title in texts(card)
    assert "剩余名额 10 / 10" in texts(card)
    await press(tg, ALICE, "报名")
    await say(tg, ALICE, "李明")
    asked_phone = await say(tg, ALICE, "华中科技大学")
    assert asked_phone[-1]["reply_markup"]["keyboard"][0][0]["request_contact"] is True
    refused = await say(tg, ALICE, "13800001234")  # typed numbers are not accepted
    assert "按钮" in texts(refused)
    await tg.user_contact(ALICE, "+86 138 0000 1234")
    confirm = await tg.wait_for_message(ALICE, count=2)
    assert "李明" in texts(confirm) and "华中科技大学" in texts(confirm) and "138 0000 1234" in texts(confirm)
    assert (await Person.get(telegram_id=ALICE)).phone == "+8613800001234"  # stored in E.164
    ticket = await press(tg, ALICE, "确认")
    photo = ticket[-1]
    assert photo["photo"] and "门票" in photo["caption"] and "地图" in photo["caption"]
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(photo["file"].content)))
    registration = await Registration.get(event_id=event.id)
    assert registration.status == "confirmed" and registration.telegram_id == ALICE
    signer = tickets.signer_for(world.settings.data_dir.resolve())
    assert [d.text for d in decoded] == [tickets.ticket_code(registration, signer)]


async def test_english_flow_double_tap_registers_once(world):
    tg = world.tg
    event = await make_event(capacity=5)
    await say(tg, BOB, f"/start ev_{event.public_id}", lang="en")
    await press(tg, BOB, "Register")
    await say(tg, BOB, "Li Na", lang="en")
    await say(tg, BOB, "-", lang="en")
    await tg.user_contact(BOB, "13900005678")
    await tg.wait_for_message(BOB, count=2)
    summary = tg.last_message(BOB)
    confirm_data = next(b["callback_data"] for b in tg.inline_buttons(summary) if "Confirm" in b["text"])
    await tg.user_callback(BOB, confirm_data, summary)
    await tg.user_callback(BOB, confirm_data, summary)
    replies = await tg.wait_for_message(BOB, count=2)
    assert "already registered" in texts(replies)
    assert any(m["photo"] for m in replies)
    assert await Registration.filter(event_id=event.id).count() == 1


async def test_waitlist_and_approval_replies(world):
    tg = world.tg
    full = await make_event(capacity=1)
    await make_registration(full)
    person = await Person.create(name="王五", telegram_id=ALICE, phone="13700000001", organization="武汉大学")
    await say(tg, ALICE, f"/start ev_{full.public_id}")
    await press(tg, ALICE, "候补")
    answer = await press(tg, ALICE, "确认")
    assert "第 1 位" in texts(answer)
    approval = await make_event(requires_approval=True)
    await say(tg, ALICE, f"/start ev_{approval.public_id}")
    await press(tg, ALICE, "报名")
    pending = await press(tg, ALICE, "确认")
    assert "审核" in texts(pending)
    assert person.id == (await Registration.get(event_id=approval.id)).person_id


async def test_my_registrations_cancel_moves_the_waitlist_and_calendar_link(world):
    tg = world.tg
    event = await make_event(capacity=1, title="光电子信息专场")
    await Person.create(name="赵六", telegram_id=ALICE, phone="13700000002")
    mine = await make_registration(event, name="赵六", phone="13700000002", telegram_id=ALICE)
    waiting = await make_registration(event, name="候补者", phone="13700000003")
    listing = await say(tg, ALICE, "/my")
    assert "光电子信息专场" in texts(listing)
    await press(tg, ALICE, "光电子信息专场")
    resent = await press(tg, ALICE, "重新发送门票")
    assert resent[-1]["photo"]
    await press(tg, ALICE, "取消报名")
    done = await press(tg, ALICE, "是的，取消报名")
    assert "已取消" in texts(done)
    assert (await Registration.get(id=mine.registration.id)).status == "cancelled"
    assert (await Registration.get(id=waiting.registration.id)).status == "confirmed"
    await say(tg, ALICE, "/start")
    link = await press(tg, ALICE, "我的日历")
    text = texts(link)
    assert "webcal://wuchuang.test/calendar/me/" in text
    old = text.split("/calendar/me/")[1].split(".ics")[0]
    rotated = await press(tg, ALICE, "生成新链接")
    assert old not in texts(rotated)
    assert await Person.get_or_none(calendar_token=old[: secretbox.SEED_LENGTH]) is None  # its seed was replaced


async def test_browse_preferences_and_language(world):
    tg = world.tg
    for i in range(7):
        await make_event(title=f"路演第{i}场", kind="roadshow", starts_in=timedelta(days=i + 1))
    page = await say(tg, ALICE, "/events")
    assert "路演第0场" in texts(page) and "路演第5场" not in texts(page)
    second = await press_edit(tg, ALICE, "➡️")
    assert "路演第5场" in second["text"]
    await say(tg, ALICE, "/prefs")
    await press_edit(tg, ALICE, "区域")
    toggled = await press_edit(tg, ALICE, "洪山区", "editMessageReplyMarkup")
    assert any(b["text"] == "✅ 洪山区" for b in tg.inline_buttons(toggled))
    person = await Person.get(telegram_id=ALICE)
    assert person.pref_districts == ["hongshan"]
    await press_edit(tg, ALICE, "返回")
    await press_edit(tg, ALICE, "免打扰")
    await press_edit(tg, ALICE, "23:00", "editMessageReplyMarkup")
    assert (await Person.get(telegram_id=ALICE)).quiet_start == "23:00"
    await say(tg, ALICE, "/lang")
    english = await press(tg, ALICE, "English")
    assert "Language set to English" in texts(english)
    menu = await say(tg, ALICE, "/help")
    assert "upcoming events" in texts(menu)


async def test_bad_input_gets_a_reply_and_a_way_on(world):
    tg = world.tg
    unknown = await say(tg, ALICE, "/start ev_doesnotexist")
    assert "无效或已过期" in texts(unknown)
    assert tg.inline_buttons(unknown[-1])
    event = await make_event()
    await say(tg, ALICE, f"/start ev_{event.public_id}")
    card = tg.last_message(ALICE)
    await Registration.all().delete()
    await event.delete()
    await tg.user_callback(ALICE, tg.inline_buttons(card)[0]["callback_data"], card)
    stale = await tg.wait_for_message(ALICE, count=1)
    assert "活动不存在" in texts(stale)
    other = await make_event()
    await say(tg, ALICE, f"/start ev_{other.public_id}")
    await press(tg, ALICE, "报名")
    no_qr = io.BytesIO()
    Image.new("RGB", (200, 200), "white").save(no_qr, format="PNG")
    await tg.user_photo(ALICE, no_qr.getvalue())  # a photo where a name was asked for
    assert "请回复文字" in texts(await tg.wait_for_message(ALICE))
    await say(tg, ALICE, "/start")
    await tg.user_photo(ALICE, no_qr.getvalue())
    assert "/scan" in texts(await tg.wait_for_message(ALICE))


async def test_door_staff_check_in_by_photo_and_mini_app(world, client):
    tg = world.tg
    event = await make_event(starts_in=timedelta(minutes=20), title="量子科技专场")
    guest = (await make_registration(event, name="孙七")).registration
    code = tickets.ticket_code(guest, tickets.signer_for(world.settings.data_dir.resolve()))
    refused = await say(tg, BOB, "/scan")
    assert "工作人员" in texts(refused)
    person = await Person.get(telegram_id=BOB)  # made by the bot when Bob first wrote
    await staff.grant_role(person, role="checker", event_ids=[event.id], actor="test")
    await say(tg, BOB, "/scan")
    ready = await press(tg, BOB, "量子科技专场")
    assert any(b.get("web_app") for b in tg.inline_buttons(ready[-1]))
    await tg.user_photo(BOB, tickets.qr_png(code))
    result = await tg.wait_for_message(BOB)
    assert "🟢" in texts(result) and "孙七" in texts(result)
    # The Mini App's call, signed by Telegram (the fake signs like Telegram does).
    from api.app import create_app

    app = create_app(world.settings, manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        now = int(clock.now().timestamp())
        body = {"init_data": tg.web_app_init_data(BOB, auth_date=now), "code": code, "event_id": event.id}
        again = await http.post("/api/v1/webapp/checkins", json=body)
        assert again.status_code == 200 and again.json()["result"] == "already_checked_in"
        forged = await http.post("/api/v1/webapp/checkins", json=body | {"init_data": body["init_data"] + "0"})
        assert forged.status_code == 401 and forged.json()["error"]["code"] == "invalid_init_data"
        stale = tg.web_app_init_data(BOB, auth_date=int((event.starts_at - timedelta(days=2)).timestamp()))
        assert (await http.post("/api/v1/webapp/checkins", json=body | {"init_data": stale})).status_code == 401
        outsider = await http.post(
            "/api/v1/webapp/checkins", json=body | {"init_data": tg.web_app_init_data(ALICE, auth_date=now)}
        )
        assert outsider.status_code == 403
        page = await http.get(f"/scan/telegram?event={event.id}")
        assert "showScanQrPopup" in page.text and "telegram.org" not in page.text


async def test_a_person_who_blocked_the_bot_does_not_stop_it(world):
    tg = world.tg
    tg.block(ALICE)
    await tg.user_message(ALICE, "/start")
    await tg.wait_for_call("sendMessage", ok=False)
    served = await say(tg, BOB, "/start")
    assert "欢迎" in texts(served)


async def test_webhook_checks_the_secret_answers_fast_and_ignores_repeats(db, frozen_clock):
    from pydantic import SecretStr

    from wuchuang.runtime import WEBHOOK_PATH, build_app, webhook_secret

    async with FakeTelegram(token=TOKEN) as tg:
        settings = db.model_copy(update={"telegram_api_url": tg.base_url, "bot_token": SecretStr(TOKEN)})
        app = build_app(settings, webhook=True, manage_db=False)
        tg.add_user(ALICE, first_name="Alice", language_code="en")
        update = {
            "update_id": 777,
            "message": {
                "message_id": 1,
                "date": 1780000000,
                "chat": {"id": ALICE, "type": "private", "first_name": "Alice"},
                "from": {"id": ALICE, "is_bot": False, "first_name": "Alice", "language_code": "en"},
                "text": "/start",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            },
        }
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            wrong = await http.post(WEBHOOK_PATH, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"})
            assert wrong.status_code == 403
            headers = {"X-Telegram-Bot-Api-Secret-Token": webhook_secret(settings)}
            assert (await http.post(WEBHOOK_PATH, json=update, headers=headers)).status_code == 200
            assert (await http.post(WEBHOOK_PATH, json=update, headers=headers)).status_code == 200
            assert (await http.post(WEBHOOK_PATH, content=b"{}", headers=headers)).status_code == 400
        replies = await tg.wait_for_message(ALICE)
        assert "Welcome" in texts(replies)
        await asyncio.sleep(0.3)
        assert len(tg.sent_messages(ALICE)) == 1  # the repeated update_id was not handled again
        await app.state.bot.session.close()


async def test_polling_start_removes_a_stale_webhook(db, frozen_clock):
    from pydantic import SecretStr

    from wuchuang.runtime import build_app

    async with FakeTelegram(token=TOKEN) as tg:
        settings = db.model_copy(update={"telegram_api_url": tg.base_url, "bot_token": SecretStr(TOKEN)})
        app = build_app(settings, manage_db=False)
        async with app.router.lifespan_context(app):
            await tg.wait_for(lambda: tg.calls_to("getUpdates"))
        assert tg.calls_to("deleteWebhook")
        assert tg.calls.index(tg.calls_to("deleteWebhook")[0]) < tg.calls.index(tg.calls_to("getUpdates")[0])


async def test_organizer_gets_deep_link_and_poster_that_opens_the_event(world, client):
    from tests.factories import bearer, make_token

    event = await make_event(title="武创荟·北斗专场")
    token = await make_token()
    client._transport.app.state.bot_username = "wuchuang_test_bot"  # learned from getMe at start
    invite = (await client.get(f"/api/v1/events/{event.id}/invite", headers=bearer(token))).json()
    assert invite["deep_link"] == f"https://t.me/wuchuang_test_bot?start=ev_{event.public_id}"
    poster = await client.get(f"/api/v1/events/{event.id}/invite.png", headers=bearer(token))
    assert poster.headers["content-type"] == "image/png"
    (decoded,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(poster.content)))
    # The poster's QR opens the event's web page, which registers on the web and offers the bot.
    assert decoded.text.endswith(f"/events/{event.id}")
    assert (await client.get(f"/api/v1/events/{event.id}/invite")).status_code == 401
    page = (await client.get(httpx.URL(decoded.text).path)).text
    assert "北斗专场" in page and invite["deep_link"] in page
    # The deep link does what the page promises.
    payload = invite["deep_link"].split("start=")[1]
    card = await say(world.tg, ALICE, f"/start {payload}")
    assert "北斗专场" in texts(card)


async def test_invite_without_a_bot_is_a_clear_conflict(client):
    from tests.factories import bearer, make_token

    event = await make_event()
    response = await client.get(f"/api/v1/events/{event.id}/invite", headers=bearer(await make_token()))
    assert response.status_code == 409 and response.json()["error"]["code"] == "bot_not_configured"


async def test_blocking_the_bot_is_remembered(world):
    tg = world.tg
    await say(tg, ALICE, "/start")
    await tg.user_blocks_bot(ALICE)
    for _ in range(50):
        if (await Person.get(telegram_id=ALICE)).telegram_blocked_at is not None:
            break
        await asyncio.sleep(0.05)
    assert (await Person.get(telegram_id=ALICE)).telegram_blocked_at is not None


async def test_event_questions_are_asked_in_the_chat_in_english(world):
    tg = world.tg
    event = await make_event(
        questions=[
            {"key": "org_type", "label": "单位性质", "label_en": "Organization type", "choices": ["企业", "高校"]},
            {"key": "need", "label": "技术需求", "label_en": "Your technology need", "required": False},
        ]
    )
    await Person.create(name="Li Na", telegram_id=BOB, phone="13900007777", language="en")
    await say(tg, BOB, f"/start ev_{event.public_id}", lang="en")
    asked = await press(tg, BOB, "Register")
    assert "Organization type" in texts(asked)
    typed = await say(tg, BOB, "a company", lang="en")
    assert "choices" in texts(typed)
    second = await press(tg, BOB, "高校")
    assert "Your technology need" in texts(second)
    summary = await say(tg, BOB, "光刻胶 materials", lang="en")
    assert "光刻胶 materials" in texts(summary)
    await press(tg, BOB, "Confirm")
    registration = await Registration.get(event_id=event.id)
    assert registration.answers == {"org_type": "高校", "need": "光刻胶 materials"}


async def test_search_by_keyword_and_series(world):
    tg = world.tg
    await make_event(title="武创荟·北斗专场", series="wuchuanghui")
    await make_event(title="英雄杯决赛", series="yingxiongbei", kind="competition")
    await say(tg, ALICE, "/start")
    await press(tg, ALICE, "搜索")
    found = await say(tg, ALICE, "北斗")
    assert "北斗专场" in texts(found) and "英雄杯决赛" not in texts(found)
    await say(tg, ALICE, "/start")
    await press(tg, ALICE, "按系列")
    listing = await press(tg, ALICE, "英雄杯")
    assert "英雄杯决赛" in texts(listing) and "北斗" not in texts(listing)


async def test_browse_by_kind_and_district(world):
    tg = world.tg
    await make_event(title="产医融合对接会", kind="fair", district="wuchang")
    await make_event(title="光谷路演", kind="roadshow", district="donghu_gaoxin")
    await say(tg, ALICE, "/start")
    await press(tg, ALICE, "按类型")
    fairs = await press(tg, ALICE, "对接会")
    assert "产医融合对接会" in texts(fairs) and "光谷路演" not in texts(fairs)
    await say(tg, ALICE, "/start")
    await press(tg, ALICE, "按区域")
    optics_valley = await press(tg, ALICE, "东湖新技术开发区")
    assert "光谷路演" in texts(optics_valley) and "产医融合" not in texts(optics_valley)


async def test_stale_register_button_of_a_cancelled_event(world):
    from events.services import catalog

    tg = world.tg
    event = await make_event()
    await say(tg, BOB, f"/start ev_{event.public_id}", lang="en")
    card = tg.last_message(BOB)
    await catalog.cancel_event(event.id, actor="organizer")
    await tg.user_callback(BOB, tg.inline_buttons(card)[0]["callback_data"], card)
    reply = await tg.wait_for_message(BOB)
    assert "not open for registration" in texts(reply)
    assert tg.callback_answers  # the spinner on the button was stopped too


async def test_organizer_broadcast_from_the_bot(world):
    from events.models import Broadcast

    tg = world.tg
    event = await make_event(title="合成生物专场")
    await make_registration(event)
    refused = await say(tg, ALICE, "/broadcast")
    assert "仅" in texts(refused) or "organizer" in texts(refused).lower() or "主办" in texts(refused)
    organizer = await Person.get(telegram_id=ALICE)
    await staff.grant_role(organizer, role="organizer", event_ids=None, actor="test")
    await say(tg, ALICE, "/broadcast")
    await press(tg, ALICE, "合成生物专场")
    preview = await say(tg, ALICE, "明天上午 9 点签到 <请带名片>")
    assert "<请带名片>" in texts(preview)
    await press(tg, ALICE, "1")
    (broadcast,) = await Broadcast.all()
    assert broadcast.text == "明天上午 9 点签到 <请带名片>" and broadcast.event_id == event.id


async def test_my_prefs_calendar_and_scan_in_english(world):
    tg = world.tg
    event = await make_event(capacity=5, title="Optics Valley roadshow", starts_in=timedelta(minutes=30))
    await Person.create(name="Li Na", telegram_id=BOB, phone="13900008888", language="en")
    await make_registration(event, name="Li Na", phone="13900008888", telegram_id=BOB)
    listing = await say(tg, BOB, "/my", lang="en")
    assert "My registrations" in texts(listing) and "Confirmed" in texts(await press(tg, BOB, "Optics Valley"))
    await press(tg, BOB, "Cancel registration")
    done = await press(tg, BOB, "Yes, cancel it")
    assert "cancelled" in texts(done)
    await say(tg, BOB, "/start", lang="en")
    assert "webcal://" in texts(await press(tg, BOB, "My calendar"))
    await say(tg, BOB, "/prefs", lang="en")
    topics = await press_edit(tg, BOB, "Topics")
    assert "topics" in topics["text"]
    await press_edit(tg, BOB, "6G", "editMessageReplyMarkup")
    assert (await Person.get(telegram_id=BOB)).pref_topics == ["6G"]
    door = await Person.get(telegram_id=BOB)
    await staff.grant_role(door, role="checker", event_ids=None, actor="test")
    await say(tg, BOB, "/scan", lang="en")
    await press(tg, BOB, "Optics Valley")
    blank = io.BytesIO()
    Image.new("RGB", (120, 120), "white").save(blank, format="PNG")
    await tg.user_photo(BOB, blank.getvalue())
    assert "no QR code" in texts(await tg.wait_for_message(BOB))


async def test_waitlist_approval_and_browsing_in_english(world):
    tg = world.tg
    full = await make_event(capacity=1, title="Hydrogen energy session", kind="session")
    await make_registration(full)
    await Person.create(name="Wang Lei", telegram_id=BOB, phone="13900009999", language="en")
    await say(tg, BOB, f"/start ev_{full.public_id}", lang="en")
    await press(tg, BOB, "Join the waitlist")
    assert "number 1 on the waitlist" in texts(await press(tg, BOB, "Confirm"))
    approval = await make_event(requires_approval=True, title="Hero Cup final", kind="competition")
    await say(tg, BOB, f"/start ev_{approval.public_id}", lang="en")
    await press(tg, BOB, "Register")
    assert "approval" in texts(await press(tg, BOB, "Confirm"))
    await say(tg, BOB, "/start", lang="en")
    await press(tg, BOB, "By kind")
    competitions = await press(tg, BOB, "Competition")
    assert "Hero Cup final" in texts(competitions) and "Hydrogen" not in texts(competitions)


async def test_a_web_registration_joins_the_chat_that_opens_its_telegram_link(world, client):
    tg = world.tg
    event = await make_event(title="武创荟·网上报名专场")
    client._transport.app.state.bot_username = "wuchuang_test_bot"
    created = (
        await client.post(f"/api/v1/events/{event.id}/registrations", json={"name": "李明", "phone": "13800002222"})
    ).json()
    payload = created["telegram_link"].split("start=")[1]
    assert payload.startswith("link_")
    linked = await say(tg, ALICE, f"/start {payload}", count=2)
    assert "网上报名专场" in texts(linked) and "/my" in texts(linked)
    assert linked[-1]["photo"]  # a confirmed registration's ticket comes along
    person = await Person.get(telegram_id=ALICE)
    registration = await Registration.get(id=created["id"])
    assert registration.person_id == person.id and registration.telegram_id == ALICE
    mine = await say(tg, ALICE, "/my")
    assert "网上报名专场" in texts(mine)
    # The code is used up: the same link in another chat attaches nothing.
    again = await say(tg, BOB, f"/start {payload}", lang="en")
    assert "unknown, already used or expired" in texts(again)
    assert (await Registration.get(id=created["id"])).person_id == person.id
