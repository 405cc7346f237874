"""iCalendar feeds, parsed by icalendar and by an independent parser (vobject)."""

from __future__ import annotations

from datetime import timedelta

import vobject
from icalendar import Calendar

from events.models import Event, Person, Registration
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
    # The entry links the event's web page (with its registration form), not the API's JSON.
    assert str(vevent["url"]).endswith(f"/events/{event.id}") and "/api/" not in str(vevent["url"])
    assert f"/events/{event.id}" in str(vevent["description"]) and "报名" in str(vevent["description"])
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
    from events.services import calendar as calendar_service

    confirmed_event = await make_event(capacity=1, title="确认的活动")
    full = await make_event(capacity=1, title="候补的活动")
    mine = await make_registration(confirmed_event, telegram_id=4242, name="周敏")
    await make_registration(full, n=900)
    waiting = await make_registration(full, telegram_id=4242, name="周敏")
    assert waiting.registration.status == "waitlisted"
    assert waiting.registration.person_id == mine.registration.person_id
    # The person's own feed (the bot's /my gives its link) holds both registrations.
    token = await calendar_service.calendar_token(mine.registration.person_id)
    path = f"/calendar/me/{token}.ics"
    feed = await client.get(path)
    assert feed.headers["cache-control"].startswith("private")
    cal, other = parse(feed.content)
    by_title = {str(e["summary"]): e for e in cal.walk("VEVENT")}
    assert str(by_title["确认的活动"]["status"]) == "CONFIRMED"
    assert str(by_title["候补的活动"]["status"]) == "TENTATIVE"
    (alarm,) = by_title["确认的活动"].walk("VALARM")
    assert alarm.decoded("trigger") == timedelta(minutes=-60)
    assert len(other.vevent_list) == 2
    await calendar_service.set_alarm_minutes(mine.registration.person_id, 1440)
    cal = parse((await client.get(path)).content)[0]
    assert cal.walk("VALARM")[0].decoded("trigger") == timedelta(days=-1)
    rotated = await calendar_service.rotate_calendar_token(mine.registration.person_id)
    assert (await client.get(path)).status_code == 404
    assert (await client.get(f"/calendar/me/{rotated}.ics")).status_code == 200


async def test_a_registration_token_reaches_its_own_feed_only(client, frozen_clock):
    confirmed_event = await make_event(capacity=1, title="确认的活动")
    other_event = await make_event(title="别的活动")
    mine = await make_registration(confirmed_event, telegram_id=4343, name="周敏")
    await make_registration(other_event, telegram_id=4343, name="周敏")
    waiting = await make_registration(confirmed_event, n=901)
    owner = bearer(mine.access_secret)
    links = (await client.get(f"/api/v1/registrations/{mine.registration.id}/calendar", headers=owner)).json()
    assert links["webcal_url"].startswith("webcal://") and links["url"].endswith(".ics")
    path = links["url"].split("8000", 1)[1]
    feed = await client.get(path)
    assert feed.headers["cache-control"].startswith("private")
    cal = parse(feed.content)[0]
    # This registration's event and nothing else of the person's.
    assert [str(e["summary"]) for e in cal.walk("VEVENT")] == ["确认的活动"]
    assert cal.walk("VALARM")[0].decoded("trigger") == timedelta(minutes=-60)
    await client.put(
        f"/api/v1/registrations/{mine.registration.id}/calendar/alarm", json={"minutes": 1440}, headers=owner
    )
    cal = parse((await client.get(path)).content)[0]
    assert cal.walk("VALARM")[0].decoded("trigger") == timedelta(days=-1)
    person = await Person.get(id=mine.registration.person_id)
    assert person.calendar_alarm_minutes == 60 and person.calendar_token is None  # the person's own feed untouched
    bad = await client.put(
        f"/api/v1/registrations/{mine.registration.id}/calendar/alarm", json={"minutes": -5}, headers=owner
    )
    assert bad.status_code == 422
    rotated = (await client.post(f"/api/v1/registrations/{mine.registration.id}/calendar/rotate", headers=owner)).json()
    assert rotated["url"] != links["url"]
    assert (await client.get(path)).status_code == 404
    assert (await client.get(rotated["url"].split("8000", 1)[1])).status_code == 200
    # Someone else's registration secret cannot read or rotate this registration's link.
    for method, suffix in (("GET", "calendar"), ("POST", "calendar/rotate")):
        response = await client.request(
            method,
            f"/api/v1/registrations/{mine.registration.id}/{suffix}",
            headers=bearer(waiting.access_secret),
        )
        assert response.status_code == 404
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


async def test_registrations_do_not_change_the_feed(client, frozen_clock):
    event = await make_event(capacity=2)
    first = await client.get("/calendar/events.ics")
    await make_registration(event)
    await make_registration(event)
    await make_registration(event)  # waitlisted
    again = await client.get("/calendar/events.ics", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def _renderer(settings):
    from events.services.calendar import FeedRenderer

    return FeedRenderer(base_url=settings.base_url, timezone=settings.timezone)


async def test_concurrent_cache_misses_share_one_build(db, frozen_clock):
    import asyncio

    from events.services.calendar import scope_all

    for _ in range(3):
        await make_event()
    renderer = _renderer(db)
    builds = []
    render = renderer._render

    def counting(*args, **kwargs):
        builds.append(1)
        return render(*args, **kwargs)

    renderer._render = counting
    feeds = await asyncio.gather(*(renderer.public_feed(scope_all()) for _ in range(8)))
    assert len(builds) == 1 and len({f.etag for f in feeds}) == 1
    assert feeds[0].body.count(b"BEGIN:VEVENT") == 3


async def test_one_change_renders_one_vevent_again(db, frozen_clock):
    from events.services import catalog
    from events.services.calendar import scope_all

    events = [await make_event() for _ in range(4)]
    renderer = _renderer(db)
    rendered = []
    vevent = renderer._vevent

    def counting(event, *args):
        rendered.append(event.id)
        return vevent(event, *args)

    renderer._vevent = counting
    first = await renderer.public_feed(scope_all())
    assert sorted(rendered) == sorted(e.id for e in events)
    rendered.clear()
    await catalog.update_event(events[1].id, catalog.EventPatch(venue="武汉大学人文馆"), actor="test")
    second = await renderer.public_feed(scope_all())  # the save drops the remembered fingerprint at once
    assert rendered == [events[1].id] and second.etag != first.etag
    assert "武汉大学人文馆" in str(
        events_of(parse(second.body)[0])[f"event-{events[1].public_id}@wuchuang"]["location"]
    )
    # The same events rendered without the cache give the same bytes.
    fresh = _renderer(db)._render(scope_all().name, await Event.all().order_by("starts_at", "id"), {}, None)
    assert fresh.body == second.body


async def test_fingerprint_is_remembered_for_two_seconds(db, frozen_clock, monkeypatch):
    from events.services import calendar
    from events.services.calendar import scope_all

    event = await make_event()
    renderer = _renderer(db)
    ticks = [1000.0]
    monkeypatch.setattr(calendar.time, "monotonic", lambda: ticks[0])
    first = await renderer.public_feed(scope_all())
    # A change that bypasses model signals (another process, a bulk update) shows within 2 s.
    await Event.filter(id=event.id).update(title="改过的标题", updated_at=frozen_clock.now + timedelta(minutes=1))
    ticks[0] += 1.5
    assert (await renderer.public_feed(scope_all())).etag == first.etag
    ticks[0] += 1.0
    changed = await renderer.public_feed(scope_all())
    assert changed.etag != first.etag and "改过的标题" in changed.body.decode()


def test_text_escaping_and_folding():
    from events.services.calendar import _fold, _text

    assert _text("a\\b;c,d\ne\r\nf\rg\x07h\x00") == "a\\\\b\\;c\\,d\\ne\\nf\\ng" + "h"
    for line in ("X:" + "长" * 100, "X:" + "a" * 300, "X:" + "🚀" * 50 + "ab" * 7):
        folded = _fold(line.encode())
        parts = folded.split(b"\r\n")
        assert all(len(p) <= 75 for p in parts) and all(p.startswith(b" ") for p in parts[1:])
        assert b"".join([parts[0], *(p[1:] for p in parts[1:])]).decode() == line


async def test_burst_of_requests_after_a_change_builds_once(client, frozen_clock, monkeypatch):
    import asyncio

    from events.services.calendar import FeedRenderer

    event = await make_event()
    await make_event()
    token = await make_token()
    first = await client.get("/calendar/events.ics")
    builds = []
    render = FeedRenderer._render

    def counting(self, *args, **kwargs):
        builds.append(1)
        return render(self, *args, **kwargs)

    monkeypatch.setattr(FeedRenderer, "_render", counting)
    await client.patch(f"/api/v1/events/{event.id}", json={"description": "新的介绍"}, headers=bearer(token))
    answers = await asyncio.gather(*(client.get("/calendar/events.ics") for _ in range(10)))
    assert len(builds) == 1
    assert {a.status_code for a in answers} == {200} and len({a.headers["etag"] for a in answers}) == 1
    assert answers[0].headers["etag"] != first.headers["etag"] and "新的介绍" in answers[0].text
