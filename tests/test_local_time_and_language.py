"""Issue 12, points 3 and 7: what a person reads is on the display zone's clock (WUCHUANG_TIMEZONE and
nothing else) and wholly in their language — field names, statuses and limits included — and the rules
and helpers that were written several ways live once in events/.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.i18n import translator
from bot.views import event_card
from events import districts, labels, localtime
from events.errors import EventNotOpen
from events.i18n import locale_of
from events.models import Broadcast, Category, OutboxMessage, Person
from events.services import broadcasts, calendar, posters, staff
from events.services.registration import Applicant, register
from notifications.scheduler import produce_reminders
from tests import test_bot
from tests.factories import bearer, make_event, make_registration, make_token
from tests.test_api_events import event_body
from tests.test_bot import ALICE, press, say, texts

pytestmark = pytest.mark.usefixtures("frozen_clock")
world = test_bot.world  # the bot over a fake Telegram

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")


@pytest.fixture
def berlin(db: Any) -> Iterator[None]:
    """The deployment's WUCHUANG_TIMEZONE is Europe/Berlin (after init_db set the default)."""
    localtime.use("Europe/Berlin")
    yield
    localtime.use(localtime.DEFAULT_TIMEZONE)


def _clock(moment: datetime, zone: zoneinfo.ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M")


# -- validation errors in the caller's language ---------------------------------------------------------


async def test_a_validation_error_is_wholly_chinese_with_the_field_label(client):
    token = await make_token()
    response = await client.post(
        "/api/v1/events", json=event_body(starts_at="next tuesday", venue=None), headers=bearer(token)
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    fields = {d["field"]: d for d in error["details"]}
    assert set(fields) == {"starts_at", "venue"}  # the machine names stay in the body
    assert error["field"] in fields and error["message"] == fields[error["field"]]["message"]
    assert fields["starts_at"]["type"] == "datetime_from_date_parsing" or "datetime" in fields["starts_at"]["type"]
    assert fields["starts_at"]["message"].startswith("开始时间应为带时区偏移的日期时间")
    assert "场地" in fields["venue"]["message"]
    for detail in error["details"]:
        assert not ENGLISH_WORD.search(detail["message"]), detail  # no pydantic English, no field name


async def test_the_same_error_in_english_and_limits_from_the_context(client):
    token = await make_token()
    en = {"Accept-Language": "en-GB,en;q=0.9", **bearer(token)}
    response = await client.post("/api/v1/events", json=event_body(starts_at="next tuesday"), headers=en)
    error = response.json()["error"]
    assert error["field"] == "starts_at"
    assert error["message"].startswith("start time must be a date and time with its offset")
    long_title = await client.post("/api/v1/events", json=event_body(title="长" * 201), headers=en)
    assert long_title.json()["error"]["message"] == "title can have at most 200 characters."
    zh_limit = await client.get("/api/v1/events", params={"limit": 0})
    assert zh_limit.status_code == 422
    assert zh_limit.json()["error"]["message"] == "每页条数不能小于 1。"
    assert zh_limit.json()["error"]["field"] == "limit"


async def test_choices_are_listed_without_english_glue(client):
    token = await make_token()
    response = await client.post("/api/v1/events", json=event_body(kind="party"), headers=bearer(token))
    message = response.json()["error"]["message"]
    assert message.startswith("类型只能是：") and " or " not in message and "session、" in message


def test_field_paths_read_part_by_part():
    assert labels.field("questions.0.label", "zh") == "报名问题 第 1 项 标签"
    assert labels.field("answers.company", "en") == "answers company"  # a question's own key as it is
    assert labels.field("", "zh") == "请求内容"


# -- statuses as labels ------------------------------------------------------------------------------------


async def test_a_status_inside_a_message_is_a_label(db):
    draft = await make_event(publish=False)
    with pytest.raises(EventNotOpen) as refused:
        await register(draft.id, Applicant(name="张伟", phone="13800000001"), actor="test")
    zh = labels.message("zh", refused.value.message, refused.value.params)
    en = labels.message("en", refused.value.message, refused.value.params)
    assert "草稿" in zh and "draft" not in zh
    assert "(it is draft)" in en
    assert labels.status("waitlisted", "en", capitalized=True) == "On the waitlist"


async def test_an_api_conflict_names_the_status_in_the_callers_language(client):
    token = await make_token()
    event = await make_event()
    await client.post(f"/api/v1/events/{event.id}/cancel", json={"reason": "场地调整"}, headers=bearer(token))
    refused = await client.patch(f"/api/v1/events/{event.id}", json={"venue": "武汉大学"}, headers=bearer(token))
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "invalid_transition"
    assert "已取消" in error["message"] and not ENGLISH_WORD.search(error["message"])


# -- one display zone --------------------------------------------------------------------------------------


async def test_the_display_zone_reaches_bot_reminders_posters_and_errors(client, berlin, frozen_clock):
    start = frozen_clock.now + timedelta(days=2)
    event = await make_event(starts_at=start, capacity=10, registration_opens_at=frozen_clock.now - timedelta(days=1))
    local, shanghai = _clock(start, BERLIN), _clock(start, SHANGHAI)
    assert local != shanghai

    # a bot message
    card = event_card(event, translator("zh"), "zh")
    assert local in card and shanghai not in card

    # a poster
    assert posters.poster_when(event).split(" ")[1].startswith(local)

    # a reminder
    person = await Person.create(name="用户", telegram_id=5001, phone="13600000001")
    await make_registration(event, phone=person.phone, telegram_id=person.telegram_id)
    frozen_clock.set(start - timedelta(hours=24))
    assert (await produce_reminders()).queued == 1
    (reminder,) = await OutboxMessage.filter(category=Category.REMINDER)
    assert local in reminder.text and shanghai not in reminder.text

    # an error message: registration opens later
    later = await make_event(registration_opens_at=frozen_clock.now + timedelta(days=1, hours=1))
    refused = await client.post(
        f"/api/v1/events/{later.id}/registrations", json={"name": "张伟", "phone": "13800000001"}
    )
    assert refused.status_code == 409, refused.text
    message = refused.json()["error"]["message"]
    opens = later.registration_opens_at
    assert opens is not None
    assert localtime.stamp(opens) in message and opens.astimezone(BERLIN).strftime("%H:%M") in message
    assert "+00:00" not in message and "T" not in message.replace("Telegram", "")


def test_no_zone_is_written_in_application_code():
    root = Path(__file__).resolve().parent.parent
    written = [
        f"{path.relative_to(root)}:{n}"
        for folder in ("events", "bot", "notifications", "wuchuang")
        for path in (root / folder).rglob("*.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "Asia/Shanghai" in line and path.name not in {"localtime.py", "settings.py"}
    ]
    assert written == []


# -- one helper each ---------------------------------------------------------------------------------------


def test_one_helper_each():
    assert districts.label("donghu_gaoxin", "zh") == "东湖新技术开发区"
    assert districts.label("donghu_gaoxin", "en", short=True) == "East Lake High-tech Development Zone"
    assert districts.label("atlantis", "en") == districts.label(None, "zh") == ""
    assert calendar.feed_links("https://wuchuang.test", calendar.person_feed_path("abc")) == {
        "url": "https://wuchuang.test/calendar/me/abc.ics",
        "webcal_url": "webcal://wuchuang.test/calendar/me/abc.ics",
    }
    assert locale_of("en-US") == "en" and locale_of("zh-hant") == "zh" and locale_of(None) == "zh"
    assert locale_of("fr", accept_language="en;q=0.8") == "en" and locale_of("en", accept_language="zh") == "en"


# -- the broadcast window, through both transports ---------------------------------------------------------


async def test_the_broadcast_window_over_the_api(client, frozen_clock):
    token = await make_token()
    event = await make_event(starts_in=timedelta(hours=1))
    await make_registration(event)
    frozen_clock.set(event.ends_at + timedelta(hours=5))
    inside = await client.post(
        f"/api/v1/events/{event.id}/broadcasts", json={"text": "资料已上传"}, headers=bearer(token)
    )
    assert inside.status_code == 201
    frozen_clock.set(event.ends_at + broadcasts.AFTER_END + timedelta(minutes=1))
    late = await client.post(
        f"/api/v1/events/{event.id}/broadcasts", json={"text": "迟到的通知"}, headers=bearer(token)
    )
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "broadcast_closed" and "6 小时" in late.json()["error"]["message"]
    draft = await make_event(publish=False)
    refused = await client.post(f"/api/v1/events/{draft.id}/broadcasts", json={"text": "草稿"}, headers=bearer(token))
    assert refused.json()["error"]["code"] == "broadcast_closed"
    assert await Broadcast.all().count() == 1


async def test_the_broadcast_window_in_the_bot(world, frozen_clock):
    tg = world.tg
    event = await make_event(title="合成生物专场", starts_in=timedelta(hours=1))
    ended = await make_event(title="早已结束的专场", starts_in=timedelta(hours=1))
    await make_registration(event)
    organizer = await Person.create(name="组织者", telegram_id=ALICE, language="zh")
    await staff.grant_role(organizer, role="organizer", event_ids=None, actor="test")
    frozen_clock.set(ended.ends_at + broadcasts.AFTER_END - timedelta(minutes=30))
    listed = await say(tg, ALICE, "/broadcast")
    assert any("合成生物专场" in b["text"] for b in tg.inline_buttons(listed[-1]))
    await press(tg, ALICE, "合成生物专场")
    await say(tg, ALICE, "明天的资料已上传")
    # The window closes while the organizer reads the preview: the send is refused, said in Chinese.
    frozen_clock.set(event.ends_at + broadcasts.AFTER_END + timedelta(minutes=1))
    reply = await press(tg, ALICE, "1")
    assert "6 小时" in texts(reply)
    assert await Broadcast.all().count() == 0
    again = await say(tg, ALICE, "/broadcast")
    assert not any("专场" in b.get("text", "") for b in tg.inline_buttons(again[-1]))
