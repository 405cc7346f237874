"""iCalendar feeds, parsed by icalendar and by an independent parser (vobject)."""

from __future__ import annotations

from datetime import timedelta

import vobject
from icalendar import Calendar

from events.models import Registration
from tests.factories import bearer, make_event, make_registration, make_token


def parse(body: bytes) -> tuple[Calendar, object]:
    ours = Calendar.from_ical(body)
    theirs = vobject.readOne(body.decode("utf-8"))
    return ours, theirs


def events_of(cal: Calendar) -> dict[str, object]:
    return {str(e["uid"]): e for e in cal.walk("VEVENT")}


async def test_all_events_feed_fields(client, frozen_clock):
    event = await make_event(
        address="东湖新技术开发区高新大道 999 号",
        latitude=30.478,
        longitude=114.412,
        host="华中科技大学",
        description="聚焦人工智能成果转化。",
        tags=["人工智能", "成果转化"],
    )
    await make_event(publish=False, title="草稿不应出现")
    response = await client.get("/calendar/events.ics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["etag"] and response.headers["last-modified"]
    cal, other = parse(response.content)
    assert str(cal["x-wr-calname"]) and str(cal["x-wr-timezone"]) == "Asia/Shanghai"
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in response.text and "X-PUBLISHED-TTL:PT1H" in response.text
    assert [tz["tzid"] for tz in cal.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    (vevent,) = cal.walk("VEVENT")
    assert str(vevent["uid"]) == f"event-{event.public_id}@wuchuang"
    assert vevent["dtstart"].params["TZID"] == "Asia/Shanghai"
    assert vevent.decoded("dtstart") == event.starts_at
    assert str(vevent["status"]) == "CONFIRMED" and int(vevent["sequence"]) == 0
    assert "高新大道" in str(vevent["location"]) and vevent["geo"].latitude == 30.478
    assert f"/api/v1/events/{event.id}" in str(vevent["url"]) and "报名" in str(vevent["description"])
    assert set(vevent["categories"].cats) >= {"武创荟", "人工智能", "成果转化"}
    assert "ORGANIZER" not in response.text
    assert len(other.vevent_list) == 1 and other.vevent.summary.value == event.title
    assert other.vevent.dtstart.value == event.starts_at


async def test_change_bumps_sequence_same_uid_and_cancel_stays_30_days(client, frozen_clock):
    event = await make_event()
    token = await make_token()
    before = events_of(parse((await client.get("/calendar/events.ics")).content)[0])
    await client.patch(f"/api/v1/events/{event.id}", json={"venue": "武汉大学人文馆"}, headers=bearer(token))
    after = events_of(parse((await client.get("/calendar/events.ics")).content)[0])
    assert before.keys() == after.keys()
    uid = next(iter(after))
    assert int(after[uid]["sequence"]) == int(before[uid]["sequence"]) + 1
    assert "武汉大学人文馆" in str(after[uid]["location"])
    await client.post(f"/api/v1/events/{event.id}/cancel", headers=bearer(token))
    cancelled = events_of(parse((await client.get("/calendar/events.ics")).content)[0])[uid]
    assert str(cancelled["status"]) == "CANCELLED" and int(cancelled["sequence"]) == 2
    frozen_clock.set(frozen_clock.now + timedelta(days=31))
    assert events_of(parse((await client.get("/calendar/events.ics")).content)[0]) == {}


async def test_etag_and_304(client, frozen_clock):
    event = await make_event()
    first = await client.get("/calendar/events.ics")
    again = await client.get("/calendar/events.ics", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    await client.patch(f"/api/v1/events/{event.id}", json={"title": "新标题"}, headers=bearer(await make_token()))
    changed = await client.get("/calendar/events.ics", headers={"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200 and changed.headers["etag"] != first.headers["etag"]


async def test_series_district_and_event_feeds(client, frozen_clock):
    a = await make_event(series="wuchuanghui", district="hongshan")
    b = await make_event(
        series="yingxiongbei", district="wuchang", kind="competition", ends_at=frozen_clock.now + timedelta(days=9)
    )
    series = events_of(parse((await client.get("/calendar/series/wuchuanghui.ics")).content)[0])
    assert list(series) == [f"event-{a.public_id}@wuchuang"]
    district = events_of(parse((await client.get("/calendar/districts/wuchang.ics")).content)[0])
    assert list(district) == [f"event-{b.public_id}@wuchuang"]
    # A multi-day event is one entry spanning its days.
    (multi,) = district.values()
    assert (multi.decoded("dtend") - multi.decoded("dtstart")) > timedelta(days=1)
    single = await client.get(f"/calendar/events/{a.id}.ics")
    assert single.status_code == 200 and "attachment" in single.headers["content-disposition"]
    for path in (
        "/calendar/series/nope.ics",
        "/calendar/districts/atlantis.ics",
        "/calendar/events/99999.ics",
        "/calendar/me/not-a-token.ics",
    ):
        missing = await client.get(path)
        assert missing.status_code == 404, path
        assert missing.json()["error"]["code"] == "feed_not_found"
    draft = await make_event(publish=False)
    assert (await client.get(f"/calendar/events/{draft.id}.ics")).status_code == 404


async def test_personal_feed_rotate_and_alarm(client, frozen_clock):
    confirmed_event = await make_event(capacity=1, title="确认的活动")
    full = await make_event(capacity=1, title="候补的活动")
    mine = await make_registration(confirmed_event, phone="13900001111", name="周敏")
    await make_registration(full, n=900)
    waiting = await make_registration(full, phone="13900001111", name="周敏")
    assert waiting.registration.status == "waitlisted"
    assert waiting.registration.person_id == mine.registration.person_id
    owner = bearer(mine.access_secret)
    links = (await client.get(f"/api/v1/registrations/{mine.registration.id}/calendar", headers=owner)).json()
    assert links["webcal_url"].startswith("webcal://") and links["url"].endswith(".ics")
    path = links["url"].split("8000", 1)[1]
    feed = await client.get(path)
    assert feed.headers["cache-control"].startswith("private")
    cal, other = parse(feed.content)
    by_title = {str(e["summary"]): e for e in cal.walk("VEVENT")}
    assert str(by_title["确认的活动"]["status"]) == "CONFIRMED"
    assert str(by_title["候补的活动"]["status"]) == "TENTATIVE"
    (alarm,) = by_title["确认的活动"].walk("VALARM")
    assert alarm.decoded("trigger") == timedelta(minutes=-60)
    assert len(other.vevent_list) == 2
    await client.put(
        f"/api/v1/registrations/{mine.registration.id}/calendar/alarm", json={"minutes": 1440}, headers=owner
    )
    cal = parse((await client.get(path)).content)[0]
    assert cal.walk("VALARM")[0].decoded("trigger") == timedelta(days=-1)
    bad = await client.put(
        f"/api/v1/registrations/{mine.registration.id}/calendar/alarm", json={"minutes": -5}, headers=owner
    )
    assert bad.status_code == 422
    rotated = (await client.post(f"/api/v1/registrations/{mine.registration.id}/calendar/rotate", headers=owner)).json()
    assert rotated["url"] != links["url"]
    assert (await client.get(path)).status_code == 404
    assert (await client.get(rotated["url"].split("8000", 1)[1])).status_code == 200
    # Someone else's registration secret cannot read or rotate this person's link.
    assert (
        await client.get(
            f"/api/v1/registrations/{mine.registration.id}/calendar", headers=bearer(waiting.access_secret)
        )
    ).status_code == 404
    await Registration.filter(id=waiting.registration.id).update(status="cancelled")


async def test_awkward_text_is_escaped_and_folded(client, frozen_clock):
    title = "武创荟·人工智能专场｜高校院所科技成果对接会，含逗号, 分号; 换行\n表情🚀\x07控制符" + "长" * 40
    await make_event(title=title, description="第一行\n第二行, 带逗号; 带分号", venue="光谷", address=None)
    response = await client.get("/calendar/events.ics")
    for line in response.content.split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")  # no line splits a UTF-8 character
    assert b"\x07" not in response.content
    cal, other = parse(response.content)
    (vevent,) = cal.walk("VEVENT")
    assert str(vevent["summary"]) == title.replace("\x07", "")
    assert other.vevent.summary.value == title.replace("\x07", "")
    assert "第二行, 带逗号; 带分号" in other.vevent.description.value


async def test_event_objects_offer_webcal_links(client, frozen_clock):
    event = await make_event()
    body = (await client.get(f"/api/v1/events/{event.id}")).json()
    assert body["webcal_url"] == f"webcal://127.0.0.1:8000/calendar/events/{event.id}.ics"


async def test_overlong_path_parts_are_client_errors(client):
    for path in (
        "/calendar/series/" + "0" * 63 + ".ics",
        "/calendar/districts/" + "x" * 40 + ".ics",
        "/calendar/me/" + "t" * 80 + ".ics",
    ):
        response = await client.get(path)
        assert response.status_code in (404, 422), path
        assert "error" in response.json()
